"""What Tune keeps of an ended trial, and nni2ray never reads, is dropped (long runs)."""

from __future__ import annotations

from ray.tune.experiment import Trial

from nni2ray.runtime._callbacks import _forget_statistics


def test_an_ended_trials_metric_statistics_are_dropped_and_its_cached_state_rewritten() -> None:
    trial = Trial("NniTrial", stub=True, config={"x": 1})
    trial.update_last_result({"default": 0.5, "training_iteration": 1, "nested": {"b": 2}})
    assert set(trial.run_metadata.metric_analysis) == {"default", "training_iteration", "nested/b"}
    cached = trial.get_json_state()[1]
    _forget_statistics(trial)
    assert trial.run_metadata.metric_analysis == {} and trial.run_metadata.metric_n_steps == {}
    rewritten = trial.get_json_state()[1]
    assert len(rewritten) < len(cached) / 2 and '"metric_analysis": {}' in rewritten
    assert trial.last_result["default"] == 0.5  # what the recorder reads stays
