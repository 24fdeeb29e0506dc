"""`--algorithm-backend`: which side runs each built-in tuner (translate and check; no Ray).

Whether nni and a class's packages are installed is decided by nni2ray's own lookup
(`installed`), set here per test so that the choice is tested both ways on any machine.
"""

from __future__ import annotations

import importlib.machinery
from pathlib import Path
from typing import Any

import pytest
import yaml

from nni2ray.cli import main
from nni2ray.errors import MissingDependencyError
from nni2ray.experiment import load_experiment
from nni2ray.notes import Severity
from nni2ray.translate import SearcherKind, native_plan, runs_as, translate
from nni2ray.translate.tuners import nni_classes, packages

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def _experiment(tmp_path: Path, tuner: dict[str, Any]) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir(exist_ok=True)
    (folder / "trial.py").write_text("import nni\nnni.report_final_result(1.0)\n")
    config = {
        "searchSpace": SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 1,
        "maxTrialNumber": 2,
        "tuner": tuner,
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    return folder


def _installed(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    def installed(name: str) -> bool:
        return name not in missing

    monkeypatch.setattr(nni_classes, "installed", installed)
    monkeypatch.setattr(packages, "installed", installed)


def _plan(tmp_path: Path, tuner: dict[str, Any], backend: str, **overrides: Any) -> Any:
    return translate(
        load_experiment(_experiment(tmp_path, tuner)), algorithm_backend=backend, **overrides
    )


def test_auto_without_nni_keeps_the_stand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch, "nni")
    plan = _plan(tmp_path, {"name": "TPE", "classArgs": {"seed": 3}}, "auto")
    assert plan.searcher.kind == SearcherKind.TPE
    assert plan == _plan(tmp_path, {"name": "TPE", "classArgs": {"seed": 3}}, "native")


def test_auto_with_nni_runs_nni_own_class_with_the_user_class_args(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch)
    tuner = {"name": "tpe", "classArgs": {"optimize_mode": "maximize", "tpe_args": {"a": 1}}}
    plan = _plan(tmp_path, tuner, "auto", seed=11)
    call = plan.searcher
    assert call.kind == SearcherKind.CUSTOM and call.exact
    assert call.nni_name == "TPE"
    assert call.kwargs["class_name"] == "nni.algorithms.hpo.tpe_tuner.TpeTuner"
    # NNI's classArgs verbatim; --seed goes to NNI's own seed argument.
    assert call.kwargs["class_args"] == {
        "optimize_mode": "maximize",
        "tpe_args": {"a": 1},
        "seed": 11,
    }
    assert call.kwargs["native"]["kind"] == "tpe"
    assert [n.severity for n in plan.notes if "NNI's own" in str(n)] == [Severity.EXACT]


def test_registry_class_args_and_classes_without_class_args(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch)
    anneal = _plan(tmp_path, {"name": "Anneal", "classArgs": {"optimize_mode": "maximize"}}, "nni")
    assert anneal.searcher.kwargs["class_args"] == {
        "algorithm_name": "anneal",
        "optimize_mode": "maximize",
    }
    grid = _plan(tmp_path, {"name": "GridSearch"}, "nni")
    assert grid.searcher.kwargs["class_name"].endswith("GridSearchTuner")
    assert grid.searcher.kwargs["class_args"] == {}
    evolution = _plan(tmp_path, {"name": "Evolution"}, "nni", seed=4)
    assert "seed" not in evolution.searcher.kwargs["class_args"]
    assert any("takes no seed" in str(n) for n in evolution.notes)


def test_a_missing_optional_package_falls_back_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch, "hyperopt")
    plan = _plan(tmp_path, {"name": "Anneal"}, "auto")
    assert plan.searcher.kind == SearcherKind.HYPEROPT
    warnings = [n for n in plan.notes if n.severity is Severity.WARNING]
    assert len(warnings) == 1
    assert str(warnings[0]).endswith(
        "tuner.name: NNI's Anneal tuner needs hyperopt, which is not installed "
        "(pip install hyperopt); nni2ray's stand-in runs instead"
    )


