"""Block headers: what a block commits to, its canonical bytes and its hash.

A block is one call that changed the ledger: a batch of accounts (`kind` ACCOUNTS) or of
transfers (`kind` TRANSFERS); height 0 is the empty genesis block every store starts with. Its
header commits to the previous block (the hash chain), to the hashes of all earlier blocks (the
history root), to the transaction log after the block (size and root), to the state tree after
the block (size and root), to the block's clock and to the bytes of its body (the batch as
submitted, with its result codes), so that nothing stored for a block can change without
changing its hash.

Header bytes, format 2 (FORMAT_VERSION), HEADER_SIZE = 224, all integers little-endian:

    offset  field            type
    0       magic            4 bytes  b"LCBH"
    4       version          u8       2
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
    176     history_root     32 bytes Merkle root over the hashes of blocks 0 .. height - 1
    208     ledger_id        16 bytes the ledger's id, the same in every block of a store

The block hash is BLAKE3-256 of those bytes. The history tree is an RFC 9162 tree like the log
(ledgercore.merkle_verify), whose leaf i is the 32-byte hash of block i: a header at height n
commits to all n earlier blocks, so any earlier header is proved to belong to the chain of a
trusted head by one inclusion path of about log2(n) hashes, which every ledger proof carries.
The ledger id is random, fixed by the genesis block (or, in a store whose blocks began in
format 1, by its first format 2 block) and bound into every signature the ledger checks
(records.signing_bytes), so that nothing signed for one ledger applies on another.

Format 1 headers (176 bytes, no history_root, no ledger_id) are those stores of format 4 and
earlier wrote; they still parse, and a store's later blocks are written in format 2.

The layout itself is ledgercore.proofcheck's (pack_header, parse_header): one definition that a
third party reads too. This module uses only that file and the `blake3` package, so that headers
and proofs are checked without ledgercore's native code.

Example:
    >>> genesis = BlockHeader.genesis()
    >>> BlockHeader.from_bytes(genesis.to_bytes()) == genesis
    True
    >>> genesis.height, len(genesis.hash), genesis.version
    (0, 32, 2)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from blake3 import blake3 as _blake3

from ledgercore import proofcheck
from ledgercore.errors import LedgerValueError
from ledgercore.merkle_verify import EMPTY_ROOT

__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "BlockHeader", "BlockKind"]

FORMAT_VERSION = proofcheck.HEADER_VERSION
"""The header format new blocks are written in."""
FORMAT_VERSIONS_READ = tuple(proofcheck.HEADER_SIZES)
HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
EMPTY_BODY_HASH = _blake3(b"").digest()

HEADER_SIZE = proofcheck.HEADER_SIZES[FORMAT_VERSION]
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

    `history_root` and `ledger_id` are None in a format 1 header, 32 and 16 bytes in format 2.

    Example:
        >>> header = BlockHeader.genesis()
        >>> header.log_root == header.state_root == header.history_root
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
    history_root: bytes | None = None
    ledger_id: bytes | None = None
    version: int = FORMAT_VERSION

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
        if self.version not in FORMAT_VERSIONS_READ or isinstance(self.version, bool):
            raise LedgerValueError(
                f"version: expected one of {FORMAT_VERSIONS_READ}, got {self.version!r}"
            )
        sized = [(name, HASH_SIZE) for name in ("prev_hash", "log_root", "state_root", "body_hash")]
        if self.version >= 2:
            if self.history_root is None or self.ledger_id is None:
                raise LedgerValueError(
                    f"history_root, ledger_id: a format {self.version} header needs the root of "
                    "the earlier blocks' hashes and the ledger's id"
                )
            sized += [("history_root", HASH_SIZE), ("ledger_id", proofcheck.LEDGER_ID_SIZE)]
        elif self.history_root is not None or self.ledger_id is not None:
            raise LedgerValueError("history_root, ledger_id: a format 1 header has neither")
        for name, size in sized:
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"{name}: expected {size} bytes, got {type(value).__name__}")
            if len(bytes(value)) != size:
                raise LedgerValueError(f"{name}: expected {size} bytes, got {len(value)}")
            object.__setattr__(self, name, bytes(value))
        object.__setattr__(self, "kind", BlockKind(self.kind))

    @classmethod
    def genesis(
        cls, version: int = FORMAT_VERSION, ledger_id: bytes = bytes(proofcheck.LEDGER_ID_SIZE)
    ) -> BlockHeader:
        """The genesis block a store starts with: height 0, empty log, state and history.

        Args:
            version: the header format (1 only for stores made before format 2).
            ledger_id: the ledger's 16-byte id (format 2; Ledger.open draws a random one).

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
            history_root=EMPTY_ROOT if version >= 2 else None,
            ledger_id=bytes(ledger_id) if version >= 2 else None,
            version=version,
        )

    def _fields(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": self.kind.name,
            "height": self.height,
            "timestamp_ns": self.timestamp_ns,
            "log_size": self.log_size,
            "state_size": self.state_size,
            "record_count": self.record_count,
            "transfer_count": self.transfer_count,
            "prev_hash": self.prev_hash,
            "log_root": self.log_root,
            "state_root": self.state_root,
            "body_hash": self.body_hash,
            "history_root": self.history_root,
            "ledger_id": self.ledger_id,
        }

    def to_bytes(self) -> bytes:
        """The header's canonical bytes (HEADER_SIZE in format 2, 176 in format 1).

        Example:
            >>> len(BlockHeader.genesis().to_bytes()) == HEADER_SIZE
            True
        """
        return proofcheck.pack_header(self._fields())

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockHeader:
        """Parse a header's bytes strictly (format 2, or format 1 of older stores).

        Args:
            data: bytes made by to_bytes.

        Returns:
            The BlockHeader.

        Raises:
            TypeError: data is not bytes-like.
            LedgerValueError: a wrong length, magic, version, kind or reserved field.

        Example:
            >>> BlockHeader.from_bytes(b"LCBH")
            Traceback (most recent call last):
            ...
            ledgercore.errors.LedgerValueError: data: 4 bytes, a block header has 176 or 224
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expected bytes, got {type(data).__name__}")
        try:
            fields = proofcheck.parse_header(data)
        except proofcheck.ProofError as error:
            raise LedgerValueError(str(error).replace("header:", "data:", 1)) from None
        fields.pop("hash")
        fields["kind"] = BlockKind[fields["kind"]]
        return cls(**fields)

    @property
    def rules(self) -> int:
        """The engine's rules this block was applied by (Engine.rules): 1 for a format 1
        header, whose store accepted a few records the current rules refuse, else 2.

        Example:
            >>> BlockHeader.genesis().rules, BlockHeader.genesis(1).rules
            (2, 1)
        """
        return 1 if self.version == 1 else 2

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
        fields = self._fields()
        for name in ("prev_hash", "log_root", "state_root", "body_hash", "history_root",
                     "ledger_id"):  # fmt: skip
            if fields[name] is None:
                del fields[name]
            else:
                fields[name] = fields[name].hex()
        fields["hash"] = self.hash.hex()
        return fields

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockHeader:
        """Parse a dict made by to_dict, strictly; its "hash" must match the fields.

        Args:
            data: a dict made by to_dict (for example, read back from JSON).

        Returns:
            The BlockHeader.

        Raises:
            TypeError: data is not a dict.
            LedgerValueError: a missing field, a field of the wrong type (an integer given as
                0.0 or false, a hash not 64 lowercase hex digits), or a hash that does not match.

        Example:
            >>> header = BlockHeader.genesis()
            >>> BlockHeader.from_dict(header.to_dict()) == header
            True
        """
        if not isinstance(data, dict):
            raise TypeError(f"data: expected a dict, got {type(data).__name__}")
        try:
            raw = proofcheck.header_bytes_from_dict(data, "data")
        except proofcheck.ProofError as error:
            raise LedgerValueError(str(error)) from None
        return cls.from_bytes(raw)
