# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line: exit codes, help, init, tenant commands, version,
configuration file errors and overrides."""

import re
import stat

import pytest
import requests

from conftest import (REPO_ROOT, assert_clean_stop, assert_error,
                      expect_startup_failure, init_data_dir, make_temp_root,
                      run_cli, sanitizer_report)

RC_USAGE, RC_CONFIG, RC_KEY, RC_NOT_FOUND, RC_CONFLICT, RC_INVALID = 2, 3, 4, 5, 6, 7


@pytest.fixture(scope="module")
def cli_data():
    """An initialised directory with tenants acme and beta (no server)."""
    data = init_data_dir(make_temp_root() / "data")
    for slug, name in (("acme", "Acme SAS"), ("beta", "Beta Corp")):
        r = run_cli("tenant", "create", slug, "--name", name, "--data", data)
        assert r.returncode == 0, r.stderr
    return data


def no_sanitizer(r):
    assert not sanitizer_report(r.stderr), r.stderr[-4000:]


# ---------------------------------------------------------------- usage

@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["--frobnicate"],
    ["tenant"],
    ["tenant", "frob"],
    ["tenant", "create", "--data", "{data}"],
    ["tenant", "show", "--data", "{data}"],
    ["tenant", "create", "abcd", "--name"],
    ["tenant", "create", "abcd", "--data"],
    ["tenant", "list", "--bogus", "--data", "{data}"],
    ["tenant", "create", "abcd", "--bogus", "--data", "{data}"],
    ["init", "--bogus"],
    ["serve", "--bogus", "--data", "{data}"],
    ["serve", "--listen"],
], ids=" ".join)
def test_usage_errors_exit_2(cli_data, args):
    args = [a.replace("{data}", str(cli_data)) for a in args]
    r = run_cli(*args, timeout=20)
    assert r.returncode == RC_USAGE, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert r.stderr.strip(), "usage error without a message on stderr"
    no_sanitizer(r)


@pytest.mark.parametrize("args", [
    ["--help"], ["help"], ["init", "--help"], ["serve", "--help"],
    ["tenant", "--help"], ["tenant", "create", "--help"],
    ["tenant", "list", "--help"], ["tenant", "show", "--help"],
    ["version", "--help"],
], ids=" ".join)
def test_help_exits_0(args):
    r = run_cli(*args, timeout=20)
    assert r.returncode == 0, (r.returncode, r.stderr[-500:])
    assert (r.stdout + r.stderr).strip()
    assert "usage" in (r.stdout + r.stderr).lower() or "coffre" in r.stdout
    no_sanitizer(r)


def test_subcommand_help_names_its_options():
    r = run_cli("serve", "--help")
    for opt in ("--data", "--listen", "--base-domain", "--http-listen"):
        assert opt in r.stdout + r.stderr, opt
    r = run_cli("tenant", "create", "--help")
    assert "--name" in r.stdout + r.stderr


def test_help_does_not_touch_data(tmp_root):
    """`serve --help` must not initialise or start anything."""
    data = tmp_root / "never"
    r = run_cli("serve", "--help", "--data", data, timeout=20)
    assert r.returncode == 0
    assert not data.exists()


def test_version():
    r = run_cli("version")
    assert r.returncode == 0
    assert re.search(r"\b\d+\.\d+\.\d+\b", r.stdout), r.stdout
    version_file = REPO_ROOT / "VERSION"
    if version_file.is_file():
        assert version_file.read_text().strip() in r.stdout


# ---------------------------------------------------------------- init

def test_init_creates_the_layout(tmp_root):
    data = tmp_root / "data"
    r = run_cli("init", "--data", data)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = data / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.stat().st_size == 32
    assert len(set(key.read_bytes())) > 8  # random, not zeros
    assert (data / "control.db").is_file()
    assert (data / "control.db").read_bytes()[:16] == b"SQLite format 3\x00"
    assert (data / "tenants").is_dir()
    assert (data / "coffre.conf").is_file()


def test_init_existing_empty_directory(tmp_root):
    data = tmp_root / "empty"
    data.mkdir(mode=0o700)
    r = run_cli("init", "--data", data)
    assert r.returncode == 0, r.stderr
    assert (data / "master.key").is_file()


def test_init_is_idempotent(tmp_root):
    data = tmp_root / "data"
    assert run_cli("init", "--data", data).returncode == 0
    key = (data / "master.key").read_bytes()
    conf = (data / "coffre.conf").read_bytes()
    r = run_cli("init", "--data", data)
    assert r.returncode == 0, r.stderr
    assert (r.stdout + r.stderr).strip(), "second init says nothing"
    assert (data / "master.key").read_bytes() == key
    assert (data / "coffre.conf").read_bytes() == conf


def test_two_inits_make_different_keys(tmp_root):
    a, b = tmp_root / "a", tmp_root / "b"
    assert run_cli("init", "--data", a).returncode == 0
    assert run_cli("init", "--data", b).returncode == 0
    assert (a / "master.key").read_bytes() != (b / "master.key").read_bytes()


CONF_DEFAULTS = {
    "server": {"listen": "127.0.0.1:8443", "base_domain": "localhost",
               "http_listen": "", "threads": "2", "max_connections_per_ip": "64",
               "connection_timeout": "30", "max_header_bytes": "16384",
               "max_body_bytes": "1048576"},
    "tls": {"cert_file": "", "key_file": ""},
    "db": {"tenant_pool": "256", "busy_timeout_ms": "5000"},
    "metrics": {"token": ""},
    "workers": {"threads": "2", "queue": "64"},
    "log": {"level": "info"},
}


def test_init_conf_has_every_key_commented_with_default(tmp_root):
    data = init_data_dir(tmp_root / "data")
    text = (data / "coffre.conf").read_text()
    section, seen = None, {}
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"^[;#]?\s*\[([a-z_]+)\]", s)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([a-z_]+)\s*=", s)
        assert not m, f"key set, not commented out: {line!r}"
        m = re.match(r"^[;#]+\s*([a-z_]+)\s*=\s*(.*)$", s)
        if m and section:
            value = re.split(r"\s[;#]", " " + m.group(2))[0].strip()
            seen[(section, m.group(1))] = value
    for sec, keys in CONF_DEFAULTS.items():
        for key, default in keys.items():
            assert (sec, key) in seen, f"[{sec}] {key} missing from coffre.conf"
            assert seen[(sec, key)] == default, (sec, key, seen[(sec, key)])


# ---------------------------------------------------------------- tenants

@pytest.mark.parametrize("slug", ["bad-", "ab", "admin", "www", "Acme",
                                  "a_b", "x" * 41, "été", "a.b"])
def test_tenant_create_bad_slug_exits_7(cli_data, slug):
    r = run_cli("tenant", "create", slug, "--name", "X", "--data", cli_data)
    assert r.returncode == RC_INVALID, (r.returncode, r.stderr)
    assert r.stderr.strip(), "no reason given"
    listing = run_cli("tenant", "list", "--data", cli_data).stdout
    assert slug not in [l.split("\t")[0] for l in listing.splitlines()]
    no_sanitizer(r)


def test_tenant_create_duplicate_exits_6(cli_data):
    r = run_cli("tenant", "create", "acme", "--name", "Other", "--data", cli_data)
    assert r.returncode == RC_CONFLICT, (r.returncode, r.stderr)
    show = run_cli("tenant", "show", "acme", "--data", cli_data)
    assert "Acme SAS" in show.stdout and "Other" not in show.stdout


def test_tenant_show_unknown_exits_5(cli_data):
    r = run_cli("tenant", "show", "nosuch", "--data", cli_data)
    assert r.returncode == RC_NOT_FOUND, (r.returncode, r.stderr)
    assert r.stderr.strip()


def test_tenant_create_prints_url(cli_data):
    r = run_cli("tenant", "create", "gamma", "--name", "Gamma", "--data", cli_data)
    assert r.returncode == 0, r.stderr
    assert re.search(r"https://gamma\.localhost:8443/(\s|$)", r.stdout), r.stdout


def test_tenant_create_without_name(cli_data):
    r = run_cli("tenant", "create", "noname", "--data", cli_data)
    assert r.returncode == 0, r.stderr
    assert run_cli("tenant", "show", "noname", "--data", cli_data).returncode == 0


def test_tenant_list(cli_data):
    r = run_cli("tenant", "list", "--data", cli_data)
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        assert len(parts) == 3, f"not SLUG<TAB>NAME<TAB>CREATED: {line!r}"
        rows[parts[0]] = parts
    assert rows["acme"][1] == "Acme SAS"
    assert rows["beta"][1] == "Beta Corp"
    assert rows["acme"][2].strip(), rows["acme"]


def test_tenant_list_empty(tmp_root):
    data = init_data_dir(tmp_root / "data")
    r = run_cli("tenant", "list", "--data", data)
    assert r.returncode == 0
    assert not r.stdout.strip()


def test_tenant_show(cli_data):
    r = run_cli("tenant", "show", "acme", "--data", cli_data)
    assert r.returncode == 0, r.stderr
    kv = {}
    for line in r.stdout.splitlines():
        if line.strip():
            k, sep, v = line.partition(": ")
            assert sep, f"not a key: value line: {line!r}"
            kv[k.strip()] = v.strip()
    assert "acme" in kv.values()
    assert "Acme SAS" in kv.values()


def test_tenant_name_with_unicode_kept(cli_data):
    name = "Société Générale — Ünïcødé"
    r = run_cli("tenant", "create", "unicode-co", "--name", name, "--data", cli_data)
    assert r.returncode == 0, r.stderr
    assert name in run_cli("tenant", "show", "unicode-co", "--data", cli_data).stdout


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("conf,name,lines", [
    ("[server]\nthreads = 2\n\n; comment\nbogus_key = 1\n", "bogus_key", [5]),
    ("[server]\nthreads = 2\n[log]\nlevel = info\ncolour = red\n", "colour", [5]),
    # The section's own line or that of its first key (inih reports keys).
    ("; c\n; c\n[nosuchsection]\nkey = 1\n", "nosuchsection", [3, 4]),
    ("[server]\nmax_body_bytes = lots\n", "max_body_bytes", [2]),
    ("[server]\n\n\nlisten = not-an-address\n", "listen", [4]),
    ("[log]\nlevel = loud\n", "level", [2]),
    ("[server]\nthreads = -1\n", "threads", [2]),
], ids=["unknown-key", "unknown-key-log", "unknown-section", "bad-number",
        "bad-listen", "bad-level", "negative"])
def test_config_errors_exit_3(tmp_root, conf, name, lines):
    data = init_data_dir(tmp_root / "data")
    (data / "coffre.conf").write_text(conf)
    # Without --listen for the listen case: an option overriding the file
    # may legitimately leave the file's value unused.
    rc, stderr = expect_startup_failure(data, listen=(name != "listen"))
    assert rc == RC_CONFIG, (rc, stderr[-1000:])
    assert name in stderr, stderr[-1000:]
    alts = "|".join(str(n) for n in lines)
    assert re.search(rf"(?i)(line\s*:?\s*({alts})\b|:({alts})\b)", stderr), (
        f"line {lines} not named: {stderr[-1000:]}")
    assert not sanitizer_report(stderr), stderr[-4000:]


def test_explicit_full_config_and_cli_overrides(server_factory, tmp_root):
    """Every documented key, set explicitly with inline comments, is
    accepted; --base-domain overrides base_domain of the file."""
    data = init_data_dir(tmp_root / "data")
    r = run_cli("tenant", "create", "acme", "--name", "Acme SAS", "--data", data)
    assert r.returncode == 0
    (data / "coffre.conf").write_text(
        "[server]\n"
        "listen = 127.0.0.1:1          ; overridden by --listen\n"
        "base_domain = coffre.test\n"
        "http_listen =\n"
        "threads = 2                  ; HTTP worker threads\n"
        "max_connections_per_ip = 64\n"
        "connection_timeout = 30\n"
        "max_header_bytes = 16384\n"
        "max_body_bytes = 1048576\n"
        "[tls]\ncert_file =\nkey_file =\n"
        "[db]\ntenant_pool = 256\nbusy_timeout_ms = 5000\n"
        "[metrics]\ntoken = t0ken-for-test\n"
        "[workers]\nthreads = 2\nqueue = 64\n"
        "[log]\nlevel = debug\n")
    srv = server_factory(data=data, extra_args=("--base-domain", "example.test"),
                         base_domain="example.test")
    r = srv.get("/", host=f"acme.example.test:{srv.port}")
    assert r.status_code == 200 and "Acme SAS" in r.text, r.status_code
    assert srv.get("/healthz", host=f"example.test:{srv.port}").status_code == 200
    assert_error(srv.get("/", host=f"acme.coffre.test:{srv.port}"), 421,
                 "misdirected_request")
    assert_error(srv.get("/", host=f"acme.localhost:{srv.port}"), 421,
                 "misdirected_request")
    m = srv.get("/metrics", host=f"example.test:{srv.port}",
                headers={"Authorization": "Bearer t0ken-for-test"})
    assert m.status_code == 200
    assert_clean_stop(srv)


def test_cli_listen_overrides_file(plain_server):
    """plain_server's file says listen = <file_port>; --listen wins."""
    assert plain_server.get("/healthz").status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"https://127.0.0.1:{plain_server.file_port}/healthz",
                     verify=False, timeout=2)
    listening = plain_server.wait_log(lambda o: o.get("msg") == "listening")
    assert listening, plain_server.log_tail()
    assert f":{plain_server.port}" in listening["url"]
