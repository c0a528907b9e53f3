"""Check a ledgercore proof with this one file and the `blake3` package (PyNaCl optional).

This file imports nothing from ledgercore, numpy or any native code: copy it anywhere and run

    python proofcheck.py PROOF.json --head HEAD_HASH [--owner-key KEY]

where PROOF.json is what `Ledger.prove_transfer(...).to_json()` (or `prove_account`,
`prove_consistency`) wrote and HEAD_HASH is the hash of the ledger's head block, obtained apart
from the proof (published by the ledger's operator, say). It prints what the proof shows and exits
0 when the proof holds, 1 when it does not, 2 when the input cannot be read as a proof. Every byte
it reads is described in docs/formats.md.

What is checked:

1. Each header's fields are those of a well-formed block header, and its hash is BLAKE3-256 of
   its bytes; the head's hash is the trusted one.
2. Every other header in the proof is bound to the head: from header format 2 on, each header
   commits to `history_root`, the Merkle root over the hashes of all earlier blocks (leaf i is
   the hash of block i), so the proof carries the inclusion of the header's hash at its height in
   the head's history tree. A header moved to another height, clock or root, or swapped for
   another block's, no longer hashes to that leaf.
3. The Merkle paths (RFC 9162, with BLAKE3 keyed by LEAF_KEY and NODE_KEY): a transfer's record is
   leaf `leaf_index` of its block's log and of the head's log, the index lies in the range its
   block appended, and the record's timestamp lies within the block's; an account's record is
   slot `slot` of its block's state tree; an old log is a prefix of a new one.
4. Given its debit account's owner key, a transfer's Ed25519 signature (with PyNaCl), over its
   message on the ledger its block names (`ledger_id`).

Answers: the check_* functions return True or False; a proof whose JSON has a missing field or a
field of the wrong type (an index given as 0.0 or false, a hash that is not 64 lowercase hex
digits) raises ProofError, a ValueError, naming the field.

A member's proof of liabilities (check_liability_proof, docs/formats.md section 6) is checked
apart from the ledger's head: each of the member's leaves leads, through nodes that commit to
both children's sums, to the published root hash and total, and their leaves add up to their
balance. From the command line: `python proofcheck.py PROOF.json --head ROOT_HASH --total TOTAL
--balance BALANCE`.

Example:
    >>> leaves = [b"alice pays bob 5", b"bob pays carol 2", b"carol pays alice 1"]
    >>> a, b, c = (leaf_hash(leaf) for leaf in leaves)
    >>> root = node_hash(node_hash(a, b), c)
    >>> verify_inclusion(leaves[2], 2, 3, [node_hash(a, b)], root)
    True
    >>> genesis = parse_header(genesis_header_bytes())
    >>> genesis["height"], genesis["kind"], genesis["history_root"] == EMPTY_ROOT
    (0, 'genesis', True)
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Sequence
from typing import Any

from blake3 import blake3

__all__ = [
    "ProofError",
    "ProofTypeError",
    "check_account_proof",
    "check_consistency_proof",
    "check_liability_proof",
    "check_proof",
    "check_transfer_proof",
    "check_transfer_signature",
    "decode_account",
    "decode_transfer",
    "header_bytes_from_dict",
    "leaf_hash",
    "liability_leaf_hash",
    "liability_node_hash",
    "node_hash",
    "parse_header",
    "signed_message",
    "verify_consistency",
    "verify_inclusion",
    "verify_liability_leaf",
]


class ProofError(ValueError):
    """Input that cannot be read as what it claims to be; the message names the field."""


class ProofTypeError(ProofError, TypeError):
    """A ProofError about a value of the wrong type (an index given as 0.0, a hash as a str)."""


# ---------------------------------------------------------------------------- Merkle trees

LEAF_CONTEXT = "ledgercore 2026-11 merkle leaf v1"
NODE_CONTEXT = "ledgercore 2026-11 merkle node v1"
LEAF_KEY = blake3(b"", derive_key_context=LEAF_CONTEXT).digest()
NODE_KEY = blake3(b"", derive_key_context=NODE_CONTEXT).digest()
EMPTY_ROOT = blake3(b"").digest()
HASH_SIZE = 32
# Sizes and indices are unsigned 64-bit on the wire.
TREE_SIZE_MAX = 2**64 - 1
U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf's data: BLAKE3 keyed with LEAF_KEY.

    Example:
        >>> len(leaf_hash(b"transfer 1"))
        32
    """
    return blake3(leaf, key=LEAF_KEY).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: BLAKE3 keyed with NODE_KEY over the 64 bytes left || right.

    Example:
        >>> node_hash(bytes(32), bytes(32)) != node_hash(bytes(32), b"\\x01" * 32)
        True
    """
    return blake3(bytes(left) + bytes(right), key=NODE_KEY).digest()


def _split(size: int) -> int:
    """The largest power of two below size (size >= 2): the leaves of the left subtree."""
    return 1 << ((size - 1).bit_length() - 1)


def _check_int(value: Any, name: str, low: int, high: int, bound: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofTypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise ProofError(f"{name}: expected {low}..{high}{bound}, got {value}")
    return value


def _check_bytes(value: Any, name: str, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ProofTypeError(f"{name}: expected {size} bytes, got {type(value).__name__}")
    value = bytes(value)
    if len(value) != size:
        raise ProofError(f"{name}: expected {size} bytes, got {len(value)}")
    return value


def _check_hash(value: Any, name: str) -> bytes:
    return _check_bytes(value, name, HASH_SIZE)


def _check_hashes(hashes: Any, name: str) -> list[bytes]:
    if isinstance(hashes, (bytes, bytearray, memoryview, str)) or not isinstance(hashes, Sequence):
        raise ProofTypeError(f"{name}: expected a sequence of {HASH_SIZE}-byte hashes")
    return [_check_hash(value, f"{name}[{i}]") for i, value in enumerate(hashes)]


def inclusion_proof_size(index: int, size: int) -> int:
    """Hashes in the RFC 9162 inclusion proof of leaf `index` in a tree of `size` leaves
    (PATH(m, D[n]) of RFC 9162 section 2.1.3.1, on sizes alone).

    Raises:
        ProofError: index or size out of range.

    Example:
        >>> inclusion_proof_size(2, 3), inclusion_proof_size(0, 8)
        (1, 3)
    """
    _check_int(size, "size", 1, TREE_SIZE_MAX)
    _check_int(index, "index", 0, size - 1, f" (size {size})")
    count = 0
    while size > 1:
        split = _split(size)
        if index < split:
            size = split
        else:
            index -= split
            size -= split
        count += 1
    return count


def consistency_proof_size(old_size: int, new_size: int) -> int:
    """Hashes in the RFC 9162 consistency proof between trees of old_size and new_size leaves
    (SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1, on sizes alone); none when old_size is 0
    or new_size.

    Raises:
        ProofError: a size out of range.

    Example:
        >>> consistency_proof_size(3, 7), consistency_proof_size(4, 7)
        (4, 1)
    """
    _check_int(new_size, "new_size", 0, TREE_SIZE_MAX)
    _check_int(old_size, "old_size", 0, new_size, " (new_size)")
    if old_size in (0, new_size):
        return 0
    count = 0
    on_left_edge = True  # the "b" of SUBPROOF: the old tree is still a whole node
    while old_size != new_size:
        split = _split(new_size)
        if old_size <= split:
            new_size = split
        else:
            old_size -= split
            new_size -= split
            on_left_edge = False
        count += 1
    return count if on_left_edge else count + 1


def verify_inclusion(
    leaf: bytes, index: int, size: int, hashes: Sequence[bytes], root: bytes
) -> bool:
    """Check an RFC 9162 inclusion proof: leaf `index` of the tree of `size` leaves is `leaf`.

    Args:
        leaf: the leaf's data (not its hash).
        index: the leaf's index, 0 <= index < size.
        size: the tree's leaf count.
        hashes: the proof's 32-byte hashes, leaf side first.
        root: the tree's 32-byte root.

    Returns:
        True when the proof holds, False otherwise.

    Raises:
        ProofError: index or size out of range, a hash not 32 bytes, or a proof whose length is
            not the one RFC 9162 gives for index and size.

    Example:
        >>> a, b = leaf_hash(b"a"), leaf_hash(b"b")
        >>> verify_inclusion(b"a", 0, 2, [b], node_hash(a, b))
        True
    """
    hashes = _check_hashes(hashes, "proof")
    expected = inclusion_proof_size(index, size)
    root = _check_hash(root, "root")
    if len(hashes) != expected:
        raise ProofError(
            f"proof: {len(hashes)} hashes, but leaf {index} of a tree of {size} needs {expected}"
        )
    # RFC 9162 section 2.1.3.2. fn is the node's index on its level, sn the last index there.
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in hashes:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while (fn & 1) == 0 and fn != 0:  # skip the levels where this node has no sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, hashes: Sequence[bytes]
) -> bool:
    """Check an RFC 9162 consistency proof: the tree of old_size leaves with root old_root is a
    prefix of the tree of new_size leaves with root new_root.

    Equal sizes need an empty proof and equal roots; the empty tree (old_size 0, whose root is
    EMPTY_ROOT) is a prefix of every tree, with an empty proof.

    Raises:
        ProofError: sizes out of range, a hash not 32 bytes, or a proof whose length is not the
            one RFC 9162 gives for the two sizes.

    Example:
        >>> a, b, c = (leaf_hash(leaf) for leaf in (b"a", b"b", b"c"))
        >>> verify_consistency(2, 3, node_hash(a, b), node_hash(node_hash(a, b), c), [c])
        True
    """
    hashes = _check_hashes(hashes, "proof")
    expected = consistency_proof_size(old_size, new_size)
    old_root = _check_hash(old_root, "old_root")
    new_root = _check_hash(new_root, "new_root")
    if len(hashes) != expected:
        raise ProofError(
            f"proof: {len(hashes)} hashes, but sizes {old_size} and {new_size} need {expected}"
        )
    if old_size == new_size:
        return old_root == new_root
    if old_size == 0:
        return old_root == EMPTY_ROOT
    # RFC 9162 section 2.1.4.2: when the old tree is a whole subtree (a power of two), its root
    # is the proof's implicit first hash.
    if old_size & (old_size - 1) == 0:
        hashes = [old_root, *hashes]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while (fn & 1) == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# ---------------------------------------------------------------------------- block headers

HEADER_MAGIC = b"LCBH"
HEADER_VERSION = 2
"""The header format blocks are written in; format 1 headers (no history_root) still parse."""
BLOCK_KINDS = ("genesis", "accounts", "transfers")
"""A header's kind byte indexes this tuple."""
_HEADER_LAYOUTS = {
    1: struct.Struct("<4sBBHQQQQII32s32s32s32s"),
    2: struct.Struct("<4sBBHQQQQII32s32s32s32s32s16s"),
}
HEADER_SIZES = {version: layout.size for version, layout in _HEADER_LAYOUTS.items()}
LEDGER_ID_SIZE = 16
"""A ledger's id: random bytes its genesis block (or, for a store of format 1 headers, its
first format 2 block) fixes, named by every format 2 header and bound into every signature."""
_HEADER_INTS = (
    ("height", U64_MAX),
    ("timestamp_ns", U64_MAX),
    ("log_size", U64_MAX),
    ("state_size", U64_MAX),
    ("record_count", U32_MAX),
    ("transfer_count", U32_MAX),
)
_HEADER_HASHES = ("prev_hash", "log_root", "state_root", "body_hash")


