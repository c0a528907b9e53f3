"""The limits Python reports are the ones the C code enforces."""

from __future__ import annotations

import re
from pathlib import Path

from ledgercore import limits

HEADER = Path(__file__).resolve().parents[1] / "src" / "ledgercore" / "_native" / "lc_limits.h"


def test_every_python_limit_is_declared_in_the_header() -> None:
    declared = set(re.findall(r"#define LC_([A-Z0-9_]+_MAX)\b", HEADER.read_text()))
    exposed = {name for name in dir(limits) if name.endswith("_MAX")}
    assert exposed <= declared
    assert {"BATCH_SIZE_MAX", "BLAKE3_OUTPUT_SIZE_MAX", "MERKLE_LEAF_COUNT_MAX"} <= exposed


def test_every_header_limit_is_exposed_to_python() -> None:
    declared = set(re.findall(r"#define LC_([A-Z0-9_]+_MAX)\b", HEADER.read_text()))
    exposed = {name for name in dir(limits) if name.endswith("_MAX")}
    assert declared <= exposed, f"not exposed in ledgercore.limits: {sorted(declared - exposed)}"
