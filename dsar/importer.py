"""Import the datenanfragen.de company database (CC0) into a dsar registry.

Each upstream record becomes a registry entry with its upstream slug; every field that
cannot be mapped (an invalid e-mail, a phone number that does not parse, a field dsar
has no place for) is reported, never silently dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import fields
from .errors import DsarError, InputError
from .i18n import _
from .models import Broker
from .registry import SCHEMA_VERSION, fold

QUALITY = {"verified": "verified", "tested": "partial", "unverified": "unverified"}
# upstream fields that have no place in a registry entry, or that dsar does not need
IGNORED = {
    "custom-access-template",
    "custom-erasure-template",
    "custom-rectification-template",
    "custom-objection-template",
    "facet-group",
    "nsfw",
    "pgp-fingerprint",
    "pgp-url",
    "needs-id-document",
    "required-elements",
    "categories",
    "comments",
    "complaint-language",
}


@dataclass
class ImportReport:
    entries: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)


def _record(text: str, where: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DsarError(
            _("{where}: not JSON ({problem})").format(where=where, problem=exc)
        ) from None
    except RecursionError:  # '[[[[…' nested past Python's stack
        raise DsarError(
            _("{where}: nested too deeply to be a company record").format(where=where)
        ) from None


def _not_utf8(where, exc: UnicodeDecodeError) -> DsarError:
    return DsarError(
        _("{where}: not UTF-8 ({reason} at byte {start}); save it as UTF-8").format(
            where=where, reason=exc.reason, start=exc.start
        )
    )


def read_records(path: Path) -> Iterator[tuple[str, dict]]:
    """Records from a JSON-lines file or a folder of upstream companies/*.json files."""
    if path.is_dir():
        files = sorted(path.glob("*.json")) or sorted(path.glob("companies/*.json"))
        if not files:
            raise DsarError(f"{path}: no *.json company files found in it")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(file, exc) from None
            except OSError as exc:
                raise DsarError(f"{file}: cannot read it ({exc.strerror})") from None
            yield file.name, _record(text, str(file))
        return
    try:
        handle = path.open("rb")  # lines decoded one by one: an error names its line
    except OSError as exc:
        raise DsarError(f"{path}: cannot read it ({exc.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(f"{path} line {number}", exc) from None
            if line.strip():
                yield f"{path.name} line {number}", _record(line, f"{path} line {number}")


# the upstream fields read, by the JSON type they must have: a record from outside may
# hold anything (a number, a list, null) where text is expected
TEXT_FIELDS = (
    "slug",
    "name",
    "address",
    "email",
    "phone",
    "fax",
    "webform",
    "web",
    "request-language",
    "suggested-transport-medium",
    "quality",
)
LIST_FIELDS = ("sources", "runs", "relevant-countries")


def _shape(record) -> str | None:
    """What is wrong with the record's shape, or None: each field read has its type."""
    if not isinstance(record, dict):
        return _("not a JSON object but {kind}").format(kind=type(record).__name__)
    for key in TEXT_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str):
            return _("'{key}' is {kind}, not text").format(key=key, kind=type(record[key]).__name__)
    for key in LIST_FIELDS:
        value = record.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return _("'{key}' is not a list of texts").format(key=key)
    return None


def _contact(kind: str, value: str, slug: str, where: str, report: ImportReport) -> dict | None:
    try:
        if kind == "email":
            value = fields.email(value, kind)
        elif kind in ("phone", "fax"):
            value = fields.phone(value, kind, region=None)
        elif kind == "webform":
            value = fields.url(value, kind)
    except InputError as exc:
        report.problems.append(f"{where} ({slug}): {kind} dropped: {exc.reason}")
        return None
    return {"kind": kind, "value": value, "source": f"datenanfragen/data record {slug}"}


def convert(
    record: dict, where: str, report: ImportReport, *, kind: str = "company"
) -> dict | None:
    wrong = _shape(record)
    if wrong:
        report.problems.append(_("{where}: skipped: {reason}").format(where=where, reason=wrong))
        return None
    record = {k: v for k, v in record.items() if v is not None}  # null: not given
    slug = record.get("slug", "")
    for key in record:
        if key in IGNORED:
            report.unmapped[key] += 1
    contacts = []
    if record.get("address", "").strip():
        contacts.append(
            {
                "kind": "postal",
                "value": record["address"].strip(),
                "source": f"datenanfragen/data record {slug}",
            }
        )
    for upstream, ours in (
        ("email", "email"),
        ("phone", "phone"),
        ("fax", "fax"),
        ("webform", "webform"),
    ):
        if record.get(upstream):
            found = _contact(ours, record[upstream], slug, where, report)
            if found:
                contacts.append(found)
    sources = [{"publication": f"datenanfragen/data (CC0), record {slug}"}]
    for source in record.get("sources", []):
        try:
            sources.append({"url": fields.url(source)})
        except InputError:
            sources.append({"publication": source})
    countries = [c for c in record.get("relevant-countries", []) if len(c) == 2]
    web = record.get("web")
    if web:
        try:
            fields.url(web)
        except InputError:
            report.problems.append(f"{where} ({slug}): web dropped: '{web}' is not an http(s) URL")
            web = None
    entry = {
        "slug": slug,
        "kind": kind,
        "name": record.get("name", "").strip(),
        "aliases": [r for r in record.get("runs", []) if fold(r) != fold(record.get("name", ""))],
        "web": web,
        "contacts": contacts,
        "country": countries[0] if len(countries) == 1 else None,
        "language": record.get("request-language"),
        "medium": record.get("suggested-transport-medium"),
        "sources": sources,
        "quality": QUALITY.get(record.get("quality"), "unverified"),
    }
    entry = {k: v for k, v in entry.items() if v not in (None, [], "")} | {
        "quality": entry["quality"]
    }
    try:
        Broker.model_validate(entry)
    except Exception as exc:  # pydantic's message names the field
        report.problems.append(f"{where} ({slug}): skipped: {exc}")
        return None
    return entry


def import_datenanfragen(path: Path, *, kind: str = "company") -> ImportReport:
    report = ImportReport()
    converted = []
    for where, record in read_records(path):
        entry = convert(record, where, report, kind=kind)
        if entry is not None:
            converted.append((where, entry))
    names = {}
    for _where, entry in converted:
        names.setdefault(fold(entry["name"]), entry["slug"])
    labels: dict[str, str] = {}
    for where, entry in converted:
        # an alias that is another entry's name or alias would make lookups ambiguous
        kept = []
        for alias in entry.get("aliases", []):
            owner = names.get(fold(alias), entry["slug"])
            owner = (
                owner if owner != entry["slug"] else labels.setdefault(fold(alias), entry["slug"])
            )
            if owner != entry["slug"]:
                report.problems.append(
                    f"{where} ({entry['slug']}): alias '{alias}' dropped: it also names {owner}"
                )
            else:
                kept.append(alias)
        if kept:
            entry["aliases"] = kept
        else:
            entry.pop("aliases", None)
        report.entries.append(entry)
    return report


def dump(report: ImportReport, source: Path) -> str:
    header = (
        f"# Imported by dsar from {source.name} (datenanfragen/data, CC0 1.0).\n"
        "# Facts only (names, addresses, contacts); check before relying on one.\n"
    )
    body = {"schema_version": SCHEMA_VERSION, "brokers": report.entries}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return header + yaml.dump(body, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)
