"""``nni.trace``/``nni.dump``/``nni.load`` and ``ClassArgsValidator`` in a real trial
process with the stand-in ``nni``, as NNI 3.0 behaves for plain objects."""

from __future__ import annotations

from pathlib import Path

HELPERS = """
import nni

@nni.trace
class Optimizer:
    def __init__(self, lr, momentum=0.0):
        self.lr, self.momentum = lr, momentum

@nni.trace
def make_schedule(steps, gamma=0.5):
    return {"steps": steps, "gamma": gamma}

class Plain:
    def __init__(self):
        self.x = 3
"""


def test_trace_dump_load_round_trip(trial, tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    run = trial(
        """
        import json, math
        import nni
        from nni import ClassArgsValidator
        from helpers import Optimizer, Plain, make_schedule

        nni.get_next_parameter()
        opt = Optimizer(0.1, momentum=0.9)
        assert isinstance(opt, Optimizer) and opt.lr == 0.1
        assert opt.trace_kwargs == {"lr": 0.1, "momentum": 0.9}, opt.trace_kwargs
        assert opt.trace_args == []
        assert opt.trace_symbol.__name__ == "Optimizer"
        text = nni.dump(opt)
        assert json.loads(text) == {
            "__symbol__": "path:helpers.Optimizer", "__kwargs__": {"lr": 0.1, "momentum": 0.9}
        }, text
        back = nni.load(text)
        assert type(back).__name__ == "Optimizer" and back.momentum == 0.9
        assert back.trace_kwargs == {"lr": 0.1, "momentum": 0.9}

        schedule = make_schedule(10)
        assert schedule == {"steps": 10, "gamma": 0.5}
        assert schedule.trace_kwargs == {"steps": 10}

        assert nni.load(nni.dump(Optimizer)) is Optimizer
        nested = nni.load(nni.dump({"opt": opt, "nan": float("nan"), "plain": Plain()}))
        assert nested["opt"].lr == 0.1 and math.isnan(nested["nan"]) and nested["plain"].x == 3

        class Validator(ClassArgsValidator):
            pass
        Validator().validate_class_args(optimize_mode="maximize")
        nni.report_final_result(opt.lr)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.values("FINAL") == [0.1]
