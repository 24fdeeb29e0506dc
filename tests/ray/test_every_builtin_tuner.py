"""Every built-in NNI tuner and advisor runs a short experiment end to end, in both backends.

The matrix is read from the tuner registry, so a name added there is covered here. Under
``native`` each name runs nni2ray's stand-in; under ``nni`` it runs NNI 3.0's own class
(through the custom-tuner adapter), or, for a class whose package the test environment lacks,
`run` refuses before anything starts with the same line as `check`.
"""

from __future__ import annotations

import importlib.machinery
import json
from pathlib import Path

import pytest
import yaml

from nni2ray.cli import main
from nni2ray.translate import TUNERS

pytestmark = pytest.mark.usefixtures("ray_session")

HAS_NNI = importlib.machinery.PathFinder.find_spec("nni") is not None

TRIAL = """\
import nni

params = nni.get_next_parameter()
x = params["combo"]["x"] if "combo" in params else params["x"]
nni.report_intermediate_result(-((x - 0.3) ** 2) - 0.1)
nni.report_final_result(-((x - 0.3) ** 2))
"""
#: Numerical (NNI's GP and Metis take no other), with a choice for the categorical paths.
SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "opt": {"_type": "choice", "_value": [0, 1, 2]},
}
BATCH_SPACE = {
    "combo": {"_type": "choice", "_value": [{"x": 0.5}, {"x": 0.1}, {"x": 0.3}, {"x": 0.9}]}
}
CLASS_ARGS: dict[str, dict[str, object]] = {
    "GridSearch": {},
    "Batch": {},
    "Random": {"seed": 3},
    "PBT": {"optimize_mode": "maximize", "population_size": 2},
    "Hyperband": {"optimize_mode": "maximize", "R": 3, "eta": 3},
    "BOHB": {"optimize_mode": "maximize", "min_budget": 1, "max_budget": 3, "eta": 3},
}
TRIALS = 4
#: Under --algorithm-backend nni, the package each class needs that the test extra lacks.
MISSING_IN_TEST_ENV = {"SMAC": "smac", "DNGO": "pybnn", "BOHB": "ConfigSpace"}


def _folder(tmp_path: Path, tuner: str) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "trial.py").write_text(TRIAL)
    config = {
        "searchSpace": BATCH_SPACE if tuner == "Batch" else SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": TRIALS,
        "tuner": {"name": tuner, "classArgs": CLASS_ARGS.get(tuner, {"optimize_mode": "maximize"})},
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _missing_package(tuner: str) -> str | None:
    package = MISSING_IN_TEST_ENV.get(tuner)
    if package is None or importlib.machinery.PathFinder.find_spec(package) is not None:
        return None
    return package


@pytest.mark.parametrize("backend", ["native", "nni"])
@pytest.mark.parametrize("tuner", sorted(TUNERS))
def test_builtin_tuner_runs_end_to_end(
    tuner: str, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if backend == "nni" and not HAS_NNI:
        pytest.skip("nni is not installed (pip install 'nni2ray[nni]')")
    folder = _folder(tmp_path, tuner)
    out = tmp_path / "out"
    flags = ["--algorithm-backend", backend]
    assert main(["check", str(folder), *flags]) == 0 or backend == "nni"
    check = capsys.readouterr()
    code = main(["run", str(folder), "--output", str(out), "--quiet", *flags])
    err = capsys.readouterr().err
    package = _missing_package(tuner) if backend == "nni" else None
    if package is not None:
        # The same one line from check and run, before anything starts.
        assert code == 1 and not out.exists()
        line = err.strip().splitlines()[-1]
        assert line.startswith("nni2ray: error: ") and package in line
        assert line in check.err
        return
    assert code == 0, err
    meta = json.loads((out / "experiment.json").read_text())
    searcher = meta["plan"]["searcher"]
    ran_nni_class = searcher["kwargs"].get("backend") == "nni"
    # check's "runs as" line names the side that ran.
    side = "nni" if ran_nni_class else "native"
    assert f"backend {side} (--algorithm-backend {backend})" in check.out
    if backend == "native":
        assert not ran_nni_class and "nni_builtin" not in searcher["kwargs"]
    elif tuner not in ("Hyperband", "BOHB"):
        assert ran_nni_class and searcher["kwargs"]["nni_builtin"] == tuner
    export = json.loads((out / "export.json").read_text())
    assert len(export) == TRIALS
    assert {e["status"] for e in export} <= {"SUCCEEDED", "EARLY_STOPPED"}
    succeeded = [e for e in export if e["status"] == "SUCCEEDED"]
    assert succeeded and all(isinstance(e["value"], float) for e in succeeded)
    assert meta["status"] == "DONE"
