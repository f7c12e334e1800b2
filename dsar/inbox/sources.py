"""Where replies are read from: an mbox file, a Maildir, a folder of .eml files (read in
place, with the standard library's mailbox), or an IMAP folder (imap-tools: TLS
verified, read-only: EXAMINE and BODY.PEEK, so no flag changes; from the first UID not
yet read, under the folder's UIDVALIDITY)."""

from __future__ import annotations

import contextlib
import mailbox
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import DsarError, UsageError
from ..files import MAX_EVIDENCE_BYTES
from ..i18n import _

IMAP_SECURITY = ("ssl", "starttls", "none")
FETCH_BULK = 100  # messages per FETCH: few round trips, bounded memory


@dataclass
class Raw:
    data: bytes
    where: str  # for people: the file, or the folder and UID
    uid: int | None = None
    size: int | None = None  # the whole message's, when data holds its head only

    @property
    def too_big(self) -> bool:
        return (self.size or len(self.data)) > MAX_EVIDENCE_BYTES


HEAD = 1 << 20  # what is read of a message over the limit: its headers, for the review


def _message_file(path: Path) -> Raw:
    """A message in a file of its own; one over the evidence limit is read by its head."""
    size = path.stat().st_size
    if size <= MAX_EVIDENCE_BYTES:
        return Raw(path.read_bytes(), str(path))
    with path.open("rb") as handle:
        return Raw(handle.read(HEAD), str(path), size=size)


@dataclass(frozen=True)
class ImapAddress:
    user: str
    host: str
    port: int | None
    folder: str

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}:{self.port or ''}/{self.folder}"


def imap_address(source: str) -> ImapAddress | None:
    """imaps://USER@HOST[:PORT]/FOLDER (or imap://), else None."""
    if not re.match(r"^imaps?://", source, re.I):
        return None
    try:
        parts = urlsplit(source)
        port, user, host, password = parts.port, parts.username, parts.hostname, parts.password
    except ValueError:  # 'imaps://u@[::1/x': a bracket left open, a port not a number
        port, user, host, password = -1, None, None, None
    if not user or not host or port == -1 or password:
        shown = re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", source)  # never the password
        raise UsageError(
            _("{source}: write it imaps://USER@HOST[:PORT]/FOLDER (the password is asked)").format(
                source=shown
            )
        )
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapAddress(unquote(user), host, port, folder)


def read_files(path: Path) -> Iterator[Raw]:
    """An mbox file, a single .eml, a Maildir, or a folder of .eml files."""
    if path.is_file():
        if path.suffix.lower() == ".eml" or not _looks_like_mbox(path):
            yield _message_file(path)
            return
        box = mailbox.mbox(path, create=False)
        try:
            for key in box.iterkeys():
                yield Raw(box.get_bytes(key), f"{path}#{key}")
        finally:
            box.close()
        return
    if not path.is_dir():
        raise DsarError(_("{path}: no such file or folder").format(path=path))
    if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        folder = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(folder.iterkeys()):
            yield _message_file(path / folder._lookup(key))  # its file: read by its head if big
        return
    for file in sorted(path.glob("*.eml")):
        if file.is_file():
            yield _message_file(file)


def _looks_like_mbox(path: Path) -> bool:
    """An mbox starts with a 'From ' line; a single message saved under another name
    (reply.txt) starts with its headers and was read as an empty mbox."""
    with path.open("rb") as handle:
        return handle.read(5) in (b"From ", b"")


