# SPDX-License-Identifier: AGPL-3.0-or-later
"""Server lifecycle: tenants created while serving, graceful stop on
SIGTERM/SIGINT, master key checks, first start on an empty directory.

COMMITMENT D3 (master key file protected).
"""

import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import threading
import time

import pytest
import requests

from conftest import (STOP_TIMEOUT, assert_clean_stop, expect_startup_failure,
                      init_data_dir, run_cli, sanitizer_report, tls_connect)


def error_lines(srv):
    bad = []
    for line in srv.log_lines():
        try:
            obj = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if obj.get("level") == "error":
            bad.append(line)
    return bad


def test_tenant_created_while_serving_is_visible_at_once(server):
    assert server.get("/", tenant="newco").status_code == 404
    r = run_cli("tenant", "create", "newco", "--name", "New Co", "--data", server.data)
    assert r.returncode == 0, r.stderr
    page = server.get("/", tenant="newco")
    assert page.status_code == 200, page.text[:300]
    assert "New Co" in page.text
    # The other tenants are untouched, and the CLI sees the tenant too.
    assert "Acme SAS" in server.get("/", tenant="acme").text
    listing = run_cli("tenant", "list", "--data", server.data)
    assert listing.returncode == 0
    assert any(l.split("\t")[0] == "newco" for l in listing.stdout.splitlines())


def test_tenant_changed_by_another_process_is_seen_at_once(server):
    """Tenants found by their host are kept for one data version of
    control.db: a change committed by another process (here a plain
    SQLite connection, as a future command would) shows on the very next
    request, after the cache was warmed."""
    r = run_cli("tenant", "create", "movco", "--name", "Mov Co", "--data",
                server.data)
    assert r.returncode == 0, r.stderr

    def page(slug):
        return server.get("/", tenant=slug)

    def change(sql, *args):
        db = sqlite3.connect(server.data / "control.db", timeout=10)
        with db:
            db.execute(sql, args)
        db.close()

    for _ in range(2):
        assert "Mov Co" in page("movco").text
    change("UPDATE tenants SET name = 'Moved Co' WHERE slug = 'movco'")
    assert "Moved Co" in page("movco").text
    change("UPDATE tenants SET slug = 'movco2' WHERE slug = 'movco'")
    assert page("movco").status_code == 404
    assert "Moved Co" in page("movco2").text
    change("UPDATE tenants SET state = 'suspended' WHERE slug = 'movco2'")
    assert page("movco2").status_code == 404
    assert "Acme SAS" in server.get("/", tenant="acme").text


def test_tenant_show_while_serving(server):
    r = run_cli("tenant", "show", "acme", "--data", server.data)
    assert r.returncode == 0, r.stderr
    assert "Acme SAS" in r.stdout


def test_graceful_sigterm_under_load(server_factory):
    srv = server_factory()
    stop = threading.Event()
    stop_sent = threading.Event()
    results = {"ok": 0, "bad": [], "errors": 0}

    def stream():
        s = requests.Session()
        s.verify = False
        while not stop.is_set():
            try:
                r = s.get(srv.base + "/healthz", headers={"Host": srv.platform_host},
                          timeout=5, verify=False)
                if r.status_code == 200 and r.json() == {"status": "ok"}:
                    results["ok"] += 1
                elif r.status_code == 503 and stop_sent.is_set():
                    pass  # draining: refusing new work politely is fine
                else:
                    results["bad"].append((r.status_code, r.text[:100]))
            except (requests.RequestException, ValueError):
                results["errors"] += 1
                time.sleep(0.01)
        s.close()

    threads = [threading.Thread(target=stream, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while results["ok"] < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert results["ok"] >= 30, results
    t0 = time.monotonic()
    stop_sent.set()
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        rc = None
    elapsed = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert rc == 0, f"exit code {rc} after SIGTERM; log:\n{srv.log_tail()}"
    assert elapsed < 12, f"took {elapsed:.1f} s to stop"
    assert not results["bad"], results["bad"][:5]
    log = srv.log_text()
    assert not sanitizer_report(log), log[-4000:]
    assert not error_lines(srv), error_lines(srv)
    # No longer accepting.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()


def test_inflight_request_finishes_after_sigterm(server_factory):
    """A request whose headers are on the wire when SIGTERM arrives still
    gets its answer."""
    srv = server_factory()
    s = tls_connect(srv.port, "localhost", timeout=10)
    try:
        s.sendall(b"POST /api/v1/slug/check HTTP/1.1\r\n"
                  + f"Host: {srv.platform_host}\r\n".encode()
                  + b"Content-Type: application/json\r\nContent-Length: 17\r\n"
                  + b"Connection: close\r\n\r\n" + b'{"slug":')
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        s.sendall(b'"acme-2"}')
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, OSError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert b'"valid":true' in data.replace(b" ", b""), data
    rc = srv.proc.wait(timeout=STOP_TIMEOUT)
    assert rc == 0, srv.log_tail()


def test_sigint_stops_cleanly(server_factory):
    srv = server_factory()
    assert srv.get("/healthz").status_code == 200
    assert_clean_stop(srv, signal.SIGINT)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_master_key_readable_by_others_refused(tmp_root, mode):
    data = init_data_dir(tmp_root / "data")
    key = data / "master.key"
    os.chmod(key, mode)
    rc, stderr = expect_startup_failure(data)
    assert rc == 4, (rc, stderr[-2000:])
    assert "master.key" in stderr, stderr[-2000:]
    assert not sanitizer_report(stderr), stderr[-4000:]


def test_master_key_0600_works(server_factory, tmp_root):
    data = init_data_dir(tmp_root / "data")
    key = data / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    os.chmod(key, 0o644)
    rc, _ = expect_startup_failure(data)
    assert rc == 4
    os.chmod(key, 0o600)
    srv = server_factory(data=data)
    assert srv.get("/healthz").status_code == 200
    assert_clean_stop(srv)


def test_missing_master_key_refused(tmp_root):
    data = init_data_dir(tmp_root / "data")
    (data / "master.key").unlink()
    # An initialised directory (control.db present) must not get a new key:
    # the tenants' data keys are wrapped by the lost one.
    rc, stderr = expect_startup_failure(data)
    assert rc == 4, (rc, stderr[-2000:])
    assert "master.key" in stderr
    assert not (data / "master.key").exists()


def test_serve_initialises_an_empty_directory(server_factory, tmp_root):
    data = tmp_root / "fresh"
    srv = server_factory(data=data)
    assert srv.get("/healthz").status_code == 200
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = data / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.stat().st_size == 32
    assert (data / "control.db").is_file()
    assert (data / "tls" / "cert.pem").is_file()
    assert (data / "tls" / "key.pem").is_file()
    assert_clean_stop(srv)


def test_restart_keeps_tenants_and_certificate(server_factory, tmp_root):
    data = init_data_dir(tmp_root / "data")
    r = run_cli("tenant", "create", "keepme", "--name", "Keep Me", "--data", data)
    assert r.returncode == 0, r.stderr
    srv = server_factory(data=data)
    cert1 = (data / "tls" / "cert.pem").read_bytes()
    assert_clean_stop(srv)
    srv = server_factory(data=data)
    assert "Keep Me" in srv.get("/", tenant="keepme").text
    assert (data / "tls" / "cert.pem").read_bytes() == cert1
    assert_clean_stop(srv)
