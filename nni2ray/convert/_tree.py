"""Convert a whole experiment: every trial file, plus the launcher and MIGRATION.md, into OUT."""

from __future__ import annotations

import os
import posixpath
import shlex
import shutil
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nni2ray.convert._result import Converted, ConvertResult, Failed, Skipped, Unchanged
from nni2ray.convert.launcher._command import TrialLaunch, levels_up, parse_trial_command
from nni2ray.errors import ConvertError, OutputError, Problem, UnsupportedError
from nni2ray.experiment.model import Experiment
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import TunePlan

_SKIP_DIRS = {"__pycache__", ".git", ".nni", ".mypy_cache", ".pytest_cache", "nni2ray-results"}
MIGRATION_NAME = "MIGRATION.md"
#: Written into every OUT; ``--force`` removes only a folder holding it (or an empty one).
MARKER_NAME = ".nni2ray-convert"

#: How far above the code directory a `cd ..` command may take convert's copy.
_MAX_LEVELS_UP = 2


@dataclass
class TreeConversion:
    """Everything ``convert`` would write, computed without touching OUT.

    Attributes:
        code_dir: the trial code directory that is copied.
        results: one result per file of the code directory, in path order.
        generated: files nni2ray adds (launcher, search-space module, MIGRATION.md).
        refusal: why no launcher was written (annotation, custom tuner, ...), else None.
        links: symlinks that stay inside the code directory: name -> relative target.
        left_out: entries not copied (escaped name, reason): symlinks leaving the code
            directory, special files, names that are not UTF-8 or hold control characters.
        reasons: why the written project cannot run every trial of the experiment on plain
            Ray Tune (one located note each: file, field, why and what to do); ``convert``
            exits 1 when there is any.
    """

    code_dir: Path
    results: list[ConvertResult] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    config_file: Path | None = None
    reasons: list[Note] = field(default_factory=list)

    @property
    def changed(self) -> list[Converted]:
        return [result for result in self.results if isinstance(result, Converted)]


