"""An opened data directory: the config and the migrated SQLite file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from forge_tui.core.errors import ForgeError
from forge_tui.services.config import DB_FILE, AppConfig, load_config, resolve_home
from forge_tui.store.db import current_revision, make_engine, migrate
from forge_tui.store.private_files import database_family, exposed, make_private_database, make_private_dir
from forge_tui.store.vault import KdfParams


@dataclass
class Home:
    path: Path
    config: AppConfig
    engine: Engine

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def kdf_params(self) -> KdfParams:
        sec = self.config.security
        return KdfParams(memory_kib=sec.kdf_memory_kib, iterations=sec.kdf_iterations, lanes=1)

    def schema_revision(self) -> str | None:
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def exposed_files(self) -> list[str]:
        """A sentence for the data directory and each database file that other local users can open."""
        found: list[str] = []
        mode = exposed(self.path)
        if mode is not None:
            found.append(
                f"Other users have access to the data directory {self.path} (mode {mode:o}); "
                f"`chmod 700 {self.path}` fixes it."
            )
        for path in database_family(self.db_path):
            mode = exposed(path)
            if mode is not None:
                found.append(f"Other users can read {path} (mode {mode:o}); `chmod 600 {path}` fixes it.")
        return found


def open_home(explicit: str | Path | None = None) -> Home:
    """Open (creating if needed) the data directory and bring its database to the current schema."""
    path = resolve_home(explicit)
    try:
        make_private_dir(path)
    except OSError as exc:
        raise ForgeError(f"Cannot create the data directory {path}: {exc.strerror}") from None
    config = load_config(path)
    try:
        make_private_database(path / DB_FILE)
    except OSError as exc:
        raise ForgeError(f"Cannot create the database in {path}: {exc.strerror}") from None
    engine = make_engine(path / DB_FILE)
    migrate(engine)
    return Home(path=path, config=config, engine=engine)
