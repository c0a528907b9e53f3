"""A plain-Python model of the engine's rules: slow, obvious, and the reference the tests trust.

Records are dicts of Python ints (records.to_dicts); state is dicts of dicts. Every rule is one
`if` in the order of the result tables in ledgercore.records. A linked chain remembers the
original of everything it touches and puts it back when the chain fails.

It ships with the package because it is also the baseline of `ledgercore bench`'s engine and
ledger stages, which must run from an installed wheel; the tests import it from here.

Example:
    >>> from ledgercore import records
    >>> from ledgercore.keys import SigningKey
    >>> key = SigningKey.from_seed(b"a" * 32).public_key
    >>> model = Model()
    >>> accounts = records.accounts([dict(id=1, ledger=1, code=1, owner_key=key),
    ...                              dict(id=2, ledger=1, code=1, owner_key=key)])
    >>> model.create_accounts(records.to_dicts(accounts), [True, True], 1)
    [0, 0]
    >>> batch = records.transfers([dict(id=9, debit_account_id=1, credit_account_id=2,
    ...                                 amount=250, ledger=1, code=1)])
    >>> submit_array(model, batch, None, 5)
    [0]
    >>> model.balances(2)
    (0, 0, 0, 250)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy

from ledgercore import records
from ledgercore.records import AccountFlags as AF
from ledgercore.records import CreateAccountResult as AR
from ledgercore.records import TransferFlags as TF
from ledgercore.records import TransferResult as TR

U128_MAX = 2**128 - 1
U64_MAX = 2**64 - 1
NS_PER_S = 1_000_000_000

SIGNATURE_BAD, SIGNATURE_GOOD, SIGNATURE_UNCHECKED = 0, 1, 2

CLIENT_TRANSFER_FIELDS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "pending_id",
    "user_data_128",
    "timeout_s",
    "ledger",
    "code",
    "flags",
    "user_data_32",
    "user_data_64",
)
CLIENT_ACCOUNT_FIELDS = (
    "user_data_128",
    "owner_key",
    "user_data_64",
    "user_data_32",
    "reserved",
    "ledger",
    "code",
    "flags",
)
BALANCES = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


class Model:
    """The state of one ledger as the rules see it, and the two batch operations on it.

    `create_accounts` and `submit` take rows as records.to_dicts gives them and return one
    result code per row, as Engine does (see the module's example).
    """

    def __init__(self) -> None:
        self.accounts: dict[int, dict[str, Any]] = {}
        self.transfers: dict[int, dict[str, Any]] = {}
        self.status: dict[int, str] = {}  # pending transfer id -> pending/posted/voided/expired
        self.failed: set[int] = set()
        self.last_timestamp = 0
        self.journal: dict[str, Any] | None = None  # the open chain's originals

    # ------------------------------------------------------------------ journal of a chain

    def _begin_chain(self) -> None:
        self.journal = {"accounts": {}, "new_accounts": [], "transfers": [], "status": {}}

    def _touch_account(self, account_id: int) -> dict[str, Any]:
        if self.journal is not None and account_id not in self.journal["accounts"]:
            self.journal["accounts"][account_id] = copy.deepcopy(self.accounts[account_id])
        return self.accounts[account_id]

    def _set_status(self, transfer_id: int, status: str) -> None:
        if self.journal is not None and transfer_id not in self.journal["status"]:
            self.journal["status"][transfer_id] = self.status.get(transfer_id)
        self.status[transfer_id] = status

    def _rollback_chain(self) -> None:
        assert self.journal is not None
        for account_id, original in self.journal["accounts"].items():
            self.accounts[account_id] = original
        for account_id in self.journal["new_accounts"]:
            del self.accounts[account_id]
        for transfer_id in self.journal["transfers"]:
            del self.transfers[transfer_id]
        for transfer_id, status in self.journal["status"].items():
            if status is None:
                self.status.pop(transfer_id, None)
            else:
                self.status[transfer_id] = status
        self.journal = None

    def _batch_timestamp(self, timestamp_ns: int) -> int:
        return max(timestamp_ns, self.last_timestamp + 1)

    def _run_chains(self, events: list, check_and_apply, failed_code, open_code, on_fail) -> list:
        """TigerBeetle's linked-event loop, shared by accounts and transfers."""
        results: list[int] = []
        chain_start: int | None = None
        broken = False
        for index, event in enumerate(events):
            linked = bool(event["flags"] & 1)
            if linked and chain_start is None:
                chain_start = index
                broken = False
                self._begin_chain()
            chain_open = linked and index == len(events) - 1
            # The results' order: a chain that failed already outranks one left open.
            if chain_start is not None and broken:
                result = failed_code
            elif chain_open:
                result = open_code
            else:
                result = check_and_apply(index, event)
            if result != 0:
                if chain_start is not None:
                    if not broken:
                        broken = True
                        self._rollback_chain()
                        for earlier in range(chain_start, index):
                            results[earlier] = failed_code
                else:
                    on_fail(event, result)
            results.append(int(result))
            if chain_start is not None and (not linked or chain_open):
                chain_start = None
                self.journal = None
        return results

    # ------------------------------------------------------------------ accounts

    def create_accounts(self, rows: list[dict], key_ok: list[bool], timestamp_ns: int) -> list:
        """Create accounts in order; key_ok[i] is the owner-key check's verdict on rows[i].

        Returns a CreateAccountResult value per row (the module's example creates two).
        """
        if not rows:
            return []
        base = self._batch_timestamp(timestamp_ns)

        def check_and_apply(index: int, a: dict) -> int:
            result = self._check_account(a, key_ok[index])
            if result == AR.ok:
                stored = dict(a, timestamp=base + index)
                self.accounts[a["id"]] = stored
                if self.journal is not None:
                    self.journal["new_accounts"].append(a["id"])
            return result

        results = self._run_chains(
            rows,
            check_and_apply,
            AR.linked_event_failed,
            AR.linked_event_chain_open,
            lambda event, result: None,
        )
        self.last_timestamp = base + len(rows) - 1
        return results

    def _check_account(self, a: dict, key_ok: bool) -> int:
        if a["timestamp"] != 0:
            return AR.timestamp_must_be_zero
        if a["reserved"] != 0:
            return AR.reserved_field
        if a["flags"] & ~0b11111:
            return AR.reserved_flag
        if a["id"] == 0:
            return AR.id_must_not_be_zero
        if a["id"] == U128_MAX:
            return AR.id_must_not_be_int_max
        if a["id"] in self.accounts:
            existing = self.accounts[a["id"]]
            if any(existing[name] != a[name] for name in CLIENT_ACCOUNT_FIELDS):
                return AR.exists_with_different_fields
            return AR.exists
        both = AF.debits_must_not_exceed_credits | AF.credits_must_not_exceed_debits
        if a["flags"] & both == both:
            return AR.flags_are_mutually_exclusive
        if any(a[name] != 0 for name in BALANCES):
            return AR.balances_must_be_zero
        if a["ledger"] == 0:
            return AR.ledger_must_not_be_zero
        if a["code"] == 0:
            return AR.code_must_not_be_zero
        if not key_ok:
            return AR.bad_public_key
        return AR.ok

    # ------------------------------------------------------------------ transfers

    def submit(self, rows: list[dict], signatures: list[int] | None, timestamp_ns: int) -> list:
        """Validate and apply transfers in order; signatures[i] is a SIGNATURE_* verdict, or
        signatures is None for all good.

        Returns a TransferResult value per row (the module's example submits one).
        """
        if not rows:
            return []
        base = self._batch_timestamp(timestamp_ns)
        self._expire(base)

        def check_and_apply(index: int, t: dict) -> int:
            signature = SIGNATURE_GOOD if signatures is None else signatures[index]
            timestamp = base + index
            result = self._check_transfer(t, signature, timestamp)
            if result == TR.ok:
                self._apply_transfer(t, timestamp)
            return result

        def on_fail(t: dict, result: int) -> None:
            if result >= TR.account_not_found:
                self.failed.add(t["id"])

        results = self._run_chains(
            rows, check_and_apply, TR.linked_event_failed, TR.linked_event_chain_open, on_fail
        )
        self.last_timestamp = base + len(rows) - 1
        return results

    def _expire(self, now: int) -> None:
        for transfer_id, status in list(self.status.items()):
            p = self.transfers[transfer_id]
            if status == "pending" and p["timeout_s"] > 0 and self._expires_at(p) <= now:
                self.status[transfer_id] = "expired"
                self.accounts[p["debit_account_id"]]["debits_pending"] -= p["amount"]
                self.accounts[p["credit_account_id"]]["credits_pending"] -= p["amount"]

    @staticmethod
    def _expires_at(p: dict) -> int:
        return p["timestamp"] + p["timeout_s"] * NS_PER_S

    def _check_transfer(self, t: dict, signature: int, timestamp: int) -> int:
        if signature == SIGNATURE_BAD or (
            signature == SIGNATURE_UNCHECKED and t["debit_account_id"] in self.accounts
        ):
            return TR.bad_signature
        if t["timestamp"] != 0:
            return TR.timestamp_must_be_zero
        if t["flags"] & ~0b1111:
            return TR.reserved_flag
        if t["id"] == 0:
            return TR.id_must_not_be_zero
        if t["id"] == U128_MAX:
            return TR.id_must_not_be_int_max
        if t["id"] in self.transfers:
            existing = self.transfers[t["id"]]
            if any(existing[name] != t[name] for name in CLIENT_TRANSFER_FIELDS):
                return TR.exists_with_different_fields
            return TR.exists
        if t["id"] in self.failed:
            return TR.id_already_failed
        pending = bool(t["flags"] & TF.pending)
        post = bool(t["flags"] & TF.post_pending)
        void = bool(t["flags"] & TF.void_pending)
        if pending + post + void > 1:
            return TR.flags_are_mutually_exclusive
        if t["debit_account_id"] == 0 or t["credit_account_id"] == 0:
            return TR.account_id_must_not_be_zero
        if t["debit_account_id"] == U128_MAX or t["credit_account_id"] == U128_MAX:
            return TR.account_id_must_not_be_int_max
        if t["debit_account_id"] == t["credit_account_id"]:
            return TR.accounts_must_be_different
        resolves = post or void
        if not resolves and t["pending_id"] != 0:
            return TR.pending_id_must_be_zero
        if resolves and t["pending_id"] == 0:
            return TR.pending_id_must_not_be_zero
        if resolves and t["pending_id"] == U128_MAX:
            return TR.pending_id_must_not_be_int_max
        if resolves and t["pending_id"] == t["id"]:
            return TR.pending_id_must_be_different
        if not pending and t["timeout_s"] != 0:
            return TR.timeout_reserved_for_pending_transfer
        if t["ledger"] == 0:
            return TR.ledger_must_not_be_zero
        if t["code"] == 0:
            return TR.code_must_not_be_zero
        dr = self.accounts.get(t["debit_account_id"])
        cr = self.accounts.get(t["credit_account_id"])
        if dr is None or cr is None:
            return TR.account_not_found
        if dr["ledger"] != cr["ledger"] or t["ledger"] != dr["ledger"]:
            return TR.ledger_mismatch
        if resolves:
            return self._check_post_or_void(t, dr, cr, timestamp)
        return self._check_balances(t, dr, cr, timestamp)

    def _check_post_or_void(self, t: dict, dr: dict, cr: dict, timestamp: int) -> int:
        p = self.transfers.get(t["pending_id"])
        if p is None:
            return TR.pending_transfer_not_found
        if not p["flags"] & TF.pending:
            return TR.pending_transfer_not_pending
        for name in ("debit_account_id", "credit_account_id", "ledger", "code"):
            if p[name] != t[name]:
                return TR.pending_transfer_has_different_fields
        # AMOUNT_MAX means "the whole pending amount" for a post only; a void says that with 0.
        post = bool(t["flags"] & TF.post_pending)
        amount = p["amount"] if post and t["amount"] == U128_MAX else t["amount"]
        if amount > p["amount"]:
            return TR.amount_exceeds_pending
        if not post and amount not in (0, p["amount"]):
            return TR.pending_transfer_has_different_amount
        status = self.status[p["id"]]
        if status == "posted":
            return TR.pending_transfer_already_posted
        if status == "voided":
            return TR.pending_transfer_already_voided
        if status == "expired":
            return TR.pending_transfer_expired
        if p["timeout_s"] > 0 and timestamp >= self._expires_at(p):
            return TR.pending_transfer_expired
        if t["flags"] & TF.post_pending:
            if (dr["flags"] | cr["flags"]) & AF.frozen:
                return TR.account_frozen
            if (dr["flags"] | cr["flags"]) & AF.closed:
                return TR.account_closed
        return TR.ok

    def _check_balances(self, t: dict, dr: dict, cr: dict, timestamp: int) -> int:
        if (dr["flags"] | cr["flags"]) & AF.frozen:
            return TR.account_frozen
        if (dr["flags"] | cr["flags"]) & AF.closed:
            return TR.account_closed
        amount = t["amount"]
        if t["flags"] & TF.pending and (
            dr["debits_pending"] + amount > U128_MAX or cr["credits_pending"] + amount > U128_MAX
        ):
            return TR.overflow
        if dr["debits_posted"] + amount > U128_MAX or cr["credits_posted"] + amount > U128_MAX:
            return TR.overflow
        dr_debits = dr["debits_pending"] + dr["debits_posted"]
        cr_credits = cr["credits_pending"] + cr["credits_posted"]
        if dr_debits + amount > U128_MAX or cr_credits + amount > U128_MAX:
            return TR.overflow
        if t["flags"] & TF.pending and timestamp + t["timeout_s"] * NS_PER_S > U64_MAX:
            return TR.overflow
        if dr["flags"] & AF.debits_must_not_exceed_credits and (
            dr_debits + amount > dr["credits_posted"]
        ):
            return TR.exceeds_credits
        if cr["flags"] & AF.credits_must_not_exceed_debits and (
            cr_credits + amount > cr["debits_posted"]
        ):
            return TR.exceeds_debits
        return TR.ok

    def _apply_transfer(self, t: dict, timestamp: int) -> None:
        dr = self._touch_account(t["debit_account_id"])
        cr = self._touch_account(t["credit_account_id"])
        if t["flags"] & (TF.post_pending | TF.void_pending):
            p = self.transfers[t["pending_id"]]
            dr["debits_pending"] -= p["amount"]
            cr["credits_pending"] -= p["amount"]
            if t["flags"] & TF.post_pending:
                amount = p["amount"] if t["amount"] == U128_MAX else t["amount"]
                dr["debits_posted"] += amount
                cr["credits_posted"] += amount
                self._set_status(p["id"], "posted")
            else:
                self._set_status(p["id"], "voided")
        elif t["flags"] & TF.pending:
            dr["debits_pending"] += t["amount"]
            cr["credits_pending"] += t["amount"]
            self._set_status(t["id"], "pending")
        else:
            dr["debits_posted"] += t["amount"]
            cr["credits_posted"] += t["amount"]
        self.transfers[t["id"]] = dict(t, timestamp=timestamp)
        if self.journal is not None:
            self.journal["transfers"].append(t["id"])

    # ------------------------------------------------------------------ views

    def balances(self, account_id: int) -> tuple[int, int, int, int]:
        """Debits pending and posted, credits pending and posted (the module's example)."""
        account = self.accounts[account_id]
        return tuple(account[name] for name in BALANCES)  # type: ignore[return-value]

    def ledger_totals(self) -> dict[int, tuple[int, int, int, int]]:
        """The four balances summed over each ledger's accounts, by ledger.

        Example:
            >>> Model().ledger_totals()
            {}
        """
        totals: dict[int, list[int]] = {}
        for account in self.accounts.values():
            sums = totals.setdefault(account["ledger"], [0, 0, 0, 0])
            for k, name in enumerate(BALANCES):
                sums[k] += account[name]
        return {ledger: tuple(sums) for ledger, sums in totals.items()}  # type: ignore[misc]


def submit_array(model: Model, array: numpy.ndarray, signatures, timestamp_ns: int) -> list:
    """The model fed with a TRANSFER_DTYPE array, as the engine is."""
    return model.submit(records.to_dicts(array), signatures, timestamp_ns)
