"""ledgercore: a tamper-evident double-entry financial ledger with a native core.

The public names live in their own modules and are re-exported here; this file holds no logic.

Example:
    >>> import ledgercore
    >>> ledgercore.blake3(b"abc").hex()[:16]
    '6437b3ac38465133'
"""

from ledgercore import amounts, ed25519, ids, keys, proofcheck, records
from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.ed25519 import decode_public_keys, hint_public_keys, verify_batch
from ledgercore.engine import Engine
from ledgercore.hashing import blake3, blake3_many, simd_kernel
from ledgercore.keys import SigningKey, check_public_key
from ledgercore.ledger import Ledger
from ledgercore.ledger_proofs import (
    AccountProof,
    ChainConsistencyProof,
    TransferProof,
    ledger_proof_from_bytes,
    ledger_proof_from_json,
)
from ledgercore.merkle import MerkleLog, StateTree, merkle_root
from ledgercore.merkle_verify import verify_consistency, verify_inclusion, verify_state_proof
from ledgercore.proofs import (
    ConsistencyProof,
    InclusionProof,
    StateProof,
    proof_from_bytes,
    proof_from_dict,
)
from ledgercore.verify import ChainMismatch, ChainReport, verify_store

__all__ = [
    "AccountProof",
    "BlockHeader",
    "BlockKind",
    "ChainConsistencyProof",
    "ChainMismatch",
    "ChainReport",
    "ConsistencyProof",
    "Engine",
    "InclusionProof",
    "Ledger",
    "MerkleLog",
    "SigningKey",
    "StateProof",
    "StateTree",
    "TransferProof",
    "amounts",
    "blake3",
    "blake3_many",
    "check_public_key",
    "decode_public_keys",
    "ed25519",
    "hint_public_keys",
    "ids",
    "keys",
    "ledger_proof_from_bytes",
    "ledger_proof_from_json",
    "merkle_root",
    "proof_from_bytes",
    "proof_from_dict",
    "proofcheck",
    "records",
    "simd_kernel",
    "verify_batch",
    "verify_consistency",
    "verify_inclusion",
    "verify_state_proof",
    "verify_store",
]
__version__ = "0.1.0"
