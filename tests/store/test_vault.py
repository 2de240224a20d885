"""The vault: sealed fields bound to table/column/row, key wrapping, recovery keys."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.store.vault import (
    FAST_KDF_FOR_TESTS,
    KEY_BYTES,
    NONCE_BYTES,
    FieldCipher,
    SealBroken,
    WrongSecret,
    dataset_key,
    derive_password_key,
    field_context,
    key_check,
    new_data_key,
    new_recovery_key,
    new_salt,
    normalise_recovery_key,
    recovery_wrapping_key,
    unwrap_key,
    wrap_key,
)
from tests.passwords import PASSWORD

ROW = "0192a3b4c5d6e7f8a9b0c1d2e3f4a5b6"
OTHER_ROW = "0192a3b4c5d6e7f8a9b0c1d2e3f4a5b7"
CONTEXT = b"forge-tui|data-key|password|alice"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(new_data_key())


def flipped(data: bytes, index: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


def assert_names_row(exc: SealBroken, table: str, row_id: str, column: str) -> None:
    message = str(exc)
    assert table in message
    assert row_id in message
    assert column in message
    assert (exc.table, exc.row_id, exc.column) == (table, row_id, column)


# --- FieldCipher ---------------------------------------------------------------
def test_round_trip(cipher: FieldCipher) -> None:
    sealed = cipher.seal("output", ROW, b"the answer is 42")
    assert cipher.open("output", ROW, sealed) == b"the answer is 42"
    assert cipher.open_text("output", ROW, cipher.seal_text("output", ROW, "naïve ✓ 日本")) == "naïve ✓ 日本"


def test_empty_plaintext_round_trips(cipher: FieldCipher) -> None:
    assert cipher.open("rejected", ROW, cipher.seal("rejected", ROW, b"")) == b""


def test_layout_and_fresh_nonce(cipher: FieldCipher) -> None:
    a = cipher.seal("output", ROW, b"same text")
    b = cipher.seal("output", ROW, b"same text")
    assert len(a) == 1 + NONCE_BYTES + len(b"same text") + 16
    assert a[0] == 1  # version byte
    assert a[1 : 1 + NONCE_BYTES] != b[1 : 1 + NONCE_BYTES]
    assert a != b


def test_on_disk_format_is_version_nonce_then_aes_gcm_over_field_context() -> None:
    """Pins the stored layout, so a faster FieldCipher cannot silently change what old rows need."""
    key = new_data_key()
    sealed = FieldCipher(key, table="example").seal("slots", ROW, b'{"a": "b"}')
    aad = field_context("example", "slots", ROW)
    assert aad == f"forge-tui|example|slots|{ROW}".encode()
    assert AESGCM(key).decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad) == b'{"a": "b"}'
    nonce = bytes(NONCE_BYTES)
    made_by_hand = b"\x01" + nonce + AESGCM(key).encrypt(nonce, b"by hand", aad)
    assert FieldCipher(key).open("slots", ROW, made_by_hand) == b"by hand"


def test_wrong_key_fails(cipher: FieldCipher) -> None:
    sealed = cipher.seal("output", ROW, b"secret")
    other = FieldCipher(new_data_key())
    with pytest.raises(SealBroken) as info:
        other.open("output", ROW, sealed)
    assert_names_row(info.value, "example", ROW, "output")


def test_every_single_byte_flip_fails_and_names_the_field(cipher: FieldCipher) -> None:
    sealed = cipher.seal("user_prompt", ROW, b"write a haiku about SQLite")
    for index in range(len(sealed)):
        for mask in (0x01, 0x80, 0xFF):
            with pytest.raises(SealBroken) as info:
                cipher.open("user_prompt", ROW, flipped(sealed, index, mask))
            assert_names_row(info.value, "example", ROW, "user_prompt")
            assert "cannot be opened" in str(info.value)


@pytest.mark.parametrize("length", [0, 1, NONCE_BYTES, NONCE_BYTES + 16, NONCE_BYTES + 17])
def test_truncated_value_fails_cleanly(cipher: FieldCipher, length: int) -> None:
    sealed = cipher.seal("output", ROW, b"x")
    assert len(sealed) == NONCE_BYTES + 18
    with pytest.raises(SealBroken):
        cipher.open("output", ROW, sealed[:length])


def test_extended_value_fails(cipher: FieldCipher) -> None:
    sealed = cipher.seal("output", ROW, b"x")
    with pytest.raises(SealBroken):
        cipher.open("output", ROW, sealed + b"\x00")


def test_value_copied_to_another_row_fails(cipher: FieldCipher) -> None:
    sealed = cipher.seal("output", ROW, b"belongs to ROW")
    with pytest.raises(SealBroken) as info:
        cipher.open("output", OTHER_ROW, sealed)
    assert_names_row(info.value, "example", OTHER_ROW, "output")


def test_value_copied_to_another_column_fails(cipher: FieldCipher) -> None:
    sealed = cipher.seal("output", ROW, b"an output")
    with pytest.raises(SealBroken) as info:
        cipher.open("system_prompt", ROW, sealed)
    assert_names_row(info.value, "example", ROW, "system_prompt")


def test_value_copied_to_another_table_fails() -> None:
    key = new_data_key()
    sealed = FieldCipher(key, table="example").seal("output", ROW, b"x")
    with pytest.raises(SealBroken) as info:
        FieldCipher(key, table="template").open("output", ROW, sealed)
    assert_names_row(info.value, "template", ROW, "output")


def test_dataset_keys_differ_per_salt() -> None:
    data_key = new_data_key()
    a, b = dataset_key(data_key, new_salt()), dataset_key(data_key, new_salt())
    assert len(a) == KEY_BYTES
    assert a != b
    sealed = FieldCipher(a).seal("output", ROW, b"x")
    with pytest.raises(SealBroken):
        FieldCipher(b).open("output", ROW, sealed)


def test_key_check_tells_keys_apart() -> None:
    k1, k2 = new_data_key(), new_data_key()
    assert key_check(k1) == key_check(k1)
    assert key_check(k1) != key_check(k2)
    assert len(key_check(k1)) == 8


@settings(max_examples=300, deadline=None)
@given(plaintext=st.binary(max_size=2048), data=st.data())
def test_property_round_trip_and_any_flip_fails(plaintext: bytes, data: st.DataObject) -> None:
    cipher = FieldCipher(bytes(range(32)))
    sealed = cipher.seal("output", ROW, plaintext)
    assert cipher.open("output", ROW, sealed) == plaintext
    index = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1), label="index")
    mask = data.draw(st.integers(min_value=1, max_value=255), label="mask")
    with pytest.raises(SealBroken):
        cipher.open("output", ROW, flipped(sealed, index, mask))


# --- key wrapping --------------------------------------------------------------
def test_wrap_unwrap_round_trip() -> None:
    kek, data_key = new_data_key(), new_data_key()
    assert unwrap_key(kek, wrap_key(kek, data_key, CONTEXT), CONTEXT) == data_key


def test_unwrap_with_wrong_key_raises_wrong_secret() -> None:
    data_key = new_data_key()
    wrapped = wrap_key(new_data_key(), data_key, CONTEXT)
    with pytest.raises(WrongSecret):
        unwrap_key(new_data_key(), wrapped, CONTEXT)


def test_unwrap_with_wrong_context_raises_wrong_secret() -> None:
    kek = new_data_key()
    wrapped = wrap_key(kek, new_data_key(), CONTEXT)
    with pytest.raises(WrongSecret):
        unwrap_key(kek, wrapped, b"forge-tui|data-key|password|mallory")


def test_unwrap_damaged_raises_wrong_secret() -> None:
    kek = new_data_key()
    wrapped = wrap_key(kek, new_data_key(), CONTEXT)
    for damaged in (wrapped[:10], flipped(wrapped, 0), flipped(wrapped, len(wrapped) - 1)):
        with pytest.raises(WrongSecret):
            unwrap_key(kek, damaged, CONTEXT)


def test_password_derivation_wraps_and_wrong_password_fails() -> None:
    salt, data_key = new_salt(), new_data_key()
    kek = derive_password_key(PASSWORD, salt, FAST_KDF_FOR_TESTS)
    assert derive_password_key(PASSWORD, salt, FAST_KDF_FOR_TESTS) == kek
    wrapped = wrap_key(kek, data_key, CONTEXT)
    wrong = derive_password_key(PASSWORD + "!", salt, FAST_KDF_FOR_TESTS)
    with pytest.raises(WrongSecret):
        unwrap_key(wrong, wrapped, CONTEXT)
    other_salt = derive_password_key(PASSWORD, new_salt(), FAST_KDF_FOR_TESTS)
    with pytest.raises(WrongSecret):
        unwrap_key(other_salt, wrapped, CONTEXT)


# --- recovery keys -------------------------------------------------------------
RECOVERY_SHAPE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


def test_new_recovery_key_shape() -> None:
    keys = {new_recovery_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert RECOVERY_SHAPE.match(key), key
        assert normalise_recovery_key(key) == key


def as_typed_with_look_alikes(key: str) -> str:
    """The key as someone might type it from paper: lower case, no dashes, 0/1/8 for O/I/B."""
    return key.replace("-", "").replace("O", "0").replace("I", "1").replace("B", "8").lower()


def key_with_look_alikes() -> str:
    for _ in range(10_000):
        key = new_recovery_key()
        if all(ch in key for ch in "OIB"):
            return key
    raise AssertionError("no recovery key with O, I and B in 10,000 tries")


def test_recovery_key_normalisation_still_opens() -> None:
    key = key_with_look_alikes()
    salt, data_key = new_salt(), new_data_key()
    wrapped = wrap_key(recovery_wrapping_key(key, salt), data_key, CONTEXT)
    variants = [
        key.lower(),
        key.replace("-", ""),
        key.replace("-", " "),
        f"  {key}\n",
        key.replace("-", "").lower(),
        as_typed_with_look_alikes(key),
        " ".join(as_typed_with_look_alikes(key)),
    ]
    for typed in variants:
        assert normalise_recovery_key(typed) == key, typed
        assert unwrap_key(recovery_wrapping_key(typed, salt), wrapped, CONTEXT) == data_key


def test_wrong_recovery_key_raises_wrong_secret() -> None:
    key = new_recovery_key()
    salt = new_salt()
    wrapped = wrap_key(recovery_wrapping_key(key, salt), new_data_key(), CONTEXT)
    with pytest.raises(WrongSecret):
        unwrap_key(recovery_wrapping_key(new_recovery_key(), salt), wrapped, CONTEXT)
    # One character off.
    typo = ("A" if key[0] != "A" else "C") + key[1:]
    with pytest.raises(WrongSecret):
        unwrap_key(recovery_wrapping_key(typo, salt), wrapped, CONTEXT)
