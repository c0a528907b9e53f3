"""The operator's commands over a store: `info`, `block`, `account`, `history`, `export`, `prove`
and `verify-proof`.

Each opens the store read-only (a writer may be running), prints plain lines or, with `--json`,
one JSON document, and returns an exit status:

    0  done (for verify-proof: the proof holds)                                   EXIT_OK
    1  verify-proof: the proof does not hold                                      EXIT_FAILED
    2  the command line was wrong                                                 EXIT_USAGE
    3  there is no store at PATH                                                  EXIT_NO_STORE
    4  no such block, account or accepted transfer in the store; for verify-proof,
       input that is not a proof                                                  EXIT_NOT_FOUND
    5  the store is damaged (the line says what; run `ledgercore verify PATH`)    EXIT_DAMAGED

`verify-proof` runs ledgercore/proofcheck.py, the outsider's file, and nothing else of
ledgercore: the check an auditor makes with that file alone.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     from ledgercore.ledger import Ledger
    ...     Ledger.open(directory + "/ledger").close()
    ...     status = run(["info", directory + "/ledger"])  # doctest: +ELLIPSIS
    height 0 (genesis), head ...
    ...
    >>> status
    0
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_STORE = 3
EXIT_NOT_FOUND = 4
EXIT_DAMAGED = 5

COMMANDS = ("info", "block", "account", "history", "export", "prove", "verify-proof")
EXPORTS = ("blocks", "accounts", "transfers")


def add_commands(commands: Any) -> None:
    """Register the commands of this module with an argparse subparsers object."""
    info = commands.add_parser("info", help="a store's head, roots, counts and disk size")
    block = commands.add_parser("block", help="one block's header")
    account = commands.add_parser("account", help="one account's record and balances")
    history = commands.add_parser(
        "history", help="an account's accepted transfers, oldest first (a page at a time)"
    )
    export = commands.add_parser(
        "export",
        help="write a store's blocks, accounts or transfers (with their results) as JSONL or CSV",
    )
    prove = commands.add_parser("prove", help="write the proof of a transfer or an account as JSON")
    for parser in (info, block, account, history, export, prove):
        parser.add_argument("path", metavar="PATH", help="the ledger's store directory")
    block.add_argument("height", type=int, help="the block's height")
    account.add_argument("account_id", type=int, metavar="ID", help="the account's id")
    history.add_argument("account_id", type=int, metavar="ID", help="the account's id")
    history.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    history.add_argument(
        "--after", type=int, metavar="NS", help="continue after this timestamp (a page's last)"
    )
    export.add_argument("what", choices=EXPORTS, help="which records")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", dest="file_format")
    export.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    prove.add_argument("kind", choices=("transfer", "account"), help="what to prove")
    prove.add_argument("record_id", type=int, metavar="ID", help="the transfer's or account's id")
    prove.add_argument("--height", type=int, help="account: the block to prove it at (the head)")
    prove.add_argument("--out", metavar="FILE", help="write the proof here instead of stdout")
    for parser in (info, block, account, history):
        parser.add_argument("--json", action="store_true", help="print one JSON document")
    check = commands.add_parser(
        "verify-proof",
        help="check a proof against a head hash with the standalone verifier only",
        description=(
            "Check a proof's JSON against the ledger's head hash, obtained apart from the proof, "
            "with ledgercore/proofcheck.py alone. Exit status: 0 it holds, 1 it does not, 2 a "
            "usage error, 4 the input is not a proof."
        ),
    )
    check.add_argument("file", metavar="FILE", help="the proof's JSON file ('-': stdin)")
    check.add_argument("--head", required=True, help="the trusted head block's hash, in hex")
    check.add_argument("--owner-key", help="a transfer's debit owner key (hex): check it too")


def run(argv: Sequence[str]) -> int:
    """Parse and run one of this module's commands (for tests and `ledgercore`).

    Example:
        >>> run(["block", "/nonexistent/ledger", "0"])
        ledgercore block /nonexistent/ledger: no ledgercore store there (nothing is there)
        3
    """
    parser = argparse.ArgumentParser(prog="ledgercore")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return dispatch(parser.parse_args(list(argv)))


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command `args.command` (one of COMMANDS)."""
    if args.command == "verify-proof":
        return _verify_proof(args)
    from ledgercore.errors import LedgerError, LedgerValueError, StoreCorruptedError
    from ledgercore.ledger import Ledger

    name = f"ledgercore {args.command} {args.path}"
    absent = no_store_reason(args.path)
    if absent is not None:
        print(f"{name}: no ledgercore store there ({absent})")
        return EXIT_NO_STORE
    try:
        with Ledger.open(args.path, read_only=True) as ledger:
            return _COMMANDS[args.command](ledger, args)
    except StoreCorruptedError as error:
        print(" ".join(f"{name}: damaged: {error}".split()), file=sys.stderr)
        return EXIT_DAMAGED
    except LedgerValueError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except LedgerError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_DAMAGED


def no_store_reason(path: str) -> str | None:
    """Why there is no store at path, in a few words; None when there is one (whole or not).

    Example:
        >>> no_store_reason("/nonexistent/ledger")
        'nothing is there'
    """
    from ledgercore.store import survey

    kind, names = survey(path)
    if kind in ("store", "partial"):
        return None
    what = {"missing": "nothing is there", "file": "it is a file", "empty": "it is empty"}
    return what.get(kind, f"it holds other files: {', '.join(names[:6])}")


