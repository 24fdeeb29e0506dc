"""Importing the stand-in nni is free; missing modules come from the real nni or fail clearly."""

from __future__ import annotations

import json

from fake_parent import SHIM_DIR, run_plain, trial_env

HEAVY = ["yaml", "jsonschema", "ray", "libcst", "numpy", "nni2ray"]

IMPORT_PROBE = f"""
import json, sys
events = []
def hook(event, args):
    if event == "open" and not str(args[0]).endswith((".py", ".pyc")):
        events.append([event, str(args[0])])
    elif event.startswith(("socket.", "subprocess.", "os.system")):
        events.append([event, repr(args)[:100]])
sys.addaudithook(hook)
stdout = sys.stdout
import nni, nni.utils, nni.tuner, nni.assessor, nni.recoverable, nni.typehint
assert sys.stdout is stdout
heavy = [name for name in {HEAVY!r} if name in sys.modules]
print(json.dumps({{"events": events, "heavy": heavy, "file": nni.__file__}}))
"""


def test_import_loads_nothing_heavy_and_does_no_io(tmp_path):
    env = trial_env(
        {
            "NNI2RAY_PARAMETER_FILE": str(tmp_path / "does-not-exist.json"),
            "NNI2RAY_METRIC_FD": "987",  # not open: import must not look at it
            "NNI_PLATFORM": "local",
            "PYTHONDONTWRITEBYTECODE": "1",  # no .pyc writes to confuse the audit
        }
    )
    result = run_plain(IMPORT_PROBE, tmp_path, env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy"] == []
    assert report["events"] == []
    assert report["file"].startswith(str(SHIM_DIR))
    assert result.stderr == ""


def test_shim_needs_only_the_standard_library(tmp_path):
    # python -S: no site-packages at all, as in a bare interpreter other than nni2ray's.
    script = """
    import nni, nni.utils, nni.tuner, nni.assessor
    nni.report_final_result(nni.utils.extract_scalar_reward({"default": 2}))
    """
    result = run_plain(script, tmp_path, trial_env(), python_args=["-S"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Final result: 2")


def test_missing_submodule_without_real_nni_is_a_clear_error(tmp_path):
    script = """
    try:
        from nni.algorithms.hpo.tpe_tuner import TpeTuner
    except ModuleNotFoundError as error:
        print(error.name)
        print(error)
    """
    # python -S: without site-packages, so a real nni installed there is not found.
    result = run_plain(script, tmp_path, trial_env(), python_args=["-S"])
    assert result.returncode == 0, result.stderr
    name, message = result.stdout.splitlines()
    assert name == "nni.algorithms"
    assert message.startswith(
        "nni2ray's stand-in nni package does not provide 'nni.algorithms'; "
        "install the real nni in the trial's Python (pip install nni)"
    )


def _fake_real_nni(site):
    package = site / "nni"
    (package / "nas" / "pytorch").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "raise RuntimeError('real nni/__init__.py must not run')\n"
    )
    (package / "nas" / "__init__.py").write_text("WHERE = 'real nni.nas'\n")
    (package / "nas" / "pytorch" / "__init__.py").write_text(
        "from nni.tuner import Tuner\nfrom nni.nas import WHERE\n"
    )
    (package / "algorithms" / "hpo").mkdir(parents=True)
    (package / "algorithms" / "__init__.py").write_text("")
    (package / "algorithms" / "hpo" / "__init__.py").write_text("")
    (package / "algorithms" / "hpo" / "tpe_tuner.py").write_text(
        "from nni.tuner import Tuner\nclass TpeTuner(Tuner):\n    pass\n"
    )


def test_missing_submodule_comes_from_the_real_nni(tmp_path):
    site = tmp_path / "site"
    _fake_real_nni(site)
    script = """
    import nni
    import nni.nas.pytorch
    from nni.algorithms.hpo.tpe_tuner import TpeTuner
    from nni.tuner import Tuner
    print(nni.nas.WHERE, nni.nas.pytorch.Tuner is Tuner, issubclass(TpeTuner, Tuner))
    print(nni.__file__)
    try:
        import nni.not_anywhere
    except ModuleNotFoundError as error:
        print(error)
    """
    result = run_plain(script, tmp_path, trial_env(pythonpath=[str(site)]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "real nni.nas True True"
    assert lines[1].startswith(str(SHIM_DIR))
    assert lines[2] == "No module named 'nni.not_anywhere'"


def test_shim_source_parses_as_python_38():
    import ast

    for path in sorted((SHIM_DIR / "nni").rglob("*.py")):
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 8))