def pack_header(fields: dict[str, Any]) -> bytes:
    """A header's bytes from its fields (as parse_header gives them; hashes as bytes).

    Raises:
        ProofError: a missing field, or one of the wrong type or out of range.

    Example:
        >>> pack_header(parse_header(genesis_header_bytes())) == genesis_header_bytes()
        True
    """
    version = _check_int(fields.get("version", HEADER_VERSION), "version", 1, HEADER_VERSION)
    kind = fields.get("kind")
    if kind not in BLOCK_KINDS:
        raise ProofError(f"kind: expected one of {', '.join(BLOCK_KINDS)}, got {kind!r}")
    values: list[Any] = [HEADER_MAGIC, version, BLOCK_KINDS.index(kind), 0]
    for name, high in _HEADER_INTS:
        values.append(_check_int(fields.get(name), name, 0, high))
    for name in _HEADER_HASHES:
        values.append(_check_hash(fields.get(name), name))
    if version >= 2:
        values.append(_check_hash(fields.get("history_root"), "history_root"))
        values.append(_check_ledger_id(fields.get("ledger_id"), "ledger_id"))
    else:
        for name in ("history_root", "ledger_id"):
            if fields.get(name) is not None:
                raise ProofError(f"{name}: a format 1 header has none")
    return _HEADER_LAYOUTS[version].pack(*values)


