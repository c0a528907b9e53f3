"""Block headers: what a block commits to, its canonical bytes and its hash.

A block is one call that changed the ledger: a batch of accounts (`kind` ACCOUNTS) or of
transfers (`kind` TRANSFERS); height 0 is the empty genesis block every store starts with. Its
header commits to the previous block (the hash chain), to the transaction log after the block
(size and root), to the state tree after the block (size and root), to the block's clock and to
the bytes of its body (the batch as submitted, with its result codes), so that nothing stored for
a block can change without changing its hash.

Header bytes, HEADER_SIZE = 176, all integers little-endian:

    offset  field            type
    0       magic            4 bytes  b"LCBH"
    4       version          u8       FORMAT_VERSION
    5       kind             u8       BlockKind
    6       reserved         u16      zero
    8       height           u64      0 for the genesis block
    16      timestamp_ns     u64      the first timestamp the block assigned (its clock)
    24      log_size         u64      transfers in the log after this block
    32      state_size       u64      accounts in the state tree after this block
    40      record_count     u32      records in the body (accepted or not)
    44      transfer_count   u32      transfers this block appended to the log
    48      prev_hash        32 bytes the previous block's hash; zero for the genesis block
    80      log_root         32 bytes
    112     state_root       32 bytes
    144     body_hash        32 bytes BLAKE3 of the body's bytes

The block hash is BLAKE3-256 of those 176 bytes. This module uses only the `blake3` package, so
that a third party checks headers and proofs without ledgercore's native code.

Example:
    >>> genesis = BlockHeader.genesis()
    >>> BlockHeader.from_bytes(genesis.to_bytes()) == genesis
    True
    >>> genesis.height, len(genesis.hash)
    (0, 32)
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Any

from blake3 import blake3 as _blake3

from ledgercore.errors import LedgerValueError
from ledgercore.merkle_verify import EMPTY_ROOT

__all__ = ["HEADER_SIZE", "BlockHeader", "BlockKind"]

MAGIC = b"LCBH"
FORMAT_VERSION = 1
HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
EMPTY_BODY_HASH = _blake3(b"").digest()

_LAYOUT = struct.Struct("<4sBBHQQQQII32s32s32s32s")
HEADER_SIZE = _LAYOUT.size
_U64_MAX = 2**64 - 1
_U32_MAX = 2**32 - 1


class BlockKind(enum.IntEnum):
    """What a block's body holds."""

    genesis = 0
    accounts = 1
    transfers = 2


