"""The steal clock: CPU time the host took, read from /proc/stat, and the spans it corrects."""

from __future__ import annotations

import pytest

from ledgercore.bench import steal
from ledgercore.bench.steal import Span, Stopwatch


def test_a_span_with_nothing_stolen_had_all_its_wall_time():
    span = Span(wall_seconds=2.0, stolen_seconds=0.0, cpu_count=2)
    assert span.stolen_share == 0.0
    assert span.available_seconds == 2.0


def test_a_span_loses_the_share_stolen_from_its_cpus():
    span = Span(wall_seconds=2.0, stolen_seconds=1.0, cpu_count=2)  # a quarter of 4 CPU-seconds
    assert span.stolen_share == pytest.approx(0.25)
    assert span.available_seconds == pytest.approx(1.5)
    assert Span(1.0, 5.0, 2).stolen_share == 1.0  # never more than all of it


def test_steal_is_summed_over_the_cpus_this_process_may_use(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  10 0 10 100 0 0 0 70 0 0\n"
        "cpu0 5 0 5 50 0 0 0 30 0 0\n"
        "cpu1 5 0 5 50 0 0 0 40 0 0\n"
        "intr 1 2 3\n"
    )
    real_open = open
    monkeypatch.setattr(
        steal,
        "open",
        lambda path, *a, **k: real_open(stat if path == "/proc/stat" else path),
        raising=False,
    )
    monkeypatch.setattr(steal, "_cpus", lambda: {1})
    ticks = steal.os.sysconf("SC_CLK_TCK")
    assert steal.stolen_seconds() == pytest.approx(40 / ticks)
    monkeypatch.setattr(steal, "_cpus", lambda: {0, 1})
    assert steal.stolen_seconds() == pytest.approx(70 / ticks)


def test_without_proc_stat_nothing_is_stolen(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(steal, "open", refuse, raising=False)
    assert steal.stolen_seconds() == 0.0


def test_a_stopwatch_span_never_has_more_available_than_wall_time():
    span = Stopwatch().stop()
    assert span.wall_seconds >= 0
    assert 0.0 <= span.stolen_share <= 1.0
    assert span.available_seconds <= span.wall_seconds
