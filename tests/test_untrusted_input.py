"""What a person types is data: never template code, never markup, never a URL to fetch."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from dsar import compose, letters, profile
from dsar.errors import InputError
from dsar.render import html as page
from dsar.render import mail
from dsar.render.pdf import PdfRenderer

from .conftest import flat, parse_eml, pdf_text
from .test_mail_headers import reads_back

NASTY = [
    "{{ 7*7 }}",
    "{% raw %}x{% endraw %}",
    "{{ request.broker.__class__ }}",
    "<b>bold</b>",
    "<img src='http://127.0.0.1:9/x.png'>",
    "<link rel=attachment href=file:///etc/hostname>",
    "</p><script>alert(1)</script>",
    "Dupont & Fils",
    "url(http://127.0.0.1:9/)",
    "https://evil.example/track?id=1",
    "a" * 3000,
    "Zoë Ñúñez-Łukasz 王小明 محمد",
    "\u2011\u00a0\u202e",
    "😀" * 5,
]
# any Unicode a person can type: no control characters or lone surrogates (refused by name)
typed = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=300),
)
multiline = st.lists(typed, min_size=1, max_size=4).map("\n".join)


def build(shipped, name, address, sms_sender, sms_text, broker="renaissance"):
    person = profile.requester(name, address, "06 12 34 56 78", "camille@example.org")
    evidence = compose.evidence("sms", "2024-06-06", None, sms_sender, sms_text)
    return compose.build_request(shipped, broker, person, evidence, letter_date=date(2026, 11, 23))


def assert_literal(value: str, text: str):
    assert flat(value) in flat(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=typed, address=multiline, sms_sender=typed, sms_text=multiline)
# found at DSAR_TEST_TODAY=2027-01-29: its From came back with a space inside a word
@example(name="00" + "\xa0" * 10 + "𐀀" * 6, address="x", sms_sender="x", sms_text="x")
def test_text_and_email_carry_values_literally(shipped, env, name, address, sms_sender, sms_text):
    try:
        request = build(shipped, name, address, sms_sender, sms_text)
    except InputError:
        reject()  # refused with the field's name (tested below): not an example of a letter
    letter = letters.render(request, env)
    for value in (request.requester.name, request.evidence.sender):
        assert_literal(value, letter.body_text)
    for line in request.requester.address.splitlines():
        assert_literal(line, letter.body_text)
    quoted = "\n".join(s[2:] for s in letter.body_text.splitlines() if s.startswith("> "))
    for line in request.evidence.text.splitlines():
        assert_literal(line, quoted)
    # template syntax stays text (checked literally above); markup stays escaped in the HTML
    assert "<script>" not in letter.body_html and "<img" not in letter.body_html
    eml = mail.to_bytes(mail.build(letter))
    reads_back(eml, "From", request.requester.name, request.reply_email)
    message = parse_eml(eml)
    assert flat(request.requester.name) in flat(message.get_body(("plain",)).get_content())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(name=typed, address=multiline, sms_sender=typed, sms_text=multiline)
def test_pdf_never_crashes_and_fetches_nothing(
    shipped, env, pdf_renderer, name, address, sms_sender, sms_text
):
    try:
        request = build(shipped, name, address, sms_sender, sms_text)
    except InputError:
        reject()
    pdf_renderer.fetcher.refused.clear()
    # the core page only: every typed value is on it (the annex holds nothing personal,
    # test_letters proves it), at a third of a whole letter's layout
    letter = letters.render(request, env)
    data, _pages = pdf_renderer.render_cores([page.section(env, letter, annex_apart=True)])
    assert data.startswith(b"%PDF")
    pdf_text(data)  # readable back
    assert pdf_renderer.fetcher.refused == []  # escaped values never become resources


@pytest.mark.parametrize("value", NASTY[:10])
def test_nasty_values_appear_literally_in_pdf(shipped, env, pdf_renderer, value):
    request = build(shipped, "Camille Martin", "1 rue X\n75001 Paris", "Sender", value)
    text = flat(pdf_text(pdf_renderer.render(letters.render(request, env))))
    assert flat(value)[:200] in text


def test_control_characters_are_refused_by_name(shipped):
    with pytest.raises(InputError) as info:
        build(shipped, "Camille\x00", "", "", "")
    assert info.value.field == "name" and "U+0000" in info.value.reason
    with pytest.raises(InputError) as info:
        build(shipped, "Camille", "", "", "bad \x1b[31m escape")
    assert info.value.field == "sms_text"


def test_ampersand_is_not_escaped_in_text(shipped, env):
    letter = letters.render(build(shipped, "Dupont & Fils", "", "", ""), env)
    assert "Dupont & Fils" in letter.body_text and "&amp;" not in letter.body_text
    assert "Dupont &amp; Fils" in letter.body_html


def test_user_template_cannot_reach_files_or_network(shipped, tmp_path):
    """Even a hostile template override cannot embed a local file or fetch a URL."""
    override = tmp_path / "templates"
    (override / "letters" / "fr").mkdir(parents=True)
    (override / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    (override / "letters" / "fr" / "request.html.j2").write_text(
        "<p>Bonjour {{ requester.name }}</p>"
        '<img src="http://127.0.0.1:9/pixel.png">'
        '<img src="file:///etc/hostname">'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<img src="logo.svg">'
    )
    env = letters.environment(override)
    renderer = PdfRenderer(env, [override, letters.SHIPPED_TEMPLATES])
    data = renderer.render(letters.render(build(shipped, "Camille", "", "", ""), env))
    assert set(renderer.fetcher.refused) == {
        "http://127.0.0.1:9/pixel.png",
        "file:///etc/hostname",
        "file:///etc/passwd",
    }
    assert b"/EmbeddedFile" not in data and b"root:" not in data
    assert "Bonjour Camille" in pdf_text(data)


def test_template_override_by_name(shipped, tmp_path):
    override = tmp_path / "t"
    (override / "letters" / "en").mkdir(parents=True)
    (override / "letters" / "en" / "request.subject.txt.j2").write_text(
        "My subject {{ reference }}"
    )
    env = letters.environment(override)
    request = build(shipped, "Camille", "", "", "")
    request = compose.build_request(
        shipped,
        "renaissance",
        request.requester,
        request.evidence,
        lang="en",
        letter_date=date(2026, 11, 23),
    )
    letter = letters.render(request, env)
    assert letter.subject == f"My subject {request.reference}"
    assert "Art. 15(1)(g)" in flat(letter.body_text)  # the body still comes from the shipped one


def test_html_to_text_unescapes_exactly_once(shipped, env, pdf_renderer):
    from dsar.render.text import html_to_text

    assert html_to_text("<p>a &lt;b&gt; &amp; &#39;c&#39;</p>") == "a <b> & 'c'\n"
    # entities and markup a person typed are text: escaped once, unescaped once, never fetched
    typed = "Tom &amp; Jerry &lt;b&gt; <img src='http://127.0.0.1:9/x.png'>"
    letter = letters.render(build(shipped, "Camille", "", "Sender", typed), env)
    assert typed in letter.body_text
    message = parse_eml(mail.build(letter).as_bytes())
    assert_literal(typed, message.get_body(("plain",)).get_content())
    pdf_renderer.fetcher.refused.clear()
    assert_literal(typed, pdf_text(pdf_renderer.render(letter)))
    assert pdf_renderer.fetcher.refused == []  # the URL stayed text: nothing to fetch
