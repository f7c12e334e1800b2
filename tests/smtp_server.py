"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepts and can be
told to answer 451 or 550 to some recipients or to drop the connection."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # notified at each accepted message
        self.received: Counter = Counter()  # Message-ID -> times accepted
        self.messages: list = []
        self.temporary: dict[str, int] = {}  # recipient -> how many 451s still to give
        self.permanent: set[str] = set()  # recipients answered 550
        self.drop_once: set[str] = set()  # recipients whose first DATA drops the connection

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0]
        with self.lock:
            if recipient in self.drop_once:
                self.drop_once.discard(recipient)
                server.transport.close()
                return "421 closing"
            if recipient in self.permanent:
                return "550 5.1.1 mailbox unavailable"
            if self.temporary.get(recipient, 0) > 0:
                self.temporary[recipient] -= 1
                return "451 4.3.0 try again later"
            message = message_from_bytes(envelope.content)
            self.received[message["Message-ID"]] += 1
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 OK"

    @property
    def count(self) -> int:
        with self.lock:
            return sum(self.received.values())

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages were accepted (no polling); False on timeout."""
        with self.arrived:
            return self.arrived.wait_for(lambda: sum(self.received.values()) >= count, timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start() -> tuple[Controller, Recorder]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, recorder