def _check_ledger_id(value: Any, name: str) -> bytes:
    return _check_bytes(value, name, LEDGER_ID_SIZE)


def parse_header(data: bytes) -> dict[str, Any]:
    """A header's fields from its bytes, strictly, with its "hash" and "version".

    Returns:
        A dict: version, kind (a name of BLOCK_KINDS), the integers, the hashes as bytes
        (history_root and ledger_id None in format 1) and hash (BLAKE3-256 of the bytes).

    Raises:
        ProofError: a wrong length, magic, version, kind or reserved field.

    Example:
        >>> parse_header(b"LCBH")
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: header: 4 bytes, a block header has 176 or 224
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProofError(f"header: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    version = data[4] if len(data) > 4 else None
    if version not in _HEADER_LAYOUTS or len(data) != HEADER_SIZES[version]:
        if len(data) not in HEADER_SIZES.values():
            sizes = " or ".join(str(size) for size in sorted(HEADER_SIZES.values()))
            raise ProofError(f"header: {len(data)} bytes, a block header has {sizes}")
        raise ProofError(f"header: version {version} in {len(data)} bytes")
    values = _HEADER_LAYOUTS[version].unpack(data)
    magic, _, kind, reserved = values[:4]
    if magic != HEADER_MAGIC:
        raise ProofError(f"header: starts with {magic!r}, expected {HEADER_MAGIC!r}")
    if kind >= len(BLOCK_KINDS):
        raise ProofError(f"header: block kind {kind}, expected 0..{len(BLOCK_KINDS) - 1}")
    if reserved != 0:
        raise ProofError(f"header: reserved field {reserved}, expected 0")
    fields: dict[str, Any] = {"version": version, "kind": BLOCK_KINDS[kind]}
    names = [name for name, _ in _HEADER_INTS] + list(_HEADER_HASHES)
    fields.update(zip(names, values[4:14], strict=True))
    fields["history_root"] = values[14] if version >= 2 else None
    fields["ledger_id"] = values[15] if version >= 2 else None
    fields["hash"] = blake3(data).digest()
    return fields


def genesis_header_bytes(
    version: int = HEADER_VERSION, ledger_id: bytes = bytes(LEDGER_ID_SIZE)
) -> bytes:
    """The bytes of the genesis block a store starts with (its fields: docs/formats.md); in
    format 2 it names the ledger's id.

    Example:
        >>> len(genesis_header_bytes()), len(genesis_header_bytes(1))
        (224, 176)
    """
    fields = {name: 0 for name, _ in _HEADER_INTS}
    fields.update(
        version=version,
        kind="genesis",
        prev_hash=bytes(HASH_SIZE),
        log_root=EMPTY_ROOT,
        state_root=EMPTY_ROOT,
        body_hash=EMPTY_ROOT,
        history_root=EMPTY_ROOT if version >= 2 else None,
        ledger_id=ledger_id if version >= 2 else None,
    )
    return pack_header(fields)


def _hex(value: Any, name: str, size: int | None = HASH_SIZE) -> bytes:
    """Bytes from lowercase hex, strictly: a str of 2 * size hex digits (any even length when
    size is None)."""
    if not isinstance(value, str):
        raise ProofTypeError(f"{name}: expected a hex string, got {type(value).__name__}")
    if size is not None and len(value) != 2 * size:
        raise ProofError(f"{name}: expected {2 * size} hex digits, got {len(value)}")
    if value != value.lower() or len(value) % 2:
        raise ProofError(f"{name}: expected lowercase hex of whole bytes")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ProofError(f"{name}: not hex") from None


def _field(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProofError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if key not in data:
        raise ProofError(f"{where}: no {key!r}")
    return data[key]


def header_bytes_from_dict(data: Any, where: str = "header") -> bytes:
    """A header's bytes from its JSON dict (BlockHeader.to_dict), whose "hash" must match.

    Raises:
        ProofError: a missing field, a field of the wrong type, or a hash that does not match.

    Example:
        >>> header_bytes_from_dict({"kind": "genesis"})
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: header: no 'version'
    """
    version = _check_int(_field(data, "version", where), f"{where}.version", 1, HEADER_VERSION)
    fields: dict[str, Any] = {"version": version, "kind": _field(data, "kind", where)}
    if fields["kind"] not in BLOCK_KINDS:
        raise ProofError(f"{where}.kind: expected one of {BLOCK_KINDS}, got {fields['kind']!r}")
    for name, high in _HEADER_INTS:
        fields[name] = _check_int(_field(data, name, where), f"{where}.{name}", 0, high)
    hashes = _HEADER_HASHES + (("history_root",) if version >= 2 else ())
    for name in hashes:
        fields[name] = _hex(_field(data, name, where), f"{where}.{name}")
    if version >= 2:
        ledger_id = _field(data, "ledger_id", where)
        fields["ledger_id"] = _hex(ledger_id, f"{where}.ledger_id", LEDGER_ID_SIZE)
    raw = pack_header(fields)
    if "hash" in data and _hex(data["hash"], f"{where}.hash") != blake3(raw).digest():
        raise ProofError(f"{where}.hash: does not match the header's fields")
    return raw


# ---------------------------------------------------------------------------- records

TRANSFER_SIZE = 192
ACCOUNT_SIZE = 160
SIGNING_PREFIX = b"ledgercore/transfer/v2\0"
"""Followed by the ledger's id: a signature holds on that ledger only."""
SIGNING_PREFIX_V1 = b"ledgercore/transfer/v1\0"
"""Of blocks with format 1 headers, which named no ledger."""
SIGNED_SIZE = 120
"""The signed bytes of a transfer: SIGNING_PREFIX, the ledger's id, then bytes [0, SIGNED_SIZE)
of its record (in a block with a format 1 header: SIGNING_PREFIX_V1, then those bytes)."""
TRANSFER_FLAGS = ("linked", "pending", "post_pending", "void_pending")
ACCOUNT_FLAGS = (
    "linked",
    "debits_must_not_exceed_credits",
    "credits_must_not_exceed_debits",
    "frozen",
    "closed",
)
# (name, offset, size) of each little-endian unsigned field; u128s are 16 bytes.
_TRANSFER_FIELDS = (
    ("id", 0, 16),
    ("debit_account_id", 16, 16),
    ("credit_account_id", 32, 16),
    ("amount", 48, 16),
    ("pending_id", 64, 16),
    ("user_data_128", 80, 16),
    ("timeout_s", 96, 4),
    ("ledger", 100, 4),
    ("code", 104, 2),
    ("flags", 106, 2),
    ("user_data_32", 108, 4),
    ("user_data_64", 112, 8),
    ("timestamp", 120, 8),
)
_ACCOUNT_FIELDS = (
    ("id", 0, 16),
    ("debits_pending", 16, 16),
    ("debits_posted", 32, 16),
    ("credits_pending", 48, 16),
    ("credits_posted", 64, 16),
    ("user_data_128", 80, 16),
    ("user_data_64", 128, 8),
    ("user_data_32", 136, 4),
    ("ledger", 144, 4),
    ("code", 148, 2),
    ("flags", 150, 2),
    ("timestamp", 152, 8),
)


