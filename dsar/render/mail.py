"""Letter -> RFC 5322 message, opened by mail clients as a draft to send.

Built with the legacy MIME API on purpose: Python 3.11's EmailMessage folder drops the
space between encoded words when it folds a long non-ASCII Subject ("06 12 34 56 78"
arrived as "06 12 34 5678" in 417 of 3,000 random subjects here); email.header.Header
round-tripped all 3,000, and the legacy API is also ~5x faster (NOTES.md).
"""

from __future__ import annotations

import base64
import binascii
import re
from email.charset import QP, Charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from urllib.parse import quote

from .. import fields
from ..errors import DsarError
from ..models import Letter


class _Utf8QuotedPrintable(Charset):
    """UTF-8 bodies as quoted-printable, readable French in the raw source (unlike
    base64), encoded by binascii's C encoder: the email package's own is pure Python
    (0.26 ms a letter against 0.07). Both write the same lines but for two cases:
    binascii escapes a line that is a lone dot (=2E), which only makes the message
    safer; and a line ending in a space or tab near the 76th character comes out 77 or
    78 long (RFC 2045 says 76, SMTP takes 998), which a letter never has: its text has
    no blank at a line's end (render/text.py)."""

    def __init__(self):
        super().__init__("utf-8")
        self.body_encoding = QP

    def body_encode(self, string):
        if not string:
            return string
        if isinstance(string, str):
            string = string.encode(self.output_charset)
        return binascii.b2a_qp(string, istext=True).decode("ascii")


_UTF8_QP = _Utf8QuotedPrintable()
# headers folded to 76: a continuation line is a space and one encoded word of 75 at most
_CRLF = compat32.clone(linesep="\r\n", max_line_length=76)


