"""An association's inputs: the members' CSV and association.yaml.

The CSV is read as French spreadsheet programs export it: UTF-8 with or without BOM,
';' or ',' detected, quoted multi-line addresses. Rows are streamed, never all held.
A bad row is reported with its number as the spreadsheet shows it (the header is 1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import compose, fields
from .errors import DsarError, InputError
from .models import Association, Evidence, Mandate, Requester
from .profile import requester

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


@dataclass(frozen=True)
class Member:
    row: int
    requester: Requester
    evidence: Evidence
    broker: str | None
    mandate_date: str
    mandate_ref: str


@dataclass(frozen=True)
class BadRow:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DsarError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise DsarError(f"{path}: a mapping of {', '.join(ASSOCIATION_FIELDS)} is expected")
    unknown = [str(k) for k in data if k not in ASSOCIATION_FIELDS]
    if unknown:
        raise DsarError(
            f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(ASSOCIATION_FIELDS)}"
        )
    missing = [k for k in ("name", "address", "email", "representative") if not data.get(k)]
    if missing:
        raise DsarError(f"{path}: give {', '.join(missing)} (name, address, email, representative)")
    qualifies = data.get("qualifies_art80", False)
    if not isinstance(qualifies, bool):
        raise DsarError(f"{path}: qualifies_art80 is true or false")
    if qualifies and not data.get("declared_on"):
        raise DsarError(
            f"{path}: qualifies_art80 needs declared_on, the date the association was declared "
            "(Art. 80(1) GDPR, Loi Informatique et Libertés art. 37: five years or more)"
        )
    try:
        name = fields.text(str(data["name"]), "name", limit=200)
        return Association(
            name=name,
            address=fields.text(str(data["address"]), "address", multiline=True, limit=500),
            email=fields.email(str(data["email"])),
            representative=fields.text(str(data["representative"]), "representative", limit=200),
            capacity=fields.text(str(data.get("capacity") or ""), "capacity", limit=100),
            rna=_identifier(data.get("rna"), "rna"),
            siren=_identifier(data.get("siren"), "siren"),
            qualifies_art80=qualifies,
            declared_on=(
                fields.iso_date(str(data["declared_on"]), "declared_on")
                if data.get("declared_on")
                else None
            ),
            article=_article(data.get("article"), name),
        )
    except InputError as exc:
        raise DsarError(f"{path}: {exc}") from None


def _identifier(value, name: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).replace(" ", "").upper()
    if name == "rna" and not (len(text) == 10 and text[0] == "W" and text[1:].isdigit()):
        raise InputError(name, f"'{value}': an RNA number is W followed by 9 digits")
    if name == "siren":
        from stdnum.fr import siren

        if not siren.is_valid(text):
            raise InputError(name, f"'{value}': not a valid SIREN (9 digits, checksum)")
    return text


def _article(value, name: str) -> str:
    """'l’' before 'Association ...'; nothing before a name that has its own article."""
    if value is not None:
        text = fields.text(str(value), "article", limit=10).replace("'", "’")
        return text if text.endswith("’") or not text else text + " "
    if name.lower().startswith(("la ", "le ", "les ", "l'", "l’")):
        return ""
    return "l’" if name[:1].lower() in "aeiouyéèêh" else ""


def _reader(handle, strict: bool = False):
    """A csv reader for a file as French spreadsheets export it: ';' or ',' is sniffed
    from the header line (a BOM is dropped by the utf-8-sig encoding)."""
    sample = handle.read(4096)
    handle.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(handle, delimiter=dialect.delimiter, quotechar='"', strict=strict)


def _open(path: Path):
    return path.open(encoding="utf-8-sig", newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DsarError:
    return DsarError(
        f"{path}: not UTF-8 ({exc.reason} at byte {exc.start} of a block); "
        "save it from your spreadsheet as 'CSV UTF-8'"
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


def read(path: Path) -> Iterator[Member | BadRow]:
    try:
        handle = _open(path)
    except OSError as exc:
        raise DsarError(f"{path}: cannot read it ({exc.strerror})") from None
    with handle:
        try:
            reader = _reader(handle, strict=True)
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise DsarError(f"{path} is empty") from None
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from None
        unknown = [h for h in header if h not in COLUMNS]
        missing = [c for c in REQUIRED if c not in header]
        if unknown or missing:
            raise DsarError(
                f"{path} header: "
                + "; ".join(
                    filter(
                        None,
                        [
                            f"unknown column(s) {', '.join(unknown)}" if unknown else "",
                            f"missing column(s) {', '.join(missing)}" if missing else "",
                        ],
                    )
                )
                + f". Columns: {', '.join(COLUMNS)}"
            )
        row = 1
        while True:
            row += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(row, "-", f"broken quoting ({exc}); check the quotes in this row")
                continue
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, exc) from None
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield BadRow(row, "-", f"{len(values)} cells where the header has {len(header)}")
                continue
            yield _member(row, dict(zip(header, values, strict=True)))


def _member(row: int, cells: dict[str, str]) -> Member | BadRow:
    for column in REQUIRED:
        if not cells.get(column, "").strip():
            return BadRow(row, column, "empty; it is required")
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
        fields.iso_date(cells["mandate_date"], "mandate_date")
        reference = fields.text(cells["mandate_ref"], "mandate_ref", limit=100)
    except InputError as exc:
        return BadRow(row, exc.field, exc.reason)
    return Member(
        row,
        person,
        evidence,
        cells.get("broker", "").strip() or None,
        cells["mandate_date"].strip(),
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
