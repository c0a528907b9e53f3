"""Merkle proofs as values that can be handed to anyone: bytes and a JSON-friendly dict.

Three kinds, each the path of hashes RFC 9162 defines plus the numbers it is about:

- InclusionProof(leaf_index, tree_size, hashes): a transfer is in the log of tree_size leaves;
- ConsistencyProof(old_size, new_size, hashes): the log at old_size is a prefix of it at new_size;
- StateProof(leaf_index, tree_size, hashes): an account's record is in the state tree.

Bytes (all integers little-endian): the magic b"LCMP", a version byte (1), a kind byte
(1 inclusion, 2 consistency, 3 state), two u64 (leaf_index and tree_size, or old_size and
new_size), a u8 hash count (at most PROOF_HASHES_MAX), then the 32-byte hashes, leaf side first.
The dict has "type", "version", the two numbers by name and "hashes" as lowercase hex strings.
Parsing is strict: a wrong magic, version, kind, length, key or hex string raises
LedgerValueError.

Example:
    >>> proof = InclusionProof(leaf_index=2, tree_size=3, hashes=(bytes(32),))
    >>> InclusionProof.from_bytes(proof.to_bytes()) == proof
    True
    >>> proof.to_dict()["hashes"][0][:8]
    '00000000'
    >>> proof_from_dict(proof.to_dict()) == proof
    True
"""

from __future__ import annotations

import string
import struct
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ledgercore.errors import LedgerValueError
from ledgercore.merkle_verify import verify_consistency, verify_inclusion, verify_state_proof

MAGIC = b"LCMP"
FORMAT_VERSION = 1
HASH_SIZE = 32
# Hashes one proof may hold; equal to the native LC_MERKLE_PROOF_HASHES_MAX (a test checks it).
PROOF_HASHES_MAX = 64
NUMBER_MAX = 2**64 - 1

_HEADER = struct.Struct("<4sBBQQB")
# One canonical text per hash: the lowercase hex to_dict writes.
_LOWER_HEX = frozenset(string.digits + "abcdef")

P = TypeVar("P", bound="_Proof")


class _Proof:
    """What the three kinds share: checks, bytes and dict. Subclasses are frozen dataclasses
    whose first two fields are the numbers and whose third is `hashes`."""

    KIND: ClassVar[int]
    TYPE: ClassVar[str]
    NUMBERS: ClassVar[tuple[str, str]]
    hashes: tuple[bytes, ...]

    def _numbers(self) -> tuple[int, int]:
        first, second = self.NUMBERS
        return getattr(self, first), getattr(self, second)

    def _check(self) -> None:
        for name, value in zip(self.NUMBERS, self._numbers(), strict=True):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
            if not 0 <= value <= NUMBER_MAX:
                raise LedgerValueError(f"{name}: expected 0..{NUMBER_MAX}, got {value}")
        hashes = self.hashes
        if isinstance(hashes, (bytes, bytearray, memoryview, str)):
            raise TypeError("hashes: expected a sequence of 32-byte hashes")
        hashes = tuple(hashes)
        if len(hashes) > PROOF_HASHES_MAX:
            raise LedgerValueError(
                f"hashes: {len(hashes)} hashes, at most {PROOF_HASHES_MAX} in one proof"
            )
        for i, value in enumerate(hashes):
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"hashes[{i}]: expected 32 bytes, got {type(value).__name__}")
            if len(bytes(value)) != HASH_SIZE:
                raise LedgerValueError(
                    f"hashes[{i}]: expected {HASH_SIZE} bytes, got {len(bytes(value))}"
                )
        object.__setattr__(self, "hashes", tuple(bytes(value) for value in hashes))

    @classmethod
    def _from_builder(cls: type[P], first: int, second: int, hashes: tuple[bytes, ...]) -> P:
        """A proof the native builder just made, whose numbers it checked and whose hashes are
        32-byte bytes by construction: skips the checks of the constructor (a proof is made per
        call on hot paths)."""
        proof = object.__new__(cls)
        names = cls.NUMBERS
        object.__setattr__(proof, names[0], first)
        object.__setattr__(proof, names[1], second)
        object.__setattr__(proof, "hashes", hashes)
        return proof

    def to_bytes(self) -> bytes:
        """The proof's canonical bytes (see the module docstring for the layout)."""
        first, second = self._numbers()
        header = _HEADER.pack(MAGIC, FORMAT_VERSION, self.KIND, first, second, len(self.hashes))
        return header + b"".join(self.hashes)

    @classmethod
    def from_bytes(cls: type[P], data: bytes) -> P:
        """Parse bytes made by to_bytes; raises LedgerValueError on anything else."""
        proof = proof_from_bytes(data)
        if not isinstance(proof, cls):
            raise LedgerValueError(f"data: a {proof.TYPE} proof, expected a {cls.TYPE} proof")
        return proof

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types: numbers by name, hashes as lowercase hex."""
        first, second = self._numbers()
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            self.NUMBERS[0]: first,
            self.NUMBERS[1]: second,
            "hashes": [value.hex() for value in self.hashes],
        }

    @classmethod
    def from_dict(cls: type[P], data: dict[str, Any]) -> P:
        """Parse a dict made by to_dict; raises LedgerValueError on anything else."""
        proof = proof_from_dict(data)
        if not isinstance(proof, cls):
            raise LedgerValueError(f"data: a {proof.TYPE} proof, expected a {cls.TYPE} proof")
        return proof


def _holds(check: Any, *args: Any) -> bool:
    """A verifier's answer, with a proof that cannot describe a tree counted as not holding;
    a root or leaf of the wrong type or size is still the caller's error and raises."""
    try:
        return bool(check(*args))
    except LedgerValueError as error:
        if str(error).startswith(("root:", "old_root:", "new_root:")):
            raise
        return False