def _escaped(name: str) -> str:
    """A name as it can be shown on one line: bad bytes and control characters escaped."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _bad_name(name: str) -> str | None:
    try:
        os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        return "name is not valid UTF-8"
    if any(not c.isprintable() for c in name):
        return "name holds control characters"
    return None


def _scan(code_dir: Path, conversion: TreeConversion) -> list[Path]:
    """Regular files to convert or copy, in path order; symlinks and odd entries are
    recorded on ``conversion`` (never followed out of the code directory)."""
    found: list[Path] = []
    for top, dirs, files in os.walk(code_dir, followlinks=False):
        here = Path(top)
        dirs.sort()
        for name in sorted(dirs + files):
            path = here / name
            relative = path.relative_to(code_dir).as_posix()
            reason = _bad_name(relative)
            is_dir = name in dirs
            if reason is not None:
                conversion.left_out.append((_escaped(relative), reason))
                if is_dir:
                    dirs.remove(name)
                continue
            if is_dir and name in _SKIP_DIRS:
                dirs.remove(name)
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                if is_dir:
                    dirs.remove(name)
                _link(path, relative, code_dir, conversion)
            elif stat.S_ISREG(mode) and path.suffix != ".pyc":
                found.append(path)
            elif not is_dir and not stat.S_ISREG(mode):
                conversion.left_out.append((relative, "not a regular file"))
    return sorted(found)


def _link(path: Path, relative: str, code_dir: Path, conversion: TreeConversion) -> None:
    target = os.path.realpath(path)
    real_code = os.path.realpath(code_dir)
    if os.path.commonpath([target, real_code]) == real_code:
        conversion.links[relative] = os.path.relpath(
            target, os.path.dirname(os.path.join(real_code, relative))
        )
    else:
        shown = _escaped(os.readlink(path))
        conversion.left_out.append((relative, f"symlink to {shown}, outside the code directory"))


def _convert_file(path: Path, code_dir: Path, expanded: dict[str, str]) -> ConvertResult:
    from nni2ray.convert import convert_source

    name = path.relative_to(code_dir).as_posix()
    if path.suffix != ".py":
        return Skipped(name, "not Python source")
    if name in expanded:
        # An annotated file: NNI 2.x's expansion (smart parameters, report calls), then the
        # usual rewrites turn those nni calls into Tune code.
        result = convert_source(expanded[name], filename=name)
        if isinstance(result, Unchanged):
            return Converted(name, result.code, result.notes)
        return result
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            code = handle.read()
    except UnicodeDecodeError as exc:
        return Skipped(name, f"not UTF-8 ({exc.reason}); copied unchanged")
    return convert_source(code, filename=name)


def plan_tree(
    path: Path,
    config_name: str | None = None,
    *,
    allow_outside: bool = False,
    experiment: Experiment | None = None,
) -> TreeConversion:
    """Convert an experiment folder in memory.

    Args:
        experiment: the experiment already loaded (the config a Python launcher built,
            whose ``config_file`` is the script); ``path`` is then not read.

    Raises:
        ConvertError: a trial file does not parse (every such file is listed), or the code
            directory or search space file lies outside the experiment folder (unless
            ``allow_outside``).
    """
    from nni2ray.experiment import load_experiment

    if experiment is None:
        experiment = load_experiment(path, config_name=config_name)
    if not allow_outside:
        _refuse_outside(experiment)
    code_dir = experiment.trial.code_directory
    launch = parse_trial_command(experiment.trial.command, code_dir)
    up = levels_up(launch)
    if 0 < up <= _MAX_LEVELS_UP and up < len(code_dir.resolve().parents):
        # `cd .. && python x.py`: copy the folder the command works in, code directory within.
        root = code_dir.resolve().parents[up - 1]
        inner = code_dir.resolve().relative_to(root).as_posix()
        command = f"cd {shlex.quote(inner)} && {experiment.trial.command}"
        code_dir, launch = root, parse_trial_command(command, root)
        if not allow_outside:
            _refuse_outside(experiment, [("trialCommand", root)])
    conversion = TreeConversion(code_dir, config_file=experiment.config_file)
    expanded = _annotated_sources(experiment, code_dir)
    files = _scan(code_dir, conversion)
    if experiment.config_file.suffix == ".py":  # a Python launcher: tune_experiment.py's job
        script = experiment.config_file.resolve()
        for found in [f for f in files if f.resolve() == script]:
            files.remove(found)
            name = found.relative_to(code_dir).as_posix()
            why = "the Python launcher; tune_experiment.py runs the experiment it built"
            conversion.left_out.append((name, why))
    conversion.results = [_convert_file(p, code_dir, expanded) for p in files]
    failed = [result.problem for result in conversion.results if isinstance(result, Failed)]
    if failed:
        raise ConvertError(problems=failed)
    plan = None
    try:
        from nni2ray.translate import translate

        plan = translate(experiment)
    except UnsupportedError as exc:
        conversion.refusal = str(exc)
        why = str(exc).splitlines()[0]
        conversion.reasons.append(_reason(None, None, why, "run it with `nni2ray run` instead"))
    if plan is not None:
        from nni2ray.translate.tuners import advisor_without_nni2ray, pbt_without_nni2ray

        plan = advisor_without_nni2ray(plan)  # Hyperband/BOHB: the pre-exact approximation
        plan = pbt_without_nni2ray(plan)  # PBT: random search, a checkpoint folder per trial
    if plan is not None:
        conversion.reasons += _plan_reasons(experiment, plan, code_dir)
        if conversion.reasons:
            conversion.refusal = "; ".join(note.message for note in conversion.reasons)
            plan = None
        else:
            plan = _with_algorithm_dirs(experiment, plan, code_dir)
            conversion.results = _keep_algorithm_files(conversion.results, plan)
    conversion.reasons += _trial_reasons(experiment, conversion.results, launch, plan)
    _generate(conversion, experiment, plan, launch)
    return conversion


def _annotated_sources(experiment: Experiment, code_dir: Path) -> dict[str, str]:
    """``useAnnotation: true``: the expanded text of each annotated file, keyed by its path
    relative to the copied ``code_dir`` (which may hold the trial code directory)."""
    if not experiment.use_annotation:
        return {}
    from nni2ray.experiment import annotated_sources

    inner = experiment.trial.code_directory.resolve().relative_to(code_dir.resolve())
    return {
        posixpath.normpath((inner / name).as_posix()): text
        for name, text in annotated_sources(experiment).items()
    }


def _refuse_outside(
    experiment: Experiment, paths: list[tuple[str, Path | None]] | None = None
) -> None:
    """A cloned folder must not make ``convert`` copy ``/etc`` (or read a secrets file).

    ``paths`` (field, path) default to the code directory and the search space file.
    """
    from nni2ray.experiment import display_path, is_inside

    folder = experiment.root or experiment.config_file.parent
    if experiment.config_file.suffix == ".py":  # a Python launcher: the script's folder
        folder = experiment.config_file.parent
    if paths is None:
        paths = [
            ("trialCodeDirectory", experiment.trial.code_directory),
            ("searchSpaceFile", experiment.search_space_file),
        ]
    outside = [
        (name, path) for name, path in paths if path is not None and not is_inside(path, folder)
    ]
    if outside:
        hint = "move it into the experiment folder, or pass --allow-outside to use it anyway"
        raise ConvertError(
            problems=[
                Problem(
                    f"{display_path(path)} is outside the experiment folder {display_path(folder)}",
                    file=display_path(experiment.config_file),
                    field=name,
                    hint=hint,
                )
                for name, path in outside
            ]
        )


def _reason(file: Path | str | None, field: str | None, why: str, fix: str) -> Note:
    return Note(Severity.REFUSED, f"{why}; {fix}", file, field)


def _plan_reasons(experiment: Experiment, plan: TunePlan, code_dir: Path) -> list[Note]:
    """What keeps the plan's searcher or scheduler off plain Ray Tune."""
    config = experiment.config_file.name
    found = []
    for field_name, call in (("tuner", plan.searcher), ("assessor", plan.scheduler)):
        if call.kind == "custom" and _algorithm_dir(experiment, call.kwargs, code_dir) is None:
            found.append(
                _reason(
                    config,
                    f"{field_name}.codeDirectory",
                    f"the custom {field_name} "
                    f"{call.nni_name} lives outside the trial code directory, which is all "
                    "convert copies",
                    "move its folder into the trial code directory",
                )
            )
    return found


