"""Convert a whole experiment: every trial file, plus the launcher and MIGRATION.md, into OUT."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nni2ray.convert._result import Converted, ConvertResult, Failed, Skipped
from nni2ray.convert.launcher._command import TrialLaunch, parse_trial_command
from nni2ray.errors import ConvertError, OutputError, UnsupportedError
from nni2ray.experiment.model import Experiment
from nni2ray.translate.plan import TunePlan

_SKIP_DIRS = {"__pycache__", ".git", ".nni", ".mypy_cache", ".pytest_cache"}
MIGRATION_NAME = "MIGRATION.md"


@dataclass
class TreeConversion:
    """Everything ``convert`` would write, computed without touching OUT.

    Attributes:
        code_dir: the trial code directory that is copied.
        results: one result per file of the code directory, in path order.
        generated: files nni2ray adds (launcher, search-space module, MIGRATION.md).
        refusal: why no launcher was written (annotation, custom tuner, ...), else None.
    """

    code_dir: Path
    results: list[ConvertResult] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None

    @property
    def changed(self) -> list[Converted]:
        return [result for result in self.results if isinstance(result, Converted)]


def _files(code_dir: Path) -> list[Path]:
    found = []
    for path in sorted(code_dir.rglob("*")):
        relative = path.relative_to(code_dir)
        if path.is_file() and not _SKIP_DIRS.intersection(relative.parts[:-1]):
            if path.suffix != ".pyc":
                found.append(path)
    return found


def _convert_file(path: Path, code_dir: Path) -> ConvertResult:
    from nni2ray.convert import convert_source

    name = path.relative_to(code_dir).as_posix()
    if path.suffix != ".py":
        return Skipped(name, "not Python source")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            code = handle.read()
    except UnicodeDecodeError as exc:
        return Skipped(name, f"not UTF-8 ({exc.reason}); copied unchanged")
    return convert_source(code, filename=name)


def plan_tree(path: Path, config_name: str | None = None) -> TreeConversion:
    """Convert an experiment folder in memory.

    Raises:
        ConvertError: a trial file does not parse (every such file is listed).
    """
    from nni2ray.experiment import load_experiment

    experiment = load_experiment(path, config_name=config_name)
    code_dir = experiment.trial.code_directory
    conversion = TreeConversion(code_dir, [_convert_file(p, code_dir) for p in _files(code_dir)])
    failed = [result.problem for result in conversion.results if isinstance(result, Failed)]
    if failed:
        raise ConvertError(problems=failed)
    launch = parse_trial_command(experiment.trial.command, code_dir)
    plan = None
    try:
        from nni2ray.translate import translate

        plan = translate(experiment)
    except UnsupportedError as exc:
        conversion.refusal = str(exc)
    if plan is not None:
        from nni2ray.translate.tuners import advisor_without_nni2ray

        plan = advisor_without_nni2ray(plan)  # Hyperband/BOHB: the pre-exact approximation
    if plan is not None and "custom" in (plan.searcher.kind, plan.scheduler.kind):
        # A custom tuner/assessor imports nni; it runs only under `nni2ray run`.
        conversion.refusal = "custom NNI tuners and assessors run only under `nni2ray run`"
        plan = None
    _generate(conversion, experiment, plan, launch)
    return conversion


def _generate(
    conversion: TreeConversion, experiment: Experiment, plan: TunePlan | None, launch: TrialLaunch
) -> None:
    from nni2ray.convert._report import migration_report
    from nni2ray.convert.launcher._generate import LAUNCHER_NAME, SPACE_MODULE, launcher_source
    from nni2ray.translate.param_space import nni_space_source

    generated = conversion.generated
    if plan is not None:
        command, config = experiment.trial.command, experiment.config_file.name
        generated[LAUNCHER_NAME] = launcher_source(plan, launch, command, config)
        generated[SPACE_MODULE] = nni_space_source()
    report = migration_report(experiment, plan, conversion.refusal, launch, conversion.results)
    generated[MIGRATION_NAME] = report
    # Converting a converted project again regenerates nni2ray's own files.
    conversion.results = [
        result
        for result in conversion.results
        if result.filename not in generated or not _ours(conversion.code_dir / result.filename)
    ]
    taken = {result.filename for result in conversion.results}.intersection(generated)
    if taken:
        raise OutputError(
            f"the trial code already has {', '.join(sorted(taken))}, which convert writes",
            file=conversion.code_dir,
            hint="rename those files in the trial code directory",
        )


def _ours(path: Path) -> bool:
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    return any(mark in head for mark in ("Written by nni2ray", "# Migration report", "latent"))


def write_tree(conversion: TreeConversion, out: Path, *, force: bool = False) -> None:
    """Write the converted tree to ``out``.

    Raises:
        OutputError: ``out`` exists (without ``force``) or overlaps the trial code.
    """
    out, source = out.resolve(), conversion.code_dir.resolve()
    if out == source or out in source.parents or source in out.parents:
        raise OutputError("the output folder overlaps the trial code directory", file=out)
    if out.exists():
        if not force:
            raise OutputError("the output folder already exists", file=out, hint="use --force")
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    for result in conversion.results:
        target = out / result.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(result, Converted):
            with target.open("w", encoding="utf-8", newline="") as handle:
                handle.write(result.code)
        else:
            shutil.copy2(conversion.code_dir / result.filename, target)
    for name, text in conversion.generated.items():
        (out / name).write_text(text, encoding="utf-8")


def convert_tree(
    path: Path, out: Path, *, config_name: str | None = None, force: bool = False
) -> TreeConversion:
    """Convert an NNI experiment folder into a Ray Tune project in ``out``.

    Raises:
        ConvertError: a trial file does not parse.
        OutputError: ``out`` cannot be used.
    """
    conversion = plan_tree(path, config_name)
    write_tree(conversion, out, force=force)
    return conversion