@dataclass(frozen=True)
class InclusionProof(_Proof):
    """An RFC 9162 inclusion proof: leaf `leaf_index` is in the log of `tree_size` leaves.

    Example:
        >>> from ledgercore.merkle_verify import leaf_hash, node_hash
        >>> a, b = leaf_hash(b"transfer 1"), leaf_hash(b"transfer 2")
        >>> InclusionProof(1, 2, (a,)).verify(b"transfer 2", node_hash(a, b))
        True
    """

    leaf_index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    KIND: ClassVar[int] = 1
    TYPE: ClassVar[str] = "inclusion"
    NUMBERS: ClassVar[tuple[str, str]] = ("leaf_index", "tree_size")

    def __post_init__(self) -> None:
        self._check()

    def verify(self, leaf: bytes, root: bytes) -> bool:
        """verify_inclusion of `leaf` (its data) against `root` with this proof; False also
        when the proof cannot hold at all (an index past the size, a path of the wrong length).
        """
        return _holds(verify_inclusion, leaf, self.leaf_index, self.tree_size, self.hashes, root)


@dataclass(frozen=True)
class ConsistencyProof(_Proof):
    """An RFC 9162 consistency proof: the log at `old_size` is a prefix of it at `new_size`.

    Example:
        >>> from ledgercore.merkle_verify import leaf_hash, node_hash
        >>> a, b = leaf_hash(b"transfer 1"), leaf_hash(b"transfer 2")
        >>> ConsistencyProof(1, 2, (b,)).verify(a, node_hash(a, b))
        True
    """

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    KIND: ClassVar[int] = 2
    TYPE: ClassVar[str] = "consistency"
    NUMBERS: ClassVar[tuple[str, str]] = ("old_size", "new_size")

    def __post_init__(self) -> None:
        self._check()

    def verify(self, old_root: bytes, new_root: bytes) -> bool:
        """verify_consistency of the two roots with this proof; False also when the proof
        cannot hold at all (old_size past new_size, a path of the wrong length)."""
        return _holds(
            verify_consistency, self.old_size, self.new_size, old_root, new_root, self.hashes
        )


