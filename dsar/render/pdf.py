"""Letter -> PDF bytes with WeasyPrint, fetching nothing but the shipped templates.

Import cost (~0.5 s) and the font configuration are paid once per process: a
PdfRenderer is built once and reused for every letter.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
from markupsafe import Markup

from ..errors import DsarError
from ..letters import context
from ..models import Letter
from ..paths import SHIPPED_TEMPLATES

log = logging.getLogger(__name__)


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class TemplateOnlyFetcher(URLFetcher):
        """Allow data: URLs and files under the template folders; refuse everything else.

        Without this, an <img> or <link rel=attachment> could make the renderer read a
        local file into the PDF or reach the network (WeasyPrint #1288).
        """

        def __init__(self, roots: list[Path]):
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
            self.roots = [root.resolve() for root in roots]
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file" and not parsed.netloc:
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                    return URLFetcherResponse(url, body=path.read_bytes())
            self.refused.append(url)
            raise ValueError("dsar fetches nothing outside its templates")

    return TemplateOnlyFetcher


def harfbuzz_subset_available() -> bool:
    """WeasyPrint is ~3x slower, silently, without libharfbuzz-subset (see NOTES.md)."""
    try:
        from weasyprint.text.ffi import harfbuzz_subset
    except (ImportError, AttributeError):
        return False
    return harfbuzz_subset is not None


class PdfRenderer:
    def __init__(self, env: jinja2.Environment, template_roots: list[Path] | None = None):
        try:
            import weasyprint
            from weasyprint.text.fonts import FontConfiguration
        except (ImportError, OSError) as exc:
            raise DsarError(
                "WeasyPrint cannot start: its system libraries are missing "
                "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                f"libharfbuzz-subset0 fonts-dejavu-core). Detail: {exc}"
            ) from None
        self._weasyprint = weasyprint
        self.env = env
        self.font_config = FontConfiguration()
        roots = template_roots or [SHIPPED_TEMPLATES]
        self.fetcher = _fetcher_class()(roots)
        self.base_url = roots[0].resolve().as_uri() + "/"
        if not harfbuzz_subset_available():
            log.warning("libharfbuzz-subset0 is missing: PDF rendering will be about 3x slower")

    def section(self, letter: Letter, extra: dict | None = None, anchor: str = "letter") -> str:
        """One letter's HTML; several make one document in batches."""
        ctx = context(letter.request) | (extra or {})
        # body and annex are our own autoescaped output
        ctx.update(
            subject=letter.subject,
            body=Markup(letter.body_html),
            annex=Markup(letter.annex_html),
            anchor=anchor,
        )
        return self.env.get_template("letter.html.j2").render(ctx)

    def document(
        self, sections: list[str], lang: str = "fr", title: str = "dsar", *, several: bool = False
    ) -> str:
        """One document; `several` when it holds several letters (page numbers then
        cannot be counted per letter by CSS: the reference alone stands on each page)."""
        return self.env.get_template("page.html.j2").render(
            sections=[Markup(s) for s in sections], lang=lang, title=title, several=several
        )

    def html(self, letter: Letter, extra: dict | None = None) -> str:
        return self.document([self.section(letter, extra)], letter.request.lang, letter.subject)

    def render(self, letter: Letter) -> bytes:
        return self.render_html(self.html(letter))

    def render_chunk(self, sections: list[str], lang: str = "fr") -> list[bytes]:
        """Lay out several letters as one document (cheaper per letter), then cut it
        back into one PDF per letter by the anchor each letter starts with."""
        anchored = [s.replace('id="letter"', f'id="letter-{i}"', 1) for i, s in enumerate(sections)]
        document = self._weasyprint.HTML(
            string=self.document(anchored, lang, several=True),
            base_url=self.base_url,
            url_fetcher=self.fetcher,
        ).render(font_config=self.font_config)
        owner: list[int | None] = []
        for page in document.pages:
            found = [int(a.rsplit("-", 1)[1]) for a in page.anchors if a.startswith("letter-")]
            owner.append(min(found) if found else None)  # None: a blank page before a recto
        return [
            document.copy(
                [p for p, o in zip(document.pages, owner, strict=True) if o == index]
            ).write_pdf()
            for index in range(len(sections))
        ]

    def render_html(self, html: str) -> bytes:
        document = self._weasyprint.HTML(
            string=html, base_url=self.base_url, url_fetcher=self.fetcher
        )
        out = io.BytesIO()
        document.write_pdf(out, font_config=self.font_config)
        return out.getvalue()
