"""The domain: who the registry knows, who asks, what they received, and the letter."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import fields
from .errors import InputError
from .i18n import _, language
from .vocabulary import Channel, ContactKind, Medium, Quality, Right
from .vocabulary import RecipientKind as Kind


def _checked(parser, value, name):
    # pydantic reports ValueError text; InputError carries the same hint
    try:
        return parser(value, name)
    except InputError as exc:
        raise ValueError(exc.reason) from None


# fields whose text may run over several lines; every other one is a single line
_MULTILINE = {"description", "notes", "description_fr", "notes_fr", "value", "volume"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control(cls, v, info):
        """Registry text reaches e-mail headers, file names and terminals: no CR/LF where
        one line is meant, no control character (ANSI, OSC 8) anywhere."""
        for text in v if isinstance(v, tuple) else (v,):
            if isinstance(text, str):
                multiline = info.field_name in _MULTILINE
                _checked(
                    lambda x, n, m=multiline: fields.text(x, n, multiline=m, limit=1_000_000),
                    text,
                    info.field_name,
                )
        return v


class Source(_Strict):
    """Where a fact was published: a URL, or a publication and date, or both."""

    publication: str | None = Field(None, description="outlet or document, e.g. 'Tech&Co (BFM)'")
    date: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    url: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return None if v is None else _checked(fields.partial_date, str(v), "date")

    @field_validator("url")
    @classmethod
    def _url(cls, v):
        return None if v is None else _checked(fields.url, v, "url")

    def label(self) -> str:
        parts = [p for p in (self.publication, self.date, self.url) if p]
        return ", ".join(parts)


class Contact(_Strict):
    """One way to reach an organisation, with where that contact was found."""

    kind: ContactKind
    value: str = Field(..., min_length=1, description="address, e-mail, URL or number")
    source: str | None = Field(None, description="where this contact was published")

    @field_validator("value")
    @classmethod
    def _value(cls, v, info):
        kind = info.data.get("kind")
        if kind in ("email", "dpo-email"):
            return _checked(fields.email, v, "value")
        if kind == "webform":
            return _checked(fields.url, v, "value")
        if kind in ("phone", "fax"):
            return _checked(lambda x, n: fields.phone(x, n, region=None), v, "value")
        return v


class Broker(_Strict):
    """An organisation a request can be sent to: broker, party, authority, company."""

    slug: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Kind
    name: str = Field(..., min_length=1)
    aliases: tuple[str, ...] = ()
    description: str | None = None
    web: str | None = None
    privacy_policy: str | None = None
    contacts: tuple[Contact, ...] = ()
    siren: str | None = None
    country: str | None = Field(None, pattern=r"^[a-z]{2}$")
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2}$",
        description="language the recipient wants requests in (ISO 639-1); dsar writes fr or en",
    )
    medium: Medium | None = Field(None, description="how the recipient asks to receive requests")
    parent: str | None = Field(None, description="slug of the parent company")
    brokers_used: tuple[str, ...] = Field((), description="for a party: slugs of brokers it used")
    sources: tuple[Source, ...] = ()
    quality: Quality
    checked: date | None = Field(None, description="when these facts were last checked")
    notes: str | None = None
    # the registry speaks English; an entry may carry its texts in French too
    description_fr: str | None = Field(None, description="the description in French")
    notes_fr: str | None = Field(None, description="the notes in French")
    article: str | None = Field(
        None,
        pattern=r"^(le|la|les|l’|l')$",
        description="the French article a sentence puts before the name: 'le' for "
        "Rassemblement national ('pour le Rassemblement national'); none when the name "
        "carries its own or takes none",
    )

    @field_validator("web", "privacy_policy")
    @classmethod
    def _url(cls, v, info):
        return None if v is None else _checked(fields.url, v, info.field_name)

    @field_validator("siren", mode="before")
    @classmethod
    def _siren(cls, v):
        return None if v is None else _checked(fields.siren, str(v), "siren")

    def contact(self, kind: str) -> Contact | None:
        return next((c for c in self.contacts if c.kind == kind), None)

    @property
    def named(self) -> str:
        """The name as a French sentence says it: 'le Rassemblement national'."""
        if not self.article:
            return self.name
        joiner = "" if self.article in ("l’", "l'") else " "
        return f"{self.article}{joiner}{self.name}"

    @property
    def email(self) -> str | None:
        found = self.contact("dpo-email") or self.contact("email")
        return found.value if found else None

    @property
    def postal_address(self) -> str | None:
        found = self.contact("postal")
        return found.value if found else None

    @property
    def webform(self) -> str | None:
        found = self.contact("webform")
        return found.value if found else None


class ContactAddition(_Strict):
    """A user's registry entry with only `slug` and `contacts`: the contacts are added to
    the entry of that slug loaded before it, which is kept otherwise as it is."""

    slug: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]*$")
    contacts: tuple[Contact, ...] = Field(..., min_length=1)


class Coalition(_Strict):
    """An electoral alliance of parties (NFP, Ensemble): a message signed with its name
    does not say which of its parties or candidates it was sent for."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(..., min_length=1)
    aliases: tuple[str, ...] = ()
    date: str = Field(..., description="YYYY or YYYY-MM: the election it was formed for")
    description: str | None = None
    members: tuple[str, ...] = Field((), description="slugs of member parties in the registry")
    other_members: tuple[str, ...] = Field((), description="members the registry does not hold")
    sources: tuple[Source, ...] = Field(..., min_length=1)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return _checked(fields.partial_date, str(v), "date")

    @property
    def member_names(self) -> tuple[str, ...]:
        return self.members + self.other_members


