"""Reading configuration from the environment (12-factor). No secret is ever printed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message names the variable."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    msg = f"{name} must be one of 1/0, true/false, yes/no, on/off (got {raw!r})"
    raise ConfigError(msg)


def env_int(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        msg = f"{name} must be a whole number (got {raw!r})"
        raise ConfigError(msg) from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The embedded mode's data folder (SQLite database, secret key, static files)."""
    return Path(env_str("LOCKSTEP_DATA_DIR", "var")).expanduser().resolve()


def secret_key_file(folder: Path) -> Path:
    return folder / "secret_key"


def secret_key(folder: Path) -> str:
    """`LOCKSTEP_SECRET_KEY`, or a random key kept (mode 0600) in the data folder.

    The embedded mode must start with no configuration at all, yet sessions must survive
    a restart, so the key is generated once and stored beside the database.
    """
    configured = os.environ.get("LOCKSTEP_SECRET_KEY", "")
    if configured:
        return configured
    path = secret_key_file(folder)
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # for its owner alone
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the same instance won the race
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
