"""Read NNI's own experiment history (``db/nni.sqlite``) without NNI: ``nni2ray import``,
and the trials ``nni2ray run --from-nni`` starts from. Pure Python, stdlib ``sqlite3``."""

from __future__ import annotations

from nni2ray.errors import HistoryError
from nni2ray.nni_import._database import load_history
from nni2ray.nni_import._model import NniHistory, NniTrial
from nni2ray.nni_import._write import to_record, write_import

__all__ = ["HistoryError", "NniHistory", "NniTrial", "load_history", "to_record", "write_import"]
