"""Types of the native record packing (wordpack.pyx); its user is ledgercore.store."""

from typing import Any

import numpy

RECORD_SIZE_MAX: int

def mask_size(record_size: int) -> int: ...
def pack(
    records: numpy.ndarray,
    prefix: bytes = b"",
    suffix: bytes = b"",
    *,
    offset: int = 0,
    size: int | None = None,
) -> bytes: ...
def unpack(data: Any, offset: int, count: int, dtype: Any) -> tuple[numpy.ndarray, int]: ...
