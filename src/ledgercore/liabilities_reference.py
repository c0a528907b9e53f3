"""The liability sum tree in plain Python: the slow, obvious build the native one must equal.

Every step of docs/formats.md, section 6, written as directly as it reads, over the `blake3`
package and Python ints, with no numpy and no native code. The tests compare the native build
with it bit for bit, and the bench times it beside the native build on a subset.

Example:
    >>> tree = reference_tree([7, 9], [500, 20], b"s" * 32)
    >>> tree.total, tree.leaf_count
    (520, 8)
    >>> sorted(value for _, value in tree.levels[0])[-1] <= 500
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from blake3 import blake3

SPLIT_CONTEXT = "ledgercore 2026-12 liability split v1"
SALT_CONTEXT = "ledgercore 2026-12 liability salt v1"
PLACE_CONTEXT = "ledgercore 2026-12 liability place v1"
LEAF_CONTEXT = "ledgercore 2026-12 liability leaf v1"
NODE_CONTEXT = "ledgercore 2026-12 liability node v1"
LEAF_KEY = blake3(b"", derive_key_context=LEAF_CONTEXT).digest()
NODE_KEY = blake3(b"", derive_key_context=NODE_CONTEXT).digest()
DUMMY_SHARE = 16
"""A tree holds at least one dummy leaf per DUMMY_SHARE parts (rounded up)."""


def derive_keys(secret: bytes) -> tuple[bytes, bytes, bytes]:
    """(split, salt, place) keys: BLAKE3 derive_key of the secret under the three contexts."""
    return tuple(  # type: ignore[return-value]
        blake3(secret, derive_key_context=context).digest()
        for context in (SPLIT_CONTEXT, SALT_CONTEXT, PLACE_CONTEXT)
    )


def stream(key: bytes, account_id: int, counter: int) -> bytes:
    """BLAKE3-keyed(key, id_le16 || counter_le8): 32 bytes."""
    return blake3(
        account_id.to_bytes(16, "little") + counter.to_bytes(8, "little"), key=key
    ).digest()


def padded_leaf_count(part_count: int) -> int:
    """The smallest power of two holding the parts and ceil(parts / DUMMY_SHARE) dummies."""
    needed = part_count + -(-part_count // DUMMY_SHARE)
    return max(2, 1 << (needed - 1).bit_length())


def split(account_id: int, balance: int, split_key: bytes, parts_min: int, parts_max: int) -> list:
    """The parts of one balance, in part order."""
    words_bytes = b"".join(stream(split_key, account_id, c) for c in range((parts_max + 1) // 2))
    words = [int.from_bytes(words_bytes[16 * w : 16 * w + 16], "little") for w in range(parts_max)]
    count = parts_min + (words[0] * (parts_max - parts_min + 1) >> 128)
    cuts = sorted((words[w] * (balance + 1)) >> 128 for w in range(1, count))
    bounds = [0, *cuts, balance]
    return [bounds[j + 1] - bounds[j] for j in range(count)]


def leaf_hash(account_id: int, value: int, salt: bytes) -> bytes:
    """BLAKE3-keyed(LEAF_KEY, id_le16 || value_le16 || salt)."""
    data = account_id.to_bytes(16, "little") + value.to_bytes(16, "little") + salt
    return blake3(data, key=LEAF_KEY).digest()


def node_hash(left: tuple[bytes, int], right: tuple[bytes, int]) -> bytes:
    """BLAKE3-keyed(NODE_KEY, left hash || left sum_le16 || right hash || right sum_le16)."""
    data = left[0] + left[1].to_bytes(16, "little") + right[0] + right[1].to_bytes(16, "little")
    return blake3(data, key=NODE_KEY).digest()


@dataclass
class ReferenceTree:
    """levels[0] are the leaves as (hash, sum), levels[-1] the root; part_leaves maps
    (account id, part index) to its leaf index; salts maps the same keys to their salts."""

    levels: list[list[tuple[bytes, int]]]
    part_leaves: dict[tuple[int, int], int]
    salts: dict[tuple[int, int], bytes]

    @property
    def leaf_count(self) -> int:
        return len(self.levels[0])

    @property
    def root_hash(self) -> bytes:
        return self.levels[-1][0][0]

    @property
    def total(self) -> int:
        return self.levels[-1][0][1]


def reference_tree(
    ids: list[int],
    balances: list[int],
    secret: bytes,
    parts_min: int = 2,
    parts_max: int = 4,
    leaf_count: int | None = None,
) -> ReferenceTree:
    """Build the tree of docs/formats.md, section 6, step by step (inputs assumed valid)."""
    split_key, salt_key, place_key = derive_keys(secret)
    items = []  # (id, index, value)
    for account_id, balance in zip(ids, balances, strict=True):
        parts = split(account_id, balance, split_key, parts_min, parts_max)
        items += [(account_id, j, value) for j, value in enumerate(parts)]
    if leaf_count is None:
        leaf_count = padded_leaf_count(len(items))
    items += [(0, d, 0) for d in range(leaf_count - len(items))]

    def order(item: tuple[int, int, int]) -> tuple[int, int, int]:
        tag = int.from_bytes(stream(place_key, item[0], item[1])[:8], "little")
        return tag, item[0], item[1]

    items.sort(key=order)
    leaves, part_leaves, salts = [], {}, {}
    for position, (account_id, index, value) in enumerate(items):
        salt = stream(salt_key, account_id, index)
        leaves.append((leaf_hash(account_id, value, salt), value))
        if account_id != 0:
            part_leaves[account_id, index] = position
            salts[account_id, index] = salt
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [
                (node_hash(below[i], below[i + 1]), below[i][1] + below[i + 1][1])
                for i in range(0, len(below), 2)
            ]
        )
    return ReferenceTree(levels, part_leaves, salts)