def _decode(record: Any, kind: str, size: int, fields: tuple, flags: tuple) -> dict[str, Any]:
    if not isinstance(record, (bytes, bytearray)) or len(record) != size:
        raise ProofError(f"record: expected {size} bytes of {kind}")
    record = bytes(record)
    decoded: dict[str, Any] = {
        name: int.from_bytes(record[offset : offset + width], "little")
        for name, offset, width in fields
    }
    decoded["flag_names"] = [name for bit, name in enumerate(flags) if decoded["flags"] >> bit & 1]
    return decoded


def decode_transfer(record: bytes) -> dict[str, Any]:
    """A transfer record's fields: integers (amounts in minor units), flag names, hex bytes.

    Raises:
        ProofError: the record is not TRANSFER_SIZE bytes.

    Example:
        >>> decode_transfer(bytes(192))["amount"]
        0
    """
    fields = _decode(record, "a transfer", TRANSFER_SIZE, _TRANSFER_FIELDS, TRANSFER_FLAGS)
    fields["signature"] = bytes(record[128:192]).hex()
    return fields


def decode_account(record: bytes) -> dict[str, Any]:
    """An account record's fields: integers (balances in minor units), flag names, hex bytes.

    Raises:
        ProofError: the record is not ACCOUNT_SIZE bytes.

    Example:
        >>> decode_account(bytes(160))["flag_names"]
        []
    """
    fields = _decode(record, "an account", ACCOUNT_SIZE, _ACCOUNT_FIELDS, ACCOUNT_FLAGS)
    fields["owner_key"] = bytes(record[96:128]).hex()
    return fields


def signed_message(record: bytes, ledger_id: bytes | None) -> bytes:
    """The bytes a transfer's signature is over, on the ledger `ledger_id` (None: the message of
    a block with a format 1 header, which named no ledger).

    Example:
        >>> len(signed_message(bytes(192), bytes(16))), len(signed_message(bytes(192), None))
        (159, 143)
    """
    if ledger_id is None:
        return SIGNING_PREFIX_V1 + bytes(record[:SIGNED_SIZE])
    return SIGNING_PREFIX + _check_ledger_id(ledger_id, "ledger_id") + bytes(record[:SIGNED_SIZE])


def check_transfer_signature(
    record: bytes, owner_key: bytes, ledger_id: bytes | None = None
) -> bool:
    """True if a transfer record's signature is its debit account owner's over its signed bytes
    on the ledger `ledger_id` (the ledger_id of the block that holds it; None for a block with a
    format 1 header).

    Needs PyNaCl (libsodium); the ledger's own verifier follows the same equation, and refuses
    the small-order and non-canonical keys and signatures libsodium refuses too.

    Raises:
        ProofError: a record or key of the wrong size, or PyNaCl missing.

    Example:
        >>> check_transfer_signature(bytes(192), bytes(32), bytes(16))
        False
    """
    if not isinstance(record, (bytes, bytearray)) or len(record) != TRANSFER_SIZE:
        raise ProofError(f"record: expected {TRANSFER_SIZE} bytes of a transfer")
    key = _check_hash(owner_key, "owner_key")
    try:
        from nacl.exceptions import BadSignatureError, CryptoError
        from nacl.signing import VerifyKey
    except ImportError:
        raise ProofError("checking a signature needs PyNaCl: pip install pynacl") from None
    message = signed_message(record, ledger_id)
    try:
        VerifyKey(key).verify(message, bytes(record[128:192]))
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------- proofs

PROOF_VERSION = 2
"""The version of the ledger proofs' JSON and bytes this file reads."""


