"""What a person gave -> a Request, and a rendered Letter -> files on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

from . import fields
from .errors import InputError
from .files import check_free, publish, stage_private
from .i18n import N_, _
from .identify import coalitions_named, parties_named
from .models import Broker, Contact, Evidence, Letter, Mandate, Request, Requester, reference_for
from .registry import Registry, quality_name, said
from .render import mail
from .vocabulary import CHANNELS, FORMATS, RIGHTS, output_name

# the State's directory of French companies and associations: a link for the person,
# never fetched by dsar
COMPANY_DIRECTORY = "https://annuaire-entreprises.data.gouv.fr/rechercher?terme="


def parse_formats(value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise InputError(
            "format",
            _("'{value}': use {choices}, comma-separated").format(
                value=value, choices=", ".join(FORMATS)
            ),
        )
    return chosen


def evidence(
    channel: str = "sms",
    received_on: str | None = None,
    received_at: str | None = None,
    sender: str | None = None,
    text: str | None = None,
) -> Evidence:
    """The message received, validated field by field."""
    return Evidence(
        channel=fields.choice(channel, CHANNELS, "channel"),
        received_on=fields.iso_date(received_on, "sms_date") if received_on else None,
        received_at=fields.clock_time(received_at, "sms_time") if received_at else None,
        sender=fields.text(sender or "", "sms_sender", limit=200),
        text=fields.text(text or "", "sms_text", multiline=True),
    )


def party_behind(registry: Registry, evidence: Evidence) -> list[Broker]:
    """Parties the message names, by identify's rules: what a letter says 'on behalf
    of' is exactly what dsar identify finds in the same message."""
    named = parties_named(registry, evidence.text, evidence.sender)
    return [registry.brokers[slug] for slug in named]


def recipient_address(value: str) -> str:
    """A postal address typed on one line with \\n between lines, or on several."""
    return fields.text(value.replace("\\n", "\n"), "to_address", multiline=True, limit=500)


def build_request(
    registry: Registry,
    broker: str | Broker,
    requester: Requester,
    evidence: Evidence,
    *,
    right: str = "both",
    lang: str = "fr",
    letter_date: date,
    place: str | None = None,
    lrar: bool = False,
    to_email: str | None = None,
    to_address: str | None = None,
    mandate: Mandate | None = None,
    party_confirmed: str | None = None,
    reply_subaddress: bool = False,
) -> Request:
    """`party_confirmed`: the party the person is sure the message was sent for; only
    that one is named in a letter to a broker (a guess from the message is not).
    `broker`: a slug, or an organisation the registry lacks (dsar follow --to-name)."""
    target = broker if isinstance(broker, Broker) else registry.get(broker)
    fields.choice(right, RIGHTS, "right")
    party = confirmed_party(registry, party_confirmed) if party_confirmed else None
    identity = requester.identity
    return Request(
        # under a mandate the same member, broker and right is the same request whatever the
        # day a batch is (re)run: a rerun must find it in the journal, not send it again
        reference=reference_for(
            identity,
            target.slug,
            right,
            *((mandate.reference,) if mandate else (letter_date.isoformat(), "")),
            # a letter in English is another letter: its own reference, its own files
            *((lang,) if lang != "fr" else ()),
        ),
        broker=target,
        right=right,
        lang=fields.language(lang),
        requester=requester,
        evidence=evidence,
        letter_date=letter_date,
        place=place,
        lrar=lrar,
        to_email=fields.email(to_email, "to-email") if to_email else None,
        to_address=recipient_address(to_address) if to_address else None,
        mandate=mandate,
        campaign_party=None if target.kind == "party" else party,
        reply_subaddress=reply_subaddress,
    )


def confirmed_party(registry: Registry, slug: str) -> Broker:
    party = registry.get(slug)
    if party.kind != "party":
        raise InputError(
            "party_confirmed",
            _("{name} is not a party: give the party the message was sent for").format(
                name=party.name
            ),
        )
    return party


