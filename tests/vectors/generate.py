"""Generate ledgercore's own test vectors as JSON, from small Python references only.

Run `python tests/vectors/generate.py` to rewrite the files beside this one; the tests regenerate
them in memory and fail when a file is stale. Each generator returns the whole document, a header
saying how its inputs are built, then cases with a `desc` and an `expect`.

merkle_proofs.json: RFC 9162 roots, inclusion and consistency proofs with the BLAKE3 keyed hashes
of DESIGN.md, computed by the recursive definitions of RFC 9162 section 2.1 (MTH, PATH, SUBPROOF)
below, which use the `blake3` package and nothing of ledgercore. Leaf i of every tree is the
ASCII bytes "leaf <i>". Every good proof has mutated siblings: each hash with one bit flipped, a
neighbouring index or size, a root of another tree, one hash removed or added. `expect` is
"valid", "invalid" (a verifier returns False) or "malformed" (a verifier raises ValueError: an
index or size out of range, or a proof whose length is not the one RFC 9162 gives for its
numbers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from blake3 import blake3

HERE = Path(__file__).resolve().parent

LEAF_CONTEXT = "ledgercore 2026-11 merkle leaf v1"
NODE_CONTEXT = "ledgercore 2026-11 merkle node v1"
LEAF_KEY = blake3(b"", derive_key_context=LEAF_CONTEXT).digest()
NODE_KEY = blake3(b"", derive_key_context=NODE_CONTEXT).digest()

TREE_SIZES = (1, 2, 3, 4, 5, 7, 8, 13, 64, 100)


def leaf_data(index: int) -> bytes:
    return b"leaf %d" % index


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1."""
    if not leaves:
        return blake3(b"").digest()
    if len(leaves) == 1:
        return blake3(leaves[0], key=LEAF_KEY).digest()
    k = split(len(leaves))
    return blake3(mth(leaves[:k]) + mth(leaves[k:]), key=NODE_KEY).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    if m == len(leaves):
        return [] if b else [mth(leaves)]
    k = split(len(leaves))
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    return [] if m in (0, len(leaves)) else subproof(m, leaves, True)


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


def inclusion_verdict(index: int, size: int, proof_length: int, valid: bool) -> str:
    """What a verifier must answer for a claimed index and size with a proof of this length."""
    if size < 1 or not 0 <= index < size:
        return "malformed"
    if proof_length != len(path(index, [b""] * size)):
        return "malformed"
    return "valid" if valid else "invalid"


def consistency_verdict(old_size: int, new_size: int, proof_length: int, valid: bool) -> str:
    if not 0 <= old_size <= new_size:
        return "malformed"
    if proof_length != len(consistency(old_size, [b""] * new_size)):
        return "malformed"
    return "valid" if valid else "invalid"


def inclusion_cases(size: int) -> list[dict[str, Any]]:
    leaves = [leaf_data(i) for i in range(size)]
    other = [b"other " + leaf for leaf in leaves]
    root = mth(leaves)
    cases = []
    for index in sorted({0, size // 2, size - 1}):
        proof = path(index, leaves)
        name = f"leaf {index} of {size}"

        def case(
            desc, index=index, size=size, proof=proof, root=root, expect=None, leaf=leaves[index]
        ):
            return {
                "desc": desc,
                "leaf": leaf.hex(),
                "index": index,
                "size": size,
                "proof": [value.hex() for value in proof],
                "root": root.hex(),
                "expect": expect,
            }

        cases.append(case(name, expect="valid"))
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = flip(bad[position], 8 * position % 256)
            cases.append(
                case(f"{name}, bit flipped in hash {position}", proof=bad, expect="invalid")
            )
        cases.append(case(f"{name}, bit flipped in the root", root=flip(root, 0), expect="invalid"))
        cases.append(case(f"{name}, other leaf data", leaf=leaves[index] + b"!", expect="invalid"))
        if size > 1:
            cases.append(case(f"{name}, root of another tree", root=mth(other), expect="invalid"))
        for wrong in (index - 1, index + 1):
            cases.append(
                case(
                    f"{name}, claimed as leaf {wrong}",
                    index=wrong,
                    expect=inclusion_verdict(wrong, size, len(proof), False),
                )
            )
        for wrong in (size - 1, size + 1):
            wrong_root = mth([leaf_data(i) for i in range(wrong)])
            cases.append(
                case(
                    f"{name}, claimed in a tree of {wrong}",
                    size=wrong,
                    root=wrong_root,
                    expect=inclusion_verdict(index, wrong, len(proof), False),
                )
            )
        if proof:
            cases.append(case(f"{name}, last hash removed", proof=proof[:-1], expect="malformed"))
        cases.append(case(f"{name}, a hash added", proof=[*proof, root], expect="malformed"))
    return cases


def consistency_cases(new_size: int) -> list[dict[str, Any]]:
    leaves = [leaf_data(i) for i in range(new_size)]
    new_root = mth(leaves)
    cases = []
    for old_size in sorted({1, new_size // 2, new_size - 1} - {0}):
        old_root = mth(leaves[:old_size])
        proof = consistency(old_size, leaves)
        name = f"{old_size} to {new_size}"

        def case(
            desc,
            old_size=old_size,
            proof=proof,
            old_root=old_root,
            new_root=new_root,
            expect=None,
            new_size=new_size,
        ):
            return {
                "desc": desc,
                "old_size": old_size,
                "new_size": new_size,
                "old_root": old_root.hex(),
                "new_root": new_root.hex(),
                "proof": [value.hex() for value in proof],
                "expect": expect,
            }

        cases.append(case(name, expect="valid"))
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = flip(bad[position], (8 * position + 3) % 256)
            cases.append(
                case(f"{name}, bit flipped in hash {position}", proof=bad, expect="invalid")
            )
        cases.append(
            case(
                f"{name}, bit flipped in the old root", old_root=flip(old_root, 1), expect="invalid"
            )
        )
        cases.append(
            case(
                f"{name}, bit flipped in the new root", new_root=flip(new_root, 2), expect="invalid"
            )
        )
        for wrong in (old_size - 1, old_size + 1):
            if wrong in (0, new_size):
                continue
            cases.append(
                case(
                    f"{name}, claimed from {wrong}",
                    old_size=wrong,
                    old_root=mth(leaves[:wrong]),
                    expect=consistency_verdict(wrong, new_size, len(proof), False),
                )
            )
        if proof:
            cases.append(case(f"{name}, last hash removed", proof=proof[:-1], expect="malformed"))
        cases.append(case(f"{name}, a hash added", proof=[*proof, new_root], expect="malformed"))
    return cases


def merkle_proofs() -> dict[str, Any]:
    return {
        "description": __doc__.split("\n\n")[2].replace("\n", " "),
        "leaf_key": LEAF_KEY.hex(),
        "node_key": NODE_KEY.hex(),
        "empty_root": mth([]).hex(),
        "roots": [
            {
                "desc": f"root of {size} leaves",
                "size": size,
                "root": mth([leaf_data(i) for i in range(size)]).hex(),
                "expect": "valid",
            }
            for size in (0, *TREE_SIZES)
        ],
        "inclusion": [case for size in TREE_SIZES for case in inclusion_cases(size)],
        "consistency": [case for size in TREE_SIZES[1:] for case in consistency_cases(size)],
    }


GENERATORS = {"merkle_proofs.json": merkle_proofs}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str]) -> int:
    for filename, generator in GENERATORS.items():
        (HERE / filename).write_text(render(generator()))
        print(f"wrote {HERE / filename}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
