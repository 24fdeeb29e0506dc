"""Write MIGRATION.md: the fate of every config field, search-space entry and unconverted line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from nni2ray.convert._result import Converted, ConvertResult, Failed, Skipped, Unchanged
from nni2ray.convert.launcher._algorithms import SCHEDULER_SOURCES as SCHEDULERS
from nni2ray.convert.launcher._algorithms import SEARCHER_SOURCES as SEARCHERS
from nni2ray.convert.launcher._command import TrialLaunch
from nni2ray.experiment import Experiment
from nni2ray.notes import Note
from nni2ray.translate import SearcherKind, TunePlan

_EXACT_TYPES = {"choice", "randint", "uniform", "loguniform", "normal"}
_MODEL_SEARCHERS = {
    SearcherKind.HYPEROPT,
    SearcherKind.TPE,
    SearcherKind.GP,
    SearcherKind.EVOLUTION,
}


def migration_report(
    experiment: Experiment,
    plan: TunePlan | None,
    refusal: str | None,
    launch: TrialLaunch,
    results: Sequence[ConvertResult],
) -> str:
    """Return MIGRATION.md's text."""
    parts = [
        f"# Migration report: {experiment.name or experiment.config_file.parent.name}\n",
        f"Converted by nni2ray from `{experiment.config_file.name}`. Run the experiment with "
        "`python tune_experiment.py` (add `--num-samples 2` for a smoke run).\n",
        _contract(),
        _files(results),
        _config(experiment, plan, refusal, launch),
        _space(experiment, plan),
        _source_notes(results),
    ]
    return "\n".join(parts)


def _contract() -> str:
    return (
        "## How the converted trial talks to Ray Tune\n\n"
        "* `tune_experiment.py` runs the converted trial script in-process for every Tune "
        "trial (`runpy`), with NNI's working directory (the code directory) and `sys.argv` "
        "from `trialCommand`.\n"
        "* Parameters arrive as JSON in the `TUNE_TRIAL_PARAMS` environment variable: the "
        "converted `nni.get_next_parameter()` reads it, and gets `{}` (NNI's standalone "
        "answer) when the script runs on its own.\n"
        '* `nni.report_intermediate_result(x)` became `tune.report({"default": x})`; dict '
        'metrics keep every key; the final report adds `"final_result": True`. Outside a '
        "Tune run `tune.report` only warns, so the script still runs standalone.\n"
        '* Trial and experiment ids come from `tune.get_context()` (`"STANDALONE"` outside '
        "Tune); the sequence id is the counter at the end of Tune's trial id.\n"
    )


def _files(results: Sequence[ConvertResult]) -> str:
    rows = [(r.filename, _status(r)) for r in results if not isinstance(r, Skipped)]
    lines = ["## Files\n", "| File | Result |", "| --- | --- |"]
    lines += [f"| `{name}` | {status} |" for name, status in rows]
    skipped = sum(isinstance(r, Skipped) for r in results)
    lines.append(f"\n{skipped} other files (data, configs, ...) were copied unchanged.\n")
    return "\n".join(lines)


def _status(result: ConvertResult) -> str:
    if isinstance(result, Converted):
        return "converted" + (f" ({len(result.notes)} notes)" if result.notes else "")
    if isinstance(result, Unchanged):
        return "unchanged" + (f" ({len(result.notes)} notes)" if result.notes else "")
    if isinstance(result, Failed):
        return f"failed: {result.problem}"
    return "copied"


def _row(field: str, value: Any, fate: str) -> str:
    shown = "" if value is None else f"`{value}`"
    return f"| `{field}` | {shown} | {fate} |"


def _config(
    exp: Experiment, plan: TunePlan | None, refusal: str | None, launch: TrialLaunch
) -> str:
    lines = ["## Config fields\n", "| Field | Value | Fate |", "| --- | --- | --- |"]
    lines.append(_row("experimentName", exp.name, "exact: the Tune run's name"))
    command_fate = "exact: `sys.argv` of the in-process run"
    if launch.argv and not launch.exact:
        command_fate = f"approximated: {launch.reason}"
    elif not launch.argv:
        command_fate = f"not supported: {launch.reason}"
    lines.append(_row("trialCommand", exp.trial.command, command_fate))
    lines.append(_row("trialCodeDirectory", exp.trial.code_directory.name, "exact: copied here"))
    if refusal is not None or plan is None:
        lines.append(f"\n**No launcher was written:** {refusal}\n")
        return "\n".join(lines + _notes_rows(exp.notes)) + "\n"
    limits = exp.limits
    searcher_fate = SEARCHERS[plan.searcher.kind].fate(plan.searcher)
    scheduler_fate = SCHEDULERS[plan.scheduler.kind].fate(plan.scheduler)
    lines += [
        _row("trialConcurrency", limits.concurrency, "exact: `max_concurrent_trials`"),
        _row("maxTrialNumber", limits.max_trial_number, "exact: `num_samples`"),
        _row("maxExperimentDuration", limits.max_experiment_duration, "exact: `time_budget_s`"),
        _row(
            "maxTrialDuration",
            limits.max_trial_duration,
            "approximated: a `time_total_s` stop, checked when the trial reports",
        ),
        _row("trialGpuNumber", exp.trial.gpu_number, f"exact: {plan.gpus_per_trial or 0} GPU"),
        _row("tuner", exp.tuner.name or exp.tuner.class_name, searcher_fate),
        _row("assessor", exp.assessor.name if exp.assessor else None, scheduler_fate),
        _row("optimize_mode", plan.mode, "exact: Tune `mode`, metric `default`"),
        _row("trainingService.platform", exp.platform, "approximated: the local Ray cluster"),
    ]
    return "\n".join(lines + _notes_rows(plan.notes)) + "\n"


def _notes_rows(notes: Iterable[Note]) -> list[str]:
    found = [f"* {note.severity.value}: {note}" for note in notes]
    return ["\nTranslation notes:\n", *found] if found else []


def _space(exp: Experiment, plan: TunePlan | None) -> str:
    space = exp.search_space
    if space is None:
        return "## Search space\n\nNot an NNI search space (custom format or annotation).\n"
    lines = [
        "## Search space\n",
        "| Parameter | `_type` | `_value` | Fate |",
        "| --- | --- | --- | --- |",
    ]
    searcher = plan.searcher.kind if plan else ""
    for parameter in space:
        value = list(parameter.values) if parameter.type != "choice" else "options"
        if parameter.type in _EXACT_TYPES and not parameter.nested:
            fate = "exact"
        elif searcher in _MODEL_SEARCHERS:
            fate = (
                "exact values (NNI's formula in `nni_search_space.decode`); "
                "the searcher models the latent"
            )
        else:
            fate = "exact (NNI's formula applied by `nni_search_space.decode`)"
        lines.append(f"| `{parameter.name}` | {parameter.type} | `{value}` | {fate} |")
    return "\n".join(lines) + "\n"


def _source_notes(results: Sequence[ConvertResult]) -> str:
    lines = ["## Source lines left unconverted\n"]
    notes = [note for result in results for note in result.notes]
    if not notes:
        return "\n".join(lines + ["None: every NNI call was rewritten.\n"])
    lines += [f"* `{note.file}:{note.line or '-'}` {note.field}: {note.message}" for note in notes]
    lines.append("\nLine numbers refer to the original files.\n")
    return "\n".join(lines)
