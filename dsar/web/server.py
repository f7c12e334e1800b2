"""`dsar serve`: the page on a loopback address of its own, behind a secret made for this run.

The secret is the first segment of every path of the page (http://127.A.B.C:PORT/<secret>/,
guard.py), never a cookie: cookies are not kept apart by port (RFC 6265 §8.5), and any user
can read the address dsar listens on (/proc/net/tcp) and listen on another port of it, so
a cookie would reach their server. A path goes to its own origin only. The address is
drawn at random in 127.0.0.0/8 for the run (Linux routes the whole block to the loopback
interface) so that the page's language cookie, and the browser's memory of the page, are
not shared with the servers usually on 127.0.0.1; where only 127.0.0.1 can be bound
(macOS), it is used.
"""

from __future__ import annotations

import errno
import html
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from ..errors import DsarError
from ..paths import Paths

LOOPBACK = "127.0.0.1"


def random_loopback() -> str:
    """127.A.B.C, never 127.0.0.x (where local servers usually listen) nor .0/.255."""
    a, b, c = 1 + secrets.randbelow(254), secrets.randbelow(256), 1 + secrets.randbelow(254)
    return f"127.{a}.{b}.{c}"


@dataclass
class Served:
    """A bound socket and the address, with its secret, to open in the browser."""

    sock: socket.socket
    host: str
    port: int
    token: str

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/{self.token}/"

    def server(self, paths: Paths | None = None):
        import uvicorn

        from .pages import create_app

        config = uvicorn.Config(
            create_app(self.token, self.port, paths, host=self.host),
            log_level="warning",
            access_log=False,  # URLs and forms carry personal data: nothing is logged
            server_header=False,
            proxy_headers=False,  # no proxy sits in front of a loopback server
        )
        return uvicorn.Server(config)

    def run(self, paths: Paths | None = None) -> None:
        self.server(paths).run(sockets=[self.sock])

    def opener(self, folder: Path) -> Path:
        """A private file (0600) that sends the browser on to the address with its secret.

        The browser is started with this file's name, not the address: a program's
        command line is readable by every user of the machine (ps), a 0600 file is not.
        In dsar's data folder rather than /tmp, which a sandboxed browser (snap) may not
        see. The caller removes it when the server stops."""
        from ..files import write_private

        url = html.escape(self.url)
        page = (
            '<!DOCTYPE html><meta charset="utf-8"><title>dsar</title>'
            f'<meta http-equiv="refresh" content="0;url={url}">'
            f'<p><a href="{url}">dsar</a></p>'
        )
        path = folder / f"serve-{self.port}.html"
        write_private(path, page, overwrite=True, durable=False)
        return path


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a restart on the same --port must not wait for the last run's closed connections
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(16)
    return sock


def bind(port: int = 0, host: str | None = None) -> Served:
    """Listen on a loopback address of this run's own (a free port when 0) before
    anything is printed, so the printed address answers at once."""
    host = host or random_loopback()
    try:
        try:
            sock = _listen(host, port)
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL or host == LOOPBACK:
                raise
            host = LOOPBACK  # a system that routes 127.0.0.1 alone
            sock = _listen(host, port)
    except OSError as exc:
        raise DsarError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port, "
            "or leave it out for a free one"
        ) from None
    return Served(sock=sock, host=host, port=sock.getsockname()[1], token=secrets.token_urlsafe(32))
