"""Directory put first on a trial's PYTHONPATH; only its ``nni`` package matters to trials."""
