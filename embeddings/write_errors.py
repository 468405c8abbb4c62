"""One line for a failed write of the index or the vector cache: the cause, the place and what to do.

In embeddings/, the bottom layer, because the encoder's vector cache is one of the writes; the index stores
(rag/search/stores/) use it too.

A full disk shows up in many forms on the way to the index: OSError ENOSPC from Python's own writes,
SQLite's "database or disk is full" (the vector cache), PostgreSQL's SQLSTATE 53100 ("could not extend
file …: No space left on device"), a C library's short write without an errno. :func:`writing` turns
each of them, and the other failures of the disk or its permissions, into :class:`IndexWriteError`,
whose message is one line a person can act on::

    no space left on device while writing the index to /srv/index: free space or set VRAAGBAAK_INDEX_DIR

The CLI prints it as it is, the reindex status carries it and the log gets it without a traceback
(api/runtime.py). Anything else (a programming error) passes through unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
from pathlib import Path
from typing import Iterator

# The causes a person can do something about, in the words `strerror` uses.
CAUSES = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error",
    errno.EFBIG: "file too large",
}
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_LOCKED = (errno.EACCES, errno.EPERM, errno.EROFS)

# Messages that carry the cause without an errno: SQLite's and PostgreSQL's.
_TEXT_CAUSES = (
    (re.compile(r"no space left on device|database or disk is full|disk full", re.I), errno.ENOSPC),
    (re.compile(r"disk quota exceeded", re.I), errno.EDQUOT),
    (re.compile(r"read-only file system|readonly database", re.I), errno.EROFS),
    (re.compile(r"permission denied|unable to open database file", re.I), errno.EACCES),
    (re.compile(r"disk i/o error|input/output error", re.I), errno.EIO),
)
_SHORT_WRITE = re.compile(r"(\d+) requested and (\d+) written")  # numpy's tofile: no errno
_SQLSTATES = {"53100": errno.ENOSPC}  # PostgreSQL disk_full

# Below this much free space a write that came up short is taken for a full disk.
NEARLY_FULL_BYTES = 1 << 20


class IndexWriteError(OSError):
    """A write of the index (or the vector cache it is built from) that failed for a reason outside the
    program: a full disk, a missing permission, a read-only or failing file system. ``str()`` is the
    one-line message; ``cause`` the errno it stands for (errno.ENOSPC, …), ``place`` the folder or
    database."""

    def __init__(self, message: str, cause: int | None, place: str):
        super().__init__(message)
        self.cause = cause
        self.place = place


def _free_bytes(place: Path) -> int | None:
    for folder in (place, *place.parents):
        try:
            st = os.statvfs(folder)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize
    return None


def cause_of(exc: BaseException, place: Path | None = None) -> int | None:
    """The errno a failed write stands for, or None when it is not a disk or permission problem."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and isinstance(code, int) and code:
        return code
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in _SQLSTATES:
        return _SQLSTATES[sqlstate]
    if not isinstance(exc, (OSError, sqlite3.Error)) and sqlstate is None:
        return None  # not from the disk or a database: a programming error keeps its traceback
    text = str(exc)
    for pattern, code in _TEXT_CAUSES:
        if pattern.search(text):
            return code
    if _SHORT_WRITE.search(text) and place is not None:
        free = _free_bytes(place)
        if free is not None and free < NEARLY_FULL_BYTES:
            return errno.ENOSPC
        return errno.EIO
    return errno.EIO if isinstance(exc, OSError) else None


def describe(exc: BaseException, what: str, place: str | Path, variable: str | None) -> IndexWriteError | None:
    """``exc`` as an IndexWriteError ("<cause> while writing <what> to <place>: <what to do>"), or None
    when it is not a disk or permission problem. ``place``: a folder (Path) or a database's name;
    ``variable`` names the setting that moves it."""
    code = cause_of(exc, place if isinstance(place, Path) else None)
    if code is None:
        return None
    cause = CAUSES.get(code) or (os.strerror(code).lower() if code else str(exc))
    elsewhere = f" or set {variable}" if variable else ""
    if code in _FULL:
        remedy = f"free space{elsewhere}"
    elif code in _LOCKED:
        remedy = f"make it writable{elsewhere}"
    else:
        detail = " ".join(str(exc).split())[:200]
        remedy = f"{detail}; check the disk{elsewhere}"
    return IndexWriteError(f"{cause} while writing {what} to {place}: {remedy}", code, str(place))


@contextlib.contextmanager
def writing(what: str, place: str | Path, variable: str | None = None) -> Iterator[None]:
    """Raise the disk and permission failures inside the block as one-line IndexWriteErrors (see
    :func:`describe`); everything else passes through unchanged."""
    try:
        yield
    except IndexWriteError:
        raise
    except Exception as exc:
        error = describe(exc, what, place, variable)
        if error is None:
            raise
        raise error from exc
