# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the black-box API tests.

The tests drive a real `coffre serve` on loopback, over real TLS, with a fresh
data directory per session. Behaviour is checked against
docs/internals/contract.md and nothing else.

- `server`: one shared server for the session (tenants acme, beta and evil,
  a metrics token). Most tests use it and must leave it usable.
- `plain_server`: a second shared server on a default-ish configuration (no
  metrics token, a small per-IP connection limit, a short idle timeout,
  a plain-HTTP redirect listener, and a `listen` in the file that the
  command line overrides).
- `server_factory`: start servers of one's own (graceful stop, master key
  checks, configuration errors); they are stopped at the end of the test.
- `cli`: run the binary as a command with a timeout.

The binary comes from COFFRE_BIN (default build/san/coffre at the repository
root). It may carry AddressSanitizer, so start-up waits are generous, and every
server's stderr is checked for sanitizer reports when it stops.
Set COFFRE_TEST_KEEP=1 to keep the temporary directories, or COFFRE_TEST_LOGS
to a directory where the servers' logs are copied when a test failed.
"""

import http.client
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import requests
import urllib3

REPO_ROOT = Path(__file__).resolve().parents[2]
COFFRE_BIN = Path(os.environ.get("COFFRE_BIN") or REPO_ROOT / "build/san/coffre")
if not COFFRE_BIN.is_absolute():
    COFFRE_BIN = REPO_ROOT / COFFRE_BIN

METRICS_TOKEN = "mt-" + "5f0c2a9e7b41d3866c1e4fa0b9d27e13"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
CLI_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0

# The tenants of the shared server: slug -> display name.
TENANTS = {
    "acme": "Acme SAS",
    "beta": "Beta Corp",
    "evil": "Evil <b>\"Co\"</b> & 'Sons'",
}

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

REQUEST_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")
SANITIZER_MARKS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",  # UBSan
    "SUMMARY: AddressSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
)

warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

_TEMP_ROOTS = []


def make_temp_root(prefix="coffre-api-"):
    root = Path(tempfile.mkdtemp(prefix=prefix))
    _TEMP_ROOTS.append(root)
    return root


def pytest_configure(config):
    config.addinivalue_line(
        "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")
    # The TLS tests set TLS 1.0/1.1 on purpose, to see them refused.
    config.addinivalue_line(
        "filterwarnings", "ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")


def _keep_server_logs(dest):
    """Copy the logs of every server and command of the session to DEST
    before their temporary directories go (scripts/test.sh points there
    when a run failed)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for i, root in enumerate(_TEMP_ROOTS):
        for log in sorted(root.rglob("*.log")):
            try:
                shutil.copyfile(log, dest / f"{i:03d}-{root.name}-{log.name}")
            except OSError:
                pass


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # last: after an early stop (-x) the module fixtures are torn down in
    # an earlier pytest_sessionfinish, and they still read their logs
    if exitstatus != 0 and os.environ.get("COFFRE_TEST_LOGS"):
        _keep_server_logs(os.environ["COFFRE_TEST_LOGS"])
    if os.environ.get("COFFRE_TEST_KEEP"):
        return
    for root in _TEMP_ROOTS:
        shutil.rmtree(root, ignore_errors=True)


def require_binary():
    if not COFFRE_BIN.exists():
        pytest.fail(
            f"coffre binary not found at {COFFRE_BIN}: build it with "
            "`make san` or set COFFRE_BIN",
            pytrace=False,
        )


def child_env():
    env = dict(os.environ)
    # Keep the sanitizers' defaults strict but make reports go to stderr,
    # where the server fixtures look for them.
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.pop("COFFRE_DATA", None)
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, timeout=CLI_TIMEOUT, input=None):
    """Run `coffre ARGS`; returns the CompletedProcess (text mode)."""
    require_binary()
    try:
        return subprocess.run(
            [str(COFFRE_BIN), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"coffre {' '.join(map(str, args))} did not finish in {timeout} s "
                    f"(stdout={e.stdout!r}, stderr={e.stderr!r})")


def init_data_dir(data):
    r = run_cli("init", "--data", data)
    assert r.returncode == 0, f"coffre init failed: rc={r.returncode} {r.stderr}"
    return Path(data)


def create_tenant(data, slug, name=None):
    args = ["tenant", "create", slug]
    if name is not None:
        args += ["--name", name]
    r = run_cli(*args, "--data", data)
    assert r.returncode == 0, (
        f"tenant create {slug} failed: rc={r.returncode} {r.stderr}")
    return r


def sanitizer_report(text):
    return [m for m in SANITIZER_MARKS if m in text]


# ---------------------------------------------------------------- raw HTTP

class RawResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # case-insensitive (last value wins)
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.headers} {self.body[:200]!r}>"


