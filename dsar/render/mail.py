"""Letter -> RFC 5322 message, opened by mail clients as a draft to send."""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, localtime
from urllib.parse import quote

from .. import fields
from ..errors import DsarError
from ..models import Letter


def _address(name: str, email: str) -> Address:
    ascii_form = fields.ascii_email(email)
    if ascii_form is None:
        # Python would write an undeliverable encoded-word here (NOTES.md); refuse instead
        raise DsarError(
            f"{email} needs an internationalised (SMTPUTF8) mail system; give an ASCII address"
        )
    local, _, domain = ascii_form.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def message_id(letter: Letter) -> str:
    """Stable per request, so a resend after a crash is recognisably the same message."""
    request = letter.request
    sender = request.reply_email or "dsar.invalid"
    domain = (fields.ascii_email(sender) or "dsar.invalid").rpartition("@")[2]
    return f"<{request.reference.lower()}.{request.broker.slug}@{domain}>"


def build(letter: Letter, pdf: bytes | None = None, pdf_name: str | None = None) -> EmailMessage:
    request = letter.request
    sender_email = request.reply_email
    if not sender_email:
        raise DsarError("an e-mail needs the requester's address: give --email or set it with dsar init")
    message = EmailMessage(policy=policy.SMTP)
    sender_name = request.mandate.association.name if request.mandate else request.requester.name
    message["From"] = _address(sender_name, sender_email)
    message["Reply-To"] = _address(sender_name, sender_email)
    if request.recipient_email:
        message["To"] = _address(request.broker.name, request.recipient_email)
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(localtime())
    message["Message-ID"] = message_id(letter)
    message["X-Unsent"] = "1"  # Outlook and Thunderbird open the .eml as a draft
    message["X-DSAR-Reference"] = request.reference
    message.set_content(letter.body_text, charset="utf-8")
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=pdf_name or "letter.pdf"
        )
    return message


def mailto(letter: Letter) -> str | None:
    to = letter.request.recipient_email
    if not to:
        return None
    query = f"subject={quote(letter.subject)}&body={quote(letter.body_text)}"
    return f"mailto:{quote(to, safe='@')}?{query}"
