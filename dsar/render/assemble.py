"""Several PDFs -> one: a batch letter (its core and the shared annex, with each page's
footer stamped), the duplex print file of a batch, the complaint dossier.

pikepdf (qpdf, C++) rather than pypdf: joining 200 three-page letters took 12.5 ms a
letter with pypdf and 1.7 ms with pikepdf, and the print file is joined while the
rendering workers wait.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from ..errors import DsarError
from ..i18n import _

# The footer page.css draws for a letter laid out whole, in the bottom-right margin box:
# right edge at the 20 mm side margin, an 8 pt DejaVu Sans line centred in the 16 mm
# bottom margin (keep these in step with page.css; the pdftotext test fails otherwise).
# Stamped here in Helvetica, one of the 14 standard PDF fonts: nothing to embed.
_MM = 72 / 25.4
FOOTER_RIGHT = 20 * _MM
_BOTTOM_MARGIN = 16 * _MM
# the CSS line's baseline is at margin/2 - 2.77 pt (ascent 0.928 em, descent 0.236 em);
# the stamp sits 1.7 pt (0.6 mm) higher so that its top is where that line's top is
# (Helvetica's ascent is 0.718 em): text extraction then reads both letters the same
FOOTER_BASELINE = _BOTTOM_MARGIN / 2 - (0.928 + 0.236) / 2 * 8 + 0.236 * 8 + (0.928 - 0.718) * 8
FOOTER_SIZE = 8
FOOTER_GREY = 0x55 / 255
# Helvetica advance widths (Adobe's AFM, 1/1000 em) for printable ASCII; right-aligning
# the footer needs its width. Anything else counts as a digit.
_HELVETICA = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
        "abcdefghijklmnopqrstuvwxyz{|}~\u2013",
        [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
        + [556] * 10
        + [278, 278, 584, 584, 584, 556, 1015]
        + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667]
        + [778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333]
        + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556]
        + [556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 556],
        strict=True,
    )
)

# pikepdf is imported where it is used: it costs 0.1 s, and most commands never join PDFs


def join(parts: Iterable[tuple[str, bytes | Path]], recto: bool = False) -> bytes:
    """Concatenate PDFs given as (name, bytes or file); the name is for error messages.
    With recto, a blank page is added after any part that ends on an odd page, so each
    part starts on a right-hand page. A file is read as qpdf needs it, not held whole."""
    import pikepdf

    out = pikepdf.new()
    sources = []  # qpdf copies pages lazily: the sources stay open until save()
    try:
        for name, data in parts:
            try:
                source = pikepdf.open(data if isinstance(data, Path) else io.BytesIO(data))
            except pikepdf.PdfError as exc:
                raise DsarError(f"{name} is not a readable PDF: {exc}") from None
            except OSError as exc:  # a letter's file moved or deleted since it was written
                problem = _("{path}: cannot read it ({reason})")
                raise DsarError(problem.format(path=data, reason=exc.strerror)) from None
            sources.append(source)
            out.pages.extend(source.pages)
            if recto and len(out.pages) % 2:
                box = out.pages[-1].mediabox
                out.add_blank_page(page_size=(float(box[2] - box[0]), float(box[3] - box[1])))
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
    finally:
        for source in sources:
            source.close()
        out.close()


def footer(reference: str, page: int, pages: int) -> str:
    """The foot of every page; page.css writes the same words for a letter laid out whole."""
    return f"{reference} \u2013 page {page}/{pages}"


def stamp_footer(pdf, page, text: str, font) -> None:
    """Write `text` at the foot of `page`, right-aligned: one text object over the page.

    The page's own drawing is wrapped in q/Q so whatever graphics state it leaves
    (WeasyPrint flips the y axis) cannot move the stamp. `font` is the document's
    Helvetica font dictionary (helvetica()).
    """
    import pikepdf

    width = sum(_HELVETICA.get(c, 556) for c in text) * FOOTER_SIZE / 1000
    x = float(page.mediabox[2]) - FOOTER_RIGHT - width
    raw = text.encode("cp1252", "replace")  # WinAnsiEncoding
    literal = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    ops = b"Q q BT /DsarFooter %d Tf %.3f g %.2f %.2f Td (%s) Tj ET Q" % (
        FOOTER_SIZE,
        FOOTER_GREY,
        x,
        FOOTER_BASELINE,
        literal,
    )
    page.contents_add(pikepdf.Stream(pdf, b"q"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, ops))
    if "/Resources" not in page.obj:
        page.obj.Resources = pikepdf.Dictionary()
    resources = page.obj.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    resources.Font.DsarFooter = font


def helvetica(pdf):
    import pikepdf

    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )


def batch_letter(cores, pages: range, annex, reference: str) -> bytes:
    """One member's letter: its core's pages (from the chunk's PDF `cores`), then the
    annex's pages, each page's footer stamped with the reference and "page N/M" counted
    over the whole letter. `cores` and `annex` are open pikepdf documents, reused for
    every letter of a chunk."""
    import pikepdf

    out = pikepdf.new()
    try:
        out.pages.extend(cores.pages[pages.start : pages.stop])
        out.pages.extend(annex.pages)
        font = helvetica(out)
        total = len(out.pages)
        for number, page in enumerate(out.pages, 1):
            stamp_footer(out, page, footer(reference, number, total), font)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
    finally:
        out.close()