def _path(data: Any, kind: str, numbers: tuple[str, str], where: str) -> tuple[int, int, list]:
    """(first number, second number, hashes) of a Merkle path's JSON dict."""
    if _field(data, "type", where) != kind:
        raise ProofError(f"{where}.type: expected {kind!r}, got {data['type']!r}")
    _check_int(_field(data, "version", where), f"{where}.version", 1, 1)
    first = _check_int(_field(data, numbers[0], where), f"{where}.{numbers[0]}", 0, U64_MAX)
    second = _check_int(_field(data, numbers[1], where), f"{where}.{numbers[1]}", 0, U64_MAX)
    hashes = _field(data, "hashes", where)
    if not isinstance(hashes, list):
        raise ProofError(f"{where}.hashes: expected a list, got {type(hashes).__name__}")
    return first, second, [_hex(value, f"{where}.hashes[{i}]") for i, value in enumerate(hashes)]


def _history_path(data: Any, where: str) -> tuple[int, int, list] | None:
    value = _field(data, "in_history", where)
    if value is None:
        return None
    return _path(value, "inclusion", ("leaf_index", "tree_size"), f"{where}.in_history")


def _holds(check: Any, *args: Any) -> bool:
    """A verifier's answer, with any ProofError (a path of the wrong length for its sizes, an
    index out of range) counted as a proof that does not hold."""
    try:
        return bool(check(*args))
    except ProofError:
        return False


def _bound(block: dict, head: dict, in_history: tuple[int, int, list] | None) -> bool:
    """True if `block` is the head, or its hash is leaf block.height of the head's history."""
    if block["height"] == head["height"]:
        return in_history is None and block["hash"] == head["hash"]
    if in_history is None or head["history_root"] is None or block["height"] > head["height"]:
        return False
    index, size, hashes = in_history
    if index != block["height"] or size != head["height"]:
        return False
    return _holds(verify_inclusion, block["hash"], index, size, hashes, head["history_root"])


def _trusted(head: dict, head_hash: bytes | None) -> bool:
    return head_hash is None or head["hash"] == head_hash


def verify_transfer(
    record: bytes,
    leaf_index: int,
    block: bytes,
    head: bytes,
    in_block: tuple[int, int, Sequence[bytes]],
    in_head: tuple[int, int, Sequence[bytes]],
    in_history: tuple[int, int, Sequence[bytes]] | None,
    head_hash: bytes | None = None,
) -> bool:
    """True if `record` is leaf leaf_index of the log of `block` (which appended it, at its
    clock) and of `head`, `block` is bound to `head`, and head hashes to head_hash (if given).

    The paths are (leaf_index, tree_size, hashes) with the sizes of the logs they are for;
    in_history (block.height, head.height, hashes), or None when block is the head.

    Example:
        >>> genesis = genesis_header_bytes()
        >>> verify_transfer(bytes(192), 0, genesis, genesis, (0, 0, []), (0, 0, []), None)
        False
    """
    try:
        block_fields, head_fields = parse_header(block), parse_header(head)
    except ProofError:
        return False
    if not _trusted(head_fields, head_hash) or not _bound(block_fields, head_fields, in_history):
        return False
    if block_fields["kind"] != "transfers" or len(record) != TRANSFER_SIZE:
        return False
    first = block_fields["log_size"] - block_fields["transfer_count"]
    if not first <= leaf_index < block_fields["log_size"]:
        return False
    clock = block_fields["timestamp_ns"]
    timestamp = int.from_bytes(record[120:128], "little")
    if not clock <= timestamp < clock + block_fields["record_count"]:
        return False
    for (index, size, hashes), header in ((in_block, block_fields), (in_head, head_fields)):
        if index != leaf_index or size != header["log_size"]:
            return False
        if not _holds(verify_inclusion, record, index, size, hashes, header["log_root"]):
            return False
    return True


def verify_account(
    record: bytes,
    slot: int,
    block: bytes,
    head: bytes,
    path: tuple[int, int, Sequence[bytes]],
    in_history: tuple[int, int, Sequence[bytes]] | None,
    head_hash: bytes | None = None,
) -> bool:
    """True if `record` is slot `slot` of the state tree of `block`, `block` is bound to
    `head`, and head hashes to head_hash (if given); path is (slot, state_size, hashes).

    Example:
        >>> genesis = genesis_header_bytes()
        >>> verify_account(bytes(160), 0, genesis, genesis, (0, 0, []), None)
        False
    """
    try:
        block_fields, head_fields = parse_header(block), parse_header(head)
    except ProofError:
        return False
    if not _trusted(head_fields, head_hash) or not _bound(block_fields, head_fields, in_history):
        return False
    if len(record) != ACCOUNT_SIZE:
        return False
    # An account's timestamp is the clock of the block that created it: no later than this one.
    created = int.from_bytes(record[152:160], "little")
    if created >= block_fields["timestamp_ns"] + max(block_fields["record_count"], 1):
        return False
    index, size, hashes = path
    if index != slot or size != block_fields["state_size"]:
        return False
    return _holds(verify_inclusion, record, index, size, hashes, block_fields["state_root"])


def verify_chain_consistency(
    old: bytes,
    new: bytes,
    path: tuple[int, int, Sequence[bytes]],
    in_history: tuple[int, int, Sequence[bytes]] | None,
    head_hash: bytes | None = None,
) -> bool:
    """True if the log of `old` is a prefix of the log of `new`, `old` is bound to `new`, and
    new hashes to head_hash (if given); path is (old.log_size, new.log_size, hashes).

    Example:
        >>> genesis = genesis_header_bytes()
        >>> verify_chain_consistency(genesis, genesis, (0, 0, []), None)
        True
    """
    try:
        old_fields, new_fields = parse_header(old), parse_header(new)
    except ProofError:
        return False
    if not _trusted(new_fields, head_hash) or not _bound(old_fields, new_fields, in_history):
        return False
    old_size, new_size, hashes = path
    if old_size != old_fields["log_size"] or new_size != new_fields["log_size"]:
        return False
    return _holds(
        verify_consistency, old_size, new_size, old_fields["log_root"], new_fields["log_root"],
        hashes,
    )  # fmt: skip


