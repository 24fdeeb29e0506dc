"""NNI annotation: the generated search space (NNI 2.x keys and values), the expanded code,
and errors that name the file and line."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.errors import SearchSpaceError
from nni2ray.experiment import load_experiment
from nni2ray.experiment._annotation import expand_source

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "experiments" / "annotated_trial"


def _expand(code: str, module: str = "mod") -> tuple[str, dict[str, object]]:
    space: dict[str, object] = {}
    text = expand_source(textwrap.dedent(code), module, space)
    assert text is not None
    return text, space


def test_reference_examples_give_nnis_keys_and_values() -> None:
    text, space = _expand(
        '''
        from __future__ import annotations
        class Net:
            def __init__(self):
                """@nni.variable(nni.uniform(0, 1), name=self.x)"""
                self.x = 0.5
        """@nni.variable(nni.choice(0.1, 0.01, 'adam', 2*3), name=lr)"""
        lr = 0.1
        """@nni.variable(nni.randint(1, 4), name=layers)"""
        layers = 2
        """@nni.function_choice(relu(h), gelu(h), name=act)"""
        y = relu(h)
        size = nni.qlognormal(1, 2, 1)
        '''
    )
    assert space == {
        "mod/self.x/uniform": {"_type": "uniform", "_value": [0, 1]},
        "mod/lr/choice": {"_type": "choice", "_value": [0.1, 0.01, "adam", "(2 * 3)"]},
        "mod/layers/randint": {"_type": "randint", "_value": [1, 4]},
        "mod/act/function_choice": {"_type": "choice", "_value": ["relu(h)", "gelu(h)"]},
        "mod/__line13/qlognormal": {"_type": "qlognormal", "_value": [1, 2, 1]},
    }
    tree = ast.parse(text)
    assert isinstance(tree.body[1], ast.Import)  # `import nni` after the __future__ import
    assert (
        "lr = nni.choice({0.1: 0.1, 0.01: 0.01, 'adam': 'adam', '(2 * 3)': 2 * 3}, "
        "name='lr', key='mod/lr/choice')" in text
    )
    assert (
        "y = nni.function_choice({'relu(h)': lambda: relu(h), 'gelu(h)': lambda: gelu(h)}, "
        "name='act', key='mod/act/function_choice')" in text
    )


def test_report_annotations_become_calls() -> None:
    text, space = _expand(
        """
        '''@nni.variable(nni.choice(1, 2), name=x)'''
        x = 1
        '''@nni.report_intermediate_result(x / 2)'''
        '''@nni.report_final_result(x)'''
        """
    )
    assert "nni.report_intermediate_result(x / 2)" in text
    assert "nni.report_final_result(x)" in text
    assert list(space) == ["mod/x/choice"]


def test_fixture_space_is_generated_from_every_module() -> None:
    exp = load_experiment(FIXTURE)
    assert exp.raw_search_space == {
        "main/lr/loguniform": {"_type": "loguniform", "_value": [0.0001, 0.1]},
        "main/width/choice": {"_type": "choice", "_value": [32, 64, 128]},
        "main/activation/function_choice": {
            "_type": "choice",
            "_value": ["relu(0.9)", "tanh(0.9)"],
        },
        "model.net/depth/randint": {"_type": "randint", "_value": [1, 4]},
    }


def test_check_shows_the_generated_space(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "generated from the annotations" in out
    assert "model.net/depth/randint: randint [1, 4)" in out


@pytest.mark.parametrize(
    ("code", "line", "message"),
    [
        ("x = 1\n'''@nni.variable(nni.choice(1, 2), name=y)'''\nx = 2\n", 2, "wrong name"),
        ("'''@nni.variable(nni.uniform(a, 1), name=x)'''\nx = 2\n", 1, "number literals"),
        ("\n\n'''@nni.variable(nni.choice(1), name=x)'''\n", 3, "has no target"),
        ("'''@nni.variable(nni.foo(1), name=x)'''\nx = 1\n", 1, "not a NNI function"),
        ("'''@nni.report_final_result(x'''\n", 1, "not expression"),
        ("'''@nni.function_choice(f(), g(), name=h)'''\ny = k()\n", 1, "makes none of"),
        ("'''@nni.report_final_result(1)'''\ndef f(:\n    pass\n", 2, "Bad Python code"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, code: str, line: int, message: str) -> None:
    (tmp_path / "config.yml").write_text(
        "useAnnotation: true\ntrialCommand: python3 main.py\ntrialConcurrency: 1\n"
        "tuner: {name: Random}\ntrainingService: {platform: local}\n"
    )
    (tmp_path / "main.py").write_text(code)
    with pytest.raises(SearchSpaceError) as info:
        load_experiment(tmp_path)
    problem = info.value.problems[0]
    assert problem.file is not None and str(problem.file).endswith("main.py")
    assert problem.line == line
    assert message in problem.message


def test_no_annotation_at_all_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(
        "useAnnotation: true\ntrialCommand: python3 main.py\ntrialConcurrency: 1\n"
        "tuner: {name: Random}\n"
    )
    (tmp_path / "main.py").write_text("print('no annotations')\n")
    with pytest.raises(Exception, match="no NNI annotation found"):
        load_experiment(tmp_path)


def test_keep_layout_replaces_only_the_annotated_statements() -> None:
    source = textwrap.dedent(
        '''
        """Doc."""
        # a comment the user wrote
        import math  # kept


        def f(x):
            """@nni.variable(nni.choice(1, 2), name=a)"""
            a = 1  # the default
            """@nni.function_choice(math.sin(x), math.cos(x), name=g)"""
            y = math.sin(x)
            """@nni.report_final_result(a + y)"""
            return {'single': 'quotes kept'}
        '''
    )
    space: dict[str, object] = {}
    text = expand_source(source, "mod", space, keep_layout=True)
    assert text == textwrap.dedent(
        '''
        """Doc."""
        import nni
        # a comment the user wrote
        import math  # kept


        def f(x):
            a = nni.choice({1: 1, 2: 2}, name='a', key='mod/a/choice')  # the default
            y = FUNCTION_CHOICE
            nni.report_final_result(a + y)
            return {'single': 'quotes kept'}
        '''
    ).replace(
        "FUNCTION_CHOICE",
        "nni.function_choice({'math.sin(x)': lambda: math.sin(x), "
        "'math.cos(x)': lambda: math.cos(x)}, name='g', key='mod/g/function_choice')",
    )
    unparsed_space: dict[str, object] = {}
    assert expand_source(source, "mod", unparsed_space) is not None
    assert space == unparsed_space  # the same search space either way


def test_keep_layout_falls_back_to_the_unparsed_module() -> None:
    # A smart parameter written as a call (not an annotation) is keyed too: the whole
    # module is unparsed, as NNI 2.x does.
    source = 'x = nni.uniform(0, 1)  # comment\n"""@nni.report_final_result(x)"""\n'
    text = expand_source(source, "m", {}, keep_layout=True)
    assert text == expand_source(source, "m", {})
    assert text is not None and "# comment" not in text
    # Two statements on one line: the annotated one does not own its line.
    source = '"""@nni.variable(nni.choice(1, 2), name=a)"""\na = 1; b = 2\n'
    assert expand_source(source, "m", {}, keep_layout=True) == expand_source(source, "m", {})


def test_keep_defaults_gives_each_smart_parameter_the_annotated_value() -> None:
    source = textwrap.dedent(
        '''
        """@nni.variable(nni.loguniform(0.001, 0.1), name=lr)"""
        lr = 0.01
        """@nni.function_choice(relu(x), tanh(x), name=act)"""
        y = 2 * relu(x)
        '''
    )
    space: dict[str, object] = {}
    text = expand_source(source, "m", space, keep_layout=True, keep_defaults=True)
    assert text is not None
    assert "lr = nni.loguniform(0.001, 0.1, default=0.01, name='lr', key='m/lr/loguniform')" in text
    assert (
        "y = 2 * nni.function_choice({'relu(x)': lambda: relu(x), 'tanh(x)': lambda: tanh(x)}, "
        "default=lambda: relu(x), name='act', key='m/act/function_choice')" in text
    )
    assert space == {
        "m/lr/loguniform": {"_type": "loguniform", "_value": [0.001, 0.1]},
        "m/act/function_choice": {"_type": "choice", "_value": ["relu(x)", "tanh(x)"]},
    }
