"""`nni2ray convert` in-process: outputs, --check, --diff, --force, and located parse errors."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from nni2ray.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "experiments"


def _experiment(tmp_path: Path, name: str = "digits_sklearn_v2") -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder


def test_convert_writes_code_launcher_and_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(_experiment(tmp_path)), "-o", str(out)]) == 0
    for name in ("main.py", "tune_experiment.py", "nni_search_space.py"):
        compile((out / name).read_text(), name, "exec")
    assert "import nni" not in (out / "main.py").read_text()
    tree = ast.parse((out / "tune_experiment.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"nni", "nni2ray"}}
    assert "## Search space" in (out / "MIGRATION.md").read_text()


def test_output_must_not_exist_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = _experiment(tmp_path), tmp_path / "out"
    out.mkdir()
    assert main(["convert", str(folder), "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["convert", str(folder), "-o", str(out), "--force"]) == 0
    assert (out / "tune_experiment.py").exists()


def test_check_writes_nothing_and_exits_1_when_code_would_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(_experiment(tmp_path)), "-o", str(out), "--check"]) == 1
    assert not out.exists()


def test_check_exits_0_on_converted_code(tmp_path: Path) -> None:
    folder, out = _experiment(tmp_path), tmp_path / "out"
    assert main(["convert", str(folder), "-o", str(out)]) == 0
    shutil.copy(out / "main.py", folder / "main.py")
    assert main(["convert", str(folder), "-o", str(tmp_path / "again"), "--check"]) == 0


def test_diff_prints_a_unified_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _experiment(tmp_path)
    assert main(["convert", str(folder), "-o", str(tmp_path / "o"), "--check", "--diff"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- a/main.py\n+++ b/main.py\n")
    assert "-import nni\n" in out


def test_unparsable_trial_file_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _experiment(tmp_path)
    (folder / "broken.py").write_text("import nni\n\ndef f(:\n    pass\n")
    assert main(["convert", str(folder), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "nni2ray: error: broken.py:3: " in err and "col" in err
    assert not (tmp_path / "out").exists()


def test_packages_convert_as_a_whole(tmp_path: Path) -> None:
    folder = _experiment(tmp_path)
    package = folder / "helpers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "report.py").write_text(
        "import nni\n\ndef done(x):\n    nni.report_final_result(x)\n"
    )
    out = tmp_path / "out"
    assert main(["convert", str(folder), "-o", str(out)]) == 0
    converted = (out / "helpers" / "report.py").read_text()
    assert "tune.report(" in converted and "import nni" not in converted
    assert (out / "helpers" / "__init__.py").read_text() == ""


def test_converting_a_converted_project_changes_no_code(tmp_path: Path) -> None:
    out, again = tmp_path / "out", tmp_path / "again"
    assert main(["convert", str(_experiment(tmp_path)), "-o", str(out)]) == 0
    assert main(["convert", str(out), "-o", str(again), "--check"]) == 0
    assert main(["convert", str(out), "-o", str(again)]) == 0
    assert (again / "main.py").read_bytes() == (out / "main.py").read_bytes()
    assert (again / "tune_experiment.py").read_bytes() == (out / "tune_experiment.py").read_bytes()


def test_unrunnable_project_is_written_then_exit_1_with_one_line_per_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    folder = _experiment(tmp_path, "custom_tuner_assessor")
    # The trial code moves into code/: the custom classes in algorithms/ are left outside.
    (folder / "code").mkdir()
    (folder / "trial.py").rename(folder / "code" / "trial.py")
    config = folder / "config.yml"
    text = config.read_text().replace("trialCodeDirectory: .", "trialCodeDirectory: code")
    config.write_text(text)
    assert main(["convert", str(folder), "-o", str(out)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 2, errors
    assert "config.yml: tuner.codeDirectory: the custom tuner" in errors[0]
    assert "config.yml: assessor.codeDirectory: the custom assessor" in errors[1]
    assert all("move its folder into the trial code directory" in line for line in errors)
    report = (out / "MIGRATION.md").read_text()
    head = report.split("## How", 1)[0]
    assert "does not run on plain Ray Tune" in head
    assert "tuner.codeDirectory" in head and "assessor.codeDirectory" in head
    assert "python tune_experiment.py" not in head  # no such file was written
    assert not (out / "tune_experiment.py").exists()
    assert (out / "trial.py").exists()  # the code is converted all the same


def test_custom_tuner_and_assessor_get_the_adapter_and_stand_in(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = _experiment(tmp_path, "custom_tuner_assessor")
    assert main(["convert", str(folder), "-o", str(out)]) == 0
    launcher = (out / "tune_experiment.py").read_text()
    assert "custom_searcher('counting_tuner.CountingTuner', HERE / 'algorithms'" in launcher
    assert "custom_scheduler('threshold_assessor.ThresholdAssessor'" in launcher
    for name in ("tune_adapters.py", "nni/__init__.py", "nni/tuner.py", "nni/assessor.py"):
        source = (out / "nni_algorithms" / name).read_text()
        compile(source, name, "exec")
        assert "nni2ray" not in "".join(
            line for line in source.splitlines() if line.startswith(("import", "from"))
        )
    assert (out / "algorithms" / "counting_tuner.py").read_text() == (
        FIXTURES / "custom_tuner_assessor" / "algorithms" / "counting_tuner.py"
    ).read_text()  # the user's class is copied unchanged


def test_runnable_project_exits_0_and_report_says_how_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(_experiment(tmp_path, "all_types")), "-o", str(out)]) == 0
    assert "error" not in capsys.readouterr().err
    head = (out / "MIGRATION.md").read_text().splitlines()[:4]
    assert any("Run the experiment with `python tune_experiment.py`" in line for line in head)


def test_search_space_table_shows_choice_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(_experiment(tmp_path, "all_types")), "-o", str(out)]) == 0
    report = (out / "MIGRATION.md").read_text()
    assert '| `activation` | choice | `["relu", 1, 2.5, "tanh"]` |' in report
    assert "`options`" not in report


def test_annotated_trial_converts_into_plain_tune_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "annotated"
    folder.mkdir()
    (folder / "trial.py").write_text(
        "def relu(x):\n    return max(x, 0)\n\n"
        '"""@nni.variable(nni.choice(1, 2), name=a)"""\na = 1\n'
        '"""@nni.variable(nni.uniform(0.5, 1.5), name=b)"""\nb = 1.0\n'
        '"""@nni.function_choice(relu(a), relu(-a), name=f)"""\nc = relu(a)\n'
        '"""@nni.report_intermediate_result(a * b)"""\n'
        '"""@nni.report_final_result(a + b + c)"""\n'
    )
    (folder / "config.yml").write_text(
        "trialCommand: python3 trial.py\nuseAnnotation: true\ntrialConcurrency: 1\n"
        "tuner: {name: Random}\ntrainingService: {platform: local}\n"
    )
    out = tmp_path / "out"
    assert main(["convert", str(folder), "-o", str(out)]) == 0
    assert "error" not in capsys.readouterr().err
    code = (out / "trial.py").read_text()
    # Each annotated line reads its parameter; its own value stays the standalone default.
    assert "a = _tune_choice({1: 1, 2: 2}, 'trial/a/choice', 1)" in code
    assert "b = _tune_parameter('trial/b/uniform', 1.0)" in code
    choice = "{'relu(a)': lambda: relu(a), 'relu(-a)': lambda: relu(-a)}"
    assert f"c = _tune_choice({choice}, 'trial/f/function_choice', lambda: relu(a))()" in code
    assert code.startswith("import json\nimport os\nfrom ray import tune\n\n\n")
    assert code.endswith(
        "def relu(x):\n    return max(x, 0)\n\n"
        + "\n".join(
            [
                "a = _tune_choice({1: 1, 2: 2}, 'trial/a/choice', 1)",
                "b = _tune_parameter('trial/b/uniform', 1.0)",
                f"c = _tune_choice({choice}, 'trial/f/function_choice', lambda: relu(a))()",
                'tune.report({"default": a * b})',
                'tune.report({"default": a + b + c, "final_result": True})',
                "",
            ]
        )
    )
    assert 'tune.report({"default": a * b})' in code
    assert 'tune.report({"default": a + b + c, "final_result": True})' in code
    assert "nni" not in code.replace("nni_", "").replace("NNI", "")
    launcher = (out / "tune_experiment.py").read_text()
    # The search space the launcher samples is the one the annotations declare.
    assert '"trial/f/function_choice": {' in launcher and '"trial/b/uniform"' in launcher
    assert (
        "Run the experiment with `python tune_experiment.py`" in (out / "MIGRATION.md").read_text()
    )
