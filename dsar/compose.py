"""What a person gave -> a Request, and a rendered Letter -> files on disk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

from . import fields, letters
from .errors import InputError
from .files import check_free, write_private
from .i18n import N_, _
from .identify import parties_named
from .models import Broker, Contact, Evidence, Letter, Mandate, Request, Requester
from .registry import Registry
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
    broker: str,
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
) -> Request:
    target = registry.get(broker)
    fields.choice(right, RIGHTS, "right")
    parties = [] if target.kind == "party" else party_behind(registry, evidence)
    identity = requester.phone or requester.email or requester.name
    return Request(
        # under a mandate the same member, broker and right is the same request whatever the
        # day a batch is (re)run: a rerun must find it in the journal, not send it again
        reference=letters.reference_for(
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
        campaign_party=parties[0] if parties else None,
    )


@dataclass
class Written:
    files: dict[str, Path] = field(default_factory=dict)
    pdf: bytes | None = None
    eml: bytes | None = None
    page_html: str | None = None
    message_id: str | None = None


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
    """Render every requested output first, then write: a failure leaves no partial file.
    `env` (the Jinja environment) is needed for html without pdf; pdf brings its own."""
    from .render import html as page

    targets = output_paths(letter, out_dir, formats, kind)
    check_free(targets.values(), overwrite=force)
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
        attachments = {extra["enclosed_name"]: enclosed} if enclosed else None
        message = mail.build(letter, attachments)
        result.eml, result.message_id = mail.to_bytes(message), message["Message-ID"]
    for kind, path in targets.items():
        data = {"pdf": result.pdf, "email": result.eml, "html": result.page_html}[kind]
        write_private(path, data, overwrite=force)
        result.files[kind] = path
    return result


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
) -> Written:
    """Write a letter's files and record them; when the journal cannot record them, the
    files just written are removed: no letter is left on disk that the journal does not
    know of."""
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
    try:
        journal.record(
            letter.request,
            subject=letter.subject,
            body_text=letter.body_text,
            medium=",".join(formats),
            page_html=written.page_html,
            files=written.files,
            kind=kind,
        )
    except BaseException:
        for path in written.files.values():
            path.unlink(missing_ok=True)
        raise
    return written


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
        ).format(name=broker.name, where=where, quality=broker.quality)
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


def gap_advice(letter: Letter, registry: Registry) -> list[str]:
    """Tell the person what is missing, what the sources do give, and what to do."""
    request = letter.request
    broker = request.broker
    if not letter.gaps:
        return []
    missing = {"email": _("e-mail address"), "postal": _("postal address")}
    lines = [
        _("{name}: no {missing} known in the registry (quality: {quality}).").format(
            name=broker.name,
            missing=_(" and no ").join(missing[g] for g in letter.gaps),
            quality=broker.quality,
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
    if broker.notes:
        lines.append("  " + _("Note: {notes}").format(notes=broker.notes))
    if "postal" in letter.gaps and is_french_organisation(broker):
        lines.append(
            "  "
            + _(
                "Its registered office (siège social) is a valid address for a request; find "
                "it in the official company directory: {link}"
            ).format(link=company_search(broker))
        )
    lines.append(
        "  "
        + _(
            "Supply it with --to-email ADDRESS or --to-address 'LINE\\nLINE', or add it to your "
            "registry once: dsar brokers add-contact {slug} --email ADDRESS --source WHERE "
            "(or --postal 'LINE\\nLINE')."
        ).format(slug=broker.slug)
    )
    if broker.kind != "party":
        why = _(
            "Write also to the party that ordered the campaign: it stays responsible and must "
            "obtain the origin of your data from its provider:"
        )
        if request.campaign_party:
            command = f"dsar generate --broker {request.campaign_party.slug}"
            lines.append(f"  {why} {command}")
        elif parties := registry.parties_using(broker.slug):
            # the message does not say which party: name them all, choose none for the person
            lines.append(
                "  "
                + why
                + " "
                + _(
                    "dsar generate --broker PARTY, PARTY one of those known to use {name}: {names}"
                ).format(name=broker.name, names=", ".join(p.slug for p in parties))
            )
    return lines


def next_step(request: Request, files: dict[str, Path], formats: tuple[str, ...]) -> str:
    """One line after a letter is written: where it is, how to send it, then `dsar sent`."""
    parts = []
    if files:
        folder = next(iter(files.values())).parent
        parts.append(_("files in {folder}").format(folder=folder))
    if "pdf" in files and request.recipient_address:
        parts.append(
            _("by post: print {pdf} and post it to {address}").format(
                pdf=files["pdf"].name, address=", ".join(request.recipient_address.splitlines())
            )
        )
    if request.recipient_email:
        if "email" in files:
            parts.append(
                _("by e-mail: open {eml} in your mail program, or use the mailto: link").format(
                    eml=files["email"].name
                )
            )
        if "text" not in formats:
            parts.append(
                _("webmail: add --format text and paste the text to {email}").format(
                    email=request.recipient_email
                )
            )
    parts.append(
        _("once sent: dsar sent {reference} --on YYYY-MM-DD").format(reference=request.reference)
    )
    return _("Next: ") + _("; ").join(parts) + "."
