"""Request -> Letter: the Jinja environment and the one body every output shares.

The body templates are HTML with a handful of tags (h2, p, ol, ul, li, blockquote).
They are rendered once, autoescaped; the plain text for e-mail and the terminal is
derived from that HTML (render/text.py), so the PDF and the e-mail carry the same
words and a value a person typed can never become markup or template code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import jinja2

from . import fields
from .errors import DsarError
from .models import Association, Letter, Request
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
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["long_date"] = fields.long_date
    # a phone number is never cut across two lines, in the PDF or the e-mail's text
    env.filters["nobreak"] = lambda value: str(value).replace(" ", "\u00a0")
    return env


def reference_for(*parts: str) -> str:
    """A short, stable reference: the same request gives the same reference again."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
    code = "".join(alphabet[b % len(alphabet)] for b in digest[:8])
    return f"DSAR-{code[:4]}-{code[4:]}"


def context(request: Request) -> dict:
    requester = request.requester
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
        "place": request.place or requester.city,
        "recipient_address": request.recipient_address,
        "recipient_email": request.recipient_email,
        "reply_email": request.reply_email,
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


def render(
    request: Request, env: jinja2.Environment, *, kind: str = "request", extra: dict | None = None
) -> Letter:
    """Render one letter kind: request, reminder, reply-id, complaint."""
    ctx = context(request) | (extra or {})
    try:
        body = _pick(env, request, kind, "html.j2").render(ctx)
        subject = _pick(env, request, kind, "subject.txt.j2").render(ctx)
    except jinja2.TemplatesNotFound as exc:
        raise DsarError(f"template {exc.templates[-1]} not found in the template folders") from None
    except jinja2.TemplateNotFound as exc:
        raise DsarError(f"template {exc.name} not found in the template folders") from None
    except jinja2.TemplateError as exc:
        # a user's override can be broken; say which template, not a traceback
        raise DsarError(f"template error: {exc}") from None
    return Letter(
        request=request,
        subject=" ".join(subject.split()),
        body_html=body,
        body_text=html_to_text(body),
        gaps=gaps(request),
    )


def render_mandate(env: jinja2.Environment, association: Association, member=None) -> str:
    """The HTML of a mandate form: filled in for a member, or blank."""
    return env.get_template("mandate.html.j2").render(
        association=association,
        member=member,
        phone=member.requester.phone_forms if member else None,
    )
