"""`dsar serve` on a computer others use: its secret reaches no other local server, and
never shows on a command line.

Real parts: the `dsar serve` command in a subprocess, Debian's chromium through
Playwright, and other HTTP servers standing for any other local server the person's
browser visits: one on 127.0.0.1 (a development server), one on dsar's own random
address at another port (another user read the address in /proc/net/tcp and listens
there: cookies are not kept apart by port, RFC 6265 §8.5)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .test_web_browser import page, served  # noqa: F401  (fixtures)


class Recording(BaseHTTPRequestHandler):
    """Answers every GET with a page (/hop: a redirect to /landed), and keeps what each
    request carried: its path and query, Cookie and Referer."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        carried = (self.path, self.headers.get("cookie"), self.headers.get("referer"))
        type(self).seen.append(" ".join(part or "" for part in carried))
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("location", "/landed")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = b"<!DOCTYPE html><title>another server</title><p>hello"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def listening(host: str) -> ThreadingHTTPServer:
    other = ThreadingHTTPServer((host, 0), Recording)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    return other


def test_the_secret_reaches_no_other_server_even_on_dsar_s_own_address(served, page):  # noqa: F811
    where = urlsplit(served)
    secret = where.path.strip("/")
    assert len(secret) >= 40
    Recording.seen = []
    # another user's server on dsar's address, and a development server on 127.0.0.1
    others = [listening(where.hostname), listening("127.0.0.1")]
    try:
        # the page used as a person does: entered, language chosen, a form sent, a link
        page.goto(served)
        page.get_by_role("link", name="English").click()
        page.get_by_label("Text of the message").fill("Votez ! STOP au 36111")
        page.get_by_role("button", name="Who is behind it?").click()
        page.get_by_role("link", name="My requests").first.click()
        assert urlsplit(page.url).path.endswith("/requests")  # the page works
        for other in others:
            port = other.server_address[1]
            host = other.server_address[0]
            names = (host, "localhost") if host == "127.0.0.1" else (host,)
            for address in [f"http://{name}:{port}/x?y=1" for name in names]:
                page.goto(address)  # typed in the address bar, or opened from elsewhere
                assert "another server" in page.content()
            # a link on the dsar page to that server, and one that redirects there
            for path in ("/linked", "/hop"):
                page.goto(served)
                page.evaluate(
                    "url => { const a = document.createElement('a'); a.href = url;"
                    " a.id = 'out'; a.textContent = 'out'; document.body.append(a); }",
                    f"http://{host}:{port}{path}",
                )
                page.click("#out")
                page.wait_for_url(f"http://{host}:{port}/**")
                assert "another server" in page.content()
        assert len(Recording.seen) >= 10, Recording.seen
        assert not any(secret in carried for carried in Recording.seen), Recording.seen
        assert not any("dsar" in carried for carried in Recording.seen), Recording.seen
    finally:
        for other in others:
            other.shutdown()
            other.server_close()


def test_the_token_is_never_on_the_browser_command_line(tmp_path, dsar_home):
    """BROWSER names the program webbrowser starts; this one writes down its argv."""
    argv_file = tmp_path / "argv"
    browser = tmp_path / "browser.py"
    browser.write_text(
        f"import sys, pathlib\npathlib.Path({str(argv_file)!r}).write_text('\\n'.join(sys.argv))\n"
    )
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "dsar", "serve"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "DSAR_HOME": str(dsar_home),
            "BROWSER": f"{sys.executable} {browser} %s",
            "PYTHONUNBUFFERED": "1",
        },
        cwd=tmp_path,
    )
    try:
        for _ in range(300):
            if argv_file.exists() and argv_file.read_text():
                break
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        argv = argv_file.read_text()
        [opened] = [arg for arg in argv.splitlines() if arg.startswith("file://")]
        opener = Path(unquote(urlsplit(opened).path))
        assert stat.S_IMODE(opener.stat().st_mode) == 0o600
        # the file sends the browser on, secret and all
        token = re.search(r"url=http://[\d.]+:\d+/([\w-]{40,})/", opener.read_text()).group(1)
        assert token not in argv, argv
        assert token not in log.read_text()  # not printed either, unless --no-browser
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not opener.exists()  # removed when the server stops
