"""Proof of liabilities: the sum tree's total, its proofs, its binding, and its refusals."""

from __future__ import annotations

import json

import numpy
import pytest
from blake3 import blake3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgercore import proofcheck, records
from ledgercore.errors import LedgerValueError
from ledgercore.liabilities import (
    LiabilityTree,
    liability_balances,
    padded_leaf_count,
)
from ledgercore.liabilities_reference import reference_tree

U128_MAX = 2**128 - 1
SECRET = bytes(range(32))

members = st.lists(
    st.tuples(st.integers(1, U128_MAX), st.integers(0, 2**96)),
    min_size=1,
    max_size=24,
    unique_by=lambda member: member[0],
)
settings_small = settings(max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def build(pairs, secret=SECRET, **options):
    ids = [account_id for account_id, _ in pairs]
    balances = [balance for _, balance in pairs]
    return LiabilityTree.build(ids, balances, secret, **options)


def holds(proof, tree, balance, **options):
    return proofcheck.check_liability_proof(
        proof, tree.root.hash, tree.root.total, balance, **options
    )


@settings_small
@given(members)
def test_the_root_total_is_the_sum_of_the_balances(pairs):
    tree = build(pairs)
    assert tree.root.total == sum(balance for _, balance in pairs)
    assert tree.root.leaf_count == padded_leaf_count(tree.part_count)
    assert tree.leaf_count - tree.part_count >= -(-tree.part_count // 16)


@settings_small
@given(members, st.integers(1, 4), st.integers(0, 3))
def test_the_native_build_equals_the_plain_python_reference_bit_for_bit(pairs, low, extra):
    high = min(low + extra, 8)
    tree = build(pairs, parts_min=low, parts_max=high)
    reference = reference_tree(
        [i for i, _ in pairs], [b for _, b in pairs], SECRET, parts_min=low, parts_max=high
    )
    nodes = tree.nodes
    flat = [node for level in reference.levels for node in level]
    assert len(nodes) == len(flat)
    for node, (hash_, sum_) in zip(nodes, flat, strict=True):
        assert bytes(node[:32]) == hash_
        assert int.from_bytes(bytes(node[32:]), "little") == sum_
    for proof in tree.proofs():
        for index, leaf in enumerate(proof.leaves):
            assert reference.part_leaves[proof.account_id, index] == leaf.index
            assert reference.salts[proof.account_id, index] == leaf.salt


@settings_small
@given(members)
def test_every_members_proof_verifies_only_with_their_true_balance(pairs):
    tree = build(pairs)
    balances = dict(pairs)
    proofs = list(tree.proofs())
    assert [proof.account_id for proof in proofs] == [i for i, _ in pairs]
    for proof in proofs:
        true = balances[proof.account_id]
        text = proof.to_json()
        assert holds(text, tree, true, account_id=proof.account_id, leaf_count=tree.leaf_count)
        assert not holds(text, tree, true + 1)
        if true > 0:
            assert not holds(text, tree, true - 1)
        assert not holds(text, tree, true, account_id=proof.account_id + 1)
        assert not holds(text, tree, true, leaf_count=tree.leaf_count * 2)
        assert not proofcheck.check_liability_proof(text, tree.root.hash, tree.root.total + 1,
                                                    true)  # fmt: skip


def mutate_bit(proof: dict, path: tuple, bit: int) -> dict | None:
    """The proof with one bit of one field changed (hex and decimal fields by value, ints by
    value), or None when the change would not be a different well-formed value."""
    copy = json.loads(json.dumps(proof))
    target = copy
    for key in path[:-1]:
        target = target[key]
    value = target[path[-1]]
    if isinstance(value, int):
        target[path[-1]] = value ^ (1 << (bit % 40))
    elif path[-1] in ("hash", "salt"):
        raw = bytearray(bytes.fromhex(value))
        raw[bit // 8 % 32] ^= 1 << (bit % 8)
        target[path[-1]] = raw.hex()
    else:
        target[path[-1]] = str(int(value) ^ (1 << (bit % 128)))
    return copy


def field_paths(proof: dict) -> list[tuple]:
    paths = [("account_id",), ("root", "hash"), ("root", "total"), ("root", "leaf_count")]
    for i, leaf in enumerate(proof["leaves"]):
        paths += [("leaves", i, "index"), ("leaves", i, "value"), ("leaves", i, "salt")]
        for j in range(len(leaf["path"])):
            paths += [("leaves", i, "path", j, "hash"), ("leaves", i, "path", j, "sum")]
    return paths


@settings(max_examples=60, deadline=None)
@given(members, st.data())
def test_any_single_bit_change_to_a_proof_fails(pairs, data):
    tree = build(pairs)
    proof = data.draw(st.sampled_from(list(tree.proofs())))
    balance = proof.balance
    original = proof.to_dict()
    path = data.draw(st.sampled_from(field_paths(original)))
    bit = data.draw(st.integers(0, 255))
    changed = mutate_bit(original, path, bit)
    try:
        verdict = proofcheck.check_liability_proof(
            changed, tree.root.hash, tree.root.total, balance, account_id=proof.account_id
        )
    except proofcheck.ProofError:
        verdict = False  # an out-of-range index or sum is refused outright
    assert verdict is False, path


def test_a_proof_that_reuses_a_leaf_or_drops_one_fails():
    tree = build([(5, 1000), (6, 1)], parts_min=2, parts_max=2)
    proof = tree.prove(5).to_dict()
    doubled = dict(proof, leaves=[proof["leaves"][0], proof["leaves"][0]])
    value = int(proof["leaves"][0]["value"])
    assert not proofcheck.check_liability_proof(doubled, tree.root.hash, 1001, 2 * value)
    dropped = dict(proof, leaves=proof["leaves"][:1])
    assert not proofcheck.check_liability_proof(dropped, tree.root.hash, 1001, 1000)


def test_the_tree_is_the_same_on_one_thread_and_on_several():
    # 40,000 members: enough parts for every pass to be split over the threads.
    ids = numpy.zeros((40_000, 2), dtype=numpy.uint64)
    ids[:, 0] = numpy.arange(1, 40_001, dtype=numpy.uint64)
    ids[:, 1] = 7
    balances = numpy.zeros((40_000, 2), dtype=numpy.uint64)
    balances[:, 0] = numpy.arange(40_000, dtype=numpy.uint64) * 1_000_003
    one = LiabilityTree.build(ids, balances, SECRET, threads=1)
    several = LiabilityTree.build(ids, balances, SECRET, threads=3)
    assert one.root == several.root
    assert numpy.array_equal(one.nodes, several.nodes)
    assert one.root.total == int(balances[:, 0].sum())
    with pytest.raises(LedgerValueError, match=r"threads: expected 1\.\."):
        LiabilityTree.build(ids, balances, SECRET, threads=0)


def test_the_tree_depends_on_the_secret_and_the_set_not_the_row_order():
    pairs = [(11, 5), (12, 70), (13, 0), (2**127, 9)]
    first = build(pairs)
    assert build(list(reversed(pairs))).root == first.root
    assert build(pairs, secret=b"\x01" * 32).root.hash != first.root.hash
    assert build(pairs, leaf_count=64).root.leaf_count == 64


# ---------------------------------------------------------------------------- the attack
# Hu, Zhang and Guo ("Breaking the Binding", 2018): when a node's hash commits only to its
# children's total, the sibling sum a proof shows is not bound. The prover publishes, at each
# node, max(left, right) instead of left + right and shows each side the sibling sum that makes
# its own path add up; every member's proof then verifies while the root total is the largest
# balance, not the sum.


def naive_node(total: int, left: bytes, right: bytes) -> bytes:
    """The naive construction: a node commits to its total and its children's hashes."""
    return blake3(total.to_bytes(16, "little") + left + right).digest()


def naive_leaf(account_id: int, balance: int) -> bytes:
    return blake3(
        b"leaf" + account_id.to_bytes(16, "little") + balance.to_bytes(16, "little")
    ).digest()


def naive_verify(account_id, balance, index, path, root_hash, root_total) -> bool:
    """The naive verifier: recompute up the path, summing the sibling sums it is shown."""
    node, total = naive_leaf(account_id, balance), balance
    for level, (sibling, sibling_sum) in enumerate(path):
        if sibling_sum < 0:
            return False
        parent_total = total + sibling_sum
        if index >> level & 1:
            node = naive_node(parent_total, sibling, node)
        else:
            node = naive_node(parent_total, node, sibling)
        total = parent_total
    return node == root_hash and total == root_total


def cheating_levels(leaves: list[tuple[bytes, int]], combine) -> list[list[tuple[bytes, int]]]:
    """Levels where each node's published sum is max(left, right)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = []
        for i in range(0, len(below), 2):
            (lh, ls), (rh, rs) = below[i], below[i + 1]
            published = max(ls, rs)
            above.append((combine(lh, ls, rh, rs, published), published))
        levels.append(above)
    return levels


def cheating_path(levels, index):
    """The sibling (hash, sum) on each level, the sum being what makes this side add up to
    the parent's published sum."""
    path = []
    for level in levels[:-1]:
        own = level[index]
        sibling = level[index ^ 1]
        parent_sum = max(own[1], sibling[1])
        path.append((sibling[0], parent_sum - own[1]))
        index >>= 1
    return path


def test_the_binding_attack_hides_liabilities_from_the_naive_tree():
    balances = [(1, 900), (2, 40), (3, 300), (4, 7), (5, 60), (6, 5), (7, 800), (8, 1)]
    leaves = [(naive_leaf(i, b), b) for i, b in balances]
    levels = cheating_levels(
        leaves, lambda lh, ls, rh, rs, published: naive_node(published, lh, rh)
    )
    root_hash, root_total = levels[-1][0]
    assert root_total == 900 < sum(b for _, b in balances) == 2113
    for index, (account_id, balance) in enumerate(balances):
        path = cheating_path(levels, index)
        assert naive_verify(account_id, balance, index, path, root_hash, root_total)


def test_the_binding_attack_fails_against_the_sum_tree():
    # The same cheat on our format: the published node hashes both children's sums, so it must
    # pick one pair; the sibling sums the cheat shows the two sides differ from that pair.
    balances = [(1, 900), (2, 40), (3, 300), (4, 7), (5, 60), (6, 5), (7, 800), (8, 1)]
    salt = bytes(32)
    leaves = [(proofcheck.liability_leaf_hash(i, b, salt), b) for i, b in balances]

    def combine(lh, ls, rh, rs, published):
        # The cheat commits the left side's true sum and the right side's shown sum.
        return proofcheck.liability_node_hash(lh, ls, rh, published - ls)

    levels = cheating_levels(leaves, combine)
    root_hash, root_total = levels[-1][0]
    assert root_total == 900
    verdicts = []
    for index, (account_id, balance) in enumerate(balances):
        proof = {
            "type": "liability",
            "version": 1,
            "account_id": str(account_id),
            "root": {"hash": root_hash.hex(), "total": str(root_total), "leaf_count": 8},
            "leaves": [
                {
                    "index": index,
                    "value": str(balance),
                    "salt": salt.hex(),
                    "path": [
                        {"hash": h.hex(), "sum": str(s)} for h, s in cheating_path(levels, index)
                    ],
                }
            ],
        }
        verdicts.append(proofcheck.check_liability_proof(proof, root_hash, root_total, balance))
    # Only the member whose every step is on the side the cheat committed truly can pass.
    assert verdicts.count(True) <= 1
    assert not all(verdicts)


# ---------------------------------------------------------------------------- refusals


def test_a_secret_of_the_wrong_size_is_refused_naming_it():
    with pytest.raises(LedgerValueError, match="secret: expected 32 bytes, got 31"):
        LiabilityTree.build([1], [5], bytes(31))
    with pytest.raises(TypeError, match="secret"):
        LiabilityTree.build([1], [5], "a" * 32)


def test_an_account_given_twice_is_refused_naming_it():
    with pytest.raises(
        LedgerValueError, match=r"ids: account 77 is given twice \(again at row 2\)"
    ):
        LiabilityTree.build([76, 77, 77], [1, 2, 3], SECRET)


def test_a_balance_above_u128_is_refused_naming_its_row():
    with pytest.raises(LedgerValueError, match=r"balances\[1\]: .* is not a u128 balance"):
        LiabilityTree.build([1, 2], [5, 2**128], SECRET)
    with pytest.raises(LedgerValueError, match=r"balances\[0\]: .* is not a u128 balance"):
        LiabilityTree.build([1], [-1], SECRET)


def test_balances_whose_total_passes_u128_are_refused():
    with pytest.raises(LedgerValueError, match="balances: their total passes 2\\^128 - 1 at row 1"):
        LiabilityTree.build([1, 2], [U128_MAX, 1], SECRET)


def test_an_empty_set_is_refused():
    with pytest.raises(LedgerValueError, match="ids: no account"):
        LiabilityTree.build([], [], SECRET)


def test_bad_options_are_refused_naming_them():
    with pytest.raises(LedgerValueError, match="parts_min"):
        LiabilityTree.build([1], [5], SECRET, parts_min=0)
    with pytest.raises(LedgerValueError, match="parts_max"):
        LiabilityTree.build([1], [5], SECRET, parts_max=17)
    with pytest.raises(LedgerValueError, match="parts_min, parts_max"):
        LiabilityTree.build([1], [5], SECRET, parts_min=3, parts_max=2)
    with pytest.raises(LedgerValueError, match="leaf_count: expected a power of two"):
        LiabilityTree.build([1], [5], SECRET, leaf_count=12)
    with pytest.raises(LedgerValueError, match="leaf_count"):
        LiabilityTree.build([1], [5], SECRET, parts_min=4, leaf_count=4)
    with pytest.raises(LedgerValueError, match="ids: row 1 is 0"):
        LiabilityTree.build([3, 0], [5, 5], SECRET)
    with pytest.raises(LedgerValueError, match="ids, balances: 2 and 1 rows"):
        LiabilityTree.build([3, 4], [5], SECRET)


def test_a_member_not_in_the_tree_has_no_proof():
    tree = build([(1, 5)])
    with pytest.raises(LedgerValueError, match="account_id: 2 is not a member"):
        tree.prove(2)


def test_the_net_balance_of_a_liability_account_is_credits_less_debits():
    rows = numpy.zeros(3, dtype=records.ACCOUNT_DTYPE)
    rows["id"] = records.ids([10, 11, 12])
    rows["credits_posted"] = records.ids([2**64 + 5, 30, 2**100])
    rows["debits_posted"] = records.ids([6, 30, 1])
    ids, balances = liability_balances(rows)
    assert records.u128(ids) == [10, 11, 12]
    assert records.u128(balances) == [2**64 - 1, 0, 2**100 - 1]
    rows["debits_posted"][1] = records.lanes(31)
    with pytest.raises(LedgerValueError, match=r"accounts\[1\]: account 11 has debits_posted"):
        liability_balances(rows)
    with pytest.raises(TypeError, match="ACCOUNT_DTYPE or BALANCE_DTYPE"):
        liability_balances(numpy.zeros(2, dtype=records.TRANSFER_DTYPE))


def test_a_malformed_proof_is_a_proof_error_naming_the_field():
    tree = build([(1, 5), (2, 6)])
    proof = tree.prove(1).to_dict()
    proof["leaves"][0]["value"] = 5
    with pytest.raises(proofcheck.ProofError, match=r"proof.leaves\[0\].value: expected a decimal"):
        proofcheck.check_liability_proof(proof, tree.root.hash, 11, 5)
    proof["leaves"][0]["value"] = "05"
    with pytest.raises(proofcheck.ProofError, match="leading zero"):
        proofcheck.check_liability_proof(proof, tree.root.hash, 11, 5)
    proof["leaves"][0]["value"] = str(2**128)
    with pytest.raises(proofcheck.ProofError, match="above 2\\^128 - 1"):
        proofcheck.check_liability_proof(proof, tree.root.hash, 11, 5)


def test_a_path_whose_sums_overflow_does_not_verify():
    big = U128_MAX
    leaf = proofcheck.liability_leaf_hash(1, 1, bytes(32))
    assert proofcheck.verify_liability_leaf(1, 0, 1, bytes(32), [(leaf, big)], 2) is None


def test_the_standalone_verifier_checks_a_liability_proof_from_the_command_line(tmp_path, capsys):
    tree = build([(1, 5), (2, 60)])
    path = tmp_path / "proof.json"
    path.write_text(tree.prove(2).to_json())
    head = tree.root.hash.hex()
    assert proofcheck.main([str(path), "--head", head, "--total", "65", "--balance", "60"]) == 0
    assert "your balance 60 is counted" in capsys.readouterr().out
    assert proofcheck.main([str(path), "--head", head, "--total", "65", "--balance", "59"]) == 1
    assert proofcheck.main([str(path), "--head", head, "--total", "65"]) == 2
    assert "--total, --balance" in capsys.readouterr().err


def test_a_member_checks_the_total_with_the_balance_their_account_proof_shows(tmp_path):
    import ledger_traffic

    from ledgercore.ledger import Ledger

    # Traffic signs for the tests' ledger id where ledgers have ids (open_ledger opens with it).
    open_ledger = getattr(ledger_traffic, "open_ledger", Ledger.open)
    t0 = 1_700_000_000 * 10**9
    traffic = ledger_traffic.Traffic(8)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=t0)
        for n in range(4):
            ledger.submit(traffic.batch(40), timestamp_ns=t0 + (n + 1) * 10**10)
        rows = ledger.balances(traffic.account_ids)
        # The fund owes the accounts whose credits cover their debits; the others are refused.
        owed = rows[
            [records.u128(r["credits_posted"]) >= records.u128(r["debits_posted"]) for r in rows]
        ]
        assert 0 < len(owed) < len(rows)
        with pytest.raises(LedgerValueError, match="cannot be negative"):
            liability_balances(rows)
        ids, balances = liability_balances(owed)
        tree = LiabilityTree.build(ids, balances, SECRET)
        head = ledger.head().hash
        for account_id in records.u128(ids):
            account_proof = ledger.prove_account(account_id)
            assert proofcheck.check_account_proof(account_proof.to_json(), head)
            record = proofcheck.decode_account(bytes.fromhex(account_proof.to_dict()["record"]))
            balance = record["credits_posted"] - record["debits_posted"]
            assert holds(tree.prove(account_id).to_json(), tree, balance, account_id=account_id)
        assert tree.root.total == sum(records.u128(balances))


def test_the_native_builder_refuses_what_would_break_its_preconditions():
    from ledgercore._native import sumtree

    key = bytes(32)
    ids = records.ids([1, 2])
    big = numpy.array([[2**64 - 1, 2**64 - 1], [1, 0]], dtype=numpy.uint64)
    with pytest.raises(LedgerValueError, match="total passes 2\\^128 - 1 at row 1"):
        sumtree.build(ids, big, 16, 2, 4, key, key, key)
    small = numpy.ones((2, 2), dtype=numpy.uint64)
    with pytest.raises(LedgerValueError, match="least the"):
        sumtree.build(ids, small, 2, 2, 4, key, key, key)
    with pytest.raises(TypeError, match="ids: expected an \\(n, 2\\) uint64 array"):
        sumtree.build(ids.astype(numpy.int64), small, 16, 2, 4, key, key, key)
    with pytest.raises(LedgerValueError, match="place_key: expected 32 bytes"):
        sumtree.build(ids, small, 16, 2, 4, key, key, key[:31])
    with pytest.raises(LedgerValueError, match="ids, balances: 2 and 1 rows"):
        sumtree.build(ids, small[:1], 16, 2, 4, key, key, key)


def test_the_root_a_block_will_record_reads_back_from_its_56_bytes():
    from ledgercore.liabilities import LiabilityRoot

    root = build([(1, 5), (2, 2**127)]).root
    raw = root.to_bytes()
    assert len(raw) == 56
    assert LiabilityRoot.from_bytes(raw) == root
    bad = raw[:48] + (12).to_bytes(8, "little")
    with pytest.raises(LedgerValueError, match="leaf count 12, expected a power of two"):
        LiabilityRoot.from_bytes(bad)