def _load(proof: Any) -> dict[str, Any]:
    if isinstance(proof, (str, bytes, bytearray)):
        try:
            proof = json.loads(proof)
        except ValueError as error:
            raise ProofError(f"proof: not JSON ({error})") from None
    if not isinstance(proof, dict):
        raise ProofError(f"proof: expected a JSON object, got {type(proof).__name__}")
    version = _field(proof, "version", "proof")
    if version != PROOF_VERSION or isinstance(version, bool):
        raise ProofError(
            f"proof.version: {version!r}; this file reads version {PROOF_VERSION} (a version 1 "
            "proof does not bind its block header to the head: ask the ledger for a new one)"
        )
    return proof


def _head_hash(head_hash: bytes | str | None) -> bytes | None:
    if head_hash is None or isinstance(head_hash, bytes):
        return None if head_hash is None else _check_hash(head_hash, "head_hash")
    return _hex(head_hash, "head_hash")


def check_transfer_proof(proof: Any, head_hash: bytes | str | None) -> bool:
    """Check a transfer proof's JSON (text or dict) against the trusted head's hash.

    Args:
        proof: what TransferProof.to_json wrote, or its dict.
        head_hash: the head block's hash (bytes or hex), obtained apart from the proof; None
            trusts the head the proof carries (then check its hash yourself).

    Returns:
        True if the proof holds.

    Raises:
        ProofError: the input is not a transfer proof (a missing or mistyped field).

    Example:
        >>> check_transfer_proof('{"type": "transfer", "version": 1}', None)
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: proof.version: 1; this file reads version 2 (a version 1 proof does not bind its block header to the head: ask the ledger for a new one)
    """  # noqa: E501
    data = _load(proof)
    if _field(data, "type", "proof") != "transfer":
        raise ProofError(f"proof.type: expected 'transfer', got {data['type']!r}")
    record = _hex(_field(data, "record", "proof"), "proof.record", TRANSFER_SIZE)
    leaf_index = _check_int(_field(data, "leaf_index", "proof"), "proof.leaf_index", 0, U64_MAX)
    block = header_bytes_from_dict(_field(data, "block", "proof"), "proof.block")
    head = header_bytes_from_dict(_field(data, "head", "proof"), "proof.head")
    numbers = ("leaf_index", "tree_size")
    in_block = _path(_field(data, "in_block", "proof"), "inclusion", numbers, "proof.in_block")
    in_head = _path(_field(data, "in_head", "proof"), "inclusion", numbers, "proof.in_head")
    in_history = _history_path(data, "proof")
    trusted = _head_hash(head_hash)
    return verify_transfer(record, leaf_index, block, head, in_block, in_head, in_history, trusted)


def check_account_proof(proof: Any, head_hash: bytes | str | None) -> bool:
    """Check an account proof's JSON (text or dict) against the trusted head's hash.

    Args, Returns, Raises: as check_transfer_proof, for AccountProof.to_json.

    Example:
        >>> check_account_proof({"type": "account"}, None)
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: proof: no 'version'
    """
    data = _load(proof)
    if _field(data, "type", "proof") != "account":
        raise ProofError(f"proof.type: expected 'account', got {data['type']!r}")
    record = _hex(_field(data, "record", "proof"), "proof.record", ACCOUNT_SIZE)
    slot = _check_int(_field(data, "slot", "proof"), "proof.slot", 0, U64_MAX)
    block = header_bytes_from_dict(_field(data, "block", "proof"), "proof.block")
    head = header_bytes_from_dict(_field(data, "head", "proof"), "proof.head")
    path = _path(_field(data, "proof", "proof"), "state", ("leaf_index", "tree_size"),
                 "proof.proof")  # fmt: skip
    in_history = _history_path(data, "proof")
    return verify_account(record, slot, block, head, path, in_history, _head_hash(head_hash))


def check_consistency_proof(proof: Any, head_hash: bytes | str | None) -> bool:
    """Check a consistency proof's JSON (text or dict); its `new` header is the trusted head.

    Args, Returns, Raises: as check_transfer_proof, for ChainConsistencyProof.to_json.

    Example:
        >>> check_consistency_proof("[]", None)
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: proof: expected a JSON object, got list
    """
    data = _load(proof)
    if _field(data, "type", "proof") != "consistency":
        raise ProofError(f"proof.type: expected 'consistency', got {data['type']!r}")
    old = header_bytes_from_dict(_field(data, "old", "proof"), "proof.old")
    new = header_bytes_from_dict(_field(data, "new", "proof"), "proof.new")
    path = _path(_field(data, "proof", "proof"), "consistency", ("old_size", "new_size"),
                 "proof.proof")  # fmt: skip
    in_history = _history_path(data, "proof")
    return verify_chain_consistency(old, new, path, in_history, _head_hash(head_hash))


_CHECKS = {
    "transfer": check_transfer_proof,
    "account": check_account_proof,
    "consistency": check_consistency_proof,
}


def check_proof(proof: Any, head_hash: bytes | str | None) -> bool:
    """Check any ledger proof's JSON (text or dict) against the trusted head's hash.

    Example:
        >>> check_proof({"type": "nothing", "version": 2}, None)
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: proof.type: 'nothing', expected account, consistency or transfer
    """  # noqa: E501
    data = _load(proof)
    kind = _field(data, "type", "proof")
    if kind not in _CHECKS:
        raise ProofError(f"proof.type: {kind!r}, expected account, consistency or transfer")
    return _CHECKS[kind](data, head_hash)


# ---------------------------------------------------------------------------- liabilities

