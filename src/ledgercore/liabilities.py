"""Proof of liabilities: a Merkle sum tree over members' balances that each member can check.

A fund publishes one root, (hash, total, leaf_count), over the balances it owes its members;
each member gets a proof that their balance is counted in that total, and checks it with
`proofcheck.check_liability_proof` (plain Python, `blake3` only). Every byte is written down in
docs/formats.md, section 6. In short:

- Each node commits to both children's hashes and both children's sums:
  node hash = BLAKE3-keyed(K_node, left hash || left sum || right hash || right sum), sums as
  u128 little-endian, node sum = left sum + right sum. Committing only to the total would let the
  operator show each side whatever sibling sum makes its own path add up, and so publish a total
  far below what it owes (Hu, Zhang and Guo, "Breaking the Binding", 2018);
  tests/test_liabilities.py runs that attack.
- A leaf is BLAKE3-keyed(K_leaf, account id || value || salt): 64 bytes, one compression. The id
  is in the leaf so that one leaf cannot be shown to two members as theirs.
- Each balance is split into k parts, k drawn per member in [parts_min, parts_max] (2..4 by
  default), at k - 1 cut points drawn uniformly in [0, balance]; parts and zero-value dummy
  leaves are placed in the order of secret tags, and the tree is padded with dummies to a power
  of two of at least parts + ceil(parts / 16) leaves. Salts, splits and tags all come from the
  operator's 32-byte secret, so the operator rebuilds the same tree from the same balances (in
  any row order) and can hand any member their salts again.

What a member's proof reveals: for each of their leaves, the sibling's hash and sum on every
level, so one other leaf's value (a part of someone's balance, or 0), then sums over 2, 4, 8, ...
leaves. Splitting hides which parts belong together and a part is only a random share of a
balance, but a large balance still shows as large parts (one part is at least balance / k), and
members who pool their proofs see more sums and can try to solve for subsets of parts; nothing
here hides the number of leaves, which with the default 2..4 parts puts the number of members
between 2/17 and 8/17 of it (a fixed, larger leaf_count hides more). docs/formats.md, section 6,
says more.

Which balance: for a liability account, what the fund owes is credits_posted - debits_posted
(`liability_balances`); a negative net balance is refused, as it would be an asset.

The root is the triple a block can record later: `LiabilityRoot.to_bytes()` (56 bytes) or
`to_dict()`.

Example:
    >>> from ledgercore import proofcheck, records
    >>> tree = LiabilityTree.build(records.ids([7, 9]), [500, 20], b"s" * 32)
    >>> tree.root.total, tree.root.leaf_count
    (520, 8)
    >>> proof = tree.prove(9)
    >>> proofcheck.check_liability_proof(proof.to_json(), tree.root.hash, 520, 20)
    True
    >>> proofcheck.check_liability_proof(proof.to_json(), tree.root.hash, 520, 21)
    False
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from ledgercore import records
from ledgercore._native import sumtree as _native
from ledgercore.errors import LedgerValueError
from ledgercore.hashing import blake3

__all__ = [
    "PARTS_MAX",
    "LiabilityLeaf",
    "LiabilityProof",
    "LiabilityRoot",
    "LiabilityTree",
    "liability_balances",
    "padded_leaf_count",
]

SPLIT_CONTEXT = "ledgercore 2026-12 liability split v1"
SALT_CONTEXT = "ledgercore 2026-12 liability salt v1"
PLACE_CONTEXT = "ledgercore 2026-12 liability place v1"
LEAF_CONTEXT = "ledgercore 2026-12 liability leaf v1"
NODE_CONTEXT = "ledgercore 2026-12 liability node v1"
SECRET_SIZE = 32
PARTS_MIN_DEFAULT = 2
PARTS_MAX_DEFAULT = 4
PARTS_MAX: int = _native.PARTS_MAX
"""Parts one balance may be split into (lc_limits.h)."""
LEAF_COUNT_MAX: int = _native.LEAF_COUNT_MAX
"""Leaves one tree may hold (lc_limits.h)."""
DUMMY_SHARE = 16
"""A tree holds at least one dummy leaf per DUMMY_SHARE parts (rounded up)."""
PROOF_VERSION = 1
ROOT_SIZE = 56
"""Bytes of a LiabilityRoot: hash, total (u128) and leaf count (u64)."""
U128_MAX = records.U128_MAX
# Members per batch of proofs(): their paths are gathered by one numpy call.
_PROOF_BATCH_SIZE = 4096

assert blake3(b"", derive_key_context=LEAF_CONTEXT) == _native.LEAF_KEY
assert blake3(b"", derive_key_context=NODE_CONTEXT) == _native.NODE_KEY


def padded_leaf_count(part_count: int) -> int:
    """The padding rule: the smallest power of two holding part_count parts and at least
    ceil(part_count / DUMMY_SHARE) dummy leaves (and at least 2 leaves).

    Example:
        >>> padded_leaf_count(3), padded_leaf_count(15), padded_leaf_count(16)
        (4, 16, 32)
    """
    needed = part_count + -(-part_count // DUMMY_SHARE)
    return max(2, 1 << (needed - 1).bit_length())


@dataclass(frozen=True)
class LiabilityRoot:
    """What the operator publishes (and a block will record): the root's hash, its sum (the
    total owed, in minor units) and the leaf count."""

    hash: bytes
    total: int
    leaf_count: int

    def to_dict(self) -> dict[str, Any]:
        """As in a proof's JSON: hash in hex, total as a decimal string, leaf_count an int.

        Example:
            >>> LiabilityRoot(bytes(32), 5, 4).to_dict()["total"]
            '5'
        """
        return {"hash": self.hash.hex(), "total": str(self.total), "leaf_count": self.leaf_count}

    def to_bytes(self) -> bytes:
        """The 56 bytes a block can record: hash (32) || total (u128) || leaf_count (u64),
        integers little-endian (docs/formats.md, section 6).

        Example:
            >>> root = LiabilityRoot(bytes(32), 5, 4)
            >>> len(root.to_bytes()), LiabilityRoot.from_bytes(root.to_bytes()) == root
            (56, True)
        """
        return self.hash + self.total.to_bytes(16, "little") + self.leaf_count.to_bytes(8, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> LiabilityRoot:
        """The root from its 56 bytes.

        Raises:
            LedgerValueError: not 56 bytes, or a leaf count that is not a power of two in
                2..LEAF_COUNT_MAX.

        Example:
            >>> LiabilityRoot.from_bytes(bytes(55))
            Traceback (most recent call last):
            ...
            ledgercore.errors.LedgerValueError: data: expected 56 bytes of a liability root, got 55
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expected bytes, got {type(data).__name__}")
        data = bytes(data)
        if len(data) != ROOT_SIZE:
            raise LedgerValueError(
                f"data: expected {ROOT_SIZE} bytes of a liability root, got {len(data)}"
            )
        leaf_count = int.from_bytes(data[48:56], "little")
        if not 2 <= leaf_count <= LEAF_COUNT_MAX or leaf_count & (leaf_count - 1):
            raise LedgerValueError(
                f"data: leaf count {leaf_count}, expected a power of two in 2..{LEAF_COUNT_MAX}"
            )
        return cls(data[:32], int.from_bytes(data[32:48], "little"), leaf_count)


