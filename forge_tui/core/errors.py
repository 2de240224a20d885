"""The error every layer raises when the user should read the message.

Its text is translated where it is raised: `raise NotFound(_("No dataset named '{name}'.").format(name=name))`
(a whole sentence with named fields, never pieces glued together), so str(exc) is already in the interface
language wherever it is shown. Exit codes never depend on the language.
"""

from __future__ import annotations

from forge_tui.i18n import _


class ForgeError(Exception):
    """An error whose message is a sentence a user can act on."""

    exit_code: int = 1


class NotFound(ForgeError):
    exit_code = 5


class Conflict(ForgeError):
    """A name is taken, or the action does not fit the current state."""

    exit_code = 1


class InvalidInput(ForgeError):
    exit_code = 2


class DamagedRow(ForgeError):
    """A stored row that cannot be read as it is; the message names the table, the row and the field."""

    def __init__(self, table: str, column: str, row_id: str, problem: str) -> None:
        # `problem` comes translated from the caller ("cannot be opened with this key").
        super().__init__(
            _("{table} row {row}: the {column} field {problem}").format(
                table=table, row=row_id, column=column, problem=problem
            )
        )
        self.table = table
        self.column = column
        self.row_id = row_id


class DatabaseBusy(ForgeError):
    """Another process kept the database's write lock for longer than this one would wait."""

    exit_code = 7