LIABILITY_LEAF_KEY = blake3(b"", derive_key_context="ledgercore 2026-12 liability leaf v1").digest()
LIABILITY_NODE_KEY = blake3(b"", derive_key_context="ledgercore 2026-12 liability node v1").digest()
LIABILITY_PROOF_VERSION = 1
LIABILITY_LEAF_COUNT_MAX = 2**32
LIABILITY_PARTS_MAX = 16
U128_MAX = 2**128 - 1


def liability_leaf_hash(account_id: int, value: int, salt: bytes) -> bytes:
    """A liability leaf: BLAKE3 keyed with LIABILITY_LEAF_KEY over the 64 bytes
    account_id (u128) || value (u128) || salt (32 bytes), integers little-endian.

    Example:
        >>> len(liability_leaf_hash(7, 500, bytes(32)))
        32
    """
    data = account_id.to_bytes(16, "little") + value.to_bytes(16, "little") + bytes(salt)
    return blake3(data, key=LIABILITY_LEAF_KEY).digest()


def liability_node_hash(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    """A liability node: BLAKE3 keyed with LIABILITY_NODE_KEY over the 96 bytes
    left || left_sum (u128) || right || right_sum (u128): both children's sums, not only their
    total, so a sibling's sum cannot be shown differently to the two sides.

    Example:
        >>> liability_node_hash(bytes(32), 1, bytes(32), 2) != liability_node_hash(
        ...     bytes(32), 2, bytes(32), 1)
        True
    """
    data = bytes(left) + left_sum.to_bytes(16, "little") + bytes(right)
    return blake3(data + right_sum.to_bytes(16, "little"), key=LIABILITY_NODE_KEY).digest()


def verify_liability_leaf(
    account_id: int,
    index: int,
    value: int,
    salt: bytes,
    path: Sequence[tuple[bytes, int]],
    leaf_count: int,
) -> tuple[bytes, int] | None:
    """The (hash, sum) that leaf `index` of a liability tree of leaf_count leaves leads to, or
    None when a sum on the way passes 2^128 - 1 or the path's length is not log2(leaf_count).

    path holds the sibling (hash, sum) of each level, leaf side first; the caller compares the
    result with the published root.

    Example:
        >>> a, b = liability_leaf_hash(1, 5, bytes(32)), liability_leaf_hash(2, 7, bytes(32))
        >>> verify_liability_leaf(1, 0, 5, bytes(32), [(b, 7)], 2) == (
        ...     liability_node_hash(a, 5, b, 7), 12)
        True
    """
    if leaf_count < 2 or leaf_count & (leaf_count - 1) or not 0 <= index < leaf_count:
        return None
    if len(path) != leaf_count.bit_length() - 1:
        return None
    node, total = liability_leaf_hash(account_id, value, salt), value
    for level, (sibling, sibling_sum) in enumerate(path):
        if total + sibling_sum > U128_MAX:
            return None
        if index >> level & 1:
            node = liability_node_hash(sibling, sibling_sum, node, total)
        else:
            node = liability_node_hash(node, total, sibling, sibling_sum)
        total += sibling_sum
    return node, total


def _u128_text(value: Any, name: str) -> int:
    """A u128 written as a decimal string (canonical: no sign, no leading zero)."""
    if not isinstance(value, str):
        raise ProofTypeError(f"{name}: expected a decimal string, got {type(value).__name__}")
    if not value.isascii() or not value.isdigit() or (len(value) > 1 and value[0] == "0"):
        raise ProofError(f"{name}: expected a decimal integer without sign or leading zero")
    number = int(value)
    if number > U128_MAX:
        raise ProofError(f"{name}: {value} is above 2^128 - 1")
    return number


def _liability_leaves(data: dict[str, Any], leaf_count: int) -> list[tuple]:
    leaves = _field(data, "leaves", "proof")
    if not isinstance(leaves, list) or not 1 <= len(leaves) <= LIABILITY_PARTS_MAX:
        raise ProofError(f"proof.leaves: expected a list of 1..{LIABILITY_PARTS_MAX} leaves")
    parsed = []
    for i, leaf in enumerate(leaves):
        where = f"proof.leaves[{i}]"
        index = _check_int(_field(leaf, "index", where), f"{where}.index", 0, leaf_count - 1)
        value = _u128_text(_field(leaf, "value", where), f"{where}.value")
        salt = _hex(_field(leaf, "salt", where), f"{where}.salt")
        path = _field(leaf, "path", where)
        if not isinstance(path, list):
            raise ProofError(f"{where}.path: expected a list, got {type(path).__name__}")
        siblings = [
            (_hex(_field(step, "hash", f"{where}.path[{j}]"), f"{where}.path[{j}].hash"),
             _u128_text(_field(step, "sum", f"{where}.path[{j}]"), f"{where}.path[{j}].sum"))
            for j, step in enumerate(path)
        ]  # fmt: skip
        parsed.append((index, value, salt, siblings))
    return parsed


def check_liability_proof(
    proof: Any,
    root_hash: bytes | str,
    total: int,
    balance: int,
    *,
    account_id: int | None = None,
    leaf_count: int | None = None,
) -> bool:
    """Check a member's proof of liabilities (LiabilityProof.to_json) against the published
    root and the member's own balance.

    Holds when: the proof's root is the published one (hash, total, and leaf_count if given)
    and its account is account_id (if given); leaf_count is a power of two; the leaf indices
    are distinct and in range; every leaf's path has log2(leaf_count) siblings and leads to
    the root hash with the root total, no sum on the way passing 2^128 - 1; and the leaves'
    values add up to `balance`.

    Args:
        proof: the proof's JSON text or dict.
        root_hash: the published root hash (32 bytes or 64 hex digits).
        total: the published total, in minor units.
        balance: the member's balance as they know it (from their account proof).
        account_id: the member's own account id, to check the proof is theirs.
        leaf_count: the published leaf count.

    Returns:
        True if the proof holds.

    Raises:
        ProofError: the input is not a liability proof (a missing or mistyped field).

    Example:
        >>> check_liability_proof({"type": "liability", "version": 1}, bytes(32), 0, 0)
        Traceback (most recent call last):
        ...
        ledgercore.proofcheck.ProofError: proof: no 'account_id'
    """
    data = proof
    if isinstance(proof, (str, bytes, bytearray)):
        try:
            data = json.loads(proof)
        except ValueError as error:
            raise ProofError(f"proof: not JSON ({error})") from None
    if _field(data, "type", "proof") != "liability":
        raise ProofError(f"proof.type: expected 'liability', got {data['type']!r}")
    version = _field(data, "version", "proof")
    if version != LIABILITY_PROOF_VERSION or isinstance(version, bool):
        raise ProofError(f"proof.version: {version!r}; this file reads version 1")
    member = _u128_text(_field(data, "account_id", "proof"), "proof.account_id")
    root = _field(data, "root", "proof")
    claimed_hash = _hex(_field(root, "hash", "proof.root"), "proof.root.hash")
    claimed_total = _u128_text(_field(root, "total", "proof.root"), "proof.root.total")
    count = _check_int(_field(root, "leaf_count", "proof.root"), "proof.root.leaf_count", 2,
                       LIABILITY_LEAF_COUNT_MAX)  # fmt: skip
    leaves = _liability_leaves(data, count)
    trusted = root_hash if isinstance(root_hash, bytes) else _hex(root_hash, "root_hash")
    _check_int(total, "total", 0, U128_MAX)
    _check_int(balance, "balance", 0, U128_MAX)
    if claimed_hash != trusted or claimed_total != total or count & (count - 1):
        return False
    if (leaf_count is not None and count != leaf_count) or (
        account_id is not None and member != account_id
    ):
        return False
    if len({index for index, _, _, _ in leaves}) != len(leaves):
        return False
    for index, value, salt, path in leaves:
        if verify_liability_leaf(member, index, value, salt, path, count) != (trusted, total):
            return False
    return sum(value for _, value, _, _ in leaves) == balance


def main(argv: Sequence[str] | None = None) -> int:
    """`python proofcheck.py PROOF.json --head HASH [--owner-key KEY]`, or for a proof of
    liabilities `python proofcheck.py PROOF.json --head ROOT_HASH --total N --balance N`; see
    the module docstring.

    Example:
        >>> main(["--help"])  # doctest: +ELLIPSIS
        usage: ...
        0
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="proofcheck.py",
        description="Check a ledgercore proof against the ledger's head hash.",
        epilog="Exit status: 0 the proof holds, 1 it does not, 2 unreadable input.",
    )
    parser.add_argument("proof", help="the proof's JSON file ('-' for standard input)")
    parser.add_argument("--head", required=True, help="the trusted head block's hash, in hex")
    parser.add_argument(
        "--owner-key", help="a transfer's debit owner key (hex): check its signature"
    )
    parser.add_argument(
        "--total", help="a liability proof: the published total; --head is the published root"
    )
    parser.add_argument("--balance", help="a liability proof: your own balance, in minor units")
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:
        sys.stdout.flush()
        return int(done.code or 0)
    try:
        if args.proof == "-":
            text = sys.stdin.read()
        else:
            with open(args.proof, encoding="utf-8") as file:
                text = file.read()
        if args.total is not None or args.balance is not None:
            return _main_liability(text, args.head, args.total, args.balance)
        data = _load(text)
        holds = check_proof(data, args.head)
        if holds and args.owner_key is not None:
            if data["type"] != "transfer":
                raise ProofError("--owner-key: only a transfer proof carries a signature")
            record = _hex(data["record"], "proof.record", TRANSFER_SIZE)
            key = _hex(args.owner_key, "--owner-key")
            block = data["block"]
            ledger_id = _hex(block["ledger_id"], "proof.block.ledger_id", LEDGER_ID_SIZE) if (
                block["version"] >= 2) else None  # fmt: skip
            if not check_transfer_signature(record, key, ledger_id):
                print("FAILED: the transfer's signature does not verify under that owner key")
                return 1
    except (OSError, ProofError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not holds:
        print(f"FAILED: the {data['type']} proof does not hold against head {args.head}")
        return 1
    print(_describe(data))
    return 0


def _main_liability(text: str, root_hash: str, total: str | None, balance: str | None) -> int:
    """main for a proof of liabilities: 0 it holds, 1 it does not (ProofError: unreadable)."""
    if total is None or balance is None:
        raise ProofError("--total, --balance: a liability proof needs both")
    published, own = _u128_text(total, "--total"), _u128_text(balance, "--balance")
    if not check_liability_proof(text, root_hash, published, own):
        print(f"FAILED: the liability proof does not show {own} within total {published}")
        return 1
    leaves = len(json.loads(text)["leaves"])
    print(f"ok: your balance {own} is counted, in {leaves} leaves, in the total {published}")
    return 0


def _describe(data: dict[str, Any]) -> str:
    """One paragraph of what a proof that holds shows."""
    if data["type"] == "transfer":
        fields = decode_transfer(bytes.fromhex(data["record"]))
        return (
            f"ok: transfer {fields['id']} of {fields['amount']} (ledger {fields['ledger']}) from "
            f"account {fields['debit_account_id']} to {fields['credit_account_id']} is in block "
            f"{data['block']['height']} at {fields['timestamp']} ns, and in the head "
            f"(block {data['head']['height']})"
        )
    if data["type"] == "account":
        fields = decode_account(bytes.fromhex(data["record"]))
        return (
            f"ok: account {fields['id']} (ledger {fields['ledger']}) at block "
            f"{data['block']['height']}: debits posted {fields['debits_posted']}, credits "
            f"posted {fields['credits_posted']}, debits pending {fields['debits_pending']}, "
            f"credits pending {fields['credits_pending']}"
        )
    return (
        f"ok: the log at block {data['old']['height']} ({data['old']['log_size']} transfers) is "
        f"a prefix of the log at block {data['new']['height']} ({data['new']['log_size']})"
    )


if __name__ == "__main__":
    sys.exit(main())
