# SPDX-License-Identifier: AGPL-3.0-or-later
"""Operations: /healthz, /readyz, /metrics and its token, the JSON log and
what it must never contain.

COMMITMENT E7 (health and metrics), invariant 5 (no secret is ever logged).
"""

import base64
import json
import re
from datetime import datetime

import pytest

from conftest import METRICS_TOKEN, assert_error

CANARY = "Canary-7f3e9b1d2c5a4e60"  # never to be logged
LEVELS = {"error", "warn", "info", "debug"}
RFC3339_UTC = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$")


# ---------------------------------------------------------------- health

def test_healthz(server):
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz(server):
    r = server.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = r.json()
    assert body["status"] == "ready", body
    assert isinstance(body.get("checks"), dict), body


# ---------------------------------------------------------------- metrics

def metrics(server, auth=None):
    headers = {"Authorization": auth} if auth is not None else {}
    return server.get("/metrics", headers=headers)


def test_metrics_requires_token(server):
    assert_error(metrics(server), 401, "unauthorized")


@pytest.mark.parametrize("auth", [
    "Bearer wrong",
    "Bearer " + METRICS_TOKEN[:-1],
    "Bearer " + METRICS_TOKEN + "x",
    "Bearer " + METRICS_TOKEN.upper(),
    "Bearer",
    "Bearer ",
    METRICS_TOKEN,
    "Token " + METRICS_TOKEN,
    "Basic " + base64.b64encode(f"metrics:{METRICS_TOKEN}".encode()).decode(),
], ids=["wrong", "prefix", "suffix", "case", "empty", "empty2", "no-scheme",
        "token-scheme", "basic"])
def test_metrics_wrong_token(server, auth):
    assert_error(metrics(server, auth), 401, "unauthorized")


def test_metrics_token_in_query_not_accepted(server):
    r = server.get(f"/metrics?token={METRICS_TOKEN}")
    assert r.status_code in (400, 401), r.status_code
    assert "coffre_http_requests_total" not in r.text


def test_metrics_with_token(server):
    r = metrics(server, f"Bearer {METRICS_TOKEN}")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers["Content-Type"]
    for name in ("coffre_http_requests_total",
                 "coffre_http_request_duration_seconds_bucket",
                 "coffre_tenants_open"):
        assert name in r.text, name
    assert re.search(r'coffre_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"',
                     r.text), "histogram without +Inf bucket"


def parse_samples(text, name):
    total = 0.0
    found = False
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", line)
        if m:
            total += float(m.group(2))
            found = True
    assert found, f"no {name} sample"
    return total


def test_metrics_are_valid_exposition(server):
    text = metrics(server, f"Bearer {METRICS_TOKEN}").text
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?'
                        r' [-+0-9.eEInfaN]+( \d+)?$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        assert sample.match(line), f"bad exposition line: {line!r}"
    assert parse_samples(text, "coffre_tenants_open") >= 0


def test_request_counter_increases(server):
    before = parse_samples(metrics(server, f"Bearer {METRICS_TOKEN}").text,
                           "coffre_http_requests_total")
    for _ in range(5):
        server.get("/healthz")
    after = parse_samples(metrics(server, f"Bearer {METRICS_TOKEN}").text,
                          "coffre_http_requests_total")
    assert after >= before + 5, (before, after)


def test_metrics_on_tenant_host_is_404(server):
    r = server.get("/metrics", tenant="acme",
                   headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert_error(r, 404, "not_found")
    assert "coffre_" not in r.text


@pytest.mark.parametrize("auth", [None, "Bearer ", "Bearer anything"])
def test_metrics_disabled_without_token(plain_server, auth):
    r = metrics(plain_server, auth)
    assert_error(r, 404, "not_found")


# ---------------------------------------------------------------- log

def parsed_log(server):
    out = []
    for line in server.log_lines():
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail(f"log line is not JSON: {line!r}")
        assert isinstance(obj, dict), line
        out.append(obj)
    return out


def test_log_lines_are_json(server):
    server.get("/no-such-page", tenant="acme")
    lines = parsed_log(server)
    assert lines
    for obj in lines:
        for field in ("time", "level", "msg"):
            assert field in obj, obj
        assert obj["level"] in LEVELS, obj
        assert isinstance(obj["msg"], str) and obj["msg"], obj
        assert RFC3339_UTC.match(obj["time"]), obj["time"]
        datetime.fromisoformat(obj["time"].replace("Z", "+00:00"))


def test_log_first_line_is_listening(server):
    first = json.loads(server.log_lines()[0])
    assert first["msg"] == "listening", first
    assert first["url"].startswith("https://"), first
    assert f":{server.port}" in first["url"], first


def test_request_is_logged(server):
    r = server.get("/no-such-page", tenant="acme")
    rid = r.headers["X-Request-Id"]
    line = server.wait_log(lambda o: o.get("request_id") == rid)
    assert line is not None, f"no log line with request_id {rid}"
    assert line.get("status") == 404, line
    assert line.get("tenant") in ("acme", None), line
    if "duration_ms" in line:
        assert isinstance(line["duration_ms"], (int, float)), line


def test_secrets_never_logged(server):
    """Invariant 5: a canary put into credentials, cookies, query strings
    and JSON bodies never reaches the log; neither does the metrics token
    (sent by other tests of the session)."""
    rids = []
    hdrs = {
        "Authorization": f"Bearer {CANARY}",
        "Cookie": f"__Host-session={CANARY}",
        "X-Api-Key": CANARY,
        "X-Password": CANARY,
    }
    rids.append(server.get("/healthz", headers=hdrs).headers["X-Request-Id"])
    rids.append(server.get(f"/healthz?password={CANARY}").headers["X-Request-Id"])
    rids.append(server.get(f"/healthz?token={CANARY}", tenant="acme").headers["X-Request-Id"])
    rids.append(server.get(f"/no-such-page?secret={CANARY}", tenant="acme",
                           headers=hdrs).headers["X-Request-Id"])
    rids.append(server.post_json("/api/v1/slug/check",
                                 {"slug": "abcd", "password": CANARY}).headers["X-Request-Id"])
    rids.append(server.post_json("/api/v1/slug/check",
                                 b'{"slug": "' + CANARY.encode() + b'", broken').headers["X-Request-Id"])
    # Wait until the last request is in the log (if requests are logged).
    server.wait_log(lambda o: o.get("request_id") == rids[-1], timeout=3)
    text = server.log_text()
    assert CANARY not in text and CANARY.lower() not in text, "canary found in the log"
    assert METRICS_TOKEN not in text, "metrics token found in the log"