def sender_mismatch(registry: Registry, request: Request) -> list[str]:
    """A letter to a party that the message does not name: said before it is sent, as
    the party's first answer would be "not ours"."""
    target, evidence = request.broker, request.evidence
    if target.kind != "party":
        return []
    parties = parties_named(registry, evidence.text, evidence.sender)
    coalitions = [
        registry.coalitions[c] for c in coalitions_named(registry, evidence.text, evidence.sender)
    ]
    if target.slug in parties or any(target.slug in c.members for c in coalitions):
        return []
    named = [registry.brokers[slug].name for slug in parties]
    named += [_("the alliance {name}").format(name=c.name) for c in coalitions]
    if not named:
        return []
    return [
        _(
            "The message names {named}, not {party}: check that it was sent for {party} "
            "before sending this letter (the letter asks it to say on whose behalf if not)."
        ).format(named=_(" and ").join(named), party=target.name)
    ]


def party_advice(registry: Registry, request: Request) -> list[str]:
    """The party the message names, left out of a letter to a broker unless confirmed."""
    if request.broker.kind == "party" or request.campaign_party:
        return []
    named = party_behind(registry, request.evidence)
    if not named:
        return []
    party = named[0]
    return [
        _(
            "The message names {party}; this letter to {name} does not say so (a guess is "
            "easily denied). If you are sure it was sent for {party}, --party-confirmed {slug} "
            "names it in the letter."
        ).format(party=party.name, name=request.broker.name, slug=party.slug)
    ]


def erasure_to_broker(request: Request) -> list[str]:
    """Erasure alone at a broker would destroy the evidence of where the number came
    from: the letter asks for the source first; `both` asks for everything."""
    if request.right != "erasure" or request.broker.kind not in ("broker", "processor"):
        return []
    return [
        _(
            "{name} is a broker: erased, your number leaves no trace of where it came from. "
            "This letter asks for the source and the recipients before the erasure, and for "
            "restriction until then; --right both also asks for the copy of your data and "
            "what was inferred (the usual choice)."
        ).format(name=request.broker.name)
    ]


@dataclass
class Written:
    files: dict[str, Path] = field(default_factory=dict)
    pdf: bytes | None = None
    eml: bytes | None = None
    page_html: str | None = None
    message_id: str | None = None
    dossier: bytes | None = None  # a complaint's dossier (App.complain)
    staged: dict[Path, Path] = field(default_factory=dict)  # final name -> staged file
    hashes: dict[str, str] = field(default_factory=dict)  # SHA-256 by format

    def publish(self) -> None:
        """Every staged file under its final name."""
        for path, staged in self.staged.items():
            publish(staged, path)
        self.staged.clear()

    def discard(self) -> None:
        for staged in self.staged.values():
            staged.unlink(missing_ok=True)
        self.staged.clear()


def output_paths(
    letter: Letter, out_dir: Path, formats: tuple[str, ...], kind: str = "request"
) -> dict[str, Path]:
    request = letter.request
    extension = {"pdf": "pdf", "email": "eml", "html": "html"}
    return {
        f: out_dir / output_name(request.reference, request.broker.slug, extension[f], kind)
        for f in formats
        if f in extension
    }


def write(
    letter: Letter,
    formats,
    out_dir: Path,
    *,
    force: bool,
    pdf_renderer=None,
    extra: dict | None = None,
    kind: str = "request",
    env=None,
) -> Written:
    """Render every requested output first, then stage the files under temporary names
    (Written.publish() names them, Written.discard() removes them): a failure leaves no
    partial file. `env` (the Jinja environment) is needed for html without pdf; pdf
    brings its own."""
    targets = output_paths(letter, out_dir, formats, kind)
    check_free(targets.values(), overwrite=force)
    result = render(letter, targets, pdf_renderer=pdf_renderer, extra=extra, env=env)
    stage(result, targets)
    return result


