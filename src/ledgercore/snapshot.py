"""Snapshots: what reopening a ledger needs, saved when it closes, so that it loads in bulk.

A ledger closed cleanly leaves the file `ledgercore.snapshot` in its store: the native engine's
tables as one image (accounts, transfers, failed ids, the expiry heap), the few arrays that
map timestamps to positions, and the log's leaf hashes (the store keeps none). Its height, the
head's hash, its size and its BLAKE3 go into the store's meta family in one synced write after
the file is complete. Opening the store at that same head loads the image (the engine rebuilds
its id maps and checks every count, status and expiry) instead of applying every block again,
and checks it as a replay would: the log, rebuilt from the snapshot's leaf hashes, and the
state tree, rebuilt from the loaded accounts, must give the head's roots. A snapshot that is
missing, of another head (the store moved on, or the writer was killed), of an earlier version,
or whose bytes do not match is ignored, and the blocks are applied again.

File: b"LCSNAP", u16 version, then u64 length of a JSON header naming each section (name,
dtype, shape, offset), then the sections' bytes.

Example:
    >>> import tempfile
    >>> from ledgercore import records
    >>> from ledgercore.keys import SigningKey
    >>> from ledgercore.ledger import Ledger
    >>> key = SigningKey.from_seed(b"s" * 32).public_key
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     with Ledger.open(directory + "/ledger") as ledger:
    ...         _ = ledger.create_accounts(records.accounts([dict(id=1, ledger=1, code=1,
    ...                                                          owner_key=key)]))
    ...     with Ledger.open(directory + "/ledger") as ledger:
    ...         ledger.opened_from, ledger.snapshot_status
    ('snapshot', 'loaded')
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from dataclasses import dataclass

import numpy

from ledgercore.hashing import blake3

__all__ = ["SNAPSHOT_FILE", "Snapshot", "read_snapshot", "write_snapshot"]

SNAPSHOT_FILE = "ledgercore.snapshot"
_MAGIC = b"LCSNAP"
# Version 2 added the log's leaf hashes, which stores of format 4 no longer keep.
_VERSION = 2
_PREFIX = struct.Struct("<6sHQ")
_META = struct.Struct("<Q32s32sQ")  # height, head hash, BLAKE3 of the file, its size
_META_KEY = b"snapshot"


@dataclass
class Snapshot:
    """A snapshot's sections, as read-only arrays over the mapped file."""

    height: int
    sections: dict[str, numpy.ndarray]
    prefix: bytes
    digest: bytes

    def intact(self) -> bool:
        """Whether the file's bytes are those its meta record vouches for (hashing them, with
        the GIL released: another thread may load the sections meanwhile)."""
        return _digest(self.prefix, self.sections.values()) == self.digest


def _digest(prefix: bytes, sections: object) -> bytes:
    """BLAKE3 of the prefix and the BLAKE3 of each section's bytes, in order: every byte of the
    file counts, and no section needs copying next to another to be hashed."""
    parts = [prefix]
    for array in sections:
        parts.append(blake3(numpy.ascontiguousarray(array).reshape(-1).view(numpy.uint8)))
    return blake3(b"".join(parts))


def write_snapshot(store: object, height: int, head_hash: bytes, sections: dict) -> None:
    """Write the sections to the store's snapshot file, then name it in the store's meta.

    The file is written beside the store under a temporary name and renamed into place; the
    meta record that makes it count is written (synced) last, so a crash at any point leaves
    either the previous state of things or a file that no meta record vouches for.
    """
    header, offset, arrays = [], 0, []
    for name, array in sections.items():
        array = numpy.ascontiguousarray(array)
        header.append(
            dict(name=name, dtype=array.dtype.str, shape=list(array.shape), offset=offset)
        )
        arrays.append(array)
        offset += array.nbytes
    text = json.dumps(header).encode()
    prefix = _PREFIX.pack(_MAGIC, _VERSION, len(text)) + text
    path = os.path.join(store.path, SNAPSHOT_FILE)
    partial = path + ".partial"
    try:
        with open(partial, "wb") as file:
            file.write(prefix)
            for array in arrays:
                file.write(array.reshape(-1).view(numpy.uint8))
            size = file.tell()
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    digest = _digest(prefix, arrays)
    store.put_meta(_META_KEY, _META.pack(height, head_hash, digest, size))


def read_snapshot(store: object, height: int, head_hash: bytes) -> tuple[Snapshot | None, str]:
    """The store's snapshot if it was made at this head, mapped and parsed, else None; with a
    few words saying which. Its bytes are checked by `Snapshot.intact`."""
    record = store.meta(_META_KEY)
    if record is None or len(record) != _META.size:
        return None, "no snapshot"
    made_at, made_hash, digest, size = _META.unpack(record)
    if made_at != height or made_hash != head_hash:
        return None, f"the snapshot is of block {made_at}, the head is block {height}"
    path = os.path.join(store.path, SNAPSHOT_FILE)
    try:
        if os.path.getsize(path) != size:
            return None, "the snapshot file does not match its record"
        data = numpy.memmap(path, dtype=numpy.uint8, mode="r")
    except (OSError, ValueError) as error:
        return None, f"the snapshot file cannot be read ({error})"
    try:
        prefix, sections = _parse(data)
    except _EarlierVersion as error:
        return None, f"the snapshot is of an earlier version ({error})"
    except (ValueError, KeyError, TypeError) as error:
        return None, f"the snapshot file is malformed ({error})"
    return Snapshot(height, sections, prefix, digest), "loaded"


class _EarlierVersion(ValueError):
    """A snapshot file an earlier ledgercore wrote: not damaged, only of no use here."""


def _parse(data: numpy.ndarray) -> tuple[bytes, dict[str, numpy.ndarray]]:
    if len(data) < _PREFIX.size:
        raise ValueError("shorter than its prefix")
    magic, version, length = _PREFIX.unpack_from(data[: _PREFIX.size].tobytes())
    if magic == _MAGIC and version < _VERSION:
        raise _EarlierVersion(f"version {version}, this ledgercore writes {_VERSION}")
    if magic != _MAGIC or version != _VERSION:
        raise ValueError(f"format {magic!r} version {version}")
    start = _PREFIX.size + length
    if start > len(data):
        raise ValueError("its header runs past the file")
    prefix = data[:start].tobytes()
    header = json.loads(prefix[_PREFIX.size :])
    sections, expected = {}, start
    for entry in header:
        dtype = numpy.dtype(entry["dtype"])
        shape = tuple(int(n) for n in entry["shape"])
        count = int(numpy.prod(shape)) if shape else 1
        first = start + int(entry["offset"])
        stop = first + count * dtype.itemsize
        if first != expected or stop > len(data):
            raise ValueError(f"section {entry['name']} is not where the sections run")
        sections[entry["name"]] = data[first:stop].view(dtype).reshape(shape)
        expected = stop
    if expected != len(data):
        raise ValueError("bytes past the last section")
    return prefix, sections
