"""brokers.yaml: load, validate with line numbers, merge the user's overlays, search, check."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from . import clock
from .errors import DsarError, RegistryError, UnknownBroker
from .models import Broker, Campaign

SCHEMA_VERSION = 1
# libyaml's loader parses an imported 3,000-entry registry in 2.4 s instead of 8.4 s
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STALE_AFTER_YEARS = 3


class RegistryFile(BaseModel):
    """The top level of a registry file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    brokers: tuple[Broker, ...] = ()
    campaigns: tuple[Campaign, ...] = ()


def fold(text: str) -> str:
    """Lower case without accents or punctuation: 'Reconquête' == 'reconquete'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def _line_map(text: str) -> dict[tuple, int]:
    """Map each YAML path (('brokers', 3, 'contacts', 0, 'value')) to its 1-based line."""
    lines: dict[tuple, int] = {}

    def walk(node, path):
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    root = yaml.compose(text, Loader=_LOADER)
    if root is not None:
        walk(root, ())
    return lines


def _known_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names valid where an unknown key `loc` was found, for 'did you mean'."""
    fields = model.model_fields
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = fields.get(part)
        if info is None:
            return []
        inner = info.annotation
        for arg in getattr(inner, "__args__", ()) or (inner,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                fields = arg.model_fields
                break
        else:
            return []
    return list(fields)


def _describe(error: dict, model: type[BaseModel]) -> str:
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _known_fields(model, loc), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        contact_kinds = ("email", "postal", "address", "webform", "phone", "fax", "dpo")
        if not close and difflib.get_close_matches(key, contact_kinds, n=1, cutoff=0.7):
            hint = "; contacts go in 'contacts:' as {kind: email, value: ..., source: ...}"
        return f"'{key}' is not a known field{hint}"
    if error["type"] == "missing":
        return f"'{loc[-1]}' is required"
    if error["type"] == "literal_error":
        return f"{error['msg'].lower()} (got {error['input']!r})"
    message = error["msg"].removeprefix("Value error, ")
    return f"'{loc[-1]}': {message}"


def parse(text: str, name: str = "<registry>") -> RegistryFile:
    """Validate a registry text; every problem is reported with its line."""
    try:
        raw = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name} line {mark.line + 1}" if mark else name
        raise RegistryError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RegistryError([f"{name}: the top level must be a mapping with 'brokers:'"])
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise RegistryError(
            [
                f"{name}: schema_version {version} is not supported (this dsar reads {SCHEMA_VERSION})"
            ]
        )
    try:
        return RegistryFile.model_validate(raw)
    except ValidationError as exc:
        lines = _line_map(text)
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            slug = _slug_at(raw, loc)
            where = f"{name} line {line}" if line else name
            problems.append(
                f"{where}{f' ({slug})' if slug else ''}: {_describe(error, RegistryFile)}"
            )
        raise RegistryError(problems) from None


def _slug_at(raw: dict, loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] in ("brokers", "campaigns") and isinstance(loc[1], int):
        try:
            item = raw[loc[0]][loc[1]]
            return item.get("slug") or item.get("id") if isinstance(item, dict) else None
        except (IndexError, KeyError, TypeError):
            return None
    return None


