"""Reading NNI's ``trialCommand``: leading ``VAR=value`` words, then a Python call.

The run side (warm starts) and convert (the launcher's in-process trial) both read the
command here; each then applies its own conditions (the same interpreter, a script that
exists, a shell wrapper it can follow).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

#: ``python``, ``python3``, ``python3.11`` or any of them with a directory in front.
PYTHON_PROGRAM = re.compile(r"^(.*/)?python(\d+(\.\d+)?)?$")

#: A leading ``NAME=value`` word: an environment variable set for the command.
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class PythonCall:
    """``python [-u ...] script.py args`` or ``python [-u ...] -m module args``.

    Attributes:
        program: the interpreter word as written (``python3``, ``/usr/bin/python``).
        script: the script path as written, or None for ``-m``.
        module: the module name after ``-m``, or None for a script.
        args: the arguments after the script or module.
        unbuffered: a ``-u`` came before the script or ``-m``.
    """

    program: str
    script: str | None
    module: str | None
    args: tuple[str, ...] = ()
    unbuffered: bool = False

    @property
    def target(self) -> tuple[str, ...]:
        """``(script, *args)`` or ``("-m", module, *args)``: the command after the flags."""
        head = (self.script,) if self.script is not None else ("-m", str(self.module))
        return (*head, *self.args)


def split_command(command: str) -> tuple[dict[str, str], list[str]]:
    """The command's leading ``VAR=value`` assignments and the words after them.

    Raises:
        ValueError: the command does not parse as shell words (an unclosed quote).
    """
    return split_assignments(shlex.split(command))


def split_assignments(words: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Leading ``VAR=value`` words as a dict (in order), and the words after them."""
    env: dict[str, str] = {}
    index = 0
    while index < len(words) and _ASSIGNMENT.match(words[index]):
        name, _, value = words[index].partition("=")
        env[name] = value
        index += 1
    return env, list(words[index:])


def python_call(words: Sequence[str]) -> PythonCall | None:
    """Read ``words`` (after any assignments) as a Python call, or None when they are not one."""
    if not words or not PYTHON_PROGRAM.match(words[0]):
        return None
    rest = list(words[1:])
    unbuffered = False
    while rest and rest[0] == "-u":
        unbuffered = True
        rest.pop(0)
    if len(rest) >= 2 and rest[0] == "-m":
        return PythonCall(words[0], None, rest[1], tuple(rest[2:]), unbuffered)
    if rest and rest[0].endswith(".py"):
        return PythonCall(words[0], rest[0], None, tuple(rest[1:]), unbuffered)
    return None
