"""brokers.yaml: load, validate with line numbers, merge the user's overlays, search, check."""

from __future__ import annotations

import difflib
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Tag, ValidationError

from . import clock, fields, files, i18n, safety
from .errors import AmbiguousBroker, InputError, RegistryError, UnknownBroker
from .fields import fold
from .i18n import N_, _
from .models import Broker, Campaign, Coalition, Contact, ContactAddition

SCHEMA_VERSION = 1
# libyaml's loader parses an imported 3,000-entry registry in 2.4 s instead of 8.4 s
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STALE_AFTER_YEARS = 3
MAX_REGISTRY_CHARS = 64 * 1024 * 1024  # the whole datenanfragen import is ~5 MB


def _entry_shape(value) -> str:
    """An entry with only slug and contacts adds contacts; any other is a whole entry."""
    keys = set(value) if isinstance(value, dict) else set(type(value).model_fields)
    return "contacts-only" if keys == {"slug", "contacts"} else "entry"


_TAGS = ("entry", "contacts-only")
RegistryEntry = Annotated[
    Annotated[Broker, Tag("entry")] | Annotated[ContactAddition, Tag("contacts-only")],
    Discriminator(_entry_shape),
]


class RegistryFile(BaseModel):
    """The top level of a registry file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    brokers: tuple[RegistryEntry, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    coalitions: tuple[Coalition, ...] = ()


# a company's legal form, said or not: "Jeux Concours SAS" is "Jeux Concours"
LEGAL_FORMS = frozenset({
    "sa", "sas", "sasu", "sarl", "eurl", "snc", "sci", "scop", "scp", "gie", "sem", "selarl",
    "sca", "gmbh", "ag", "ltd", "llc", "inc", "plc", "bv", "nv", "spa", "srl", "sl",
})  # fmt: skip


def bare_name(text: str) -> str:
    """A name as compared (folded, its legal form dropped, at either end): 'SelfContact
    SAS' == 'selfcontact'. Nothing is left of a name that is only a legal form."""
    words = fold(text).split()
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    while words and words[0] in LEGAL_FORMS:
        words.pop(0)
    return " ".join(words)


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
        found = _first_model(info.annotation)
        if found is None:
            return []
        fields = found.model_fields
    return list(fields)


