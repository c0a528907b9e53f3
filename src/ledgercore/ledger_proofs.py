"""Ledger proofs: a Merkle proof together with the block headers it is about.

Each proof carries what a third party needs and nothing it must trust: the record's bytes, the
Merkle path (ledgercore.proofs) and the header(s) whose roots it is checked against. `verify`
uses only the pure-Python verifiers of ledgercore.merkle_verify and the `blake3` package; the
verifier still has to decide to trust the header (compare its hash with one published).

- TransferProof: a transfer's record (its log leaf, with the timestamp and signature the ledger
  holds) is leaf `leaf_index` of the log of the block that appended it and of the log at the head.
- AccountProof: an account's record (hence its balances) is slot `slot` of a block's state tree.
- ChainConsistencyProof: the log at block `old` is a prefix of the log at block `new`.

Bytes: b"LCLP", u8 version (1), u8 kind (1 transfer, 2 account, 3 consistency), then the parts,
each a u32 length (little-endian) and its bytes. JSON: `to_json`, a dict with "type", "version",
headers as BlockHeader.to_dict and proofs as their to_dict.

Example:
    >>> from ledgercore.blocks import BlockHeader
    >>> from ledgercore.proofs import ConsistencyProof
    >>> genesis = BlockHeader.genesis()
    >>> proof = ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ()))
    >>> ledger_proof_from_json(proof.to_json()).verify()
    True
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, ClassVar

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
FORMAT_VERSION = 1
TRANSFER_SIZE = 192
ACCOUNT_SIZE = 160
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
        raise LedgerValueError(f"data: version {version}, expected {FORMAT_VERSION}")
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


def _header(data: bytes) -> BlockHeader:
    return BlockHeader.from_bytes(data)


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
        ...         batch["signature"] = key.sign_many(records.signing_bytes(batch))
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

    KIND: ClassVar[int] = 1
    TYPE: ClassVar[str] = "transfer"

    def verify(self) -> bool:
        """True if the record is leaf leaf_index of both headers' logs.

        Returns:
            False for any mismatch (a wrong record, index, size, path or root).
        """
        first = self.block.log_size - self.block.transfer_count
        if not first <= self.leaf_index < self.block.log_size:
            return False
        if self.head.height < self.block.height or len(self.record) != TRANSFER_SIZE:
            return False
        for proof, header in ((self.in_block, self.block), (self.in_head, self.head)):
            if proof.leaf_index != self.leaf_index or proof.tree_size != header.log_size:
                return False
            if not proof.verify(self.record, header.log_root):
                return False
        return True

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

    KIND: ClassVar[int] = 2
    TYPE: ClassVar[str] = "account"

    @property
    def account(self) -> Any:
        """The record as an ACCOUNT_DTYPE row (needs numpy and ledgercore.records)."""
        import numpy

        from ledgercore import records

        return numpy.frombuffer(self.record, dtype=records.ACCOUNT_DTYPE)[0]

    def verify(self) -> bool:
        """True if the record is slot `slot` of the block's state tree."""
        if len(self.record) != ACCOUNT_SIZE:
            return False
        if self.proof.leaf_index != self.slot or self.proof.tree_size != self.block.state_size:
            return False
        return self.proof.verify(self.record, self.block.state_root)

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types."""
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            "record": self.record.hex(),
            "slot": self.slot,
            "block": self.block.to_dict(),
            "proof": self.proof.to_dict(),
        }

    def to_bytes(self) -> bytes:
        """The proof's bytes (see the module docstring)."""
        parts = [self.record, _U64.pack(self.slot), self.block.to_bytes(), self.proof.to_bytes()]
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
        >>> ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ())).verify()
        True
    """

    old: BlockHeader
    new: BlockHeader
    proof: ConsistencyProof

    KIND: ClassVar[int] = 3
    TYPE: ClassVar[str] = "consistency"

    def verify(self) -> bool:
        """True if the proof links the two headers' log roots."""
        if self.old.height > self.new.height:
            return False
        if self.proof.old_size != self.old.log_size or self.proof.new_size != self.new.log_size:
            return False
        return self.proof.verify(self.old.log_root, self.new.log_root)

    def to_dict(self) -> dict[str, Any]:
        """The proof as a dict of JSON types."""
        return {
            "type": self.TYPE,
            "version": FORMAT_VERSION,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "proof": self.proof.to_dict(),
        }

    def to_bytes(self) -> bytes:
        """The proof's bytes (see the module docstring)."""
        parts = [self.old.to_bytes(), self.new.to_bytes(), self.proof.to_bytes()]
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
        >>> proof = ChainConsistencyProof(genesis, genesis, ConsistencyProof(0, 0, ()))
        >>> ledger_proof_from_bytes(proof.to_bytes()) == proof
        True
    """
    kind, parts = _unpack(data)
    counts = {1: 6, 2: 4, 3: 3}
    if kind not in counts:
        raise LedgerValueError(f"data: proof kind {kind}, expected 1, 2 or 3")
    if len(parts) != counts[kind]:
        raise LedgerValueError(f"data: {len(parts)} parts, kind {kind} has {counts[kind]}")
    try:
        if kind == 1:
            record, index, block, head, in_block, in_head = parts
            return TransferProof(
                record, _U64.unpack(index)[0], _header(block), _header(head),
                _merkle(in_block, InclusionProof), _merkle(in_head, InclusionProof),
            )  # fmt: skip
        if kind == 2:
            record, slot, block, proof = parts
            return AccountProof(
                record, _U64.unpack(slot)[0], _header(block), _merkle(proof, StateProof)
            )
        old, new, proof = parts
        return ChainConsistencyProof(_header(old), _header(new), _merkle(proof, ConsistencyProof))
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
    if data.get("version") != FORMAT_VERSION:
        raise LedgerValueError(f"data: version {data.get('version')!r}, expected 1")
    try:
        if kind == "transfer":
            return TransferProof(
                bytes.fromhex(data["record"]),
                data["leaf_index"],
                BlockHeader.from_dict(data["block"]),
                BlockHeader.from_dict(data["head"]),
                InclusionProof.from_dict(data["in_block"]),
                InclusionProof.from_dict(data["in_head"]),
            )
        if kind == "account":
            return AccountProof(
                bytes.fromhex(data["record"]),
                data["slot"],
                BlockHeader.from_dict(data["block"]),
                StateProof.from_dict(data["proof"]),
            )
        return ChainConsistencyProof(
            BlockHeader.from_dict(data["old"]),
            BlockHeader.from_dict(data["new"]),
            ConsistencyProof.from_dict(data["proof"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerValueError(f"data: not a {kind} proof ({error!r})") from None
