"""`dsar serve` on a computer others use: its secret reaches no other local server, and
never shows on a command line.

Real parts: the `dsar serve` command in a subprocess, Debian's chromium through
Playwright, and a second HTTP server on 127.0.0.1 standing for any other local server
the person's browser visits (a development server, another user's trap)."""

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
    """Answers every GET with a page, and keeps the Cookie header each one carried."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append(self.headers.get("cookie") or "")
        body = b"<!DOCTYPE html><title>another server</title><p>hello"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_secret_cookie_reaches_no_other_server_on_the_loopback(served, page):  # noqa: F811
    other = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        token = re.search(r"token=([\w-]+)", served).group(1)
        page.goto(served)
        assert "token" not in page.url  # entered: the secret is now a cookie
        assert page.locator("form").count() > 0  # the page works with it
        port = other.server_address[1]
        for address in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/x"):
            page.goto(address)
            assert "another server" in page.content()
        assert len(Recording.seen) >= 2
        assert not any(token in cookie for cookie in Recording.seen), Recording.seen
        assert not any("dsar" in cookie for cookie in Recording.seen), Recording.seen
    finally:
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
        # the file sends the browser on, token and all
        token = re.search(r"token=([\w-]+)", opener.read_text()).group(1)
        assert token not in argv and "token=" not in argv, argv
        assert token not in log.read_text()  # not printed either, unless --no-browser
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not opener.exists()  # removed when the server stops