def tls_client_context(minimum=None, maximum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_connect(port, server_hostname="localhost", ctx=None, timeout=HTTP_TIMEOUT):
    ctx = ctx or tls_client_context()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        ssock = ctx.wrap_socket(sock, server_hostname=server_hostname)
    except BaseException:
        sock.close()
        raise
    ssock.settimeout(timeout)
    return ssock


class _PrefixedReader(io.RawIOBase):
    """Bytes already received, then the socket."""

    def __init__(self, prefix, sock):
        self.prefix = bytearray(prefix)
        self.sock = sock

    def readable(self):
        return True

    def readinto(self, b):
        if self.prefix:
            n = min(len(b), len(self.prefix))
            b[:n] = self.prefix[:n]
            del self.prefix[:n]
            return n
        try:
            return self.sock.recv_into(b)
        except ssl.SSLZeroReturnError:
            return 0


class _PrefixedSock:
    def __init__(self, prefix, sock):
        self.reader = io.BufferedReader(_PrefixedReader(prefix, sock))

    def makefile(self, mode="rb", *a, **kw):
        return self.reader


def _poll_answer(ssock, timeout):
    """Non-blocking read of whatever application data the server already
    sent. Returns bytes (b"" = closed) or None (nothing yet; TLS 1.3
    session tickets also make the socket readable)."""
    ssock.setblocking(False)
    try:
        return ssock.recv(65536)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return None
    finally:
        ssock.settimeout(timeout)


def raw_request(port, head, body=b"", chunk=65536, server_hostname="localhost",
                timeout=HTTP_TIMEOUT, method="GET"):
    """Send HEAD (bytes, the request line and headers, ending in CRLFCRLF)
    then BODY in chunks over TLS; stop sending early if the server answers
    first. Returns a RawResponse, or None if the server closed the connection
    without an HTTP response."""
    ssock = tls_connect(port, server_hostname=server_hostname, timeout=timeout)
    early = b""
    try:
        try:
            ssock.sendall(head)
            view = memoryview(body)
            deadline = time.monotonic() + timeout
            while view and time.monotonic() < deadline:
                r, w, _ = select.select([ssock], [ssock], [], 0.5)
                if r or ssock.pending():
                    got = _poll_answer(ssock, timeout)
                    if got is not None:
                        early = got
                        break  # early answer (413, 431...) or close
                if w:
                    n = ssock.send(view[:chunk])
                    view = view[n:]
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            pass
        resp = http.client.HTTPResponse(_PrefixedSock(early, ssock), method=method)
        try:
            resp.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError, ssl.SSLError, http.client.BadStatusLine,
                socket.timeout):
            return None
        try:
            data = resp.read()
        except (http.client.IncompleteRead, ConnectionResetError, ssl.SSLError) as e:
            data = getattr(e, "partial", b"")
        headers = requests.structures.CaseInsensitiveDict(resp.getheaders())
        return RawResponse(resp.status, resp.reason, headers, data)
    finally:
        ssock.close()


# ---------------------------------------------------------------- servers

