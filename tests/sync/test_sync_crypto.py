"""The sealed envelope: what the server stores must hide the payload and its size, and any altered byte
must be refused."""
from __future__ import annotations

import pytest

from sync import crypto
from sync.crypto import DeviceKeys, Tampered

HEADER = {"v": 1, "team": "t1", "device": "d1", "device_seq": 7, "key_epoch": 1,
          "hlc": "0190a0b0c0d0-0000-d1"}
PAYLOAD = "付款 from 上海远航贸易有限公司, 1234.50".encode()


@pytest.fixture(scope="module")
def keys():
    return DeviceKeys.generate()


def flip(text: str, at: int = 5) -> str:
    raw = bytearray(crypto.b64d(text))
    raw[at % len(raw)] ^= 0x01
    return crypto.b64e(bytes(raw))


def test_sealed_envelope_opens_with_team_key_and_hides_payload(keys):
    key = crypto.new_team_key()
    env = crypto.seal(key, HEADER, PAYLOAD, keys)
    assert {k: env[k] for k in crypto.HEADER_FIELDS} == HEADER
    assert set(env) == {*crypto.HEADER_FIELDS, "nonce", "ciphertext", "signature"}
    assert "远航".encode() not in crypto.canonical(env)
    assert crypto.open_envelope(env, key, keys.sign_pub) == PAYLOAD


def test_padding_hides_sizes_in_power_of_two_steps():
    # 4 length bytes + payload, rounded up: 10 -> 256, 252 -> 256, 253 -> 512, 70000 -> 2 x 64 KiB
    assert [len(crypto.pad(b"x" * n)) for n in (0, 10, 252, 253, 1000, 70000)] == [256, 256, 256, 512, 1024, 131072]
    for n in (0, 10, 253, 70000):
        assert crypto.unpad(crypto.pad(b"y" * n)) == b"y" * n


def test_two_payloads_of_different_length_seal_to_the_same_size(keys):
    key = crypto.new_team_key()
    short = crypto.seal(key, HEADER, b"a", keys)
    longer = crypto.seal(key, HEADER, b"a" * 200, keys)
    # 256 padded bytes + 16 tag bytes = 272 bytes of ciphertext either way
    assert len(crypto.b64d(short["ciphertext"])) == len(crypto.b64d(longer["ciphertext"])) == 272


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "signature"])
def test_flipped_byte_in_envelope_is_refused(keys, field):
    key = crypto.new_team_key()
    env = crypto.seal(key, HEADER, PAYLOAD, keys)
    env[field] = flip(env[field])
    with pytest.raises(Tampered, match="change 7 from device d1"):
        crypto.open_envelope(env, key, keys.sign_pub)


@pytest.mark.parametrize("field,value", [("hlc", "0190a0b0c0d1-0000-d1"), ("device_seq", 8), ("key_epoch", 2),
                                         ("team", "t2")])
def test_restamped_header_is_refused(keys, field, value):
    key = crypto.new_team_key()
    env = crypto.seal(key, HEADER, PAYLOAD, keys)
    env[field] = value
    with pytest.raises(Tampered):
        crypto.open_envelope(env, key, keys.sign_pub)


def test_restamped_header_resigned_by_another_device_is_refused(keys):
    """A thief who re-signs with its own key still fails: the signature is checked against the device's key."""
    key = crypto.new_team_key()
    thief = DeviceKeys.generate()
    forged = crypto.seal(key, {**HEADER, "hlc": "0190a0b0c0d1-0000-d1"}, b"evil", thief)
    with pytest.raises(Tampered, match="signature"):
        crypto.open_envelope(forged, key, keys.sign_pub)


def test_wrong_epoch_key_does_not_decrypt(keys):
    env = crypto.seal(crypto.new_team_key(), HEADER, PAYLOAD, keys)
    with pytest.raises(Tampered, match="does not decrypt"):
        crypto.open_envelope(env, crypto.new_team_key(), keys.sign_pub)


def test_team_key_wrapped_for_one_device_opens_only_for_it(keys):
    key = crypto.new_team_key()
    ctx = crypto.key_context("t1", 3, "d1")
    wrapped = crypto.wrap_key(key, keys.box_pub, ctx)
    assert crypto.unwrap_key(wrapped, keys, ctx) == key
    with pytest.raises(Tampered):
        crypto.unwrap_key(wrapped, DeviceKeys.generate(), ctx)
    with pytest.raises(Tampered):  # the same blob presented for another epoch
        crypto.unwrap_key(wrapped, keys, crypto.key_context("t1", 4, "d1"))


def test_device_keys_survive_being_stored_as_text(keys):
    again = DeviceKeys.from_secret(keys.secret())
    assert (again.sign_pub, again.box_pub) == (keys.sign_pub, keys.box_pub)
    message = b"hello"
    crypto.verify_signature(keys.sign_pub, message, again.signature(message), "a test message")


def test_deterministic_box_gives_equal_bytes_for_equal_chunks_and_refuses_a_flip():
    key = crypto.new_team_key()
    one = crypto.box(key, b"chunk data", b"t1/chunk", deterministic=True)
    two = crypto.box(key, b"chunk data", b"t1/chunk", deterministic=True)
    other = crypto.box(key, b"chunk datb", b"t1/chunk", deterministic=True)
    assert one == two and one[:12] != other[:12]
    assert crypto.unbox(key, one, b"t1/chunk", "chunk") == b"chunk data"
    bad = bytearray(one)
    bad[20] ^= 1
    with pytest.raises(Tampered, match="chunk does not decrypt"):
        crypto.unbox(key, bytes(bad), b"t1/chunk", "chunk")


def test_invite_token_and_wrap_key_are_independent():
    token, wrap = crypto.invite_secrets(b"s" * 32)
    assert token != wrap and len(token) == len(wrap) == 32
    assert crypto.invite_secrets(b"s" * 32) == (token, wrap)


def test_sealing_the_same_change_twice_gives_the_same_bytes(keys):
    """A retry after a lost acknowledgement must be recognised by the server as the same envelope."""
    key = crypto.new_team_key()
    assert crypto.seal(key, HEADER, PAYLOAD, keys) == crypto.seal(key, HEADER, PAYLOAD, keys)
    other = crypto.seal(key, {**HEADER, "device_seq": 8}, PAYLOAD, keys)
    assert other["nonce"] != crypto.seal(key, HEADER, PAYLOAD, keys)["nonce"]
