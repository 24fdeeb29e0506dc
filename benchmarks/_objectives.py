"""Cheap objectives for the search-quality benchmark (numpy and scikit-learn only).

Each takes the NNI parameters a trial would receive and returns a loss to minimise; ``OPTIMUM``
is the known minimum, so regret = best loss so far - optimum. Shared by the nni2ray side and
the ``--nni-python`` side (NNI's own tuners), so both see the same numbers.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

BRANIN_SPACE = {
    "x1": {"_type": "uniform", "_value": [-5, 10]},
    "x2": {"_type": "uniform", "_value": [0, 15]},
}
HARTMANN_SPACE = {f"x{i}": {"_type": "uniform", "_value": [0, 1]} for i in range(6)}
MIXED_SPACE = {
    "kind": {"_type": "choice", "_value": ["a", "b", "c"]},
    "n": {"_type": "randint", "_value": [0, 10]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "w": {"_type": "quniform", "_value": [0, 1, 0.05]},
    "opt": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "m": {"_type": "uniform", "_value": [0, 1]}},
            {"_name": "adam", "b": {"_type": "quniform", "_value": [0.5, 1.0, 0.05]}},
        ],
    },
}
SVC_SPACE = {
    "C": {"_type": "choice", "_value": [0.01, 0.1, 1, 10, 100, 1000]},
    "gamma": {"_type": "choice", "_value": [1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]},
    "kernel": {"_type": "choice", "_value": ["rbf", "sigmoid"]},
}

_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
      [17, 8, 0.05, 10, 0.1, 14]]  # fmt: skip
_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
      [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
      [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
      [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]  # fmt: skip
_ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(p: dict[str, Any]) -> float:
    x1, x2 = float(p["x1"]), float(p["x2"])
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def hartmann6(p: dict[str, Any]) -> float:
    x = [float(p[f"x{i}"]) for i in range(6)]
    total = 0.0
    for alpha, a, pp in zip(_ALPHA, _A, _P, strict=True):
        total += alpha * math.exp(-sum(a[j] * (x[j] - pp[j]) ** 2 for j in range(6)))
    return -total


def mixed(p: dict[str, Any]) -> float:
    """Optimum 0 at kind=b, n=7, lr=1e-3, w=0.35, opt=adam with b=0.9."""
    loss = {"a": 0.5, "b": 0.0, "c": 1.0}[p["kind"]]
    loss += abs(int(p["n"]) - 7) / 5
    loss += (math.log10(float(p["lr"])) + 3) ** 2 / 4
    loss += abs(float(p["w"]) - 0.35) * 2
    opt = p["opt"]
    if opt["_name"] == "sgd":
        loss += 0.3 + (float(opt["m"]) - 0.9) ** 2
    else:
        loss += abs(float(opt["b"]) - 0.9) * 2
    return loss


_CACHE = Path(os.environ.get("SEARCH_QUALITY_CACHE", Path(__file__).with_name(".svc_cache.json")))
_svc_results: dict[str, float] | None = None


def _svc_table() -> dict[str, float]:
    """1 - 3-fold CV accuracy of SVC on digits for every configuration, computed once."""
    global _svc_results
    if _svc_results is None:
        if _CACHE.exists():
            _svc_results = json.loads(_CACHE.read_text())
        else:
            from sklearn.datasets import load_digits
            from sklearn.model_selection import cross_val_score
            from sklearn.svm import SVC

            x, y = load_digits(return_X_y=True)
            x = x / 16.0
            table = {}
            for c in SVC_SPACE["C"]["_value"]:
                for g in SVC_SPACE["gamma"]["_value"]:
                    for k in SVC_SPACE["kernel"]["_value"]:
                        score = cross_val_score(SVC(C=c, gamma=g, kernel=k), x, y, cv=3).mean()
                        table[_svc_key({"C": c, "gamma": g, "kernel": k})] = 1.0 - float(score)
            _CACHE.write_text(json.dumps(table))
            _svc_results = table
    return _svc_results


def _svc_key(p: dict[str, Any]) -> str:
    return f"{float(p['C'])!r}|{float(p['gamma'])!r}|{p['kernel']}"


def svc(p: dict[str, Any]) -> float:
    return _svc_table()[_svc_key(p)]


def svc_optimum() -> float:
    return min(_svc_table().values())


#: name -> (NNI search space, loss function, optimum or a function giving it).
OBJECTIVES: dict[str, tuple[dict[str, Any], Any, Any]] = {
    "branin": (BRANIN_SPACE, branin, 0.397887357729739),
    "hartmann6": (HARTMANN_SPACE, hartmann6, -3.322368011391339),
    "mixed": (MIXED_SPACE, mixed, 0.0),
    "svc": (SVC_SPACE, svc, svc_optimum),
}


def optimum(name: str) -> float:
    value = OBJECTIVES[name][2]
    return float(value() if callable(value) else value)