def test_backend_nni_makes_a_missing_package_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch, "smac", "ConfigSpaceNNI")
    with pytest.raises(MissingDependencyError) as info:
        _plan(tmp_path, {"name": "SMAC"}, "nni")
    assert "NNI's SMAC tuner needs smac, ConfigSpaceNNI, which is not installed" in str(info.value)
    assert "pip install 'nni[SMAC]'" in str(info.value)


def test_advisors_keep_the_bracket_schedule_in_every_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch)
    advisor = {"name": "Hyperband", "classArgs": {"R": 4, "eta": 2}}
    folder = _experiment(tmp_path, {"name": "TPE"})
    config = yaml.safe_load((folder / "config.yml").read_text())
    del config["tuner"]
    config["advisor"] = advisor
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    plan = translate(load_experiment(folder), algorithm_backend="nni")
    assert plan.searcher.kind == SearcherKind.HYPERBAND
    assert "nni2ray's bracket schedule runs in both backends" in runs_as(plan, "nni")[-1]


def test_native_plan_restores_the_stand_in_and_pbt_checkpoint_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch)
    plan = _plan(tmp_path, {"name": "PBT", "classArgs": {"seed": 2}}, "auto")
    assert plan.searcher.kwargs["class_name"].endswith("PBTTuner")
    assert not plan.checkpoint_dirs  # NNI's PBTTuner names the folders itself
    native = native_plan(plan)
    assert native.searcher.kind == SearcherKind.PBT and native.checkpoint_dirs
    assert native.searcher.kwargs["seed"] == 2
    assert native.searcher.kwargs["population_size"] == 10


