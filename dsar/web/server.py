"""`dsar serve`: the page on 127.0.0.1 only, behind a token made for this run."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass

from ..errors import DsarError
from ..paths import Paths

HOST = "127.0.0.1"  # the loopback address only: never reachable from another machine


@dataclass
class Served:
    """A bound socket and the address, with its token, to open in the browser."""

    sock: socket.socket
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?token={self.token}"

    def server(self, paths: Paths | None = None):
        import uvicorn

        from .pages import create_app

        config = uvicorn.Config(
            create_app(self.token, self.port, paths),
            log_level="warning",
            access_log=False,  # URLs and forms carry personal data: nothing is logged
            server_header=False,
            proxy_headers=False,  # no proxy sits in front of a loopback server
        )
        return uvicorn.Server(config)

    def run(self, paths: Paths | None = None) -> None:
        self.server(paths).run(sockets=[self.sock])


def bind(port: int = 0) -> Served:
    """Listen on 127.0.0.1 (a free port when 0) before anything is printed, so the
    printed address answers at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a restart on the same --port must not wait for the last run's closed connections
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise DsarError(
            f"cannot listen on {HOST}:{port} ({exc.strerror}); choose another --port, "
            "or leave it out for a free one"
        ) from None
    sock.listen(16)
    return Served(sock=sock, port=sock.getsockname()[1], token=secrets.token_urlsafe(32))
