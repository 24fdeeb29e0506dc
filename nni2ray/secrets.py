"""The one redaction rule: which configuration values are secrets, and how they are masked.

Every place that writes or prints configuration (``check``, ``check --json``, the run's
``experiment.json``, imports of NNI histories, MIGRATION.md, error and warning lines) goes
through :func:`redact` (structured data) or :func:`mask_text` (free text). The rule:

* a value whose key names a secret (``password``, ``passphrase``, ``token``, ``secret``,
  ``credential``, ``apiKey``, ``accessKey``, ``accountKey``, ``privateKey``, ``auth``,
  ``connectionString``, ``sasToken``, ...) is replaced by ``***``, whatever its type;
* under ``trainingService``, ``sharedStorage`` and ``machineList`` (NNI's fields for remote
  machines and storage), and in the ``classArgs`` of custom algorithms, any key containing
  ``key`` counts too (``storageAccountKey``, ``sshKeyFile``);
* inside any text: the password of a URI (``scheme://user:PASSWORD@host``), the value of a
  secret-named option or variable (``--db-password X``, ``--api-key=X``, ``API_TOKEN=X``)
  and well-known token shapes (AWS access key ids, GitHub, Slack and bearer tokens) are
  masked;
* the search space (the user's parameter names and values) is kept as written.

Trial commands keep what the user wrote where they run; only what is shown is masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "mask_text", "redact"]

#: What a masked value becomes.
REDACTED = "***"

_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?(?![a-z])|pwd|token(?!iz)|secret|credential|api[_-]?key|access[_-]?key"
    r"|account[_-]?key|private[_-]?key|secret[_-]?key|auth(?!or)|connection[_-]?string|sas"
    r"(?=[_-]?(?:token|url|key))|cookie|session[_-]?key|signature"
)
#: A key whose value is a secret, anywhere in a configuration.
_SECRET_KEY = re.compile(_SECRET_WORDS, re.IGNORECASE)
#: Under training services, shared storage and custom classArgs: any ``...key...`` too.
_SECRET_KEY_STRICT = re.compile(_SECRET_WORDS + r"|key", re.IGNORECASE)
#: Sections where the stricter key rule applies.
_STRICT_SECTIONS = frozenset(
    {"trainingService", "sharedStorage", "machineList", "remoteConfig", "classArgs", "class_args"}
)
#: Sections kept as written: the search space is the user's parameters, not settings.
_KEPT_SECTIONS = frozenset({"searchSpace", "search_space", "raw_search_space"})

# scheme://user:password@host -> scheme://user:***@host (also a password with no user).
_URI_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"`]*:)([^\s@/'\"`]+)(@)")
# --db-password X, --api-key=X (an option), API_TOKEN=X (an assignment): a secret word
# inside the name; prose such as "password: must be a string" is left alone.
_NAMED_VALUE = re.compile(
    r"((?:(?<![\w-])--?[A-Za-z0-9_.-]*(?:" + _SECRET_WORDS + r")[A-Za-z0-9_.-]*(?:=|\s+))"
    r"|(?:\b[A-Za-z0-9_.-]*(?:" + _SECRET_WORDS + r")[A-Za-z0-9_.-]*=))"
    r"(?!-)(\"[^\"]*\"|'[^']*'|[^\s'\"`|]+)",  # a Markdown ` or | ends the value too
    re.IGNORECASE,
)
# Token shapes that are secrets whatever they are called.
_TOKEN_SHAPES = re.compile(
    r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})\b"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE,
)


def is_secret_key(name: object, strict: bool = False) -> bool:
    """True when a value stored under ``name`` must never be shown.

    ``strict`` is the rule for training services, shared storage and custom ``classArgs``,
    where any name containing ``key`` counts too.
    """
    if not isinstance(name, str):
        return False
    return bool((_SECRET_KEY_STRICT if strict else _SECRET_KEY).search(name))


def mask_text(text: str) -> str:
    """``text`` with URI passwords, secret-named option values and token shapes masked."""
    if not text:
        return text
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    text = _NAMED_VALUE.sub(_mask_named, text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def _mask_named(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[0] in "'\"" else ""
    if value.strip(quote) == REDACTED:
        return match.group(0)
    return match.group(1) + quote + REDACTED + quote


def redact(value: Any, key: object = "", *, strict: bool = False) -> Any:
    """A copy of ``value`` (JSON-like data) with every secret masked by the rule above.

    Args:
        value: a config, a plan, ``classArgs``: dicts, lists, strings and numbers.
        key: the key ``value`` is stored under, when it is part of a larger document.
        strict: apply the stricter key rule (set inside training services and the like).
    """
    if key in _KEPT_SECTIONS:
        return value
    if key and is_secret_key(key, strict):
        return REDACTED
    strict = strict or key in _STRICT_SECTIONS
    if isinstance(value, Mapping):
        return {k: redact(v, k, strict=strict) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, key, strict=strict) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
