"""Ledger proofs: a Merkle proof together with the block headers it is about.

Each proof carries what a third party needs and nothing it must trust but the head's hash: the
record's bytes, the Merkle paths (ledgercore.proofs), the header(s) whose roots they are checked
against, the head's header, and the path that binds any other header to the head (its hash is
leaf `height` of the head's history tree; see ledgercore.blocks). `verify(head_hash)` runs the
checks of ledgercore.proofcheck, the self-contained file a third party copies, so the library and
an outsider answer alike; without head_hash it trusts the head the proof carries.

- TransferProof: a transfer's record (its log leaf, with the timestamp and signature the ledger
  holds) is leaf `leaf_index` of the log of the block that appended it and of the log at the
  head; the index lies in the block's range and the timestamp within the block's clock.
- AccountProof: an account's record (hence its balances) is slot `slot` of a block's state tree.
- ChainConsistencyProof: the log at block `old` is a prefix of the log at block `new`.

Bytes: b"LCLP", u8 version (2), u8 kind (1 transfer, 2 account, 3 consistency), then the parts,
each a u32 length (little-endian) and its bytes; docs/formats.md lists the parts of each kind.
JSON: `to_json`, a dict with "type", "version", headers as BlockHeader.to_dict and paths as their
to_dict ("in_history" null when the header is the head's). Version 1 proofs, which did not bind
their headers to the head, are refused with an error saying so.

Example:
    >>> from ledgercore.blocks import BlockHeader
    >>> from ledgercore.proofs import ConsistencyProof
    >>> genesis = BlockHeader.genesis()
    >>> proof = ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ()), None)
    >>> ledger_proof_from_json(proof.to_json()).verify(genesis.hash)
    True
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from ledgercore import proofcheck
from ledgercore.blocks import BlockHeader
from ledgercore.errors import LedgerValueError
from ledgercore.proofs import ConsistencyProof, InclusionProof, StateProof, proof_from_bytes

__all__ = [
    "AccountProof",
    "ChainConsistencyProof",
    "TransferProof",
    "ledger_proof_from_bytes",
    "ledger_proof_from_json",
]

MAGIC = b"LCLP"
FORMAT_VERSION = proofcheck.PROOF_VERSION
TRANSFER_SIZE = proofcheck.TRANSFER_SIZE
ACCOUNT_SIZE = proofcheck.ACCOUNT_SIZE
_U64_MAX = 2**64 - 1
_HEAD = struct.Struct("<4sBB")
_LENGTH = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _pack(kind: int, parts: list[bytes]) -> bytes:
    out = [_HEAD.pack(MAGIC, FORMAT_VERSION, kind)]
    for part in parts:
        out.append(_LENGTH.pack(len(part)))
        out.append(part)
    return b"".join(out)


def _unpack(data: bytes) -> tuple[int, list[bytes]]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD.size:
        raise LedgerValueError(f"data: {len(data)} bytes, too short for a ledger proof")
    magic, version, kind = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise LedgerValueError(f"data: starts with {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise LedgerValueError(f"data: version {version}, expected {FORMAT_VERSION}{_OLD}")
    parts = []
    offset = _HEAD.size
    while offset < len(data):
        if offset + _LENGTH.size > len(data):
            raise LedgerValueError(f"data: truncated at byte {offset}")
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if offset + length > len(data):
            raise LedgerValueError(f"data: a part of {length} bytes runs past the end")
        parts.append(data[offset : offset + length])
        offset += length
    return kind, parts


_OLD = " (a version 1 proof does not bind its block header to the head: ask for a new one)"


def _header(data: bytes) -> BlockHeader:
    return BlockHeader.from_bytes(data)


def _path(proof: Any) -> tuple[int, int, tuple[bytes, ...]]:
    first, second = proof._numbers()
    return first, second, proof.hashes


def _history(proof: InclusionProof | None) -> tuple[int, int, tuple[bytes, ...]] | None:
    return None if proof is None else _path(proof)


def _check_fields(self: Any, record_size: int | None, number: str | None, **kinds: Any) -> None:
    """Refuse a proof built of parts of the wrong type or size, naming the field."""
    if record_size is not None:
        record = self.record
        if not isinstance(record, bytes):
            raise TypeError(f"record: expected bytes, got {type(record).__name__}")
        if len(record) != record_size:
            raise LedgerValueError(f"record: expected {record_size} bytes, got {len(record)}")
    if number is not None:
        value = getattr(self, number)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{number}: expected an int, got {type(value).__name__} {value!r}")
        if not 0 <= value <= _U64_MAX:
            raise LedgerValueError(f"{number}: expected 0..{_U64_MAX}, got {value}")
    for name, kind in kinds.items():
        value = getattr(self, name)
        optional = name == "in_history"
        if not (isinstance(value, kind) or (optional and value is None)):
            expected = kind.__name__ + (" or None" if optional else "")
            raise TypeError(f"{name}: expected {expected}, got {type(value).__name__}")


def _bytes_or_none(proof: InclusionProof | None) -> bytes:
    return b"" if proof is None else proof.to_bytes()


def _history_from_bytes(data: bytes) -> InclusionProof | None:
    return None if len(data) == 0 else _merkle(data, InclusionProof)


def _history_from_dict(data: Any) -> InclusionProof | None:
    return None if data is None else InclusionProof.from_dict(data)


def _trusted(head_hash: bytes | None) -> bytes | None:
    if head_hash is None:
        return None
    if not isinstance(head_hash, (bytes, bytearray)):
        raise TypeError(f"head_hash: expected 32 bytes or None, got {type(head_hash).__name__}")
    if len(head_hash) != 32:
        raise LedgerValueError(f"head_hash: expected 32 bytes, got {len(head_hash)}")
    return bytes(head_hash)


class _LedgerProof:
    KIND: ClassVar[int]
    TYPE: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        """The proof as a JSON text (see to_dict)."""
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class TransferProof(_LedgerProof):
    """A transfer's record is in the log at the block that appended it and at the head.

    Example:
        >>> import tempfile
        >>> from ledgercore import records
        >>> from ledgercore.ledger import Ledger
        >>> from ledgercore.keys import SigningKey
        >>> key = SigningKey.from_seed(b"p" * 32)
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     with Ledger.open(directory + "/ledger") as ledger:
        ...         _ = ledger.create_accounts(records.accounts([
        ...             dict(id=n, ledger=1, code=1, owner_key=key.public_key) for n in (1, 2)]))
        ...         batch = records.transfers([dict(id=5, debit_account_id=1,
        ...                                         credit_account_id=2, amount=9, ledger=1,
        ...                                         code=1)])
        ...         batch["signature"] = key.sign_many(ledger.signing_bytes(batch))
        ...         _ = ledger.submit(batch)
        ...         proof = ledger.prove_transfer(5)
        >>> proof.verify(), TransferProof.from_bytes(proof.to_bytes()) == proof
        (True, True)
    """

    record: bytes
    leaf_index: int
    block: BlockHeader
    head: BlockHeader
    in_block: InclusionProof
    in_head: InclusionProof
    in_history: InclusionProof | None
    """block's hash in head's history tree; None when block is the head."""

    KIND: ClassVar[int] = 1
    TYPE: ClassVar[str] = "transfer"

    def __post_init__(self) -> None:
        _check_fields(
            self, TRANSFER_SIZE, "leaf_index", block=BlockHeader, head=BlockHeader,
            in_block=InclusionProof, in_head=InclusionProof, in_history=InclusionProof,
        )  # fmt: skip

    def verify(self, head_hash: bytes | None = None) -> bool:
        """True if the record is leaf leaf_index of both headers' logs, appended by its block
        at its clock, the block is bound to the head, and the head hashes to head_hash.

        Args:
            head_hash: the trusted head's hash, obtained apart from the proof; None trusts the
                head the proof carries.

        Returns:
            False for any mismatch or malformed part (a wrong record, index, size, path, root,
            header or head hash).
        """
        return proofcheck.verify_transfer(
            self.record, self.leaf_index, self.block.to_bytes(), self.head.to_bytes(),
            _path(self.in_block), _path(self.in_head), _history(self.in_history),
            _trusted(head_hash),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types."""
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            "record": self.record.hex(),
            "leaf_index": self.leaf_index,
            "block": self.block.to_dict(),
            "head": self.head.to_dict(),
            "in_block": self.in_block.to_dict(),
            "in_head": self.in_head.to_dict(),
            "in_history": None if self.in_history is None else self.in_history.to_dict(),
        }

    def to_bytes(self) -> bytes:
        """The proof's bytes (see the module docstring)."""
        return _pack(
            self.KIND,
            [
                self.record,
                _U64.pack(self.leaf_index),
                self.block.to_bytes(),
                self.head.to_bytes(),
                self.in_block.to_bytes(),
                self.in_head.to_bytes(),
                _bytes_or_none(self.in_history),
            ],
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TransferProof:
        """Parse bytes made by to_bytes; LedgerValueError on anything else."""
        proof = ledger_proof_from_bytes(data)
        if not isinstance(proof, cls):
            raise LedgerValueError(f"data: a {proof.TYPE} proof, expected a {cls.TYPE} proof")
        return proof


@dataclass(frozen=True)
class AccountProof(_LedgerProof):
    """An account's record (its balances as of the block) is a slot of the block's state tree.

    Example:
        >>> import tempfile
        >>> from ledgercore import records
        >>> from ledgercore.ledger import Ledger
        >>> from ledgercore.keys import SigningKey
        >>> key = SigningKey.from_seed(b"p" * 32).public_key
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     with Ledger.open(directory + "/ledger") as ledger:
        ...         _ = ledger.create_accounts(records.accounts([
        ...             dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]))
        ...         proof = ledger.prove_account(2)
        >>> proof.verify(), proof.slot, records.u128(proof.account["id"])
        (True, 1, 2)
    """

    record: bytes
    slot: int
    block: BlockHeader
    proof: StateProof
    head: BlockHeader
    in_history: InclusionProof | None
    """block's hash in head's history tree; None when block is the head."""

    KIND: ClassVar[int] = 2
    TYPE: ClassVar[str] = "account"

    def __post_init__(self) -> None:
        _check_fields(
            self, ACCOUNT_SIZE, "slot", block=BlockHeader, proof=StateProof, head=BlockHeader,
            in_history=InclusionProof,
        )  # fmt: skip

    @property
    def account(self) -> Any:
        """The record as an ACCOUNT_DTYPE row (needs numpy and ledgercore.records)."""
        import numpy

        from ledgercore import records

        return numpy.frombuffer(self.record, dtype=records.ACCOUNT_DTYPE)[0]

    def verify(self, head_hash: bytes | None = None) -> bool:
        """True if the record is slot `slot` of the block's state tree, the block is bound to
        the head, and the head hashes to head_hash (None trusts the head the proof carries);
        False for any mismatch or malformed part."""
        return proofcheck.verify_account(
            self.record, self.slot, self.block.to_bytes(), self.head.to_bytes(),
            _path(self.proof), _history(self.in_history), _trusted(head_hash),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types."""
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            "record": self.record.hex(),
            "slot": self.slot,
            "block": self.block.to_dict(),
            "proof": self.proof.to_dict(),
            "head": self.head.to_dict(),
            "in_history": None if self.in_history is None else self.in_history.to_dict(),
        }

    def to_bytes(self) -> bytes:
        """The proof's bytes (see the module docstring)."""
        parts = [
            self.record,
            _U64.pack(self.slot),
            self.block.to_bytes(),
            self.proof.to_bytes(),
            self.head.to_bytes(),
            _bytes_or_none(self.in_history),
        ]
        return _pack(self.KIND, parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> AccountProof:
        """Parse bytes made by to_bytes; LedgerValueError on anything else."""
        proof = ledger_proof_from_bytes(data)
        if not isinstance(proof, cls):
            raise LedgerValueError(f"data: a {proof.TYPE} proof, expected a {cls.TYPE} proof")
        return proof


@dataclass(frozen=True)
class ChainConsistencyProof(_LedgerProof):
    """The log at block `old` is a prefix of the log at block `new`.

    Example:
        >>> from ledgercore.blocks import BlockHeader
        >>> from ledgercore.proofs import ConsistencyProof
        >>> genesis = BlockHeader.genesis()
        >>> ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ()), None).verify()
        True
    """

    old: BlockHeader
    new: BlockHeader
    proof: ConsistencyProof
    in_history: InclusionProof | None
    """old's hash in new's history tree; None when old is new."""

    KIND: ClassVar[int] = 3
    TYPE: ClassVar[str] = "consistency"

    def __post_init__(self) -> None:
        _check_fields(
            self, None, None, old=BlockHeader, new=BlockHeader, proof=ConsistencyProof,
            in_history=InclusionProof,
        )  # fmt: skip

    def verify(self, head_hash: bytes | None = None) -> bool:
        """True if the proof links the two headers' log roots, old is bound to new, and new
        hashes to head_hash (None trusts the `new` header); False for any mismatch or
        malformed part."""
        return proofcheck.verify_chain_consistency(
            self.old.to_bytes(), self.new.to_bytes(), _path(self.proof),
            _history(self.in_history), _trusted(head_hash),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types."""
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "proof": self.proof.to_dict(),
            "in_history": None if self.in_history is None else self.in_history.to_dict(),
        }

    def to_bytes(self) -> bytes:
        """The proof's bytes (see the module docstring)."""
        parts = [
            self.old.to_bytes(),
            self.new.to_bytes(),
            self.proof.to_bytes(),
            _bytes_or_none(self.in_history),
        ]
        return _pack(self.KIND, parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> ChainConsistencyProof:
        """Parse bytes made by to_bytes; LedgerValueError on anything else."""
        proof = ledger_proof_from_bytes(data)
        if not isinstance(proof, cls):
            raise LedgerValueError(f"data: a {proof.TYPE} proof, expected a {cls.TYPE} proof")
        return proof


LedgerProof = TransferProof | AccountProof | ChainConsistencyProof


def ledger_proof_from_bytes(data: bytes) -> LedgerProof:
    """Parse any ledger proof's bytes.

    Args:
        data: bytes made by a ledger proof's to_bytes.

    Returns:
        A TransferProof, AccountProof or ChainConsistencyProof.

    Raises:
        TypeError: data is not bytes-like.
        LedgerValueError: a wrong magic, version, kind, part count or part.

    Example:
        >>> from ledgercore.blocks import BlockHeader
        >>> from ledgercore.proofs import ConsistencyProof
        >>> genesis = BlockHeader.genesis()
        >>> proof = ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ()), None)
        >>> ledger_proof_from_bytes(proof.to_bytes()) == proof
        True
    """
    kind, parts = _unpack(data)
    counts = {1: 7, 2: 6, 3: 4}
    if kind not in counts:
        raise LedgerValueError(f"data: proof kind {kind}, expected 1, 2 or 3")
    if len(parts) != counts[kind]:
        raise LedgerValueError(f"data: {len(parts)} parts, kind {kind} has {counts[kind]}")
    try:
        if kind == 1:
            record, index, block, head, in_block, in_head, in_history = parts
            return TransferProof(
                record, _U64.unpack(index)[0], _header(block), _header(head),
                _merkle(in_block, InclusionProof), _merkle(in_head, InclusionProof),
                _history_from_bytes(in_history),
            )  # fmt: skip
        if kind == 2:
            record, slot, block, proof, head, in_history = parts
            return AccountProof(
                record, _U64.unpack(slot)[0], _header(block), _merkle(proof, StateProof),
                _header(head), _history_from_bytes(in_history),
            )  # fmt: skip
        old, new, proof, in_history = parts
        return ChainConsistencyProof(
            _header(old), _header(new), _merkle(proof, ConsistencyProof),
            _history_from_bytes(in_history),
        )  # fmt: skip
    except struct.error as error:
        raise LedgerValueError(f"data: a malformed part ({error})") from None


def _merkle(data: bytes, kind: type) -> Any:
    proof = proof_from_bytes(data)
    if not isinstance(proof, kind):
        raise LedgerValueError(f"data: a {proof.TYPE} path where a {kind.TYPE} path belongs")
    return proof


def ledger_proof_from_json(text: str | bytes) -> LedgerProof:
    """Parse any ledger proof's JSON (made by to_json, or json.dumps of to_dict).

    Args:
        text: the JSON text.

    Returns:
        A TransferProof, AccountProof or ChainConsistencyProof.

    Raises:
        LedgerValueError: not JSON, or not a ledger proof.

    Example:
        >>> ledger_proof_from_json('{"type": "nothing"}')
        Traceback (most recent call last):
        ...
        ledgercore.errors.LedgerValueError: data: type 'nothing', expected account, consistency or transfer
    """  # noqa: E501
    try:
        data = json.loads(text)
    except ValueError as error:
        raise LedgerValueError(f"text: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise LedgerValueError("text: expected a JSON object")
    kind = data.get("type")
    if kind not in ("transfer", "account", "consistency"):
        raise LedgerValueError(f"data: type {kind!r}, expected account, consistency or transfer")
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise LedgerValueError(f"data: version {version!r}, expected {FORMAT_VERSION}{_OLD}")
    try:
        if kind == "transfer":
            return TransferProof(
                _part(data, "record", _record),
                data["leaf_index"],
                _part(data, "block", BlockHeader.from_dict),
                _part(data, "head", BlockHeader.from_dict),
                _part(data, "in_block", InclusionProof.from_dict),
                _part(data, "in_head", InclusionProof.from_dict),
                _part(data, "in_history", _history_from_dict),
            )
        if kind == "account":
            return AccountProof(
                _part(data, "record", _record),
                data["slot"],
                _part(data, "block", BlockHeader.from_dict),
                _part(data, "proof", StateProof.from_dict),
                _part(data, "head", BlockHeader.from_dict),
                _part(data, "in_history", _history_from_dict),
            )
        return ChainConsistencyProof(
            _part(data, "old", BlockHeader.from_dict),
            _part(data, "new", BlockHeader.from_dict),
            _part(data, "proof", ConsistencyProof.from_dict),
            _part(data, "in_history", _history_from_dict),
        )
    except KeyError as error:
        raise LedgerValueError(f"data: not a {kind} proof (no {error})") from None
    except (TypeError, ValueError) as error:
        raise LedgerValueError(f"data: not a {kind} proof ({error})") from None


def _part(data: dict[str, Any], key: str, parse: Any) -> Any:
    """data[key] parsed, with an error naming the key (KeyError when it is missing)."""
    value = data[key]
    try:
        return parse(value)
    except (TypeError, ValueError) as error:
        raise LedgerValueError(f"{key}: {error}") from None


def _record(value: Any) -> bytes:
    """A record's bytes from lowercase hex, strictly."""
    if not isinstance(value, str):
        raise TypeError(f"record: expected a hex string, got {type(value).__name__}")
    if value != value.lower():
        raise LedgerValueError("record: expected lowercase hex")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise LedgerValueError("record: not hex") from None
