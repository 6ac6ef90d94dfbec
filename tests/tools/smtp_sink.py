#!/usr/bin/python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real SMTP server that keeps what it receives, for the tests.

Accepts mail on 127.0.0.1:PORT (aiosmtpd) and writes each message to
DIR/<n>.eml, the bytes of the DATA phase as received (after the SMTP dot
unstuffing), written under a temporary name and renamed so that a reader
never sees half a message. One JSON line per message goes to stdout:
{"n": 1, "mail_from": ..., "rcpt_tos": [...], "tls": true, "bytes": 812}.

With --tls-cert and --tls-key the server offers STARTTLS and refuses mail
until the client has used it (require_starttls); --no-starttls serves
plain SMTP only, to check that a client refuses to send in clear.
--auth-user and --auth-password-file require AUTH PLAIN/LOGIN with those
credentials (over TLS only).

--port 0 picks a free port. Once the server answers, the first stdout line
is {"listening": PORT}. SIGTERM or SIGINT stops it with exit status 0.

Usable as a module too: SmtpSink(directory, port, ...).start() / .stop().
Needs Debian's python3-aiosmtpd: run it with /usr/bin/python3.
"""

import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Handler:
    """Stores each message of the DATA phase."""

    def __init__(self, directory, out):
        self.dir = Path(directory)
        self.out = out
        self.lock = threading.Lock()
        self.count = 0
        for p in self.dir.glob("*.eml"):
            if p.stem.isdigit():
                self.count = max(self.count, int(p.stem))

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        data = envelope.original_content or b""
        tmp = self.dir / f".{n}.eml.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.dir / f"{n}.eml")
        if self.out is not None:
            line = json.dumps({
                "n": n,
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "tls": session.ssl is not None,
                "bytes": len(data),
            })
            with self.lock:
                self.out.write(line + "\n")
                self.out.flush()
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user
              and auth_data.password == self.password)
        # handled=False: aiosmtpd answers 535 itself on a failure
        return AuthResult(success=ok, handled=ok, auth_data=auth_data)


class _BoundController(Controller):
    """A Controller serving on a socket bound beforehand, so that port 0
    works and the port is known before the server starts."""

    def __init__(self, handler, sock, **kw):
        self._sock = sock
        super().__init__(handler, hostname="127.0.0.1",
                         port=sock.getsockname()[1], **kw)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class SmtpSink:
    """The server; start() returns once it answers on .port."""

    def __init__(self, directory, port=0, tls_cert=None, tls_key=None,
                 starttls=True, auth_user=None, auth_password=None,
                 out=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.requested_port = port
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.starttls = starttls and tls_cert is not None
        self.auth_user = auth_user
        self.auth_password = auth_password
        self.out = out
        self.port = None
        self._controller = None

    def start(self):
        kw = {
            # A fixed name: the default asks DNS for the FQDN, which can
            # take seconds.
            "server_hostname": "localhost",
            "ready_timeout": 10.0,
        }
        if self.starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.tls_cert, self.tls_key)
            kw["tls_context"] = ctx
            kw["require_starttls"] = True
        if self.auth_user is not None:
            kw["authenticator"] = _Authenticator(self.auth_user,
                                                 self.auth_password or "")
            kw["auth_required"] = True
            kw["auth_require_tls"] = True
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.requested_port))
            sock.listen(64)
            self.port = sock.getsockname()[1]
            self._controller = _BoundController(
                _Handler(self.dir, self.out), sock, **kw)
            self._controller.start()
        except BaseException:
            sock.close()
            raise
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="0: any free port")
    ap.add_argument("--dir", required=True, help="where <n>.eml files go")
    ap.add_argument("--tls-cert", help="PEM certificate for STARTTLS")
    ap.add_argument("--tls-key", help="PEM private key for STARTTLS")
    ap.add_argument("--no-starttls", action="store_true",
                    help="plain SMTP only, even with a certificate")
    ap.add_argument("--auth-user", help="require AUTH with this login")
    ap.add_argument("--auth-password-file",
                    help="file holding the password (one line)")
    args = ap.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        ap.error("--tls-cert and --tls-key go together")
    password = None
    if args.auth_user is not None:
        if args.auth_password_file is None:
            ap.error("--auth-user needs --auth-password-file")
        password = Path(args.auth_password_file).read_text().rstrip("\r\n")

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sink = SmtpSink(args.dir, args.port, args.tls_cert, args.tls_key,
                    starttls=not args.no_starttls, auth_user=args.auth_user,
                    auth_password=password, out=sys.stdout)
    sink.start()
    sys.stdout.write(json.dumps({"listening": sink.port}) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
