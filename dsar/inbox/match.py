"""Which request a reply answers, and how sure that is.

In order: the reply address dsar gave the request (a sub-address), the Message-ID dsar
sent (In-Reply-To, References, or the returned message of a bounce), a dsar reference in
the subject or the text (quoted text and subjects rewritten by ticket systems included),
then the sender against the contacts of the one recipient with an open request.

Whatever matched, a message is trusted (applied without the person) only when its sender
is related to the request's recipient: their address, or their registrable domain (by the
Public Suffix List, so 'fr', 'gouv.fr' or 'co.uk' relate to nothing). Every header is
forgeable and dsar's Message-IDs and references are guessable: a message from anyone else
is matched but only proposed. A bounce is the mail system's: its sender must be the
requester's own mail domain or the recipient's. Two references that fit: the person picks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .parse import Reply

REFERENCE = re.compile(r"dsar-[a-z2-9]{4}-[a-z2-9]{4}", re.I)
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
# one provider's mail system under another of its names (Gmail bounces from googlemail.com)
_SAME_PROVIDER = {
    "googlemail.com": "gmail.com",
    **dict.fromkeys(
        ("hotmail.com", "hotmail.fr", "live.com", "live.fr", "outlook.fr"), "outlook.com"
    ),
}
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
    reply_to: str | None = None  # the sub-address the request asked answers at, if any
    own_domain: str = ""  # the requester's (or association's) mail domain


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


@functools.cache
def _suffixes():
    import tldextract  # slow to import: only once a domain is compared

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """The domain an organisation registered: 'mail.datacontact.fr' -> 'datacontact.fr';
    '' for a public suffix ('fr', 'gouv.fr', 'co.uk'). The Public Suffix List as
    tldextract ships it, never fetched; a TLD the list does not know is one label (its
    default rule '*'), as for the corpus's '.example'."""
    domain = domain.lower().strip().strip(".")
    if not domain or "." not in domain:
        return ""
    parts = _suffixes()(domain)
    if parts.suffix:
        return f"{parts.domain}.{parts.suffix}" if parts.domain else ""
    labels = domain.split(".")
    return ".".join(labels[-2:]) if all(labels[-2:]) else ""


def related(domain: str, domains: frozenset[str]) -> bool:
    """Same organisation by its domain: the same registrable domain (mail.example.fr
    and example.fr); a webmail domain or a public suffix relates to nothing."""
    mine = registrable(domain)
    if not mine or mine in WEBMAIL or domain in WEBMAIL:
        return False
    return any(registrable(d) == mine for d in domains if d)


def _mail_system_fits(reply: Reply, request: Request) -> bool:
    """A bounce comes from the requester's own mail system or the recipient's."""
    if not _MAIL_SYSTEM.match(reply.sender):
        return False
    mine = registrable(reply.domain)
    mine = _SAME_PROVIDER.get(mine, mine)
    own = registrable(request.own_domain)
    return bool(mine) and (mine == _SAME_PROVIDER.get(own, own) or related(mine, request.domains))


def _sender_fits(reply: Reply, request: Request) -> bool:
    return (
        reply.sender in request.addresses
        or related(reply.domain, request.domains)
        or _mail_system_fits(reply, request)
    )


def match(reply: Reply, index: Index) -> Match:
    def found(reference: str, how: str) -> Match:
        request = index.requests[reference]
        return Match(reference, how, trusted=_sender_fits(reply, request))

    for address in reply.recipients:  # only the sub-address a request asked answers at
        for request in index.requests.values():
            if request.reply_to and address == request.reply_to.lower():
                return found(request.reference, "subaddress")
    for mid in reply.in_reply_to:
        if mid in index.message_ids:
            return found(index.message_ids[mid], "in-reply-to")
    for mid in reply.returned_ids:
        if mid in index.message_ids:
            return found(index.message_ids[mid], "returned-message")
    for text in (reply.subject, reply.text, reply.embedded_text):
        named = []
        for hit in REFERENCE.finditer(text):
            reference = hit.group(0).upper()
            if reference in index.requests and reference not in named:
                named.append(reference)
        if named:
            fitting = [r for r in named if _sender_fits(reply, index.requests[r])]
            if len(fitting) == 1:
                return Match(fitting[0], "reference", trusted=True)
            if len(fitting) > 1:  # which one it answers is the person's call
                return Match(None, "reference", candidates=fitting)
            return Match(named[0], "reference", candidates=named)
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