def read(path: Path) -> RegistryFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError([f"{path}: no such registry file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError([f"{path}: cannot read it: {exc}"]) from None
    return parse(text, str(path))


@dataclass
class Registry:
    """The merged view: shipped registry, then the user's file, then --registry files.

    A later file's entry replaces an earlier one with the same slug, whole.
    """

    brokers: dict[str, Broker] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Registry:
        registry = cls()
        problems: list[str] = []
        for path in paths:
            try:
                registry.add(read(path), str(path))
            except RegistryError as exc:
                problems.extend(exc.problems)
        if problems:
            raise RegistryError(problems)
        return registry

    def add(self, file: RegistryFile, origin: str) -> None:
        for broker in file.brokers:
            self.brokers[broker.slug] = broker
            self.origin[broker.slug] = origin
        for campaign in file.campaigns:
            self.campaigns[campaign.id] = campaign

    def __iter__(self) -> Iterator[Broker]:
        return iter(sorted(self.brokers.values(), key=lambda b: (b.kind, fold(b.name))))

    def __len__(self) -> int:
        return len(self.brokers)

    def get(self, slug_or_name: str) -> Broker:
        """By slug, else by a name or alias typed any way; unknown gets close matches."""
        if slug_or_name in self.brokers:
            return self.brokers[slug_or_name]
        wanted = fold(slug_or_name)
        found = [
            b
            for b in self.brokers.values()
            if wanted in (fold(b.slug), fold(b.name), *map(fold, b.aliases))
        ]
        if len(found) == 1:
            return found[0]
        if found:
            slugs = ", ".join(b.slug for b in found[:8])
            raise DsarError(f"'{slug_or_name}' names several entries: {slugs}; give the slug")
        names = {fold(b.slug): b.slug for b in self.brokers.values()}
        for b in self.brokers.values():
            for label in (b.name, *b.aliases):
                names.setdefault(fold(label), b.slug)
        close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6)
        suggestions = list(dict.fromkeys(names[c] for c in close))
        suggestions += [s for s in self.search(slug_or_name) if s not in suggestions][:3]
        raise UnknownBroker(slug_or_name, suggestions[:5])

    def search(self, text: str) -> list[str]:
        """Slugs whose slug, name or alias contains the text, accents and case ignored."""
        wanted = fold(text)
        if not wanted:
            return []
        return [
            b.slug
            for b in self
            if any(wanted in fold(label) for label in (b.slug, b.name, *b.aliases))
        ]

    def subsidiaries(self, slug: str) -> list[Broker]:
        return [b for b in self if b.parent == slug]

    def parties_using(self, broker_slug: str) -> list[Broker]:
        return [b for b in self if b.kind == "party" and broker_slug in b.brokers_used]


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    slug: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.slug}: {self.message}"


def check(registry: Registry, today: date | None = None) -> list[Finding]:
    """Cross-entry checks the schema cannot make, and the health of each record."""
    today = today or clock.today()
    findings: list[Finding] = []
    labels: dict[str, str] = {}
    names: dict[str, str] = {}
    for broker in registry.brokers.values():
        for label in dict.fromkeys(map(fold, broker.aliases)):
            other = labels.setdefault(label, broker.slug)
            if other != broker.slug:
                findings.append(Finding("error", broker.slug, f"alias '{label}' is also {other}'s"))
        other = names.setdefault(fold(broker.name), broker.slug)
        if other != broker.slug:
            # real groups register one legal name per country: ambiguous by name, fine by slug
            findings.append(
                Finding("warning", broker.slug, f"has the same name as {other}: use the slug")
            )
    for broker in registry.brokers.values():
        if fold(broker.name) in labels and labels[fold(broker.name)] != broker.slug:
            other = labels[fold(broker.name)]
            findings.append(Finding("error", broker.slug, f"name is {other}'s alias"))
        for ref in filter(None, (broker.parent, *broker.brokers_used)):
            if ref not in registry.brokers:
                findings.append(Finding("error", broker.slug, f"refers to unknown slug '{ref}'"))
        if not broker.sources:
            findings.append(
                Finding("error", broker.slug, "has no sources: say where facts come from")
            )
        findings.extend(_health(broker, today))
    for campaign in registry.campaigns.values():
        for ref in filter(None, (campaign.party, campaign.broker)):
            if ref not in registry.brokers:
                findings.append(Finding("error", campaign.id, f"refers to unknown slug '{ref}'"))
    return findings


def _health(broker: Broker, today: date) -> Iterator[Finding]:
    dated = [s.date for s in broker.sources if s.date]
    if broker.sources and dated and max(int(d[:4]) for d in dated) < today.year - STALE_AFTER_YEARS:
        yield Finding(
            "warning", broker.slug, f"newest source is from {max(dated)[:4]}: check it is current"
        )
    if broker.checked is None:
        yield Finding("warning", broker.slug, "never checked: add 'checked: YYYY-MM-DD'")
    elif (today - broker.checked).days > 365 * STALE_AFTER_YEARS:
        yield Finding("warning", broker.slug, f"last checked {broker.checked}: check it again")
    if broker.kind != "authority" and not (broker.email or broker.postal_address or broker.webform):
        yield Finding("warning", broker.slug, "no e-mail, postal address or web form known")


def json_schema() -> dict:
    schema = RegistryFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dsar registry (brokers.yaml)"
    return schema
