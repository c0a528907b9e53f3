"""The limits of ledgercore, read from the native code where they are declared once.

`_native/lc_limits.h` holds every `LC_*_MAX` with the reason for its value; this module exposes
them to Python under their names without the prefix, so C and Python cannot drift.

Example:
    >>> from ledgercore import limits
    >>> limits.BATCH_SIZE_MAX
    16777216
"""

from __future__ import annotations

from ledgercore._native import blake3 as _blake3

BATCH_SIZE_MAX: int = _blake3.BATCH_SIZE_MAX
"""Rows (inputs, transfers, signatures) one native call takes."""

BLAKE3_INPUT_SIZE_MAX: int = _blake3.BLAKE3_INPUT_SIZE_MAX
"""Bytes of one input to `ledgercore.blake3`."""

BLAKE3_OUTPUT_SIZE_MAX: int = _blake3.BLAKE3_OUTPUT_SIZE_MAX
"""Bytes of extended output one `ledgercore.blake3` call gives."""