def render(
    letter: Letter, targets: dict[str, Path], *, pdf_renderer=None, extra=None, env=None
) -> Written:
    """Every output of `targets` (format -> path) made in memory; nothing written."""
    from .render import html as page

    result = Written()
    # a letter that says it encloses the original (a reminder) encloses it in fact
    enclosed_html = (extra or {}).get("enclosed_html")
    wants_pdf = "pdf" in targets or "email" in targets
    enclosed = pdf_renderer.render_html(enclosed_html) if enclosed_html and wants_pdf else None
    if "pdf" in targets or "html" in targets:
        result.page_html = page.whole(env or pdf_renderer.env, letter, extra)
    if "pdf" in targets:
        result.pdf = pdf_renderer.render_html(result.page_html)
        if enclosed:
            from .render import assemble

            result.pdf = assemble.join([("the letter", result.pdf), ("the original", enclosed)])
    if "email" in targets:
        attachments = {extra["enclosed_name"]: enclosed} if enclosed else {}
        if scan := (extra or {}).get("mandate_scan"):  # a member's signed mandate (follow)
            attachments[scan[0]] = scan[1]
        message = mail.build(letter, attachments or None)
        result.eml, result.message_id = mail.to_bytes(message), message["Message-ID"]
    return result


def stage(result: Written, targets: dict[str, Path]) -> None:
    """What render() made (and a complaint's dossier), staged under temporary names
    beside `targets` with their SHA-256; all of it or, on a failure, none."""
    try:
        for kind, path in targets.items():
            data = {
                "pdf": result.pdf,
                "email": result.eml,
                "html": result.page_html,
                "dossier": result.dossier,
            }[kind]
            data = data.encode("utf-8") if isinstance(data, str) else data
            result.staged[path] = stage_private(path, data)
            result.hashes[kind] = hashlib.sha256(data).hexdigest()
            result.files[kind] = path
    except BaseException:
        result.discard()
        raise


def write_recorded(
    letter: Letter,
    formats,
    out_dir: Path,
    journal,
    *,
    force: bool,
    pdf_renderer=None,
    extra: dict | None = None,
    kind: str = "request",
    env=None,
    follows: str | None = None,
    then: tuple | None = None,
    fresh: bool = False,
) -> Written:
    """Write a letter's files and record them: staged under temporary names, recorded
    in one transaction (which checks the redo is still of a draft), named only after
    the commit. When the journal refuses, the staged files are removed and the files
    already there (a sent letter's) are never touched."""
    # before writing: a file written over a sent letter's, then removed when the journal
    # refuses the redo, would take that evidence with it
    journal.check_recordable(letter.request.reference, ",".join(formats))
    written = write(
        letter,
        formats,
        out_dir,
        force=force,
        pdf_renderer=pdf_renderer,
        extra=extra,
        kind=kind,
        env=env,
    )
    record_staged(
        letter, written, formats, journal, kind=kind, follows=follows, then=then, fresh=fresh
    )
    return written


def record_staged(
    letter: Letter,
    written: Written,
    formats,
    journal,
    *,
    kind: str,
    follows: str | None = None,
    then: tuple | None = None,
    fresh: bool = False,
    publish: bool = True,
) -> None:
    """Record staged files in one transaction (with `then`, the lifecycle's step on the
    request followed), and name them only after the commit; when the journal refuses,
    the staged files are removed. `publish=False`: recorded only, inside the caller's
    transaction, which names or removes them (App._members_complaints)."""
    try:
        journal.record(
            letter.request,
            subject=letter.subject,
            body_text=letter.body_text,
            medium=formats,
            page_html=written.page_html,
            files=written.files,
            kind=kind,
            hashes=written.hashes,
            follows=follows,
            then=then,
            fresh=fresh,
        )
    except BaseException:
        written.discard()
        raise
    if publish:
        written.publish()


