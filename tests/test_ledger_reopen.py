"""A ledger closed and reopened at any point behaves exactly as one that never closed, whether
it reopens from its snapshot or by applying its blocks again."""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_traffic import Traffic, open_ledger

from ledgercore.errors import LedgerValueError
from ledgercore.snapshot import SNAPSHOT_FILE

T0 = 1_700_000_000 * 10**9

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),  # batch size
        st.integers(min_value=-3, max_value=5),  # clock step in seconds (back: refused)
        st.sampled_from([None, "snapshot", "blocks"]),  # reopen the second ledger, and how
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, seed=st.integers(min_value=1, max_value=1000))
def test_reopening_at_any_point_gives_the_head_of_a_ledger_never_closed(steps, seed):
    with tempfile.TemporaryDirectory() as directory:
        kept = open_ledger(directory + "/kept")
        reopened = open_ledger(directory + "/reopened")
        try:
            traffics = [Traffic(6, seed=seed), Traffic(6, seed=seed)]
            for ledger, traffic in zip((kept, reopened), traffics, strict=True):
                ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
            clock = T0
            for size, clock_step, reopen in steps:
                clock += clock_step * 10**9
                if clock <= kept.clock_ns:
                    # A clock that does not move forward is refused alike, and changes nothing.
                    for ledger, traffic in zip((kept, reopened), traffics, strict=True):
                        head = ledger.head()
                        with pytest.raises(LedgerValueError, match="not after the ledger's"):
                            ledger.submit(traffic.batch(size), timestamp_ns=clock)
                        assert ledger.head() == head
                    clock = kept.clock_ns + 10**9
                answers = [
                    ledger.submit(traffic.batch(size), timestamp_ns=clock)
                    for ledger, traffic in zip((kept, reopened), traffics, strict=True)
                ]
                assert answers[0][0].tolist() == answers[1][0].tolist()
                assert answers[0][1] == answers[1][1]
                if reopen is not None:
                    reopened.close(snapshot=reopen == "snapshot")
                    if reopen == "blocks":  # an older snapshot may still match an unmoved head
                        with contextlib.suppress(FileNotFoundError):
                            os.remove(os.path.join(directory, "reopened", SNAPSHOT_FILE))
                    reopened = open_ledger(directory + "/reopened")
                    assert reopened.opened_from == reopen, reopened.snapshot_status
                assert reopened.head().hash == kept.head().hash
                assert reopened.clock_ns == kept.clock_ns
                ids = traffics[0].account_ids
                assert reopened.balances(ids).tobytes() == kept.balances(ids).tobytes()
        finally:
            kept.close()
            reopened.close()


def test_a_store_whose_tables_were_written_with_lz4_reads_back(tmp_path, monkeypatch):
    """Earlier versions compressed bodies and state entries with LZ4; their tables must still
    open, replay and verify now that nothing is compressed."""
    import pathlib

    from rocksdict import DBCompressionType

    from ledgercore import store

    uncompressed = store._options

    def lz4_options(*, create: bool):
        options = uncompressed(create=create)
        options.set_compression_type(DBCompressionType.lz4())
        return options

    path = str(tmp_path / "ledger")
    traffic = Traffic(10, seed=5)
    monkeypatch.setenv("LEDGERCORE_WRITE_BUFFER_BYTES", str(64 << 10))
    monkeypatch.setattr(store, "_options", lz4_options)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for number in range(30):
            ledger.submit(traffic.batch(64), timestamp_ns=T0 + (number + 1) * 10**9)
        head = ledger.head()
        balances = ledger.balances(traffic.account_ids).tobytes()
        ledger.close(snapshot=False)
    events = "".join(
        pathlib.Path(path, name).read_text(errors="replace")
        for name in os.listdir(path)
        if name.startswith("LOG")
    )
    assert "Options.compression: LZ4" in events, "the tables were not written with LZ4"
    assert any(name.endswith(".sst") for name in os.listdir(path)), "no table was written"
    monkeypatch.setattr(store, "_options", uncompressed)
    with open_ledger(path) as ledger:
        assert ledger.opened_from == "blocks"
        assert ledger.head() == head
        assert ledger.balances(traffic.account_ids).tobytes() == balances
        assert ledger.verify_chain(progress=False).ok
        ledger.submit(traffic.batch(64), timestamp_ns=T0 + 31 * 10**9)
