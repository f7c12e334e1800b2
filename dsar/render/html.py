"""Letter -> the HTML page WeasyPrint lays out, which is also the `--format html` file.

No WeasyPrint here (Jinja only), so a batch's main process and `--format html` never
pay its import. The page is self-contained: the stylesheet is inlined, fonts are named
locally, and nothing in it points to a URL.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from ..models import Letter


def section(
    env: jinja2.Environment,
    letter: Letter,
    extra: dict | None = None,
    anchor: str = "letter",
    *,
    annex_apart: bool = False,
) -> str:
    """One letter: the core, then its annex on a new page. `annex_apart`: the core alone
    (it still says the annex is enclosed), for a batch that lays the annex out once."""
    ctx = letter.context | (extra or {})
    # body and annex are our own autoescaped output
    ctx.update(
        subject=letter.subject,
        body=Markup(letter.body_html),
        annex=Markup(letter.annex_html),
        annex_apart=annex_apart,
        anchor=anchor,
    )
    return env.get_template("letter.html.j2").render(ctx)


def annex_section(annex_html: str) -> str:
    """The annex alone, as letter.html.j2 places it after a core."""
    return Markup('<div class="annex">\n{}\n</div>').format(Markup(annex_html))


def document(
    env: jinja2.Environment,
    sections: list[str],
    lang: str = "fr",
    title: str = "dsar",
    stamped: bool = False,
) -> str:
    """A whole HTML document. `stamped`: no footer from CSS, because a batch stamps the
    reference and "page N/M" on each letter's pages after joining core and annex."""
    return env.get_template("page.html.j2").render(
        sections=[Markup(s) for s in sections], lang=lang, title=title, stamped=stamped
    )


def whole(env: jinja2.Environment, letter: Letter, extra: dict | None = None) -> str:
    """The whole letter as one page: core, then the annex (requests) on a new page."""
    return document(env, [section(env, letter, extra)], letter.request.lang, letter.subject)
