"""docs/formats.md says what the code does: its tables, keys and hashes are checked here."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from ledgercore import proofcheck, records
from ledgercore.blocks import FORMAT_VERSION, HEADER_SIZE, BlockHeader, BlockKind
from ledgercore.ledger_proofs import FORMAT_VERSION as PROOF_VERSION

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
pytestmark = pytest.mark.skipif(not DOC.exists(), reason="docs/ is not in this tree")


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def table_offsets(text: str, after: str) -> dict[str, int]:
    """field -> offset of the first markdown table in text after the line containing `after`."""
    rows = {}
    lines = text[text.index(after) :].splitlines()
    started = False
    for line in lines:
        match = re.match(r"\|\s*(\d+)\s*\|\s*(\w+)\s*\|", line)
        if match:
            rows[match.group(2)] = int(match.group(1))
            started = True
        elif started and not line.startswith("|"):
            break
    return rows


def struct_offsets(layout: str, names: list[str]) -> dict[str, int]:
    codes = re.findall(r"\d*[sBHQI]", layout.lstrip("<"))
    offsets, at = {}, 0
    for name, code in zip(names, codes, strict=True):
        offsets[name] = at
        at += struct.calcsize("<" + code)
    return offsets


def test_the_header_table_is_the_header_layout():
    names = ["magic", "version", "kind", "reserved", "height", "timestamp_ns", "log_size",
             "state_size", "record_count", "transfer_count", "prev_hash", "log_root",
             "state_root", "body_hash", "history_root", "ledger_id"]  # fmt: skip
    layout = proofcheck._HEADER_LAYOUTS[FORMAT_VERSION].format
    documented = table_offsets(section("## 2. Block headers"), "Header format 2")
    assert documented == struct_offsets(layout, names)
    assert f"Header format 2 (`FORMAT_VERSION` of `ledgercore.blocks`), {HEADER_SIZE} bytes" in (
        DOC.read_text()
    )
    kinds = ", ".join(f"{kind.value} {kind.name}" for kind in BlockKind)
    assert kinds in DOC.read_text()


def test_the_record_tables_are_the_record_dtypes():
    text = section("## 4. Records")
    for dtype, title in ((records.TRANSFER_DTYPE, "Transfer, 192"), (records.ACCOUNT_DTYPE,
                                                                     "Account, 160")):  # fmt: skip
        assert table_offsets(text, title) == {
            name: dtype.fields[name][1] for name in dtype.names
        }, title


def test_the_keys_the_genesis_hash_and_the_versions_are_current():
    text = DOC.read_text()
    assert proofcheck.LEAF_KEY.hex() in text
    assert proofcheck.NODE_KEY.hex() in text
    assert proofcheck.EMPTY_ROOT.hex() in text
    assert BlockHeader.genesis(ledger_id=bytes(16)).hash.hex() in text
    assert f"u8 version {PROOF_VERSION}" in text
    assert set(BlockHeader.genesis().to_dict()) == set(
        re.findall(r"`(\w+)`", text[text.index("exactly these keys") : text.index("Integers are")])
    ) - {"genesis", "accounts", "transfers"}


def test_the_liability_keys_and_contexts_are_current():
    from ledgercore import liabilities

    text = section("## 6. Proofs of liabilities")
    assert proofcheck.LIABILITY_LEAF_KEY.hex() in text
    assert proofcheck.LIABILITY_NODE_KEY.hex() in text
    for context in (liabilities.LEAF_CONTEXT, liabilities.NODE_CONTEXT, liabilities.SPLIT_CONTEXT):
        assert f'"{context}"' in text
    assert f"P + ceil(P / {liabilities.DUMMY_SHARE})" in text
