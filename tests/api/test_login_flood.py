# SPDX-License-Identifier: AGPL-3.0-or-later
"""Invariant 7 on the login: 200 concurrent logins run their Argon2id
hashes in the bounded worker pool; what does not fit gets 503 with
Retry-After at once, and /healthz never fails meanwhile."""

import concurrent.futures

from conftest import assert_clean_stop, start_server
from test_auth import (OWNER, PW_OWNER, create_tenant_with_owner, do_setup,
                       login, new_server)


def test_200_concurrent_logins_keep_health_up():
    root, data = new_server("[auth]\nip_ban_failures = 100000\n"
                            "[workers]\nthreads = 2\nqueue = 8\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    srv = start_server(data, log_path=root / "serve.log")
    try:
        assert do_setup(srv, link, PW_OWNER).status_code == 200

        def one(_):
            r = login(srv, OWNER, PW_OWNER)
            return r.status_code, r.headers.get("Retry-After")

        health = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
            futs = [ex.submit(one, i) for i in range(200)]
            while not all(f.done() for f in futs):
                health.append(srv.get("/healthz").status_code)
            results = [f.result() for f in futs]
        statuses = [s for s, _ in results]
        assert set(statuses) <= {200, 503}, set(statuses)
        assert statuses.count(200) >= 10
        assert statuses.count(503) >= 1, "a queue of 8 must overflow"
        assert all(ra is not None and int(ra) >= 1
                   for s, ra in results if s == 503)
        assert health and set(health) == {200}, health
    finally:
        if srv.alive():
            assert_clean_stop(srv)
