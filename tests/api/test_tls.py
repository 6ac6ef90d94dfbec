# SPDX-License-Identifier: AGPL-3.0-or-later
"""Transport: TLS versions and suites, the certificate, the plain-HTTP
redirect listener, per-IP connection limit and idle timeout.

COMMITMENT D2 (TLS 1.2/1.3 only, ECDHE + AEAD suites only).
"""

import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import HTTP_TIMEOUT, tls_client_context, tls_connect

# Errors OpenSSL raises on the client side before anything is sent: when we
# see one of them the test proves nothing about the server.
LOCAL_REFUSALS = {"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE",
                  "NO_CIPHER_MATCH", "NO_SUITABLE_SIGNATURE_ALGORITHM"}

AEAD_RE = re.compile(r"GCM|CHACHA20")


def handshake(port, ctx, hostname="localhost"):
    with tls_connect(port, hostname, ctx, timeout=5) as s:
        return s.version(), s.cipher()


def refused(port, ctx):
    """True if the server refuses the handshake; fails the test if the
    client could not even offer what was asked."""
    try:
        version, cipher = handshake(port, ctx)
    except ssl.SSLError as e:
        assert e.reason not in LOCAL_REFUSALS, (
            f"client-side refusal {e!r}: the local OpenSSL cannot offer this, "
            "the test proves nothing")
        return True
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return True
    return False


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
                         ids=["tls1.0", "tls1.1"])
def test_old_tls_versions_refused(server, version):
    ctx = tls_client_context(version, version, "DEFAULT:@SECLEVEL=0")
    assert refused(server.port, ctx), f"{version.name} handshake accepted"


def test_tls12_accepted_with_ecdhe_aead(server):
    ctx = tls_client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    version, (name, _, _) = handshake(server.port, ctx)
    assert version == "TLSv1.2"
    assert name.startswith("ECDHE-"), name
    assert AEAD_RE.search(name), name


def test_tls13_accepted(server):
    ctx = tls_client_context(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
    version, (name, proto, _) = handshake(server.port, ctx)
    assert version == "TLSv1.3"
    assert AEAD_RE.search(name), name


def test_default_client_negotiates_tls13(server):
    version, _ = handshake(server.port, tls_client_context())
    assert version == "TLSv1.3"


def test_tls12_cbc_only_refused(server):
    ctx = tls_client_context(
        ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
        "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA:"
        "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0")
    assert refused(server.port, ctx), "a CBC-only TLS 1.2 offer was accepted"


def test_every_accepted_tls12_suite_is_ecdhe_aead(server):
    """Offer each TLS 1.2 suite the local OpenSSL knows, one at a time: every
    one the server accepts must be ECDHE with an AEAD cipher."""
    probe = tls_client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
                               "ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    names = sorted({c["name"] for c in probe.get_ciphers()
                    if c["protocol"] != "TLSv1.3"})
    assert len(names) > 20, names
    accepted, bad = [], []
    for name in names:
        ctx = tls_client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
        try:
            ctx.set_ciphers(name + ":@SECLEVEL=0")
        except ssl.SSLError:
            continue
        try:
            _, (got, _, _) = handshake(server.port, ctx)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError,
                socket.timeout):
            continue
        accepted.append(got)
        if not (got.startswith("ECDHE-") and AEAD_RE.search(got)):
            bad.append(got)
    assert accepted, "no TLS 1.2 suite accepted at all"
    assert not bad, f"non ECDHE+AEAD suites accepted: {bad}"


