# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line: exit codes, help, usage errors, init, the data
directory rule, tenant commands (a fresh setup link for an owner without a
password), version, configuration file errors and overrides."""

import os
import re
import stat
import subprocess

import pytest
import requests

from conftest import (COFFRE_BIN, REPO_ROOT, assert_clean_stop, assert_error,
                      child_env, expect_startup_failure, init_data_dir,
                      make_temp_root, run_cli, sanitizer_report)
from test_auth import NO_LIMITS, PW_OWNER, do_setup, setup_token

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
    "db": {"tenant_pool": "256", "handles_per_tenant": "2",
           "busy_timeout_ms": "5000"},
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
        "[metrics]\ntoken = t0ken-for-test-0123456789abcdef0123\n"
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
                headers={"Authorization": "Bearer t0ken-for-test-0123456789abcdef0123"})
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


# ---------------------------------------------------------------- help and usage

def tenant_commands():
    """The tenant commands, as `coffre tenant --help` lists them."""
    r = run_cli("tenant", "--help")
    assert r.returncode == 0, r.stderr
    subs = re.findall(r"coffre tenant ([a-z]+)", r.stdout)
    assert subs, r.stdout
    return sorted(set(subs))


@pytest.mark.parametrize("args", [["help"], ["--help"], ["-h"]], ids=" ".join)
def test_help_lists_every_command(args):
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    subs = tenant_commands()
    assert {"create", "owner", "list", "show", "policy"} <= set(subs), subs
    for cmd in ["init", "serve", "version", "help"] + [f"tenant {s}" for s in subs]:
        assert re.search(rf"^  {cmd}\b", r.stdout, re.M), (cmd, r.stdout)


@pytest.mark.parametrize("cmd", ["init", "serve", "tenant"])
def test_help_of_one_command(cmd):
    r = run_cli("help", cmd)
    assert r.returncode == 0, r.stderr
    assert r.stdout == run_cli(cmd, "--help").stdout
    assert f"usage: coffre {cmd}" in r.stdout


def test_no_command_is_a_usage_error():
    r = run_cli()
    assert r.returncode == RC_USAGE, (r.returncode, r.stdout, r.stderr)
    assert not r.stdout, "the usage of an error goes to stderr"
    assert "usage: coffre" in r.stderr
    assert "tenant owner" in r.stderr
    no_sanitizer(r)


# (arguments, what the one line must name)
USAGE_ERRORS = [
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["--dta", "x"], "unknown option '--dta'"),
    (["help", "frob"], "unknown command 'frob'"),
    (["version", "extra"], "'extra'"),
    (["init", "--dta", "{data}"], "unknown option '--dta'"),
    (["init", "extra"], "'extra'"),
    (["init", "--data"], "option '--data' needs a value"),
    (["serve", "--dta", "{data}"], "unknown option '--dta'"),
    (["serve", "--listen"], "option '--listen' needs a value"),
    (["serve", "--listen", "nowhere", "--data", "{data}"], "--listen"),
    (["serve", "extra", "--data", "{data}"], "'extra'"),
    (["serve", "-x"], "unknown option '-x'"),
    (["tenant"], "tenant needs a command"),
    (["tenant", "frob"], "unknown tenant command 'frob'"),
    (["tenant", "list", "--dta", "{data}"], "unknown option '--dta'"),
    (["tenant", "list", "--help=yes"], "option '--help' takes no value"),
    (["tenant", "list", "extra", "--data", "{data}"], "'extra'"),
    (["tenant", "create", "--data", "{data}"], "tenant create needs SLUG"),
    (["tenant", "create", "abcd", "--name"], "option '--name' needs a value"),
    (["tenant", "create", "a", "b", "--data", "{data}"], "'b'"),
    (["tenant", "show", "--data", "{data}"], "tenant show needs SLUG"),
    (["tenant", "show", "acme", "--name", "X", "--data", "{data}"], "--name"),
    (["tenant", "owner", "acme", "--data", "{data}"],
     "tenant owner needs SLUG EMAIL"),
    (["tenant", "owner", "acme", "a@b.example", "c", "--data", "{data}"], "'c'"),
    (["tenant", "policy", "--data", "{data}"], "tenant policy needs SLUG"),
    (["tenant", "show", "acme", "--mfa", "all", "--data", "{data}"], "--mfa"),
]


@pytest.mark.parametrize("args,named", USAGE_ERRORS,
                         ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_error_says_what_in_one_line(cli_data, args, named):
    args = [a.replace("{data}", str(cli_data)) for a in args]
    r = run_cli(*args, timeout=20)
    assert r.returncode == RC_USAGE, (r.returncode, r.stdout, r.stderr)
    assert not r.stdout
    lines = r.stderr.splitlines()
    assert lines[0].startswith("coffre: "), lines[0]
    assert named in lines[0], (named, lines[0])
    # one line of reason, then the usage of the command
    assert lines[1] == "" and lines[2].startswith("usage: coffre"), lines[:3]
    no_sanitizer(r)


def test_usage_error_touches_no_directory(tmp_root):
    data = tmp_root / "never"
    for args in (["tenant", "list", "--bogus"], ["serve", "--bogus"],
                 ["serve", "--listen", "nowhere"], ["init", "extra"]):
        r = run_cli(*args, "--data", data)
        assert r.returncode == RC_USAGE, (args, r.returncode, r.stderr)
    assert not data.exists()


# ---------------------------------------------------------------- --data

def snapshot(path):
    """Every entry under path with its size and content hash."""
    if not path.exists():
        return None
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, path)] = (os.path.isdir(p),
                                             None if os.path.isdir(p)
                                             else open(p, "rb").read())
    return out


def not_a_data_dir(root, kind):
    """A path that is not a coffre data directory, of kind: missing (no
    such path), empty, other (someone's files) or half (a key and a
    configuration file but no control.db)."""
    d = root / kind
    if kind == "missing":
        return d
    d.mkdir(mode=0o700)
    if kind == "other":
        (d / "notes.txt").write_text("not coffre data\n")
        (d / "sub").mkdir()
    elif kind == "half":
        (d / "coffre.conf").write_text("[log]\nlevel = info\n")
        (d / "master.key").write_bytes(os.urandom(32))
        os.chmod(d / "master.key", 0o600)
    return d


TENANT_COMMANDS = [
    ["tenant", "list"],
    ["tenant", "show", "acme"],
    ["tenant", "create", "acme"],
    ["tenant", "create", "acme", "--owner", "o@acme.example"],
    ["tenant", "owner", "acme", "o@acme.example"],
    ["tenant", "policy", "acme"],
    ["tenant", "policy", "acme", "mfa=all"],
]


@pytest.mark.parametrize("kind", ["missing", "empty", "other", "half"])
@pytest.mark.parametrize("args", TENANT_COMMANDS, ids=" ".join)
def test_tenant_commands_refuse_a_non_data_directory(tmp_root, kind, args):
    data = not_a_data_dir(tmp_root, kind)
    before = snapshot(data)
    r = run_cli(*args, "--data", data)
    assert r.returncode == RC_CONFIG, (r.returncode, r.stdout, r.stderr)
    assert not r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(data) in lines[0], lines[0]
    if kind == "missing":
        assert "does not exist" in lines[0], lines[0]
    elif kind == "half":
        assert "control.db" in lines[0] and "coffre.conf" not in lines[0]
    else:
        for what in ("coffre.conf", "master.key", "control.db"):
            assert what in lines[0], (what, lines[0])
    assert snapshot(data) == before, "the directory was changed"
    no_sanitizer(r)


def test_tenant_command_on_a_file_is_refused(tmp_root):
    f = tmp_root / "file"
    f.write_text("x")
    r = run_cli("tenant", "list", "--data", f)
    assert r.returncode == RC_CONFIG, (r.returncode, r.stderr)
    assert str(f) in r.stderr and "not a directory" in r.stderr
    assert f.read_text() == "x"


def run_cli_in(cwd, *args):
    """run_cli from the working directory cwd."""
    return subprocess.run([str(COFFRE_BIN), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=20,
                          env=child_env(), stdin=subprocess.DEVNULL)


def test_tenant_command_default_data_is_checked(tmp_root):
    """Without --data, ./var of the working directory must exist too."""
    r = run_cli_in(tmp_root, "tenant", "list")
    assert r.returncode == RC_CONFIG, (r.returncode, r.stderr)
    assert "./var" in r.stderr
    assert not (tmp_root / "var").exists()


def test_tenant_command_without_master_key_is_a_key_error(tmp_root):
    data = init_data_dir(tmp_root / "data")
    (data / "master.key").unlink()
    r = run_cli("tenant", "list", "--data", data)
    assert r.returncode == RC_KEY, (r.returncode, r.stderr)
    assert "master.key" in r.stderr
    assert not (data / "master.key").exists()


@pytest.mark.parametrize("kind", ["other", "half"])
def test_serve_refuses_a_non_empty_non_data_directory(tmp_root, kind):
    data = not_a_data_dir(tmp_root, kind)
    before = snapshot(data)
    rc, stderr = expect_startup_failure(data)
    assert rc == RC_CONFIG, (rc, stderr[-2000:])
    assert str(data) in stderr and "refusing" in stderr, stderr[-2000:]
    assert len(stderr.strip().splitlines()) == 1, stderr[-2000:]
    assert snapshot(data) == before, "the directory was changed"
    assert not sanitizer_report(stderr), stderr[-4000:]


def test_serve_initialises_a_missing_or_empty_directory(server_factory, tmp_root):
    for kind in ("missing", "empty"):
        data = not_a_data_dir(tmp_root, kind)
        srv = server_factory(data=data)
        assert srv.get("/healthz").status_code == 200
        for what in ("coffre.conf", "master.key", "control.db"):
            assert (data / what).is_file(), what
        assert_clean_stop(srv)


def test_init_keeps_an_existing_data_directory(cli_data):
    before = run_cli("tenant", "list", "--data", cli_data).stdout
    key = (cli_data / "master.key").read_bytes()
    r = run_cli("init", "--data", cli_data)
    assert r.returncode == 0, r.stderr
    assert "already initialised" in r.stdout
    assert (cli_data / "master.key").read_bytes() == key
    assert run_cli("tenant", "list", "--data", cli_data).stdout == before


# ---------------------------------------------------------------- owner links

RELINK_OWNER = "first@relink.example"


def test_owner_without_password_gets_a_fresh_link(server_factory, tmp_root):
    """`tenant owner` for an owner who never used their link prints a new
    one, printed like the first; the older link stops working; once the
    password is chosen, it is refused with a pointer to the reset."""
    data = init_data_dir(tmp_root / "data")
    (data / "coffre.conf").write_text(NO_LIMITS)
    r = run_cli("tenant", "create", "relink", "--owner", RELINK_OWNER,
                "--data", data)
    assert r.returncode == 0, r.stderr
    first = setup_token(r.stdout, "relink")
    srv = server_factory(data=data)
    # while the server runs
    r = run_cli("tenant", "owner", "relink", RELINK_OWNER, "--data", data)
    assert r.returncode == 0, (r.returncode, r.stderr)
    second = setup_token(r.stdout, "relink")
    assert second != first
    assert r.stdout.splitlines()[0] == f"owner: {RELINK_OWNER}"
    assert "single use" in r.stdout
    r = run_cli("tenant", "owner", "relink", RELINK_OWNER.upper(), "--data",
                data)
    assert r.returncode == 0, r.stderr
    third = setup_token(r.stdout, "relink")
    for old in (first, second):
        assert_error(do_setup(srv, old, PW_OWNER, tenant="relink"), 400,
                     "invalid_token")
    r = do_setup(srv, third, PW_OWNER, tenant="relink")
    assert r.status_code == 200, r.text
    # a password set: refused as before, with the way back named
    r = run_cli("tenant", "owner", "relink", RELINK_OWNER, "--data", data)
    assert r.returncode == RC_CONFLICT, (r.returncode, r.stdout, r.stderr)
    assert "setup" not in r.stdout
    assert "Forgot your password?" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert_error(do_setup(srv, third, PW_OWNER, tenant="relink"), 400,
                 "invalid_token")
    assert_clean_stop(srv)
