"""Pick up a stopped run from its own per-trial records, and end what it left running.

A resume starts a new Tune run in the same output folder. Tune's own restore is not used:
its experiment snapshot lags behind (taken every 10 s or more, so trials that finished after
the last snapshot would run again), while ``trials/<id>/trial.json`` is written the
moment each trial ends. Those files are the truth a resume starts from.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.errors import OutputError
from nni2ray.results._disk import DISK_FULL_REASON
from nni2ray.results._folder import inside_output
from nni2ray.results._records import TrialRecord
from nni2ray.trials import FINISHED, PARAMETER_FILE, read_parameter_file

#: End reasons that belong to the run stopping, not to the trial: such trials are run again.
RUN_STOPPED = frozenset({"interrupted", "maxExperimentDuration", DISK_FULL_REASON})

#: Where the folders of trials that will be run again are moved, out of ``trials/``.
ABANDONED = "abandoned"

#: Trial and experiment ids become folder names: the one rule for every id read back from
#: disk (trial.json, experiment.json, NNI's database); use :func:`is_safe_id`.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def is_safe_id(value: object) -> bool:
    """True for an id that can be a folder name: no separator, no ``..``, no control
    character, at most 128 characters, starting with a letter or digit."""
    return isinstance(value, str) and SAFE_ID.fullmatch(value) is not None


@dataclass
class Prior:
    """What earlier runs (or NNI) left: the finished trials and where numbering goes on.

    Attributes:
        records: finished trials, kept as they are and counted toward maxTrialNumber.
        replay: parameters of the trials that were running, to be run again first.
        next_sequence: the NNI sequence number of the next new trial.
        experiment_id: the id to keep using (None: a new one).
        tune_name: the folder for this run's Tune results (``tune``, ``tune-2``, ...).
        meta: the earlier ``experiment.json``, updated by the new run.
    """

    records: list[TrialRecord] = field(default_factory=list)
    replay: list[Any] = field(default_factory=list)
    next_sequence: int = 0
    experiment_id: str | None = None
    tune_name: str = "tune"
    meta: dict[str, Any] = field(default_factory=dict)


def is_finished(status: str, end_reason: str | None) -> bool:
    """True for a trial a resume keeps; False for one it runs again."""
    return status in FINISHED and end_reason not in RUN_STOPPED


def load_prior(output: Path) -> Prior:
    """Read an output folder for ``--resume``; move unfinished trials to ``abandoned/``.

    Raises:
        OutputError: the folder is not an nni2ray run, an id read back is not safe as a
            folder name, or a symlink leads outside the folder (nothing is moved then).
    """
    meta = _read_meta(output)
    prior = Prior(meta=meta, tune_name=_next_tune_name(output))
    experiment_id = meta.get("experimentId")
    if experiment_id is not None and not is_safe_id(experiment_id):
        raise OutputError(
            f"experimentId {str(experiment_id)[:40]!r} is not a safe id",
            file=output / "experiment.json",
            hint="letters, digits, '_', '.' and '-' only; fix the file",
        )
    prior.experiment_id = experiment_id
    highest = -1
    for folder in (output / "trials", output / ABANDONED):
        inside_output(output, folder)
    trials = []  # every record is checked before anything is moved
    for trial_dir in sorted((output / "trials").iterdir()):
        if not trial_dir.is_dir():
            continue
        inside_output(output, trial_dir)
        record, sequence, params = _read_trial(trial_dir)
        if record is not None and not is_safe_id(record.trial_id):
            raise OutputError(
                f"trialJobId {record.trial_id[:40]!r} cannot be used as a folder name",
                file=trial_dir / "trial.json",
                hint="letters, digits, '_', '.' and '-' only; fix or remove that trial folder",
            )
        trials.append((trial_dir, record, sequence, params))
    for trial_dir, record, sequence, params in trials:
        highest = max(highest, sequence)
        if record is not None and is_finished(record.status, record.end_reason):
            prior.records.append(record)
        else:
            if params is not None:
                prior.replay.append(params)
            _abandon(output, trial_dir)
    for trial_dir in (output / ABANDONED).glob("*"):
        highest = max(highest, _read_trial(trial_dir)[1])
    recorded_next = meta.get("nextSequence")
    prior.next_sequence = max(highest + 1, recorded_next if isinstance(recorded_next, int) else 0)
    return prior


def _read_meta(output: Path) -> dict[str, Any]:
    meta = read_run_meta(
        output, hint="pass the folder an earlier `nni2ray run` wrote, or leave out --resume"
    )
    if not (output / "trials").is_dir():
        (output / "trials").mkdir()
    return meta


def read_run_meta(folder: Path, *, hint: str) -> dict[str, Any]:
    """A run folder's ``experiment.json`` (``run``, ``import``, ``--resume``, ``show``).

    Raises:
        OutputError: the folder has none (``hint`` says what to pass instead), or it is not
            a JSON object.
    """
    path = folder / "experiment.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(
            "not an nni2ray run folder (no experiment.json)", file=folder, hint=hint
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise OutputError(f"cannot read experiment.json ({exc})", file=path) from None
    if not isinstance(meta, dict):
        raise OutputError("experiment.json is not a JSON object", file=path)
    return meta


def _read_trial(trial_dir: Path) -> tuple[TrialRecord | None, int, Any]:
    """The trial's record (None if it never ended), its sequence number and parameters."""
    record = None
    try:
        data = json.loads((trial_dir / "trial.json").read_text(encoding="utf-8"))
        if isinstance(data, dict):
            record = TrialRecord.from_json(data)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        record = None  # a trial killed before it ended, or a half-written file
    if record is not None:
        return record, record.sequence, record.parameters
    try:
        cfg = read_parameter_file(trial_dir / PARAMETER_FILE)
        sequence = cfg.get("parameter_id")
        return None, sequence if isinstance(sequence, int) else -1, cfg.get("parameters")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, RuntimeError):
        return None, -1, None


def _abandon(output: Path, trial_dir: Path) -> None:
    target = output / ABANDONED / trial_dir.name
    suffix = 1
    while target.exists():
        suffix += 1
        target = output / ABANDONED / f"{trial_dir.name}.{suffix}"
    inside_output(output, target.parent)
    target.parent.mkdir(exist_ok=True)
    shutil.move(str(inside_output(output, trial_dir)), str(inside_output(output, target)))


def _next_tune_name(output: Path) -> str:
    if not (output / "tune").exists():
        return "tune"
    number = 2
    while (output / f"tune-{number}").exists():
        number += 1
    return f"tune-{number}"


def prior_from_nni(history: Any, output: Path) -> Prior:
    """Write the finished trials of an NNI history into ``output/trials`` (they count toward
    maxTrialNumber and are not run again); NNI's unfinished trials are run again first."""
    from nni2ray.results._nni_import import to_record, write_trial
    from nni2ray.secrets import redact

    prior = Prior()
    highest = history.next_sequence - 1
    for trial in history.trials:
        highest = max(highest, trial.sequence)
        if is_finished(trial.status, None):
            record = to_record(trial)
            write_trial(output, record, trial.parameter_id)
            prior.records.append(record)
        elif trial.parameters is not None:
            prior.replay.append(trial.parameters)
    prior.next_sequence = highest + 1
    if is_safe_id(history.experiment_id):
        prior.experiment_id = history.experiment_id  # the rerun goes on as NNI's experiment
    prior.meta = {
        "fromNni": {
            "database": str(history.database),
            "experimentId": history.experiment_id,
            "importedTrials": len(prior.records),
            "config": redact(history.config),
        }
    }
    return prior
