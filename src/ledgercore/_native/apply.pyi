"""Types of the native validate/apply engine (apply.pyx); the documented API is ledgercore.engine."""

import numpy

FORMAT_VERSION: int
ACCOUNT_SIZE: int
TRANSFER_SIZE: int
TRANSFER_SIGNED_SIZE: int
TRANSFER_SIGNING_SIZE: int
TRANSFER_SIGNING_PREFIX: bytes
ACCOUNT_RESULT_COUNT: int
TRANSFER_RESULT_COUNT: int
SIGNATURE_BAD: int
SIGNATURE_GOOD: int
SIGNATURE_UNCHECKED: int
BATCH_SIZE_MAX: int
ENGINE_ACCOUNT_COUNT_MAX: int
ENGINE_TRANSFER_COUNT_MAX: int

def signing_bytes(transfers: numpy.ndarray) -> numpy.ndarray: ...

class NativeEngine:
    def __init__(self, seed0: int, seed1: int) -> None: ...
    def create_accounts(
        self, accounts: numpy.ndarray, key_ok: numpy.ndarray, timestamp_ns: int
    ) -> numpy.ndarray: ...
    def submit(
        self, transfers: numpy.ndarray, signatures: numpy.ndarray | None, timestamp_ns: int
    ) -> numpy.ndarray: ...
    def gather_owner_keys(
        self, transfers: numpy.ndarray
    ) -> tuple[numpy.ndarray, numpy.ndarray]: ...
    def lookup_accounts(self, ids: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]: ...
    def lookup_transfers(self, ids: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]: ...
    def check_invariants(self) -> dict[int, tuple[int, int, int, int]]: ...
    def break_account_for_test(
        self, id_lanes: numpy.ndarray, amount_lanes: numpy.ndarray
    ) -> None: ...
    @property
    def account_count(self) -> int: ...
    @property
    def transfer_count(self) -> int: ...
    @property
    def pending_count(self) -> int: ...
    @property
    def last_timestamp_ns(self) -> int: ...
    @property
    def memory_size(self) -> int: ...
