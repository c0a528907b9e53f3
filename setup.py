"""Build the native extension modules of ledgercore.

Each `.pyx` under `src/ledgercore/_native/` is its own extension with its own C sources. SIMD
kernels must not be compiled with the flags of the rest of the module (a CPU without AVX2 would
then crash anywhere the compiler chose to use it), so `LIBRARIES` gives each kernel file its own
flags; `BuildExt` compiles those files apart and links their objects in. Nothing shipped uses
`-march=native`.

Environment switches:
    LEDGERCORE_DEBUG=1     every Cython check on, LC_DEBUG_ASSERT on, -O1 -g, sanitizers
    LEDGERCORE_ANNOTATE=1  write Cython's annotated HTML beside each .pyx
"""

from __future__ import annotations

import os
import platform
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE_DIR = os.path.join("src", "ledgercore", "_native")
DEBUG = os.environ.get("LEDGERCORE_DEBUG") == "1"
ANNOTATE = os.environ.get("LEDGERCORE_ANNOTATE") == "1"


def native(*names: str) -> list[str]:
    return [os.path.join(NATIVE_DIR, name) for name in names]


def native_headers() -> list[str]:
    """Every header of the native folder: a change to one rebuilds what includes it."""
    return sorted(
        os.path.join(NATIVE_DIR, name) for name in os.listdir(NATIVE_DIR) if name.endswith(".h")
    )


def machine_arch() -> str:
    """The target architecture, normalised; cibuildwheel's ARCHFLAGS wins on macOS."""
    archflags = os.environ.get("ARCHFLAGS", "")
    if "arm64" in archflags:
        return "arm64"
    if "x86_64" in archflags:
        return "x86_64"
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


# The C code, as libraries: name -> (portable sources, SIMD sources). Portable sources get baseline
# flags; each SIMD source is (file, architecture, its own flags), and the dispatcher calls a kernel
# only after CPUID says the CPU and the OS support it. SIMD sources also get KERNEL_TUNING_CFLAGS,
# those of them the compiler accepts. An extension lists the libraries it links;
# each extension gets its own copy (extensions load with RTLD_LOCAL, so copies never clash).
LIBRARIES: dict[str, tuple[list[str], list[tuple[str, str, list[str]]]]] = {
    "blake3": (
        ["blake3_hash.c", "blake3_portable.c", "blake3_dispatch.c"],
        [
            ("blake3_sse41.c", "x86_64", ["-msse4.1"]),
            ("blake3_avx2.c", "x86_64", ["-mavx2"]),
            ("blake3_avx512.c", "x86_64", ["-mavx512f"]),
            ("blake3_neon.c", "arm64", []),
        ],
    ),
    "merkle": (["merkle_tree.c"], []),
    "apply": (["apply_engine.c", "idmap.c"], []),
    "wordpack": (["wordpack_codec.c"], []),
    "sumtree": (["sumtree_build.c"], []),
    "ed25519": (
        ["fe51.c", "ge25519.c", "sha512.c", "msm.c", "ed25519_verify.c", "verify_queue.c"],
        [],
    ),
}

# GCC tuning for the SIMD kernels, measured on the AVX2 BLAKE3 kernel (Zen 3, hot data):
# -fira-region=one keeps the register allocator from splitting the function at its block loop and
# spilling the 16 state vectors at the loop's borders (0.93 -> 0.73 cycles/byte);
# -fno-tree-reassoc keeps `a + m + b` in the written order, so the message word is added off the
# critical dependency chain (0.73 -> 0.66 cycles/byte; SSE4.1: 1.8 -> 1.2); pressure-aware
# scheduling before register allocation interleaves the four G functions without new spills
# (0.66 -> 0.61). The AVX-512 kernel gains from them too (Zen 5, hot data: 9.5 -> 7.7 ns per
# 64-byte input). A compiler that lacks a flag (clang) simply builds without it.
KERNEL_TUNING_CFLAGS = [
    "-fira-region=one",
    "-fno-tree-reassoc",
    "-fschedule-insns",
    "-fsched-pressure",
]

# Extension name -> (its .pyx, the libraries it links).
EXTENSIONS: dict[str, tuple[str, list[str]]] = {
    "ledgercore._native.blake3": ("blake3.pyx", ["blake3"]),
    "ledgercore._native.merkle": ("merkle.pyx", ["merkle", "blake3"]),
    "ledgercore._native.apply": ("apply.pyx", ["apply"]),
    "ledgercore._native.ed25519": ("ed25519.pyx", ["ed25519"]),
    "ledgercore._native.wordpack": ("wordpack.pyx", ["wordpack"]),
    "ledgercore._native.sumtree": ("sumtree.pyx", ["sumtree", "blake3"]),
}

