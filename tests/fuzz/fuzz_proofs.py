"""Fuzz target: decoding and verifying Merkle proofs against trees built by the native code.

A proof that decodes must round-trip to the same bytes, and it may verify only if it is the
proof the native tree gives for the same numbers (anything else would be a forged proof). Half the
inputs mutate a genuine proof, so the verifiers see nearly valid ones too.
"""

from __future__ import annotations

from ledgercore import MerkleLog
from ledgercore.errors import LedgerError
from ledgercore.proofs import ConsistencyProof, InclusionProof, StateProof, proof_from_bytes

LEAF_COUNT_MAX = 70


def build_log(leaf_count: int) -> tuple[MerkleLog, list[bytes]]:
    leaves = [b"leaf %d" % i for i in range(leaf_count)]
    log = MerkleLog(threads=1)
    log.append_many(leaves)
    return log, leaves


LOGS = {}


def genuine(log: MerkleLog, first: int, second: int, kind: int) -> bytes:
    if kind == 2:
        return log.consistency_proof(first % (second + 1), second).to_bytes()
    return log.inclusion_proof(first % second, second).to_bytes()


def check(data: bytes) -> None:
    if len(data) < 4:
        return
    leaf_count = 1 + data[0] % LEAF_COUNT_MAX
    if leaf_count not in LOGS:
        LOGS[leaf_count] = build_log(leaf_count)
    log, leaves = LOGS[leaf_count]
    body = data[4:]
    if data[1] & 1:
        # Flip the bits the rest of the input names in a genuine proof.
        size = 1 + data[2] % leaf_count
        proof = bytearray(genuine(log, data[3], size, 1 + (data[1] >> 1) % 2))
        for i in range(0, len(body) - 1, 2):
            proof[body[i] % len(proof)] ^= body[i + 1]
        body = bytes(proof)
    try:
        proof = proof_from_bytes(body)
    except LedgerError:
        return
    assert proof.to_bytes() == body
    verify_against(log, leaves, proof)


def verdict_of(proof, first: bytes, second: bytes) -> bool:
    """The verifier's answer; a proof of the wrong length for its numbers is refused."""
    try:
        return proof.verify(first, second)
    except LedgerError:
        return False


def verify_against(log: MerkleLog, leaves: list[bytes], proof) -> None:
    if isinstance(proof, (InclusionProof, StateProof)):
        index, size = proof.leaf_index, proof.tree_size
        if not index < size <= log.size:
            return
        verdict = verdict_of(proof, leaves[index], log.root(size))
        if isinstance(proof, InclusionProof):
            assert verdict == (proof.hashes == log.inclusion_proof(index, size).hashes)
    elif isinstance(proof, ConsistencyProof):
        old, new = proof.old_size, proof.new_size
        if not old <= new <= log.size:
            return
        verdict = verdict_of(proof, log.root(old), log.root(new))
        assert verdict == (proof.hashes == log.consistency_proof(old, new).hashes)


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
