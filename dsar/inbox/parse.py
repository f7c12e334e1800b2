"""A message read as hostile: bounded work whatever it holds, never a traceback.

The standard library's parser with the compat32 policy (the default one's header parser
is slow on a 1 MB header); headers are cut before they are decoded; parts are walked
without recursion and counted; text of undeclared or wrong charset is decoded with
charset-normalizer; attachments are kept as bytes, never opened here.
"""

from __future__ import annotations

import email
import email.header
import email.parser
import email.utils
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from charset_normalizer import from_bytes
from flufl.bounce import all_failures

MAX_PARTS = 500  # parts looked at; a message with 10,000 is read up to here
MAX_DEPTH = 8  # message/rfc822 inside message/rfc822...
MAX_HEADER = 2000  # characters of a header value decoded
MAX_TEXT = 64 * 1024  # characters of body text read for meaning
MAX_ATTACHMENTS = 50
WESTERN = ["cp1252", "iso8859_15", "latin_1", "mac_roman", "cp850", "utf_16"]

_MESSAGE_ID = re.compile(rb"<[^<>\s]{1,500}>")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class Delivery:
    """One recipient of an RFC 3464 delivery report."""

    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass
class Reply:
    message_id: str | None
    in_reply_to: list[str]
    sender: str  # the From address, lower case
    sender_name: str
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To: where a sub-address shows
    subject: str
    sent: datetime | None
    headers: dict[str, str]  # the few that decide (Auto-Submitted, X-Autoreply, ...)
    text: str
    embedded_text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)  # Message-IDs of a returned message
    report_type: str = ""
    bounced: list[str] = field(default_factory=list)  # addresses a bounce says failed
    truncated: bool = False

    @property
    def day(self) -> date | None:
        return self.sent.date() if self.sent else None

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2]


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text in whatever charset it claims, or the one it looks like; never raises."""
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeError, ValueError):  # "undefined": UnicodeError
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # the Western charsets first (most wrong labels are one of these), then any
    best = (
        from_bytes(data[:MAX_TEXT], cp_isolation=WESTERN).best()
        or from_bytes(data[:MAX_TEXT]).best()
    )
    if best is not None:
        return str(best)
    return data.decode("latin-1")


def header_text(value) -> str:
    """A header's value as text: encoded words decoded, cut, one line."""
    if value is None:
        return ""
    raw = str(value)[:MAX_HEADER]
    try:
        pieces = email.header.decode_header(raw)
    except Exception:  # a malformed encoded word: keep it as it came
        return " ".join(raw.split())
    try:  # spaces between plain and encoded words as RFC 2047 says
        text = str(email.header.make_header(pieces))
    except Exception:  # an unknown or lying charset: each piece decoded as it can be
        text = " ".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in pieces
        )
    return " ".join(text.split())


def _addresses(values) -> list[str]:
    """Every address in these headers (To, Cc...): a sub-address is looked for in them."""
    found = []
    for value in values or ():
        found += (a.lower() for a in _ADDRESS.findall(str(value)[:MAX_HEADER]))
    return found[:50]


def message_ids(value) -> list[str]:
    if value is None:
        return []
    raw = str(value)[: MAX_HEADER * 5].encode("utf-8", "replace")
    return [m.decode("ascii", "replace").lower() for m in _MESSAGE_ID.findall(raw)][:100]