# RFC 5322 lines stop at 998 octets (78 recommended); RFC 2047 encoded words at 75
# characters. compat32 folds a header at its spaces; a name that cannot be written as
# plain words is handed to it as encoded words that each fit (_encoded_words).
LINE = 78
# the UTF-8 bytes of one encoded word (base64) that fits the first line, beside
# "Reply-To: " in a line of 76 (_CRLF): 66 characters, 39 bytes
WORD_BYTES = 3 * ((_CRLF.max_line_length - len("Reply-To: ") - len("=?utf-8?b??=")) // 4)


def _encoded_words(text: str) -> list[str]:
    """text as RFC 2047 encoded words (UTF-8, base64) of WORD_BYTES at most, a character
    never cut between two.

    A word ends after a blank of the text where it can, the blank encoded inside it:
    readers drop the folding between two encoded words (RFC 2047 6.2), but Python's
    email.policy up to 3.13 reads a space there in a display name (CPython gh-128110),
    which put a space in the middle of a word of the name when a word was cut anywhere.
    Only a run of text too long for one encoded word is cut between characters."""
    words, current = [], ""
    for piece in re.findall(r"\S+\s*|\s+", text):
        size = len(piece.encode())
        if current and len(current.encode()) + size > WORD_BYTES >= size:
            words.append(current)  # the piece goes whole into the next word
            current = ""
        whole = len(current.encode()) + size <= WORD_BYTES
        for part in [piece] if whole else piece:  # too long for any word: by characters
            if current and len((current + part).encode()) > WORD_BYTES:
                words.append(current)
                current = ""
            current += part
    words.append(current)
    return [f"=?utf-8?b?{base64.b64encode(w.encode()).decode('ascii')}?=" for w in words]


def _mailbox(name: str, email: str, header: str) -> str:
    ascii_form = fields.ascii_email(email)
    if ascii_form is None:
        # Python would write an undeliverable encoded-word here (NOTES.md); refuse instead
        raise DsarError(
            f"{email} needs an internationalised (SMTPUTF8) mail system; give an ASCII address"
        )
    plain = formataddr((name, ascii_form))
    # an ASCII name folds at its spaces; one that cannot (non-ASCII, or a word longer
    # than a line) becomes encoded words, as many as it takes, each within 75 characters
    # ("=?" in a plain name would read as an encoded word)
    fits = all(len(w) < LINE - len(header) - 2 for w in plain.split())
    if name.isascii() and fits and "=?" not in name:
        return plain
    return " ".join([*_encoded_words(name), f"<{ascii_form}>"])


def _attachment(message, filename: str) -> None:
    """Content-Disposition with the file name: quoted when it is short ASCII, else in
    RFC 2231 continuations (filename*0*=utf-8''...; filename*1*=...), each on a line."""
    value = f'attachment; filename="{filename}"'
    if (
        filename.isascii()
        and len(value) <= LINE - len("Content-Disposition: ")
        and '"' not in filename
    ):
        message.add_header("Content-Disposition", value)
        return
    encoded = quote(filename, safe="")
    pieces, start = [], 0
    while start < len(encoded):  # never split inside a %XX escape
        end = min(start + 50, len(encoded))
        while "%" in encoded[max(end - 2, start) : end]:
            end -= 1
        pieces.append(encoded[start:end])
        start = end
    parts = [
        f"filename*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{p}" for i, p in enumerate(pieces)
    ]
    message["Content-Disposition"] = "; ".join(["attachment", *parts])


def message_id(letter: Letter) -> str:
    """Stable per request, so a resend after a crash is recognisably the same message."""
    return message_id_for(letter.request)


def message_id_for(request) -> str:
    """The Message-ID of a request's e-mail: replies name it in In-Reply-To (dsar inbox)."""
    domain = fields.ascii_email(request.reply_email or "x@dsar.invalid") or "x@dsar.invalid"
    return f"<{request.reference.lower()}.{request.broker.slug}@{domain.rpartition('@')[2]}>"


def build(letter: Letter, attachments: dict[str, bytes] | None = None):
    """The message as an email.message.Message; to_bytes() gives the .eml.

    `attachments` maps file names to PDF bytes (the signed mandate, for associations).
    """
    request = letter.request
    sender_email = request.reply_email
    if not sender_email:
        raise DsarError(
            "an e-mail needs the requester's address: give --email or set it with dsar init"
        )
    sender_name = request.mandate.association.name if request.mandate else request.requester.name
    body = MIMEText(letter.body_text, "plain", _UTF8_QP)
    if not attachments:
        message = body
    else:
        message = MIMEMultipart()
        message.attach(body)
        for name, data in attachments.items():
            attachment = MIMEApplication(data, "pdf")
            _attachment(attachment, name)
            message.attach(attachment)
    message["From"] = _mailbox(sender_name, sender_email, "From")
    message["Reply-To"] = _mailbox(sender_name, request.reply_to, "Reply-To")
    if request.recipient_email:
        message["To"] = _mailbox(request.broker.name, request.recipient_email, "To")
    message["Subject"] = Header(letter.subject, "utf-8", header_name="Subject")
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(letter)
    message["X-Unsent"] = "1"  # Outlook and Thunderbird open the .eml as a draft
    message["X-DSAR-Reference"] = request.reference
    return message


def to_bytes(message) -> bytes:
    """CRLF line ends: smtplib sends bytes as they are, and RFC 5322 wants CRLF."""
    return message.as_bytes(policy=_CRLF)


# many Windows mail clients cut a mailto: link at about 2,000 characters (a whole letter
# made links of 16,000): the link carries a short note, the letter is pasted or attached
MAILTO_LIMIT = 1800

_MAILTO_NOTE = {
    "fr": (
        "Madame, Monsieur,\n\nVeuillez trouver ci-dessous ma demande (réf. {reference}).\n\n"
        "[Collez ici le texte complet de la lettre, copié depuis dsar, ou joignez son PDF.]"
        "\n\n{name}"
    ),
    "en": (
        "Dear Sir or Madam,\n\nPlease find my request below (ref. {reference}).\n\n"
        "[Paste the full text of the letter here, copied from dsar, or attach its PDF.]"
        "\n\n{name}"
    ),
}


def mailto(letter: Letter) -> str | None:
    """A mailto: link short enough for every mail client: the subject, and a note where
    the person pastes the letter (the .eml carries it whole)."""
    request = letter.request
    to = request.recipient_email
    if not to:
        return None
    name = request.mandate.association.name if request.mandate else request.requester.name
    note = _MAILTO_NOTE.get(request.lang, _MAILTO_NOTE["en"]).format(
        reference=request.reference, name=name
    )
    head = f"mailto:{quote(to, safe='@')}?subject={quote(letter.subject)}"
    link = f"{head}&body={quote(note)}"
    if len(link) <= MAILTO_LIMIT:
        return link
    if len(head) <= MAILTO_LIMIT:  # a very long name: the subject alone
        return head
    return f"mailto:{quote(to, safe='@')}?subject={quote(request.reference)}"
