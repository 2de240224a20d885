"""Keys and sealing: Argon2id key wrapping, recovery keys, per-dataset keys, sealed fields.

Layout of a sealed value: one version byte, a 96-bit nonce, then AES-GCM ciphertext and tag.
The associated data binds a value to its table, column and row, so a value copied
elsewhere does not open. A version 2 value also binds a marker its caller gives (store.example_reader
binds which optional fields the row has, so a field set to NULL is noticed); version 1 values have none.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from forge_tui.core.errors import DamagedRow, ForgeError
from forge_tui.i18n import _

SEAL_VERSION = 1
BOUND_VERSION = 2  # the associated data ends with "|" and the caller's marker
_VERSION_BYTE = bytes([SEAL_VERSION])
_BOUND_BYTE = bytes([BOUND_VERSION])
NONCE_BYTES = 12
_BODY_START = 1 + NONCE_BYTES
KEY_BYTES = 32
_RECOVERY_ALPHABET_GROUP = 4


class VaultError(ForgeError):
    """A key could not be unwrapped or a value could not be opened."""


class WrongSecret(VaultError):
    """The password or recovery key does not open the wrapped data key."""


class SealBroken(VaultError, DamagedRow):
    """A sealed value failed to open: tampered, moved to another row, or sealed with another key."""

    def __init__(self, table: str, column: str, row_id: str) -> None:
        super().__init__(
            table,
            column,
            row_id,
            _("cannot be opened — it was altered, moved from another row, or sealed with a different key"),
        )


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. Stored with each user so the cost can change without breaking old accounts."""

    memory_kib: int = 131072
    iterations: int = 3
    lanes: int = 1

    def to_dict(self) -> dict[str, int]:
        return {"memory_kib": self.memory_kib, "iterations": self.iterations, "lanes": self.lanes}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> KdfParams:
        return cls(int(data["memory_kib"]), int(data["iterations"]), int(data["lanes"]))


# Cheap parameters for tests only: the production cost is about 0.4 s a derivation.
FAST_KDF_FOR_TESTS = KdfParams(memory_kib=8, iterations=1, lanes=1)


def derive_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(password.encode("utf-8"))