def test_check_says_which_side_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(_experiment(tmp_path, {"name": "TPE", "classArgs": {"seed": 1}}))
    _installed(monkeypatch)
    assert main(["check", folder, "--algorithm-backend", "auto"]) == 0
    runs = capsys.readouterr().out.splitlines()[-3:]
    assert runs[0] == (
        "  tuner TPE: NNI's own TpeTuner (nni.algorithms.hpo.tpe_tuner), in the driver, "
        "exact; needs nni, installed"
    )
    assert runs[2] == (
        "  backend nni (--algorithm-backend auto): NNI's own TPE class runs; nni installed"
    )
    _installed(monkeypatch, "nni")
    assert main(["check", folder, "--algorithm-backend", "auto"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        "  backend native (--algorithm-backend auto): nni not installed, NNI's own tuner "
        "classes are not used (native stand-ins; pip install 'nni2ray[nni]' runs NNI's own)"
    )
    # check refuses what run refuses, with the same line.
    assert main(["check", folder, "--algorithm-backend", "nni"]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith(
        "tuner.name: NNI's TPE tuner needs nni, which is not installed (--algorithm-backend "
        "nni); pip install 'nni2ray[nni]', or use --algorithm-backend auto"
    )


def test_backend_default_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(_experiment(tmp_path, {"name": "TPE"}))
    _installed(monkeypatch)
    monkeypatch.setenv("NNI2RAY_ALGORITHM_BACKEND", "native")
    assert main(["check", folder]) == 0
    assert "backend native (--algorithm-backend native)" in capsys.readouterr().out
    monkeypatch.setenv("NNI2RAY_ALGORITHM_BACKEND", "both")
    with pytest.raises(SystemExit) as info:
        main(["check", folder])
    assert info.value.code == 2
    assert "'both' is not one of auto, nni, native" in capsys.readouterr().err


def test_auto_runs_nni_own_gp_and_metis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # NNI 3.0's GP and Metis run on current SciPy through adapt_nni_to_scipy.
    _installed(monkeypatch)
    for name, tuner_class in (("GP", "GPTuner"), ("Metis", "MetisTuner")):
        (tmp_path / name).mkdir()
        plan = _plan(tmp_path / name, {"name": name}, "auto")
        assert plan.searcher.kwargs["class_name"].endswith(tuner_class)
        assert (
            runs_as(plan, "auto")[-1].strip().startswith("backend nni (--algorithm-backend auto)")
        )


def test_a_warm_started_run_uses_the_stand_in_under_auto_and_is_refused_under_nni(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nni2ray.errors import UnsupportedError
    from nni2ray.results import Prior
    from nni2ray.runtime._driver import _algorithm_backend

    _installed(monkeypatch)
    plan = _plan(tmp_path, {"name": "Random", "classArgs": {"seed": 1}}, "auto")
    assert plan.searcher.kind == SearcherKind.CUSTOM
    fresh = _algorithm_backend(plan, Prior())
    if importlib.machinery.PathFinder.find_spec("nni") is not None:
        assert fresh is plan  # NNI's RandomTuner imports: it runs
    else:  # the class does not import here: auto falls back, with one warning
        assert fresh.searcher.kind == SearcherKind.RANDOM
        assert "cannot import NNI's nni.algorithms.hpo.random_tuner.RandomTuner" in (
            capsys.readouterr().err
        )
    resumed = _algorithm_backend(plan, Prior(replay=[{"x": 0.5}]))
    assert resumed.searcher.kind == SearcherKind.RANDOM
    assert "a warm-started run (--resume, --from-nni) teaches only nni2ray's stand-in" in (
        capsys.readouterr().err
    )
    forced = _plan(tmp_path, {"name": "Random"}, "nni")
    with pytest.raises(UnsupportedError, match="cannot learn the trials of a resumed"):
        _algorithm_backend(forced, Prior(replay=[{"x": 0.5}]))


def test_an_nnictl_registered_tuner_runs_as_its_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nni2ray.errors import Nni2RayError

    config_dir = tmp_path / "nni-config"
    config_dir.mkdir()
    monkeypatch.setenv("NNI_CONFIG_DIR", str(config_dir))
    folder = _experiment(tmp_path, {"name": "mytuner", "classArgs": {"optimize_mode": "minimize"}})
    with pytest.raises(Nni2RayError) as info:
        load_experiment(folder)
    assert str(info.value).endswith(
        "supported: Anneal, Batch, BOHB, DNGO, Evolution, GP, GridSearch, Hyperband, Metis, "
        "NetworkMorphism, PBT, PPO, Random, RegularizedEvolutionTuner, SMAC, TPE, TPE_legacy; "
        "a name registered with `nnictl algo register` is read from NNI's "
        "registered_algorithms.yml ($NNI_CONFIG_DIR, the environment's nni/ folder or "
        "~/.config/nni): not there; or write className and codeDirectory instead"
    )
    registry = {
        "tuners": [{"builtinName": "MyTuner", "className": "my_pkg.tuner.MyTuner", "source": "u"}]
    }
    (config_dir / "registered_algorithms.yml").write_text(yaml.safe_dump(registry))
    experiment = load_experiment(folder)
    spec = experiment.tuner
    assert spec.class_name == "my_pkg.tuner.MyTuner" and spec.code_directory is None
    assert spec.class_args == {"optimize_mode": "minimize"} and spec.optimize_mode == "minimize"
    assert any("registered with nnictl algo register" in str(n) for n in experiment.notes)
    plan = translate(experiment, algorithm_backend="auto")
    assert plan.searcher.kind == SearcherKind.CUSTOM and plan.mode == "min"
    assert plan.searcher.kwargs["class_name"] == "my_pkg.tuner.MyTuner"


def test_check_refuses_a_dispatcher_advisor_with_the_line_run_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _experiment(tmp_path, {"name": "TPE"})
    algos = folder / "algos"
    algos.mkdir()
    (algos / "my_advisor.py").write_text(
        "from nni.runtime.msg_dispatcher_base import MsgDispatcherBase\n\n\n"
        "class MyAdvisor(MsgDispatcherBase):\n"
        "    def handle_request_trial_jobs(self, data):\n"
        "        pass\n"
    )
    config = yaml.safe_load((folder / "config.yml").read_text())
    del config["tuner"]
    config["advisor"] = {"className": "my_advisor.MyAdvisor", "codeDirectory": "algos"}
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    expected = (
        f"nni2ray: error: {algos.resolve() / 'my_advisor.py'}: advisor.className: "
        "my_advisor.MyAdvisor is not an NNI Tuner (custom advisors that implement NNI's "
        "message dispatcher cannot run on Ray Tune); subclass nni.tuner.Tuner and implement "
        "generate_parameters\n"
    )
    assert main(["check", str(folder)]) == 1
    assert capsys.readouterr().err == expected
    assert main(["run", str(folder), "--output", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == expected
    assert not (tmp_path / "out").exists()
