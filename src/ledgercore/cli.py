"""The `ledgercore` command: `ledgercore bench` measures this machine, beside baselines;
`ledgercore verify PATH` checks a ledger's store from genesis; `info`, `block`, `account`,
`prove` and `verify-proof` read a store and check proofs (ledgercore.commands, where their exit
statuses are listed). `python -m ledgercore` is the same command.

`ledgercore verify` prints one line and exits with:

    0  the store is sound: every block recomputed as stored (EXIT_SOUND)
    1  the store is damaged: a block differs from what it should be, or RocksDB cannot read
       it (a table's checksum fails, a file is missing), or files of a store are there
       without the rest; the line says what and where (EXIT_DAMAGED)
    2  the command line was wrong (argparse's usage error, EXIT_USAGE)
    3  there is no store at PATH: nothing there, an empty directory, a file, or a directory
       of other files (EXIT_NO_STORE)

Example:
    >>> parser = build_parser()
    >>> parser.parse_args(["bench", "--quick"]).quick
    True
    >>> parser.parse_args(["verify", "./ledger"]).path
    './ledger'
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ledgercore import commands as store_commands
from ledgercore.bench import GROUPS

EXIT_SOUND = 0
EXIT_DAMAGED = 1
EXIT_USAGE = 2
EXIT_NO_STORE = 3


def build_parser() -> argparse.ArgumentParser:
    """The command line: its subcommands and their options."""
    from ledgercore import __version__

    parser = argparse.ArgumentParser(
        prog="ledgercore", description="A tamper-evident double-entry ledger with a native core."
    )
    parser.add_argument("--version", action="version", version=f"ledgercore {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "bench",
        help="measure every stage of a batch beside its baseline",
        description=(
            "Measure every stage of a batch on this machine, each beside its baseline measured "
            "in the same run, and print a table of rates and ratios."
        ),
    )
    size = bench.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="small inputs, a smoke test: the run takes seconds"
    )
    size.add_argument(
        "--full", action="store_true", help="the largest inputs: minutes more than the default"
    )
    bench.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    bench.add_argument(
        "--only",
        metavar="GROUPS",
        help=f"comma-separated stages to run, of: {', '.join(GROUPS)} (default: all)",
    )
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.add_argument("--transfers", type=int, metavar="N", help="ledger stage: transfers")
    bench.add_argument("--accounts", type=int, metavar="N", help="ledger stage: accounts")
    bench.add_argument(
        "--owner-keys",
        type=int,
        metavar="N",
        help="ledger stage: distinct owner keys among the accounts (default: at most 256)",
    )
    add_verify_command(commands)
    store_commands.add_commands(commands)
    return parser


def add_verify_command(commands: Any) -> None:
    """`ledgercore verify PATH`: recompute a ledger's store from genesis."""
    verify = commands.add_parser(
        "verify",
        help="recompute every block of a ledger's store and report the first mismatch",
        description=(
            "Recompute every block of the store at PATH from its stored batches (hashes, Merkle "
            "roots, state roots, the hash chain, every signature) and report the first mismatch "
            "in one line. Exit status: 0 the store is sound; 1 it is damaged (a mismatch, a "
            "table RocksDB cannot read, files of a store without the rest); 2 a usage error; "
            "3 no store at PATH."
        ),
    )
    verify.add_argument("path", metavar="PATH", help="the ledger's store directory")
    verify.add_argument("--no-progress", action="store_true", help="no progress bar")


def _verify(args: argparse.Namespace) -> int:
    from ledgercore.verify import verify_store

    absent = store_commands.no_store_reason(args.path)
    if absent is not None:
        print(f"ledgercore verify {args.path}: no ledgercore store there ({absent})")
        return EXIT_NO_STORE
    report = verify_store(args.path, progress=not args.no_progress)
    # One line whatever RocksDB put in its messages, so that a log keeps one line per check.
    line = " ".join(f"ledgercore verify {args.path}: {report} ({report.seconds:.1f} s)".split())
    print(line)
    return EXIT_SOUND if report.ok else EXIT_DAMAGED


def _ledger_sizes_refused(args: argparse.Namespace) -> str | None:
    """Why the ledger stage's sizes cannot be run, or None."""
    if args.transfers is not None and args.transfers < 1:
        return f"--transfers {args.transfers}: expected at least 1"
    if args.accounts is not None and args.accounts < 2:
        return f"--accounts {args.accounts}: expected at least 2 (a transfer needs two)"
    if args.owner_keys is not None:
        if args.owner_keys < 1:
            return f"--owner-keys {args.owner_keys}: expected at least 1"
        from ledgercore.bench.ledger import FULL_ACCOUNT_COUNT, QUICK_ACCOUNT_COUNT

        accounts = args.accounts or (QUICK_ACCOUNT_COUNT if args.quick else FULL_ACCOUNT_COUNT)
        if args.owner_keys > accounts:
            return f"--owner-keys {args.owner_keys}: more than the {accounts} accounts"
    return None


def _bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ledgercore.bench import (
        BenchContext,
        format_details,
        format_not_run,
        format_stage_seconds,
        format_table,
        machine_facts,
        run_stages,
        write_json,
    )

    groups = [name.strip() for name in args.only.split(",")] if args.only else list(GROUPS)
    unknown = [name for name in groups if name not in GROUPS]
    if unknown:
        print(
            f"ledgercore bench: unknown stage(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(GROUPS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    refusal = _ledger_sizes_refused(args)
    if refusal:
        print(f"ledgercore bench: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    facts = machine_facts()
    mode = " --quick" if args.quick else " --full" if args.full else ""
    print(
        f"ledgercore {facts['ledgercore']} bench{mode}: "
        f"{facts['cpu']}, {facts['cores']} cores, SIMD kernel {facts['simd_kernel']}, "
        f"Python {facts['python']}"
    )
    # disable=None: a bar on a terminal only, so logs and CI output stay readable.
    with tqdm(
        total=len(groups),
        unit="stage",
        disable=True if args.no_progress else None,
        leave=False,
        file=sys.stderr,
    ) as bar:
        measurements = 0
        stages_started = 0

        def on_measure() -> None:
            nonlocal measurements
            measurements += 1
            bar.set_postfix(measurements=measurements)

        def on_stage(group: str) -> None:
            nonlocal stages_started
            if stages_started > 0:
                bar.update(1)
            stages_started += 1
            bar.set_description(group)

        ctx = BenchContext(quick=args.quick, full=args.full, on_measure=on_measure)
        ctx.ledger_transfers, ctx.ledger_accounts = args.transfers, args.accounts  # type: ignore
        ctx.ledger_owner_keys = args.owner_keys  # type: ignore
        results = run_stages(groups, ctx, on_stage=on_stage)
        bar.update(1)
    print(format_table(results))
    details = format_details(results)
    if details:
        print(details)
    print(format_stage_seconds(ctx.stage_seconds))
    if ctx.not_run:
        print(format_not_run(ctx.not_run))
    if args.json:
        write_json(
            args.json,
            results,
            quick=args.quick,
            full=args.full,
            not_run=ctx.not_run,
            stage_seconds=ctx.stage_seconds,
        )
        print(f"figures written to {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args)
    if args.command == "verify":
        return _verify(args)
    if args.command in store_commands.COMMANDS:
        return store_commands.dispatch(args)
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