@dataclass(frozen=True)
class StateProof(_Proof):
    """A state-tree proof: slot `leaf_index` of a state tree of `tree_size` slots holds a record.

    Example:
        >>> from ledgercore.merkle_verify import leaf_hash, node_hash
        >>> a, b = leaf_hash(b"account 1"), leaf_hash(b"account 2")
        >>> StateProof(0, 2, (b,)).verify(b"account 1", node_hash(a, b))
        True
    """

    leaf_index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    KIND: ClassVar[int] = 3
    TYPE: ClassVar[str] = "state"
    NUMBERS: ClassVar[tuple[str, str]] = ("leaf_index", "tree_size")

    def __post_init__(self) -> None:
        self._check()

    def verify(self, leaf: bytes, root: bytes) -> bool:
        """verify_state_proof of `leaf` (the record's bytes) against a state root; False also
        when the proof cannot hold at all (a slot past the size, a path of the wrong length)."""
        return _holds(verify_state_proof, leaf, self.leaf_index, self.tree_size, self.hashes, root)


_KINDS: dict[int, type[_Proof]] = {
    kind.KIND: kind for kind in (InclusionProof, ConsistencyProof, StateProof)
}
_TYPES: dict[str, type[_Proof]] = {kind.TYPE: kind for kind in _KINDS.values()}


def proof_from_bytes(data: bytes) -> InclusionProof | ConsistencyProof | StateProof:
    """Parse any proof's bytes; the kind byte says which class comes back.

    Args:
        data: bytes made by a proof's to_bytes.

    Returns:
        An InclusionProof, ConsistencyProof or StateProof.

    Raises:
        LedgerValueError: a wrong magic, version, kind or length.

    Example:
        >>> proof_from_bytes(ConsistencyProof(1, 2, (bytes(32),)).to_bytes()).new_size
        2
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise LedgerValueError(f"data: {len(data)} bytes, a proof has at least {_HEADER.size}")
    magic, version, kind, first, second, count = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise LedgerValueError(f"data: starts with {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise LedgerValueError(f"data: format version {version}, expected {FORMAT_VERSION}")
    if kind not in _KINDS:
        raise LedgerValueError(f"data: proof kind {kind}, expected one of {sorted(_KINDS)}")
    if count > PROOF_HASHES_MAX:
        raise LedgerValueError(f"data: {count} hashes, at most {PROOF_HASHES_MAX}")
    expected = _HEADER.size + count * HASH_SIZE
    if len(data) != expected:
        raise LedgerValueError(f"data: {len(data)} bytes, {count} hashes need {expected}")
    body = data[_HEADER.size :]
    hashes = tuple(body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE))
    return _KINDS[kind](first, second, hashes)  # type: ignore[call-arg,return-value]


def proof_from_dict(data: dict[str, Any]) -> InclusionProof | ConsistencyProof | StateProof:
    """Parse any proof's dict; its "type" says which class comes back.

    Args:
        data: a dict made by a proof's to_dict (for example, read back from JSON).

    Returns:
        An InclusionProof, ConsistencyProof or StateProof.

    Raises:
        LedgerValueError: a missing or unknown key, type or version, or a hash that is not 64
            hex digits.

    Example:
        >>> proof_from_dict({"type": "state", "version": 1, "leaf_index": 0, "tree_size": 1,
        ...                  "hashes": []}).tree_size
        1
    """
    if not isinstance(data, dict):
        raise TypeError(f"data: expected a dict, got {type(data).__name__}")
    kind = _TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if kind is None:
        raise LedgerValueError(f"data: type {data.get('type')!r}, expected one of {sorted(_TYPES)}")
    keys = {"type", "version", *kind.NUMBERS, "hashes"}
    if set(data) != keys:
        raise LedgerValueError(f"data: keys {sorted(data)}, expected {sorted(keys)}")
    if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
        raise LedgerValueError(f"data: version {data['version']!r}, expected {FORMAT_VERSION}")
    values = data["hashes"]
    if not isinstance(values, list):
        raise TypeError(f"hashes: expected a list of hex strings, got {type(values).__name__}")
    hashes = []
    for i, value in enumerate(values):
        if (
            not isinstance(value, str)
            or len(value) != 2 * HASH_SIZE
            or not all(c in _LOWER_HEX for c in value)
        ):
            raise LedgerValueError(f"hashes[{i}]: expected {2 * HASH_SIZE} lowercase hex digits")
        hashes.append(bytes.fromhex(value))
    first, second = (data[name] for name in kind.NUMBERS)
    return kind(first, second, tuple(hashes))  # type: ignore[call-arg,return-value]
