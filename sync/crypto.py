"""The sealed envelope and the keys around it (DESIGN §4). The server only ever sees what this makes.

- A change travels as `{v, team, device, device_seq, key_epoch, hlc, nonce, ciphertext, signature}`: the
  payload is padded, encrypted with AES-256-GCM under the team key of `key_epoch`, with the header bytes
  as associated data; the device signs header + nonce + ciphertext with its Ed25519 key.
- Team keys are 32 random bytes per epoch, wrapped for each device's X25519 key (X25519 + HKDF +
  AES-GCM), or for an invite under a key derived from the invite secret.
- Requests to the server are signed by the device too (`request_message`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.errors import DulyError
from store.i18n import N_

VERSION = 1
# Envelope versions, the header's "v" (inside the associated data, so it cannot be changed on the way). 1: the payload
# is a change's canonical JSON text. 2 (sync protocol 2): the payload is the change's canonical JSON head, a newline,
# then its operations text, compressed as the device's change log stores it (sync/client/payload.py).
VERSIONS = (1, 2)
PROTOCOL = 2  # the newest envelope version this Duly writes and reads
KEY_BYTES = 32
NONCE_BYTES = 12
HEADER_FIELDS = ("v", "team", "device", "device_seq", "key_epoch", "hlc")
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw


class Tampered(DulyError):
    """A signature or an authentication tag that does not check out: the bytes were altered."""


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    if not isinstance(text, str):
        raise Tampered(N_("expected base64 text"))
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise Tampered(N_("not valid base64 text")) from None


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def new_team_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


# -- device keys ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceKeys:
    """A device's Ed25519 signing key and X25519 key-agreement key."""

    sign: Ed25519PrivateKey
    box: X25519PrivateKey

    @classmethod
    def generate(cls) -> "DeviceKeys":
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    def secret(self) -> str:
        """Both private keys as one text, kept in the encrypted ledger."""
        return b64e(self.sign.private_bytes(_RAW, _RAW_PRIV, serialization.NoEncryption())
                    + self.box.private_bytes(_RAW, _RAW_PRIV, serialization.NoEncryption()))

    @classmethod
    def from_seed(cls, seed: bytes) -> "DeviceKeys":
        """Both keys from one 32-byte seed: the printed recovery secret is a device that lives on paper."""
        return cls(Ed25519PrivateKey.from_private_bytes(derive(seed, "recovery sign")),
                   X25519PrivateKey.from_private_bytes(derive(seed, "recovery box")))

    @classmethod
    def from_secret(cls, text: str) -> "DeviceKeys":
        raw = b64d(text)
        if len(raw) != 64:
            raise DulyError(N_("this ledger's sync keys are damaged"))
        return cls(Ed25519PrivateKey.from_private_bytes(raw[:32]), X25519PrivateKey.from_private_bytes(raw[32:]))

    @property
    def sign_pub(self) -> str:
        return b64e(self.sign.public_key().public_bytes(_RAW, _RAW_PUB))

    @property
    def box_pub(self) -> str:
        return b64e(self.box.public_key().public_bytes(_RAW, _RAW_PUB))

    def signature(self, message: bytes) -> str:
        return b64e(self.sign.sign(message))


def verify_signature(sign_pub: str, message: bytes, signature: str, what: str) -> None:
    """Raise Tampered naming `what` unless `signature` is sign_pub's signature of `message`."""
    try:
        Ed25519PublicKey.from_public_bytes(b64d(sign_pub)).verify(b64d(signature), message)
    except (InvalidSignature, ValueError, Tampered):
        raise Tampered(N_("{what} failed its signature check: it was altered or not signed by its device"),
                       what=what) from None


# -- padding -------------------------------------------------------------------------------------

_BLOCK = 64 * 1024


