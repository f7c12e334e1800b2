"""The hostile-PDF corpus, made on demand (never committed as binaries): each function
writes one file that a broker could send back as its "reply", into a folder of the test's.

- chain: a page whose resources point into a chain of 200,000 indirect objects (qpdf
  recurses down it while copying the page: a stack overflow, the process dies);
- encrypted: a real PDF with a user password (pikepdf.PasswordError on opening);
- truncated: a real PDF cut in the middle of its objects;
- many_pages: 10,000 blank pages;
- image_bomb: one page showing a 40,000 x 40,000 grey image that Flate squeezes into
  ~1.6 MB (1.6 GB once decoded).
"""

from __future__ import annotations

import zlib
from pathlib import Path

CHAIN_LENGTH = 200_000
BOMB_SIDE = 40_000


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from its objects (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _one_page(resources: bytes, content: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
        + resources
        + b" /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]


def chain(folder: Path) -> Path:
    first = 5  # objects 1-4 are the catalog, the pages, the page and its content
    objects = _one_page(b"<< /Chain %d 0 R >>" % first)
    last = first + CHAIN_LENGTH - 1
    objects += [b"[%d 0 R]" % (n + 1) for n in range(first, last)] + [b"[]"]
    path = folder / "chain.pdf"
    path.write_bytes(_pdf(objects))
    return path


def _real() -> bytes:
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def encrypted(folder: Path) -> Path:
    import io

    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(_real())) as pdf:
        pdf.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    path = folder / "encrypted.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def truncated(folder: Path) -> Path:
    whole = _pdf(_one_page(b"<< >>", b"BT /F1 12 Tf 72 720 Td (Votre demande) Tj ET"))
    path = folder / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    return path


def many_pages(folder: Path, pages: int = 10_000) -> Path:
    first = 4  # the catalog, the pages, a shared empty content stream
    kids = b" ".join(b"%d 0 R" % (first + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"] * pages
    path = folder / "many-pages.pdf"
    path.write_bytes(_pdf(objects))
    return path


def _zeros_deflated(size: int) -> bytes:
    """zlib data of `size` zero bytes, made without compressing them all (minutes for
    1.6 GB): a block of zeros deflated with a full flush is the same bytes each time, so
    it is repeated, and the Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    block = 1 << 20
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = squeeze.compress(bytes(block)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    rest = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = rest.compress(bytes(size % block)) + rest.flush()
    adler = (size % 65521) << 16 | 1
    return b"\x78\xda" + repeated * (size // block) + tail + adler.to_bytes(4, "big")


def image_bomb(folder: Path, side: int = BOMB_SIDE) -> Path:
    data = _zeros_deflated(side * side)
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (side, side, len(data))
        + data
        + b"\nendstream"
    )
    objects = _one_page(b"<< /XObject << /Im 5 0 R >> >>", b"q 500 0 0 500 50 300 cm /Im Do Q")
    path = folder / "image-bomb.pdf"
    path.write_bytes(_pdf([*objects, image]))
    return path


CORPUS = {
    "chain": chain,
    "encrypted": encrypted,
    "truncated": truncated,
    "many-pages": many_pages,
    "image-bomb": image_bomb,
}
