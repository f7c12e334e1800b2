"""A batch letter (core laid out with others, the annex laid out once, footers stamped)
reads exactly as the same letter laid out whole; the html format is that letter."""

from __future__ import annotations

import io
import re

import pikepdf
import pytest

from dsar import batch, letters
from dsar.cli import cli
from dsar.render import html as page

from .conftest import make_request, pdf_text
from .test_batch import ASSOCIATION, batch_args, member, write_csv

# what would make a renderer or a browser fetch something
FETCHABLE = re.compile(r"(?i)\b(?:href|src|srcset|data)\s*=|url\(|@import|://|\bwww\.")


def page_count(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("right", ["access", "both"])
def test_joined_letter_reads_as_the_whole_letter(shipped, env, pdf_renderer, lang, right):
    first = letters.render(make_request(shipped, lang=lang, right=right), env)
    second = letters.render(
        make_request(shipped, lang=lang, right=right, name="Dominique Durand-Lefèvre"), env
    )
    assert first.annex_html == second.annex_html  # nothing of the person in the annex
    batch._init_worker([str(r) for r in letters.template_roots()])  # the worker's own code
    task = (
        [page.section(env, one, annex_apart=True) for one in (first, second)],
        [first.request.reference, second.request.reference],
        first.annex_html,
        lang,
    )
    joined = batch._render_chunk(task)
    for letter, data in zip([first, second], joined, strict=True):
        whole = pdf_renderer.render(letter)
        assert pdf_text(data) == pdf_text(whole)
        pages = page_count(whole)
        assert page_count(data) == pages
        assert f"{letter.request.reference} \u2013 page {pages}/{pages}" in pdf_text(data)
        stamped, drawn = footer_box(data), footer_box(whole)
        assert abs(stamped[1] - drawn[1]) < 0.5  # right-aligned on the same margin
        assert abs(stamped[0] - drawn[0]) < 2  # the same line (fonts differ a little)


def footer_box(data: bytes) -> tuple[float, float]:
    """(top, right edge) of the footer line of the last page."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[-1]
        words = [w for w in page.extract_words() if w["top"] > page.height - 16 * 72 / 25.4]
    assert words, "no footer"
    return min(w["top"] for w in words), max(w["x1"] for w in words)


def test_the_annex_depends_on_kind_right_and_language_only(shipped, env):
    annex = letters.render_annex(env, "broker", "both", "fr")
    assert annex == letters.render(make_request(shipped, right="both"), env).annex_html
    assert "Annexe" in annex and "Camille" not in annex
    assert annex != letters.render_annex(env, "broker", "access", "fr")
    assert letters.annex_context("party", "access", "en") == {
        "recipient_kind": "party",
        "right": "access",
        "lang": "en",
    }


def no_fetch_render(pdf_renderer, html: str) -> bytes:
    """Lay the page out with a fetcher that refuses and records every URL."""
    import weasyprint

    asked = []

    def fetcher(url, *args, **kwargs):
        asked.append(url)
        raise ValueError("no fetching")

    data = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        font_config=pdf_renderer.font_config
    )
    assert asked == []
    return data


def test_html_format_is_the_batch_letter_and_fetches_nothing(
    runner, tmp_path, dsar_home, pdf_renderer
):
    csv_path = write_csv(tmp_path / "m.csv", [member(1), member(2)])
    association = tmp_path / "association.yaml"
    association.write_text(ASSOCIATION)
    out = tmp_path / "out"
    args = batch_args(csv_path, association, out, "--format", "pdf,html", "--workers", "1")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    pages = sorted(out.glob("DSAR-*.html"))
    assert len(pages) == 2
    for html_path in pages:
        html = html_path.read_text(encoding="utf-8")
        assert not FETCHABLE.search(html), FETCHABLE.search(html)
        assert "<style>" in html and "Annexe" in html
        pdf = html_path.with_suffix(".pdf").read_bytes()
        assert pdf_text(no_fetch_render(pdf_renderer, html)) == pdf_text(pdf)


def test_generate_html_format(runner, tmp_path, pdf_renderer):
    out = tmp_path / "out"
    args = ["generate", "--broker", "selfcontact", "--name", "Camille Martin", "--phone"]
    args += [
        "06 12 34 56 78",
        "--email",
        "camille@example.org",
        "--address",
        "1 rue X\n75001 Paris",
    ]
    args += ["--lang", "en", "--format", "html,pdf", "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    (html_path,) = out.glob("*.html")
    html = html_path.read_text(encoding="utf-8")
    assert not FETCHABLE.search(html)
    pdf = html_path.with_suffix(".pdf").read_bytes()
    assert pdf_text(no_fetch_render(pdf_renderer, html)) == pdf_text(pdf)
    assert oct(html_path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("rate", [0, 6000])
def test_each_message_is_settled_once_whatever_the_rate(shipped, env, tmp_path, rate):
    """Without a rate limit 'sent' is committed with the next message's hand-over; every
    message still ends 'sent' or 'failed', and each reaches the server once."""
    from dsar.journal import Journal
    from dsar.render import mail
    from dsar.sending import Smtp, SmtpSettings, send_outbox

    from . import smtp_server

    controller, recorder = smtp_server.start()
    recorder.permanent.add("refuse@example.org")
    try:
        with Journal(tmp_path / "journal.sqlite") as journal:
            recipients = ["a@example.org", "refuse@example.org", "b@example.org"]
            for i, recipient in enumerate(recipients):
                request = make_request(shipped, phone=f"06 12 34 56 7{i}")
                letter = letters.render(request, env)
                message = mail.build(letter)
                journal.record(request, subject=letter.subject, body_text="b", medium="email")
                journal.queue(
                    request.reference, message["Message-ID"], recipient, mail.to_bytes(message)
                )
            settings = SmtpSettings("127.0.0.1", controller.port, "none", rate_per_minute=rate)
            counts = send_outbox(journal, Smtp(settings), sender_for=lambda ref: "x@example.org")
            states = [state for state, _ in map(journal.outbox_status, _references(journal))]
    finally:
        controller.stop()
    assert counts == {"sent": 2, "failed": 1}
    assert states == ["sent", "failed", "sent"]
    assert sorted(recorder.received.values()) == [1, 1]


def _references(journal) -> list[str]:
    return [r[0] for r in journal.db.execute("SELECT reference FROM outbox ORDER BY rowid")]
