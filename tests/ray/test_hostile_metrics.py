"""Any value a trial can send ends at most that trial: huge integers, numbers beyond float
range, NaN/inf, a 200,000-deep array and a 5 MB line, in one real Ray run beside normal
trials. Every JSON file the run writes stays strict JSON."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.ray.conftest import run_folder

TRIAL = textwrap.dedent(
    """
    import os
    import nni

    case = nni.get_next_parameter()["case"]
    fd = int(os.environ["NNI2RAY_METRIC_FD"])

    def raw(data):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    if case == "big_int":
        nni.report_intermediate_result(2**64)
        nni.report_final_result(2**70)
    elif case == "huge_int":
        nni.report_intermediate_result(10**400)
        nni.report_final_result({"default": 10**400, "loss": 1})
    elif case == "nan_inf":
        nni.report_intermediate_result(float("nan"))
        nni.report_final_result({"default": float("inf"), "other": float("-inf")})
    elif case == "deep":
        deep = b"[" * 200_000 + b"]" * 200_000
        raw(b'{"type": "FINAL", "sequence": 0, "value": ' + deep + b"}\\n")
        nni.report_final_result(0.25)
    elif case == "oversized":
        raw(b'{"type": "FINAL", "sequence": 0, "value": "' + b"x" * 5_000_000 + b'"}\\n')
        nni.report_final_result(0.5)
    else:
        nni.report_intermediate_result(0.1)
        nni.report_final_result(0.9)
    """
)

CASES = ["big_int", "huge_int", "nan_inf", "deep", "oversized", "ok"]


def _strict(text: str) -> object:
    def refuse(token: str) -> object:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.usefixtures("ray_session")
def test_each_hostile_value_ends_at_most_its_trial(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(
        "searchSpace: {case: {_type: choice, _value: " + json.dumps(CASES) + "}}\n"
        "trialCommand: python3 trial.py\ntrialConcurrency: 2\nmaxTrialNumber: 6\n"
        "tuner: {name: GridSearch}\ntrainingService: {platform: local}\n"
    )
    output = tmp_path / "out"
    summary = run_folder(exp, output, scheduler="none")
    assert not summary.interrupted
    exported = _strict((output / "export.json").read_text())
    assert isinstance(exported, list)
    by_case = {r["parameter"]["case"]: r for r in exported}
    assert sorted(by_case) == sorted(CASES)
    assert {r["status"] for r in exported} == {"SUCCEEDED"}
    assert by_case["big_int"]["value"] == 2**70
    assert by_case["big_int"]["intermediate"] == [2**64, 2**70]
    assert by_case["huge_int"]["value"] == {"default": 10**400, "loss": 1}
    # NaN and the infinities are written as strings (JSON has no such numbers).
    assert by_case["nan_inf"]["intermediate"][0] == "NaN"
    assert by_case["nan_inf"]["value"] == {"default": "Infinity", "other": "-Infinity"}
    assert by_case["deep"]["value"] == 0.25
    assert "nested more than 64 levels deep" in by_case["deep"]["protocolErrors"][0]
    assert by_case["oversized"]["value"] == 0.5
    assert "larger than 1000000 bytes" in by_case["oversized"]["protocolErrors"][0]
    assert by_case["ok"]["value"] == 0.9
    for path in [output / "experiment.json", *output.glob("trials/*/trial.json")]:
        _strict(path.read_text())
    for path in output.glob("trials/*/metrics.jsonl"):
        for line in path.read_text().splitlines():
            _strict(line)
    # Only finite tuned numbers are ranked.
    assert [r.final_scalar for r in summary.best] == [float(2**70), 0.9, 0.5, 0.25]