@dataclass(frozen=True)
class LiabilityLeaf:
    """One of a member's leaves: its index, value (a part of the balance), salt, and the
    sibling (hash, sum) on each level, leaf side first."""

    index: int
    value: int
    salt: bytes
    path: tuple[tuple[bytes, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """As in a proof's JSON (docs/formats.md, section 6)."""
        return {
            "index": self.index,
            "value": str(self.value),
            "salt": self.salt.hex(),
            "path": [{"hash": h.hex(), "sum": str(s)} for h, s in self.path],
        }


@dataclass(frozen=True)
class LiabilityProof:
    """A member's proof: their account id, their leaves, and the root they lead to."""

    account_id: int
    leaves: tuple[LiabilityLeaf, ...]
    root: LiabilityRoot

    @property
    def balance(self) -> int:
        """The sum of the member's leaf values: the balance the proof says is counted."""
        return sum(leaf.value for leaf in self.leaves)

    def to_dict(self) -> dict[str, Any]:
        """The proof as JSON data (docs/formats.md, section 6).

        Example:
            >>> tree = LiabilityTree.build(records.ids([3]), [10], b"k" * 32)
            >>> sorted(tree.prove(3).to_dict())
            ['account_id', 'leaves', 'root', 'type', 'version']
        """
        return {
            "type": "liability",
            "version": PROOF_VERSION,
            "account_id": str(self.account_id),
            "root": self.root.to_dict(),
            "leaves": [leaf.to_dict() for leaf in self.leaves],
        }

    def to_json(self) -> str:
        """to_dict as compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"))


def _secret(secret: object) -> bytes:
    if not isinstance(secret, (bytes, bytearray, memoryview)):
        raise TypeError(f"secret: expected {SECRET_SIZE} bytes, got {type(secret).__name__}")
    secret = bytes(secret)
    if len(secret) != SECRET_SIZE:
        raise LedgerValueError(f"secret: expected {SECRET_SIZE} bytes, got {len(secret)}")
    return secret


def _balance_lanes(balances: object, count: int) -> numpy.ndarray:
    """(n, 2) u64 lanes from lanes or from a sequence of ints, each checked to be a u128."""
    if isinstance(balances, numpy.ndarray) and balances.ndim == 2:
        if balances.shape[1] != 2 or balances.dtype != numpy.uint64:
            raise TypeError(
                f"balances: expected an (n, 2) uint64 lane array or a sequence of ints, got "
                f"shape {balances.shape} {balances.dtype}"
            )
        lanes = numpy.ascontiguousarray(balances)
    else:
        if isinstance(balances, (str, bytes)) or not isinstance(
            balances, (Sequence, numpy.ndarray)
        ):
            raise TypeError("balances: expected a sequence of ints or an (n, 2) uint64 array")
        lanes = numpy.empty((len(balances), 2), dtype=numpy.uint64)
        for row, value in enumerate(balances):
            value = records.as_int(value, f"balances[{row}]")
            if not 0 <= value <= U128_MAX:
                raise LedgerValueError(
                    f"balances[{row}]: {value} is not a u128 balance (0..2^128 - 1)"
                )
            lanes[row] = (value & 0xFFFF_FFFF_FFFF_FFFF, value >> 64)
    if len(lanes) != count:
        raise LedgerValueError(f"ids, balances: {count} and {len(lanes)} rows; expected equal")
    return lanes


def liability_balances(accounts: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The (ids, balances) a fund owes: credits_posted - debits_posted of each account.

    Args:
        accounts: a 1-D ACCOUNT_DTYPE or BALANCE_DTYPE array (Ledger.balances gives the latter),
            already filtered to the members (say, one ledger and code).

    Returns:
        (ids, balances): two (n, 2) uint64 lane arrays, as LiabilityTree.build takes them.

    Raises:
        TypeError: accounts is not such an array.
        LedgerValueError: an account's debits exceed its credits (naming the first one).

    Example:
        >>> rows = numpy.zeros(2, dtype=records.BALANCE_DTYPE)
        >>> rows["id"] = records.ids([5, 6]); rows["credits_posted"][:, 0] = (30, 8)
        >>> ids, balances = liability_balances(rows)
        >>> records.u128(balances)
        [30, 8]
    """
    if not isinstance(accounts, numpy.ndarray) or accounts.ndim != 1:
        raise TypeError("accounts: expected a 1-D ACCOUNT_DTYPE or BALANCE_DTYPE array")
    if accounts.dtype not in (records.ACCOUNT_DTYPE, records.BALANCE_DTYPE):
        raise TypeError(
            f"accounts: expected a 1-D ACCOUNT_DTYPE or BALANCE_DTYPE array, got {accounts.dtype}"
        )
    credits = accounts["credits_posted"].astype(numpy.uint64)
    debits = accounts["debits_posted"].astype(numpy.uint64)
    low = credits[:, 0] - debits[:, 0]  # wraps on purpose: the borrow goes to the high lane
    borrow = (credits[:, 0] < debits[:, 0]).astype(numpy.uint64)
    negative = (credits[:, 1] < debits[:, 1]) | ((credits[:, 1] == debits[:, 1]) & (borrow == 1))
    if negative.any():
        row = int(numpy.flatnonzero(negative)[0])
        account_id = records.u128(accounts["id"][row])
        raise LedgerValueError(
            f"accounts[{row}]: account {account_id} has debits_posted above credits_posted; "
            "a liability balance cannot be negative"
        )
    high = credits[:, 1] - debits[:, 1] - borrow
    ids = numpy.ascontiguousarray(accounts["id"], dtype=numpy.uint64)
    return ids, numpy.ascontiguousarray(numpy.stack([low, high], axis=1))


class LiabilityTree:
    """A built liability sum tree: its root, and each member's proof.

    Build with `LiabilityTree.build`. The nodes live in one (2 * leaf_count - 1, 48) uint8
    array (48 bytes a node: hash, then sum as u128 little-endian), the leaves first, then each
    level up to the root.
    """

    def __init__(
        self,
        ids: numpy.ndarray,
        part_counts: numpy.ndarray,
        nodes: numpy.ndarray,
        part_leaves: numpy.ndarray,
        salt_key: bytes,
    ) -> None:
        self._ids = ids
        self._part_counts = part_counts
        self._first_parts = numpy.concatenate(([0], numpy.cumsum(part_counts, dtype=numpy.int64)))
        self._nodes = nodes
        self._part_leaves = part_leaves
        self._salt_key = salt_key
        self.leaf_count = (len(nodes) + 1) // 2
        self.depth = self.leaf_count.bit_length() - 1
        starts = [0]
        for level in range(self.depth):
            starts.append(starts[-1] + (self.leaf_count >> level))
        self._level_starts = numpy.array(starts, dtype=numpy.int64)
        root = nodes[-1]
        self.root = LiabilityRoot(bytes(root[:32]), _u128(root[32:]), self.leaf_count)

    @classmethod
    def build(
        cls,
        ids: Any,
        balances: Any,
        secret: bytes,
        *,
        parts_min: int = PARTS_MIN_DEFAULT,
        parts_max: int = PARTS_MAX_DEFAULT,
        leaf_count: int | None = None,
        threads: int | None = None,
    ) -> LiabilityTree:
        """Split, place, salt and hash the whole tree natively, in one call.

        Args:
            ids: the members' account ids: an (n, 2) uint64 lane array, or ints (records.ids).
            balances: what each is owed, in minor units: (n, 2) uint64 lanes, or ints.
            secret: the operator's 32 bytes, from which every salt, split and position comes;
                keep it: the same secret and balances rebuild the same tree.
            parts_min, parts_max: each balance is split into parts_min..parts_max parts
                (1 <= parts_min <= parts_max <= PARTS_MAX).
            leaf_count: a fixed leaf count (a power of two at least padded_leaf_count of the
                parts), to publish the same size from one period to the next; None for the
                padding rule.
            threads: threads the build may use (None: every CPU this process may run on);
                the tree is the same for any count.

        Returns:
            The tree; its root is `tree.root`.

        Raises:
            TypeError: an argument of the wrong type.
            LedgerValueError: no account, an id given twice or 0, a balance above 2^128 - 1,
                balances whose total passes 2^128 - 1, a secret not 32 bytes, parts or
                leaf_count or threads out of range. Each names the argument (and the row).

        Example:
            >>> tree = LiabilityTree.build([1, 2, 3], [10, 0, 5], bytes(32), parts_max=2)
            >>> tree.root.total, tree.root.leaf_count
            (15, 8)
        """
        secret = _secret(secret)
        id_lanes = records.ids(ids, "ids")
        if len(id_lanes) == 0:
            raise LedgerValueError("ids: no account; a proof of liabilities needs at least one")
        balance_lanes = _balance_lanes(balances, len(id_lanes))
        split_key, salt_key, place_key = (
            blake3(secret, derive_key_context=context)
            for context in (SPLIT_CONTEXT, SALT_CONTEXT, PLACE_CONTEXT)
        )
        counts = _native.part_counts(id_lanes, split_key, parts_min, parts_max)
        part_count = int(counts.sum(dtype=numpy.uint64))
        padded = padded_leaf_count(part_count)
        if leaf_count is None:
            leaf_count = padded
        elif isinstance(leaf_count, bool) or not isinstance(leaf_count, int):
            raise TypeError(f"leaf_count: expected an int or None, got {type(leaf_count).__name__}")
        elif leaf_count < padded or leaf_count & (leaf_count - 1):
            raise LedgerValueError(
                f"leaf_count: expected a power of two of at least {padded} ({part_count} parts "
                f"and their dummies), got {leaf_count}"
            )
        if leaf_count > LEAF_COUNT_MAX:
            raise LedgerValueError(
                f"leaf_count: {leaf_count} leaves, at most {LEAF_COUNT_MAX} ({part_count} parts)"
            )
        nodes, part_leaves, counts = _native.build(
            id_lanes, balance_lanes, leaf_count, parts_min, parts_max,
            split_key, salt_key, place_key, threads,
        )  # fmt: skip
        return cls(id_lanes, counts, nodes, part_leaves, salt_key)

    @property
    def account_count(self) -> int:
        """Members in the tree."""
        return len(self._ids)

    @property
    def part_count(self) -> int:
        """Leaves that hold a part of a balance (the rest are dummies)."""
        return len(self._part_leaves)

    @property
    def nodes(self) -> numpy.ndarray:
        """The (2 * leaf_count - 1, 48) node array, read-only."""
        view = self._nodes.view()
        view.flags.writeable = False
        return view

    def prove(self, account_id: int) -> LiabilityProof:
        """The proof for one member.

        Raises:
            LedgerValueError: account_id is not a member of this tree.

        Example:
            >>> tree = LiabilityTree.build([1, 2], [10, 5], bytes(32))
            >>> proof = tree.prove(2)
            >>> proof.balance, len(proof.leaves[0].path) == tree.depth
            (5, True)
        """
        lane = records.ids([account_id], "account_id")[0]
        rows = numpy.flatnonzero((self._ids[:, 0] == lane[0]) & (self._ids[:, 1] == lane[1]))
        if len(rows) == 0:
            raise LedgerValueError(f"account_id: {account_id} is not a member of this tree")
        return self._proofs_of(rows[:1])[0]

    def proofs(self) -> Iterator[LiabilityProof]:
        """Every member's proof, in the order the members were given, in one pass over the
        tree (paths gathered for thousands of members at a time).

        Example:
            >>> tree = LiabilityTree.build([1, 2], [10, 5], bytes(32))
            >>> [proof.balance for proof in tree.proofs()]
            [10, 5]
        """
        for start in range(0, self.account_count, _PROOF_BATCH_SIZE):
            rows = numpy.arange(start, min(start + _PROOF_BATCH_SIZE, self.account_count))
            yield from self._proofs_of(rows)

    def _proofs_of(self, rows: numpy.ndarray) -> list[LiabilityProof]:
        counts = self._part_counts[rows].astype(numpy.int64)
        firsts = self._first_parts[rows]
        # Every part of these rows: its row, its index within the row, its part number.
        part_rows = numpy.repeat(rows, counts)
        indices = numpy.arange(len(part_rows)) - numpy.repeat(numpy.cumsum(counts) - counts, counts)
        parts = numpy.repeat(firsts, counts) + indices
        leaves = self._part_leaves[parts].astype(numpy.int64)
        salts = _native.salts(self._ids[part_rows], indices.astype(numpy.uint64), self._salt_key)
        levels = numpy.arange(self.depth)
        siblings = self._level_starts[:-1][None, :] + ((leaves[:, None] >> levels) ^ 1)
        # One bytes object per batch: slicing it is many times cheaper than slicing numpy rows.
        paths = self._nodes[siblings].tobytes()  # (parts, depth, 48)
        values = self._nodes[leaves, 32:].tobytes()
        salt_bytes = salts.tobytes()
        step = _native.NODE_SIZE
        proofs, at = [], 0
        for row, count in zip(rows.tolist(), counts.tolist(), strict=True):
            member = []
            for part in range(at, at + count):
                base = part * self.depth * step
                path = tuple(
                    (paths[o : o + 32], int.from_bytes(paths[o + 32 : o + step], "little"))
                    for o in range(base, base + self.depth * step, step)
                )
                value = int.from_bytes(values[16 * part : 16 * part + 16], "little")
                salt = salt_bytes[32 * part : 32 * part + 32]
                member.append(LiabilityLeaf(int(leaves[part]), value, salt, path))
            at += count
            account_id = int(self._ids[row, 0]) | int(self._ids[row, 1]) << 64
            proofs.append(LiabilityProof(account_id, tuple(member), self.root))
        return proofs


def _u128(data: numpy.ndarray) -> int:
    return int.from_bytes(bytes(data), "little")
