"""Runs one fuzz target under atheris, with coverage feedback from ledgercore's Python code, the
targets and the model (instrumenting every loaded function, numpy's included, would take a
minute before the first input)."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable

INSTRUMENTED_PREFIXES = ("ledgercore", "fuzz_", "model", "__main__")


def ours(obj: object) -> bool:
    return isinstance(obj, types.FunctionType) and str(
        getattr(obj, "__module__", "") or ""
    ).startswith(INSTRUMENTED_PREFIXES)


def run(check: Callable[[bytes], None]) -> None:
    import atheris

    for function in [obj for obj in gc.get_objects() if ours(obj)]:
        atheris.instrument_func(function)
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
