"""Every header line of every .eml dsar writes stays within the RFCs, whatever the names:
RFC 5322 (a line at most 998 octets; 78 is the SHOULD dsar keeps), RFC 2047 (an encoded
word at most 75 characters) and RFC 2231 (a long attachment name in continuations), and
each name reads back whole. A property test over random names (issue 21 item 11)."""

from __future__ import annotations

import dataclasses
import email
import re
from email.header import decode_header, make_header
from email.utils import parseaddr

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dsar import letters
from dsar.render import mail

from .conftest import make_request

ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=")
# what a name may hold: letters of any script, digits, punctuation, emoji and spaces,
# no control character (fields.text refuses them)
NAME_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn"), blacklist_characters="\t"
)
NAMES = st.text(NAME_CHARS, min_size=1, max_size=200).map(lambda s: " ".join(s.split()) or "x")


def header_lines(eml: bytes) -> list[bytes]:
    """The header lines of every part (the message's and each attachment's)."""
    lines = []
    for block in re.split(rb"\r\n--[^\r\n]+\r\n", eml):
        head = block.split(b"\r\n\r\n", 1)[0]
        lines += head.split(b"\r\n")
    return lines


def mailbox(raw: str) -> tuple[str, str]:
    """(name, address) decoded as RFC 2047 says, with the legacy API: policy.default's
    parser puts a space between adjacent encoded words, which RFC 2047 (6.2) drops."""
    value = raw.replace("\r\n", "").replace("\n", "")  # unfold: the blank after stays
    if "=?" not in value:
        return parseaddr(value)
    name, _sep, address = str(make_header(decode_header(value))).rpartition(" <")
    return name, address.rstrip(">")


def check(eml: bytes) -> None:
    for line in header_lines(eml):
        assert len(line) <= 78, line
        for word in ENCODED_WORD.findall(line):
            assert len(word) <= 75, word


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requester=NAMES, broker=NAMES, attachment=NAMES)
@example(requester="Camille " + "Martin" * 180, broker="B" * 1190, attachment="M" * 100)
@example(requester="É" * 200, broker="名" * 200, attachment="😀" * 100)
def test_every_header_line_is_folded_and_reads_back(shipped, env, requester, broker, attachment):
    request = make_request(shipped, "renaissance", name=requester[:200])
    request = dataclasses.replace(
        request, broker=request.broker.model_copy(update={"name": broker})
    )
    letter = letters.render(request, env)
    name = f"mandat-{attachment}.pdf"
    for attachments in (None, {name: b"%PDF-1.7 the signed mandate"}):
        eml = mail.to_bytes(mail.build(letter, attachments))
        check(eml)
        message = email.message_from_bytes(eml)
        assert mailbox(message["From"]) == (request.requester.name, request.reply_email)
        assert mailbox(message["To"]) == (broker, request.recipient_email)
        assert str(make_header(decode_header(message["Subject"]))) == letter.subject
        if attachments:
            [part] = [p for p in message.walk() if p.get_filename()]
            assert part.get_filename() == name
