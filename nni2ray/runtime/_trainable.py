"""The Ray Tune trainable that runs one unchanged NNI trial command per trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray
from ray import tune

from nni2ray.startup import mark, process_started
from nni2ray.trials import (
    LaunchSpec,
    Template,
    TrialContext,
    TrialRun,
    WarmCommand,
    heavy_modules,
    parse_command,
    prepare_trial,
)


class NniTrial(tune.Trainable):
    """Class-API trainable: ``setup``/``reset_config`` start the trial command, ``step``
    returns its next result, ``cleanup`` ends its process tree.

    The class API is used (not a function trainable) because ``cleanup`` and
    ``reset_config`` run in the actor's main thread before it exits or is reused, so the
    trial's process tree is always ended (a function trainable's thread sees a stop only
    inside ``tune.report``, and its cleanup may be cut off when the actor exits).
    """

    _run: TrialRun | None = None
    _template: Template | None = None

    def setup(self, config: dict[str, Any], context: TrialContext | None = None) -> None:
        if context is None:
            raise ValueError("NniTrial needs a TrialContext (use tune.with_parameters)")
        mark("worker: Ray worker process started", at=process_started())
        mark("worker: trial actor setup")
        self._context = context
        self._start(config)
        mark("worker: first trial process started")

    def _start(self, config: dict[str, Any]) -> None:
        gpu_ids = [str(g) for g in ray.get_gpu_ids()] if self._context.gpu_number else None
        spec = prepare_trial(self._context, config, self.trial_id, gpu_ids)
        self._run = TrialRun(
            spec,
            max_duration_s=self._context.max_trial_duration_s,
            heartbeat_s=self._context.heartbeat_s,
            warm=self._warm_start(spec),
        )

    def _warm_start(self, spec: LaunchSpec) -> tuple[Template, WarmCommand] | None:
        # A GPU trial starts cold: the template must not hold a GPU context to fork from.
        if not self._context.warm_start or self._context.gpu_number:
            return None
        command = parse_command(spec.command, spec.env.get("PATH", ""), spec.cwd)
        if command is None:
            return None
        modules = heavy_modules(command, spec.cwd)
        template = self._template
        if template is None or not template.alive() or template.modules != modules:
            self._close_template()
            log = Path(self._context.output_dir) / "warm-start.log"
            try:
                template = self._template = Template(modules, spec.env, spec.cwd, log)
            except OSError:
                return None
        try:
            ready = template.ready(0)
        except OSError:  # the template died: this and later trials start cold
            self._close_template()
            return None
        # While the template still imports, trials start cold rather than wait for it.
        return (template, command) if ready else None

    def _close_template(self) -> None:
        if self._template is not None:
            self._template.close()
            self._template = None

    def step(self) -> dict[str, Any]:
        assert self._run is not None
        return self._run.next_result()

    def end_trial_process(self) -> None:
        """Called by the driver when a scheduler stops this trial: end it now."""
        if self._run is not None:
            self._run.stop()

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        self.end_trial_process()
        self._start(new_config)
        return True

    def cleanup(self) -> None:
        self.end_trial_process()
        self._close_template()

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        # An NNI trial is an opaque process: there is no state to save. Tune requires the
        # method, and returning None records no checkpoint.
        return None

    def load_checkpoint(self, checkpoint: Any) -> None:
        return None
