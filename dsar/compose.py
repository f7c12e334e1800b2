"""What a person gave -> a Request, and a rendered Letter -> files on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import fields, letters
from .errors import InputError
from .files import check_free, write_private
from .identify import parties_named
from .models import Broker, Evidence, Letter, Mandate, Request, Requester
from .registry import Registry
from .render import mail
from .vocabulary import FORMATS, RIGHTS, output_name


def parse_formats(value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise InputError("format", f"'{value}': use {', '.join(FORMATS)}, comma-separated")
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
        channel=channel,
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
    if right not in RIGHTS:
        raise InputError("right", f"'{right}': use {', '.join(RIGHTS)}")
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
        to_address=(
            fields.text(to_address.replace("\\n", "\n"), "to_address", multiline=True, limit=500)
            if to_address
            else None
        ),
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


def recipient_wishes(request: Request, formats: tuple[str, ...]) -> list[str]:
    """What the registry says the recipient asks for, when this letter differs."""
    broker, lines = request.broker, []
    if broker.language and broker.language != request.lang:
        remedy = (
            f"--lang {broker.language} writes it so"
            if broker.language in fields.LANGUAGES
            else "dsar writes fr or en; English is widely accepted"
        )
        lines.append(
            f"{broker.name} asks for requests in '{broker.language}'; this letter is "
            f"in '{request.lang}': {remedy}."
        )
    medium = {"email": "email", "letter": "pdf", "fax": "pdf", "webform": None}
    # plain text can go either way (pasted into a mail or printed): no hint then
    if broker.medium and "text" not in formats and medium[broker.medium] not in formats:
        where = f" ({broker.webform})" if broker.medium == "webform" and broker.webform else ""
        lines.append(f"{broker.name} asks for requests by {broker.medium}{where}.")
    return lines


def gap_advice(letter: Letter, registry: Registry) -> list[str]:
    """Tell the person what is missing, what the sources do give, and what to do."""
    request = letter.request
    broker = request.broker
    if not letter.gaps:
        return []
    missing = {"email": "e-mail address", "postal": "postal address"}
    lines = [
        f"{broker.name}: no {' and no '.join(missing[g] for g in letter.gaps)} "
        f"known in the registry (quality: {broker.quality})."
    ]
    known = [f"web site {broker.web}" if broker.web else None]
    known += [f"privacy policy {broker.privacy_policy}" if broker.privacy_policy else None]
    known += [f"web form {broker.webform}" if broker.webform else None]
    known = [k for k in known if k]
    if known:
        lines.append(f"  The sources give: {'; '.join(known)}. Look there for a contact.")
    if broker.notes:
        lines.append(f"  Note: {broker.notes}")
    lines.append(
        "  Supply it with --to-email ADDRESS or --to-address 'LINE\\nLINE', or add a contact "
        f"to your registry ({'dsar brokers show ' + broker.slug} shows the entry)."
    )
    if broker.kind != "party":
        parties = ([request.campaign_party] if request.campaign_party else []) or (
            registry.parties_using(broker.slug)
        )
        if parties:
            names = ", ".join(p.slug for p in parties[:6])
            lines.append(
                "  Write also to the party that ordered the campaign: it stays responsible and "
                "must obtain the origin of your data from its provider: "
                f"dsar generate --broker {parties[0].slug} ...  (parties known to use "
                f"{broker.name}: {names})"
            )
    return lines
