"""Which request a reply answers, and how sure that is.

In order: the reply address dsar gave the request (a sub-address), the Message-ID dsar
sent (In-Reply-To, References, or the returned message of a bounce), a dsar reference in
the subject or the text (quoted text and subjects rewritten by ticket systems included),
then the sender against the contacts of the one recipient with an open request. A
reference named by a sender unrelated to that request's recipient is matched but never
trusted: nothing is applied without the person (someone else's reference, or a phish).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .parse import Reply

REFERENCE = re.compile(r"dsar-[a-z2-9]{4}-[a-z2-9]{4}", re.I)
SUBADDRESS = re.compile(r"\+(dsar-[a-z2-9]{4}-[a-z2-9]{4})@", re.I)
# where anyone has an address: the domain says nothing of who wrote
WEBMAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.fr",
        "live.com",
        "yahoo.com",
        "yahoo.fr",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "icloud.com",
        "me.com",
        "protonmail.com",
        "proton.me",
        "gmx.fr",
        "gmx.com",
        "aol.com",
        "bbox.fr",
        "neuf.fr",
    ]
)
_MAIL_SYSTEM = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
CLOSED = ("answered", "closed", "draft")


@dataclass(frozen=True)
class Request:
    """What matching needs of one request in the journal."""

    reference: str
    broker: str
    member: str | None
    state: str
    addresses: frozenset[str]  # the recipient's e-mail contacts
    domains: frozenset[str]  # their domains and the recipient's web site's
    email: str | None = None  # where the request was sent


@dataclass
class Index:
    requests: dict[str, Request] = field(default_factory=dict)
    message_ids: dict[str, str] = field(default_factory=dict)  # <id> lower case -> reference

    def add(self, request: Request, message_ids=()) -> None:
        self.requests[request.reference] = request
        for mid in message_ids:
            if mid:
                self.message_ids[mid.strip().lower()] = request.reference


@dataclass
class Match:
    reference: str | None
    matched_by: str | None  # subaddress, in-reply-to, returned-message, reference, sender-*
    trusted: bool = False  # may facts be applied without the person?
    candidates: list[str] = field(default_factory=list)  # when the sender fits several


def domain_of(address_or_url: str) -> str:
    if "@" in address_or_url:
        return address_or_url.rpartition("@")[2].lower()
    return (urlsplit(address_or_url).hostname or "").lower().removeprefix("www.")


def related(domain: str, domains: frozenset[str]) -> bool:
    """Same organisation by its domain: equal, or one a sub-domain of the other
    (mail.example.fr and example.fr); a webmail domain relates to nothing."""
    if not domain or domain in WEBMAIL:
        return False
    return any(
        domain == d or domain.endswith("." + d) or d.endswith("." + domain) for d in domains if d
    )


def _sender_fits(reply: Reply, request: Request) -> bool:
    return reply.sender in request.addresses or related(reply.domain, request.domains)


def match(reply: Reply, index: Index) -> Match:
    for address in reply.recipients:
        found = SUBADDRESS.search(address)
        if found and found.group(1).upper() in index.requests:
            return Match(found.group(1).upper(), "subaddress", trusted=True)
    for mid in reply.in_reply_to:
        if mid in index.message_ids:
            return Match(index.message_ids[mid], "in-reply-to", trusted=True)
    for mid in reply.returned_ids:
        if mid in index.message_ids:
            return Match(index.message_ids[mid], "returned-message", trusted=True)
    for text in (reply.subject, reply.text, reply.embedded_text):
        named = []
        for found in REFERENCE.finditer(text):
            reference = found.group(0).upper()
            if reference in index.requests and reference not in named:
                named.append(reference)
        if named:
            fitting = [r for r in named if _sender_fits(reply, index.requests[r])]
            if fitting:
                return Match(fitting[0], "reference", trusted=True)
            # a bounce comes from the mail system, not from the recipient: only the
            # reference in the message it returns says which request it was
            trusted = bool(_MAIL_SYSTEM.match(reply.sender)) and len(named) == 1
            return Match(named[0], "reference", trusted=trusted, candidates=named)
    open_requests = [r for r in index.requests.values() if r.state not in CLOSED]
    by_address = [r.reference for r in open_requests if reply.sender in r.addresses]
    if len(by_address) == 1:
        return Match(by_address[0], "sender-address", trusted=True)
    by_domain = [r.reference for r in open_requests if related(reply.domain, r.domains)]
    if len(by_domain) == 1:
        return Match(by_domain[0], "sender-domain", trusted=True)
    return Match(None, None, candidates=sorted(set(by_address or by_domain)))


def contacts_of(broker, request_email: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """A recipient's e-mail addresses and domains, from the registry and the request."""
    addresses = {c.value.lower() for c in broker.contacts if c.kind in ("email", "dpo-email")}
    if request_email:
        addresses.add(request_email.lower())
    domains = {domain_of(a) for a in addresses}
    for url in (broker.web, broker.privacy_policy):
        if url:
            domains.add(domain_of(str(url)))
    return frozenset(addresses), frozenset(d for d in domains if d and d not in WEBMAIL)
