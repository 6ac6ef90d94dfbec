# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real SMTP server for the API tests: what `coffre serve` mails arrives
here over STARTTLS and can be read back as parsed messages.

MailSink makes a throw-away CA and a server certificate for 127.0.0.1 and
localhost with `openssl` in a temporary directory, then runs
tests/tools/smtp_sink.py (aiosmtpd) on a free loopback port, offering
STARTTLS and refusing mail without it. Give the server its conf() and it
trusts that CA through `ca_file`; nothing goes out in clear and no
certificate check is turned off.

    sink = MailSink().start()
    srv = server_factory(conf=sink.conf())
    ...  # something that sends mail
    msg = sink.wait_for("alice@example.com")
    assert "reset" in sink.body(msg)
    sink.stop()

The `mail_sink` fixture of conftest.py does the start and the stop.
"""

import email
import email.policy
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SINK_SCRIPT = REPO_ROOT / "tests" / "tools" / "smtp_sink.py"
# Debian's python3-aiosmtpd is only seen by the system interpreter.
PYTHON = "/usr/bin/python3"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def _openssl(*args):
    r = subprocess.run(["openssl", *map(str, args)], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args[:2]))} failed: "
                           f"{r.stderr.strip()}")


def make_test_ca(directory):
    """Write ca.pem, ca.key, cert.pem and key.pem (ECDSA P-256, two days;
    the server certificate names 127.0.0.1 and localhost) into DIRECTORY.
    Returns the paths (ca_file, cert_file, key_file)."""
    d = Path(directory)
    ca, ca_key = d / "ca.pem", d / "ca.key"
    cert, key = d / "cert.pem", d / "key.pem"
    common = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-days", "2"]
    _openssl("req", "-x509", *common, "-subj", "/CN=coffre test mail CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", ca_key, "-out", ca)
    _openssl("req", "-x509", *common, "-subj", "/CN=localhost",
             "-CA", ca, "-CAkey", ca_key,
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "basicConstraints=critical,CA:FALSE",
             "-addext", "extendedKeyUsage=serverAuth",
             "-keyout", key, "-out", cert)
    return ca, cert, key


class MailSink:
    """tests/tools/smtp_sink.py with STARTTLS required, in its own
    temporary directory."""

    def __init__(self, sender="coffre@localhost"):
        self.sender = sender
        self.root = Path(tempfile.mkdtemp(prefix="coffre-mailsink-"))
        self.dir = self.root / "mail"
        self.dir.mkdir()
        self.ca_file, self.cert_file, self.key_file = make_test_ca(self.root)
        self.log_path = self.root / "sink.log"
        self.port = None
        self.proc = None
        self.events = []  # the sink's JSON lines, one per message
        self._reader = None

    # lifecycle
    def start(self):
        """Start the sink and wait until it listens; returns self."""
        if not SINK_SCRIPT.exists():
            raise RuntimeError(f"{SINK_SCRIPT} is missing")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [PYTHON, str(SINK_SCRIPT), "--port", "0", "--dir",
                 str(self.dir), "--tls-cert", str(self.cert_file),
                 "--tls-key", str(self.key_file)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self._kill()
                raise RuntimeError(
                    f"smtp_sink.py did not start: {self._log_tail()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    continue
                line += chunk
        self.port = json.loads(line)["listening"]
        self._reader = threading.Thread(target=self._read_events, daemon=True)
        self._reader.start()
        return self

    def stop(self):
        """SIGTERM the sink, wait for it and remove the temporary directory
        (kept when COFFRE_TEST_KEEP is set). Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT)
            self._reader = None
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if not os.environ.get("COFFRE_TEST_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def _read_events(self):
        for raw in self.proc.stdout:
            try:
                self.events.append(json.loads(raw))
            except ValueError:
                pass

    def _log_tail(self, n=20):
        try:
            return "\n".join(self.log_path.read_text(
                errors="replace").splitlines()[-n:])
        except OSError:
            return "<no log>"

    # configuration
    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def conf(self):
        """The [mail] section of coffre.conf that sends here."""
        return (f"[mail]\nsmtp_url = {self.url}\nfrom = {self.sender}\n"
                f"ca_file = {self.ca_file}\n")

    # messages
    def _paths(self):
        paths = [p for p in self.dir.glob("*.eml") if p.stem.isdigit()]
        return sorted(paths, key=lambda p: int(p.stem))

    def messages(self):
        """Every message received so far, oldest first, as
        email.message.EmailMessage (policy=email.policy.default); each
        carries its number in the sink as .sink_number."""
        out = []
        for p in self._paths():
            with open(p, "rb") as f:
                msg = email.message_from_binary_file(
                    f, policy=email.policy.default)
            msg.sink_number = int(p.stem)
            out.append(msg)
        return out

    def recipients(self, msg):
        """The lower-cased addresses msg went to: its To header and the
        SMTP envelope (RCPT TO)."""
        out = []
        to = msg.get("To")
        if to is not None:
            out += [a.addr_spec.lower() for a in to.addresses]
        n = getattr(msg, "sink_number", None)
        for e in list(self.events):
            if e.get("n") == n:
                out += [r.lower() for r in e.get("rcpt_tos", [])]
        return out

    def wait_for(self, to, timeout=10, pred=None):
        """The newest message sent to TO (its To header or the envelope),
        satisfying PRED (a function of the message) when given; an
        AssertionError listing what did arrive if none comes within
        TIMEOUT seconds."""
        want = to.lower()
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            for msg in reversed(msgs):
                if want in self.recipients(msg) and (pred is None or pred(msg)):
                    return msg
            if time.monotonic() > deadline:
                seen = [(", ".join(self.recipients(m)), str(m.get("Subject")))
                        for m in msgs]
                raise AssertionError(
                    f"no mail to {to!r}{' matching pred' if pred else ''} "
                    f"within {timeout} s; received: {seen!r}")
            time.sleep(0.05)

    @staticmethod
    def body(msg):
        """The decoded text of msg (its text/plain part)."""
        part = msg.get_body(preferencelist=("plain",))
        if part is None:
            raise AssertionError(f"no text/plain part in {msg!r}")
        return part.get_content()

    def clear(self):
        """Forget the messages received so far."""
        for p in self._paths():
            p.unlink()
