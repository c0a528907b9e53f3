"""Native BLAKE3 against the `blake3` package and the published vectors, on every kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import blake3 as reference
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledgercore
from ledgercore._native import merkle as native_merkle
from ledgercore.errors import LedgerError, UnsupportedError
from ledgercore.hashing import (
    KERNEL_NAMES,
    available_simd_kernels,
    blake3,
    blake3_many,
    set_simd_kernel,
    simd_kernel,
)
from ledgercore.merkle import MerkleLog, merkle_root

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "blake3"
VECTORS = VECTORS / "test_vectors.json"
KERNELS = available_simd_kernels()


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest):
    """Pin each kernel this machine can run, then restore the default."""
    before = simd_kernel()
    set_simd_kernel(request.param)
    yield request.param
    set_simd_kernel(before)


@pytest.fixture(params=[name for name in KERNEL_NAMES if name != "portable"])
def simd(request: pytest.FixtureRequest):
    """Pin each SIMD kernel by name, skipping with the reason where this CPU or build lacks it."""
    if request.param not in KERNELS:
        pytest.skip(f"this CPU or build cannot run the {request.param} kernel")
    before = simd_kernel()
    set_simd_kernel(request.param)
    yield request.param
    set_simd_kernel(before)


def under_kernel(name: str, function):
    """function() with the named kernel pinned, then the kernel before it restored."""
    before = simd_kernel()
    set_simd_kernel(name)
    try:
        return function()
    finally:
        set_simd_kernel(before)


def vector_input(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


def load_vectors() -> dict:
    if not VECTORS.exists():
        pytest.skip(f"published BLAKE3 vectors not found at {VECTORS}")
    return json.loads(VECTORS.read_text())


def test_every_published_vector_matches_on_every_kernel(kernel: str) -> None:
    vectors = load_vectors()
    key = vectors["key"].encode()
    context = vectors["context_string"]
    assert len(vectors["cases"]) > 30
    for case in vectors["cases"]:
        data = vector_input(case["input_len"])
        hash_hex, keyed_hex, derive_hex = case["hash"], case["keyed_hash"], case["derive_key"]
        length = len(hash_hex) // 2
        assert blake3(data, length=length).hex() == hash_hex, case["input_len"]
        assert blake3(data).hex() == hash_hex[:64]
        assert blake3(data, key=key, length=length).hex() == keyed_hex, case["input_len"]
        assert blake3(data, derive_key_context=context, length=length).hex() == derive_hex
        # The default output of blake3_many is the first 32 bytes of the extended output.
        assert bytes(blake3_many([data])[0]).hex() == hash_hex[:64]
        assert bytes(blake3_many([data], key=key)[0]).hex() == keyed_hex[:64]


def test_every_length_up_to_three_chunks_matches_the_package(kernel: str) -> None:
    rng = numpy.random.default_rng(3)
    data = rng.integers(0, 256, 3 * 1024 + 1, dtype=numpy.uint8).tobytes()
    key = rng.integers(0, 256, 32, dtype=numpy.uint8).tobytes()
    for length in range(len(data) + 1):
        prefix = data[:length]
        assert blake3(prefix) == reference.blake3(prefix).digest(), length
        if length % 97 == 0:
            assert blake3(prefix, key=key) == reference.blake3(prefix, key=key).digest()


def test_random_lengths_up_to_a_mebibyte_match_the_package(kernel: str) -> None:
    rng = numpy.random.default_rng(4)
    data = rng.integers(0, 256, (1 << 20) + 1, dtype=numpy.uint8).tobytes()
    lengths = [1 << 20, (1 << 20) + 1, 1024 * 8, 1024 * 8 + 1, 1024 * 9 - 1, 65 * 1024]
    lengths += [int(n) for n in rng.integers(1025, 1 << 20, 12)]
    for length in lengths:
        assert blake3(data[:length]) == reference.blake3(data[:length]).digest(), length


def test_inputs_spanning_several_segments_match_the_package(kernel: str) -> None:
    # Past 4096 chunks the tree is built segment by segment; cover one and a bit.
    data = numpy.random.default_rng(5).integers(0, 256, 4097 * 1024 + 5, dtype=numpy.uint8)
    data_bytes = data.tobytes()
    assert blake3(data_bytes) == reference.blake3(data_bytes).digest()
    assert blake3(data_bytes[: 8192 * 1024]) == reference.blake3(data_bytes[: 8192 * 1024]).digest()


def test_extended_output_and_derive_key_match_the_package(kernel: str) -> None:
    for length in (0, 1, 31, 32, 33, 64, 65, 200, 1024, 4000):
        data = vector_input(length)
        assert blake3(data, length=length) == reference.blake3(data).digest(length)
        assert blake3(data, derive_key_context="ctx", length=70) == reference.blake3(
            data, derive_key_context="ctx"
        ).digest(70)
    assert blake3(b"abc", length=0) == b""


@pytest.mark.parametrize("size", [0, 1, 31, 32, 63, 64, 65, 127, 128, 200, 1023, 1024, 1025, 3000])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33])
def test_blake3_many_rows_match_one_by_one(kernel: str, size: int, count: int) -> None:
    rows = numpy.random.default_rng(size * 100 + count).integers(
        0, 256, (count, size), dtype=numpy.uint8
    )
    key = bytes(range(32))
    digests = blake3_many(rows)
    keyed = blake3_many(rows, key=key)
    assert digests.shape == (count, 32)
    assert digests.dtype == numpy.uint8
    for i, row in enumerate(rows):
        assert bytes(digests[i]) == reference.blake3(row.tobytes()).digest()
        assert bytes(keyed[i]) == reference.blake3(row.tobytes(), key=key).digest()


def test_blake3_many_mixed_lengths_match_one_by_one(kernel: str) -> None:
    rng = numpy.random.default_rng(7)
    sizes = [int(n) for n in rng.integers(0, 1100, 700)] + [0, 64, 4096, 5000, 1024, 1025]
    items: list = [rng.integers(0, 256, n, dtype=numpy.uint8).tobytes() for n in sizes]
    # Other bytes-like objects are taken through the buffer protocol.
    items[1] = bytearray(items[1])
    items[2] = memoryview(items[2])
    items[3] = numpy.frombuffer(items[3], dtype=numpy.uint8)
    expected = [reference.blake3(bytes(item)).digest() for item in items]
    for sequence in (items, tuple(items)):
        digests = blake3_many(sequence)
        assert [bytes(row) for row in digests] == expected


def test_blake3_many_lists_span_several_pieces_in_order() -> None:
    # Small inputs are hashed a piece at a time (at most 65,536 inputs or 4 MiB each): cross
    # both limits, with inputs longer than a chunk and other bytes-likes among them.
    rng = numpy.random.default_rng(9)
    many_small = [rng.bytes(int(n)) for n in rng.integers(0, 100, 70_000)]
    many_small[12_345] = rng.bytes(5_000)
    many_small[65_536] = bytearray(rng.bytes(64))
    big_pieces = [rng.bytes(1000) for _ in range(5_000)]
    big_pieces[4_200] = rng.bytes(300_000)
    for items in (many_small, big_pieces):
        digests = blake3_many(items)
        expected = [reference.blake3(bytes(item)).digest() for item in items]
        assert [bytes(row) for row in digests] == expected


def test_blake3_many_refuses_a_sequence_that_changes_while_read() -> None:
    class Shrinking:
        """A bytes-like object whose export empties the list holding it."""

        def __init__(self, owner: list) -> None:
            self.owner = owner

        def __buffer__(self, flags: int) -> memoryview:
            self.owner.clear()
            return memoryview(b"x")

    if sys.version_info < (3, 12):
        pytest.skip("__buffer__ in Python classes needs Python 3.12")
    items: list = [b"a"]
    items.append(Shrinking(items))
    items.append(b"c")
    with pytest.raises(RuntimeError, match="changed size"):
        blake3_many(items)


def test_blake3_many_takes_non_contiguous_arrays_and_views() -> None:
    wide = numpy.random.default_rng(8).integers(0, 256, (50, 130), dtype=numpy.uint8)
    strided = wide[::2, ::2]
    assert not strided.flags.c_contiguous
    expected = [reference.blake3(row.tobytes()).digest() for row in strided]
    assert [bytes(row) for row in blake3_many(strided)] == expected
    column_view = memoryview(wide[:, 3])
    assert not column_view.c_contiguous
    assert blake3(column_view) == reference.blake3(wide[:, 3].tobytes()).digest()
    assert bytes(blake3_many([column_view])[0]) == reference.blake3(wide[:, 3].tobytes()).digest()


def test_blake3_many_accepts_any_iterable_of_bytes() -> None:
    items = (bytes([i]) * i for i in range(20))
    digests = blake3_many(items)
    assert [bytes(row) for row in digests] == [
        reference.blake3(bytes([i]) * i).digest() for i in range(20)
    ]


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(st.binary(max_size=2100), max_size=40),
    key=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
)
def test_blake3_many_equals_the_package_on_arbitrary_inputs(items: list, key: bytes | None) -> None:
    digests = blake3_many(items, key=key)
    for item, digest in zip(items, digests, strict=True):
        expected = reference.blake3(item, key=key) if key else reference.blake3(item)
        assert bytes(digest) == expected.digest()


def test_a_non_bytes_item_is_refused_with_its_index() -> None:
    with pytest.raises(TypeError, match=r"items\[2\].*int"):
        blake3_many([b"a", b"b", 7])
    with pytest.raises(TypeError, match=r"items\[0\].*str"):
        blake3_many(["text"])
    with pytest.raises(TypeError, match="sequence of bytes-like"):
        blake3_many(b"abc")


def test_arrays_of_the_wrong_dtype_or_shape_are_refused() -> None:
    with pytest.raises(TypeError, match="uint8"):
        blake3_many(numpy.zeros((2, 8), dtype=numpy.int32))
    with pytest.raises(ValueError, match="2-D"):
        blake3_many(numpy.zeros(8, dtype=numpy.uint8))
    with pytest.raises(ValueError, match="2-D"):
        blake3_many(numpy.zeros((2, 2, 2), dtype=numpy.uint8))


def test_bad_keys_lengths_and_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="key: expected 32 bytes, got 31"):
        blake3(b"x", key=bytes(31))
    with pytest.raises(ValueError, match="key: expected 32 bytes, got 33"):
        blake3_many([b"x"], key=bytes(33))
    with pytest.raises(ValueError, match="length"):
        blake3(b"x", length=-1)
    with pytest.raises(ValueError, match="together"):
        blake3(b"x", key=bytes(32), derive_key_context="c")
    with pytest.raises(TypeError, match="str"):
        blake3("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="derive_key_context"):
        blake3(b"x", derive_key_context=5)  # type: ignore[arg-type]
    with pytest.raises(LedgerError):
        blake3(b"x", key=bytes(1))


def test_the_default_kernel_is_the_widest_available() -> None:
    assert simd_kernel() == KERNELS[0]
    assert "portable" in KERNELS
    assert ledgercore.simd_kernel() == simd_kernel()


def test_an_unknown_kernel_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SIMD kernel"):
        set_simd_kernel("avx9000")


def run_with_simd(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEDGERCORE_SIMD": value}
    code = (
        "import ledgercore; from ledgercore._native import merkle; "
        "print(ledgercore.simd_kernel(), merkle.kernel_name())"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("name", KERNELS)
def test_the_environment_pins_each_available_kernel(name: str) -> None:
    completed = run_with_simd(name)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [name, name]


def test_the_environment_refuses_an_unknown_or_missing_kernel() -> None:
    completed = run_with_simd("neon-please")
    assert completed.returncode != 0
    assert "LEDGERCORE_SIMD=neon-please" in completed.stderr
    missing = [name for name in ("sse41", "avx2", "avx512", "neon") if name not in KERNELS]
    for name in missing:
        completed = run_with_simd(name)
        assert completed.returncode != 0
        assert "not available" in completed.stderr


# Lane counts around every kernel width (4, 8, 16) and block and chunk sizes around their edges.
LANE_EDGE_COUNTS = [*range(41), 100]
BLOCK_EDGE_SIZES = [0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 4097]
MODES = {
    "hash": {},
    "keyed": {"key": bytes(range(32))},
    "derive_key": {"derive_key_context": "ledgercore kernel test v1"},
}


def reference_digest(data: bytes, mode: str) -> bytes:
    return reference.blake3(data, **MODES[mode]).digest()


@pytest.mark.parametrize("size", BLOCK_EDGE_SIZES)
def test_many_inputs_around_lane_and_block_edges_match_portable_and_the_package(
    simd: str, size: int
) -> None:
    rng = numpy.random.default_rng(size)
    key = MODES["keyed"]["key"]
    for count in LANE_EDGE_COUNTS:
        rows = rng.integers(0, 256, (count, size), dtype=numpy.uint8)
        items = [row.tobytes() for row in rows]
        for options in ({}, {"key": key}):
            digests = blake3_many(rows, **options)
            listed = blake3_many(items, **options)
            portable = under_kernel("portable", lambda r=rows, o=options: blake3_many(r, **o))
            assert (digests == portable).all(), (count, size)
            assert (listed == portable).all(), (count, size)
            mode = "keyed" if options else "hash"
            expected = [reference_digest(item, mode) for item in items]
            assert [bytes(row) for row in digests] == expected, (count, size, mode)


@pytest.mark.parametrize("chunk_count", [1, 2, 15, 16, 17, 31, 32, 33, 40, 100])
def test_one_input_of_chunks_around_lane_edges_matches_portable_in_every_mode(
    simd: str, chunk_count: int
) -> None:
    # A long input's chunks, then each level of its parents, fill the lanes side by side.
    data = numpy.random.default_rng(chunk_count).bytes(chunk_count * 1024 + 65)
    for mode, options in MODES.items():
        for size in (chunk_count * 1024 - 1, chunk_count * 1024, chunk_count * 1024 + 1):
            prefix = data[:size]
            digest = blake3(prefix, **options)
            assert digest == under_kernel("portable", lambda p=prefix, o=options: blake3(p, **o))
            assert digest == reference_digest(prefix, mode), (mode, size)
        assert blake3(data, length=100, **options) == reference.blake3(data, **options).digest(100)


@pytest.mark.parametrize("size", BLOCK_EDGE_SIZES)
def test_every_mode_around_block_edges_matches_the_package(simd: str, size: int) -> None:
    data = numpy.random.default_rng(size + 1).bytes(size)
    for mode, options in MODES.items():
        assert blake3(data, **options) == reference_digest(data, mode), (mode, size)


def test_merkle_roots_and_logs_agree_on_every_kernel(simd: str) -> None:
    assert native_merkle.kernel_name() == simd  # the Merkle code hashes with the pinned kernel
    rng = numpy.random.default_rng(11)
    rows = rng.integers(0, 256, (20_000, 128), dtype=numpy.uint8)
    ragged = [rng.bytes(int(n)) for n in rng.integers(0, 300, 3_000)]
    sizes = [*LANE_EDGE_COUNTS, 255, 256, 257, 1000, 16_384, 16_385, 20_000]

    def roots() -> list:
        return [merkle_root(rows[:n], threads=1) for n in sizes] + [
            merkle_root(rows, threads=4),
            merkle_root(ragged),
        ]

    def log_facts() -> tuple:
        log = MerkleLog()
        for start in range(0, len(rows), 4_999):
            log.append_many(rows[start : start + 4_999])
        log.append_many(ragged)
        size = log.size
        picks = [0, 15, 16, 17, 4_999, size // 2, size - 1]
        return (
            [log.root(n) for n in (1, 16, 17, 5_000, size)],
            [list(log.inclusion_proof(i).hashes) for i in picks],
            [list(log.consistency_proof(n).hashes) for n in (1, 17, 4_999, 12_345)],
        )

    assert roots() == under_kernel("portable", roots)
    assert log_facts() == under_kernel("portable", log_facts)


def test_a_pin_reaches_the_merkle_hashing(kernel: str) -> None:
    # The Merkle extension links its own copy of the BLAKE3 code, with its own kernel choice.
    assert native_merkle.kernel_name() == kernel
    assert simd_kernel() == kernel


def test_a_kernel_the_cpu_lacks_is_refused_and_changes_nothing() -> None:
    before = simd_kernel()
    for name in [name for name in KERNEL_NAMES if name not in KERNELS]:
        with pytest.raises(UnsupportedError, match="not available"):
            set_simd_kernel(name)
        assert simd_kernel() == before
        assert native_merkle.kernel_name() == before


def cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo to read the CPU's features from")
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    pytest.skip("/proc/cpuinfo lists no CPU flags (not an x86 CPU)")


def test_avx512_is_offered_exactly_when_the_cpu_and_os_support_it() -> None:
    # Linux lists avx512f only when it also saves the ZMM and opmask state.
    has_avx512 = "avx512f" in cpu_flags()
    if "avx512" in KERNELS:
        assert has_avx512
    if not has_avx512:
        pytest.skip("this CPU lacks AVX-512F; the avx512 kernel is refused, as it should be")
    if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("valgrind hides AVX-512 from CPUID, so the kernel is rightly not offered")
    assert KERNELS[0] == "avx512"


def test_unsupported_error_is_a_ledger_error() -> None:
    assert issubclass(UnsupportedError, LedgerError)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.sampled_from([8, 16, 64, 192, 1024]),
    st.integers(0, 2**64 - 1),
    st.randoms(use_true_random=False),
)
def test_stamped_rows_hash_like_the_reference_on_stamped_copies(rows_count, size, base, rnd):
    rng = numpy.random.default_rng(rnd.getrandbits(32))
    rows = rng.integers(0, 256, (rows_count, size), dtype=numpy.uint8)
    offset = int(rng.integers(0, size - 7))
    picked = rng.integers(0, rows_count, int(rng.integers(0, 50)), dtype=numpy.int64)
    picked = numpy.array([p for p in picked.tolist() if base + p < 2**64], dtype=numpy.int64)
    key = rng.bytes(32)
    before = rows.copy()
    digests = ledgercore.hashing.blake3_stamped_rows(
        rows, picked, stamp_offset=offset, stamp_base=base, key=key
    )
    assert (rows == before).all()  # stamped on the way in, never in place
    for digest, row in zip(digests, picked.tolist(), strict=True):
        stamped = bytearray(rows[row].tobytes())
        stamped[offset : offset + 8] = (base + row).to_bytes(8, "little")
        assert bytes(digest) == reference.blake3(bytes(stamped), key=key).digest()


def test_stamped_rows_refuse_picks_stamps_and_offsets_out_of_range():
    rows = numpy.zeros((4, 32), dtype=numpy.uint8)
    stamped = ledgercore.hashing.blake3_stamped_rows
    with pytest.raises(ValueError, match="past the end"):
        stamped(rows, numpy.array([4]), stamp_offset=0, stamp_base=0)
    with pytest.raises(ValueError, match="past the end"):
        stamped(rows, numpy.array([-1]), stamp_offset=0, stamp_base=0)
    with pytest.raises(ValueError, match="2\\^64"):
        stamped(rows, numpy.array([3]), stamp_offset=0, stamp_base=2**64 - 2)
    with pytest.raises(ValueError, match="stamp"):
        stamped(rows, numpy.array([0]), stamp_offset=25, stamp_base=0)
    with pytest.raises(ValueError, match="stamp"):
        stamped(numpy.zeros((2, 1032), numpy.uint8), numpy.array([0]), stamp_offset=0, stamp_base=0)
    with pytest.raises(ValueError, match="2\\^64"):
        stamped(rows, numpy.array([0]), stamp_offset=0, stamp_base=2**64)
    assert stamped(rows, numpy.zeros(0, numpy.int64), stamp_offset=0, stamp_base=0).shape == (0, 32)