def _hkdf(key_material: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(key_material)


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def wrap_key(wrapping_key: bytes, data_key: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _VERSION_BYTE + nonce + AESGCM(wrapping_key).encrypt(nonce, data_key, context)


def unwrap_key(wrapping_key: bytes, wrapped: bytes, context: bytes) -> bytes:
    if len(wrapped) < 1 + NONCE_BYTES + 16 or wrapped[0] != SEAL_VERSION:
        raise WrongSecret(_("the stored key is damaged or from an unknown version"))
    nonce = wrapped[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(wrapping_key).decrypt(nonce, wrapped[1 + NONCE_BYTES :], context)
    except InvalidTag:
        raise WrongSecret(_("wrong secret")) from None


# Recovery keys: 160 random bits shown as eight groups of four base32 letters.
def new_recovery_key() -> str:
    raw = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
    groups = [raw[i : i + _RECOVERY_ALPHABET_GROUP] for i in range(0, len(raw), _RECOVERY_ALPHABET_GROUP)]
    return "-".join(groups)


def normalise_recovery_key(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    # People mistype look-alike characters; base32 has no 0, 1 or 8.
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    groups = [cleaned[i : i + _RECOVERY_ALPHABET_GROUP] for i in range(0, len(cleaned), _RECOVERY_ALPHABET_GROUP)]
    return "-".join(groups)


def recovery_wrapping_key(recovery_key: str, salt: bytes) -> bytes:
    # The recovery key is 160 random bits, so a fast KDF is enough; no password stretching needed.
    normalised = normalise_recovery_key(recovery_key)
    return _hkdf(normalised.encode("ascii"), salt, b"forge-tui recovery key v1")


def dataset_key(data_key: bytes, dataset_salt: bytes) -> bytes:
    return _hkdf(data_key, dataset_salt, b"forge-tui dataset key v1")


def key_check(data_key: bytes) -> bytes:
    """A short fingerprint of a data key, to tell which key sealed a dataset without opening it."""
    return hmac.digest(data_key, b"forge-tui key check v1", "sha256")[:8]


def account_content_key(data_key: bytes) -> bytes:
    """The key that seals an account's own content outside datasets: templates, their system-prompt
    history, custom export formats."""
    return _hkdf(data_key, b"", b"forge-tui account content key v1")


def name_index_key(data_key: bytes) -> bytes:
    """The key of name tags: keyed hashes that let SQL find and keep unique a name it cannot read."""
    return _hkdf(data_key, b"", b"forge-tui name index key v1")


def name_tag(index_key: bytes, table: str, name: str) -> bytes:
    return hmac.digest(index_key, f"forge-tui|{table}|{name}".encode(), "sha256")[:16]


def field_context(table: str, column: str, row_id: str) -> bytes:
    return f"forge-tui|{table}|{column}|{row_id}".encode()


def _unknown_version() -> bytes:
    raise ValueError("unknown seal version")


class FieldCipher:
    """Seals and opens the content fields of one dataset.

    This runs for every field of every row (six per example, 100k rows in a page scan), so the bound
    AEAD methods and the associated-data prefix are looked up once here rather than on each call.
    """

    __slots__ = ("_columns", "_decrypt", "_encrypt", "_prefixes", "key", "table")

    def __init__(self, key: bytes, table: str = "example") -> None:
        self.key = key  # for export worker processes, which make their own cipher
        aead = AESGCM(key)
        self._encrypt = aead.encrypt
        self._decrypt = aead.decrypt
        self.table = table
        # field_context(table, column, row_id) == self._columns[column] + row_id.encode()
        self._columns: dict[str, bytes] = {}
        self._prefixes: dict[tuple[str, ...], tuple[bytes, ...]] = {}  # open_fields' columns -> prefixes

    def _column_prefix(self, column: str) -> bytes:
        prefix = self._columns[column] = f"forge-tui|{self.table}|{column}|".encode()
        return prefix

    # seal and open run for every field of every row; the associated data is built inline.
    def seal(self, column: str, row_id: str, plaintext: bytes, bound: bytes | None = None) -> bytes:
        """A version 1 value; with `bound`, a version 2 value whose associated data holds it too."""
        nonce = os.urandom(NONCE_BYTES)
        aad = (self._columns.get(column) or self._column_prefix(column)) + row_id.encode()
        if bound is None:
            return _VERSION_BYTE + nonce + self._encrypt(nonce, plaintext, aad)
        return _BOUND_BYTE + nonce + self._encrypt(nonce, plaintext, aad + b"|" + bound)

    def open(self, column: str, row_id: str, sealed: bytes, bound: bytes = b"") -> bytes:
        """`bound` is what a version 2 value was sealed with (ignored for version 1)."""
        # No length check of its own: a value too short to hold a nonce and a tag fails in AES-GCM
        # (InvalidTag, or ValueError for a nonce under 8 bytes), as does any altered byte. A value
        # that is not bytes at all (a damaged row can hold a number) fails with TypeError.
        try:
            version = sealed[0]
            if version in (SEAL_VERSION, BOUND_VERSION):
                aad = (self._columns.get(column) or self._column_prefix(column)) + row_id.encode()
                if version == BOUND_VERSION:
                    aad += b"|" + bound
                return self._decrypt(sealed[1:_BODY_START], sealed[_BODY_START:], aad)
        except (InvalidTag, ValueError, IndexError, TypeError):
            pass
        if not isinstance(sealed, bytes):
            if isinstance(sealed, str):
                what = _("holds text where a sealed value belongs")
            elif isinstance(sealed, int | float):
                what = _("holds a number where a sealed value belongs")
            else:
                what = _("holds a value where a sealed value belongs")
            raise DamagedRow(self.table, column, row_id, what)
        raise SealBroken(self.table, column, row_id)

    def open_fields(
        self, row_id: str, columns: tuple[str, ...], sealed: Sequence[bytes | None], bound: bytes = b""
    ) -> list[bytes | None]:
        """Opens several fields of one row (None stays None): the row's part of the associated
        data is encoded once, and a loop costs less than a call per field. `bound` as for open()."""
        rid = row_id.encode()
        bound_rid = rid + b"|" + bound
        decrypt = self._decrypt
        prefixes = self._prefixes.get(columns)
        if prefixes is None:
            prefixes = self._prefixes[columns] = tuple(self._columns.get(c) or self._column_prefix(c) for c in columns)
        try:  # as open(), for each field
            return [
                None
                if value is None
                else decrypt(value[1:_BODY_START], value[_BODY_START:], prefix + rid)
                if value[0] == SEAL_VERSION
                else decrypt(value[1:_BODY_START], value[_BODY_START:], prefix + bound_rid)
                if value[0] == BOUND_VERSION
                else _unknown_version()
                for prefix, value in zip(prefixes, sealed, strict=True)
            ]
        except (InvalidTag, ValueError, IndexError, TypeError):
            pass
        for column, value in zip(columns, sealed, strict=True):  # which field: for the message
            if value is not None:
                self.open(column, row_id, value, bound)
        raise SealBroken(self.table, columns[0], row_id)

    def seal_text(self, column: str, row_id: str, text: str) -> bytes:
        return self.seal(column, row_id, text.encode("utf-8"))

    def open_text(self, column: str, row_id: str, sealed: bytes) -> str:
        return self.open(column, row_id, sealed).decode("utf-8")


@dataclass(frozen=True)
class AccountKeys:
    """What seals an account's own content outside datasets (templates, their system-prompt history,
    custom export formats), derived from its data key."""

    content_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)
    # key_check() of the data key: rows sealed under an older key (a reset without the recovery
    # key) are told apart without trying to open them.
    check: bytes

    @classmethod
    def of(cls, data_key: bytes) -> AccountKeys:
        return cls(account_content_key(data_key), name_index_key(data_key), key_check(data_key))

    def cipher(self, table: str) -> FieldCipher:
        return FieldCipher(self.content_key, table)

    def tag(self, table: str, name: str) -> bytes:
        return name_tag(self.index_key, table, name)
