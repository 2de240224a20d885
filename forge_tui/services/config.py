"""Where forge-tui keeps its data, and the settings read from `config.toml` there."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _
from forge_tui.store.db import WRITE_WAIT_S

HOME_ENV = "FORGE_TUI_HOME"
CONFIG_FILE = "config.toml"
DB_FILE = "forge.db"


def resolve_home(explicit: str | Path | None = None) -> Path:
    """`--home DIR`, else `$FORGE_TUI_HOME`, else the platform's user data directory."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_data_dir("forge-tui", appauthor=False))


class SecurityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lock_after_minutes: float = Field(default=30, gt=0)
    max_unlock_attempts: int = Field(default=5, ge=1)
    attempt_window_seconds: float = Field(default=60, gt=0)
    # Argon2id cost; lower it only for tests.
    kdf_memory_kib: int = Field(default=131072, ge=8)
    kdf_iterations: int = Field(default=3, ge=1)


class DatabaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How long a change waits while another process writes before it gives up with a sentence.
    busy_wait_seconds: float = Field(default=WRITE_WAIT_S, gt=0, le=3600)


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    security: SecurityConfig = Field(default_factory=SecurityConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    # Remapped keys: a binding id (shown by F1 on each screen) -> keys, e.g. "app.export" = "f5".
    keys: dict[str, str] = Field(default_factory=dict)


def load_config(home: Path) -> AppConfig:
    path = home / CONFIG_FILE
    if not path.exists():
        return AppConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return AppConfig.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(_("{path} is not valid TOML: {problem}").format(path=path, problem=exc)) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(
            _("{path} has settings forge-tui cannot use: {problems}").format(path=path, problems=problems)
        ) from None
