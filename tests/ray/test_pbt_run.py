"""PBT end to end (real Ray, real trial processes): two generations of the pbt_checkpoint
fixture, whose trial loads its model from load_checkpoint_dir and saves it to
save_checkpoint_dir. Under nni2ray's PBT searcher and under NNI 3.0's own PBTTuner."""

from __future__ import annotations

import importlib.machinery
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ray.conftest import FIXTURES, run_folder

WIDTHS = [8, 16, 32, 64]


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def _check_two_generations(records: list[Any], root: Path) -> None:
    assert [r.status for r in records] == ["SUCCEEDED"] * 6
    by_generation: dict[str, list[Any]] = {"0": [], "1": []}
    for record in records:
        save = Path(record.parameters["save_checkpoint_dir"])
        assert save.parent.parent == root
        by_generation[save.name].append(record)
    first, second = by_generation["0"], by_generation["1"]
    assert len(first) == len(second) == 3
    # The generation barrier: no trial of generation 1 starts before generation 0 has ended.
    assert min(r.final["start"] for r in second) >= max(r.final["end"] for r in first)
    for record in first:  # generation 0: random, a fresh folder, nothing to load
        params = record.parameters
        assert params["load_checkpoint_dir"] == params["save_checkpoint_dir"]
        assert record.final["loaded"] is None
    ranked = sorted(first, key=lambda r: r.final_scalar, reverse=True)
    top, bottom = ranked[0].parameters, ranked[-1].parameters
    member = {Path(r.parameters["save_checkpoint_dir"]).parent.name: r for r in second}
    for old in ranked:
        index = Path(old.parameters["save_checkpoint_dir"]).parent.name
        new = member[index]
        params = new.parameters
        if old.parameters is bottom:  # exploit: the top trial's checkpoint, perturbed
            assert params["load_checkpoint_dir"] == top["save_checkpoint_dir"]
            assert new.final["loaded"] == str(Path(top["save_checkpoint_dir"], "model.json"))
            assert any(
                _close(params["lr"], v) for v in (min(top["lr"] + 0.2, 1), max(top["lr"] - 0.2, 0))
            ), (params["lr"], top["lr"])
            at = WIDTHS.index(top["width"])
            assert params["width"] in (WIDTHS[min(at + 1, 3)], WIDTHS[max(at - 1, 0)])
            gained = params["lr"] * params["width"] / 64
            assert _close(new.final_scalar, ranked[0].final_scalar + gained)
        else:  # the others continue from their own checkpoint, unchanged
            assert params["load_checkpoint_dir"] == old.parameters["save_checkpoint_dir"]
            assert (params["lr"], params["width"]) == (
                old.parameters["lr"],
                old.parameters["width"],
            )
            assert _close(new.final_scalar, 2 * old.final_scalar)


def test_native_pbt_exploits_the_top_checkpoint_and_perturbs(
    tmp_path: Path, ray_session: None
) -> None:
    out = tmp_path / "out"
    summary = run_folder(FIXTURES / "pbt_checkpoint", out, algorithm_backend="native")
    _check_two_generations(summary.records, out / "checkpoint")


@pytest.mark.skipif(
    importlib.machinery.PathFinder.find_spec("nni") is None,
    reason="nni is not installed (pip install 'nni2ray[nni]')",
)
def test_nni_pbt_tuner_runs_the_same_fixture(tmp_path: Path, ray_session: None) -> None:
    folder = tmp_path / "exp"
    shutil.copytree(FIXTURES / "pbt_checkpoint", folder)
    config = yaml.safe_load((folder / "config.yml").read_text())
    del config["tuner"]["classArgs"]["seed"]  # NNI's PBTTuner takes no seed
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    summary = run_folder(folder, out, algorithm_backend="nni")
    _check_two_generations(summary.records, out / "checkpoint")


def test_a_resumed_pbt_run_goes_on_with_the_next_generation(
    tmp_path: Path, ray_session: None
) -> None:
    from nni2ray.cli import main
    from nni2ray.results import load_prior

    out = tmp_path / "out"
    args = ["run", str(FIXTURES / "pbt_checkpoint"), "--output", str(out), "--quiet"]
    assert main([*args, "--algorithm-backend", "native", "--max-trials", "3"]) == 0
    assert main([*args, "--algorithm-backend", "native", "--resume"]) == 0
    records = load_prior(out).records
    assert sorted(r.sequence for r in records) == [0, 1, 2, 3, 4, 5]
    _check_two_generations(sorted(records, key=lambda r: r.sequence), out / "checkpoint")
