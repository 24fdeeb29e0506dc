"""Ray tier: one real Ray session per test module, tiny budgets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nni2ray.experiment import load_experiment
from nni2ray.runtime import RunOptions, RunSummary, run_experiment
from nni2ray.translate import translate

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "experiments"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def run_folder(
    path: Path | str, output: Path, *, config: str | None = None, **overrides: object
) -> RunSummary:
    """Load, translate and run an experiment folder quietly; return the summary."""
    experiment = load_experiment(path, config_name=config)
    plan = translate(experiment, **overrides)  # type: ignore[arg-type]
    return run_experiment(experiment, plan, RunOptions(output=output, quiet=True))


def live_processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found