def _date(value) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(header_text(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _payload(part) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _part_text(part) -> str:
    return decode_bytes(_payload(part), part.get_content_charset())


_HIDDEN = re.compile(r"<(script|style)\b", re.I)
MAX_TAG = 2000  # a '<' with no '>' this far is text, not a tag


def _html_text(html: str) -> str:
    """The text of HTML, tags and scripts out, in one pass: a regex (or html.parser)
    took 13 s on '<script' written 9,000 times, trying each one to the end."""
    import html as entities

    html = html[:MAX_TEXT]
    lower, out, at = html.lower(), [], 0
    while (start := html.find("<", at)) >= 0:
        out.append(html[at:start])
        hidden = _HIDDEN.match(html, start)
        if hidden:  # up to its closing tag, or the end when none closes it
            close = lower.find("</" + hidden.group(1).lower(), hidden.end())
            end = html.find(">", close) if close >= 0 else -1
        else:
            end = html.find(">", start + 1, start + MAX_TAG)
            if end < 0:
                out.append("<")
                at = start + 1
                continue
        out.append(" ")
        at = end + 1 if end >= 0 else len(html)
    out.append(html[at:])
    return entities.unescape("".join(out))


def _diagnostic_text(value: str) -> str:
    """'smtp; 550 5.1.1 ...' -> '550 5.1.1 ...' (the type named before the first ';')."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value


def _delivery_reports(part) -> list[Delivery]:
    """message/delivery-status: per-message fields, then one block per recipient."""
    blocks = part.get_payload()
    if not isinstance(blocks, list):  # some mailers send it as text: parse the text
        text = _part_text(part)
        blocks = [email.message_from_string(b) for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    found = []
    for block in blocks[1:20]:
        recipient = header_text(block.get("Final-Recipient") or block.get("Original-Recipient"))
        if not recipient:
            continue
        found.append(
            Delivery(
                recipient=recipient.rpartition(";")[2].strip().strip("<>").lower(),
                action=header_text(block.get("Action")).lower(),
                status=header_text(block.get("Status")),
                diagnostic=_diagnostic_text(header_text(block.get("Diagnostic-Code"))),
            )
        )
    return found


_LOOKS_BOUNCED = re.compile(
    r"mailer-daemon|postmaster|undeliver|delivery status|failure notice|returned mail|"
    r"non remis|echec de la remise|échec de la remise|delivery has failed",
    re.I,
)


def _failed_recipients(root) -> list[str]:
    """The addresses a bounce says failed for good, as GNU Mailman's detectors read them
    (RFC 3464 reports and the Postfix, Exim, Exchange, Gmail... forms)."""
    try:
        _temporary, permanent = all_failures(root)
    except Exception:  # a detector choking on a hostile message is no bounce found
        return []
    found = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in permanent]
    return sorted(a.lower() for a in found if _ADDRESS.fullmatch(a))[:20]


def parse(data: bytes) -> Reply:
    """What dsar needs of a message; bounded in time and memory whatever it holds, and
    never an exception: a message the parser cannot take whole (2,000 nested messages
    exhaust its recursion) is read by its headers alone, so sender and subject stay."""
    try:
        return _parse(email.message_from_bytes(data))
    except Exception:  # RecursionError, or a part no reader expected
        pass
    try:
        root = email.parser.BytesHeaderParser().parsebytes(data[: 1 << 20])
        reply = _parse(root, body=False)
    except Exception:
        reply = Reply(None, [], "", "", [], "", None, {}, "")
    reply.truncated = True
    return reply


def _parse(root, *, body: bool = True) -> Reply:
    texts: list[str] = []
    embedded: list[str] = []  # text of a returned or forwarded message: for references only
    size = 0
    attachments: list[Attachment] = []
    deliveries: list[Delivery] = []
    returned: list[str] = []
    seen = 0
    truncated = False
    stack = [(root, 0)] if body else []
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS or depth > MAX_DEPTH:
            truncated = True
            break
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            deliveries += _delivery_reports(part)
            continue
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                continue
            if ctype == "message/rfc822" or ctype == "message/global":
                for child in children[:1]:
                    returned += message_ids(child.get("Message-ID"))
                    stack.append((child, depth + 1))
                continue
            # keep the order of reading: the first part first
            stack.extend((child, depth) for child in reversed(children[: MAX_PARTS + 1]))
            continue
        if ctype == "text/rfc822-headers":
            headers = email.message_from_bytes(_payload(part)[:MAX_TEXT])
            returned += message_ids(headers.get("Message-ID"))
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = header_text(part.get_filename()) if part.get_filename() else ""
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            if size < MAX_TEXT:
                text = _part_text(part)
                text = _html_text(text) if ctype == "text/html" else text
                (texts if depth == 0 else embedded).append(text[: MAX_TEXT - size])
                size += len(text[: MAX_TEXT - size])
            continue
        if len(attachments) < MAX_ATTACHMENTS:
            attachments.append(
                Attachment(name=filename or "attachment", content_type=ctype, data=_payload(part))
            )
        else:
            truncated = True
    sender_name, sender = email.utils.parseaddr(header_text(root.get("From")))
    recipients = _addresses(
        root.get_all("To", [])
        + root.get_all("Cc", [])
        + root.get_all("Delivered-To", [])
        + root.get_all("X-Original-To", [])
    )
    report_type = ""
    if root.get_content_type() == "multipart/report":
        report_type = (root.get_param("report-type") or "").lower()
    subject = header_text(root.get("Subject"))
    bounced = []
    if report_type == "delivery-status" or _LOOKS_BOUNCED.search(f"{sender} {subject}"):
        bounced = _failed_recipients(root)
    return Reply(
        message_id=(message_ids(root.get("Message-ID")) or [None])[0],
        in_reply_to=message_ids(root.get("In-Reply-To")) + message_ids(root.get("References")),
        sender=(sender or "").lower()[:320],
        sender_name=sender_name[:200],
        recipients=recipients,
        subject=subject,
        sent=_date(root.get("Date")),
        headers={
            name: header_text(root.get(name))
            for name in (
                "Auto-Submitted",
                "X-Autoreply",
                "X-Autorespond",
                "Precedence",
                "X-Spam-Flag",
                "X-Spam-Status",
                "Return-Path",
            )
            if root.get(name) is not None
        },
        text="\n".join(texts),
        embedded_text="\n".join(embedded),
        attachments=attachments,
        deliveries=deliveries,
        returned_ids=returned[:20],
        report_type=report_type,
        bounced=bounced,
        truncated=truncated,
    )