class Campaign(_Strict):
    """A documented political campaign: who sent it, through which broker, how."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]*$")
    date: str = Field(..., description="YYYY, YYYY-MM or YYYY-MM-DD")
    party: str | None = Field(None, description="slug of the party that ordered it")
    candidates: tuple[str, ...] = ()
    broker: str | None = Field(None, description="slug of the broker; empty when unknown")
    channel: tuple[Channel, ...] = ()
    volume: str | None = None
    description: str | None = None
    sources: tuple[Source, ...] = Field(..., min_length=1)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return _checked(fields.partial_date, str(v), "date")


@dataclass(frozen=True)
class Requester:
    """The person the data is about. Phone is E.164, e-mail normalised."""

    name: str
    address: str = ""
    phone: str | None = None
    email: str | None = None

    @property
    def phone_forms(self) -> dict[str, str] | None:
        return fields.phone_forms(self.phone) if self.phone else None

    @property
    def identity(self) -> str:
        """Who the person is for a request's reference: the number, else the e-mail, else
        the name (a corrected spelling is the same person)."""
        return self.phone or self.email or self.name

    @property
    def city(self) -> str | None:
        return town_of(self.address)


def town_of(address: str) -> str | None:
    """The town from a French address's last '75011 Paris' line, for 'Paris, le ...'."""
    for line in reversed(address.splitlines()):
        match = re.match(r"^\s*\d{5}\s+(.+?)\s*(cedex.*)?$", line, re.IGNORECASE)
        if match:
            return match.group(1).title() if match.group(1).isupper() else match.group(1)
    return None


@dataclass(frozen=True)
class Evidence:
    """The message that prompted the request: the 'what happened' paragraph."""

    channel: Channel = "sms"
    received_on: date | None = None
    received_at: time | None = None
    sender: str = ""
    text: str = ""

    @property
    def offers_stop(self) -> bool:
        return "stop" in self.text.lower()

    @property
    def sender_names_someone(self) -> bool:
        """The sender shown is a name (« Reconquête »), not a number (« 36111 », a phone):
        only a name may stand for the party in a mandate (« any party » is too vague)."""
        return bool(self.sender) and not re.fullmatch(r"[\d\s+().-]+", self.sender)


@dataclass(frozen=True)
class Association:
    """An association acting for its members under mandate."""

    name: str
    address: str
    email: str
    representative: str
    capacity: str = ""  # the signatory's capacity: "président", "trésorière"...
    rna: str | None = None  # répertoire national des associations, W + 9 digits
    siren: str | None = None
    # Art. 80(1) GDPR and Loi Informatique et Libertés art. 37: declared five years or
    # more, with data protection in its statutory purpose; claimed only when said so
    qualifies_art80: bool = False
    declared_on: date | None = None
    # the association checked each member's identity before writing (association.yaml
    # says so): only then do the letters say it
    identity_checked: bool = False
    article: str = ""  # "l’" for "l’Association Halte aux SMS"; empty when the name has one
    purpose: str = ""  # its statutory purpose, printed where Art. 80(1) is claimed

    def art80_on(self, day: date) -> bool:
        """Art. 80(1) may be claimed in a letter signed on `day`: the association says it
        qualifies and was declared five years or more before (LIL art. 37)."""
        return self.not_art80_why(day) is None

    def not_art80_why(self, day: date) -> str | None:
        """Why Art. 80(1) may not be claimed on `day` (the one condition that fails, in
        words that say what to change), or None when it may."""
        if not self.qualifies_art80:
            return _("association.yaml does not say qualifies_art80: true")
        if not self.declared_on:
            return _("association.yaml gives no declared_on date")
        if not self.purpose_protects_data:
            return _(
                "the purpose in association.yaml does not name the protection of privacy or "
                "of personal data (LIL art. 37)"
            )
        try:
            five_years = self.declared_on.replace(year=self.declared_on.year + 5)
        except ValueError:  # declared on 29 February
            five_years = date(self.declared_on.year + 5, 3, 1)
        if self.declared_on > day:  # a date to come: a typing error, said as such
            return _("association.yaml's declared_on, {day}, is after this day: check it").format(
                day=fields.long_date(self.declared_on, language())
            )
        if day < five_years:
            return _("the association was declared less than five years before, on {day}").format(
                day=fields.long_date(self.declared_on, language())
            )
        return None

    @property
    def purpose_protects_data(self) -> bool:
        """The statutory purpose names the protection of privacy or of personal data, as
        LIL art. 37 IV 1° asks of an association claiming Art. 80(1)."""
        words = fields.fold(self.purpose)
        return any(
            needle in words
            for needle in ("vie privee", "donnees personnelles", "donnees a caractere personnel",
                           "privacy", "personal data")
        )  # fmt: skip

    @property
    def city(self) -> str | None:
        return town_of(self.address)

    @property
    def named(self) -> str:
        """The name with its article, as a French sentence says it."""
        return f"{self.article}{self.name}"


