"""A real IMAP server for the inbox tests and benchmark: Debian's Dovecot, started on free
127.0.0.1 ports with its own configuration in a temporary folder (no system service),
TLS with a CA made here (given to dsar as the trusted one), one user, and a folder filled
by IMAP APPEND. Starting it fails loudly: a test that cannot start it fails."""

from __future__ import annotations

import datetime
import imaplib
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

USER, PASSWORD = "camille", "secret-for-tests"
MAIL_UID = 65534  # nobody: Dovecot gives no mailbox to root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("dsar test CA"))
        .issuer_name(name("dsar test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(server.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
mail_location = maildir:{root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    """with Dovecot() as server: server.imaps_port, server.ca, server.append(...)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="dsar-dovecot-"))
        self.process: subprocess.Popen | None = None
        self.expected = 0  # sessions that logged in and will be logged at logout

    def __enter__(self) -> Dovecot:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd")
        if os.geteuid() != 0:
            raise RuntimeError("the Dovecot of the tests runs as root (its mail as nobody)")
        self.root.chmod(0o711)  # the mail processes (nobody) go through to their folder
        self.ca, cert, key = make_certificates(self.root)
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, MAIL_UID, MAIL_UID)
        (self.root / "users").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{MAIL_UID}:{MAIL_UID}::{mail}/{USER}::\n"
        )
        self.imap_port, self.imaps_port = free_port(), free_port()
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                cert=cert,
                key=key,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot did not start: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imaps_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen in 15 s: {self._log()}")

    def _log(self) -> str:
        out = ""
        if self.process and self.process.poll() is not None and self.process.stdout:
            out = self.process.stdout.read().decode("utf-8", "replace")
        log = self.root / "dovecot.log"
        return out + (log.read_text(errors="replace") if log.exists() else "")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------ as a mail client

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context)
        client.login(USER, PASSWORD)
        self.logged_in()
        return client

    def append(self, messages, folder: str = "INBOX", seen_every: int = 3) -> None:
        """APPEND each message; every third one already \\Seen, as in a real box."""
        client = self.client()
        try:
            if folder != "INBOX":
                client.create(folder)
            for number, data in enumerate(messages):
                flags = "(\\Seen)" if number % seen_every == 0 else "()"
                status, _ = client.append(folder, flags, None, data)
                assert status == "OK"
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, list[str]]:
        """UID -> flags, read with EXAMINE (this look changes nothing either)."""
        client = self.client()
        try:
            client.select(folder, readonly=True)
            _, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
        finally:
            client.logout()
        found = {}
        for line in data:
            if not line:
                continue
            text = line.decode() if isinstance(line, bytes) else line[0].decode()
            uid = int(text.split("UID ")[1].split()[0])
            flags = text.split("FLAGS (")[1].split(")")[0].split()
            found[uid] = sorted(f for f in flags if f != "\\Recent")  # per session
        return found

    def logged_in(self) -> None:
        """One more session to wait for in the log (a client of ours, or a dsar run)."""
        self.expected += 1

    def sessions(self) -> list[dict[str, int]]:
        """Each IMAP session's counts as Dovecot logs them at logout, in order: how many
        message bodies it fetched (body_count), expunged, deleted... Dovecot's log
        process writes the line a moment after the client left: every session counted
        by logged_in() is waited for (10 s at most)."""
        deadline = time.monotonic() + 10
        while True:
            found = self._sessions()
            if len(found) >= self.expected or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def _sessions(self) -> list[dict[str, int]]:
        log = self.root / "dovecot.log"
        found = []
        for line in log.read_text(errors="replace").splitlines():
            if f"imap({USER})" in line and "Disconnected" in line:
                fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
                found.append({k: int(v) for k, v in fields.items() if v.isdigit()})
        return found

    def url(self, folder: str = "INBOX", port: int | None = None) -> str:
        return f"imaps://{USER}@127.0.0.1:{port or self.imaps_port}/{folder}"
