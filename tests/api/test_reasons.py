# SPDX-License-Identifier: AGPL-3.0-or-later
"""One way to refuse: every reason a domain module names beside its cf_rc
(auth_refuse, authz_refuse, authz_actor_holds) is in http/'s one table of
reasons (src/http/respond.c), which alone says how it reads (status, code,
sentence); the contracts document each code. A reason missing from the
table would answer 500, so this walks the sources."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = [
    re.compile(r'auth_refuse\(\s*ctx,\s*"([a-z_]+)"'),
    re.compile(r'authz_refuse\(\s*why,\s*"([a-z_]+)"'),
    re.compile(r'authz_actor_holds\([^;]*?"([a-z_]+)"\)', re.S),
]
TABLE_ROW = re.compile(r'\{"([a-z_]+)", (\d{3}),')


def named_reasons():
    found = {}
    for path in sorted((ROOT / "src").glob("*/*.c")):
        text = path.read_text()
        for pat in NAMED:
            for m in pat.finditer(text):
                found.setdefault(m.group(1), path.name)
    return found


def table():
    text = (ROOT / "src/http/respond.c").read_text()
    body = text[text.index("http_reasons[] = {"):text.index("};", text.index("http_reasons[] = {"))]
    return {m.group(1): int(m.group(2)) for m in TABLE_ROW.finditer(body)}


def test_every_named_reason_is_in_the_table():
    named = named_reasons()
    rows = table()
    assert len(named) >= 15, named          # the walk finds them at all
    missing = {code: where for code, where in named.items() if code not in rows}
    assert not missing, f"reasons without a row in http_reasons: {missing}"


def test_table_rows_are_client_errors_and_documented():
    rows = table()
    docs = "".join(p.read_text() for p in (ROOT / "docs/internals").glob("*.md"))
    for code, status in rows.items():
        assert 400 <= status < 500, (code, status)
        assert f"`{code}`" in docs or f'"{code}"' in docs, (
            f"reason {code} is in no contract of docs/internals")