@dataclass(frozen=True)
class Mandate:
    association: Association
    signed_on: date | None  # None until the signing date is recorded: no letter guesses it
    reference: str
    on_request: bool = False  # no signed scan to enclose: the letter offers it on request
    art80: bool = False  # Art. 80(1) claimed: the member's signed form gave it, and it qualifies
    # the association signs and sends the letter: a complaint under an ordinary mandate
    # is the member's own (only Art. 80(1) lets the association represent them)
    sender: bool = True
    # a next request may say the form's scope covers its recipient: dsar wrote the form,
    # with the chain's line, and the answer that named the recipient came from an
    # organisation the form names (one step: « que ces organismes désigneront »)
    covers_recipient: bool | str = False  # "chain", "onward" (follow.ONWARD's line), or not

    def offered(self) -> Mandate:
        """This mandate in a letter that does not enclose the signed scan (a reminder, a
        reply, the next request): offered on request, never said joined."""
        return replace(self, on_request=True)


@dataclass(frozen=True)
class Cause:
    """The answer that named the recipient of a next request (dsar follow): who said it,
    on what day, to which request, in what words. The words are the answerer's,
    untrusted: bounded and shown as text, never as markup."""

    answered: str  # the reference of the request that was answered
    said_by: str  # the organisation that answered
    on: date
    kind: str  # source-named, processor, recipient-named
    organisation: str  # the organisation named, as the answer gave it
    quote: str = ""
    sender: str | None = None  # the answer's e-mail address, when it came by e-mail
    asked: str = "access"  # the right of the request answered (the letter says which)
    quote_lang: str = ""  # "fr" when the quote is French (an English letter says so)
    # the quote is the answer's own words (the inbox read them from the reply); a note
    # the person typed (dsar answer --note) is their summary, never quoted as the answer's
    verbatim: bool = False


@dataclass(frozen=True)
class Request:
    """Everything a letter is made from; building it does no I/O."""

    reference: str
    broker: Broker
    right: Right
    lang: str
    requester: Requester
    evidence: Evidence
    letter_date: date
    place: str | None = None
    lrar: bool = False
    to_email: str | None = None
    to_address: str | None = None
    mandate: Mandate | None = None
    campaign_party: Broker | None = None
    reply_subaddress: bool = False  # answers to local+dsar-xxxx-xxxx@domain (dsar inbox)
    cause: Cause | None = None  # a next request: the answer that named this recipient

    @property
    def recipient_email(self) -> str | None:
        return self.to_email or self.broker.email

    @property
    def recipient_address(self) -> str | None:
        return self.to_address or self.broker.postal_address

    @property
    def reply_to(self) -> str | None:
        """Where answers go: the reply address, or its sub-address for this request, so
        that an answer finds its request by itself (as FOI platforms give each request
        its own address)."""
        email = self.reply_email
        if not (email and self.reply_subaddress):
            return email
        local, _, domain = email.rpartition("@")
        return f"{local}+{self.reference.lower()}@{domain}"

    @property
    def reply_email(self) -> str | None:
        return self.mandate.association.email if self.mandate else self.requester.email

    @property
    def printable(self) -> bool:
        """A letter that may be printed and posted: its envelope window shows the
        recipient's postal address. Without one the PDF is a draft, marked so on the
        page, and never goes into a print volume (batch) or a label sheet."""
        return bool(self.recipient_address)


@dataclass(frozen=True)
class Letter:
    """A rendered request: the same words serve the PDF, the e-mail and the terminal."""

    request: Request
    subject: str
    body_html: str  # the per-person core (one page for a request)
    body_text: str  # core and annex: the e-mail carries the whole letter
    gaps: tuple[str, ...] = field(default=())
    annex_html: str = ""  # the legal annex (first requests): same for every member of a batch
    # what the templates saw of the request (letters.context): the page around the body
    # shows the same, and render/ needs no import of letters to lay it out
    context: dict = field(default_factory=dict, compare=False, repr=False)


def reference_for(*parts: str) -> str:
    """A short, stable reference: the same request gives the same reference again."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
    code = "".join(alphabet[b % len(alphabet)] for b in digest[:8])
    return f"DSAR-{code[:4]}-{code[4:]}"
