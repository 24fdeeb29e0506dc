"""What every assessor builder returns."""

from __future__ import annotations

from collections.abc import Callable

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.notes import Note
from nni2ray.translate.plan import SchedulerCall

#: A registry entry: the assessor's spec and its experiment -> the scheduler and its notes.
AssessorBuilder = Callable[[AlgorithmSpec, Experiment], tuple[SchedulerCall, tuple[Note, ...]]]
