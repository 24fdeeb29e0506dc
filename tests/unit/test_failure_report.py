"""The most common failure of a run, with the end of one trial's stderr."""

from __future__ import annotations

from pathlib import Path

from nni2ray.results import TrialRecord, failure_report


def _trial(out: Path, sequence: int, status: str, stderr: str | None) -> TrialRecord:
    trial_id = f"t{sequence}"
    if stderr is not None:
        folder = out / "trials" / trial_id
        folder.mkdir(parents=True)
        (folder / "trial.stderr").write_text(stderr)
    return TrialRecord(trial_id, sequence, {}, status=status, exit_code=1)


def test_most_common_failure_with_its_last_lines(tmp_path: Path) -> None:
    crash = "Traceback (most recent call last):\n" + "  line\n" * 10 + "ValueError: lr={} too big\n"
    records = [
        _trial(tmp_path, 0, "FAILED", "bash: /home/a/python: No such file or directory\n"),
        _trial(tmp_path, 1, "FAILED", crash.format(0.5)),
        _trial(tmp_path, 2, "FAILED", crash.format(0.75)),  # same failure, other number
        _trial(tmp_path, 3, "SUCCEEDED", ""),
    ]
    report = failure_report(records, tmp_path)
    assert report is not None
    assert report.cause == "ValueError: lr=0.5 too big"
    assert (report.count, report.failed, report.total) == (2, 3, 4)
    assert report.stderr == tmp_path / "trials" / "t1" / "trial.stderr"
    assert report.tail == ("  line",) * 5 + ("ValueError: lr=0.5 too big",)
    assert not report.every_trial


def test_no_stderr_falls_back_to_the_exit_code(tmp_path: Path) -> None:
    report = failure_report([_trial(tmp_path, 0, "FAILED", None)], tmp_path)
    assert report is not None and report.every_trial
    assert report.cause == "exit code 1, nothing on stderr" and report.tail == ()


def test_nothing_failed(tmp_path: Path) -> None:
    assert failure_report([_trial(tmp_path, 0, "SUCCEEDED", "")], tmp_path) is None
