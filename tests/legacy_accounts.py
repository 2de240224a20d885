"""An account for a database written with raw SQL in an older layout (the migration and legacy-seal
tests build such files): real keys, so the upgraded database unlocks and reads through the services.

The context strings are part of the on-disk format: spelled out here rather than taken from
`services/accounts.py`, so a change to them breaks the tests that read these files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from forge_tui.store import vault
from tests.passwords import PASSWORD

CREATED = "2026-01-02 03:04:05.000000"
EXAMPLE_ID = "018f0000000000000000000000000001"


@dataclass(frozen=True)
class LegacyAccount:
    data_key: bytes = field(repr=False)
    recovery_key: str = field(repr=False)
    # The user row's key columns, in this order: kdf_salt, kdf_params (JSON), wrapped_key, recovery_salt,
    # wrapped_recovery_key, key_check.
    user_columns: tuple[bytes, str, bytes, bytes, bytes, bytes]

    @property
    def key_check(self) -> bytes:
        """The key check of the user row, and of every dataset the data key opens."""
        return vault.key_check(self.data_key)

    def dataset_cipher(self, dataset_salt: bytes) -> vault.FieldCipher:
        return vault.FieldCipher(vault.dataset_key(self.data_key, dataset_salt))


def legacy_account(username: str, password: str = PASSWORD) -> LegacyAccount:
    """A new data key, wrapped under `password` (at the cheapest KDF cost) and under a new recovery key."""
    data_key = vault.new_data_key()
    kdf_salt, recovery_salt = vault.new_salt(), vault.new_salt()
    recovery_key = vault.new_recovery_key()
    wrapped = vault.wrap_key(
        vault.derive_password_key(password, kdf_salt, vault.FAST_KDF_FOR_TESTS),
        data_key,
        f"forge-tui|data-key|password|{username}".encode(),
    )
    wrapped_recovery = vault.wrap_key(
        vault.recovery_wrapping_key(recovery_key, recovery_salt),
        data_key,
        f"forge-tui|data-key|recovery|{username}".encode(),
    )
    return LegacyAccount(
        data_key=data_key,
        recovery_key=recovery_key,
        user_columns=(
            kdf_salt,
            json.dumps(vault.FAST_KDF_FOR_TESTS.to_dict()),
            wrapped,
            recovery_salt,
            wrapped_recovery,
            vault.key_check(data_key),
        ),
    )
