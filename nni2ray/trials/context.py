"""The per-experiment facts every trial actor needs, shipped once through Ray's object store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrialContext:
    """What a trial actor needs to start an NNI trial.

    Attributes:
        experiment_id: NNI_EXP_ID for every trial.
        command: the trialCommand, run with ``bash -c``.
        code_directory: the trial's cwd; None when the code directory was shipped to the
            cluster with ``runtime_env`` (the actor's own working directory is used).
        output_dir: the run's output folder; trials write under ``trials/<trial_id>/``.
        search_space: the NNI search space as JSON, or None for pass-through parameters.
        extra_parameters: keys added to every trial's parameters (``TRIAL_BUDGET``).
        checkpoint_dirs: add NNI PBT's ``load_checkpoint_dir``/``save_checkpoint_dir`` (the
            trial's own ``checkpoint`` folder) to its parameters.
        max_trial_duration_s: maxTrialDuration, enforced by the trial actor.
        gpu_number: trialGpuNumber (None: CUDA_VISIBLE_DEVICES left alone).
        heartbeat_s: longest wait inside one ``step`` before returning a heartbeat.
        env: extra environment variables for every trial.
        warm_start: fork Python trials from a template that imported their modules once.
        python: the ``--python`` interpreter: ``python``, ``python3``, ``pythonX.Y`` and
            another machine's interpreter in the command run with it.
    """

    experiment_id: str
    command: str
    code_directory: str | None
    output_dir: str
    search_space: Any
    extra_parameters: dict[str, Any] = field(default_factory=dict)
    checkpoint_dirs: bool = False
    max_trial_duration_s: float | None = None
    gpu_number: float | None = None
    heartbeat_s: float = 2.0
    env: dict[str, str] = field(default_factory=dict)
    warm_start: bool = True
    python: str | None = None


#: Key of a config that carries a trial's parameters verbatim (Batch tuner, custom tuners).
PARAMETERS_KEY = "__nni_parameters__"

#: Key of a config that carries the trial's NNI sequence number (set by the searcher).
SEQUENCE_KEY = "__nni_sequence__"