def _print(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> int:
    if getattr(args, "json", False):
        print(json.dumps(data, sort_keys=True))
    else:
        print("\n".join(lines))
    return EXIT_OK


def _info(ledger: Any, args: argparse.Namespace) -> int:
    from ledgercore.store import FORMAT_VERSION

    head = ledger.head()
    data = {
        "path": ledger.path,
        "height": head.height,
        "head_hash": head.hash.hex(),
        "head_timestamp_ns": head.timestamp_ns,
        "header_version": head.version,
        "transfers": head.log_size,
        "accounts": head.state_size,
        "log_root": head.log_root.hex(),
        "state_root": head.state_root.hex(),
        "history_root": None if head.history_root is None else head.history_root.hex(),
        "disk_bytes": ledger.disk_size(),
        "opened_from": ledger.opened_from,
        "snapshot": ledger.snapshot_status,
        "store_format_written": FORMAT_VERSION,
    }
    lines = [
        f"height {head.height} ({head.kind.name}), head {data['head_hash']}",
        f"transfers {head.log_size}, accounts {head.state_size}, last clock {head.timestamp_ns} ns",
        f"log root {data['log_root']}",
        f"state root {data['state_root']}",
        f"header format {head.version}, {data['disk_bytes']:,} bytes on disk, "
        f"opened from {ledger.opened_from} (snapshot: {ledger.snapshot_status})",
    ]
    return _print(args, data, lines)


def _block(ledger: Any, args: argparse.Namespace) -> int:
    header = ledger.block(args.height)
    data = header.to_dict()
    return _print(args, data, [f"{key} {value}" for key, value in data.items()])


def _account(ledger: Any, args: argparse.Namespace) -> int:
    from ledgercore import records
    from ledgercore.errors import LedgerValueError

    found = ledger.lookup_accounts([args.account_id])
    if len(found) == 0:
        raise LedgerValueError(f"account_id: no account {args.account_id}")
    row = records.to_dicts(found)[0]
    data = {key: value.hex() if isinstance(value, bytes) else value for key, value in row.items()}
    data["flag_names"] = [flag.name for flag in records.AccountFlags if flag & row["flags"]]
    data["as_of_height"] = ledger.head().height
    return _print(args, data, [f"{key} {value}" for key, value in data.items()])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A record's dict with bytes as hex, for JSON and CSV."""
    return {key: value.hex() if isinstance(value, bytes) else value for key, value in row.items()}


def _history(ledger: Any, args: argparse.Namespace) -> int:
    from ledgercore import records

    page = ledger.account_history(args.account_id, limit=args.limit, after=args.after)
    rows = records.to_dicts(page)
    data = {
        "account_id": args.account_id,
        "transfers": [_plain(row) for row in rows],
        "next_after": rows[-1]["timestamp"] if len(rows) == args.limit else None,
    }
    lines = [
        f"{row['timestamp']} {row['id']}: {row['debit_account_id']} -> "
        f"{row['credit_account_id']} {row['amount']} (ledger {row['ledger']}, code {row['code']}"
        f", flags {row['flags']})"
        for row in rows
    ]
    if data["next_after"] is not None:
        lines.append(f"more: --after {data['next_after']}")
    return _print(args, data, lines)


def _exported(ledger: Any, what: str) -> Iterator[dict[str, Any]]:
    """The rows of an export, one dict each, in block order."""
    from ledgercore import records
    from ledgercore.blocks import BlockKind

    head = ledger.head().height
    if what == "blocks":
        for height in range(head + 1):
            yield ledger.block(height).to_dict()
        return
    kind = BlockKind.accounts if what == "accounts" else BlockKind.transfers
    names = records.CreateAccountResult if what == "accounts" else records.TransferResult
    for height in range(1, head + 1):
        if ledger.block(height).kind != kind:
            continue
        rows, results = ledger.block_records(height)
        if what == "accounts":
            # Each account as it is at the head, in the order the blocks created them.
            rows = ledger.lookup_accounts(numpy.ascontiguousarray(rows["id"][results == 0]))
            results = numpy.zeros(len(rows), numpy.uint8)
        for row, result in zip(records.to_dicts(rows), results.tolist(), strict=True):
            yield _plain(row) | {"block": height, "result": names(result).name}


def _export(ledger: Any, args: argparse.Namespace) -> int:
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as file:
            count = _write_rows(_exported(ledger, args.what), args.file_format, file)
        print(f"{count} {args.what} written to {args.out}")
    else:
        _write_rows(_exported(ledger, args.what), args.file_format, sys.stdout)
    return EXIT_OK


def _write_rows(rows: Iterator[dict[str, Any]], file_format: str, stream: Any) -> int:
    """Write rows as JSON lines or CSV (a header from the first row); returns how many."""
    count = 0
    writer = None
    for row in rows:
        if file_format == "jsonl":
            stream.write(json.dumps(row, sort_keys=True) + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
        count += 1
    return count


def _prove(ledger: Any, args: argparse.Namespace) -> int:
    if args.kind == "transfer":
        proof = ledger.prove_transfer(args.record_id)
    else:
        proof = ledger.prove_account(args.record_id, args.height)
    text = proof.to_json()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        head = ledger.head().hash.hex()
        print(f"{args.kind} proof of {args.record_id} written to {args.out}; check it with "
              f"`ledgercore verify-proof {args.out} --head {head}`")  # fmt: skip
    else:
        print(text)
    return EXIT_OK


def _verify_proof(args: argparse.Namespace) -> int:
    from ledgercore import proofcheck

    argv = [args.file, "--head", args.head]
    if args.owner_key:
        argv += ["--owner-key", args.owner_key]
    status = proofcheck.main(argv)
    return EXIT_NOT_FOUND if status == 2 else status


_COMMANDS = {
    "info": _info,
    "block": _block,
    "account": _account,
    "history": _history,
    "export": _export,
    "prove": _prove,
}