def test_certificate_is_the_self_signed_p256_for_base_domain(server):
    """The served certificate is DIR/tls/cert.pem, ECDSA P-256, for
    localhost and *.localhost, and verifies against itself for localhost."""
    cert_path = server.data / "tls" / "cert.pem"
    assert cert_path.is_file(), "tls/cert.pem not generated"
    assert (server.data / "tls" / "key.pem").is_file(), "tls/key.pem missing"
    with tls_connect(server.port, "acme.localhost") as s:
        served = s.getpeercert(binary_form=True)
    pem = cert_path.read_text()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    assert ssl.PEM_cert_to_DER_cert(first) == served, "served cert != tls/cert.pem"

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(cert_path))
    with tls_connect(server.port, "localhost", ctx) as s:
        assert s.getpeercert()  # verified chain and host name

    if not shutil.which("openssl"):
        pytest.skip("openssl command not installed")
    out = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(cert_path)],
                         capture_output=True, text=True, timeout=10).stdout
    assert "id-ecPublicKey" in out, out
    assert "prime256v1" in out or "P-256" in out, out
    sans = re.findall(r"DNS:([^,\s]+)", out)
    assert "localhost" in sans and "*.localhost" in sans, sans


# ------------------------------------------------------- plain-HTTP redirect

@pytest.mark.parametrize("path", ["/", "/healthz", "/login?next=1"])
def test_http_listener_only_redirects_to_https(plain_server, path):
    r = requests.get(f"http://127.0.0.1:{plain_server.http_port}{path}",
                     headers={"Host": f"acme.localhost:{plain_server.http_port}"},
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 301, (r.status_code, r.text[:200])
    loc = r.headers.get("Location", "")
    assert loc.startswith("https://"), loc
    assert f":{plain_server.port}" in loc, loc
    assert '"status"' not in r.text  # the route itself is not served


# ------------------------------------------------------- connection limits

def test_per_ip_connection_limit(plain_server):
    """max_connections_per_ip = 8 on plain_server: the ninth concurrent
    connection from 127.0.0.1 is dropped; closing frees the slots."""
    plain_server.session.close()
    time.sleep(0.3)
    held, failed_at = [], None
    try:
        for i in range(12):
            try:
                s = tls_connect(plain_server.port, "localhost", timeout=3)
                # An accepted-then-closed socket may finish the handshake on
                # some stacks: prove the connection is usable.
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if not s.recv(1):
                    raise ConnectionResetError("closed")
                held.append(s)
            except (OSError, ssl.SSLError):
                failed_at = i
                break
        assert failed_at is not None, "12 concurrent connections all accepted"
        assert 6 <= failed_at <= 8, f"limit hit after {failed_at} connections"
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            r = plain_server.get("/healthz")
            assert r.status_code == 200
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_idle_connections_dropped(plain_server):
    """connection_timeout = 2 on plain_server: a silent client and a client
    stuck in the middle of its headers (slowloris) are both dropped."""
    silent = tls_connect(plain_server.port, "localhost", timeout=12)
    slow = tls_connect(plain_server.port, "localhost", timeout=12)
    try:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n")
        t0 = time.monotonic()
        for s in (silent, slow):
            try:
                data = s.recv(4096)
                # A 408 answer before closing is fine too.
                while data:
                    data = s.recv(4096)
            except (ConnectionResetError, ssl.SSLError):
                pass
            except socket.timeout:
                pytest.fail("idle connection still open after 12 s")
        elapsed = time.monotonic() - t0
        assert elapsed >= 1.0, f"dropped after {elapsed:.1f} s, before the timeout"
    finally:
        silent.close()
        slow.close()


def test_key_file_never_follows_a_planted_link(server_factory, tmp_root):
    """COMMITMENT D3: the private key is written through a new file (O_EXCL|O_NOFOLLOW):
    a symbolic link planted where its temporary file goes is removed, not
    followed, so the key never lands in the link's target."""
    from conftest import init_data_dir
    data = init_data_dir(tmp_root / "data")
    tls = data / "tls"
    tls.mkdir(exist_ok=True)
    victim = tmp_root / "victim.txt"
    victim.write_text("untouched\n")
    for name in ("key.pem.tmp", "cert.pem.tmp"):
        (tls / name).symlink_to(victim)
    srv = server_factory(data=data)
    assert srv.get("/healthz").status_code == 200
    assert victim.read_text() == "untouched\n"
    key = tls / "key.pem"
    assert key.is_file() and not key.is_symlink()
    assert (key.stat().st_mode & 0o777) == 0o600, oct(key.stat().st_mode)
    assert "PRIVATE KEY" in key.read_text()
    assert not (tls / "key.pem.tmp").exists()
