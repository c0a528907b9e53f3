from collections.abc import Sequence

import numpy
import numpy.typing

Buffer = bytes | bytearray | memoryview

BATCH_SIZE_MAX: int
THREAD_COUNT_MAX: int
CHUNK_SIZE_MAX: int
TEAM_SIGNATURES_MIN: int
PUBLIC_KEY_SIZE: int
SIGNATURE_SIZE: int
DECODED_KEY_SIZE: int
HINTED_KEY_SIZE: int
GROUP_ORDER: int
KEY_OK: int
KEY_NOT_CANONICAL: int
KEY_NOT_ON_CURVE: int
KEY_SMALL_ORDER: int

def verify(public_key: Buffer, message: Buffer, signature: Buffer) -> bool: ...
def decode_public_keys(
    public_keys: numpy.typing.NDArray[numpy.uint8],
) -> numpy.typing.NDArray[numpy.uint8]: ...
def verify_batch(
    public_keys: numpy.typing.NDArray[numpy.uint8],
    messages: numpy.typing.NDArray[numpy.uint8] | Sequence[Buffer],
    signatures: numpy.typing.NDArray[numpy.uint8],
    threads: int,
) -> numpy.typing.NDArray[numpy.bool_]: ...
def team_check(
    public_keys: numpy.typing.NDArray[numpy.uint8],
    messages: numpy.typing.NDArray[numpy.uint8] | Sequence[Buffer],
    signatures: numpy.typing.NDArray[numpy.uint8],
    threads: int,
) -> tuple[bool, numpy.typing.NDArray[numpy.bool_]]: ...
def check_public_key(public_key: Buffer) -> int: ...
def check_public_keys(public_keys: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]: ...
def sha512(data: Buffer) -> bytes: ...
def split_scalar(k: Buffer) -> tuple[int, int, int]: ...

class PendingVerification:
    def result(self) -> numpy.typing.NDArray[numpy.bool_]: ...
    @property
    def seconds(self) -> float: ...

VERIFY_QUEUE_LANES_MAX: int

class VerifyQueue:
    def __init__(self, lanes: int = 1) -> None: ...
    def submit(
        self,
        public_keys: numpy.typing.NDArray[numpy.uint8],
        messages: numpy.typing.NDArray[numpy.uint8] | Sequence[Buffer],
        signatures: numpy.typing.NDArray[numpy.uint8],
        threads: int,
    ) -> PendingVerification: ...
