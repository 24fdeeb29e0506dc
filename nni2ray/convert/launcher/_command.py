"""Turn NNI's trialCommand into what the launcher runs: an in-process script, or a shell command.

NNI runs ``trialCommand`` in a shell in the trial code directory. The launcher runs the Python
part in-process (``runpy``) when the command is one Python line, possibly after ``cd DIR``,
``export``, ``VAR=value`` prefixes, environment activation lines or a wrapper script holding
such lines. Variables (``${DATA_DIR}``) stay in the words and are expanded by the launcher
when the trial starts (``os.path.expandvars``), as the shell would. Every other command runs
as a subprocess trial (``bash -c COMMAND``) whose reports reach Tune through a small bridge.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from itertools import dropwhile
from pathlib import Path

_PYTHON = re.compile(r"^(.*/)?python(\d+(\.\d+)?)?$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Interpreter flags the in-process run reproduces (-u: unbuffered output, -W: warning filters;
# -B, -s, -E, -q change nothing a trial sees). Any other flag (-O, -X, -I, ...) runs the
# trial in a subprocess, where the interpreter honours it.
_IN_PROCESS_FLAGS = {"-u", "-B", "-s", "-E", "-q"}
_ACTIVATE = {"source", ".", "activate", "deactivate", "module", "workon"}
_SHELLS = {"bash", "sh", "zsh"}
_SHELL_META = set(";&|<>()`")


@dataclass(frozen=True)
class TrialLaunch:
    """How ``tune_experiment.py`` starts the trial.

    Attributes:
        argv: ``sys.argv`` for the script (``argv[0]`` is the script path relative to ``cwd``,
            or ``-m module``); words may hold ``$VAR``, expanded when the trial starts.
            Empty when the command runs in a shell (``shell``) or cannot run at all.
        env: variables the command exports before Python starts (in order; values may hold
            ``$VAR``).
        prefix_env: ``VAR=value`` words in front of the Python command (set after the
            command's words are expanded, as the shell does).
        cwd: the working directory relative to the trial code directory (``cd DIR``); it
            starts with ``..`` when the command leaves the code directory (see
            :func:`levels_up`).
        flags: interpreter flags reproduced in-process (``-u``, ``-W ARG``).
        shell: the command to run with ``bash -c`` as a subprocess trial, when it is not one
            Python line the launcher can run in-process.
        exact: True when the launcher does what NNI's shell does.
        reason: how the command was approximated, or why it runs in a shell.
    """

    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    shell: str = ""
    prefix_env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""
    flags: tuple[str, ...] = ()
    exact: bool = True
    reason: str = ""


class _Shell(Exception):
    """The command needs a real shell; the message says why."""


@dataclass
class _State:
    code_dir: Path
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    via: str = ""


def parse_trial_command(command: str, code_dir: Path) -> TrialLaunch:
    """Read the trial command; see the module docstring for the forms run in-process."""
    state = _State(code_dir)
    try:
        found = _lines([command], state, args=None)
    except _Shell as why:
        return _shell(command, str(why))
    prefix, flags, argv = found
    notes = []
    if state.via:
        notes.append(f"the wrapper {state.via} is not run; its lines are followed in-process")
    if state.ignored:
        notes.append(
            f"{'; '.join(state.ignored)}: skipped, the launcher runs in the current environment"
        )
    return TrialLaunch(
        argv=argv,
        env=state.env,
        prefix_env=prefix,
        cwd=state.cwd,
        flags=flags,
        exact=not notes,
        reason="; ".join(notes),
    )


def _shell(command: str, why: str) -> TrialLaunch:
    return TrialLaunch(
        shell=command,
        exact=False,
        reason=f"runs as a subprocess trial (`bash -c`): {why}; its reports reach Tune through "
        "`tune_trial_bridge`",
    )


Found = tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]


def _lines(lines: list[str], state: _State, args: list[str] | None) -> Found:
    """Follow shell lines; return the one Python command (prefix env, flags, argv)."""
    found: Found | None = None
    for line in lines:
        for segment in _segments(line):
            if args is not None:
                segment = _substitute(segment, args)
            if found is not None:
                raise _Shell(f"`{shlex.join(segment)}` runs after the Python command")
            found = _segment(segment, state)
    if found is None:
        raise _Shell("no Python command was found")
    return found


def _segments(line: str) -> list[list[str]]:
    """Split a line at ``&&`` and ``;``; anything else a shell would interpret is refused."""
    if "$(" in line or "`" in line:
        raise _Shell("command substitution needs a shell")
    if "'" in line and "$" in line:
        raise _Shell("single-quoted `$` needs a shell")
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise _Shell(f"the command does not parse as shell words ({exc})") from exc
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in {"&&", ";"}:
            segments.append([])
        elif set(token) <= _SHELL_META:
            raise _Shell(f"`{token}` needs a shell")
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def _substitute(words: list[str], args: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        if word in {"$@", "${@}", "$*"}:
            out += args
            continue
        match = re.fullmatch(r"\$\{?(\d)\}?", word)
        if match:
            index = int(match.group(1)) - 1
            out.append(args[index] if 0 <= index < len(args) else "")
        else:
            out.append(word)
    return out


def _segment(words: list[str], state: _State) -> Found | None:
    head = words[0]
    if head in {"set", "echo", "true", ":", "shopt", "umask"}:
        return None
    if head == "cd" and len(words) <= 2:
        target = words[1] if len(words) == 2 else "~"
        if "$" in target or target.startswith(("~", "/")):
            raise _Shell(f"`cd {target}` leaves the copied code directory")
        state.cwd = posixpath.normpath(posixpath.join(state.cwd or ".", target))
        state.cwd = "" if state.cwd == "." else state.cwd
        return None
    if head == "export":
        for word in words[1:]:
            if not _ASSIGNMENT.match(word):
                raise _Shell(f"`export {word}` exports no value")
            name, value = word.split("=", 1)
            state.env[name] = value
        return None
    if all(_ASSIGNMENT.match(word) for word in words):  # plain assignments: shell variables
        for word in words:
            name, value = word.split("=", 1)
            state.env[name] = value
        return None
    if head in _ACTIVATE or (head == "conda" and words[1:2] in (["activate"], ["deactivate"])):
        state.ignored.append(f"`{shlex.join(words)}`")
        return None
    words = words[1:] if head == "exec" else words
    prefix: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, value = words.pop(0).split("=", 1)
        prefix[name] = value
    if not words:
        raise _Shell("an empty command")
    if _PYTHON.match(words[0]):
        flags, argv = _python(words[1:])
        return prefix, flags, argv
    script = words[1] if words[0] in _SHELLS and len(words) > 1 else words[0]
    if script.endswith(".sh") or words[0] in _SHELLS:
        if prefix or state.via:
            raise _Shell(f"`{shlex.join(words)}` starts a nested wrapper")
        path = state.code_dir / state.cwd / script
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _Shell(f"the shell script {script} cannot be read") from exc
        rest = words[2:] if words[0] in _SHELLS else words[1:]
        state.via = script
        return _lines(_joined(text), state, args=rest)
    raise _Shell(f"`{words[0]}` is not a Python interpreter")


def _joined(text: str) -> list[str]:
    """The script's logical lines (backslash continuations joined)."""
    return text.replace("\\\n", " ").splitlines()


def _python(words: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    flags: list[str] = []
    while words and words[0].startswith("-") and words[0] != "-m":
        flag = words.pop(0)
        if flag == "-W" and words:
            flags += [flag, words.pop(0)]
        elif flag.startswith("-W"):
            flags += ["-W", flag[2:]]
        elif flag in _IN_PROCESS_FLAGS:
            flags.append(flag)
        else:
            raise _Shell(f"the interpreter flag {flag} changes how Python runs the script")
    if len(words) >= 2 and words[0] == "-m":
        return tuple(flags), tuple(words)
    if words and words[0].endswith(".py"):
        return tuple(flags), tuple(words)
    raise _Shell("the Python command runs no script file or module")


def levels_up(launch: TrialLaunch) -> int:
    """How many folders above the code directory the command ``cd``s (0: it stays inside)."""
    parts = launch.cwd.split("/") if launch.cwd else []
    return len(parts) - len(list(dropwhile(lambda part: part == "..", parts)))
