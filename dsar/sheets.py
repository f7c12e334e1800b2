"""Spreadsheet files in and out: the encodings French spreadsheets save in, and the one
dialect of every CSV dsar writes.

In: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text") and the
8-bit encodings Excel and LibreOffice use in France (Windows-1252 above all). A file
that is not UTF-8 is judged by charset-normalizer among those 8-bit encodings; when
more than one reads as French text, dsar refuses rather than guess.

Out: ';' between cells, UTF-8 with a BOM, so that a double click opens it in columns
in French Excel; headers and values are in the interface's language.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from .errors import DsarError
from .files import write_private
from .i18n import N_, _

# what French spreadsheets save as 'CSV' when not UTF-8: Windows Excel, old Mac Excel, DOS
EIGHT_BIT = ("cp1252", "mac_roman", "cp850")
LABELS = {
    "utf-8": N_("UTF-8"),
    "utf-8-sig": N_("UTF-8 (with BOM)"),
    "utf-16": N_("UTF-16"),
    "cp1252": N_("Windows-1252 (Excel's 'CSV (separator: semicolon)')"),
    "mac_roman": N_("Mac Roman"),
    "cp850": N_("DOS (CP850)"),
}
# the letters and signs of French text: an 8-bit reading that gives others is wrong
FRENCH = set("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ€«»‘’“”…–—°·§²ºª©®×÷µ\u00a0\u202f")
SAMPLE = 256 * 1024  # bytes charset-normalizer judges: enough for any header and rows


@dataclass(frozen=True)
class Encoding:
    codec: str  # what Python opens the file with

    @property
    def label(self) -> str:
        return _(LABELS[self.codec])

    @property
    def is_utf8(self) -> bool:
        return self.codec in ("utf-8", "utf-8-sig")


_seen: dict[tuple, Encoding] = {}  # a batch opens its CSV several times: judged once


def encoding(path: Path) -> Encoding:
    """The encoding a spreadsheet file was saved in, or DsarError saying what it is."""
    try:
        stat = path.stat()
    except OSError:
        return Encoding("utf-8-sig")  # opening it says why it cannot be read
    if not S_ISREG(stat.st_mode):  # /dev/zero, a pipe: read once, or never to its end
        raise DsarError(
            _("{path}: not a file; save the sheet as a file and give its name").format(path=path)
        )
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _seen:
        _seen[key] = _judge(path)
    return _seen[key]


def _judge(path: Path) -> Encoding:
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return Encoding("utf-8-sig")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Encoding("utf-16")
        handle.seek(0)
        if _is_utf8(handle):
            return Encoding("utf-8")
        handle.seek(0)
        sample = handle.read(SAMPLE)
    if sample.count(b"\x00") > len(sample) // 8:
        raise DsarError(
            _(
                "{path}: looks like UTF-16 without its byte order mark (or is not text); "
                "save it from your spreadsheet as 'CSV UTF-8'"
            ).format(path=path)
        )
    return _eight_bit(path, sample)


UTF8_JUDGED = 64 << 20  # bytes read to judge: a sheet's first 64 MB say its encoding


def _is_utf8(handle) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        read = 0
        while read < UTF8_JUDGED and (block := handle.read(1 << 20)):
            read += len(block)
            decoder.decode(block)
        if read < UTF8_JUDGED:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _eight_bit(path: Path, sample: bytes) -> Encoding:
    """Which 8-bit encoding: of charset-normalizer's readings that give Latin text, the
    least chaotic; of several equally good, the one whose letters are all French; else
    refused, never guessed."""
    import charset_normalizer  # only for files that are not UTF-8

    matches = charset_normalizer.from_bytes(sample, cp_isolation=list(EIGHT_BIT))
    latin = [m for m in matches if _reads(sample, m.encoding, _latin)]
    if latin:
        least = min(m.chaos for m in latin)
        best = [m.encoding for m in latin if m.chaos == least]
        french = [e for e in best if _reads(sample, e, lambda c: c in FRENCH)]
        if len(best) == 1 or len(french) == 1:
            return Encoding(best[0] if len(best) == 1 else french[0])
    raise DsarError(
        _(
            "{path}: not UTF-8, and its encoding cannot be told for sure ({readings}); "
            "save it from your spreadsheet as 'CSV UTF-8'"
        ).format(
            path=path,
            readings=", ".join(_(LABELS[m.encoding]) for m in latin)
            or _("no reading is French text"),
        )
    )


def _latin(char: str) -> bool:
    """A letter of a Latin alphabet (Muñoz, Øster) or a sign French text uses."""
    return char in FRENCH or (char.isalpha() and "\u00c0" <= char <= "\u017f")


def _reads(sample: bytes, codec: str, good) -> bool:
    text = sample.decode(codec, errors="replace")
    return all(c.isascii() or good(c) for c in text)


def open_text(path: Path):
    """The file opened as text in its encoding, for the csv module."""
    return path.open(encoding=encoding(path).codec, newline="")


def not_readable(path: Path, exc: UnicodeDecodeError) -> DsarError:
    """A byte the encoding judged from the start of the file cannot read, further on."""
    return DsarError(
        _(
            "{path}: read as {encoding}, but byte {byte} of a block is not ({reason}); "
            "save it from your spreadsheet as 'CSV UTF-8'"
        ).format(path=path, encoding=encoding(path).label, byte=exc.start, reason=exc.reason)
    )


# ------------------------------------------------------------------ writing

DELIMITER = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")
# control characters (ESC and its terminal sequences, NUL...) from a cell that came from
# outside: a manifest shown with cat must not move the cursor or recolour the terminal.
# A line break stays: a postal address is written on lines.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection).
    A number stays a number: '-16' days left is not neutralised into text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    text = _CONTROL.sub("", "" if value is None else str(value))
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    """Every CSV dsar writes: ';', UTF-8 with a BOM, each cell formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(c) for c in row])
    return "\ufeff" + out.getvalue()


class _Lines:
    """What the csv writer writes, until taken: a StringIO once rewound keeps 4 bytes
    a character, and would make the first piece of a file cost less than the next."""

    def __init__(self):
        self.lines: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.lines.append(text)
        self.size += len(text)

    def take(self) -> str:
        text, self.lines, self.size = "".join(self.lines), [], 0
        return text


def write(
    path: Path, header: Iterable[str], rows: Iterable[Iterable], *, overwrite: bool = True
) -> None:
    """Every CSV dsar writes: ';', UTF-8 with a BOM, each cell formula-safe. The rows
    are written as they come, 8 kB at a time: a million lines are never all held."""

    def pieces() -> Iterator[str]:
        out = _Lines()
        writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
        out.write("\ufeff")
        writer.writerow([cell(h) for h in header])
        for row in rows:
            writer.writerow([cell(c) for c in row])
            if out.size > 1 << 13:
                yield out.take()
        yield out.take()

    write_private(path, pieces(), overwrite=overwrite)
