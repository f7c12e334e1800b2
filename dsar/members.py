"""An association's inputs: the members' CSV and association.yaml.

The CSV is read as French spreadsheet programs export it: UTF-8 with or without BOM,
';' or ',' detected, quoted multi-line addresses, the usual French or English column
names (accents, case and punctuation ignored), dates as 06/06/2024 or 2024-06-06.
Rows are streamed, never all held. A bad row is reported with its number as the
spreadsheet shows it (the header is 1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import compose, fields, safety
from .errors import DsarError, InputError
from .i18n import _
from .models import Association, Evidence, Mandate, Requester
from .profile import requester
from .registry import fold

COLUMNS = (
    "name",
    "address",
    "phone",
    "email",
    "sms_date",
    "sms_sender",
    "sms_text",
    "broker",
    "mandate_date",
    "mandate_ref",
)
REQUIRED = ("name", "phone", "mandate_date", "mandate_ref")
# the names a spreadsheet gives each column, compared folded ('Réf. mandat' = 'ref mandat')
NAMES = {
    "name": ("nom", "nom complet", "nom et prenom", "prenom nom", "full name", "membre"),
    "address": ("adresse", "adresse postale", "postal address"),
    "phone": (
        "telephone",
        "tel",
        "portable",
        "mobile",
        "numero",
        "numero de telephone",
        "phone number",
    ),
    "email": ("e mail", "courriel", "mail", "adresse e mail", "adresse electronique"),
    "sms_date": ("date du sms", "date sms", "date du message", "sms date", "recu le"),
    "sms_sender": ("expediteur", "expediteur du sms", "emetteur", "sender", "sms sender"),
    "sms_text": ("texte du sms", "texte", "message", "texte du message", "sms text", "text"),
    "broker": ("destinataire", "courtier", "organisme", "recipient"),
    "mandate_date": ("date du mandat", "date mandat", "mandate date", "mandat signe le"),
    "mandate_ref": (
        "ref mandat",
        "reference mandat",
        "reference du mandat",
        "ref du mandat",
        "n mandat",
        "mandat",
        "mandate ref",
        "mandate reference",
    ),
}
KNOWN = {fold(n): column for column in COLUMNS for n in (column, *NAMES[column])}
SKIP = "-"  # --columns 'Commentaire=-': a column left unread on purpose


@dataclass(frozen=True)
class Member:
    row: int
    requester: Requester
    evidence: Evidence
    broker: str | None
    mandate_date: str
    mandate_ref: str


# a row longer than this is a quote left open swallowing the rows after it (the longest
# cell, sms_text, is 5,000 characters; an address a few lines)
MAX_ROW_LINES = 60
MAX_CELL_CHARS = 10_000


@dataclass(frozen=True)
class BadRow:
    row: int
    column: str
    reason: str
    name: str = ""  # the member's name when the row gives one, for the manifest

    def __str__(self) -> str:
        return _("row {row}, column {column}: {reason}").format(
            row=self.row, column=self.column, reason=self.reason
        )


ASSOCIATION_FIELDS = (
    "name",
    "address",
    "email",
    "representative",
    "capacity",
    "rna",
    "siren",
    "qualifies_art80",
    "declared_on",
    "article",
)


def load_association(path: Path) -> Association:
    data = safety.read_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise DsarError(
            _("{path}: give {fields} as 'key: value'").format(
                path=path, fields=", ".join(ASSOCIATION_FIELDS)
            )
        )
    unknown = [str(k) for k in data if k not in ASSOCIATION_FIELDS]
    if unknown:
        raise DsarError(
            _("{path}: unknown field(s) {unknown}; known: {known}").format(
                path=path, unknown=", ".join(unknown), known=", ".join(ASSOCIATION_FIELDS)
            )
        )
    missing = [k for k in ("name", "address", "email", "representative") if not data.get(k)]
    if missing:
        raise DsarError(
            _("{path}: give {missing} (name, address, email, representative)").format(
                path=path, missing=", ".join(missing)
            )
        )
    text = {
        k: safety.scalar(data, k, path)
        for k in ("name", "address", "email", "representative", "capacity", "rna", "siren")
        + ("declared_on", "article")
    }
    qualifies = data.get("qualifies_art80", False)
    if not isinstance(qualifies, bool):
        raise DsarError(_("{path}: qualifies_art80 is true or false").format(path=path))
    if qualifies and not data.get("declared_on"):
        raise DsarError(
            _(
                "{path}: qualifies_art80 needs declared_on, the date the association was declared "
                "(Art. 80(1) GDPR, Loi Informatique et Libertés art. 37: five years or more)"
            ).format(path=path)
        )
    try:
        name = fields.text(text["name"], "name", limit=200)
        return Association(
            name=name,
            address=fields.text(text["address"], "address", multiline=True, limit=500),
            email=fields.email(text["email"]),
            representative=fields.text(text["representative"], "representative", limit=200),
            capacity=fields.text(text["capacity"], "capacity", limit=100),
            rna=_identifier(text["rna"], "rna"),
            siren=_identifier(text["siren"], "siren"),
            qualifies_art80=qualifies,
            declared_on=(
                fields.iso_date(text["declared_on"], "declared_on") if text["declared_on"] else None
            ),
            article=_article(text["article"] if data.get("article") is not None else None, name),
        )
    except InputError as exc:
        raise DsarError(f"{path}: {exc}") from None


def _identifier(value, name: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).replace(" ", "").upper()
    if name == "rna" and not (len(text) == 10 and text[0] == "W" and text[1:].isdigit()):
        raise InputError(
            name, _("'{value}': an RNA number is W followed by 9 digits").format(value=value)
        )
    if name == "siren":
        from stdnum.fr import siren

        if not siren.is_valid(text):
            raise InputError(
                name, _("'{value}': not a valid SIREN (9 digits, checksum)").format(value=value)
            )
    return text


def _article(value, name: str) -> str:
    """'l’' before 'Association ...'; nothing before a name that has its own article."""
    if value is not None:
        text = fields.text(str(value), "article", limit=10).replace("'", "’")
        return text if text.endswith("’") or not text else text + " "
    if name.lower().startswith(("la ", "le ", "les ", "l'", "l’")):
        return ""
    return "l’" if name[:1].lower() in "aeiouyéèêh" else ""


def _reader(handle, strict: bool = False, lines=None):
    """A csv reader for a file as French spreadsheets export it: ';' or ',' is sniffed
    from the header line (a BOM is dropped by the utf-8-sig encoding)."""
    sample = handle.read(4096)
    handle.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(lines or handle, delimiter=dialect.delimiter, quotechar='"', strict=strict)


class _Lines:
    """A file's lines, knowing when they are all read: a quoting error at the end of
    the file is a quote still open there, which took in every row after it."""

    def __init__(self, handle):
        self.handle, self.done = handle, False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            return next(self.handle)
        except StopIteration:
            self.done = True
            raise


def _open(path: Path):
    if path.exists() and not path.is_file():
        # a pipe (<(...), /dev/stdin) is read once; a batch reads its CSV more than once
        raise DsarError(
            _("{path}: not a file; save the members' CSV as a file and give its name").format(
                path=path
            )
        )
    return path.open(encoding="utf-8-sig", newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DsarError:
    return DsarError(
        _(
            "{path}: not UTF-8 ({reason} at byte {byte} of a block); save it from your "
            "spreadsheet as 'CSV UTF-8'"
        ).format(path=path, reason=exc.reason, byte=exc.start)
    )


def count(path: Path) -> int | None:
    """Non-empty data rows, by a quick pass before any work: the progress bar's total,
    hence time left, and a file that is not UTF-8 refused before anything is written."""
    try:
        with _open(path) as handle:
            reader = _reader(handle)
            next(reader, None)
            return sum(1 for values in reader if any(v.strip() for v in values))
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except (OSError, csv.Error):
        return None  # read() reports the problem properly


def parse_columns(value: str | None) -> dict[str, str]:
    """--columns 'Numéro=phone,Commentaire=-': the spreadsheet's header -> dsar's column."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        header, sep, column = (x.strip() for x in part.rpartition("="))
        if not sep or not header or column not in (*COLUMNS, SKIP):
            raise InputError(
                "columns",
                _("'{part}': write HEADER=COLUMN, COLUMN one of {columns}, or - to skip it").format(
                    part=part, columns=", ".join(COLUMNS)
                ),
            )
        mapping[fold(header)] = column
    return mapping