@dataclass(frozen=True)
class BlockHeader:
    """The header of one block; see the module docstring for its bytes.

    Example:
        >>> header = BlockHeader.genesis()
        >>> header.log_root == header.state_root
        True
    """

    height: int
    prev_hash: bytes
    log_size: int
    log_root: bytes
    state_root: bytes
    timestamp_ns: int
    transfer_count: int
    kind: BlockKind = BlockKind.transfers
    state_size: int = 0
    record_count: int = 0
    body_hash: bytes = EMPTY_BODY_HASH

    def __post_init__(self) -> None:
        for name, limit in (
            ("height", _U64_MAX),
            ("log_size", _U64_MAX),
            ("timestamp_ns", _U64_MAX),
            ("state_size", _U64_MAX),
            ("transfer_count", _U32_MAX),
            ("record_count", _U32_MAX),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
            if not 0 <= value <= limit:
                raise LedgerValueError(f"{name}: expected 0..{limit}, got {value}")
        for name in ("prev_hash", "log_root", "state_root", "body_hash"):
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"{name}: expected {HASH_SIZE} bytes, got {type(value).__name__}")
            if len(bytes(value)) != HASH_SIZE:
                raise LedgerValueError(f"{name}: expected {HASH_SIZE} bytes, got {len(value)}")
            object.__setattr__(self, name, bytes(value))
        object.__setattr__(self, "kind", BlockKind(self.kind))

    @classmethod
    def genesis(cls) -> BlockHeader:
        """The genesis block every store starts with: height 0, empty log and state.

        Returns:
            The genesis BlockHeader.

        Example:
            >>> BlockHeader.genesis().prev_hash == bytes(32)
            True
        """
        return cls(
            height=0,
            prev_hash=ZERO_HASH,
            log_size=0,
            log_root=EMPTY_ROOT,
            state_root=EMPTY_ROOT,
            timestamp_ns=0,
            transfer_count=0,
            kind=BlockKind.genesis,
        )

    def to_bytes(self) -> bytes:
        """The header's canonical HEADER_SIZE bytes.

        Example:
            >>> len(BlockHeader.genesis().to_bytes()) == HEADER_SIZE
            True
        """
        return _LAYOUT.pack(
            MAGIC,
            FORMAT_VERSION,
            int(self.kind),
            0,
            self.height,
            self.timestamp_ns,
            self.log_size,
            self.state_size,
            self.record_count,
            self.transfer_count,
            self.prev_hash,
            self.log_root,
            self.state_root,
            self.body_hash,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockHeader:
        """Parse a header's bytes strictly.

        Args:
            data: HEADER_SIZE bytes made by to_bytes.

        Returns:
            The BlockHeader.

        Raises:
            TypeError: data is not bytes-like.
            LedgerValueError: a wrong length, magic, version, kind or reserved field.

        Example:
            >>> BlockHeader.from_bytes(b"LCBH")
            Traceback (most recent call last):
            ...
            ledgercore.errors.LedgerValueError: data: 4 bytes, a block header has 176
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expected bytes, got {type(data).__name__}")
        data = bytes(data)
        if len(data) != HEADER_SIZE:
            raise LedgerValueError(f"data: {len(data)} bytes, a block header has {HEADER_SIZE}")
        (magic, version, kind, reserved, height, timestamp_ns, log_size, state_size,
         record_count, transfer_count, prev_hash, log_root, state_root,
         body_hash) = _LAYOUT.unpack(data)  # fmt: skip
        if magic != MAGIC:
            raise LedgerValueError(f"data: starts with {magic!r}, expected {MAGIC!r}")
        if version != FORMAT_VERSION:
            raise LedgerValueError(f"data: header version {version}, expected {FORMAT_VERSION}")
        if kind not in BlockKind._value2member_map_:
            raise LedgerValueError(f"data: block kind {kind}, expected one of 0, 1, 2")
        if reserved != 0:
            raise LedgerValueError(f"data: reserved field {reserved}, expected 0")
        return cls(
            height=height,
            prev_hash=prev_hash,
            log_size=log_size,
            log_root=log_root,
            state_root=state_root,
            timestamp_ns=timestamp_ns,
            transfer_count=transfer_count,
            kind=BlockKind(kind),
            state_size=state_size,
            record_count=record_count,
            body_hash=body_hash,
        )

    @property
    def hash(self) -> bytes:
        """BLAKE3-256 of the header's bytes: what the next block names as prev_hash.

        Example:
            >>> BlockHeader.genesis().hash != bytes(32)
            True
        """
        return _blake3(self.to_bytes()).digest()

    def to_dict(self) -> dict[str, Any]:
        """The header as a dict of JSON types (hashes as lowercase hex), with its hash.

        Example:
            >>> BlockHeader.genesis().to_dict()["kind"]
            'genesis'
        """
        return {
            "height": self.height,
            "kind": self.kind.name,
            "prev_hash": self.prev_hash.hex(),
            "log_size": self.log_size,
            "log_root": self.log_root.hex(),
            "state_size": self.state_size,
            "state_root": self.state_root.hex(),
            "timestamp_ns": self.timestamp_ns,
            "record_count": self.record_count,
            "transfer_count": self.transfer_count,
            "body_hash": self.body_hash.hex(),
            "hash": self.hash.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockHeader:
        """Parse a dict made by to_dict; its "hash" must match the fields.

        Args:
            data: a dict made by to_dict (for example, read back from JSON).

        Returns:
            The BlockHeader.

        Raises:
            TypeError: data is not a dict.
            LedgerValueError: a missing or malformed field, or a hash that does not match.

        Example:
            >>> header = BlockHeader.genesis()
            >>> BlockHeader.from_dict(header.to_dict()) == header
            True
        """
        if not isinstance(data, dict):
            raise TypeError(f"data: expected a dict, got {type(data).__name__}")
        try:
            header = cls(
                height=data["height"],
                prev_hash=bytes.fromhex(data["prev_hash"]),
                log_size=data["log_size"],
                log_root=bytes.fromhex(data["log_root"]),
                state_root=bytes.fromhex(data["state_root"]),
                timestamp_ns=data["timestamp_ns"],
                transfer_count=data["transfer_count"],
                kind=BlockKind[data["kind"]],
                state_size=data["state_size"],
                record_count=data["record_count"],
                body_hash=bytes.fromhex(data["body_hash"]),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise LedgerValueError(f"data: not a block header ({error!r})") from None
        if "hash" in data and data["hash"] != header.hash.hex():
            raise LedgerValueError(
                f"data: hash {data['hash']} does not match the header's {header.hash.hex()}"
            )
        return header
