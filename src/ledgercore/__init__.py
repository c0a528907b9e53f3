"""ledgercore: a tamper-evident double-entry financial ledger with a native core.

The public names live in their own modules and are re-exported here; this file holds no logic.

Example:
    >>> import ledgercore
    >>> ledgercore.blake3(b"abc").hex()[:16]
    '6437b3ac38465133'
"""

from ledgercore.hashing import blake3, blake3_many, simd_kernel

__all__ = ["blake3", "blake3_many", "simd_kernel"]
__version__ = "0.1.0"