class Server:
    """A running `coffre serve`."""

    def __init__(self, data, port, log_path, proc, extra_args=(),
                 base_domain="localhost"):
        self.base_domain = base_domain
        self.data = Path(data)
        self.port = port
        self.log_path = Path(log_path)
        self.proc = proc
        self.extra_args = tuple(extra_args)
        self.base = f"https://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.verify = False
        self.returncode = None

    # hosts
    @property
    def platform_host(self):
        return f"{self.base_domain}:{self.port}"

    def tenant_host(self, slug):
        return f"{slug}.{self.base_domain}:{self.port}"

    # requests
    def request(self, method, path, host=None, tenant=None, headers=None,
                **kw):
        if host is None:
            host = self.tenant_host(tenant) if tenant else self.platform_host
        hdrs = {"Host": host}
        hdrs.update(headers or {})
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        # Per request: REQUESTS_CA_BUNDLE in the environment would override
        # a session-level verify=False.
        kw.setdefault("verify", False)
        return self.session.request(method, self.base + path, headers=hdrs, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def post_json(self, path, body, content_type="application/json", **kw):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        headers = dict(kw.pop("headers", {}) or {})
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.request("POST", path, data=body, headers=headers, **kw)

    def raw(self, head, body=b"", **kw):
        return raw_request(self.port, head, body, **kw)

    # log
    def log_text(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_lines(self):
        """Complete lines of the log so far."""
        text = self.log_text()
        lines = text.split("\n")
        return [l for l in lines[:-1] if l.strip()]

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log_text().splitlines()[-n:])
        except OSError:
            return "<no log>"

    def wait_log(self, pred, timeout=5.0):
        """Wait until a parsed JSON log line satisfies PRED; return it or None."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and pred(obj):
                    return obj
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    # lifecycle
    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send SIG and wait; returns the exit code, or None if it hung (then
        it is killed)."""
        self.session.close()
        if self.returncode is not None:
            return self.returncode
        self.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            self.returncode = None
            return None
        return self.returncode

    def kill(self):
        if self.alive():
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def spawn_server(data, port=None, extra_args=(), log_path=None,
                 base_domain="localhost", append_log=False):
    """Start `coffre serve` without waiting for it."""
    require_binary()
    port = port or free_port()
    data = Path(data)
    log_path = Path(log_path) if log_path else data.parent / f"serve-{port}.log"
    log_start = log_path.stat().st_size if append_log and log_path.exists() else 0
    logf = open(log_path, "ab" if append_log else "wb")
    try:
        proc = subprocess.Popen(
            [str(COFFRE_BIN), "serve", "--data", str(data),
             "--listen", f"127.0.0.1:{port}", *map(str, extra_args)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf,
            env=child_env(), start_new_session=True,
        )
    finally:
        logf.close()
    srv = Server(data, port, log_path, proc, extra_args, base_domain)
    srv.log_start = log_start
    return srv


def wait_ready(srv, timeout=START_TIMEOUT):
    """Poll /healthz until it answers 200; fail with the log if not."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not srv.alive():
            pytest.fail(
                f"coffre serve exited with {srv.proc.returncode} before being "
                f"ready; log:\n{srv.log_tail()}", pytrace=False)
        try:
            r = requests.get(srv.base + "/healthz",
                             headers={"Host": srv.platform_host},
                             verify=False, timeout=1.0)
            if r.status_code == 200:
                return
            last = f"status {r.status_code}"
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.1)
    srv.kill()
    pytest.fail(f"coffre serve not ready within {timeout} s ({last}); "
                f"log:\n{srv.log_tail()}", pytrace=False)


def start_server(data, port=None, extra_args=(), log_path=None):
    srv = spawn_server(data, port=port, extra_args=extra_args, log_path=log_path)
    wait_ready(srv)
    return srv


def assert_clean_stop(srv, sig=signal.SIGTERM):
    rc = srv.stop(sig)
    log = srv.log_path.read_bytes()[getattr(srv, "log_start", 0):].decode(
        "utf-8", "replace")
    assert rc is not None, (
        f"server did not exit within {STOP_TIMEOUT} s of {sig!r}; log:\n"
        f"{srv.log_tail()}")
    assert not sanitizer_report(log), f"sanitizer report in the log:\n{log[-6000:]}"
    assert rc == 0, f"server exit code {rc} after {sig!r}; log:\n{srv.log_tail()}"


def write_conf(data, text):
    (Path(data) / "coffre.conf").write_text(text)


@pytest.fixture(scope="session")
def coffre_bin():
    require_binary()
    return COFFRE_BIN


@pytest.fixture(scope="session")
def server():
    """The shared server: tenants acme/beta/evil, metrics token set."""
    require_binary()
    data = Path(tempfile.mkdtemp(prefix="coffre-api-data-"))
    _TEMP_ROOTS.append(data)
    init_data_dir(data)
    # The suite sends hundreds of requests, wrong credentials among them,
    # from one address: the shared server lifts the limits
    # (test_ratelimit.py has its own).
    write_conf(data, f"[metrics]\ntoken = {METRICS_TOKEN}\n"
                     "[limits]\nread_per_minute = 0\nwrite_per_minute = 0\n"
                     "auth_per_minute = 0\n")
    for slug, name in TENANTS.items():
        create_tenant(data, slug, name)
    log_path = Path(tempfile.mkdtemp(prefix="coffre-api-log-")) / "serve.log"
    _TEMP_ROOTS.append(log_path.parent)
    srv = start_server(data, log_path=log_path)
    srv.metrics_token = METRICS_TOKEN
    srv.crashes = []
    try:
        yield srv
    finally:
        if srv.alive():
            assert_clean_stop(srv)
        elif not srv.crashes:
            pytest.fail(f"shared server died during the tests "
                        f"(rc={srv.proc.returncode}); log:\n{srv.log_tail()}")


def _restart_shared(srv):
    """Bring the shared server back on the same port and data after a
    crash, so one crash fails one test and not the rest of the session."""
    srv.session.close()
    srv.kill()
    new = spawn_server(srv.data, port=srv.port, log_path=srv.log_path,
                       append_log=True)
    srv.proc = new.proc
    srv.session = new.session
    srv.log_start = new.log_start
    srv.returncode = None
    wait_ready(srv)


@pytest.fixture(autouse=True)
def _shared_server_guard(request):
    """Attribute a crash of the shared server to the test that caused it."""
    if "server" not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue("server")
    if not srv.alive():
        _restart_shared(srv)
    start = srv.log_path.stat().st_size
    yield
    with open(srv.log_path, "rb") as f:
        f.seek(start)
        new = f.read().decode("utf-8", "replace")
    if srv.alive() and sanitizer_report(new):
        try:  # the report is being written: let the process finish dying
            srv.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if not srv.alive() or sanitizer_report(new):
        rc = srv.proc.poll()
        srv.crashes.append((request.node.nodeid, rc))
        _restart_shared(srv)
        pytest.fail(f"the shared server crashed during this test (rc={rc}); "
                    f"its log:\n{new[-6000:]}", pytrace=False)


def expect_startup_failure(data, extra_args=(), timeout=START_TIMEOUT,
                           listen=True):
    """Run `coffre serve` that must refuse to start. Returns (rc, stderr);
    fails fast if it answers /healthz instead."""
    require_binary()
    port = free_port()
    cmd = [str(COFFRE_BIN), "serve", "--data", str(data)]
    if listen:
        cmd += ["--listen", f"127.0.0.1:{port}"]
    cmd += [str(a) for a in extra_args]
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=errf,
                            env=child_env(), start_new_session=True)
    deadline = time.monotonic() + timeout
    started = False
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if listen:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    started = True
                    break
                except OSError:
                    pass
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
            started = True
        errf.seek(0)
        stderr = errf.read().decode("utf-8", "replace")
        errf.close()
    if started:
        pytest.fail(f"serve started (or hung) where it must refuse to; "
                    f"stderr:\n{stderr[-3000:]}", pytrace=False)
    return proc.returncode, stderr


@pytest.fixture(scope="session")
def plain_server():
    """A second server: no metrics token, max_connections_per_ip = 8,
    connection_timeout = 2, a `listen` in the file that --listen overrides,
    and a plain-HTTP redirect listener."""
    root = make_temp_root()
    data = root / "data"
    init_data_dir(data)
    file_port = free_port()
    http_port = free_port()
    write_conf(data, (
        "[server]\n"
        f"listen = 127.0.0.1:{file_port}\n"
        "max_connections_per_ip = 8\n"
        "connection_timeout = 2\n"
        "[limits]\nread_per_minute = 0\nwrite_per_minute = 0\n"
    ))
    create_tenant(data, "acme", "Acme SAS")
    srv = start_server(data, extra_args=("--http-listen", f"127.0.0.1:{http_port}"),
                       log_path=root / "serve.log")
    srv.file_port = file_port
    srv.http_port = http_port
    try:
        yield srv
    finally:
        if srv.alive():
            assert_clean_stop(srv)


@pytest.fixture
def server_factory():
    """Start servers of one's own: factory(data=None, extra_args=(), wait=True,
    init=True, conf=None, port=None, base_domain="localhost"). BASE_DOMAIN
    only tells the Server object which Host to use (pass --base-domain in
    EXTRA_ARGS or set it in CONF). Servers still running at the end are
    killed."""
    started = []

    def factory(data=None, extra_args=(), wait=True, init=True, conf=None,
                port=None, base_domain="localhost"):
        root = make_temp_root()
        if data is None:
            data = root / "data"
            if init:
                init_data_dir(data)
        if conf is not None:
            write_conf(data, conf)
        srv = spawn_server(data, port=port, extra_args=extra_args,
                           log_path=root / "serve.log", base_domain=base_domain)
        started.append(srv)
        if wait:
            wait_ready(srv)
        return srv

    yield factory
    for srv in started:
        srv.session.close()
        srv.kill()


@pytest.fixture
def tmp_root():
    return make_temp_root()


@pytest.fixture(scope="session")
def cli():
    require_binary()
    return run_cli


# ---------------------------------------------------------------- asserts

def error_of(resp):
    """The {"code","message"} of an error response; asserts its shape."""
    ctype = resp.headers.get("Content-Type") or ""
    assert ctype.split(";")[0].strip().lower() == "application/json", (
        f"error content type {ctype!r}")
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict), body
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    return err


def assert_error(resp, status, code):
    st = resp.status_code if hasattr(resp, "status_code") else resp.status
    text = resp.text if hasattr(resp, "text") else resp.body[:500]
    assert st == status, f"expected {status} {code}, got {st}: {text!r}"
    err = error_of(resp)
    assert err["code"] == code, err
    return err


# ---------------------------------------------------------------- mail

@pytest.fixture
def mail_sink():
    """A real SMTP server for one test (tests/api/mailsink.py): STARTTLS
    required, a throw-away CA. Put mail_sink.conf() in the server's
    coffre.conf; read what arrived with mail_sink.wait_for(address)."""
    from mailsink import MailSink

    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()
