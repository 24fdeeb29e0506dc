"""Build the parameter record, environment and working directory of one trial command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from nni2ray.trials._preflight import python_names, with_python
from nni2ray.trials._process import LaunchSpec
from nni2ray.trials._shim.nni import _wire
from nni2ray.trials.context import PARAMETERS_KEY, SEQUENCE_KEY, TrialContext

#: The directory that holds the stand-in ``nni`` package; first on every trial's PYTHONPATH.
SHIM_DIR = Path(__file__).resolve().parent / "_shim"


def sequence_of(config: dict[str, Any]) -> int:
    """NNI's trial sequence number, which nni2ray's searcher puts into every config."""
    value = config.get(SEQUENCE_KEY, -1)
    return value if isinstance(value, int) else -1


def trial_parameters(context: TrialContext, config: dict[str, Any], trial_dir: Path) -> Any:
    """Decode a Tune config into the parameters NNI would hand this trial."""
    if PARAMETERS_KEY in config:
        params = config[PARAMETERS_KEY]
    else:
        from nni2ray.experiment import nni_space

        latent = {k: v for k, v in config.items() if k != SEQUENCE_KEY}
        params = nni_space.decode(context.search_space, latent)
    if not isinstance(params, dict) or not (context.extra_parameters or context.checkpoint_dirs):
        return params
    params = dict(params, **context.extra_parameters)
    if context.checkpoint_dirs and "save_checkpoint_dir" not in params:
        # NNI's PBT hands each trial a checkpoint folder to load from and save to (nni2ray's
        # PBT searcher names them itself, generation by generation).
        params["load_checkpoint_dir"] = params["save_checkpoint_dir"] = str(
            trial_dir / "checkpoint"
        )
    return params


def prepare_trial(
    context: TrialContext,
    config: dict[str, Any],
    trial_id: str,
    gpu_ids: list[str] | None,
) -> LaunchSpec:
    """Write ``parameter.cfg`` into the trial folder and describe the command to start."""
    trial_dir = Path(context.output_dir) / "trials" / trial_id
    trial_dir.mkdir(parents=True, exist_ok=True)
    sequence = sequence_of(config)
    parameters = trial_parameters(context, config, trial_dir)
    parameter_file = _wire.write_parameter_file(trial_dir, sequence, parameters)
    code_dir = Path(context.code_directory) if context.code_directory else Path.cwd()
    env = _environment(context, trial_id, sequence, trial_dir, code_dir, gpu_ids)
    env[_wire.PARAMETER_FILE_ENV] = parameter_file
    command = with_python(context.command) if context.python else context.command
    return LaunchSpec(command=command, cwd=code_dir, env=env, log_dir=trial_dir)


def _environment(
    context: TrialContext,
    trial_id: str,
    sequence: int,
    trial_dir: Path,
    code_dir: Path,
    gpu_ids: list[str] | None,
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(context.env)
    env.update(
        NNI_PLATFORM="local",
        NNI_EXP_ID=context.experiment_id,
        NNI_TRIAL_JOB_ID=trial_id,
        NNI_TRIAL_SEQ_ID=str(sequence),
        NNI_SYS_DIR=str(trial_dir),
        NNI_OUTPUT_DIR=str(trial_dir),
        NNI_CODE_DIR=str(code_dir),
    )
    # `python3 main.py` finds the Python that runs nni2ray first, as it would in the
    # activated environment NNI users launch nnictl from.
    bin_dir = _python_bin(context) if context.python else str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *path])
    pythonpath = [str(SHIM_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    if context.gpu_number is not None:
        # NNI: trialGpuNumber 0 hides every GPU; N > 0 shows the GPUs Ray assigned.
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpu_ids or []) if context.gpu_number else ""
    return env


def _python_bin(context: TrialContext) -> str:
    """A folder in the run's output whose ``python``, ``python3`` (and the other Python
    names the command uses) are links to the ``--python`` interpreter."""
    assert context.python is not None
    folder = Path(context.output_dir) / ".python-bin"
    folder.mkdir(parents=True, exist_ok=True)
    for name in python_names(context.command):
        link = folder / name
        if not link.exists():
            try:
                link.symlink_to(context.python)
            except FileExistsError:  # another trial made it at the same moment
                pass
    return str(folder)
