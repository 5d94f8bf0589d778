"""Reading content files defensively: regular files only, bounded size, UTF-8 text.

Every refusal is a ``ContentError`` with one ``FILE:LINE: (file): problem`` entry, and
nothing is read from a path that is not a regular file (a link to ``/dev/zero``, a named
pipe, a device), so a hostile path can neither hang nor exhaust the process.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from bot.core.errors import ContentError

MIB = 1024 * 1024
YAML_MAX_BYTES = 16 * MIB
"""One deck file; a large deck is split over several topic files."""
CSV_MAX_BYTES = 512 * MIB
"""One CSV to import: read line by line, so this bounds time (about 300,000 cards of the
bundled deck's average size), not memory."""
LINE_MAX_BYTES = MIB
"""One line of a file read line by line (a row of full card fields is ~4 KB)."""

# YAML's printable set (YAML 1.1, section 5.1), which libyaml and PyYAML enforce: tab,
# line breaks and printable Unicode. Checked once over the whole text, so the error can
# name the line and column instead of a character offset.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def _problem(path: Path, line: int, message: str) -> ContentError:
    return ContentError([f"{path}:{line}: (file): {message}"])


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def regular_size(path: Path, limit: int) -> int:
    """The size of the regular file ``path`` (links followed), refused above ``limit``."""
    try:
        info = path.stat()
    except OSError as exc:
        raise _problem(path, 1, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        what = _kind(info.st_mode)
        if path.is_symlink():
            what = f"a link to {path.readlink()}, {what}"
        raise _problem(path, 1, f"not a regular file ({what}); only regular files are read")
    _check_size(path, info.st_size, limit)
    return info.st_size


@contextmanager
def _open_regular(path: Path, limit: int) -> Iterator[BinaryIO]:
    regular_size(path, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _problem(path, 1, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        # The path may have been swapped since stat(); trust only what was opened.
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _problem(path, 1, "not a regular file; only regular files are read")
        yield handle


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them."""
    with _open_regular(path, limit) as handle:
        data = handle.read(limit + 1)
    _check_size(path, len(data), limit)
    return data


def _check_size(path: Path, size: int, limit: int) -> None:
    if size > limit:
        raise _problem(
            path,
            1,
            f"{size:,} bytes is more than the limit of {limit:,} ({limit // MIB} MiB); "
            "split it into smaller files",
        )


def _where(data: bytes | str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``data`` (columns count bytes in bytes)."""
    if isinstance(data, bytes):
        start = data.rfind(b"\n", 0, offset) + 1
        return data.count(b"\n", 0, offset) + 1, offset - start + 1
    start = data.rfind("\n", 0, offset) + 1
    return data.count("\n", 0, offset) + 1, offset - start + 1


def decode(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 text (a UTF-8 byte-order mark is dropped)."""
    if data.startswith(_UTF16_BOMS):
        raise _problem(path, 1, "the file is UTF-16; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _where(data, exc.start)
        raise _not_utf8(path, line, column, data[exc.start]) from None
    return text


def _not_utf8(path: Path, line: int, column: int, byte: int) -> ContentError:
    return _problem(
        path, line, f"not UTF-8 (byte 0x{byte:02x} at column {column}); save it as UTF-8"
    )


def check_printable(path: Path, text: str, first_line: int = 1) -> None:
    """Refuse NUL and the control characters YAML does not allow, naming the first one's
    line (``text`` starts at line ``first_line`` of ``path``)."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    line, column = _where(text, found.start())
    if found.group() == "\0":
        why = f"NUL character at column {column}; is the file UTF-16? Save it as UTF-8"
    else:
        why = f"control character U+{ord(found.group()):04X} at column {column} is not allowed"
    raise _problem(path, line + first_line - 1, why)


def text_lines(
    path: Path, limit: int, on_bytes: Callable[[int], object] | None = None
) -> Iterator[str]:
    """The lines of a regular UTF-8 file (endings kept), decoded and checked one at a time,
    so a bad byte is reported on its own line and the file is never held whole in memory.
    ``on_bytes`` is told how many bytes each line had (for a progress bar)."""
    with _open_regular(path, limit) as handle:
        seen = 0
        number = 0
        while raw := handle.readline(LINE_MAX_BYTES + 1):
            number += 1
            if len(raw) > LINE_MAX_BYTES:
                raise _problem(path, number, f"a line is longer than {LINE_MAX_BYTES:,} bytes")
            seen += len(raw)
            _check_size(path, seen, limit)  # the file grew since it was opened
            if number == 1:
                if raw.startswith(_UTF16_BOMS):
                    raise _problem(path, 1, "the file is UTF-16; save it as UTF-8")
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, number, exc.start + 1, raw[exc.start]) from None
            check_printable(path, line, number)
            if on_bytes is not None:
                on_bytes(len(raw))
            yield line


def read_text(path: Path, limit: int) -> str:
    """Bounded, UTF-8, printable text of a regular file, or ``ContentError``."""
    text = decode(path, read_bytes(path, limit))
    check_printable(path, text)
    return text
