import numpy
import numpy.typing as npt

LEAF_COUNT_MAX: int
PARTS_MAX: int
HASH_SIZE: int
NODE_SIZE: int
LEAF_KEY: bytes
NODE_KEY: bytes
THREAD_COUNT_MAX: int

def check_balances(balances: npt.NDArray[numpy.uint64]) -> int: ...
def part_counts(
    ids: npt.NDArray[numpy.uint64], split_key: bytes, parts_min: int, parts_max: int
) -> npt.NDArray[numpy.uint8]: ...
def build(
    ids: npt.NDArray[numpy.uint64],
    balances: npt.NDArray[numpy.uint64],
    leaf_count: int,
    parts_min: int,
    parts_max: int,
    split_key: bytes,
    salt_key: bytes,
    place_key: bytes,
    threads: int | None = None,
) -> tuple[npt.NDArray[numpy.uint8], npt.NDArray[numpy.uint32], npt.NDArray[numpy.uint8]]: ...
def salts(
    ids: npt.NDArray[numpy.uint64], indices: npt.NDArray[numpy.uint64], salt_key: bytes
) -> npt.NDArray[numpy.uint8]: ...
