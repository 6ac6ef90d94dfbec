# SPDX-License-Identifier: AGPL-3.0-or-later
"""POST /api/v1/password/strength (COMMITMENT A2, A3): the policy's verdict
with zxcvbn score, entropy, problems and FR/EN hints; the work runs in the
worker pool, so a flood gets 503 + Retry-After while /healthz stays up
(invariant 7); the password never reaches the log."""

import concurrent.futures
import time

from conftest import assert_error

STRONG = "violet-Tambour-glacier-47-mirabelle"
PATH = "/api/v1/password/strength"


def strength(srv, body, **kw):
    r = srv.post_json(PATH, body, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def test_shape_and_strong_password(server):
    v = strength(server, {"password": STRONG})
    assert set(v) == {"acceptable", "score", "entropy_bits", "length",
                      "problems", "hints"}
    assert v["acceptable"] is True, v
    assert v["problems"] == []
    assert v["score"] >= 3
    assert v["entropy_bits"] > 30
    assert v["length"] == len(STRONG)
    assert isinstance(v["hints"]["fr"], list)
    assert len(v["hints"]["fr"]) == len(v["hints"]["en"])


def test_short_password(server):
    v = strength(server, {"password": "Zx9!qT"})
    assert v["acceptable"] is False
    assert "too_short" in v["problems"]
    assert v["hints"]["fr"] and v["hints"]["en"]


def test_common_password(server):
    v = strength(server, {"password": "password1234"})
    assert v["acceptable"] is False
    assert {"common", "weak"} & set(v["problems"]), v


def test_contains_email_and_name(server):
    v = strength(server, {"password": "jean.dupont-" + STRONG,
                          "email": "Jean.Dupont@acme.example"})
    assert "has_email" in v["problems"], v
    v = strength(server, {"password": "Bartholomew" + STRONG,
                          "name": "Bartholomew Durand"})
    assert "has_name" in v["problems"], v


def test_contains_tenant_slug_on_tenant_host(server):
    pw = "acme" + STRONG
    v = strength(server, {"password": pw}, tenant="acme")
    assert "has_tenant" in v["problems"], v
    # on the platform host there is no tenant to compare with
    v = strength(server, {"password": pw})
    assert "has_tenant" not in v["problems"], v


def test_privileged_minimum(server):
    pw = "Kx7#mq2Lz9@wR4"  # 14 characters
    assert "too_short" not in strength(server, {"password": pw})["problems"]
    v = strength(server, {"password": pw, "privileged": True})
    assert "too_short" in v["problems"], v


def test_length_counted_after_nfkc_and_never_truncated(server):
    full = "ｖｉｏｌｅｔ－ｔａｍｂｏｕｒ－ｇｌａｃｉｅｒ"  # fullwidth
    v = strength(server, {"password": full})
    assert v["length"] == len("violet-tambour-glacier")
    v = strength(server, {"password": "a" * 129})
    assert "too_long" in v["problems"]
    assert v["length"] == 129


def test_bad_input(server):
    assert_error(server.post_json(PATH, {"password": STRONG, "x": 1}), 400,
                 "unknown_field")
    assert_error(server.post_json(PATH, {}), 400, "missing_field")
    assert_error(server.post_json(PATH, {"password": 12}), 400, "bad_request")
    r = server.post_json(PATH, {"password": "x" * 1025})
    assert_error(r, 400, "bad_request")
    r = server.post_json(PATH, {"password": STRONG, "privileged": "yes"})
    assert_error(r, 400, "bad_request")


def test_password_never_logged(server):
    canary = "Canary-Zebu-4417-" + "q" * 8
    strength(server, {"password": canary})
    time.sleep(0.2)  # the log writer flushes every 20 ms
    assert canary not in server.log_text()


def test_flood_gets_503_and_health_stays_up(server_factory):
    srv = server_factory(conf="[workers]\nthreads = 1\nqueue = 2\n"
                              "[limits]\nwrite_per_minute = 0\n")
    body = {"password": "Ab1!" * 256}  # 1024 bytes: the slowest input

    def one(_):
        r = srv.post_json(PATH, body)
        return r.status_code, r.headers.get("Retry-After")

    health = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as ex:
        futs = [ex.submit(one, i) for i in range(120)]
        for _ in range(20):
            health.append(srv.get("/healthz").status_code)
        results = [f.result() for f in futs]
    statuses = {s for s, _ in results}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses
    assert 503 in statuses, "a queue of 2 must overflow under 120 requests"
    assert all(ra is not None and int(ra) >= 1
               for s, ra in results if s == 503)
    assert health == [200] * 20
    # the server is still fine afterwards
    assert srv.post_json(PATH, {"password": STRONG}).status_code == 200