def recipient_wishes(request: Request, formats: tuple[str, ...]) -> list[str]:
    """What the registry says the recipient asks for, when this letter differs."""
    broker, lines = request.broker, []
    if broker.language and broker.language != request.lang:
        remedy = (
            _("--lang {lang} writes it so").format(lang=broker.language)
            if broker.language in fields.LANGUAGES
            else _("dsar writes fr or en; English is widely accepted")
        )
        lines.append(
            _(
                "{name} asks for requests in '{wanted}'; this letter is in '{lang}': {remedy}."
            ).format(name=broker.name, wanted=broker.language, lang=request.lang, remedy=remedy)
        )
    medium = {"email": "email", "letter": "pdf", "fax": "pdf", "webform": None}
    # plain text can go either way (pasted into a mail or printed): no hint then
    if broker.medium and "text" not in formats and medium[broker.medium] not in formats:
        where = f" ({broker.webform})" if broker.medium == "webform" and broker.webform else ""
        lines.append(
            _("{name} asks for requests by {medium}{where}.").format(
                name=broker.name, medium=_(MEDIUM_NAMES[broker.medium]), where=where
            )
        )
    return lines


MEDIUM_NAMES = {
    "email": N_("e-mail"),
    "letter": N_("letter"),
    "fax": N_("fax"),
    "webform": N_("web form"),
}


def is_french_organisation(broker: Broker) -> bool:
    return broker.kind != "authority" and broker.country in (None, "fr")


def company_search(broker: Broker) -> str:
    """The official directory's search for this name; its registered office is a valid
    address for a request."""
    return COMPANY_DIRECTORY + quote(broker.name, safe="")


def unverified_address(broker: Broker, vouched: Iterable[Contact] = ()) -> list[str]:
    """A registry address that only secondary sources give: to check before posting.
    `vouched`: contacts the person added (dsar brokers add-contact), theirs to vouch for."""
    contact = broker.contact("postal")
    if contact is None or broker.quality not in ("partial", "unverified") or contact in vouched:
        return []
    where = f" ({contact.source})" if contact.source else ""
    lines = [
        _(
            "{name}: the postal address comes from a source that is not verified{where}, "
            "quality {quality}: check it before posting the letter."
        ).format(name=broker.name, where=where, quality=quality_name(broker.quality))
    ]
    if is_french_organisation(broker):
        lines.append(
            "  "
            + _("The official company directory shows the registered office: {link}").format(
                link=company_search(broker)
            )
        )
    return lines


def address_to_check(
    request: Request, formats: tuple[str, ...], vouched: Iterable[Contact] = ()
) -> list[str]:
    """What to check before posting this letter (nothing when the person gave the address)."""
    if request.to_address or not {"pdf", "text"} & set(formats):
        return []
    return unverified_address(request.broker, vouched)


def gap_advice(letter: Letter, registry: Registry, asked: Asked = None) -> list[str]:
    """Tell the person what is missing, what the sources do give, and what to do.
    `asked`: the request already written to an organisation about this message, if any
    (follow.already_asked): such a party is not proposed again."""
    request = letter.request
    broker = request.broker
    if not letter.gaps:
        return []
    missing = {"email": _("e-mail address"), "postal": _("postal address")}
    lines = [
        _("{name}: no {missing} known in the registry (quality: {quality}).").format(
            name=broker.name,
            missing=_(" and no ").join(missing[g] for g in letter.gaps),
            quality=quality_name(broker.quality),
        )
    ]
    known = [_("web site {url}").format(url=broker.web) if broker.web else None]
    known += [
        _("privacy policy {url}").format(url=broker.privacy_policy)
        if broker.privacy_policy
        else None
    ]
    known += [_("web form {url}").format(url=broker.webform) if broker.webform else None]
    known = [k for k in known if k]
    if known:
        lines.append(
            "  "
            + _("The sources give: {known}. Look there for a contact.").format(
                known="; ".join(known)
            )
        )
    if notes := said(broker, "notes"):
        lines.append("  " + _("Note: {notes}").format(notes=notes))
    if "postal" in letter.gaps and is_french_organisation(broker):
        lines.append(
            "  "
            + _(
                "Its registered office (siège social) is a valid address for a request; find "
                "it in the official company directory: {link}"
            ).format(link=company_search(broker))
        )
    # add-contact takes only the registry's entries: for another, the options alone
    lines.append(
        "  "
        + (
            _(
                "Supply it with --to-email ADDRESS or --to-address 'LINE\\nLINE', or add it to "
                "your registry once: dsar brokers add-contact {slug} --email ADDRESS --source "
                "WHERE (or --postal 'LINE\\nLINE')."
            ).format(slug=broker.slug)
            if broker.slug in registry.brokers
            else _(
                "Supply it with --to-email ADDRESS or --to-address 'LINE\\nLINE' (it is not in "
                "the registry: dsar brokers add-contact does not take it)."
            )
        )
    )
    if party := write_to_party(request, registry, asked):
        lines.append(party)
    return lines


