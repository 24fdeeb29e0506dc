"""The names one trial's results are written in: statuses, metric types and result keys.

A trial yields one result row per message to Tune (see :class:`~nni2ray.trials.TrialRun`).
The wire-format names ``PERIODICAL`` and ``FINAL`` are defined by the stand-in ``nni``
package's ``_wire`` module (standard library only, so it cannot import this one); the
members below take their values from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from nni2ray.trials._shim.nni import _wire


class TrialStatus(StrEnum):
    """A trial's status, spelled as NNI spells it (``nnictl``, its database, exports)."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    EARLY_STOPPED = "EARLY_STOPPED"
    USER_CANCELED = "USER_CANCELED"
    SYS_CANCELED = "SYS_CANCELED"
    UNKNOWN = "UNKNOWN"


class MetricType(StrEnum):
    """The ``nni_type`` of a result row: NNI's two metric types plus nni2ray's own two.

    ``END`` closes a trial that sent no final result; ``HEARTBEAT`` is a row with no metric,
    sent while a trial is silent so that Tune can deliver a stop.
    """

    PERIODICAL = _wire.PERIODICAL
    FINAL = _wire.FINAL
    END = "END"
    HEARTBEAT = "HEARTBEAT"


class ResultKey:
    """Keys of the result rows a trial yields to Tune (plain strings)."""

    #: The tuned number (the metric, or its ``default``), when the metric has one.
    METRIC: Final = _wire.DEFAULT_KEY
    #: A :class:`MetricType`.
    TYPE: Final = "nni_type"
    #: The message's sequence number, as the trial sent it.
    SEQUENCE: Final = "nni_sequence"
    #: Intermediate results so far: the schedulers' time axis.
    STEP: Final = "nni_step"
    #: The metric exactly as reported.
    VALUE: Final = "nni_value"
    #: The metric as JSON text (Tune flattens dict values in what searchers see).
    VALUE_JSON: Final = "nni_value_json"
    #: Tune's own "this is the last result" flag.
    DONE: Final = "done"
    #: On the last row: the :class:`TrialStatus`, the exit code, why it ended, wire errors.
    STATUS: Final = "nni_status"
    EXIT_CODE: Final = "nni_exit_code"
    END_REASON: Final = "nni_end_reason"
    PROTOCOL_ERRORS: Final = "nni_protocol_errors"
    #: On the last row: final results reported after the first one (NNI keeps the first).
    IGNORED_FINALS: Final = "nni_ignored_finals"


#: Statuses of a trial that ended on its own account (a resume keeps these).
FINISHED: Final = frozenset({TrialStatus.SUCCEEDED, TrialStatus.FAILED, TrialStatus.EARLY_STOPPED})
#: Statuses after which NNI records an end time.
TERMINAL: Final = FINISHED | {TrialStatus.USER_CANCELED, TrialStatus.SYS_CANCELED}
