"""Local stand-ins for the outside world: an SMTP mail catcher and a WeCom-bot receiver.

The demo uses them when no SMTP server or WeCom webhook is configured, writing what
arrives to files a person can open; the tests use them as real protocol peers.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailCatcher:
    """aiosmtpd on loopback; every message is kept (and written as .eml when ``folder``)."""

    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.messages: list[dict] = []
        self.refuse: set[str] = set()  # mailboxes answered with 550, like a server that has none
        self._ctl = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        msg = email.message_from_bytes(envelope.content)
        html, images = "", {}
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            elif part.get_content_maintype() == "image":  # inline charts, by content id
                images[str(part.get("Content-ID") or "").strip("<>")] = part.get_payload(decode=True)
        subject = str(make_header(decode_header(msg["Subject"] or "")))
        self.messages.append({"to": list(envelope.rcpt_tos), "subject": subject, "html": html,
                              "key": msg["X-Actops-Key"], "images": images})
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            n = len(list(self.folder.glob("*.eml"))) + 1
            (self.folder / f"{n:04d}-{envelope.rcpt_tos[0]}.eml").write_bytes(envelope.content)
        return "250 OK"

    def to(self, address: str) -> list[dict]:
        return [m for m in self.messages if address in m["to"]]

    def clear(self) -> None:
        self.messages.clear()

    def start(self) -> MailCatcher:
        from aiosmtpd.controller import Controller

        self._ctl = Controller(self, hostname="127.0.0.1", port=self.port)
        self._ctl.start()
        return self

    def stop(self) -> None:
        if self._ctl is not None:
            self._ctl.stop()


class WeComReceiver:
    """Answers like the WeCom group-bot webhook and records each posted JSON body."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append({"path": self.path, "json": body, "key": self.headers.get("X-Actops-Key")})
                if outer.folder is not None:
                    outer.folder.mkdir(parents=True, exist_ok=True)
                    n = len(outer.received)
                    (outer.folder / f"{n:04d}.md").write_text(body.get("markdown", {}).get("content", ""), encoding="utf-8")
                out = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/cgi-bin/webhook/send?key=local"

    def start(self) -> WeComReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