def _first_model(annotation) -> type[BaseModel] | None:
    """The first model inside tuple[...], Annotated[...] or a union (a whole entry first)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _first_model(arg):
            return found
    return None


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


# `dsar serve` builds an App for each page, and each App reads the registries: a text
# seen before (the shipped registry, every time) is not parsed and validated again. The
# models are frozen; a failed parse raises and is not kept.
@functools.lru_cache(maxsize=8)
def parse(text: str, name: str = "<registry>") -> RegistryFile:
    """Validate a registry text; every problem is reported with its line."""
    try:
        raw = safety.load_yaml(text, name, max_bytes=MAX_REGISTRY_CHARS)
    except safety.YamlRefused as exc:
        raise RegistryError([str(exc)]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RegistryError([f"{name}: the top level must be a mapping with 'brokers:'"])
    try:
        safety.version(raw, "schema_version", name, SCHEMA_VERSION)
    except safety.YamlRefused as exc:
        raise RegistryError([str(exc)]) from None
    try:
        return RegistryFile.model_validate(raw)
    except ValidationError as exc:
        lines = _line_map(text)
        problems = []
        for error in exc.errors():
            # the entry's shape is not part of where the problem is in the file
            loc = tuple(p for i, p in enumerate(error["loc"]) if not (i == 2 and p in _TAGS))
            error = {**error, "loc": loc}
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            slug = _slug_at(raw, loc)
            where = f"{name} line {line}" if line else name
            problems.append(
                f"{where}{f' ({slug})' if slug else ''}: {_describe(error, RegistryFile)}"
            )
        raise RegistryError(problems) from None


def _slug_at(raw: dict, loc: tuple) -> str | None:
    if (
        len(loc) >= 2
        and loc[0] in ("brokers", "campaigns", "coalitions")
        and isinstance(loc[1], int)
    ):
        try:
            item = raw[loc[0]][loc[1]]
            return item.get("slug") or item.get("id") if isinstance(item, dict) else None
        except (IndexError, KeyError, TypeError):
            return None
    return None


def read(path: Path) -> RegistryFile:
    try:
        data = files.read_limited(path, MAX_REGISTRY_CHARS)
        if data is None:
            raise RegistryError(
                [
                    _("{path}: over {size} MB; is it a registry?").format(
                        path=path, size=MAX_REGISTRY_CHARS // (1024 * 1024)
                    )
                ]
            )
        text = data.decode("utf-8")
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
    coalitions: dict[str, Coalition] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    # contacts the user added to an entry (contacts-only entries): theirs to vouch for
    added: dict[str, tuple[Contact, ...]] = field(default_factory=dict)

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
        unknown = []
        for broker in file.brokers:
            if isinstance(broker, ContactAddition):
                if broker.slug not in self.brokers:
                    unknown.append(
                        f"{origin}: contacts for '{broker.slug}', which no registry loaded "
                        "before it has: give a whole entry (kind, name, sources, quality)"
                    )
                    continue
                self.brokers[broker.slug] = with_contacts(
                    self.brokers[broker.slug], broker.contacts
                )
                self.origin[broker.slug] += f" + contacts from {origin}"
                self.added[broker.slug] = (*broker.contacts, *self.added.get(broker.slug, ()))
                continue
            self.brokers[broker.slug] = broker
            self.origin[broker.slug] = origin
            self.added.pop(broker.slug, None)
        for campaign in file.campaigns:
            self.campaigns[campaign.id] = campaign
        for coalition in file.coalitions:
            self.coalitions[coalition.id] = coalition
        if unknown:
            raise RegistryError(unknown)

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
            raise AmbiguousBroker(slug_or_name, [b.slug for b in found[:8]])
        names = {fold(b.slug): b.slug for b in self.brokers.values()}
        for b in self.brokers.values():
            for label in (b.name, *b.aliases):
                names.setdefault(fold(label), b.slug)
        # a typing slip, not a look-alike name: « datacontact » is no « selfcontact »
        # (0.73), a company of its own a person may write to by mistake
        close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.8)
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


# ---------------------------------------------------------------- in the person's language

# in English the registry's own words (a person types them in a YAML file)
QUALITY_NAMES = {
    "verified": N_("verified"),
    "partial": N_("partial"),
    "unverified": N_("unverified"),
    "imported": N_("imported"),
}
KIND_NAMES = {
    "broker": N_("broker"),
    "party": N_("party"),
    "authority": N_("authority"),
    "processor": N_("processor"),
    "sender": N_("sender"),
    "company": N_("company"),
}


quality_name = functools.partial(i18n.word, QUALITY_NAMES)
kind_name = functools.partial(i18n.word, KIND_NAMES)


def said(broker: Broker, name: str) -> str | None:
    """An entry's text (`description`, `notes`) in the person's language when the
    registry has it, else as written with its language named: the registry's own words
    are English, and a French reader is told so rather than left to guess."""
    french = getattr(broker, f"{name}_fr")
    english = getattr(broker, name)
    if i18n.language() == "fr":
        if french or not english:
            return french
        return _("(in English) {text}").format(text=english)
    if english or not french:
        return english
    return _("(in French) {text}").format(text=french)


def with_contacts(broker: Broker, contacts: Iterable[Contact]) -> Broker:
    """The entry with the user's contacts first (they are the ones used), duplicates once."""
    merged = tuple(dict.fromkeys((*contacts, *broker.contacts)))
    return broker.model_copy(update={"contacts": merged})


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    slug: str
    message: str

    def __str__(self) -> str:
        said = (
            _("error: {slug}: {message}")
            if self.level == "error"
            else _("warning: {slug}: {message}")
        )
        return said.format(slug=self.slug, message=self.message)


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
                findings.append(
                    Finding(
                        "error",
                        broker.slug,
                        _("alias '{label}' is also {other}'s").format(label=label, other=other),
                    )
                )
        other = names.setdefault(fold(broker.name), broker.slug)
        if other != broker.slug:
            # real groups register one legal name per country: ambiguous by name, fine by slug
            findings.append(
                Finding(
                    "warning",
                    broker.slug,
                    _("has the same name as {other}: use the slug").format(other=other),
                )
            )
    for broker in registry.brokers.values():
        if fold(broker.name) in labels and labels[fold(broker.name)] != broker.slug:
            other = labels[fold(broker.name)]
            findings.append(
                Finding("error", broker.slug, _("name is {other}'s alias").format(other=other))
            )
        for ref in filter(None, (broker.parent, *broker.brokers_used)):
            if ref not in registry.brokers:
                findings.append(
                    Finding(
                        "error", broker.slug, _("refers to unknown slug '{ref}'").format(ref=ref)
                    )
                )
        if not broker.sources:
            findings.append(
                Finding("error", broker.slug, _("has no sources: say where facts come from"))
            )
        findings.extend(_health(broker, today))
    refs = [(c.id, filter(None, (c.party, c.broker))) for c in registry.campaigns.values()]
    refs += [(c.id, c.members) for c in registry.coalitions.values()]
    for where, slugs in refs:
        for ref in slugs:
            if ref not in registry.brokers:
                findings.append(
                    Finding("error", where, _("refers to unknown slug '{ref}'").format(ref=ref))
                )
    return findings


