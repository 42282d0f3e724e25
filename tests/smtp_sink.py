"""A real SMTP server on loopback for tests: smtplib talks to it over TCP as it would to any
mail server, and every message it accepts is kept for the test to read."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT (refuses *@refused.invalid), DATA, QUIT."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[dict] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                w = lambda line: self.wfile.write(line.encode() + b"\r\n")  # noqa: E731
                w("220 sink ready")
                rcpt: list[str] = []
                while True:
                    line = self.rfile.readline().decode().strip()
                    verb = line[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        w("250 sink")
                    elif verb == "MAIL":
                        w("250 ok")
                    elif verb == "RCPT":
                        addr = line.split(":", 1)[1].strip("<> ")
                        if addr.endswith("@refused.invalid"):
                            w("550 no such user")
                        else:
                            rcpt.append(addr)
                            w("250 ok")
                    elif verb == "DATA":
                        w("354 go")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            data += self.rfile.readline()
                        sink.messages.append({"to": rcpt, "data": data.decode()})
                        w("250 queued")
                    elif verb == "QUIT" or not line:
                        w("221 bye")
                        return
                    else:
                        w("250 ok")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def parsed(self) -> list[EmailMessage]:
        """The accepted messages, parsed (headers decoded, parts reachable)."""
        return [email.message_from_string(m["data"].removesuffix("\r\n.\r\n").replace("\r\n..", "\r\n."),
                                          policy=email.policy.default) for m in self.messages]
