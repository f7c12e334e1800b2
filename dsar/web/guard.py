"""What keeps the page to the person who started it, on a machine others may share.

A pure ASGI middleware, so it can count upload bytes as they stream in:

- the Host header must be the address served (127.A.B.C:PORT, server.py; localhost:PORT
  too when that address is 127.0.0.1): a page on another site whose name is rebound to
  the loopback (DNS rebinding) is refused;
- the random secret printed by `dsar serve` is the first segment of every path
  (http://127.A.B.C:PORT/<secret>/...): a request without it is refused. The secret is
  never a cookie: cookies are not kept apart by port (RFC 6265 §8.5), and the random
  127.A.B.C address is readable by every user in /proc/net/tcp, so a server another user
  starts on that address, at another port, would receive it. A path is sent to its own
  origin only, and the Referer with it too (Referrer-Policy: same-origin);
- a request body over the limit is refused before it is stored;
- every answer forbids framing by other pages, sniffing, referrers to other origins,
  caching and outside assets.

The CSRF token every form carries is derived from the secret (csrf_token) and checked by
the form reader (pages.read_form), because only a handler reads the form.
"""

from __future__ import annotations

import hashlib
import hmac

UPLOAD_LIMIT = 25 * 1024 * 1024  # a scanned reply or receipt; more is not a letter
# nothing is fetched from outside the page's own origin; the letter preview alone
# may use its inline style (see pages.preview)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # the secret path goes to no other origin (another port is another origin); not
    # "no-referrer", which would make a form's Origin "null" and blind check_origin
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),  # personal data: not kept in the browser's cache
]


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"dsar-form", hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        self.status, self.reason = status, reason


class Guard:
    def __init__(
        self, app, *, token: str, port: int, host: str = "127.0.0.1", limit: int = UPLOAD_LIMIT
    ):
        self.app = app
        self.token = token
        # localhost is 127.0.0.1: it names dsar only when dsar is there
        self.hosts = {f"{host}:{port}"} | ({f"localhost:{port}"} if host == "127.0.0.1" else set())
        self.root = root_of(token)
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            self.check_host(headers.get("host"))
            self.check_origin(scope, headers.get("origin"))
            self.check_size(headers.get("content-length"))
        except Refused as exc:
            return await refuse(send, exc)
        inside = self.inside(scope["path"])
        if inside is None:
            return await refuse(
                send, Refused(403, "open the address that 'dsar serve' printed, secret included")
            )
        if not inside:  # /<secret> alone: the page's links are under /<secret>/
            query = scope.get("query_string", b"").decode("latin-1")
            return await see_other(send, f"{self.root}/" + (f"?{query}" if query else ""))
        # the routes see the path after the secret (Starlette reads root_path)
        scope = {**scope, "root_path": scope.get("root_path", "") + self.root}

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in HEADERS if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return await self.app(scope, self.counted(receive), with_headers)

    def check_host(self, host: str | None) -> None:
        if host not in self.hosts:
            raise Refused(421, "this server answers only to " + " or ".join(sorted(self.hosts)))

    def check_origin(self, scope, origin: str | None) -> None:
        # a form posted from another page carries that page's origin
        posted = scope["method"] not in ("GET", "HEAD")
        if posted and origin is not None and origin.removeprefix("http://") not in self.hosts:
            raise Refused(403, "a form from another page is refused")

    def check_size(self, length: str | None) -> None:
        if length and length.isdigit() and int(length) > self.limit:
            raise Refused(413, f"too large: at most {self.limit // (1024 * 1024)} MB")

    def counted(self, receive):
        seen = 0

        async def inner():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # a body sent without Content-Length
                raise Refused(413, f"too large: at most {self.limit // (1024 * 1024)} MB")
            return message

        return inner

    def inside(self, path: str) -> str | None:
        """The path after /<secret> ('' for /<secret> itself), None without the secret."""
        secret, slash, rest = path.removeprefix("/").partition("/")
        return slash + rest if same(secret, self.token) else None


def root_of(secret: str) -> str:
    """The page's own prefix: every link, form and redirect of the page is under it."""
    return "/" + secret


async def see_other(send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), *HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def refuse(send, exc: Refused) -> None:
    body = (
        "<!DOCTYPE html><meta charset=utf-8><title>dsar</title>"
        f"<p>dsar: {exc.reason}.</p>"  # our own fixed words, nothing from the request
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
