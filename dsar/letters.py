"""Request -> Letter: the Jinja environment and the one body every output shares.

The body templates are HTML with a handful of tags (h2, p, ol, ul, li, blockquote).
They are rendered once, autoescaped; the plain text for e-mail and the terminal is
derived from that HTML (render/text.py), so the PDF and the e-mail carry the same
words and a value a person typed can never become markup or template code.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date
from pathlib import Path

import jinja2

from . import fields
from .errors import DsarError
from .models import Letter, Request
from .paths import SHIPPED_TEMPLATES
from .render.text import html_to_text


def _autoescape(name: str | None) -> bool:
    # *.txt.j2 are one-line texts (subjects) that never go into HTML
    return not (name or "").endswith(".txt.j2")


def environment(user_templates: Path | None = None) -> jinja2.Environment:
    """A user's folder overrides shipped templates by name (datasette's ChoiceLoader habit)."""
    loaders = []
    if user_templates and user_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(user_templates))
    loaders.append(jinja2.FileSystemLoader(SHIPPED_TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
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


def footer(reference: str, page: int, pages: int) -> str:
    """The foot of every page; page.css writes the same words for a letter laid out whole."""
    return f"{reference} \u2013 page {page}/{pages}"


def gaps(request: Request) -> tuple[str, ...]:
    """What the letter lacks to be sent; said to the user, never filled by guessing."""
    found = []
    if not request.recipient_email:
        found.append("email")
    if not request.recipient_address:
        found.append("postal")
    return tuple(found)


def annex_context(kind: str, right: str, lang: str) -> dict:
    """All the annex may depend on: never the person, so a batch renders it once per
    recipient kind, right and language."""
    return {"kind": kind, "right": right, "lang": lang}


def _render_template(env: jinja2.Environment, name: str, ctx: dict) -> str:
    try:
        return env.get_template(name).render(ctx)
    except jinja2.TemplateNotFound as exc:
        raise DsarError(f"template {exc.name} not found in the template folders") from None
    except jinja2.TemplateError as exc:
        # a user's override can be broken; say which template, not a traceback
        raise DsarError(f"template error: {exc}") from None


@functools.lru_cache(maxsize=64)  # per environment: a batch renders each annex once
def render_annex(env: jinja2.Environment, kind: str, right: str, lang: str) -> str:
    return _render_template(env, f"letters/{lang}/annex.html.j2", annex_context(kind, right, lang))


@functools.lru_cache(maxsize=16)
def _annex_text(annex_html: str) -> str:
    # the same for every member of a batch; the text wrapping costs ~2 ms a letter
    return html_to_text(annex_html)


def render(
    request: Request, env: jinja2.Environment, *, kind: str = "request", extra: dict | None = None
) -> Letter:
    """Render one letter kind: request, reminder, reply-id, complaint. A request is a
    core and the annex; the other kinds are one body."""
    ctx = context(request) | (extra or {})
    body = _render_template(env, f"letters/{request.lang}/{kind}.html.j2", ctx)
    subject = _render_template(env, f"letters/{request.lang}/{kind}.subject.txt.j2", ctx)
    annex = ""
    if kind == "request":
        annex = render_annex(env, request.broker.kind, request.right, request.lang)
    return Letter(
        request=request,
        subject=" ".join(subject.split()),
        body_html=body,
        body_text=html_to_text(body) + (f"\n{_annex_text(annex)}" if annex else ""),
        gaps=gaps(request),
        kind=kind,
        annex_html=annex,
    )


def today() -> date:
    return date.today()
