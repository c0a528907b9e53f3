"""Published Ed25519 vectors through both verifiers, alone and inside larger batches.

The vectors are read from ../shared/vectors/ed25519/ (never copied here):
- wycheproof_ed25519_test.json: Project Wycheproof's EdDSA verification cases;
- speccheck_cases.json: the cases of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko,
  2020), which separate verifiers by how they treat small-order points, S >= L and non-canonical
  encodings. The file has no verdicts; SPECCHECK_VERDICTS gives ours, each with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import pytest

from ledgercore.ed25519 import verify, verify_batch
from ledgercore.keys import SigningKey

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "ed25519"
WYCHEPROOF = VECTORS / "wycheproof_ed25519_test.json"
SPECCHECK = VECTORS / "speccheck_cases.json"

# Our verdict on each speccheck case, with the rule that decides it. libsodium (PyNaCl) rejects
# cases 0-2 and 4-5 too: it refuses small-order R and A and checks the cofactorless equation.
SPECCHECK_VERDICTS = [
    (True, "small-order A and R, S = 0: the cofactored equation holds"),
    (True, "small-order A, mixed-order R: the cofactored equation holds"),
    (True, "mixed-order A, small-order R: the cofactored equation holds"),
    (True, "mixed-order A and R: both the cofactored and cofactorless equations hold"),
    (True, "mixed-order R: only the cofactored equation holds"),
    (True, "mixed-order A: only the cofactored equation holds"),
    (False, "S >= L (rule 1)"),
    (False, "S much larger than L (rule 1)"),
    (False, "R not canonical, y >= p (rule 3)"),
    (False, "R not canonical, y >= p, hashed as reduced (rule 3)"),
]


def load_json(path: Path):
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared vectors are not checked out beside the repo")
    return json.loads(path.read_text())


def wycheproof_cases():
    data = load_json(WYCHEPROOF)
    count = sum(len(group["tests"]) for group in data["testGroups"])
    assert count == data["numberOfTests"]
    for group in data["testGroups"]:
        public_key = bytes.fromhex(group["publicKey"]["pk"])
        for test in group["tests"]:
            yield (
                test["tcId"],
                public_key,
                bytes.fromhex(test["msg"]),
                bytes.fromhex(test["sig"]),
                test["result"] == "valid",
            )


def speccheck_cases():
    data = load_json(SPECCHECK)
    assert len(data) == len(SPECCHECK_VERDICTS)
    for index, case in enumerate(data):
        yield (
            index,
            bytes.fromhex(case["pub_key"]),
            bytes.fromhex(case["message"]),
            bytes.fromhex(case["signature"]),
            SPECCHECK_VERDICTS[index][0],
        )


def honest_batch(count: int, seed: int):
    """count valid signatures by a few keys, to mix the vectors into."""
    rng = numpy.random.default_rng(seed)
    keys = [SigningKey.from_seed(rng.bytes(32)) for _ in range(4)]
    triples = []
    for i in range(count):
        key = keys[i % len(keys)]
        message = rng.bytes(int(rng.integers(0, 200)))
        triples.append((key.public_key, message, key.sign(message)))
    return triples


def check_everywhere(cases) -> None:
    """Each case through verify, verify_batch alone, and verify_batch mixed among honest ones."""
    well_formed = []
    for case_id, public_key, message, signature, expected in cases:
        if len(signature) != 64 or len(public_key) != 32:
            # A signature of the wrong length is a bad call here, refused before any check; the
            # file calls these invalid, and they are never accepted.
            assert not expected, case_id
            with pytest.raises(ValueError, match=r"signature|public_key"):
                verify(public_key, message, signature)
            continue
        assert verify(public_key, message, signature) is expected, case_id
        alone = verify_batch([public_key], [message], [signature])
        assert alone.tolist() == [expected], case_id
        well_formed.append((public_key, message, signature, expected))
    # All cases in one batch, then shuffled among honest signatures: the batch must name exactly
    # the cases that are invalid, on one thread and on several.
    honest = honest_batch(3 * len(well_formed), seed=len(well_formed))
    rows = [(p, m, s, True) for p, m, s in honest] + well_formed
    order = numpy.random.default_rng(7).permutation(len(rows))
    rows = [rows[i] for i in order]
    for subset in (well_formed, rows):
        keys = [r[0] for r in subset]
        messages = [r[1] for r in subset]
        signatures = [r[2] for r in subset]
        expected = [r[3] for r in subset]
        for threads in (1, 2):
            result = verify_batch(keys, messages, signatures, threads=threads)
            assert result.tolist() == expected
        singles = [verify(k, m, s) for k, m, s in zip(keys, messages, signatures, strict=True)]
        assert singles == expected


def test_wycheproof_cases_agree_with_the_file_through_both_verifiers():
    check_everywhere(list(wycheproof_cases()))


def test_speccheck_cases_follow_the_cofactored_rule_set():
    check_everywhere(list(speccheck_cases()))


@pytest.mark.parametrize("index", range(len(SPECCHECK_VERDICTS)))
def test_each_speccheck_case_has_its_stated_verdict(index: int):
    _, public_key, message, signature, expected = list(speccheck_cases())[index]
    assert verify(public_key, message, signature) is expected, SPECCHECK_VERDICTS[index][1]
