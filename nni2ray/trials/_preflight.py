"""Pre-flight: what in a trial command would make trials fail on this machine, found before
anything starts (an interpreter or script that is not here, unset variables, a missing
environment to activate, an optional back-end that is not installed).

``nni2ray check`` shows every finding as a warning; ``nni2ray run`` stops on the fatal ones
(those that make every trial fail).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

#: ``python``, ``python3``, ``python3.8``, ``python.exe``, ``pythonw.exe`` ...
_PYTHON = re.compile(r"^python(?:w)?(?:\d+(?:\.\d+)?)?(?:\.exe)?$", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")
#: Variables every trial has (set by nni2ray or by the shell itself).
_TRIAL_VARIABLES = frozenset(
    {"HOME", "PATH", "PWD", "PYTHONPATH", "CUDA_VISIBLE_DEVICES", "RANDOM", "USER", "SHELL"}
)
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "\n"})
#: Python options that take a value (``-W ignore``); the script comes after them.
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs"})

FOREIGN_INTERPRETER_FIX = "replace it with python3, or pass --python PATH"


@dataclass(frozen=True)
class Finding:
    """One problem of the trial command: ``fatal`` when every trial would fail."""

    message: str
    hint: str
    fatal: bool
    field: str = "trialCommand"


def preflight(
    command: str,
    code_dir: Path,
    *,
    python: str | None = None,
    searcher_kind: str | None = None,
    tuner_name: str | None = None,
) -> list[Finding]:
    """Check a trial command (and the plan's optional back-ends) against this machine.

    Args:
        command: the trialCommand, as bash will run it in ``code_dir``.
        python: the ``--python`` interpreter (python names and another machine's
            interpreter run with it).
        searcher_kind, tuner_name: the plan's searcher, to check its optional back-end.
    """
    findings = _backend(searcher_kind, tuner_name)
    if python is None:
        findings += [
            Finding(
                f"the interpreter {path} does not exist on this machine (the config was "
                "written on another one)",
                FOREIGN_INTERPRETER_FIX,
                fatal=True,
            )
            for path in _foreign_pythons(command)
        ]
    assigned: set[str] = set()
    moved = False  # after a `cd`, relative script paths are not checked
    for words in _simple_commands(with_python(command)):
        while words and _ASSIGNMENT.match(words[0]):
            assigned.add(words.pop(0).partition("=")[0])
        if not words:
            continue
        program = words[0]
        if program == "export":
            assigned.update(w.partition("=")[0] for w in words[1:])
        elif program == "cd":
            moved = True
        elif program in ("source", ".") and len(words) > 1:
            findings += _sourced(words[1], code_dir, moved)
        elif program == "conda" and words[1:2] == ["activate"]:
            findings += _conda(words[2] if len(words) > 2 else "base")
        else:
            findings += _program(words, code_dir, moved, python)
    findings += _unset_variables(command, assigned)
    return findings


def with_python(command: str) -> str:
    """``command`` with another machine's Python interpreter (an absolute path that does
    not exist here) replaced by ``python3``, which ``--python`` then points at."""
    out = []
    for token in _raw_tokens(command):
        bare = token.strip("\"'")
        if _is_foreign_python(bare):
            token = "python3"
        out.append(token)
    return "".join(out)


def _foreign_pythons(command: str) -> list[str]:
    tokens = (token.strip("\"'") for token in _raw_tokens(command))
    return list(dict.fromkeys(token for token in tokens if _is_foreign_python(token)))


def _backend(searcher_kind: str | None, tuner_name: str | None) -> list[Finding]:
    if searcher_kind != "hyperopt" or importlib.util.find_spec("hyperopt") is not None:
        return []
    return [
        Finding(
            f"the {tuner_name or 'configured'} tuner runs on hyperopt, which is not installed",
            "pip install 'nni2ray[hyperopt]'",
            fatal=True,
            field="tuner.name",
        )
    ]


def _simple_commands(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: bash reports it in every trial's stderr
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _SEPARATORS or set(token) <= set(";&|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def _raw_tokens(command: str) -> list[str]:
    """Whitespace and words, quotes and backslashes kept (Windows paths survive)."""
    return re.findall(r"\s+|\"[^\"]*\"|'[^']*'|[^\s\"']+", command)


def _is_windows_path(word: str) -> bool:
    return bool(_WINDOWS_PATH.search(word))


def _is_foreign_python(word: str) -> bool:
    name = re.split(r"[\\/]", word)[-1]
    if not _PYTHON.match(name):
        return False
    return _is_windows_path(word) or (word.startswith("/") and not Path(word).exists())


def _program(words: list[str], code_dir: Path, moved: bool, python: str | None) -> list[Finding]:
    program = words[0]
    name = os.path.basename(program)
    if _PYTHON.match(name) and "/" not in program:
        found = [] if python is not None else _missing_python(name)
        return found + _script(words[1:], code_dir, moved, python=True)
    if "/" in program and not _exists(program, code_dir, moved):
        return [
            Finding(
                f"runs {program}, which does not exist on this machine",
                "fix the path in trialCommand",
                fatal=True,
            )
        ]
    if name in ("bash", "sh", "zsh") and len(words) > 1 and not words[1].startswith("-"):
        return _script(words[1:], code_dir, moved, python=False)
    return []


def _missing_python(name: str) -> list[Finding]:
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    if shutil.which(name, path=path) is not None:
        return []
    return [
        Finding(
            f"runs {name}, which is not installed on this machine",
            FOREIGN_INTERPRETER_FIX,
            fatal=True,
        )
    ]


def _script(args: list[str], code_dir: Path, moved: bool, *, python: bool) -> list[Finding]:
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if python and option in ("-m", "-c"):
            return []  # a module or inline code: nothing to look for
        if python and option in _PYTHON_VALUE_OPTIONS and args:
            args.pop(0)
    if not args or "$" in args[0]:
        return []
    script = args[0]
    if _exists(script, code_dir, moved):
        return []
    where = (
        "on this machine"
        if Path(script).is_absolute()
        else f"in the code directory {_shown(code_dir)}"
    )
    return [
        Finding(
            f"runs {script}, which is not {where}",
            "fix the path in trialCommand, or set trialCodeDirectory to the folder that holds it",
            fatal=True,
        )
    ]


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def python_names(command: str) -> set[str]:
    """The bare Python names (``python``, ``python3.8``) a command runs, plus ``python``
    and ``python3``: the names ``--python`` answers for."""
    words = {token.strip("\"'") for token in _raw_tokens(command)}
    return {"python", "python3"} | {w for w in words if _PYTHON.match(w)}


def _exists(path: str, code_dir: Path, moved: bool) -> bool:
    if "$" in path or path.startswith("~"):
        return True  # variables are checked on their own; ~ is the user's
    target = Path(path)
    if not target.is_absolute():
        if moved:
            return True
        target = code_dir / target
    return target.exists()


def _sourced(path: str, code_dir: Path, moved: bool) -> list[Finding]:
    if path in ("activate", "deactivate") or _exists(path, code_dir, moved):
        return []  # `source activate ENV` is old conda: activate is on PATH
    return [
        Finding(
            f"sources {path}, which does not exist on this machine",
            "remove the activation from trialCommand (trials run with the Python that runs "
            "nni2ray), or pass --python PATH",
            fatal=True,
        )
    ]


def _conda(env: str) -> list[Finding]:
    conda = shutil.which("conda")
    if conda is None:
        message = f"activates the conda environment {env}, but conda is not installed here"
    elif env == "base" or _conda_env_exists(Path(conda), env):
        return []
    else:
        message = f"activates the conda environment {env}, which does not exist here"
    return [
        Finding(
            message,
            "remove `conda activate` from trialCommand (trials run with the Python that runs "
            "nni2ray), or pass --python PATH",
            fatal=True,
        )
    ]


def _conda_env_exists(conda: Path, env: str) -> bool:
    if "/" in env:
        return Path(env).expanduser().is_dir()
    roots = [conda.resolve().parent.parent, Path.home() / ".conda"]
    return any((root / "envs" / env).is_dir() for root in roots)


def _unset_variables(command: str, assigned: set[str]) -> list[Finding]:
    unquoted = re.sub(r"'[^']*'", "", command)  # single quotes do not expand
    found: list[Finding] = []
    for match in _VARIABLE.finditer(unquoted):
        name = match.group(1) or match.group(2)
        if (
            name in os.environ
            or name in assigned
            or name in _TRIAL_VARIABLES
            or name.startswith("NNI_")
            or any(f.message.startswith(f"${{{name}}}") for f in found)
        ):
            continue
        has_default = match.group(0).startswith("${") and re.match(r"\$\{\w+:?[-=]", match[0])
        if has_default:
            continue
        found.append(
            Finding(
                f"${{{name}}} is not set in this environment (bash makes it empty)",
                f"export {name}=... before running nni2ray, or write the value into trialCommand",
                fatal=False,
            )
        )
    return found