def _algorithm_dir(experiment: Experiment, kwargs: dict[str, Any], code_dir: Path) -> str | None:
    """The custom class's folder relative to the copied code directory (None: outside)."""
    folder = Path(kwargs.get("code_directory") or experiment.config_file.parent).resolve()
    try:
        return folder.relative_to(code_dir.resolve()).as_posix()
    except ValueError:
        return None


def _with_algorithm_dirs(experiment: Experiment, plan: TunePlan, code_dir: Path) -> TunePlan:
    """Custom classes: their folder relative to the converted project, and the mode."""
    calls = {}
    for name, call in (("searcher", plan.searcher), ("scheduler", plan.scheduler)):
        if call.kind == "custom":
            folder = _algorithm_dir(experiment, call.kwargs, code_dir)
            kwargs = dict(call.kwargs, code_directory=folder, mode=plan.mode)
            calls[name] = replace(call, kwargs=kwargs)
    return replace(plan, **calls)  # type: ignore[arg-type]


def _algorithm_files(plan: TunePlan | None) -> set[str]:
    """The custom tuner's and assessor's module files, relative to the copied code directory."""
    calls = (plan.searcher, plan.scheduler) if plan is not None else ()
    return {
        posixpath.normpath(
            posixpath.join(
                call.kwargs["code_directory"],
                call.kwargs["class_name"].rpartition(".")[0].replace(".", "/") + ".py",
            )
        )
        for call in calls
        if call.kind == "custom"
    }


def _keep_algorithm_files(results: list[ConvertResult], plan: TunePlan) -> list[ConvertResult]:
    """A custom class's own module is copied as it is: it imports the stand-in nni."""
    ours = _algorithm_files(plan)
    why = "a custom tuner/assessor class: copied unchanged, it runs with nni_algorithms/nni"
    return [
        Skipped(result.filename, why) if result.filename in ours else result for result in results
    ]


def _trial_reasons(
    experiment: Experiment,
    results: list[ConvertResult],
    launch: TrialLaunch,
    plan: TunePlan | None,
) -> list[Note]:
    """What keeps the converted trial code or its command from running without nni."""
    config = experiment.config_file.name
    found = []
    if levels_up(launch):
        found.append(
            _reason(
                config,
                "trialCommand",
                f"the command works in `{launch.cwd}`, too far "
                "above the trial code directory to copy",
                "set trialCodeDirectory to the folder the command works in",
            )
        )
    if not launch.argv and not launch.shell:
        found.append(
            _reason(
                config,
                "trialCommand",
                f"the trial command cannot be run: {launch.reason}",
                "write the command as `python FILE.py ARGS`",
            )
        )
    # A custom tuner's or assessor's own files import the copied stand-in `nni`.
    algorithm_files = _algorithm_files(plan)
    for result in results:
        kept = [note for note in result.notes if note.field == "import nni"]
        if kept and result.filename not in algorithm_files:
            found.append(
                _reason(
                    result.filename,
                    "import nni",
                    "the converted file still imports nni, "
                    "which a plain Ray Tune project does not have",
                    "rewrite by hand the lines MIGRATION.md lists as left unconverted",
                )
            )
    return found