# LEDGERCORE_EXTENSIONS=blake3,merkle builds only those extensions (a quicker edit-build loop).
ONLY = [name for name in os.environ.get("LEDGERCORE_EXTENSIONS", "").split(",") if name]


def simd_sources(ext_name: str, arch: str) -> list[tuple[str, list[str]]]:
    """The SIMD (file, flags) pairs linked into one extension on one architecture."""
    return [
        (filename, flags)
        for library in EXTENSIONS[ext_name][1]
        for filename, kernel_arch, flags in LIBRARIES[library][1]
        if kernel_arch == arch
    ]


BASE_CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-function", "-fno-strict-aliasing"]
if DEBUG:
    OPT_CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-DLC_DEBUG=1"]
    SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
else:
    OPT_CFLAGS = ["-O3"]
    SANITIZE_FLAGS = []
LINK_FLAGS = ["-pthread", *SANITIZE_FLAGS]


class BuildExt(build_ext):
    """Compile each SIMD source with its own flags, then link its object into the extension."""

    _tuning_cflags: list[str] | None = None

    def tuning_cflags(self) -> list[str]:
        """The KERNEL_TUNING_CFLAGS this compiler accepts, probed once with a tiny file."""
        if self._tuning_cflags is None:
            self._tuning_cflags = []
            os.makedirs(self.build_temp, exist_ok=True)
            probe = os.path.join(self.build_temp, "flag_probe.c")
            with open(probe, "w") as file:
                file.write("int main(void) { return 0; }\n")
            for flag in KERNEL_TUNING_CFLAGS:
                try:
                    self.compiler.compile(
                        [probe], output_dir=self.build_temp, extra_postargs=["-Werror", flag]
                    )
                except Exception:
                    continue
                self._tuning_cflags.append(flag)
        return self._tuning_cflags

    def build_extension(self, ext: Extension) -> None:
        arch = machine_arch()
        extra_objects = []
        for filename, flags in simd_sources(ext.name, arch):
            extra_objects += self.compiler.compile(
                native(filename),
                output_dir=self.build_temp,
                include_dirs=[NATIVE_DIR],
                macros=ext.define_macros,
                depends=native_headers(),
                extra_postargs=[
                    *BASE_CFLAGS,
                    *OPT_CFLAGS,
                    *SANITIZE_FLAGS,
                    *self.tuning_cflags(),
                    *flags,
                ],
                debug=DEBUG,
            )
        ext.extra_objects = [*ext.extra_objects, *extra_objects]
        super().build_extension(ext)


def extensions() -> list[Extension]:
    arch = machine_arch()
    result = []
    for name, (pyx, libraries) in EXTENSIONS.items():
        if ONLY and name.rsplit(".", 1)[1] not in ONLY:
            continue
        # Tell the dispatcher which kernels were linked in for this architecture.
        macros = [("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")]
        for filename, _ in simd_sources(name, arch):
            stem = os.path.splitext(filename)[0].split("_", 1)[1].upper()
            macros.append((f"LC_HAVE_{stem}", "1"))
        sources = [source for library in libraries for source in LIBRARIES[library][0]]
        # The SIMD objects are linked in by BuildExt, out of setuptools' sight: listing their
        # sources here relinks the extension when only a kernel changed.
        kernels = native(*(filename for filename, _ in simd_sources(name, arch)))
        result.append(
            Extension(
                name,
                sources=native(pyx, *sources),
                include_dirs=[NATIVE_DIR, numpy.get_include()],
                define_macros=macros,
                depends=[*native_headers(), *kernels],
                extra_compile_args=[*BASE_CFLAGS, *OPT_CFLAGS, *SANITIZE_FLAGS],
                extra_link_args=LINK_FLAGS,
            )
        )
    return result


compiler_directives = {
    "language_level": 3,
    "boundscheck": True,
    "wraparound": True,
    "initializedcheck": True,
    "embedsignature": True,
}
if sys.platform == "win32":
    raise SystemExit("ledgercore builds on Linux and macOS only")

setup(
    ext_modules=cythonize(
        extensions(),
        # Generated C goes to build/, never over a hand-written file of the same stem.
        build_dir=os.path.join("build", "cython"),
        compiler_directives=compiler_directives,
        annotate=ANNOTATE,
        force=DEBUG,
    ),
    cmdclass={"build_ext": BuildExt},
)
