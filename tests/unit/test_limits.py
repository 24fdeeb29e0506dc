"""The one depth limit and its walker, shared by config reading and NNI history import."""

from __future__ import annotations

from typing import Any

import pytest

from nni2ray.limits import MAX_DEPTH, TOO_DEEP, check_size


def _nested(levels: int) -> Any:
    data: Any = 0
    for i in range(levels - 1):
        data = [data] if i % 2 else {"k": data}
    return data


def test_max_depth_is_allowed_one_more_is_refused() -> None:
    check_size(_nested(MAX_DEPTH))
    with pytest.raises(ValueError, match=TOO_DEEP):
        check_size(_nested(MAX_DEPTH + 1))


def test_value_count_limit_counts_every_use_of_a_shared_value() -> None:
    shared = list(range(10))
    data = [shared] * 10  # one list used ten times, as a YAML alias would be
    check_size(data, max_values=111)
    with pytest.raises(ValueError, match="more than 110 values"):
        check_size(data, max_values=110)
    check_size(data)  # no value limit unless asked
