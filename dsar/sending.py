"""Sending queued e-mails over SMTP, exactly as the journal's outbox says.

Each message is claimed ('sending', with this process and the time) in a commit before
it leaves, and marked 'sent' once the server accepts it, so a run killed at any moment
resumes with what is left, and two runs at once never send one message twice.
The journal records a message as handed over the moment its final dot is written,
before the server's reply is read; the reply then settles it (sent, retry, failed). A
run killed in between leaves it 'handed-over': it is not sent again (the server had the
whole message), and the manifest shows it as unconfirmed rather than sent (RFC 1047).
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable, Container
from dataclasses import dataclass

from .errors import DsarError
from .i18n import _
from .journal import Journal
from .safety import printable
from .vocabulary import SMTP_SECURITY


@dataclass
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    rate_per_minute: float = 60  # 0: no limit
    max_attempts: int = 5
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    timeout: float = 30
    messages_per_connection: int = 100
    ssl_context: ssl.SSLContext | None = None
    allow_plaintext_auth: bool = False

    def __post_init__(self):
        if self.security not in SMTP_SECURITY:
            raise DsarError(f"SMTP security '{self.security}': use {', '.join(SMTP_SECURITY)}")
        if self.security == "none" and self.user and not self.allow_plaintext_auth:
            raise DsarError(
                "--smtp-security none with --smtp-user would send the password in clear over "
                "the network: use starttls or ssl, or say --allow-plaintext-auth if the "
                "server is on this machine or a trusted link"
            )


class SmtpSetupError(ConnectionError):
    """The server was reached but cannot be used with these settings: running again
    later changes nothing, the settings must."""


def what_happened(s: SmtpSettings, exc: Exception) -> ConnectionError:
    """What went wrong when opening the connection, said as what to do: a server that
    was reached is never 'cannot reach'."""
    where = f"{s.host}:{s.port}"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and s.security == "starttls":
        return SmtpSetupError(
            _(
                "the server {where} does not offer STARTTLS: use --smtp-security ssl "
                "(often port 465) or none"
            ).format(where=where)
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpSetupError(
            _("the server {where} does not offer a login (AUTH): leave out --smtp-user").format(
                where=where
            )
        )
    if isinstance(exc, ssl.SSLError):
        return SmtpSetupError(
            _(
                "the server {where} did not answer in TLS ({reason}): use --smtp-security "
                "starttls (often port 587) or none"
            ).format(where=where, reason=exc.reason or exc)
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPResponseException):
        return ConnectionError(
            _("the server {where} closed the connection ({reason})").format(
                where=where, reason=printable(str(exc))
            )
        )
    return ConnectionError(
        _("cannot reach {where}: {reason}").format(where=where, reason=printable(str(exc)))
    )


class Smtp:
    """One reusable connection, reopened after a drop or every N messages."""

    def __init__(self, settings: SmtpSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        self.sent_on_connection = 0
        self.sleep = sleep
        self._last = 0.0

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        # once per run, not per connection: loading the CA store took 78 ms each time
        return self.settings.ssl_context or ssl.create_default_context()

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                connection = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls)
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    connection.starttls(context=self._tls)
            # without this, each message waits on a delayed ACK (~40 ms; NOTES.md)
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if s.user:
                connection.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DsarError(
                _("the SMTP server refused the login for {user}: {reply}").format(
                    user=s.user,
                    reply=printable(
                        exc.smtp_error.decode("utf-8", "replace")
                        if isinstance(exc.smtp_error, bytes)
                        else str(exc.smtp_error)
                    ),
                )
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise what_happened(s, exc) from exc
        return connection

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None

    def _pace(self) -> None:
        if self.settings.rate_per_minute > 0:
            wait = self._last + 60 / self.settings.rate_per_minute - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last = time.monotonic()

    def send(
        self,
        sender: str,
        recipient: str,
        message: bytes,
        handed_over: Callable[[], None] = lambda: None,
    ) -> None:
        """Send one message; raise PermanentFailure (5xx) or TemporaryFailure (4xx, drops).

        `handed_over` runs just before the message and its final dot go on the wire: the
        journal records it there, so a process killed while the server accepts the
        message never sends it again. Recorded after the write instead, a kill between the
        write and the commit (an fsync: milliseconds) sent the message twice on the next
        run; recorded before, the only window left is the write call itself, and what it
        can cost is one message shown as "handed-over (unconfirmed)", never a duplicate.
        An error during the write is a temporary failure: the retry marks it sending again.
        """
        if (
            self.connection is None
            or self.sent_on_connection >= self.settings.messages_per_connection
        ):
            self.close()
            self.connection = self._open()
            self.sent_on_connection = 0
        self._pace()
        connection = self.connection
        try:
            connection.ehlo_or_helo_if_needed()
            self._expect(connection.mail(sender), (250,))
            self._expect(connection.rcpt(recipient), (250, 251))
            self._expect(connection.docmd("data"), (354,))
            data = smtplib._quote_periods(message)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            handed_over()
            connection.send(data + b".\r\n")
            self._expect(connection.getreply(), (250,))
        except SmtpFailure:
            self._reset()
            raise
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.connection = None
            raise TemporaryFailure(0, str(exc)) from None
        self.sent_on_connection += 1

    def _expect(self, reply: tuple[int, bytes], good: tuple[int, ...]) -> None:
        code, text = reply
        if code in good:
            return
        if code == 421 or code == -1:  # the server is closing this connection
            self.connection = None
        raise (PermanentFailure if code >= 500 else TemporaryFailure)(code, text)

    def _reset(self) -> None:
        if self.connection is not None:
            try:
                self.connection.rset()
            except (smtplib.SMTPException, OSError):
                self.connection = None


MAX_SERVER_TEXT = 500  # an SMTP reply is a line or a few; more is not an answer


class SmtpFailure(Exception):
    def __init__(self, code: int, text: bytes | str):
        self.code = code
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        # the server's words go to the journal, the manifest and the terminal: as text,
        # never an escape sequence (ANSI colours, OSC 8 links), and not a page of it
        self.text = printable(text)[:MAX_SERVER_TEXT]
        super().__init__(f"{code} {self.text}".strip())


class TemporaryFailure(SmtpFailure):
    pass


class PermanentFailure(SmtpFailure):
    pass


def for_the_wire(eml: bytes) -> bytes:
    """The message as it goes to the server: without X-Unsent, which makes the copy kept
    for the person open as a draft, and which a recipient's client must never see."""
    head, sep, body = eml.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept, skipping = [], False
    for line in lines:
        if line[:1] in (b" ", b"\t") and skipping:
            continue  # a folded continuation of the header dropped
        skipping = line.lower().startswith(b"x-unsent:")
        if not skipping:
            kept.append(line)
    return b"\r\n".join(kept) + sep + body