# the request already written to an organisation about a request's message, or None
Asked = Callable[[Broker], str | None] | None
ALREADY_ASKED = N_("{name} was already written to about this message: {asked}")


def write_to_party(request: Request, registry: Registry, asked: Asked = None) -> str | None:
    """The line telling a person to write also to the party behind the campaign; a party
    already written to (`asked`) is named with that request, never proposed again."""
    broker = request.broker
    if broker.kind == "party":
        return None
    written = asked or (lambda _party: None)
    why = _(
        "Write also to the party that ordered the campaign: it stays responsible and must "
        "obtain the origin of your data from its provider:"
    )
    # advice to the person, not a claim in a letter: the party the message names
    named = campaign_party(request, registry)
    if named and (reference := written(named)):
        return "  " + _(ALREADY_ASKED).format(name=named.name, asked=reference)
    if named:
        return f"  {why} dsar generate --broker {named.slug}"
    using = registry.parties_using(broker.slug)
    if using and (parties := [p for p in using if not written(p)]):
        # the message does not say which party: name them all, choose none for the person
        return (
            "  "
            + why
            + " "
            + _(
                "dsar generate --broker PARTY, PARTY one of those known to use {name}: {names}"
            ).format(name=broker.name, names=", ".join(p.slug for p in parties))
        )
    return None


def campaign_party(request: Request, registry: Registry) -> Broker | None:
    """The party behind the message the request is about, when it names one."""
    return request.campaign_party or next(iter(party_behind(registry, request.evidence)), None)


def next_step(request: Request, files: dict[str, Path], formats: tuple[str, ...]) -> str:
    """One line after a letter is written: where it is, how to send it, then `dsar sent`."""
    parts = []
    if files:
        folder = next(iter(files.values())).parent
        parts.append(_("files in {folder}").format(folder=folder))
    if "pdf" in files and not request.printable:
        parts.append(
            _(
                "the PDF is a DRAFT, marked so, until it has {name}'s postal address: "
                "do not post it as it is (how to find the address: below)"
            ).format(name=request.broker.name)
        )
    if "pdf" in files and request.recipient_address:
        parts.append(
            _("by post: print {pdf} and post it to {address}").format(
                pdf=files["pdf"].name, address=", ".join(request.recipient_address.splitlines())
            )
        )
    if request.recipient_email:
        if "email" in files:
            parts.append(
                _(
                    "by e-mail: open {eml} in your mail program (the whole letter), or use the "
                    "mailto: link and paste the letter's text where it says"
                ).format(eml=files["email"].name)
            )
        if "text" not in formats:
            parts.append(
                _("webmail: add --format text and paste the text to {email}").format(
                    email=request.recipient_email
                )
            )
    if set(formats) <= {"text"}:  # a preview: the journal holds nothing to mark sent
        parts.append(
            _(
                "this text is a preview, not recorded: to follow the request, write it with "
                "the same command and --format pdf,text (or email,text), then once sent: dsar "
                "sent REFERENCE --on YYYY-MM-DD"
            )
        )
    else:
        parts.append(
            _("once sent: dsar sent {reference} --on YYYY-MM-DD").format(
                reference=request.reference
            )
        )
    return _("Next: ") + _("; ").join(parts) + "."