def _generate(
    conversion: TreeConversion, experiment: Experiment, plan: TunePlan | None, launch: TrialLaunch
) -> None:
    from nni2ray.convert._report import migration_report
    from nni2ray.convert.launcher._adapters import adapter_files
    from nni2ray.convert.launcher._bridge import BRIDGE_FILE, BRIDGE_SOURCE
    from nni2ray.convert.launcher._generate import (
        GRID_MODULE,
        LAUNCHER_NAME,
        SPACE_MODULE,
        launcher_source,
        refined_grid,
    )
    from nni2ray.translate.param_space import nni_grid_source, nni_space_source

    generated = conversion.generated
    if plan is not None:
        command, config = experiment.trial.command, experiment.config_file.name
        generated[LAUNCHER_NAME] = launcher_source(
            plan, launch, command, config, experiment.gpu_indices
        )
        generated[SPACE_MODULE] = nni_space_source()
        if refined_grid(plan):
            generated[GRID_MODULE] = nni_grid_source()
        if launch.shell:
            generated[BRIDGE_FILE] = BRIDGE_SOURCE
        if "custom" in (plan.searcher.kind, plan.scheduler.kind):
            generated.update(adapter_files())
    report = migration_report(
        experiment, plan, conversion.refusal, launch, conversion.results, conversion.reasons
    )
    generated[MIGRATION_NAME] = report + _left_out_section(conversion)
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


def _left_out_section(conversion: TreeConversion) -> str:
    from nni2ray.secrets import mask_text

    lines = ["\n## Entries not copied\n"]
    if not conversion.left_out:
        return "\n".join([*lines, "None: every regular file was copied.\n"])
    lines += [f"* `{name}`: {mask_text(reason)}" for name, reason in conversion.left_out]
    if conversion.links:
        lines.append(f"\n{len(conversion.links)} symlink(s) inside the code directory were kept.")
    return "\n".join(lines) + "\n"


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
    config = conversion.config_file
    if config is not None and (out == config.parent or out in config.parents):
        raise OutputError("the output folder holds the experiment's config file", file=out)
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputError("the output folder already exists", file=out, hint="use --force")
        _check_removable(out)
    staging = out.parent / f".{out.name}.nni2ray-tmp"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        _write_into(conversion, staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _check_removable(out: Path) -> None:
    """``--force`` replaces only an empty folder or one that ``convert`` wrote."""
    if out.is_symlink() or not out.is_dir():
        raise OutputError("the output path exists and is not a folder", file=out)
    entries = list(out.iterdir())
    if entries and not (out / MARKER_NAME).is_file():
        raise OutputError(
            "the output folder was not written by nni2ray convert; --force replaces only those",
            file=out,
            hint="choose another -o folder or delete this one yourself",
        )


def _write_into(conversion: TreeConversion, out: Path) -> None:
    out.mkdir(parents=True)
    (out / MARKER_NAME).write_text(f"Written by nni2ray convert from {conversion.code_dir}\n")
    for result in conversion.results:
        target = out / result.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(result, Converted):
            with target.open("w", encoding="utf-8", newline="") as handle:
                handle.write(result.code)
        else:
            shutil.copy2(conversion.code_dir / result.filename, target, follow_symlinks=False)
    for name, target_text in conversion.links.items():
        link = out / name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target_text, link)
    for name, text in conversion.generated.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")


def convert_tree(
    path: Path,
    out: Path,
    *,
    config_name: str | None = None,
    force: bool = False,
    allow_outside: bool = False,
) -> TreeConversion:
    """Convert an NNI experiment folder into a Ray Tune project in ``out``.

    Raises:
        ConvertError: a trial file does not parse.
        OutputError: ``out`` cannot be used.
    """
    conversion = plan_tree(path, config_name, allow_outside=allow_outside)
    write_tree(conversion, out, force=force)
    return conversion