def send_outbox(
    journal: Journal,
    smtp: Smtp,
    *,
    sender_for: Callable[[str], str],
    progress: Callable[[str], None] = lambda reference: None,
    references: Container[str] | None = None,
) -> Counter:
    """Send each waiting message once: those of `references`, or every one queued.

    Each message is claimed in a transaction committed before it leaves, so runs at once
    on one journal, or a run resumed after a kill, never send a message twice. Returns
    counts of sent, failed, deferred, and 'elsewhere' (being sent by another run).

    Without a rate limit, a message's 'sent' is committed with the next message's claim
    (two commits a message, not four): only writes that follow a send are grouped, never
    a claim. A run killed in between leaves it 'handed-over', never sent again.
    """
    if journal.grouping:
        # inside a group the claim would be a savepoint no other run sees: it must commit
        raise RuntimeError("send_outbox inside Journal.grouped(): claims would not commit")
    counts: Counter = Counter()
    settle_later = smtp.settings.rate_per_minute == 0
    accepted: list[str] = []  # accepted by the server, 'sent' not yet committed

    def settle(reference: str | None, status: str | None = None, **details) -> None:
        """The 'sent' marks waiting, with this message's mark, in one commit."""
        with journal.grouped():
            for done in accepted:
                journal.outbox_mark(done, "sent")
            accepted.clear()
            if reference is not None:
                journal.outbox_mark(reference, status, **details)

    def claim(reference: str):
        with journal.grouped():  # committed on leaving, before the message is sent
            settle(None)
            return journal.claim(reference)

    try:
        for reference in journal.outbox_waiting(references):
            claimed = claim(reference)
            if claimed is None:  # withdrawn by the claim (its request left), or another run's
                withdrawn = (journal.outbox_status(reference) or ("",))[0] == "withdrawn"
                counts["withdrawn" if withdrawn else "elsewhere"] += 1
                continue
            recipient, eml, attempts = claimed
            wire = for_the_wire(eml)
            attempt = attempts
            while True:
                attempt += 1
                try:
                    smtp.send(
                        sender_for(reference),
                        recipient,
                        wire,
                        handed_over=functools.partial(
                            settle, reference, "handed-over", attempts=attempt
                        ),
                    )
                except PermanentFailure as exc:
                    settle(reference, "failed", error=str(exc), attempts=attempt)
                    counts["failed"] += 1
                    break
                except ConnectionError as exc:
                    # the server cannot be reached at all: stop, everything left stays queued
                    settle(reference, "queued", error=str(exc), attempts=attempt)
                    smtp.close()
                    then = (
                        _("fix the setting and run the same command again")
                        if isinstance(exc, SmtpSetupError)
                        else _("run the same command again later")
                    )
                    raise DsarError(
                        _("{problem}; {sent} sent, the rest stays queued: {then}").format(
                            problem=exc, sent=counts["sent"], then=then
                        )
                    ) from None
                except TemporaryFailure as exc:
                    if attempt - attempts >= smtp.settings.max_attempts:
                        settle(reference, "deferred", error=str(exc), attempts=attempt)
                        counts["deferred"] += 1
                        break
                    # the claim is kept (and renewed) across retries: no other run takes it
                    settle(reference, "sending", error=str(exc), attempts=attempt)
                    smtp.sleep(smtp.settings.backoff * 2 ** (attempt - attempts - 1))
                    continue
                if settle_later:
                    accepted.append(reference)
                else:
                    journal.outbox_mark(reference, "sent")
                counts["sent"] += 1
                break
            progress(reference)
    finally:
        settle(None)
        smtp.close()
    return counts
