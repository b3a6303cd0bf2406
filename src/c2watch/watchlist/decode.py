"""Read a watchlist file and turn its bytes into numbered text lines.

Accepts UTF-8 (with or without BOM) and Shift_JIS (``cp932``, what Japanese Excel writes);
LF, CRLF and CR line ends. Rejects empty and binary files as a whole. A line longer than
:data:`MAX_LINE_CHARS` is reported as a line error and left out; the other lines are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from c2watch.errors import LineError, WatchlistError

__all__ = ["ENCODINGS", "MAX_LINE_CHARS", "DecodedText", "SourceLine", "cap_lines", "decode_bytes", "read_text"]

MAX_LINE_CHARS = 65_536
ENCODINGS = ("utf-8", "cp932")
_BOM = b"\xef\xbb\xbf"
# cp932 maps a few unassigned bytes to C1 controls and private-use characters; text that decodes
# to them is not really Shift_JIS (Latin-1 or binary data, most likely).
_NOT_SHIFT_JIS = re.compile("[\x80-\x9f\ue000-\uf8ff]")


class SourceLine(NamedTuple):
    """One physical line of the file: its 1-based number and its text without the line end."""

    number: int
    text: str


@dataclass(frozen=True)
class DecodedText:
    """The usable lines of a file, the encoding they were decoded with and the too-long lines."""

    lines: list[SourceLine]
    encoding: str
    errors: list[LineError]


class _Undecodable(Exception):
    def __init__(self, line: int, byte: int | None) -> None:
        super().__init__(line, byte)
        self.line = line
        self.byte = byte


def read_text(path: Path, max_line_chars: int | None = MAX_LINE_CHARS) -> DecodedText:
    """Read ``path`` and decode it; raise :class:`WatchlistError` when the file is unusable.

    ``max_line_chars=None`` keeps lines of any length (JSON documents often are one long line).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WatchlistError(path, [LineError(0, f"cannot read file: {exc.strerror or exc}")]) from exc
    return decode_bytes(data, path, max_line_chars)


def cap_lines(decoded: DecodedText, max_line_chars: int = MAX_LINE_CHARS) -> DecodedText:
    """``decoded`` with every line longer than ``max_line_chars`` moved to the errors."""
    kept: list[SourceLine] = []
    errors = list(decoded.errors)
    for line in decoded.lines:
        if len(line.text) > max_line_chars:
            errors.append(_too_long(line.number, len(line.text), max_line_chars))
        else:
            kept.append(line)
    return DecodedText(kept, decoded.encoding, sorted(errors, key=lambda err: err.line))


def _too_long(number: int, length: int, limit: int) -> LineError:
    return LineError(number, f"line too long ({length} characters, limit {limit})")


def decode_bytes(data: bytes, path: Path | str = "<bytes>", max_line_chars: int | None = MAX_LINE_CHARS) -> DecodedText:
    """Decode a whole watchlist file; ``path`` only names the file in errors."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise WatchlistError(path, [LineError(_line_of(data, nul), "binary file (NUL byte)")])
    raw_lines = data.splitlines()
    has_bom = bool(raw_lines) and raw_lines[0].startswith(_BOM)
    if has_bom:
        raw_lines[0] = raw_lines[0][len(_BOM) :]
    if all(not raw or raw.isspace() for raw in raw_lines):
        raise WatchlistError(path, [LineError(0, "empty file")])
    if has_bom:
        return _decode_or_fail(raw_lines, ("utf-8",), path, max_line_chars, label="utf-8-sig")
    return _decode_or_fail(raw_lines, ENCODINGS, path, max_line_chars)


def _line_of(data: bytes, offset: int) -> int:
    """1-based physical line number of byte ``offset`` (LF, CRLF and CR each end one line)."""
    crlf = data.count(b"\r\n", 0, offset)
    return data.count(b"\n", 0, offset) + data.count(b"\r", 0, offset) - crlf + 1


def _decode_or_fail(
    raw_lines: list[bytes],
    encodings: tuple[str, ...],
    path: Path | str,
    max_line_chars: int | None = MAX_LINE_CHARS,
    label: str | None = None,
) -> DecodedText:
    first_failure: _Undecodable | None = None
    for encoding in encodings:
        try:
            lines, errors = _decode_lines(raw_lines, encoding, max_line_chars)
        except _Undecodable as exc:
            first_failure = first_failure or exc
            continue
        return DecodedText(lines, label or encoding, errors)
    assert first_failure is not None
    names = " or ".join(encodings)
    byte = "" if first_failure.byte is None else f" (undecodable byte 0x{first_failure.byte:02x})"
    message = f"not {names} text{byte}"
    raise WatchlistError(path, [LineError(first_failure.line, message)])


def _decode_lines(
    raw_lines: list[bytes], encoding: str, max_line_chars: int | None = MAX_LINE_CHARS
) -> tuple[list[SourceLine], list[LineError]]:
    lines: list[SourceLine] = []
    errors: list[LineError] = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _Undecodable(number, raw[exc.start]) from None
        if encoding == "cp932" and _NOT_SHIFT_JIS.search(text):
            raise _Undecodable(number, None)
        if max_line_chars is not None and len(text) > max_line_chars:
            errors.append(_too_long(number, len(text), max_line_chars))
        else:
            lines.append(SourceLine(number, text))
    return lines, errors
