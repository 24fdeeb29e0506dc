"""Write MIGRATION.md: the fate of every config field, search-space entry and unconverted line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from nni2ray.convert._result import Converted, ConvertResult, Failed, Skipped, Unchanged
from nni2ray.convert.launcher._algorithms import SCHEDULER_SOURCES as SCHEDULERS
from nni2ray.convert.launcher._algorithms import SEARCHER_SOURCES as SEARCHERS
from nni2ray.convert.launcher._command import TrialLaunch
from nni2ray.experiment import Experiment
from nni2ray.notes import Note
from nni2ray.secrets import mask_text
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
    reasons: Sequence[Note] = (),
) -> str:
    """Return MIGRATION.md's text."""
    parts = [
        f"# Migration report: {experiment.name or experiment.config_file.parent.name}\n",
        _verdict(experiment, plan, reasons),
        _contract(launch),
        _files(results),
        _config(experiment, plan, refusal, launch),
        _space(experiment, plan),
        _source_notes(results),
    ]
    return mask_text("\n".join(parts))


def _verdict(experiment: Experiment, plan: TunePlan | None, reasons: Sequence[Note]) -> str:
    source = f"Converted by nni2ray from `{experiment.config_file.name}`."
    if experiment.config_file.suffix == ".py":
        source = (
            f"Converted by nni2ray from the config `{experiment.config_file.name}` builds "
            "(captured where the script starts its first experiment; the script's own code, "
            "such as a loop over experiments or its use of the results, is not converted)."
        )
    if experiment.use_annotation:
        source += (
            " The annotations were expanded as NNI 2.x does, in place (the rest of each file "
            "is kept): each annotated variable or function choice reads its search-space key "
            "from the trial's parameters (`_tune_parameter`, `_tune_choice`), falling back to "
            "the line's own value outside a Tune trial, and each report annotation is a "
            "`tune.report`."
        )
    if not reasons:
        return (
            f"{source} Run the experiment with `python tune_experiment.py` (add "
            "`--num-samples 2` for a smoke run).\n"
        )
    launcher = (
        "`tune_experiment.py` was written but cannot run every trial as converted"
        if plan is not None
        else "No launcher (`tune_experiment.py`) was written"
    )
    lines = [f"**This project does not run on plain Ray Tune yet.** {source} {launcher}:\n"]
    lines += [f"* {note}" for note in reasons]
    return "\n".join(lines) + "\n"


def _contract(launch: TrialLaunch) -> str:
    how = (
        "* `tune_experiment.py` runs the converted trial script in-process for every Tune "
        "trial (`runpy`), with NNI's working directory (the code directory) and `sys.argv` "
        "from `trialCommand`.\n"
    )
    if launch.shell:
        how = (
            "* `tune_experiment.py` runs `trialCommand` with `bash -c` in this folder for every "
            "Tune trial; `tune_trial_bridge/sitecustomize.py` (on the trial's PYTHONPATH) sends "
            "each `tune.report` of the converted Python code to the launcher over a pipe, and "
            "the launcher reports it to Tune.\n"
        )
    return (
        "## How the converted trial talks to Ray Tune\n\n"
        + how
        + "* Parameters arrive as JSON in the `TUNE_TRIAL_PARAMS` environment variable: the "
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
    if launch.shell:
        command_fate = f"approximated: {launch.reason}"
    elif launch.argv and not launch.exact:
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
        _row("trialGpuNumber", exp.trial.gpu_number, _gpu_fate(plan)),
        _row("gpuIndices", _indices(exp.gpu_indices), _gpu_indices_fate(exp.gpu_indices)),
        _row("tuner", exp.tuner.name or exp.tuner.class_name, searcher_fate),
        _row(
            "assessor",
            (exp.assessor.name or exp.assessor.class_name) if exp.assessor else None,
            scheduler_fate,
        ),
        _row("optimize_mode", plan.mode, "exact: Tune `mode`, metric `default`"),
        _row("trainingService.platform", exp.platform, "approximated: the local Ray cluster"),
    ]
    return "\n".join(lines + _notes_rows(plan.notes)) + "\n"


def _gpu_fate(plan: TunePlan) -> str:
    if plan.gpus_per_trial:
        return f"exact: Ray gives each trial {plan.gpus_per_trial:g} GPU (CUDA_VISIBLE_DEVICES)"
    if plan.gpus_per_trial == 0:
        return "exact: no GPU (the launcher sets CUDA_VISIBLE_DEVICES to empty)"
    return "exact: not set, CUDA_VISIBLE_DEVICES is left as it is"


def _indices(indices: tuple[int, ...] | None) -> str | None:
    return None if indices is None else ",".join(str(index) for index in indices)


def _gpu_indices_fate(indices: tuple[int, ...] | None) -> str:
    if indices is None:
        return "not set: Ray uses every GPU it finds"
    return "approximated: the launcher sets CUDA_VISIBLE_DEVICES before Ray starts"


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
        value = _shown_value(exp.raw_search_space, parameter.name, parameter.values)
        if parameter.type in _EXACT_TYPES and not parameter.nested:
            fate = "exact"
        elif searcher in _MODEL_SEARCHERS:
            fate = (
                "exact values (NNI's formula in `nni_search_space.decode`); "
                "the searcher models the latent"
            )
        else:
            fate = "exact (NNI's formula applied by `nni_search_space.decode`)"
        value = value.replace("|", "\\|")
        lines.append(f"| `{parameter.name}` | {parameter.type} | `{value}` | {fate} |")
    return "\n".join(lines) + "\n"


def _shown_value(raw: Any, name: str, values: tuple[float, ...]) -> str:
    """``_value`` as written in the search space (a choice's options, a range's bounds)."""
    entry = raw.get(name) if isinstance(raw, dict) else None
    if isinstance(entry, dict) and "_value" in entry:
        text = json.dumps(entry["_value"], default=str)
    else:
        text = json.dumps(list(values))
    return text if len(text) <= 120 else text[:117] + "..."


def _source_notes(results: Sequence[ConvertResult]) -> str:
    lines = ["## Source lines left unconverted\n"]
    notes = [note for result in results for note in result.notes]
    if not notes:
        return "\n".join(lines + ["None: every NNI call was rewritten.\n"])
    lines += [f"* `{note.file}:{note.line or '-'}` {note.field}: {note.message}" for note in notes]
    lines.append("\nLine numbers refer to the original files.\n")
    return "\n".join(lines)
