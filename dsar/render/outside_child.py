"""The child process of outside.py: checks and copies one PDF from outside, or joins
the dossier, under limits it sets itself before it opens anything. Imports nothing of
dsar. Usage: outside_child.py vet IN OUT [MARK] | form IN MARK | join OUT IN... ; prints one
JSON line, {"ok": true} or {"problem": CODE, "detail": ...}. `forms MARK` answers `form`
for each JSON-quoted path read from its standard input, a line each (outside.FormReader)."""

from __future__ import annotations

import json
import os
import sys

CPU_SECONDS = 30
MEMORY_BYTES = 1536 * 1024 * 1024
STACK_BYTES = 8 * 1024 * 1024  # qpdf recurses on nested objects: a deep chain ends here
OUTPUT_BYTES = 512 * 1024 * 1024
MAX_PAGES = 2000  # a reply longer than that goes to the CNIL apart, not in the dossier
MAX_PIXELS = 100_000_000  # an image over 100 megapixels (an A4 page at 600 dpi is 35)


def _limit() -> None:
    import resource

    for limit, value in (
        (resource.RLIMIT_CPU, CPU_SECONDS),
        (resource.RLIMIT_AS, MEMORY_BYTES),
        (resource.RLIMIT_STACK, STACK_BYTES),
        (resource.RLIMIT_FSIZE, OUTPUT_BYTES),
        (resource.RLIMIT_CORE, 0),  # a crash leaves no core file of a personal reply
    ):
        hard = resource.getrlimit(limit)[1]
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (soft, hard))
    sys.setrecursionlimit(1000)


def _vet(source: str, target: str, mark: str = "") -> dict:
    """Checks and copies the file; with `mark`, the unsigned form dsar mandate wrote is
    left out too (a scan in --mandates is read once, by this child)."""
    import pikepdf

    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:  # not a PdfError: said apart
        return {"problem": "password"}
    except (pikepdf.PdfError, ValueError, OSError):
        return {"problem": "unreadable"}
    with pdf:
        if pdf.is_encrypted:  # an owner password only: readable, but not ours to unlock
            return {"problem": "password"}
        if mark and _is_form(pdf, mark):
            return {"problem": "form"}
        if len(pdf.pages) > MAX_PAGES:
            return {"problem": "pages", "detail": f"{len(pdf.pages)} > {MAX_PAGES}"}
        for page in pdf.pages:
            for image in page.get_images().values():
                pixels = int(image.get("/Width", 0)) * int(image.get("/Height", 0))
                if pixels > MAX_PIXELS:
                    return {"problem": "image", "detail": f"{image.Width}×{image.Height}"}
        out = pikepdf.new()
        with out:
            out.pages.extend(pdf.pages)  # copies every object the pages reach
            out.save(target)
    return {"ok": True}


# what a reader leaves when it signs a PDF on screen: a drawn line, a stamped image, typed
# text on the page (a field signed is an /AcroForm); a note, a highlight or a link is no
# signature
SIGNING = {"/Ink", "/Stamp", "/FreeText"}


def _is_form(document, mark: str) -> bool:
    """Whether the open PDF is a form dsar mandate wrote, as it wrote it: its mark in the
    document's info, no form field, no drawn, stamped or typed annotation. A malformed
    annotation list counts as changed (not the form dsar wrote)."""
    if mark not in document.docinfo or "/AcroForm" in document.Root:
        return False
    try:
        for page in document.pages:
            for annotation in page.get("/Annots", []):
                if annotation.get("/Subtype") in SIGNING:
                    return False
    except (TypeError, AttributeError, ValueError):
        return False
    return True


def _form(source: str, mark: str) -> dict:
    import pikepdf

    try:
        with pikepdf.open(source) as document:
            return {"form": _is_form(document, mark)}
    except Exception:  # a password, a broken file: not the form dsar wrote
        return {"form": False}


def _join(target: str, sources: list[str]) -> dict:
    import pikepdf

    out = pikepdf.new()
    opened = []
    try:
        for source in sources:
            opened.append(pikepdf.open(source))
            out.pages.extend(opened[-1].pages)
        out.save(target)
    finally:
        for pdf in opened:
            pdf.close()
        out.close()
    return {"ok": True}


def main(argv: list[str]) -> int:
    _limit()
    os.umask(0o077)  # the copies hold personal data
    command, *paths = argv
    if command == "vet":
        answer = _vet(*paths)
    elif command == "form":
        answer = _form(*paths)
    elif command == "forms":
        for line in sys.stdin:
            print(json.dumps(_form(json.loads(line), paths[0])), flush=True)
        return 0
    else:
        answer = _join(paths[0], paths[1:])
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