def _health(broker: Broker, today: date) -> Iterator[Finding]:
    dated = [s.date for s in broker.sources if s.date]
    if broker.sources and dated and max(int(d[:4]) for d in dated) < today.year - STALE_AFTER_YEARS:
        yield Finding(
            "warning",
            broker.slug,
            _("newest source is from {year}: check it is current").format(year=max(dated)[:4]),
        )
    if broker.checked is None:
        yield Finding("warning", broker.slug, _("never checked: add 'checked: YYYY-MM-DD'"))
    elif (today - broker.checked).days > 365 * STALE_AFTER_YEARS:
        yield Finding(
            "warning",
            broker.slug,
            _("last checked {date}: check it again").format(date=broker.checked),
        )
    if broker.kind != "authority" and not (broker.email or broker.postal_address or broker.webform):
        yield Finding("warning", broker.slug, _("no e-mail, postal address or web form known"))


def json_schema() -> dict:
    schema = RegistryFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dsar registry (brokers.yaml)"
    return schema


def contact(kind: str, value: str, source: str) -> Contact:
    """One contact a person supplies, validated like the registry's own."""
    source = fields.text(source, "source", limit=300)
    if not source:
        raise InputError("source_needed", field="source")
    if kind == "postal":
        value = fields.text(value.replace("\\n", "\n"), kind, multiline=True, limit=500)
    try:
        return Contact(kind=kind, value=value, source=source)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InputError(kind, reason) from None


def add_contacts(user_file: Path, below: list[Path], slug: str, contacts: list[Contact]) -> Broker:
    """Add contacts to an entry in the user's registry file, without rewriting the entry.

    The file gets a contacts-only entry for the slug (or the user's own entry of that slug
    gets the contacts); comments and layout are kept. `below` are the registries loaded
    before the user's file. Nothing is written unless the result loads; returns the
    merged entry as dsar will now use it.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    from .files import write_private

    merged = Registry.load(below)
    old_text = user_file.read_text(encoding="utf-8") if user_file.exists() else ""
    if old_text:
        merged.add(parse(old_text, str(user_file)), str(user_file))  # a broken file: fix it first
    target = merged.get(slug).slug
    editor = YAML()  # round trip: the user's comments and order survive
    editor.indent(mapping=2, sequence=4, offset=2)
    editor.width = 4096
    document = editor.load(old_text) if old_text.strip() else None
    if document is None:
        document = CommentedMap()
        document.yaml_set_start_comment(
            "Your own registry entries, on top of the shipped one (dsar brokers check)."
        )
    if not isinstance(document, dict):
        raise RegistryError([f"{user_file}: the top level must be a mapping with 'brokers:'"])
    entries = document.setdefault("brokers", CommentedSeq())
    if entries is None:
        entries = document["brokers"] = CommentedSeq()
    mine = next((e for e in entries if isinstance(e, dict) and e.get("slug") == target), None)
    if mine is None:
        mine = CommentedMap(slug=target, contacts=CommentedSeq())
        entries.append(mine)
    if mine.get("contacts") is None:
        mine["contacts"] = CommentedSeq()
    if isinstance(mine["contacts"], CommentedSeq):
        mine["contacts"].fa.set_block_style()  # a multi-line address cannot go in [...]
    for item in contacts:
        value = LiteralScalarString(item.value) if "\n" in item.value else item.value
        mine["contacts"].append(CommentedMap(kind=item.kind, value=value, source=item.source))
    out = io.StringIO()
    editor.dump(document, out)
    new_text = out.getvalue()
    result = Registry.load(below)
    result.add(parse(new_text, str(user_file)), str(user_file))  # never write what won't load
    write_private(user_file, new_text, overwrite=True)
    return result.brokers[target]
