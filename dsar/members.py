"""An association's inputs: the members' CSV and association.yaml.

The CSV is read as French spreadsheet programs export it: UTF-8 with or without BOM,
UTF-16, Windows-1252 (sheets.py says which), ';' or ',' detected, quoted multi-line
addresses, the usual French or English column names (accents, case and punctuation
ignored), first and last names or address, postcode and town in columns of their own
joined into one, dates as 06/06/2024 or 2024-06-06. Rows are streamed, never all held.
A bad row is reported with its number as the spreadsheet shows it (the header is 1),
with every problem it has, each under the header the person wrote.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import compose, fields, safety, sheets
from .errors import DsarError, InputError
from .i18n import _
from .models import Association, Evidence, Mandate, Requester
from .profile import requester
from .registry import fold
from .vocabulary import MANDATE_FORM_PREFIX as FORM_PREFIX

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
# the mandate's date is written at signing and its reference made when missing (made_ref)
REQUIRED = ("name", "phone")
# the names a spreadsheet gives each column, compared folded ('Réf. mandat' = 'ref mandat')
NAMES = {
    "name": ("nom", "nom complet", "nom et prenom", "prenom nom", "full name", "membre"),
    "address": ("adresse", "adresse postale", "postal address"),
    "phone": (
        "telephone",
        "tel",
        "portable",
        "mobile",
        "tel portable",
        "telephone portable",
        "numero",
        "numero de telephone",
        "phone number",
    ),
    "email": ("e mail", "courriel", "mail", "adresse e mail", "adresse electronique", "email"),
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
# parts of one column, in the order they are joined: 'Prénom;Nom' is the name, 'Adresse;
# Complément;Code postal;Ville' the address (folded headers)
PARTS = {
    "prenom": "name",
    "prenoms": "name",
    "first name": "name",
    "nom": "name",
    "nom de famille": "name",
    "last name": "name",
    "adresse": "address",
    "adresse 1": "address",
    "complement": "address",
    "complement d adresse": "address",
    "adresse 2": "address",
    "code postal": "address",
    "cp": "address",
    "postcode": "address",
    "ville": "address",
    "commune": "address",
    "localite": "address",
    "town": "address",
    "city": "address",
}
KNOWN = {
    **{fold(n): column for column in COLUMNS for n in (column, *NAMES[column])},
    **PARTS,
}
SKIP = "-"  # --columns 'Commentaire=-': a column left unread on purpose
JOIN = "+"  # --columns 'name=Prénom+Nom': one column from several


@dataclass(frozen=True)
class Member:
    row: int
    requester: Requester
    evidence: Evidence
    broker: str | None
    mandate_date: str  # '' until the signing date is recorded: no letter quotes another
    mandate_ref: str
    # the person's own header for each column read (« Expéditeur » for sms_sender): a
    # problem found later is said under the name they wrote (one dict for every row)
    said: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def bad(self, column: str, reason: str) -> BadRow:
        """This row as a bad row: `column` (dsar's name) said as the person wrote it."""
        return BadRow(self.row, self.said.get(column, column), reason, self.requester.name)


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
    more: tuple[tuple[str, str], ...] = ()  # the row's other problems: (column, reason)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(self.column, self.reason), *self.more]

    def __str__(self) -> str:
        return "; ".join(
            _("row {row}, column {column}: {reason}").format(
                row=self.row, column=column, reason=reason
            )
            for column, reason in self.problems
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
    "purpose",
    "article",
    "identity_checked",
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
        for k in ("name", "address", "email", "representative", "capacity", "purpose")
        + ("rna", "siren", "declared_on", "article")
    }
    qualifies = data.get("qualifies_art80", False)
    if not isinstance(qualifies, bool):
        raise DsarError(_("{path}: qualifies_art80 is true or false").format(path=path))
    checked = data.get("identity_checked", False)
    if not isinstance(checked, bool):
        raise DsarError(_("{path}: identity_checked is true or false").format(path=path))
    if qualifies and not data.get("declared_on"):
        raise DsarError(
            _(
                "{path}: qualifies_art80 needs declared_on, the date the association was declared "
                "(Art. 80(1) GDPR, Loi Informatique et Libertés art. 37: five years or more)"
            ).format(path=path)
        )
    if qualifies and not text["purpose"]:
        raise DsarError(
            _(
                "{path}: qualifies_art80 needs purpose, the statutory purpose (the letters print "
                "it: it must include the protection of personal data)"
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
            identity_checked=checked,
            declared_on=(
                fields.iso_date(text["declared_on"], "declared_on") if text["declared_on"] else None
            ),
            article=_article(text["article"] if data.get("article") is not None else None, name),
            purpose=fields.text(text["purpose"], "purpose", multiline=True, limit=1000),
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
    from the header line (a BOM is dropped by the utf-8-sig and utf-16 encodings)."""
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
    return sheets.open_text(path)  # in the encoding it was saved in, or refused saying why


def encoding(path: Path) -> str:
    """The encoding the members' CSV is read in, said to the person ('Windows-1252...')."""
    return sheets.encoding(path).label


def count(path: Path) -> int | None:
    """Non-empty data rows, by a quick pass before any work: the progress bar's total,
    hence time left, and a file that cannot be read refused before anything is written."""
    try:
        with _open(path) as handle:
            reader = _reader(handle)
            next(reader, None)
            return sum(1 for values in reader if any(v.strip() for v in values))
    except UnicodeDecodeError as exc:
        raise sheets.not_readable(path, exc) from None
    except (OSError, csv.Error):
        return None  # read() reports the problem properly


def parse_columns(value: str | None) -> dict[str, str]:
    """--columns 'Numéro=phone,Commentaire=-,name=Prénom+Nom': the spreadsheet's header ->
    dsar's column; COLUMN=HEADER+HEADER joins several headers into one column, in that
    order."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        left, sep, right = (x.strip() for x in part.partition("="))
        if sep and right in (*COLUMNS, SKIP) and left:
            mapping[fold(left)] = right
        elif sep and left in COLUMNS and all(h.strip() for h in right.split(JOIN)):
            for header in right.split(JOIN):
                mapping[fold(header)] = left
        else:
            raise InputError(
                "columns",
                _(
                    "'{part}': write HEADER=COLUMN or COLUMN=HEADER+HEADER, COLUMN one of "
                    "{columns}, or HEADER=- to skip it"
                ).format(part=part, columns=", ".join(COLUMNS)),
            )
    return mapping


def column_names(header: list[str], columns: dict[str, str] | None = None) -> list[str]:
    """The column each header cell is read as ('' for one not known), checking nothing."""
    known = {**KNOWN, **(columns or {})}
    return [known.get(fold(h), "") for h in header]


def _joinable(column: str, headers: list[str], columns: dict[str, str]) -> bool:
    """Several headers may make one column when --columns joins them, or when each is a
    part of it (Prénom and Nom, Adresse and Code postal)."""
    folded = [fold(h) for h in headers]
    return all(columns.get(f) == column for f in folded) or all(
        f not in columns and PARTS.get(f) == column for f in folded
    )


def layout(header: list[str], columns: dict[str, str] | None = None) -> dict[str, list[int]]:
    """Each column read -> the cells it is made of, in the order they are joined: the
    order --columns names them, else the parts' own (first name, then last name)."""
    columns = columns or {}
    order = {**{f: n for n, f in enumerate(PARTS)}, **{f: n for n, f in enumerate(columns)}}
    cells: dict[str, list[int]] = {}
    for index, column in enumerate(column_names(header, columns)):
        if column and column != SKIP:
            cells.setdefault(column, []).append(index)
    for indexes in cells.values():
        indexes.sort(key=lambda i: order.get(fold(header[i]), 0))
    return cells


def map_header(
    path: Path, header: list[str], columns: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """How the file will be read, for the person to check: each column read with the
    header(s) it comes from ('Prénom + Nom' -> name), or SKIP for one left unread."""
    columns = columns or {}
    header = [h.strip() for h in header]
    names = column_names(header, columns)
    unknown = [h for h, column in zip(header, names, strict=True) if not column]
    made = layout(header, columns)
    twice = sorted(
        c
        for c, cells in made.items()
        if len(cells) > 1 and not _joinable(c, [header[i] for i in cells], columns)
    )
    missing = [c for c in REQUIRED if c not in made]
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
                "--columns 'HEADER=COLUMN,...' (HEADER=- to leave one out, "
                "COLUMN=HEADER+HEADER to join several)"
            ).format(path=path, problems="; ".join(problems), columns=", ".join(COLUMNS))
        )
    read_as = [(min(cells), " + ".join(header[i] for i in cells), c) for c, cells in made.items()]
    read_as += [
        (i, h, SKIP) for i, (h, c) in enumerate(zip(header, names, strict=True)) if c == SKIP
    ]
    return [(headers, column) for _i, headers, column in sorted(read_as)]


def header(path: Path, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """How the file's columns will be read, for the person to check before any work."""
    with _open_or_fail(path) as handle:
        try:
            first = next(_reader(handle), None)
        except UnicodeDecodeError as exc:
            raise sheets.not_readable(path, exc) from None
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


# a check of a row's recipient, by the caller that knows the registry: its reason or None
BrokerCheck = Callable[[str], str | None]


def mandate_taken(
    member: Member, holder_of: Callable[[str, Requester], str | None]
) -> BadRow | None:
    """The row as a bad row when another member holds its mandate reference: one
    reference per member (and one form per reference). `holder_of(ref, requester)` names
    that member (journal.mandate_holder, and a run's own earlier rows), or None."""
    holder = member.mandate_ref and holder_of(member.mandate_ref, member.requester)
    if not holder:
        return None
    why = _(
        "{ref} is already the mandate of {holder}: one mandate reference per member (and one "
        "form per reference); give this row its own"
    ).format(ref=member.mandate_ref, holder=holder)
    return member.bad("mandate_ref", why)


def recipient_check(registry, default: str | None, *, required: bool) -> BrokerCheck:
    """A row's recipient (its cell, else `default`) checked with its other cells: one the
    registry does not know is a problem of the row, an empty one said empty."""

    def check(cell: str) -> str | None:
        if not (cell or default):
            return _("empty; give the recipient here or --broker") if required else None
        try:
            registry.get(cell or default)
        except DsarError as exc:
            return str(exc)
        return None

    return check


def read(
    path: Path, columns: dict[str, str] | None = None, check_broker: BrokerCheck | None = None
) -> Iterator[Member | BadRow]:
    with _open_or_fail(path) as handle:
        lines = _Lines(handle)
        try:
            reader = _reader(handle, strict=True, lines=lines)
            first = next(reader)
            read_as = map_header(path, first, columns)
        except StopIteration:
            raise DsarError(_("{path} is empty").format(path=path)) from None
        except UnicodeDecodeError as exc:
            raise sheets.not_readable(path, exc) from None
        except csv.Error as exc:
            raise _unreadable_header(path, exc) from None
        made = layout([h.strip() for h in first], columns)
        said = {column: headers for headers, column in read_as}  # the person's own words
        width = len(first)
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
                raise sheets.not_readable(path, exc) from None
            _check_span(path, row, opened_at, reader.line_num, values)
            if not any(v.strip() for v in values):
                continue
            if len(values) != width:
                yield BadRow(
                    row,
                    "-",
                    _("{cells} cells where the header has {header}").format(
                        cells=len(values), header=width
                    ),
                    _join("name", [values[i] for i in made["name"] if i < len(values)]),
                )
                continue
            cells = {c: _join(c, [values[i] for i in indexes]) for c, indexes in made.items()}
            yield _member(row, cells, said, check_broker)


def _join(column: str, parts: list[str]) -> str:
    """Cells joined into one value: a name with spaces, an address a line a part, the
    postcode and the town on one line ('75011 Paris')."""
    parts = [p.strip() for p in parts if p.strip()]
    if column != "address":
        return " ".join(parts)
    out = ""
    for part in parts:
        same_line = out and re.fullmatch(r"\d{4,5}", out.rsplit("\n", 1)[-1])
        out += (" " if same_line else "\n" if out else "") + part
    return out


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


def _member(
    row: int,
    cells: dict[str, str],
    said: dict[str, str] | None = None,
    check_broker: BrokerCheck | None = None,
) -> Member | BadRow:
    """The row's member, or every problem it has at once, each named by the header
    the person wrote ('Téléphone', not phone)."""
    said = said or {}
    problems: list[tuple[str, str]] = []
    found: dict[str, object] = {}

    def check(column: str, parse: Callable[[], object]) -> None:
        try:
            found[column] = parse()
        except InputError as exc:
            problems.append((said.get(column, column), exc.reason))

    def cell(column: str) -> str:
        return cells.get(column, "").strip()

    for column in REQUIRED:
        if not cell(column):
            problems.append((said.get(column, column), _("empty; it is required")))
    if cell("name"):
        check("name", lambda: fields.text(cells["name"], "name", limit=200))
    check(
        "address",
        lambda: fields.text(cells.get("address", ""), "address", multiline=True, limit=500),
    )
    if cell("phone"):
        check("phone", lambda: fields.phone(cell("phone")))
    if cell("email"):
        check("email", lambda: fields.email(cell("email")))
    if cell("sms_date"):
        check("sms_date", lambda: fields.iso_date(cell("sms_date"), "sms_date"))
    check("sms_sender", lambda: fields.text(cells.get("sms_sender", ""), "sms_sender", limit=200))
    check("sms_text", lambda: fields.text(cells.get("sms_text", ""), "sms_text", multiline=True))
    if cell("mandate_date"):
        check("mandate_date", lambda: fields.iso_date(cell("mandate_date"), "mandate_date"))
    if cell("mandate_ref"):
        # it names files (the signed scan, the form): a name, never a path
        check(
            "mandate_ref",
            lambda: safety.name(
                fields.text(cells["mandate_ref"], "mandate_ref", limit=100), "mandate_ref"
            ),
        )
        if cell("mandate_ref").casefold().startswith(FORM_PREFIX):
            # mandate-M-2.pdf is the name of M-2's form: this member would get M-2's scan
            problems.append(
                (
                    said.get("mandate_ref", "mandate_ref"),
                    _("may not start with '{prefix}' (the name of another mandate's form)").format(
                        prefix=FORM_PREFIX
                    ),
                )
            )
    broker = cell("broker")
    if check_broker and (reason := check_broker(broker)):
        problems.append((said.get("broker", "broker"), reason))
    name = cells.get("name", "")
    if problems:
        (column, reason), *more = problems
        return BadRow(row, column, reason, name, tuple(more))
    person = requester(found["name"], found["address"], found["phone"], found.get("email"))
    evidence = compose.evidence(
        "sms", cell("sms_date") or None, None, found["sms_sender"], found["sms_text"]
    )
    signed = found.get("mandate_date")
    return Member(
        row,
        person,
        evidence,
        broker or None,
        signed.isoformat() if signed else "",  # typed '06/06/2024' or '2024-06-06', kept one way
        found.get("mandate_ref") or made_ref(person),
        said,
    )


MANDATE_YEARS = 2  # the form: « donné pour une durée de deux ans à compter de sa signature »


def mandate_expires(signed_on: date) -> date:
    """The last day of a mandate signed on `signed_on` (29 February: 28 February)."""
    try:
        return signed_on.replace(year=signed_on.year + MANDATE_YEARS)
    except ValueError:
        return signed_on.replace(year=signed_on.year + MANDATE_YEARS, day=28)


def not_in_force(signed_on: date | None, letter_date: date) -> str | None:
    """Why a letter of `letter_date` cannot act under a mandate signed on `signed_on`: a
    power not yet given, or one that ran out (the form gives it for two years). None when
    it can, or the signing date is not recorded."""
    if signed_on is None:
        return None
    if signed_on > letter_date:
        return _(
            "the mandate is signed on {signed}, after the letter's date, {day}: a letter "
            "cannot act under a mandate not yet given; correct the mandate's date, or date "
            "the letter on or after it (--date)"
        ).format(signed=signed_on.isoformat(), day=letter_date.isoformat())
    if letter_date > (ends := mandate_expires(signed_on)):
        return _(
            "the mandate signed on {signed} ran out on {ends} (the form gives it for two "
            "years), before the letter's date, {day}: have the member sign a new one (dsar "
            "mandate), then give its date"
        ).format(signed=signed_on.isoformat(), ends=ends.isoformat(), day=letter_date.isoformat())
    return None


def made_ref(person: Requester) -> str:
    """A mandate reference for a row without one: the same for the same member at each
    run (the form `dsar mandate` wrote and the batch's letter cite one reference). Made
    from the number the request is about, not the name: a corrected spelling is the same
    member, the same mandate and the same letter, made again."""
    key = f"{person.phone or person.email}".encode()
    digest = base64.b32encode(hashlib.sha256(key).digest()).decode()
    return f"M-{digest[:4]}-{digest[4:8]}"


def mandate(
    association: Association,
    member: Member,
    on: date | None = None,
    *,
    on_request: bool = False,
    signed_art80: bool = False,
) -> Mandate:
    """The member's mandate as a letter of `on` cites it: its signing date only when
    recorded; Art. 80(1) only when the form the member signed carried that clause
    (`signed_art80`: journal.mandate_gives_art80) and the association qualifies that day."""
    return Mandate(
        association,
        fields.iso_date(member.mandate_date) if member.mandate_date else None,
        member.mandate_ref,
        on_request=on_request,
        art80=signed_art80 and bool(on) and association.art80_on(on),
    )


def controllers(registry, member: Member | None, broker: str | None = None) -> list:
    """The controllers a member's mandate names: the row's broker (or the batch's), and
    the party whose name the message carries. A mandate 'to any broker or party' is
    not specific enough (LEGAL.md)."""
    if member is None:
        return []
    named = [registry.get(member.broker or broker)] if (member.broker or broker) else []
    named += compose.party_behind(registry, member.evidence)
    return list({c.slug: c for c in named}.values())