def padded_size(n: int) -> int:
    """Sizes are rounded up to a power of two (at least 256 bytes), then to 64 KiB steps."""
    if n > _BLOCK:
        return -(-n // _BLOCK) * _BLOCK
    size = 256
    while size < n:
        size *= 2
    return size


def pad(data: bytes) -> bytes:
    body = len(data).to_bytes(4, "big") + data
    return body + b"\0" * (padded_size(len(body)) - len(body))


def unpad(data: bytes) -> bytes:
    if len(data) < 4:
        raise Tampered(N_("padded payload too short"))
    n = int.from_bytes(data[:4], "big")
    if n > len(data) - 4 or any(data[4 + n:]):
        raise Tampered(N_("padded payload has a wrong length"))
    return data[4:4 + n]


# -- envelopes -----------------------------------------------------------------------------------

def header_of(envelope: dict) -> dict:
    return {k: envelope.get(k) for k in HEADER_FIELDS}


def _signed_part(header: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return b"duly-envelope-v1\n" + header + b"\n" + nonce + ciphertext


def seal(team_key: bytes, header: dict, payload: bytes, keys: DeviceKeys) -> dict:
    """Encrypt and sign one payload; the header goes along in clear as associated data. Deterministic."""
    header = {k: header[k] for k in HEADER_FIELDS}
    head = canonical(header)
    # The nonce comes from an HMAC of header and payload: sealing the same change again (a retry after a lost
    # acknowledgement) gives the same bytes, which the server recognises; a nonce never repeats for two
    # different plaintexts under one key.
    nonce = hmac.new(team_key, b"duly-envelope-nonce\n" + head + b"\n" + payload, hashlib.sha256).digest()[:NONCE_BYTES]
    ciphertext = AESGCM(team_key).encrypt(nonce, pad(payload), head)
    return {**header, "nonce": b64e(nonce), "ciphertext": b64e(ciphertext),
            "signature": keys.signature(_signed_part(head, nonce, ciphertext))}


def sealed_size(payload_bytes: int) -> int:
    """About how many bytes an envelope of a payload this long takes in a request: its ciphertext (padded, with
    the tag) in base64, and the header, nonce and signature around it."""
    return -(-(padded_size(payload_bytes + 4) + 16) // 3) * 4 + 400


def check_envelope_signature(envelope: dict, sign_pub: str) -> None:
    """What the server can check without a key: the envelope is whole and signed by its device."""
    what = f"change {envelope.get('device_seq')} from device {envelope.get('device')}"
    try:
        head = canonical(header_of(envelope))
        signed = _signed_part(head, b64d(envelope["nonce"]), b64d(envelope["ciphertext"]))
    except (KeyError, Tampered, TypeError):
        raise Tampered(N_("{what} is not a complete envelope"), what=what) from None
    verify_signature(sign_pub, signed, envelope.get("signature", ""), what)


def open_envelope(envelope: dict, team_key: bytes, sign_pub: str) -> bytes:
    """Check the signature, then decrypt; raise Tampered on any altered byte."""
    check_envelope_signature(envelope, sign_pub)
    try:
        plain = AESGCM(team_key).decrypt(b64d(envelope["nonce"]), b64d(envelope["ciphertext"]),
                                         canonical(header_of(envelope)))
    except (InvalidTag, ValueError):
        raise Tampered(N_("change {value} from device {value2} does not decrypt under its team key: it was altered"),
                       value=envelope.get('device_seq'), value2=envelope.get('device')) from None
    return unpad(plain)


# -- symmetric boxes (snapshot chunks, manifests, invites) ---------------------------------------

def box(key: bytes, plaintext: bytes, aad: bytes, *, deterministic: bool = False) -> bytes:
    """nonce || AES-GCM ciphertext. Deterministic boxes take the nonce from an HMAC of the plaintext, so
    equal chunks give equal bytes (content addressing dedupes them) and no nonce is ever reused for two
    different plaintexts."""
    if deterministic:
        nonce = hmac.new(key, b"duly-chunk-nonce\n" + aad + plaintext, hashlib.sha256).digest()[:NONCE_BYTES]
    else:
        nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unbox(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise Tampered(N_("{what} does not decrypt under the team key: it was altered"), what=what) from None


def derive(secret: bytes, label: str, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=b"duly " + label.encode()).derive(secret)


# -- wrapping team keys for one device ------------------------------------------------------------

def wrap_key(team_key: bytes, recipient_box_pub: str, context: str) -> str:
    """The team key sealed for one device: X25519 with a fresh ephemeral key, HKDF, AES-GCM."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(b64d(recipient_box_pub)))
    epk = ephemeral.public_key().public_bytes(_RAW, _RAW_PUB)
    kek = derive(shared + epk + b64d(recipient_box_pub), "key wrap " + context)
    return b64e(epk + box(kek, team_key, context.encode()))


def unwrap_key(wrapped: str, keys: DeviceKeys, context: str) -> bytes:
    raw = b64d(wrapped)
    epk, sealed = raw[:32], raw[32:]
    try:
        shared = keys.box.exchange(X25519PublicKey.from_public_bytes(epk))
    except ValueError:
        raise Tampered(N_("the team key for {context} is damaged"), context=context) from None
    kek = derive(shared + epk + b64d(keys.box_pub), "key wrap " + context)
    return unbox(kek, sealed, context.encode(), f"the team key for {context}")


def epoch_proof(previous_key: bytes, team: str, epoch: int, new_key: bytes) -> str:
    """Proof, under the key of the epoch before, that a member of the team made epoch `epoch`'s key: the server
    holds no key, so it cannot hand a device a key of its own choosing and read what is sealed under it."""
    return b64e(box(previous_key, hashlib.sha256(new_key).digest(), f"{team}/epoch-proof/{epoch}".encode()))


def check_epoch_proof(previous_key: bytes, team: str, epoch: int, new_key: bytes, proof: str) -> None:
    what = f"the team key of epoch {epoch}"
    found = unbox(previous_key, b64d(proof), f"{team}/epoch-proof/{epoch}".encode(), what)
    if not hmac.compare_digest(found, hashlib.sha256(new_key).digest()):
        raise Tampered(N_("{what} is not the key its proof was made for"), what=what)


def key_context(team: str, epoch: int, device: str) -> str:
    return f"{team}/{epoch}/{device}"


# -- signed requests -----------------------------------------------------------------------------

def request_message(method: str, path: str, team: str, device: str, stamp: str, body: bytes,
                    nonce: str = "", digest: str | None = None) -> bytes:
    """What a device signs for every call: method, path with query, team, device, time, a nonce the server
    accepts once (so a request cannot be replayed), body digest (`digest`: the body's SHA-256 in hex, when the
    caller has it already, as a snapshot chunk's content address is)."""
    return "\n".join(["duly-request-v2", method.upper(), path, team, device, stamp, nonce,
                      digest or hashlib.sha256(body).hexdigest()]).encode()


# -- invites -------------------------------------------------------------------------------------

def invite_secrets(secret: bytes) -> tuple[bytes, bytes]:
    """(token the server checks, key that seals the team keys for the newcomer); the server never sees the
    second."""
    return derive(secret, "invite token"), derive(secret, "invite wrap")


def token_hash(token: bytes) -> str:
    return hashlib.sha256(token).hexdigest()


def invite_record_message(team: str, invite_id: str, role: str, expires: int, auth_hash: str, blob: str) -> bytes:
    return canonical({"what": "duly-invite-v1", "team": team, "invite": invite_id, "role": role,
                      "expires": expires, "auth_hash": auth_hash,
                      "blob": hashlib.sha256(blob.encode()).hexdigest()})
