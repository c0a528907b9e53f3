"""Every fuzz target on a few hundred seeded random inputs, so the ordinary suite (and the
sanitizer build) runs each target's checks even where atheris is not installed."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_blake3
import fuzz_ed25519
import fuzz_engine
import fuzz_proofs
import fuzz_records
import fuzz_snapshot
import fuzz_wordpack

TARGETS = [
    fuzz_blake3,
    fuzz_ed25519,
    fuzz_engine,
    fuzz_proofs,
    fuzz_records,
    fuzz_snapshot,
    fuzz_wordpack,
]


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.__name__)
def test_each_fuzz_target_holds_on_seeded_random_inputs(target) -> None:
    rng = random.Random(target.__name__)
    target.check(b"")
    for _ in range(150):
        target.check(rng.randbytes(rng.randrange(0, 1200)))