def tls_context(ca: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs (SSL_CERT_FILE honoured), or the file given."""
    context = ssl.create_default_context()
    if ca:
        try:
            context.load_verify_locations(cafile=str(ca))
        except (OSError, ssl.SSLError) as exc:
            raise DsarError(
                _("{path}: not a CA certificate file ({reason})").format(path=ca, reason=exc)
            ) from None
    return context


class Imap:
    """One IMAP folder read from `after` on; uidvalidity is known once opened."""

    def __init__(
        self,
        address: ImapAddress,
        password: Callable[[], str],
        *,
        security: str = "ssl",
        ca: Path | None = None,
        allow_plaintext_auth: bool = False,
        timeout: float = 60,
    ):
        if security not in IMAP_SECURITY:
            raise UsageError(
                _("'{value}': use {choices}").format(
                    value=security, choices=", ".join(IMAP_SECURITY)
                )
            )
        if security == "none" and not allow_plaintext_auth:
            raise UsageError(
                _(
                    "an IMAP login without TLS sends your password in clear: use "
                    "--imap-security ssl or starttls, or add --allow-plaintext-auth if this "
                    "server is on your own machine"
                )
            )
        self.address = address
        self.password = password
        self.security = security
        self.ca = ca
        self.timeout = timeout
        self.uidvalidity: int | None = None
        self.box = None

    def __enter__(self) -> Imap:
        from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
        from imap_tools.errors import MailboxLoginError

        a = self.address
        try:
            if self.security == "ssl":
                box = MailBox(
                    a.host, a.port or 993, timeout=self.timeout, ssl_context=tls_context(self.ca)
                )
            elif self.security == "starttls":
                box = MailBoxStartTls(
                    a.host, a.port or 143, timeout=self.timeout, ssl_context=tls_context(self.ca)
                )
            else:
                box = MailBoxUnencrypted(a.host, a.port or 143, timeout=self.timeout)
            box.login(a.user, self.password(), initial_folder=None)
        except MailboxLoginError:
            raise DsarError(
                _("{host}: the IMAP server refused the user or the password").format(host=a.host)
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DsarError(
                _(
                    "{host}: its TLS certificate is not trusted ({reason}); give the "
                    "CA that signed it with --imap-ca FILE"
                ).format(host=a.host, reason=exc.verify_message)
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise DsarError(
                _("{host}: cannot reach the IMAP server ({reason})").format(host=a.host, reason=exc)
            ) from None
        self.box = box
        try:
            box.folder.set(a.folder, readonly=True)  # EXAMINE: nothing can change
        except Exception:
            self.close()
            raise DsarError(_("{folder}: no such IMAP folder").format(folder=a.folder)) from None
        status = box.folder.status(a.folder, ["UIDVALIDITY"])
        self.uidvalidity = int(status["UIDVALIDITY"])
        return self

    def close(self) -> None:
        if self.box is not None:
            with contextlib.suppress(Exception):  # a server gone away: nothing to save
                self.box.logout()
            self.box = None

    def __exit__(self, *exc) -> None:
        self.close()

    def uids_after(self, after: int) -> list[int]:
        client = self.box.client
        kind, data = client.uid("SEARCH", None, f"UID {after + 1}:*")
        if kind != "OK":
            raise DsarError(_("the IMAP server refused the search: {reason}").format(reason=data))
        # "UID n:*" also returns the last message when none is above n
        return sorted(u for u in (int(x) for x in b" ".join(data).split()) if u > after)

    def read(self, after: int) -> Iterator[Raw]:
        """Each message above UID `after`, by BODY.PEEK[] (the \\Seen flag untouched)."""
        client = self.box.client
        uids = self.uids_after(after)
        for start in range(0, len(uids), FETCH_BULK):
            chunk = uids[start : start + FETCH_BULK]
            kind, data = client.uid("FETCH", ",".join(map(str, chunk)), "(UID BODY.PEEK[])")
            if kind != "OK":
                raise DsarError(
                    _("the IMAP server refused to give messages: {reason}").format(reason=data)
                )
            for item in data:
                if not isinstance(item, tuple):
                    continue
                found = re.search(rb"UID (\d+)", item[0])
                if found:
                    uid = int(found.group(1))
                    yield Raw(item[1], f"{self.address.folder} UID {uid}", uid)