def column_names(header: list[str], columns: dict[str, str] | None = None) -> list[str]:
    """The column each header cell is read as ('' for one not known), checking nothing."""
    known = {**KNOWN, **(columns or {})}
    return [known.get(fold(h), "") for h in header]


def map_header(
    path: Path, header: list[str], columns: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """Each header cell with the column it is read as (SKIP for one left unread)."""
    read_as = list(zip((h.strip() for h in header), column_names(header, columns), strict=True))
    unknown = [h for h, column in read_as if not column]
    seen = [column for _h, column in read_as if column and column != SKIP]
    twice = sorted({c for c in seen if seen.count(c) > 1})
    missing = [c for c in REQUIRED if c not in seen]
    problems = []
    if unknown:
        problems.append(_("unknown column(s) {names}").format(names=", ".join(unknown)))
    if twice:
        problems.append(_("more than one column read as {names}").format(names=", ".join(twice)))
    if missing:
        problems.append(_("missing column(s) {names}").format(names=", ".join(missing)))
    if problems:
        raise DsarError(
            _(
                "{path} header: {problems}. Columns: {columns}; name yours with "
                "--columns 'HEADER=COLUMN,...' (or HEADER=- to leave one out)"
            ).format(path=path, problems="; ".join(problems), columns=", ".join(COLUMNS))
        )
    return read_as


def header(path: Path, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """How the file's columns will be read, for the person to check before any work."""
    with _open_or_fail(path) as handle:
        try:
            first = next(_reader(handle), None)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from None
        except csv.Error as exc:
            raise _unreadable_header(path, exc) from None
    if not first:
        raise DsarError(_("{path} is empty").format(path=path))
    return map_header(path, first, columns)


def _unreadable_header(path: Path, exc: csv.Error) -> DsarError:
    """A first line the CSV reader refuses (a 3 MB line: a cell over its limit) is not
    an empty file: say how long it is and what it should be."""
    with _open_or_fail(path) as handle:
        first = handle.readline(10_000_000).rstrip("\r\n")
    return DsarError(
        _(
            "{path}: its first line ({size} characters) cannot be read as the header row "
            "({reason}); the first line must name the columns: {columns}"
        ).format(path=path, size=f"{len(first):,}", reason=exc, columns=", ".join(COLUMNS))
    )


def _open_or_fail(path: Path):
    try:
        return _open(path)
    except OSError as exc:
        raise DsarError(
            _("{path}: cannot read it ({reason})").format(path=path, reason=exc.strerror)
        ) from None


def read(path: Path, columns: dict[str, str] | None = None) -> Iterator[Member | BadRow]:
    with _open_or_fail(path) as handle:
        lines = _Lines(handle)
        try:
            reader = _reader(handle, strict=True, lines=lines)
            read_as = map_header(path, next(reader), columns)
        except StopIteration:
            raise DsarError(_("{path} is empty").format(path=path)) from None
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from None
        except csv.Error as exc:
            raise _unreadable_header(path, exc) from None
        header = [column for _h, column in read_as]
        row = 1
        while True:
            row += 1
            opened_at = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                _check_span(path, row, opened_at, reader.line_num, [])
                if lines.done:
                    _never_closed(path, row, opened_at, reader.line_num)
                yield BadRow(
                    row,
                    "-",
                    _("broken quoting ({reason}); check the quotes in this row").format(reason=exc),
                )
                continue
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, exc) from None
            _check_span(path, row, opened_at, reader.line_num, values)
            if not any(v.strip() for v in values):
                continue
            name = values[header.index("name")] if len(values) > header.index("name") else ""
            if len(values) != len(header):
                yield BadRow(
                    row,
                    "-",
                    _("{cells} cells where the header has {header}").format(
                        cells=len(values), header=len(header)
                    ),
                    name,
                )
                continue
            cells = dict(zip(header, values, strict=True))
            cells.pop(SKIP, None)
            yield _member(row, cells)


def _check_span(path: Path, row: int, first: int, last: int, values: list[str]) -> None:
    """Stop at a quote left open: it swallows every later member into one cell, so no
    row after it can be trusted (nor its number)."""
    if last - first + 1 > MAX_ROW_LINES or any(len(v) > MAX_CELL_CHARS for v in values):
        _never_closed(path, row, first, last)


def _never_closed(path: Path, row: int, first: int, last: int) -> None:
    raise DsarError(
        _(
            "{path}: row {row} (line {line}): a quote opened in this row is never closed; "
            "the cell runs over {lines} lines and takes in the rows after it. Close the "
            "quote (or remove it) and run again; nothing after this row was done"
        ).format(path=path, row=row, line=first, lines=last - first + 1)
    )


def _member(row: int, cells: dict[str, str]) -> Member | BadRow:
    name = cells.get("name", "")
    for column in REQUIRED:
        if not cells.get(column, "").strip():
            return BadRow(row, column, _("empty; it is required"), name)
    try:
        person = requester(
            cells["name"],
            cells.get("address"),
            cells["phone"].strip(),
            cells.get("email", "").strip() or None,
        )
        evidence = compose.evidence(
            "sms",
            cells.get("sms_date", "").strip() or None,
            None,
            cells.get("sms_sender"),
            cells.get("sms_text"),
        )
        signed = fields.iso_date(cells["mandate_date"], "mandate_date")
        # it names files (the signed scan, the form): a name, never a path
        reference = safety.name(
            fields.text(cells["mandate_ref"], "mandate_ref", limit=100), "mandate_ref"
        )
    except InputError as exc:
        return BadRow(row, exc.field, exc.reason, name)
    return Member(
        row,
        person,
        evidence,
        cells.get("broker", "").strip() or None,
        signed.isoformat(),  # typed '06/06/2024' or '2024-06-06', kept one way
        reference,
    )


def mandate(association: Association, member: Member) -> Mandate:
    return Mandate(association, fields.iso_date(member.mandate_date), member.mandate_ref)


def controllers(registry, member: Member | None, broker: str | None = None) -> list:
    """The controllers a member's mandate names: the row's broker (or the batch's), and
    the party whose name the message carries. A mandate 'to any broker or party' is
    not specific enough (LEGAL.md)."""
    if member is None:
        return []
    named = [registry.get(member.broker or broker)] if (member.broker or broker) else []
    named += compose.party_behind(registry, member.evidence)
    return list({c.slug: c for c in named}.values())
