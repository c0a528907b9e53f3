"""The limits of ledgercore, read from the native code where they are declared once.

`_native/lc_limits.h` holds every `LC_*_MAX` with the reason for its value; this module exposes
them to Python under their names without the prefix, so C and Python cannot drift.

Example:
    >>> from ledgercore import limits
    >>> limits.BATCH_SIZE_MAX
    16777216
    >>> limits.MERKLE_PROOF_HASHES_MAX >= limits.MERKLE_LEVEL_COUNT_MAX - 1
    True
"""

from __future__ import annotations

from ledgercore._native import apply as _apply
from ledgercore._native import blake3 as _blake3
from ledgercore._native import ed25519 as _ed25519
from ledgercore._native import merkle as _merkle
from ledgercore._native import sumtree as _sumtree

BATCH_SIZE_MAX: int = _blake3.BATCH_SIZE_MAX
"""Rows (inputs, transfers, signatures) one native call takes."""

THREAD_COUNT_MAX: int = _ed25519.THREAD_COUNT_MAX
"""Worker threads one native call may start."""

BLAKE3_INPUT_SIZE_MAX: int = _blake3.BLAKE3_INPUT_SIZE_MAX
"""Bytes of one input to `ledgercore.blake3`."""

BLAKE3_OUTPUT_SIZE_MAX: int = _blake3.BLAKE3_OUTPUT_SIZE_MAX
"""Bytes of extended output one `ledgercore.blake3` call gives."""

ED25519_CHUNK_SIZE_MAX: int = _ed25519.CHUNK_SIZE_MAX
"""Signatures in one random linear combination of batch verification."""

MERKLE_LEAF_COUNT_MAX: int = _merkle.LEAF_COUNT_MAX
"""Leaves a Merkle log or state tree may hold."""

MERKLE_LEVEL_COUNT_MAX: int = _merkle.LEVEL_COUNT_MAX
"""Levels of the largest Merkle tree, leaves included."""

MERKLE_PROOF_HASHES_MAX: int = _merkle.PROOF_HASHES_MAX
"""Hashes one Merkle proof may carry."""

ENGINE_ACCOUNT_COUNT_MAX: int = _apply.ENGINE_ACCOUNT_COUNT_MAX
"""Accounts one engine holds."""

ENGINE_TRANSFER_COUNT_MAX: int = _apply.ENGINE_TRANSFER_COUNT_MAX
"""Transfers one engine remembers (for idempotency and two-phase lookups)."""

SUMTREE_LEAF_COUNT_MAX: int = _sumtree.LEAF_COUNT_MAX
"""Leaves one liability sum tree may hold."""

SUMTREE_PARTS_MAX: int = _sumtree.PARTS_MAX
"""Parts one member's balance may be split into in a liability sum tree."""

# The batch limit is one number for every native module.
assert _apply.BATCH_SIZE_MAX == _ed25519.BATCH_SIZE_MAX == BATCH_SIZE_MAX
