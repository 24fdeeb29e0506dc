"""Small standalone helper functions that rewrites add to a converted module when needed."""

from __future__ import annotations

#: Helper name → its source, added once after the module's imports (in this order).
HELPERS: dict[str, str] = {
    "_tune_metrics": '''
def _tune_metrics(value, **extra):
    """Turn an NNI metric (a number, or a dict with a "default" key) into a Ray Tune result."""
    metrics = dict(value) if isinstance(value, dict) else {"default": value}
    metrics.update(extra)
    return metrics
''',
    "_tune_sequence_id": '''
def _tune_sequence_id():
    """The trial's 0-based number (NNI's sequence id), read from Tune's trial id ("..._00003")."""
    trial_id = tune.get_context().get_trial_id() or "STANDALONE_0"
    return int(trial_id.rsplit("_", 1)[-1])
''',
    "_merge_parameter": '''
def _merge_parameter(base_params, override_params):
    """Local copy of nni.utils.merge_parameter: update base_params in place, checking types."""
    if override_params is None:
        return base_params
    is_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if (key not in base_params) if is_dict else not hasattr(base_params, key):
            raise ValueError(f"Key '{key}' not found in base parameters.")
        current = base_params[key] if is_dict else getattr(base_params, key)
        if current is not None and not isinstance(value, type(current)):
            if isinstance(current, float) and isinstance(value, int):
                value = float(value)
            else:
                raise ValueError(
                    f'Expected "{key}" in override parameters to have type {type(current)}, '
                    f"but found {type(value)}"
                )
        if is_dict:
            base_params[key] = value
        else:
            setattr(base_params, key, value)
    return base_params
''',
    "_tune_parameter": '''
def _tune_parameter(key, *default):
    """An annotated parameter (NNI's smart parameter `key`) from the trial's parameters;
    outside a Tune trial, the value the annotated line had (NNI 2.x's standalone run)."""
    params = json.loads(os.environ.get("TUNE_TRIAL_PARAMS", "{}"))
    if key in params or not default:
        return params[key]
    return default[0]
''',
    "_tune_choice": '''
def _tune_choice(options, key, *default):
    """The option of an annotated choice that the trial's parameter `key` names; outside a
    Tune trial, the value the annotated line had (NNI 2.x's standalone run)."""
    params = json.loads(os.environ.get("TUNE_TRIAL_PARAMS", "{}"))
    if key in params or not default:
        return options[params[key]]
    return default[0]
''',
}
