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

from ..errors import DsarError
from ..models import Letter
from ..paths import SHIPPED_TEMPLATES
from . import html as page
from .weasy import import_weasyprint

log = logging.getLogger(__name__)

# a letter's closing and signature stay on its first page (LEGAL.md): what the layout
# checks, by an anchor on the signature; a letter that spills is laid out again tighter
_LETTER = '<section class="letter'
_ONE_PAGE = " data-one-page"  # letter.html.j2's mark: not a complaint, which runs on
_SIGNATURE = '<p class="signature"'


def _signed(html: str, number: int | str = "") -> str:
    """The letter with an anchor on its signature, to find its page once laid out."""
    return html.replace(_SIGNATURE, f'<p id="signature{number}" class="signature"', 1)


def _tight(html: str) -> str:
    return html.replace(_LETTER, _LETTER + " tight", 1)


def _shape(section: str) -> tuple[str, int]:
    """What decides whether a letter's core fits its first page, roughly: its section's
    classes (mandated, long, draft) and its length, by 200 characters."""
    start = section.find(_LETTER)
    classes = section[start : section.find('"', start + len(_LETTER))] if start >= 0 else ""
    return classes, len(section) // 200


def _page_of(document, anchor: str) -> int | None:
    return next((n for n, p in enumerate(document.pages) if anchor in p.anchors), None)


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
        import_weasyprint()
        from weasyprint.text.ffi import harfbuzz_subset
    except (ImportError, OSError, AttributeError):
        return False
    return harfbuzz_subset is not None


class PdfRenderer:
    def __init__(self, env: jinja2.Environment, template_roots: list[Path] | None = None):
        try:
            weasyprint = import_weasyprint()
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
        self._spilling: set[tuple[str, int]] = set()  # letter shapes laid out tighter
        roots = template_roots or [SHIPPED_TEMPLATES]
        self.fetcher = _fetcher_class()(roots)
        self.base_url = roots[0].resolve().as_uri() + "/"
        if not harfbuzz_subset_available():
            log.warning("libharfbuzz-subset0 is missing: PDF rendering will be about 3x slower")

    def html(self, letter: Letter, extra: dict | None = None) -> str:
        """The whole letter's page (render/html.py builds every page dsar lays out)."""
        return page.whole(self.env, letter, extra)

    def render(self, letter: Letter) -> bytes:
        return self.render_html(self.html(letter))

    def render_cores(self, sections: list[str], lang: str = "fr") -> tuple[bytes, list[range]]:
        """Lay out several letters' cores as one document and write it once (font
        subsetting and PDF writing are paid per document, not per letter). Returns the
        PDF and each letter's pages, found by the anchor each letter starts with."""
        anchored = [
            _signed(s.replace('id="letter"', f'id="letter-{i}"', 1), f"-{i}")
            for i, s in enumerate(sections)
        ]
        # the letters of a batch are alike: one of a shape that spilled before is laid
        # out tighter at once, not laid out twice (a second layout cost 60 % per letter)
        shapes = [_shape(s) for s in sections]
        anchored = [_tight(s) if shapes[i] in self._spilling else s for i, s in enumerate(anchored)]
        document, first = self._cores(anchored, lang)
        # a letter whose signature fell past its first page: laid out again, tighter
        spilled = {
            i
            for i, s in enumerate(anchored)
            if _ONE_PAGE in sections[i]
            and _SIGNATURE in sections[i]
            and shapes[i] not in self._spilling
            and _page_of(document, f"signature-{i}") != first[i]
        }
        if spilled:
            self._spilling |= {shapes[i] for i in spilled}
            anchored = [_tight(s) if i in spilled else s for i, s in enumerate(anchored)]
            document, first = self._cores(anchored, lang)
        ends = [first[i + 1] for i in range(len(sections) - 1)] + [len(document.pages)]
        ranges = [range(first[i], end) for i, end in enumerate(ends)]
        return document.write_pdf(), ranges

    def _cores(self, anchored: list[str], lang: str):
        """The letters laid out as one document, and each one's first page."""
        document = self._layout(page.document(self.env, anchored, lang, stamped=True))
        # each letter starts a page (page.css) with its anchor on it
        first = {}
        for number, laid_out in enumerate(document.pages):
            for anchor in laid_out.anchors:
                if anchor.startswith("letter-"):
                    first.setdefault(int(anchor.rsplit("-", 1)[1]), number)
        if sorted(first) != list(range(len(anchored))) or first[0] != 0:
            raise DsarError("a batch document lost track of its letters' pages")
        return document, first

    def render_annex(self, annex_html: str, lang: str = "fr") -> bytes:
        """The annex alone, without footers: each letter's are stamped on it."""
        return self.render_html(
            page.document(self.env, [page.annex_section(annex_html)], lang, stamped=True)
        )

    def _layout(self, html: str):
        return self._weasyprint.HTML(
            string=html, base_url=self.base_url, url_fetcher=self.fetcher
        ).render(font_config=self.font_config)

    def render_html(self, html: str) -> bytes:
        if _ONE_PAGE in html and _SIGNATURE in html:  # a letter: signed on its first page
            html = _signed(html)
            document = self._layout(html)
            if _page_of(document, "signature") != 0:
                tighter = self._layout(_tight(html))
                document = tighter if _page_of(tighter, "signature") == 0 else document
            return document.write_pdf()
        document = self._weasyprint.HTML(
            string=html, base_url=self.base_url, url_fetcher=self.fetcher
        )
        out = io.BytesIO()
        document.write_pdf(out, font_config=self.font_config)
        return out.getvalue()
