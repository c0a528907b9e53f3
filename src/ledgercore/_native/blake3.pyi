import numpy
import numpy.typing

BATCH_SIZE_MAX: int
BLAKE3_INPUT_SIZE_MAX: int
BLAKE3_OUTPUT_SIZE_MAX: int
KERNEL_NAMES: tuple[str, ...]

def hash_one(
    data: bytes | bytearray | memoryview,
    *,
    key: bytes | None = None,
    context: bytes | None = None,
    length: int = 32,
) -> bytes: ...
def hash_rows(
    items: numpy.typing.NDArray[numpy.uint8], *, key: bytes | None = None
) -> numpy.typing.NDArray[numpy.uint8]: ...
def hash_sequence(
    items: object, *, key: bytes | None = None
) -> numpy.typing.NDArray[numpy.uint8]: ...
def kernel_name() -> str: ...
def kernel_available(name: str) -> bool: ...
def set_kernel(name: str) -> bool: ...
def hash_rows_stamped(
    rows: numpy.typing.NDArray[numpy.uint8],
    picked: numpy.typing.NDArray[numpy.int64],
    stamp_offset: int,
    stamp_base: int,
    *,
    key: bytes | None = None,
) -> numpy.typing.NDArray[numpy.uint8]: ...
