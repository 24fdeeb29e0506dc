"""convert_source edge cases that are not golden files: parse failures and result types."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nni2ray.convert import Converted, Failed, Unchanged, convert_source
from nni2ray.convert.rewrites import CALL_REWRITES


@pytest.mark.parametrize(
    ("code", "where"),
    [
        pytest.param("import nni\nx = (1,\n", "bad.py:2", id="unclosed-paren"),
        pytest.param("import nni\ndef f(:\n    pass\n", "bad.py:2", id="bad-def"),
        pytest.param("print 'hello'\n", "bad.py:1", id="python2-print"),
    ],
)
def test_unparsable_source_fails_with_location(code: str, where: str) -> None:
    result = convert_source(code, filename="bad.py")
    assert isinstance(result, Failed)
    assert str(result.problem).startswith(where)
    assert "col" in str(result.problem)


def test_source_without_nni_is_unchanged_byte_for_byte() -> None:
    code = "x = 1  # comment\r\n\r\nprint( x )\r\n"
    result = convert_source(code)
    assert isinstance(result, Unchanged)
    assert result.code == code


def test_converted_code_runs_standalone_with_defaults() -> None:
    code = (
        "import nni\n"
        "params = {'lr': 0.5}\n"
        "params.update(nni.get_next_parameter())\n"
        "print(nni.get_trial_id(), nni.get_sequence_id(), params['lr'])\n"
    )
    result = convert_source(code)
    assert isinstance(result, Converted)
    assert "nni" not in result.code.replace("TUNE_TRIAL_PARAMS", "")
    compile(result.code, "<converted>", "exec")


def test_every_rewrite_describes_itself() -> None:
    for rewrite in CALL_REWRITES:
        assert rewrite.DESCRIPTION and "\n" not in rewrite.DESCRIPTION
        assert all(target.startswith("nni.") for target in rewrite.TARGETS)


def test_importing_convert_does_not_import_ray_or_libcst() -> None:
    code = "import sys, nni2ray.convert; print('ray' in sys.modules, 'libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
