"""Turn NNI's trialCommand into what the launcher runs in-process: a script, its argv and env."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_PYTHON = re.compile(r"^(.*/)?python(\d+(\.\d+)?)?$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class TrialLaunch:
    """How ``tune_experiment.py`` starts the trial.

    Attributes:
        argv: ``sys.argv`` for the script (``argv[0]`` is the script path relative to the code
            directory, or ``-m module``); empty when the command cannot be run in-process.
        env: environment variables the command sets before Python starts.
        exact: True for a plain ``python file.py args`` command.
        reason: how the command was approximated, or why it was refused.
    """

    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    shell: str = ""
    exact: bool = True
    reason: str = ""


def parse_trial_command(command: str, code_dir: Path) -> TrialLaunch:
    """Read ``python[3] file.py args`` (optionally after ``VAR=value``) or a shell wrapper."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return TrialLaunch(exact=False, reason=f"the command does not parse as shell words ({exc})")
    env: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    launch = _python(words)
    if launch is not None:
        return TrialLaunch(launch, env)
    if words and (words[0] in {"bash", "sh"} or words[0].endswith(".sh")):
        script = words[1] if words[0] in {"bash", "sh"} and len(words) > 1 else words[0]
        return _shell_wrapper(
            code_dir / script, script, words[2 if script != words[0] else 1 :], env
        )
    return TrialLaunch(
        exact=False,
        reason="only `python file.py ...`, `python -m module ...` and shell "
        "wrappers that exec one such command can run as Tune function trials",
    )


def _python(words: list[str]) -> tuple[str, ...] | None:
    if len(words) < 2 or not _PYTHON.match(words[0]):
        return None
    if words[1] == "-m" and len(words) > 2:
        return tuple(words[1:])
    if words[1].endswith(".py"):
        return tuple(words[1:])
    return None


def _shell_wrapper(path: Path, name: str, args: list[str], env: dict[str, str]) -> TrialLaunch:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return TrialLaunch(exact=False, reason=f"the shell script {name} cannot be read")
    env, found, skipped = dict(env), [], []
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#") or line.startswith("set "):
            continue
        words = shlex.split(line, comments=True)
        if words and words[0] == "export" and len(words) == 2 and "=" in words[1]:
            key, value = words[1].split("=", 1)
            env[key] = value
            continue
        words = words[1:] if words and words[0] == "exec" else words
        words = [arg for word in words for arg in (args if word == "$@" else [word])]
        launch = _python(words)
        if launch is None or any("$" in word for word in launch):
            skipped.append(line)
        else:
            found.append(launch)
    if len(found) != 1 or skipped:
        reason = f"{name} must hold exactly one `python file.py` line besides exports"
        if skipped:
            reason += f" (cannot follow: {'; '.join(skipped)})"
        return TrialLaunch(exact=False, reason=reason)
    reason = (
        f"the shell wrapper {name} is not run: its exports ({', '.join(env) or 'none'}) are set "
        f"and its Python command `{shlex.join(found[0])}` runs in-process"
    )
    return TrialLaunch(found[0], env, exact=False, reason=reason)
