"""Request -> Letter: the Jinja environment and the one body every output shares.

The body templates are HTML with a handful of tags (h2, p, ol, ul, li, blockquote).
They are rendered once, autoescaped; the plain text for e-mail and the terminal is
derived from that HTML (render/text.py), so the PDF and the e-mail carry the same
words and a value a person typed can never become markup or template code.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from . import fields
from .errors import DsarError
from .i18n import _
from .models import Association, Letter, Request, town_of
from .paths import SHIPPED_TEMPLATES
from .render.text import html_to_text


def _autoescape(name: str | None) -> bool:
    # *.txt.j2 are one-line texts (subjects) that never go into HTML
    return not (name or "").endswith(".txt.j2")


def template_roots(override: Path | None = None, user: Path | None = None) -> tuple[Path, ...]:
    """Where templates are looked for, highest first: --templates DIR, the user's config
    folder, then the shipped templates. Folders that do not exist are left out."""
    chosen = [p for p in (override, user) if p is not None and p.is_dir()]
    return (*dict.fromkeys(p.resolve() for p in chosen), SHIPPED_TEMPLATES)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process, whichever environment asks: `dsar serve`
    builds one for each page. Jinja checks each template's source checksum, so an edited
    override is compiled again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def environment(roots: Sequence[Path] | Path | None = None) -> jinja2.Environment:
    """The one Jinja environment. A name is found in the first root that has it
    (datasette's ChoiceLoader habit), and "default:NAME" always names the shipped
    template, so an override can extend the template it replaces."""
    if roots is None or isinstance(roots, Path):
        roots = template_roots(roots)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader([str(r) for r in roots]),
                jinja2.PrefixLoader(
                    {"default": jinja2.FileSystemLoader(SHIPPED_TEMPLATES)}, delimiter=":"
                ),
            ]
        ),
        autoescape=_autoescape,
        bytecode_cache=_COMPILED,
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["long_date"] = fields.long_date
    # a phone number is never cut across two lines, in the PDF or the e-mail's text
    env.filters["nobreak"] = lambda value: str(value).replace(" ", "\u00a0")
    # a reference, an e-mail address or a number never cut at a line end
    env.filters["nowrap"] = _nowrap
    env.filters["unbroken"] = unbroken
    return env


# "réf." stays with its reference: a subject line ending "réf." reads as cut off
_UNBREAKABLE = re.compile(r"(?:r[ée]f\. )?DSAR-[A-Z0-9]{4}-[A-Z0-9]{4}|\+?\d[\d ]{6,}\d|\S+@\S+")


def unbroken(text: str) -> Markup:
    """Escaped text whose references, phone numbers and e-mail addresses are never cut
    at a line end (a subject line is plain text, built before any HTML)."""
    out, last = [], 0
    for match in _UNBREAKABLE.finditer(str(text)):
        out += [escape(text[last : match.start()]), _nowrap(match.group())]
        last = match.end()
    out.append(escape(str(text)[last:]))
    return Markup("").join(out)


# "28(3)(e)", "15(1)(b)" or "C-154/21" stays on one line: a citation cut after ")" reads
# as two. A word joiner (U+2060) rather than a nowrap span: WeasyPrint 70 mis-justifies
# a line around a nowrap span that follows a hyphenated word. text.py drops the joiners.
_CITATION = re.compile(r"\d+\(\d+\)(?:\([a-z]\))*|C-\d+/\d+")
_TEXT = re.compile(r">([^<]+)<")
WORD_JOINER = "\u2060"


def keep_citations(html: str) -> str:
    """Join every article or case citation of our own HTML so no line end cuts it."""

    def joined(match: re.Match) -> str:
        return match.group().replace("(", WORD_JOINER + "(").replace("-", "-" + WORD_JOINER)

    def text(match: re.Match) -> str:
        return ">" + _CITATION.sub(joined, match.group(1)) + "<"

    return _TEXT.sub(text, html)


def _nowrap(value) -> Markup:
    """One unbreakable word: no-break spaces, and word joiners after the hyphens, slashes
    and '@' where a line may otherwise end (not a white-space: nowrap span: WeasyPrint 70
    mis-justifies the lines around one)."""
    text = str(value).replace(" ", "\u00a0")
    for mark in "-/@.":
        text = text.replace(mark, mark + WORD_JOINER)
    return Markup(escape(text))


ANNEX_KINDS = ("broker", "party", "processor", "other")


def recipient_kind(kind: str) -> str:
    """The registry's kind as the annex knows it: broker, party, processor or other."""
    return kind if kind in ANNEX_KINDS else "other"


def annex_context(kind: str, right: str, lang: str) -> dict:
    """All the legal annex may depend on: never the person, the reference or a date,
    so a batch renders it once and reuses it for every member."""
    return {"recipient_kind": recipient_kind(kind), "right": right, "lang": lang}


def render_annex(env: jinja2.Environment, kind: str, right: str, lang: str) -> str:
    """The annex's HTML, rendered once per environment and (kind, right, lang)."""
    ctx = annex_context(kind, right, lang)
    cache = env.__dict__.setdefault("_dsar_annexes", {})
    key = (ctx["recipient_kind"], right, lang)
    if key not in cache:
        with _template_errors():
            template = env.get_template(f"letters/{lang}/annex.html.j2")
            cache[key] = keep_citations(template.render(ctx))
    return cache[key]


def _sender_number(sender: str) -> str | None:
    """'36111' or '+33 6 ...': a number the message came from, said as such."""
    compact = sender.replace(" ", "").replace(".", "")
    digits = compact[1:] if compact.startswith("+") else compact
    return sender.strip() if digits.isdigit() and 4 <= len(digits) <= 15 else None


def place_of(request: Request) -> str | None:
    """'Paris' in 'Paris, le 23 novembre 2026': given, else the association's town
    (batch letters), else the person's."""
    if request.place:
        return request.place
    if request.mandate and request.mandate.sender and request.mandate.association.city:
        return request.mandate.association.city
    return request.requester.city


def window_address(request: Request) -> str | None:
    """The recipient's address as the envelope window shows it: without a last line
    'France' when the letter leaves from France (La Poste's rule for domestic mail)."""
    address = request.recipient_address
    if not address:
        return None
    lines = address.splitlines()
    sender = request.mandate.association.address if request.mandate else request.requester.address
    sent_from_france = (
        not sender.strip()
        or town_of(sender) is not None
        or sender.strip().splitlines()[-1].strip().casefold() == "france"
    )
    if sent_from_france and len(lines) > 1 and lines[-1].strip().casefold() == "france":
        lines = lines[:-1]
    return "\n".join(lines)


def context(request: Request) -> dict:
    requester = request.requester
    number = _sender_number(request.evidence.sender)
    return {
        "request": request,
        "lang": request.lang,
        "reference": request.reference,
        "broker": request.broker,
        "right": request.right,
        "requester": requester,
        "phone": requester.phone_forms,
        "evidence": request.evidence,
        "mandate": request.mandate,
        "party": request.campaign_party,
        "letter_date": request.letter_date,
        "place": place_of(request),
        "sender_number": number,
        "short_number": bool(number) and len(number.replace(" ", "")) <= 6,
        "recipient_kind": recipient_kind(request.broker.kind),
        "recipient_address": request.recipient_address,
        "recipient_window": window_address(request),
        "recipient_email": request.recipient_email,
        "reply_email": request.reply_to,
        "cause": request.cause,  # a next request: the answer that named this recipient
    }


def gaps(request: Request) -> tuple[str, ...]:
    """What the letter lacks to be sent; said to the user, never filled by guessing."""
    found = []
    if not request.recipient_email:
        found.append("email")
    if not request.recipient_address:
        found.append("postal")
    return tuple(found)


def _pick(env: jinja2.Environment, request: Request, kind: str, suffix: str) -> jinja2.Template:
    """A template for this recipient (letters/fr/request-<slug>.html.j2) before the
    general one (datasette's select_template habit)."""
    folder = f"letters/{request.lang}"
    return env.select_template(
        [f"{folder}/{kind}-{request.broker.slug}.{suffix}", f"{folder}/{kind}.{suffix}"]
    )


@functools.lru_cache(maxsize=16)
def _annex_text(annex_html: str) -> str:
    # the same for every member of a batch; wrapping its text cost ~2 ms a letter
    return html_to_text(annex_html)


def render(
    request: Request, env: jinja2.Environment, *, kind: str = "request", extra: dict | None = None
) -> Letter:
    """Render one letter kind: request, reminder, reply-id, complaint."""
    base = context(request)
    ctx = base | (extra or {})
    with _template_errors():
        body = keep_citations(_pick(env, request, kind, "html.j2").render(ctx))
        subject = _pick(env, request, kind, "subject.txt.j2").render(ctx)
    # the first request carries the legal annex; follow-ups cite it through the original
    annex = (
        render_annex(env, request.broker.kind, request.right, request.lang)
        if kind == "request"
        else ""
    )
    return Letter(
        request=request,
        subject=" ".join(subject.split()),
        body_html=body,
        body_text=html_to_text(body) + (f"\n\n{_annex_text(annex)}" if annex else ""),
        gaps=gaps(request),
        annex_html=annex,
        context=base | {"kind": kind},  # letter.html.j2: a complaint runs over pages
    )


@contextlib.contextmanager
def _template_errors():
    """A user's override can be missing or broken: say which template, not a traceback."""
    try:
        yield
    except jinja2.TemplatesNotFound as exc:
        raise DsarError(
            _("template {name} not found in the template folders").format(name=exc.templates[-1])
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise DsarError(
            _("template {name} not found in the template folders").format(name=exc.name)
        ) from None
    except jinja2.TemplateError as exc:
        raise DsarError(_("template error: {reason}").format(reason=exc)) from None


def render_mandate(
    env: jinja2.Environment,
    association: Association,
    member=None,
    controllers=(),
    on: date | None = None,
) -> str:
    """The HTML of a mandate form: filled in for a member, with the controllers it
    authorises the association to write to, or blank. Art. 80(1) is offered when the
    association has its five years on `on` (the day the form is made)."""
    with _template_errors():
        return env.get_template("mandate.html.j2").render(
            association=association,
            member=member,
            phone=member.requester.phone_forms if member else None,
            controllers=list(controllers),
            art80=association.art80_on(on) if on else False,
        )
