// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Browser tests of the coffre web UI. A plain Node script, no test framework:
// it makes a fresh data directory, creates the tenant "acme" with an owner
// (keeping the token of the printed setup link), lifts the per-address rate
// limits in coffre.conf, starts a real `coffre serve` on a free loopback
// port, drives headless Chromium through playwright-core against
// https://acme.localhost:PORT/, prints one line per test (`ok N - name` /
// `not ok N - name: reason`) and a summary line, stops the server with
// SIGTERM and removes the data directory. Exit status 0 when every test
// passed, 1 otherwise.
//
// Environment: COFFRE_BIN (default ../../build/san/coffre from this file),
// CHROMIUM_BIN (default /usr/bin/chromium). The step-up tests age the
// sessions' proofs of identity in the tenant database with the sqlite3
// command-line tool (SQLITE3_BIN, default sqlite3 from PATH). The server
// mails through the repository's SMTP sink (tests/tools/smtp_sink.py, run
// with PYTHON3_BIN, default /usr/bin/python3, over STARTTLS with a
// throw-away CA made by openssl): the administration tests read the
// invitation link from there.

import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  accessSync, constants as fsc, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const COFFRE_BIN = process.env.COFFRE_BIN
  ? path.resolve(process.env.COFFRE_BIN)
  : path.resolve(HERE, '../../build/san/coffre');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SQLITE3_BIN = process.env.SQLITE3_BIN || 'sqlite3';
// E2E_ONLY="6,31": run only those tests (by number); unset: all of them.
const ONLY = process.env.E2E_ONLY
  ? new Set(process.env.E2E_ONLY.split(',').map((x) => Number(x.trim())).filter((n) => n > 0))
  : null;
// Debian's python3-aiosmtpd is only seen by the system interpreter.
const PYTHON3_BIN = process.env.PYTHON3_BIN || '/usr/bin/python3';
const SMTP_SINK = path.resolve(HERE, '../tools/smtp_sink.py');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];
const TENANT_SLUG = 'acme';
const TENANT_NAME = 'Acme SAS';
const OWNER_EMAIL = 'owner@acme.example';
// The owner's password: 35 characters, accepted by the policy for owners.
const OWNER_PASSWORD = 'violet-Tambour-glacier-47-mirabelle';
// Refused for an owner (12 characters, a common word): the server has hints.
const WEAK_PASSWORD = 'password1234';
const WRONG_PASSWORD = 'not-the-Right-one-at-all-2024';
// The account the administration tests invite, and the password it
// chooses from the mailed link.
const MEMBER_EMAIL = 'member@acme.example';
const MEMBER_PASSWORD = 'Quartz-lantern-9-orbit-meadow';
// A second owner, added with `coffre tenant owner` for the tests of the
// account's password, sessions and history, so that changing its password
// leaves the first owner's to the other tests.
const SECOND_EMAIL = 'second.owner@acme.example';
const SECOND_PASSWORD = 'Saffron-orbit-22-canyon-tulip-vessel';
const SECOND_NEW_PASSWORD = 'Harbour-cobalt-58-juniper-whistle';
// The accounts of the roles, groups, grants and spaces tests: a member put
// in the group "Finance" (and made admin for a while by the last test),
// and an auditor (no doc.read in the whole tenant) given a single space.
const CLAIRE_EMAIL = 'claire@acme.example';
const CLAIRE_PASSWORD = 'Copper-meadow-41-lantern-violet';
const AUDIT_EMAIL = 'audit@acme.example';
const AUDIT_PASSWORD = 'Granite-willow-73-harbour-plum';
// The tests sign in many times from one address: no per-address limits,
// and more failed sign-ins before the address is banned than a run makes.
const TEST_CONF = '[limits]\nread_per_minute = 0\nwrite_per_minute = 0\nauth_per_minute = 0\n'
  + '[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n';
// The one message of a refused sign-in (wrong password, unknown address,
// locked account), FR and EN.
const LOGIN_REFUSED = {
  fr: 'E-mail ou mot de passe incorrect. Après plusieurs échecs, un compte est bloqué pendant un moment : '
    + 'patientez, ou utilisez « Mot de passe oublié ? » pour en choisir un nouveau.',
  en: 'Wrong e-mail or password. After several failures an account is locked for a while: '
    + 'wait, or use “Forgot your password?” to choose a new one.',
};
// An account locked by failed sign-ins (test 31), and one invited on a
// server without mail (test 33).
const LOCKED_EMAIL = 'locked.owner@acme.example';
const LOCKED_PASSWORD = 'Walnut-harbour-63-cinder-maple-Quill';
const HANDOVER_EMAIL = 'handover@acme.example';
const HANDOVER_PASSWORD = 'Orchid-lantern-85-pebble-Sextant';
// The label of the code field of the second sign-in step, FR or EN.
const CODE_LABEL = /^(Code de l.application d.authentification ou code de secours|Authenticator app code or recovery code)$/;
const CSRF_RE = /^[0-9a-f]{64}$/;
const PAT_RE = /^coffre_pat_[A-Za-z0-9_-]{43}$/;
// An object id of the API: a whole number, or a public id (hex).
const ID_RE = /^(\d+|[0-9a-f]{32})$/;
const HEX32_RE = /^[0-9a-f]{32}$/;
// Older than the 5 minutes a proof of identity is good for.
const STALE_PROOF_S = 600;
const HEALTH_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;
const MAIL_TIMEOUT_MS = 10_000;
const LOG_KEEP_BYTES = 64 * 1024;

// ---------------------------------------------------------------- helpers

function oneLine(text, max = 600) {
  const s = String(text).replace(/\s*\n\s*/g, ' | ').trim();
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

// Thrown by a test that cannot run against this server: `ok N - name # SKIP`.
class Skip extends Error {}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs the coffre CLI; resolves with stdout, rejects with a readable error.
function coffre(args) {
  return new Promise((resolve, reject) => {
    execFile(COFFRE_BIN, args, { timeout: CLI_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) {
        const code = err.code ?? err.signal;
        reject(new Error(`coffre ${args.join(' ')} failed (${code}): ${oneLine(stderr || stdout)}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

// Runs a program; resolves with stdout, rejects with a readable error.
function runTool(bin, args) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: CLI_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(bin)} ${args[0]} failed: ${oneLine(stderr || err.message)}`));
      else resolve(stdout);
    });
  });
}

// Sets the tenant's 2FA policy with the CLI (optional, admins or all);
// the running server reads it at the next request.
async function setMfaPolicy(ctx, value) {
  const out = await coffre(['tenant', 'policy', TENANT_SLUG, `mfa=${value}`, '--data', ctx.data]);
  check(new RegExp(`^mfa: ${value}$`, 'm').test(out), `tenant policy did not set mfa=${value}: ${oneLine(out)}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// One GET of /healthz on the platform host; resolves with the status code.
function healthz(port) {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/healthz',
        servername: 'localhost',
        headers: { Host: `localhost:${port}` },
        rejectUnauthorized: false,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// One JSON POST to the tenant host, certificate not checked; resolves with
// { status, body }.
function postTenant(port, slug, urlPath, body) {
  return requestTenant(port, slug, 'POST', urlPath, {}, body);
}

// One request to the tenant host with the given headers and, when body is
// given, a JSON body; certificate not checked. Resolves with
// { status, body } (the body parsed as JSON, or null).
function requestTenant(port, slug, method, urlPath, headers, body) {
  const data = body === undefined || body === null ? null : Buffer.from(JSON.stringify(body));
  const all = { Host: `${slug}.localhost:${port}`, Accept: 'application/json', ...headers };
  if (data) {
    all['Content-Type'] = 'application/json';
    all['Content-Length'] = data.length;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        servername: `${slug}.localhost`,
        headers: all,
        rejectUnauthorized: false,
        timeout: STEP_TIMEOUT_MS,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let parsed = null;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data || undefined);
  });
}

// One GET to the tenant host with a cookie header; { status, body }.
function getTenant(port, slug, urlPath, cookie) {
  return requestTenant(port, slug, 'GET', urlPath, { Cookie: cookie });
}

// One request to the tenant host as a signed-in browser would send it: the
// session cookie, X-CSRF-Token when given, a JSON body when given.
// Resolves with { status, body } (the body parsed as JSON, or null).
function apiTenant(port, method, urlPath, { cookie, csrf, body } = {}) {
  const headers = {};
  if (cookie) headers.Cookie = cookie;
  if (csrf) headers['X-CSRF-Token'] = csrf;
  return requestTenant(port, TENANT_SLUG, method, urlPath, headers, body);
}

// The Cookie header of the context's session, or '' without one.
async function sessionCookie(context) {
  const c = (await context.cookies()).find((x) => x.name === '__Host-coffre_session' && x.value);
  return c ? `${c.name}=${c.value}` : '';
}

// Runs one SQL statement with the sqlite3 tool; resolves with its output.
function sqlite(dbFile, sql) {
  return new Promise((resolve, reject) => {
    execFile(SQLITE3_BIN, ['-batch', '-cmd', '.timeout 10000', dbFile, sql], { timeout: CLI_TIMEOUT_MS },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`sqlite3 ${path.basename(dbFile)} failed: ${oneLine(stderr || err.message)}`));
        else resolve(stdout);
      });
  });
}

// Moves back every session's last proof of identity (login, second-step
// code or step-up) in the test tenant's database, as time passing would:
// the next sensitive change then answers 403 step_up_required.
async function ageProofs(ctx, seconds = STALE_PROOF_S) {
  const id = (await sqlite(path.join(ctx.data, 'control.db'),
    `SELECT id FROM tenants WHERE slug = '${TENANT_SLUG}';`)).trim();
  check(/^\d+$/.test(id), `no tenant "${TENANT_SLUG}" in control.db (got "${id}")`);
  await sqlite(path.join(ctx.data, 'tenants', id, 'tenant.db'),
    `UPDATE sessions SET auth_at = auth_at - ${Number(seconds)};`);
}

// The token of the `setup: https://SLUG.<base>:<port>/setup#TOKEN` line
// printed by `coffre tenant create --owner` (the port printed is the
// configured one, not the test's: only the token is kept).
function setupToken(stdout) {
  const m = /^setup:\s*(\S+)\s*$/m.exec(stdout);
  check(m, `no "setup: URL" line in the output of tenant create: ${oneLine(stdout)}`);
  const hash = m[1].indexOf('#');
  check(hash >= 0, `the setup link has no #TOKEN: ${m[1]}`);
  const token = m[1].slice(hash + 1);
  check(/^[A-Za-z0-9_-]{43}$/.test(token), `the setup token is not 43 base64url characters: "${token}"`);
  return token;
}

// The server process and the tail of what it logged.
class Server {
  constructor(dataDir, port) {
    this.log = '';
    this.exited = null; // { code, signal } once it ended
    this.proc = spawn(
      COFFRE_BIN,
      ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_KEEP_BYTES);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    this.done = new Promise((resolve) => {
      this.proc.on('error', (err) => {
        keep(`spawn error: ${err.message}\n`);
        this.exited = { code: null, signal: null };
        resolve(this.exited);
      });
      this.proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve(this.exited);
      });
    });
  }

  async waitHealthy(port) {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`coffre serve exited early (${this.exited.code ?? this.exited.signal})`);
      }
      try {
        const status = await healthz(port);
        if (status === 200) return;
        last = `HTTP ${status}`;
      } catch (err) {
        last = err.message;
      }
      await sleep(200);
    }
    throw new Error(`/healthz not ready after ${HEALTH_TIMEOUT_MS / 1000} s (${last})`);
  }

  // SIGTERM, then SIGKILL if it does not stop in time. Resolves with the exit.
  async stop() {
    if (this.exited) return this.exited;
    this.proc.kill('SIGTERM');
    const res = await Promise.race([this.done, sleep(STOP_TIMEOUT_MS).then(() => null)]);
    if (res) return res;
    this.proc.kill('SIGKILL');
    await this.done;
    return { code: null, signal: 'SIGKILL (did not stop on SIGTERM)' };
  }

  tail(lines = 40) {
    return this.log.trimEnd().split('\n').slice(-lines);
  }
}

// A fresh browser context and page, with everything that went wrong on it
// collected in `problems`: console errors, CSP reports, uncaught exceptions,
// failed requests and HTTP errors. `expected` lists the error answers a test
// provokes on purpose, as [status, path] pairs (a 401 from the login API,
// say): those, and the "Failed to load resource" console line Chromium
// prints for them, are not problems. `urls` collects every URL the page
// requested or navigated to, `consoleText` every console message, so a test
// can check that a secret never shows in either.
async function openPage(browser, options = {}, expected = []) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  const urls = [];
  const consoleText = [];
  const isExpected = (status, url) => {
    let pathname = '';
    try {
      pathname = new URL(url).pathname;
    } catch {
      return false;
    }
    return expected.some(([s, p]) => s === status && p === pathname);
  };
  page.on('console', (msg) => {
    const text = msg.text();
    consoleText.push(text);
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
    if (failed && isExpected(Number(failed[1]), msg.location()?.url || '')) return;
    if (msg.type() === 'error' || /Content Security Policy|Refused to/i.test(text)) {
      problems.push(`console ${msg.type()}: ${text}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // A request cut short because the page went on to another one (a script
  // redirect to /login, say) is no fault of the page: net::ERR_ABORTED on a
  // request made before a later main-frame navigation is left out. The
  // check is deferred to noProblems, when every navigation is over.
  let navigations = 0;
  const issuedAt = new WeakMap();
  page.on('request', (req) => {
    urls.push(req.url());
    issuedAt.set(req, navigations);
  });
  page.on('framenavigated', (frame) => {
    urls.push(frame.url());
    if (frame === page.mainFrame()) navigations++;
  });
  page.on('requestfailed', (req) => {
    const error = req.failure()?.errorText ?? '?';
    const text = `request failed: ${req.url()} (${error})`;
    if (error === 'net::ERR_ABORTED') {
      const at = issuedAt.get(req);
      problems.push(() => (at !== undefined && navigations > at ? null : text));
    } else {
      problems.push(text);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !isExpected(res.status(), res.url())) {
      problems.push(`HTTP ${res.status()} for ${res.url()}`);
    }
  });
  return { context, page, problems, urls, consoleText };
}

// Waits until app.js has applied a dictionary (it sets <html data-lang>).
async function waitI18n(page, lang) {
  const sel = lang ? `html[data-lang="${lang}"]` : 'html[data-lang]';
  await page.waitForSelector(sel, { state: 'attached' });
}

async function settle(page) {
  await page.waitForLoadState('networkidle').catch(() => {});
}

// problems holds strings, and functions that give a string or null once the
// page has settled (see the aborted requests in openPage).
function noProblems(problems) {
  const found = problems.map((p) => (typeof p === 'function' ? p() : p)).filter((p) => p);
  check(found.length === 0, [...new Set(found)].join('; '));
}

// The secret is in no URL the page used, no console message and no web
// storage of the page (what: how to name it in the failure).
async function secretNowhere(page, urls, consoleText, secret, what = 'password') {
  const forms = [secret, encodeURIComponent(secret)];
  for (const u of urls) {
    check(!forms.some((f) => u.includes(f)), `the ${what} appears in a URL: ${u}`);
  }
  for (const text of consoleText) {
    check(!text.includes(secret), `the ${what} appears in a console message`);
  }
  const stored = await page.evaluate(() => {
    const all = [];
    for (const store of [window.localStorage, window.sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const key = store.key(i);
        all.push(key, store.getItem(key));
      }
    }
    return all.join('\n');
  });
  check(!stored.includes(secret), `the ${what} is kept in localStorage or sessionStorage`);
}

function checkCsp(res, what) {
  check(res && res.status() === 200, `GET ${what} answered ${res ? res.status() : 'nothing'}`);
  const csp = res.headers()['content-security-policy'] || '';
  check(csp.includes("default-src 'self'"), `no CSP default-src 'self' on ${what} (got "${csp}")`);
}

// Makes sure the owner has a password, so the sign-in tests do not depend on
// the set-up test having passed: if it did not use the link, use it here.
async function ensureOwnerPassword(ctx) {
  if (ctx.ownerReady) return;
  const res = await postTenant(ctx.port, TENANT_SLUG, '/api/v1/auth/setup', {
    token: ctx.token,
    password: OWNER_PASSWORD,
  });
  const code = res.body?.error?.code;
  check(res.status === 200 || code === 'invalid_token',
    `cannot give the owner a password: setup answered ${res.status} ${code ?? ''}`);
  ctx.ownerReady = true;
}

// Signs in through the login page; ends on /account showing the e-mail.
async function signIn(page, base, password = OWNER_PASSWORD, email = OWNER_EMAIL) {
  const res = await page.goto(`${base}login`, { waitUntil: 'load' });
  checkCsp(res, '/login');
  await waitI18n(page);
  const form = page.locator('#login-form');
  await form.getByLabel(/Adresse e-mail|E-mail address/).fill(email);
  await form.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/account'),
    page.locator('#login-submit').click(),
  ]);
  await page.locator('#account-email').filter({ hasText: email }).waitFor();
}

async function statusText(page, selector) {
  return ((await page.locator(selector).textContent()) || '').trim();
}

// The second owner (SECOND_EMAIL), made once with `coffre tenant owner` and
// given SECOND_PASSWORD through its setup link; ctx.second.password is its
// password as the tests leave it.
async function ensureSecondOwner(ctx) {
  if (ctx.second) return ctx.second;
  const out = await coffre(['tenant', 'owner', TENANT_SLUG, SECOND_EMAIL, '--data', ctx.data]);
  const res = await postTenant(ctx.port, TENANT_SLUG, '/api/v1/auth/setup', {
    token: setupToken(out),
    password: SECOND_PASSWORD,
  });
  check(res.status === 200, `the second owner's setup answered ${res.status} ${res.body?.error?.code ?? ''}`);
  ctx.second = { email: SECOND_EMAIL, password: SECOND_PASSWORD };
  return ctx.second;
}

// Signs in from Node (no browser); resolves with the session's Cookie
// header and CSRF token.
async function apiSignIn(port, email, password) {
  const data = Buffer.from(JSON.stringify({ email, password }));
  const cookie = await new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/auth/login',
      servername: `${TENANT_SLUG}.localhost`,
      headers: {
        Host: `${TENANT_SLUG}.localhost:${port}`,
        'Content-Type': 'application/json',
        'Content-Length': data.length,
      },
      rejectUnauthorized: false,
      timeout: STEP_TIMEOUT_MS,
    }, (res) => {
      res.resume();
      res.on('end', () => {
        const set = (res.headers['set-cookie'] || []).find((c) => c.startsWith('__Host-coffre_session='));
        if (res.statusCode !== 200 || !set) reject(new Error(`a sign-in from Node answered ${res.statusCode}`));
        else resolve(set.split(';')[0]);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
  const me = await apiTenant(port, 'GET', '/api/v1/me', { cookie });
  check(me.status === 200 && CSRF_RE.test(me.body?.csrf_token || ''), `/api/v1/me after a sign-in answered ${me.status}`);
  return { cookie, csrf: me.body.csrf_token };
}

// ------------------------------------------------------------------- TOTP

// RFC 4648 base32 (A-Z 2-7), blanks and padding ignored, to bytes.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    check(v >= 0, `"${ch}" is not a base32 character`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

// The 30-second step of a time (milliseconds since the epoch).
function totpStep(ms = Date.now()) {
  return Math.floor(ms / 1000 / 30);
}

// RFC 6238 / RFC 4226: HMAC-SHA-1 of the step, dynamic truncation, 6 digits.
function totpCode(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

// A 6-digit code that is the code of no step near this one (so the server
// cannot take it, whatever the drift it allows).
function wrongCode(key, step) {
  const near = new Set();
  for (let d = -3; d <= 3; d++) near.add(totpCode(key, step + d));
  for (let n = 0; ; n++) {
    const code = String(n * 137).padStart(6, '0').slice(-6);
    if (!near.has(code)) return code;
  }
}

// Waits until the current 30-second step is young (at most 15 s old), so a
// code computed now stays the current one for what follows.
async function awayFromStepEnd() {
  const into = (Date.now() / 1000) % 30;
  if (into > 15) await sleep((30 - into) * 1000 + 300);
}

// From /login, with the e-mail and password typed in: submits and waits for
// the code field of the second step.
async function passwordThenCodeStep(page, password = OWNER_PASSWORD) {
  const form = page.locator('#login-form');
  await form.getByLabel(/Adresse e-mail|E-mail address/).fill(OWNER_EMAIL);
  await form.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await page.locator('#login-submit').click();
  const code = page.getByLabel(CODE_LABEL);
  await code.waitFor();
  check(await page.locator('#login-form').isHidden(), 'the password form stays beside the code step');
  return code;
}

// ------------------------------------------------------------------- mail

// Quoted-printable (RFC 2045 6.7) to text: soft breaks removed, =XX bytes.
function qpDecode(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// A header value: unfolded, RFC 2047 =?UTF-8?B?...?= words decoded.
function headerText(value) {
  return value.replace(/\r?\n[ \t]/g, ' ').replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

// One stored message as { to, subject, body } (the body decoded).
function parseMail(raw) {
  const text = raw.toString('utf8');
  const split = text.search(/\r?\n\r?\n/);
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const qp = /quoted-printable/i.test(headers['content-transfer-encoding'] || '');
  return { to: headers.to || '', subject: headerText(headers.subject || ''), body: qp ? qpDecode(body) : body };
}

// The repository's SMTP sink (tests/tools/smtp_sink.py) on a free loopback
// port, STARTTLS required, with a throw-away CA (as tests/api/mailsink.py
// makes it) that the server is told to trust: nothing is checked less
// than in production.
class MailSink {
  constructor(root) {
    this.root = root;
    this.dir = path.join(root, 'mail');
    this.ca = path.join(root, 'ca.pem');
    this.port = null;
    this.proc = null;
    this.log = '';
  }

  async start() {
    mkdirSync(this.dir, { recursive: true });
    const caKey = path.join(this.root, 'ca.key');
    const cert = path.join(this.root, 'cert.pem');
    const key = path.join(this.root, 'key.pem');
    const common = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
    await runTool('openssl', ['req', '-x509', ...common, '-subj', '/CN=coffre test mail CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', caKey, '-out', this.ca]);
    await runTool('openssl', ['req', '-x509', ...common, '-subj', '/CN=localhost', '-CA', this.ca, '-CAkey', caKey,
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'extendedKeyUsage=serverAuth', '-keyout', key, '-out', cert]);
    this.proc = spawn(PYTHON3_BIN, [SMTP_SINK, '--port', '0', '--dir', this.dir, '--tls-cert', cert, '--tls-key', key],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (c) => {
      this.log = (this.log + c.toString('utf8')).slice(-LOG_KEEP_BYTES);
    });
    this.port = await withTimeout(new Promise((resolve, reject) => {
      let out = '';
      this.proc.on('error', reject);
      this.proc.on('exit', (code) => reject(new Error(`smtp_sink.py exited (${code}): ${oneLine(this.log)}`)));
      this.proc.stdout.on('data', (c) => {
        out += c.toString('utf8');
        const line = out.split('\n')[0];
        if (out.includes('\n')) {
          try {
            resolve(JSON.parse(line).listening);
          } catch {
            reject(new Error(`smtp_sink.py said "${oneLine(line)}"`));
          }
        }
      });
    }), MAIL_TIMEOUT_MS, 'starting smtp_sink.py');
    return this;
  }

  // The [mail] section of coffre.conf that sends here.
  conf() {
    return `[mail]\nsmtp_url = smtp://127.0.0.1:${this.port}\nfrom = coffre@localhost\nca_file = ${this.ca}\n`;
  }

  messages() {
    return readdirSync(this.dir).filter((n) => /^\d+\.eml$/.test(n))
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
      .map((n) => parseMail(readFileSync(path.join(this.dir, n))));
  }

  // The newest message to `to` that pred accepts, waiting for it.
  async waitFor(to, pred = () => true) {
    const deadline = Date.now() + MAIL_TIMEOUT_MS;
    for (;;) {
      const found = this.messages().reverse().find((m) => m.to.toLowerCase() === to && pred(m));
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.messages().map((m) => `${m.to}: ${m.subject}`).join('; ');
        throw new Error(`no mail to ${to} within ${MAIL_TIMEOUT_MS / 1000} s (received: ${seen || 'none'})`);
      }
      await sleep(100);
    }
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    if (!(await Promise.race([done.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]))) {
      this.proc.kill('SIGKILL');
      await done;
    }
  }
}

// ------------------------------------------------- roles, groups, spaces

// An account with a password, made once: the owner invites it from Node
// (the tenant's 2FA policy must let the owner in: mfa=optional), the
// link is read from the SMTP sink and used. Resolves { id, email, password }.
async function ensureAccount(ctx, email, role, password) {
  ctx.accounts = ctx.accounts || {};
  if (ctx.accounts[email]) return ctx.accounts[email];
  check(ctx.mail, `no SMTP sink to read the invitation of ${email} from: ${ctx.mailError}`);
  await ensureOwnerPassword(ctx);
  const owner = await apiSignIn(ctx.port, OWNER_EMAIL, OWNER_PASSWORD);
  const made = await apiTenant(ctx.port, 'POST', '/api/v1/admin/users', { ...owner, body: { email, role } });
  check(made.status === 201 && HEX32_RE.test(made.body?.user?.id || ''),
    `inviting ${email} as ${role} answered ${made.status} ${made.body?.error?.code ?? ''}`);
  const mailed = await ctx.mail.waitFor(email, (m) => /\/setup#/.test(m.body));
  const link = /\/setup#([A-Za-z0-9_-]{43})\b/.exec(mailed.body);
  check(link, `no /setup#TOKEN link in the invitation of ${email}`);
  const set = await postTenant(ctx.port, TENANT_SLUG, '/api/v1/auth/setup', { token: link[1], password });
  check(set.status === 200, `the setup of ${email} answered ${set.status} ${set.body?.error?.code ?? ''}`);
  ctx.accounts[email] = { id: made.body.user.id, email, password };
  return ctx.accounts[email];
}

// Every change (not a GET) the page sends under one of the path prefixes:
// { method, path, csrf, body }.
function recordChanges(page, prefixes) {
  const changes = [];
  page.on('request', (req) => {
    const p = new URL(req.url()).pathname;
    if (req.method() !== 'GET' && prefixes.some((x) => p.startsWith(x))) {
      changes.push({ method: req.method(), path: p, csrf: req.headers()['x-csrf-token'] || '', body: req.postDataJSON() });
    }
  });
  return changes;
}

// A response predicate: this method on this path (a string or a RegExp).
function answerTo(method, where) {
  return (r) => {
    if (r.request().method() !== method) return false;
    const p = new URL(r.url()).pathname;
    return typeof where === 'string' ? p === where : where.test(p);
  };
}

// /admin, loaded, in French, with its accounts listed.
async function openAdmin(page, base) {
  const res = await page.goto(`${base}admin`, { waitUntil: 'load' });
  checkCsp(res, '/admin');
  await waitI18n(page, 'fr');
  await page.locator('#users-body tr').first().waitFor();
}

// The permission names shown under a locator (its [data-permission] items).
async function permsShown(locator) {
  return locator.locator('[data-permission]').evaluateAll((all) => all.map((x) => x.dataset.permission));
}

// The text of the element that has the focus, with its data-action.
async function focusedAction(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return `${el?.closest('tr, li')?.dataset.id ?? ''}:${el?.dataset.action ?? el?.id ?? ''}`;
  });
}

// The prerequisite a later test takes from an earlier one.
function needs(ctx, key, what) {
  const v = ctx.authz && ctx.authz[key];
  check(v, `${what} is missing (an earlier test failed)`);
  return v;
}

// ------------------------------------------------------ security settings

const SETTINGS_PATH = '/api/v1/admin/settings/security';
// The server's upload types, in the order it keeps them.
const UPLOAD_TYPES = ['pdf', 'png', 'jpeg', 'gif', 'webp', 'txt', 'csv', 'md', 'docx', 'xlsx', 'pptx', 'odt', 'ods',
  'odp'];
// A tenant's security policy as created (docs/internals/auth-contract.md),
// but mfa, which the tests set themselves.
const POLICY_DEFAULTS = {
  password_min: 12,
  password_min_admin: 16,
  password_score: 3,
  max_age_days: 0,
  max_age_days_admin: 365,
  history: 5,
  session_idle_minutes: 30,
  session_max_hours: 12,
  lockout_failures: 5,
  admin_ips: [],
  upload_types: UPLOAD_TYPES,
};

// Puts every field of the tenant's policy back to its default with the
// CLI, and mfa to the value given (as setMfaPolicy does).
async function restorePolicy(ctx, mfa) {
  const pairs = Object.entries(POLICY_DEFAULTS).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`);
  const out = await coffre(['tenant', 'policy', TENANT_SLUG, ...pairs, `mfa=${mfa}`, '--data', ctx.data]);
  check(new RegExp(`^mfa: ${mfa}$`, 'm').test(out) && /^history: 5$/m.test(out) && /^admin_ips: any$/m.test(out)
    && new RegExp(`^upload_types: ${UPLOAD_TYPES.join(',')}$`, 'm').test(out),
  `tenant policy did not restore the defaults: ${oneLine(out)}`);
}

// What the security form shows: mfa (the radio checked), each number field
// as typed, admin_ips (the text) and upload_types (the boxes ticked).
async function settingsShown(page) {
  return page.evaluate(() => {
    const form = document.getElementById('security-form');
    const shown = { mfa: form.querySelector('input[name="mfa"]:checked')?.value ?? null };
    for (const input of form.querySelectorAll('input[type="number"][data-setting]')) {
      shown[input.dataset.setting] = input.value;
    }
    shown.admin_ips = document.getElementById('security-admin-ips').value;
    shown.upload_types = [...form.querySelectorAll('input[name="upload_types"]:checked')].map((b) => b.value);
    return shown;
  });
}

// The policy as the API gives it to a session (its Cookie header).
async function policyOf(port, cookie) {
  const res = await getTenant(port, TENANT_SLUG, SETTINGS_PATH, cookie);
  check(res.status === 200 && res.body && typeof res.body === 'object',
    `GET ${SETTINGS_PATH} answered ${res.status} ${res.body?.error?.code ?? ''}`);
  return res.body;
}

// ------------------------------------------------------------------ tests

const tests = [
  {
    name: 'tenant home page renders with its name and styles under the CSP',
    async run({ browser, base }) {
      // Without a session the page's GET /api/v1/me answers 401: the page stays as served.
      const { context, page, problems } = await openPage(browser, {}, [[401, '/api/v1/me']]);
      try {
        const res = await page.goto(base, { waitUntil: 'load' });
        check(res && res.status() === 200, `GET / answered ${res ? res.status() : 'nothing'}`);
        const csp = res.headers()['content-security-policy'] || '';
        check(csp.includes("default-src 'self'"), `no CSP default-src 'self' on / (got "${csp}")`);
        await waitI18n(page);
        await settle(page);

        const title = await page.title();
        check(title === `${TENANT_NAME} · coffre`, `title is "${title}"`);
        const h1 = page.getByRole('heading', { level: 1 });
        const heading = (await h1.textContent())?.trim();
        check(heading === TENANT_NAME, `heading is "${heading}"`);

        const style = await page.evaluate(() => ({
          font: getComputedStyle(document.body).fontFamily,
          accent: getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim(),
        }));
        check(/system-ui/.test(style.font), `stylesheet not applied: body font-family is "${style.font}"`);
        check(style.accent !== '', 'stylesheet not applied: --color-accent is not set');
        check(await page.locator('#home-signin').isVisible(), 'no sign-in link for a visitor');
        check(await page.locator('#home-signed-in').isHidden(), 'a visitor sees the signed-in part of the page');
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'sign-in link leads to the login page and its e-mail field has a label',
    async run({ browser, base }) {
      const { context, page, problems } = await openPage(browser, {}, [[401, '/api/v1/me']]);
      try {
        await page.goto(base, { waitUntil: 'load' });
        await waitI18n(page);
        const link = page.getByRole('link', { name: /Se connecter|Sign in/i });
        check((await link.getAttribute('href')) === '/login', 'sign-in link does not point to /login');
        await Promise.all([page.waitForURL((u) => u.pathname === '/login'), link.click()]);
        await waitI18n(page);
        await settle(page);

        const title = await page.title();
        check(title === 'Connexion · coffre', `title is "${title}"`);
        const email = page.locator('#login-form').getByLabel(/e-mail/i);
        check((await email.count()) === 1, 'no single field labelled "e-mail"');
        check((await email.getAttribute('type')) === 'email', 'the e-mail field is not type=email');
        // The label is tied to the field: clicking it moves the focus there.
        await page.locator('label[for="email"]').click();
        const focused = await page.evaluate(() => document.activeElement?.id);
        check(focused === 'email', `clicking the label focused "${focused}", not the e-mail field`);
        await email.fill('alice@example.com');
        check((await email.inputValue()) === 'alice@example.com', 'cannot type in the e-mail field');
        const submit = page.locator('#login-form button[type="submit"]');
        // login.js enables the button once its handler is in place.
        await page.waitForSelector('#login-form button[type="submit"]:not([disabled])');
        check(await submit.isEnabled(), 'the submit button is not enabled');
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'language switch toggles the page text and remembers the choice',
    async run({ browser, base }) {
      const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' }, [[401, '/api/v1/me']]);
      try {
        await page.goto(base, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        const welcome = page.locator('[data-i18n="home.welcome"]');
        const french = (await welcome.textContent())?.trim();
        const lang0 = await page.getAttribute('html', 'lang');
        check(lang0 === 'fr', `with a French browser the page is in "${lang0}"`);

        const button = page.locator('[data-lang-switch]');
        check((await button.textContent())?.trim() === 'EN', 'the switch does not offer EN');
        await button.click();
        await waitI18n(page, 'en');
        const english = (await welcome.textContent())?.trim();
        check(english && english !== french, `text did not change ("${french}" -> "${english}")`);
        check((await page.getAttribute('html', 'lang')) === 'en', '<html lang> is not "en" after the switch');
        check((await button.textContent())?.trim() === 'FR', 'the switch does not offer FR back');

        await page.reload({ waitUntil: 'load' });
        await waitI18n(page);
        const kept = await page.getAttribute('html', 'data-lang');
        check(kept === 'en', `the choice was not remembered after a reload (got "${kept}")`);

        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');
        const back = (await welcome.textContent())?.trim();
        check(back === french, `switching back gave "${back}"`);
        await settle(page);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'setup page: weak password shows hints and keeps submit disabled; a strong one enables it; saving leads to login',
    async run(ctx) {
      const { browser, base } = ctx;
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' });
      try {
        let strengthCalls = 0;
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/password/strength') {
            strengthCalls++;
            const body = req.postDataJSON();
            check(body && body.privileged === true, 'the strength request does not say privileged: true');
          }
        });
        const res = await page.goto(`${base}setup#${ctx.token}`, { waitUntil: 'load' });
        checkCsp(res, '/setup');
        await waitI18n(page, 'fr');
        await settle(page);

        const password = page.getByLabel(/^(Nouveau mot de passe|New password)$/);
        const confirm = page.getByLabel(/^(Confirmer le mot de passe|Confirm the password)$/);
        check((await password.count()) === 1, 'no single field labelled "Nouveau mot de passe"');
        check((await confirm.count()) === 1, 'no single field labelled "Confirmer le mot de passe"');
        check((await password.getAttribute('type')) === 'password', 'the new password field is not type=password');
        check((await confirm.getAttribute('type')) === 'password', 'the confirmation field is not type=password');
        const submit = page.locator('#setup-submit');
        check(await submit.isDisabled(), 'submit is enabled before any password was typed');

        // A weak password: the meter, the verdict and the server's hints.
        await password.click();
        await page.keyboard.type(WEAK_PASSWORD, { delay: 30 });
        await page.locator('#strength-verdict').filter({ hasText: /Pas encore suffisant/ }).waitFor();
        const hints = page.locator('#strength-hints li');
        check((await hints.count()) > 0, 'no hints shown for a weak password');
        const frenchHints = (await page.locator('#strength-hints').textContent()).trim();
        const meter = page.locator('meter#strength-meter');
        const score = Number(await meter.getAttribute('data-score'));
        check(score >= 0 && score <= 2, `meter score for a weak password is ${await meter.getAttribute('data-score')}`);
        check(strengthCalls >= 1 && strengthCalls <= 3,
          `typing ${WEAK_PASSWORD.length} characters made ${strengthCalls} strength requests (debounce expected)`);
        await confirm.fill(WEAK_PASSWORD);
        await sleep(400);
        check(await submit.isDisabled(), 'submit is enabled for a weak password');

        // The hints follow the language switch (hints.fr -> hints.en).
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        await page.locator('#strength-verdict').filter({ hasText: /Not strong enough/ }).waitFor();
        const englishHints = (await page.locator('#strength-hints').textContent()).trim();
        check(englishHints && englishHints !== frenchHints,
          `the hints did not change language ("${frenchHints}" -> "${englishHints}")`);

        // A strong password, but a different confirmation: still disabled,
        // with an error next to the confirmation field.
        await password.fill(OWNER_PASSWORD);
        await confirm.fill(`${OWNER_PASSWORD}x`);
        await page.locator('#strength-verdict').filter({ hasText: /will do/ }).waitFor();
        await page.locator('#password2-error').filter({ hasText: /do not match/ }).waitFor();
        check(await submit.isDisabled(), 'submit is enabled while the two fields differ');
        check((await confirm.getAttribute('aria-invalid')) === 'true', 'the confirmation field is not aria-invalid');

        // Matching: enabled. Saved with the keyboard (Enter in the field).
        await confirm.fill(OWNER_PASSWORD);
        await page.waitForSelector('#setup-submit:not([disabled])');
        const strongScore = await meter.getAttribute('data-score');
        check(['3', '4'].includes(strongScore), `the meter score for a strong password is ${strongScore}`);
        check(await page.locator('#password2-error').isHidden(), 'the mismatch error stays after fixing the field');
        // One wording for a first password and a reset link.
        const heading = (await page.getByRole('heading', { level: 1 }).textContent())?.trim();
        check(heading === 'Choose your password', `the heading in English is "${heading}"`);
        await confirm.press('Enter');
        await page.locator('#setup-status').filter({ hasText: /password is saved/ }).waitFor();
        check(await page.getByRole('link', { name: 'Go to sign-in' }).isVisible(), 'no link to the sign-in page after saving');
        await page.waitForURL((u) => u.pathname === '/login');
        ctx.ownerReady = true;
        await waitI18n(page, 'en');
        await settle(page);
        check((await page.title()) === 'Connexion · coffre', `after saving the page is "${await page.title()}"`);
        // The sign-in page says it once (a reload does not).
        await page.locator('#login-status').filter({ hasText: 'Your password is saved. Sign in with it.' }).waitFor();
        check((await page.locator('#login-status').getAttribute('data-kind')) === 'ok', 'the notice on /login is not an "ok" message');
        check(new URL(page.url()).hash === '', `the notice stays in the URL (${page.url()})`);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        await secretNowhere(page, urls, consoleText, WEAK_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'setup page: a link without token, then the used link, say the link is not valid',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      // No token after '#': an error, no form, nothing sent.
      {
        const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' });
        try {
          const res = await page.goto(`${base}setup`, { waitUntil: 'load' });
          checkCsp(res, '/setup');
          await waitI18n(page, 'fr');
          await page.locator('#setup-status').filter({ hasText: /Ce lien est incomplet/ }).waitFor();
          check(await page.locator('#setup-form').isHidden(), 'the form is shown without a token');
          await settle(page);
          noProblems(problems);
        } finally {
          await context.close();
        }
      }
      // The link again, once used: the server refuses it.
      const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' },
        [[400, '/api/v1/auth/setup']]);
      try {
        await page.goto(`${base}setup#${ctx.token}`, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        await page.getByLabel('Nouveau mot de passe').fill(OWNER_PASSWORD);
        await page.getByLabel('Confirmer le mot de passe').fill(OWNER_PASSWORD);
        await page.waitForSelector('#setup-submit:not([disabled])');
        await page.locator('#setup-submit').click();
        await page.locator('#setup-status').filter({ hasText: /Ce lien n.est plus valable\./ }).waitFor();
        check(await page.locator('#setup-form').isHidden(), 'the form stays after the link was refused');
        const again = page.getByRole('link', { name: 'Demander un nouveau lien par e-mail' });
        check((await again.getAttribute('href')) === '/login#forgot', 'no link from a dead link to /login#forgot');
        check(new URL(page.url()).pathname === '/setup', `the page left /setup (${page.url()})`);
        await settle(page);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'login: a wrong password shows the generic message; the right one lands on /account',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/auth/login']]);
      try {
        const res = await page.goto(`${base}login`, { waitUntil: 'load' });
        checkCsp(res, '/login');
        await waitI18n(page, 'fr');
        const email = page.locator('#login-form').getByLabel('Adresse e-mail');
        const password = page.locator('#login-form').getByLabel('Mot de passe');
        const submit = page.locator('#login-submit');
        const status = page.locator('#login-status');
        check((await status.getAttribute('aria-live')) === 'assertive', 'the message region is not aria-live');

        // Empty fields: errors next to them, nothing sent.
        await submit.click();
        await page.locator('#email-error').filter({ hasText: /adresse e-mail/ }).waitFor();
        check(await page.locator('#password-error').isVisible(), 'no error next to the empty password field');

        await email.fill(OWNER_EMAIL);
        await password.fill(WRONG_PASSWORD);
        await submit.click();
        await status.filter({ hasText: 'E-mail ou mot de passe incorrect.' }).waitFor();
        const wrongPassword = await statusText(page, '#login-status');
        check(wrongPassword === LOGIN_REFUSED.fr, `a wrong password gave "${wrongPassword}"`);
        check(new URL(page.url()).pathname === '/login', `a wrong password left /login (${page.url()})`);
        check(await submit.isEnabled(), 'the button stays disabled after the answer');

        // An unknown address gets exactly the same message.
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check((await statusText(page, '#login-status')) === LOGIN_REFUSED.en,
          `the message in English is "${await statusText(page, '#login-status')}"`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');
        await email.fill('nobody@acme.example');
        await password.fill(WRONG_PASSWORD);
        await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login'),
          submit.click(),
        ]);
        await page.waitForFunction(() => document.getElementById('login-submit')?.disabled === false
          && document.getElementById('login-status')?.textContent !== '');
        check((await statusText(page, '#login-status')) === wrongPassword,
          `unknown e-mail gave "${await statusText(page, '#login-status')}", not "${wrongPassword}"`);

        // The right password, with the keyboard only.
        await email.fill(OWNER_EMAIL);
        await password.fill('');
        await email.focus();
        await page.keyboard.press('Tab');
        check((await page.evaluate(() => document.activeElement?.id)) === 'password', 'Tab from the e-mail does not reach the password');
        await page.keyboard.type(OWNER_PASSWORD);
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/account'),
          page.keyboard.press('Enter'),
        ]);
        await page.locator('#account-email').filter({ hasText: OWNER_EMAIL }).waitFor();
        const role = await statusText(page, '#account-role');
        check(/Propriétaire|Owner/.test(role), `the role shown is "${role}"`);
        check((await page.title()) === 'Mon compte · coffre', `the account page title is "${await page.title()}"`);
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        await secretNowhere(page, urls, consoleText, WRONG_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'sign-out returns to /login, and /account then redirects to /login',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/me']]);
      try {
        let logoutHeaders = null;
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/auth/logout') logoutHeaders = req.headers();
        });
        await signIn(page, base);
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === '__Host-coffre_session');
        check(session && session.httpOnly && session.secure, 'no HttpOnly Secure __Host-coffre_session cookie after sign-in');

        const signout = page.getByRole('button', { name: /Se déconnecter|Sign out/ });
        await signout.focus();
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/login'),
          page.keyboard.press('Enter'),
        ]);
        check(logoutHeaders, 'no POST /api/v1/auth/logout was sent');
        check(/^[0-9a-f]{64}$/.test(logoutHeaders['x-csrf-token'] || ''),
          `the logout request's X-CSRF-Token is "${logoutHeaders['x-csrf-token']}"`);
        check((logoutHeaders['content-type'] || '').startsWith('application/json'), 'the logout request is not JSON');
        const left = (await context.cookies()).find((c) => c.name === '__Host-coffre_session' && c.value);
        check(!left, 'the session cookie is still there after sign-out');
        await waitI18n(page);
        await settle(page); // let /login finish loading before leaving it

        await page.goto(`${base}account`, { waitUntil: 'load' });
        await page.waitForURL((u) => u.pathname === '/login');
        await waitI18n(page);
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: '2FA: enrol from /account (QR code, secret, code) shows the 10 recovery codes once',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      // The helper against RFC 6238 (appendix B, T = 59 s, last 6 digits).
      check(totpCode(Buffer.from('12345678901234567890'), totpStep(59_000)) === '287082',
        'the TOTP helper of the test fails the RFC 6238 test vector');
      check(base32Decode('GEZDGNBVGY3TQOJQ').toString() === '1234567890', 'the base32 decoder of the test is wrong');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[400, '/api/v1/me/totp/confirm']]);
      try {
        const sent = {};
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p.startsWith('/api/v1/me/totp')) {
            sent[`${req.method()} ${p}`] = { csrf: req.headers()['x-csrf-token'] || '', body: req.postData() };
          }
        });
        await signIn(page, base);
        const section = page.getByRole('region', { name: 'Double authentification' });
        await section.waitFor();
        await page.locator('#totp-state').filter({ hasText: /^Désactivée/ }).waitFor();
        const enable = section.getByRole('button', { name: 'Activer', exact: true });
        check(await enable.isVisible(), 'no "Activer" button while 2FA is off');
        check(await section.getByRole('button', { name: 'Désactiver', exact: true }).isHidden(), '"Désactiver" shows while 2FA is off');

        // Enrol early in a 30 s step: the code of the confirmation stays current.
        await awayFromStepEnd();
        await enable.click();
        const svg = page.locator('#totp-qr svg');
        await svg.waitFor();
        const qr = await svg.evaluate((el) => ({
          ns: el.namespaceURI,
          paths: el.querySelectorAll('path').length,
          d: (el.querySelector('path')?.getAttribute('d') || '').length,
          width: el.getBoundingClientRect().width,
        }));
        check(qr.ns === 'http://www.w3.org/2000/svg' && qr.paths === 1 && qr.d > 100 && qr.width > 100,
          `the QR code is not drawn as an SVG: ${JSON.stringify(qr)}`);
        check(sent['POST /api/v1/me/totp'] && CSRF_RE.test(sent['POST /api/v1/me/totp'].csrf),
          'POST /api/v1/me/totp was sent without a 64-hex X-CSRF-Token');
        const shown = await statusText(page, '#totp-secret');
        const secret = shown.replace(/\s+/g, '');
        check(/^[A-Z2-7]{16,}$/.test(secret), `the secret shown for manual entry is "${shown}"`);
        const key = base32Decode(secret);

        const code = page.getByLabel(/^(Code à 6 chiffres affiché par l.application|6-digit code shown by the app)$/);
        check((await code.getAttribute('inputmode')) === 'numeric', 'the code field is not inputmode=numeric');
        check((await code.getAttribute('autocomplete')) === 'one-time-code', 'the code field is not autocomplete=one-time-code');
        const confirm = section.getByRole('button', { name: 'Confirmer' });

        // A wrong code: the error next to the field, 2FA still off.
        await code.fill(wrongCode(key, totpStep()));
        await confirm.click();
        await page.locator('#totp-code-error').filter({ hasText: /ne correspond pas/ }).waitFor();
        check((await code.getAttribute('aria-invalid')) === 'true', 'the code field is not aria-invalid after a wrong code');
        check(/^Désactivée/.test(await statusText(page, '#totp-state')), 'a wrong code turned 2FA on');

        // The current step's code: on, with the recovery codes.
        const step = totpStep();
        await code.fill(totpCode(key, step));
        const [answer] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me/totp/confirm'),
          confirm.click(),
        ]);
        check(answer.status() === 200, `the confirmation answered ${answer.status()}`);
        const items = page.locator('#totp-recovery-list li');
        await items.nth(9).waitFor();
        const recoveryCodes = (await items.allTextContents()).map((c) => c.trim());
        check(recoveryCodes.length === 10, `${recoveryCodes.length} recovery codes shown, not 10`);
        check(recoveryCodes.every((c) => /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/.test(c)),
          `the recovery codes look wrong: ${recoveryCodes.join(' ')}`);
        check(new Set(recoveryCodes).size === 10, 'the recovery codes are not all different');
        const note = await statusText(page, '#totp-recovery-note');
        check(/codes de secours/.test(note) && /lieu sûr/.test(note), `the note by the recovery codes is "${note}"`);
        check(CSRF_RE.test(sent['POST /api/v1/me/totp/confirm']?.csrf || ''),
          'the confirmation was sent without a 64-hex X-CSRF-Token');
        ctx.totp = { key, lastStep: step, recoveryCodes };
        await page.locator('#totp-state').filter({ hasText: /^Activée/ }).waitFor();
        check(await section.getByRole('button', { name: 'Désactiver', exact: true }).isVisible(), 'no "Désactiver" button once 2FA is on');
        check(await enable.isHidden(), '"Activer" still shows once 2FA is on');
        check(await page.locator('#totp-enrol').isHidden(), 'the QR code and the secret stay once 2FA is on');
        check((await page.locator('#totp-qr svg').count()) === 0, 'the QR code is still in the page');

        // Shown once: a reload says 2FA is on (from /me) and lists no code.
        await page.reload({ waitUntil: 'load' });
        await page.locator('#account-email').filter({ hasText: OWNER_EMAIL }).waitFor();
        await page.locator('#totp-state').filter({ hasText: /^Activée/ }).waitFor();
        check((await items.count()) === 0, 'the recovery codes show again after a reload');
        check(await page.locator('#totp-recovery').isHidden(), 'the recovery block shows after a reload');
        await settle(page);
        await secretNowhere(page, urls, consoleText, secret, 'TOTP secret');
        for (const c of recoveryCodes) await secretNowhere(page, urls, consoleText, c, 'recovery code');
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: '2FA: sign-in asks for the code; wrong and replayed codes are refused; the next step\'s code lands on /account',
    async run(ctx) {
      const { browser, base } = ctx;
      check(ctx.totp, '2FA is not on (the enrolment test failed)');
      const { key } = ctx.totp;
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/auth/totp']]);
      try {
        const totpRequests = [];
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/auth/totp') {
            totpRequests.push({ body: req.postDataJSON(), csrf: req.headers()['x-csrf-token'] });
          }
        });
        const res = await page.goto(`${base}login`, { waitUntil: 'load' });
        checkCsp(res, '/login');
        await waitI18n(page, 'fr');

        // The second step: a code field, the half-open session can do nothing else.
        let code = await passwordThenCodeStep(page);
        check(new URL(page.url()).pathname === '/login', `the code step left /login (${page.url()})`);
        check((await code.getAttribute('inputmode')) === 'numeric', 'the code field is not inputmode=numeric');
        check((await code.getAttribute('autocomplete')) === 'one-time-code', 'the code field is not autocomplete=one-time-code');
        check((await page.evaluate(() => document.activeElement?.id)) === 'totp-code', 'the code field does not get the focus');
        const half = (await context.cookies()).find((c) => c.name === '__Host-coffre_session' && c.value);
        check(half, 'no session cookie at the code step');
        const me = await getTenant(ctx.port, TENANT_SLUG, '/api/v1/me', `${half.name}=${half.value}`);
        check(me.status === 401 && me.body?.error?.code === 'mfa_required',
          `before the code, /api/v1/me answered ${me.status} ${me.body?.error?.code}`);

        // "Annuler": back to the password step, the half-open session ended.
        await page.getByRole('button', { name: 'Annuler' }).click();
        await page.locator('#login-form').waitFor();
        check(await page.locator('#totp-form').isHidden(), 'the code step stays after "Annuler"');
        const left = (await context.cookies()).find((c) => c.name === '__Host-coffre_session' && c.value);
        check(!left, 'the session cookie is still there after "Annuler"');

        // The session gone under the code step (401 unauthorized): back to the password.
        code = await passwordThenCodeStep(page);
        await context.clearCookies();
        await code.fill(totpCode(key, totpStep() + 1));
        await page.locator('#totp-submit').click();
        await page.locator('#login-status').filter({ hasText: /a expiré/ }).waitFor();
        check(await page.locator('#login-form').isVisible(), 'an ended session does not bring back the password step');
        check(await page.locator('#totp-form').isHidden(), 'the code step stays after the session ended');

        // A wrong code: the message next to the field.
        code = await passwordThenCodeStep(page);
        await code.fill(wrongCode(key, totpStep()));
        await page.locator('#totp-submit').click();
        const error = page.locator('#totp-code-error');
        await error.filter({ hasText: /Code incorrect/ }).waitFor();
        check((await code.getAttribute('aria-invalid')) === 'true', 'the code field is not aria-invalid after a wrong code');
        check(new URL(page.url()).pathname === '/login', `a wrong code left /login (${page.url()})`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/Wrong or already used code/.test(await statusText(page, '#totp-code-error')),
          `the code error in English is "${await statusText(page, '#totp-code-error')}"`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        // The code the confirmation used: refused as a replay (or too old).
        await code.fill(totpCode(key, ctx.totp.lastStep));
        await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/totp'),
          page.locator('#totp-submit').click(),
        ]);
        await error.filter({ hasText: /Code incorrect/ }).waitFor();
        check(new URL(page.url()).pathname === '/login', `a replayed code left /login (${page.url()})`);

        // The next step's code (one step of drift is accepted): /account.
        const next = totpStep() + 1;
        await code.fill(totpCode(key, next));
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/account'),
          code.press('Enter'),
        ]);
        ctx.totp.lastStep = next;
        await page.locator('#account-email').filter({ hasText: OWNER_EMAIL }).waitFor();
        await page.locator('#totp-state').filter({ hasText: /^Activée/ }).waitFor();

        check(totpRequests.length === 4, `${totpRequests.length} requests to /api/v1/auth/totp, not 4`);
        for (const r of totpRequests) {
          check(r.body && Object.keys(r.body).join() === 'code' && /^\d{6}$/.test(r.body.code),
            `a second-step request sent ${JSON.stringify(r.body)}`);
        }
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: '2FA: a recovery code signs in; turning 2FA off from /account; the next sign-in needs no code',
    async run(ctx) {
      const { browser, base } = ctx;
      check(ctx.totp, '2FA is not on (the enrolment test failed)');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' });
      try {
        const deletes = [];
        const loginAnswers = [];
        let totpCalls = 0;
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p === '/api/v1/me/totp' && req.method() === 'DELETE') {
            deletes.push({ csrf: req.headers()['x-csrf-token'] || '', body: req.postData() });
          }
          if (p === '/api/v1/auth/totp') totpCalls++;
        });
        // (The body of a login answer followed at once by a navigation may
        // be gone before it is read: only the first one is checked.)
        page.on('response', (r) => {
          if (new URL(r.url()).pathname === '/api/v1/auth/login') {
            loginAnswers.push(r.json().catch(() => null));
          }
        });

        // Sign in with a recovery code instead of the app's code.
        await page.goto(`${base}login`, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        const code = await passwordThenCodeStep(page);
        await code.fill(ctx.totp.recoveryCodes[0]);
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/account'),
          page.locator('#totp-submit').click(),
        ]);
        await page.locator('#account-email').filter({ hasText: OWNER_EMAIL }).waitFor();
        await page.locator('#totp-state').filter({ hasText: /^Activée/ }).waitFor();
        const section = page.getByRole('region', { name: 'Double authentification' });
        const disable = section.getByRole('button', { name: 'Désactiver', exact: true });

        // Dismissing the confirm() dialog sends nothing.
        const dialogs = [];
        page.once('dialog', (d) => {
          dialogs.push({ type: d.type(), message: d.message() });
          d.dismiss().catch(() => {});
        });
        await disable.click();
        await sleep(300);
        check(dialogs.length === 1 && dialogs[0].type === 'confirm',
          `"Désactiver" opened ${JSON.stringify(dialogs)}, not one confirm() dialog`);
        check(/Désactiver la double authentification/.test(dialogs[0].message),
          `the confirm() dialog says "${dialogs[0].message}"`);
        check(deletes.length === 0, 'DELETE /api/v1/me/totp was sent although the dialog was dismissed');
        check(/^Activée/.test(await statusText(page, '#totp-state')), 'dismissing the dialog turned 2FA off');

        // Accepting it turns 2FA off.
        page.once('dialog', (d) => {
          d.accept().catch(() => {});
        });
        const [answer] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me/totp' && r.request().method() === 'DELETE'),
          disable.click(),
        ]);
        check(answer.status() === 200, `DELETE /api/v1/me/totp answered ${answer.status()}`);
        check(deletes.length === 1 && CSRF_RE.test(deletes[0].csrf),
          'DELETE /api/v1/me/totp was sent without a 64-hex X-CSRF-Token');
        await page.locator('#totp-state').filter({ hasText: /^Désactivée/ }).waitFor();
        await page.locator('#totp-status').filter({ hasText: /désactivée/ }).waitFor();
        check(await section.getByRole('button', { name: 'Activer', exact: true }).isVisible(), 'no "Activer" button once 2FA is off');
        check(await disable.isHidden(), '"Désactiver" still shows once 2FA is off');
        ctx.totp = null;
        await page.reload({ waitUntil: 'load' });
        await page.locator('#totp-state').filter({ hasText: /^Désactivée/ }).waitFor();

        // Sign out, sign in: the password alone opens /account.
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/login'),
          page.getByRole('button', { name: 'Se déconnecter' }).click(),
        ]);
        await waitI18n(page);
        await settle(page);
        // (signIn waits for /account: a code step would stop it on /login.)
        await signIn(page, base);
        const answers = await Promise.all(loginAnswers);
        check(answers.length === 2, `${answers.length} login answers seen, not 2`);
        check(answers[0]?.mfa_required === true, `the first login answered ${JSON.stringify(answers[0])}`);
        check(totpCalls === 1, `${totpCalls} requests to /api/v1/auth/totp, not 1 (the recovery code)`);
        const session = (await context.cookies()).find((c) => c.name === '__Host-coffre_session' && c.value);
        check(session, 'no session cookie after the sign-in without code');
        const me = await getTenant(ctx.port, TENANT_SLUG, '/api/v1/me', `${session.name}=${session.value}`);
        check(me.status === 200 && me.body?.user?.totp === false,
          `after turning 2FA off, /api/v1/me answered ${me.status} totp=${me.body?.user?.totp}`);
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'forgotten password: /login#forgot and the link ask for the e-mail; the same answer for any address; a refused address and the rate limit get their messages',
    async run(ctx) {
      const { browser, base } = ctx;
      const { context, page, problems, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[400, '/api/v1/auth/reset'], [429, '/api/v1/auth/reset']]);
      try {
        const resets = [];
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/auth/reset') resets.push(req.postDataJSON());
        });
        const isReset = (r) => new URL(r.url()).pathname === '/api/v1/auth/reset';
        const loginForm = page.locator('#login-form');
        const forgotForm = page.locator('#forgot-form');
        const field = forgotForm.getByLabel(/^(Adresse e-mail|E-mail address)$/);
        const submit = page.locator('#forgot-submit');
        const status = page.locator('#forgot-status');
        const fieldError = page.locator('#forgot-email-error');

        // The link of a dead setup link lands on the form itself.
        const res = await page.goto(`${base}login#forgot`, { waitUntil: 'load' });
        checkCsp(res, '/login');
        await waitI18n(page, 'fr');
        await forgotForm.waitFor();
        check(await loginForm.isHidden(), 'the password form shows beside the forgotten-password form');
        check(await page.getByRole('heading', { name: 'Mot de passe oublié', level: 2 }).isVisible(),
          'no "Mot de passe oublié" heading');
        await page.waitForSelector('#forgot-submit:not([disabled])');
        check((await page.evaluate(() => document.activeElement?.id)) === 'forgot-email',
          'the e-mail field of /login#forgot does not get the focus');

        // Back to sign-in; the link from there, with the address already typed.
        await page.getByRole('link', { name: 'Retour à la connexion' }).click();
        await loginForm.waitFor();
        check(await page.locator('#forgot-section').isHidden(), 'the forgotten-password form stays after "Retour à la connexion"');
        await loginForm.getByLabel('Adresse e-mail').fill(OWNER_EMAIL);
        await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
        await forgotForm.waitFor();
        check(new URL(page.url()).hash === '#forgot', `the link went to ${page.url()}`);
        check((await field.inputValue()) === OWNER_EMAIL, `the e-mail field holds "${await field.inputValue()}", not the address typed`);
        check((await page.evaluate(() => document.activeElement?.id)) === 'forgot-email', 'the e-mail field does not get the focus');

        // Empty: an error next to the field, nothing sent.
        await field.fill('');
        await submit.click();
        await fieldError.filter({ hasText: 'Saisissez votre adresse e-mail.' }).waitFor();
        check(resets.length === 0, 'an empty address was sent');

        // An address the server refuses (an invisible character in it).
        await field.fill('owner\u200b@acme.example');
        const [refused] = await Promise.all([page.waitForResponse(isReset), submit.click()]);
        check(refused.status() === 400, `an address with U+200B answered ${refused.status()}`);
        await fieldError.filter({ hasText: /n.est pas valable/ }).waitFor();
        check((await field.getAttribute('aria-invalid')) === 'true', 'the refused address is not aria-invalid');

        // The owner's address: the neutral answer, the form gone.
        await field.fill(OWNER_EMAIL);
        const [sent] = await Promise.all([page.waitForResponse(isReset), submit.click()]);
        check(sent.status() === 200, `POST /api/v1/auth/reset answered ${sent.status()}`);
        await status.filter({ hasText: /^Si un compte utilise cette adresse/ }).waitFor();
        const known = await statusText(page, '#forgot-status');
        check(/30 minutes/.test(known), `the answer does not say how long the link is valid: "${known}"`);
        check((await status.getAttribute('data-kind')) === 'ok', 'the answer is not shown as an "ok" message');
        check((await status.getAttribute('aria-live')) === 'assertive', 'the answer is not in an aria-live region');
        check(await fieldError.isHidden(), 'the field error stays after a good address');
        check(await forgotForm.isHidden(), 'the form stays after the answer');

        // An address without account: exactly the same words.
        await page.getByRole('link', { name: 'Retour à la connexion' }).click();
        await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
        await forgotForm.waitFor();
        check((await statusText(page, '#forgot-status')) === '', 'the last answer stays on a new request');
        await field.fill('nobody@acme.example');
        const [unknown] = await Promise.all([page.waitForResponse(isReset), submit.click()]);
        check(unknown.status() === 200, `an unknown address answered ${unknown.status()}`);
        await status.filter({ hasText: /^Si un compte/ }).waitFor();
        check((await statusText(page, '#forgot-status')) === known,
          `an unknown address gave "${await statusText(page, '#forgot-status')}", not "${known}"`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/^If an account uses this address, .*30 minutes\.$/.test(await statusText(page, '#forgot-status')),
          `the answer in English is "${await statusText(page, '#forgot-status')}"`);

        // The rate limit (lifted for these tests, so its answer is played here).
        await page.route('**/api/v1/auth/reset', (route) => route.fulfill({
          status: 429,
          headers: { 'Retry-After': '120', 'Content-Type': 'application/json' },
          body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many requests' } }),
        }));
        await page.getByRole('link', { name: 'Back to sign-in' }).click();
        await page.getByRole('link', { name: 'Forgot your password?' }).click();
        await forgotForm.waitFor();
        await field.fill(OWNER_EMAIL);
        await submit.click();
        await status.filter({ hasText: 'Too many requests from your address. Try again in 2 min.' }).waitFor();
        check(await forgotForm.isVisible(), 'the form is gone after a 429');
        check(await submit.isEnabled(), 'the button stays disabled after a 429');
        await page.unroute('**/api/v1/auth/reset');

        check(resets.length === 4, `${resets.length} reset requests, not 4`);
        for (const body of resets) {
          check(body && Object.keys(body).join() === 'email', `a reset request sent ${JSON.stringify(body)}`);
        }
        check(resets[1].email === OWNER_EMAIL, `the owner's reset sent "${resets[1].email}"`);
        for (const text of consoleText) check(!text.includes(OWNER_EMAIL), 'the address appears in a console message');
        await settle(page);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'step-up: with a proof older than 5 minutes "Activer" opens "Confirmez votre mot de passe"; Escape changes nothing, a wrong password stays in the dialog, the right one carries the action out',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[403, '/api/v1/me/totp'], [400, '/api/v1/auth/step-up']]);
      try {
        const answers = [];
        const stepUps = [];
        page.on('response', (r) => {
          const p = new URL(r.url()).pathname;
          if (p === '/api/v1/me/totp' || p === '/api/v1/auth/step-up') answers.push(`${p} ${r.status()}`);
        });
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/auth/step-up') {
            stepUps.push({ body: req.postDataJSON(), csrf: req.headers()['x-csrf-token'] || '' });
          }
        });
        await signIn(page, base);
        await page.locator('#totp-state').filter({ hasText: /^Désactivée/ }).waitFor();
        await ageProofs(ctx);
        const section = page.getByRole('region', { name: 'Double authentification' });
        const enable = section.getByRole('button', { name: 'Activer', exact: true });
        const dialog = page.getByRole('dialog', { name: 'Confirmez votre mot de passe' });
        const password = dialog.getByLabel('Mot de passe');
        check(await dialog.isHidden(), 'the password dialog shows before any action');

        // Escape: the dialog closes, 2FA stays off, the focus is back on "Activer".
        await enable.click();
        await dialog.waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'stepup-password',
          'the password field of the dialog does not get the focus');
        check(await page.locator('#stepup').evaluate((d) => d.open && d.matches(':modal')), 'the dialog is not modal');
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        await page.locator('#totp-status').filter({ hasText: /^Rien n.a été modifié/ }).waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'totp-enable',
          `after Escape the focus is on "${await page.evaluate(() => document.activeElement?.id)}"`);
        check(await page.locator('#totp-enrol').isHidden(), 'the enrolment started although the dialog was closed');

        // A wrong password: the message in the dialog, which stays open.
        await enable.click();
        await dialog.waitFor();
        await password.fill(WRONG_PASSWORD);
        await password.press('Enter');
        await page.locator('#stepup-password-error').filter({ hasText: 'Mot de passe incorrect.' }).waitFor();
        check(await dialog.isVisible(), 'the dialog closed after a wrong password');
        check((await password.getAttribute('aria-invalid')) === 'true', 'the password field is not aria-invalid');
        check((await password.inputValue()) === '', 'the wrong password stays in the field');

        // The right one: the dialog closes and the enrolment starts.
        await password.fill(OWNER_PASSWORD);
        await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me/totp' && r.status() === 200),
          dialog.getByRole('button', { name: 'Confirmer' }).click(),
        ]);
        await dialog.waitFor({ state: 'hidden' });
        await page.locator('#totp-qr svg').waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'totp-code', 'the code field does not get the focus');
        const expected = ['/api/v1/me/totp 403', '/api/v1/me/totp 403', '/api/v1/auth/step-up 400',
          '/api/v1/auth/step-up 200', '/api/v1/me/totp 200'];
        check(answers.join() === expected.join(), `the answers were ${answers.join(', ')}`);
        for (const s of stepUps) {
          check(CSRF_RE.test(s.csrf), 'a step-up was sent without a 64-hex X-CSRF-Token');
          check(s.body && Object.keys(s.body).join() === 'password', `a step-up sent the fields ${Object.keys(s.body || {})}`);
        }

        // Left as it was: 2FA off.
        await section.getByRole('button', { name: 'Annuler' }).click();
        await page.locator('#totp-state').filter({ hasText: /^Désactivée/ }).waitFor();
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        await secretNowhere(page, urls, consoleText, WRONG_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'API tokens: the role\'s permissions to tick, the password asked on creation, the token shown once and copied, accepted as Bearer, then revoked',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser,
        { locale: 'fr-FR', permissions: ['clipboard-read', 'clipboard-write'] },
        [[403, '/api/v1/me/tokens']]);
      const TOKEN_NAME = 'Sauvegarde nocturne';
      try {
        const changes = [];
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p.startsWith('/api/v1/me/tokens') && req.method() !== 'GET') {
            changes.push({ method: req.method(), path: p, csrf: req.headers()['x-csrf-token'] || '', body: req.postData() });
          }
        });
        const isCreate = (r) => new URL(r.url()).pathname === '/api/v1/me/tokens' && r.request().method() === 'POST';
        await signIn(page, base);
        const section = page.getByRole('region', { name: 'Jetons d’API' });
        await section.waitFor();
        await page.locator('#tokens-empty').filter({ hasText: 'Vous n’avez aucun jeton.' }).waitFor();

        // The form offers what the owner's role holds, described in French.
        const session = (await context.cookies()).find((c) => c.name === '__Host-coffre_session' && c.value);
        check(session, 'no session cookie');
        const catalogue = await getTenant(port, TENANT_SLUG, '/api/v1/permissions', `${session.name}=${session.value}`);
        check(catalogue.status === 200, `GET /api/v1/permissions answered ${catalogue.status}`);
        const owner = catalogue.body.roles.find((r) => r.name === 'owner');
        const descr = new Map(catalogue.body.permissions.map((p) => [p.name, p.fr]));
        await section.getByRole('button', { name: 'Nouveau jeton' }).click();
        const name = section.getByLabel('Nom', { exact: true });
        await name.waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'token-name', 'the name field does not get the focus');
        const boxes = page.locator('#token-perms-list input[type="checkbox"]');
        const offered = await boxes.evaluateAll((all) => all.map((b) => b.value));
        check([...offered].sort().join() === [...owner.permissions].sort().join(),
          `the form offers ${offered.join(' ')}, the owner role holds ${owner.permissions.join(' ')}`);
        check(await section.getByLabel(descr.get('audit.read')).isVisible(), `no box labelled "${descr.get('audit.read')}"`);
        const days = section.getByLabel('Durée de validité (jours)');
        check((await days.inputValue()) === '90', `the validity is ${await days.inputValue()} days by default`);

        // Nothing ticked: an error, nothing sent.
        await name.fill(TOKEN_NAME);
        const create = section.getByRole('button', { name: 'Créer le jeton' });
        await create.click();
        await page.locator('#token-perms-error').filter({ hasText: 'Cochez au moins une permission.' }).waitFor();
        check(changes.length === 0, 'the form was sent without any permission');

        // Two permissions, 30 days, a proof older than 5 minutes: the dialog first.
        await section.getByLabel(descr.get('doc.read')).check();
        await section.getByLabel(descr.get('doc.write')).check();
        await days.fill('30');
        await ageProofs(ctx);
        await create.click();
        const dialog = page.getByRole('dialog', { name: 'Confirmez votre mot de passe' });
        await dialog.waitFor();
        await dialog.getByLabel('Mot de passe').fill(OWNER_PASSWORD);
        const [created] = await Promise.all([
          page.waitForResponse((r) => isCreate(r) && r.status() !== 403),
          dialog.getByLabel('Mot de passe').press('Enter'),
        ]);
        check(created.status() === 201, `POST /api/v1/me/tokens answered ${created.status()} after the step-up`);
        const value = page.getByLabel('Votre nouveau jeton');
        await value.waitFor();
        const token = await value.inputValue();
        check(PAT_RE.test(token), `the token shown is "${token}"`);
        check((await value.getAttribute('readonly')) !== null, 'the token field is not read-only');
        check((await page.evaluate(() => document.activeElement?.id)) === 'token-value', 'the token field does not get the focus');
        const note = await statusText(page, '#token-created-note');
        check(note.includes(TOKEN_NAME) && /ne sera plus jamais affiché/.test(note), `the warning by the token is "${note}"`);
        check(changes.length === 2 && changes.every((c) => c.method === 'POST' && CSRF_RE.test(c.csrf)),
          `the creation requests were ${JSON.stringify(changes.map((c) => [c.method, c.csrf.length]))}`);
        const body = JSON.parse(changes[1].body);
        check(body.name === TOKEN_NAME && body.expires_days === 30 && [...body.permissions].sort().join() === 'doc.read,doc.write'
          && Object.keys(body).sort().join() === 'expires_days,name,permissions', `the creation sent ${changes[1].body}`);

        // "Copier" puts it in the clipboard.
        await section.getByRole('button', { name: 'Copier' }).click();
        await page.locator('#token-copy-status').filter({ hasText: /copié/ }).waitFor();
        const clipboard = await page.evaluate(() => navigator.clipboard.readText());
        check(clipboard === token, 'the clipboard does not hold the token');

        // In the list: name, permissions, never used.
        const item = page.locator('#tokens-list > li');
        check((await item.count()) === 1, `${await item.count()} tokens listed, not 1`);
        const listed = (await item.textContent()) || '';
        check(listed.includes(TOKEN_NAME) && listed.includes('doc.read') && listed.includes('doc.write') && listed.includes('Jamais'),
          `the token is listed as "${oneLine(listed)}"`);
        check(!listed.includes(token), 'the list shows the token itself');

        // The token works on the API, on its own (no cookie, no CSRF).
        const bearer = { Authorization: `Bearer ${token}` };
        const used = await requestTenant(port, TENANT_SLUG, 'GET', '/api/v1/permissions', bearer);
        check(used.status === 200, `GET /api/v1/permissions with the token answered ${used.status}`);

        // Shown once: the button empties the field; a reload shows it nowhere.
        await section.getByRole('button', { name: 'J’ai copié le jeton' }).click();
        check(await value.isHidden(), 'the token stays on the page');
        check((await page.locator('#token-value').inputValue()) === '', 'the token field is not emptied');
        await page.reload({ waitUntil: 'load' });
        await item.first().waitFor();
        check(!(await page.content()).includes(token), 'the token is in the page after a reload');
        const expires = Date.parse(await item.locator('time').nth(1).getAttribute('datetime'));
        const inDays = (expires - Date.now()) / 86_400_000;
        check(inDays > 29 && inDays <= 30.01, `the token expires in ${inDays.toFixed(2)} days, not 30`);
        const relisted = (await item.textContent()) || '';
        check(!relisted.includes('Jamais'), `the token is still "never used" after a use: "${oneLine(relisted)}"`);

        // In English, the button says which token it revokes.
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        await page.getByRole('region', { name: 'API tokens' }).waitFor();
        check(await page.getByRole('button', { name: `Revoke the token “${TOKEN_NAME}”` }).isVisible(),
          'no "Revoke the token" button in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        // Revoke: dismissed, nothing sent; accepted, the token is gone.
        const revoke = section.getByRole('button', { name: `Révoquer le jeton « ${TOKEN_NAME} »` });
        const seen = [];
        page.once('dialog', (d) => {
          seen.push(d.message());
          d.dismiss().catch(() => {});
        });
        await revoke.click();
        await sleep(300);
        check(seen.length === 1 && seen[0].includes(TOKEN_NAME), `"Révoquer" asked ${JSON.stringify(seen)}`);
        check(!changes.some((c) => c.method === 'DELETE'), 'the token was revoked although the dialog was dismissed');
        page.once('dialog', (d) => {
          d.accept().catch(() => {});
        });
        const [gone] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'DELETE'
            && new URL(r.url()).pathname.startsWith('/api/v1/me/tokens/')),
          revoke.click(),
        ]);
        check(gone.status() === 200, `DELETE /api/v1/me/tokens/{id} answered ${gone.status()}`);
        const del = changes.find((c) => c.method === 'DELETE');
        check(del && CSRF_RE.test(del.csrf) && /^\/api\/v1\/me\/tokens\/[0-9a-f]{32}$/.test(del.path),
          `the revocation was ${JSON.stringify(del && { path: del.path, csrf: del.csrf.length })}`);
        await page.locator('#tokens-status').filter({ hasText: /est révoqué/ }).waitFor();
        await page.locator('#tokens-empty').waitFor();
        const after = await requestTenant(port, TENANT_SLUG, 'GET', '/api/v1/permissions', bearer);
        check(after.status === 401, `the revoked token still answers ${after.status}`);
        await settle(page);
        await secretNowhere(page, urls, consoleText, token, 'API token');
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration: /admin without a session goes to /login; /account links to it; under the default 2FA policy the owner without 2FA is told to turn it on (link to /account) and sees no table',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/me'], [403, '/api/v1/admin/users']]);
      try {
        const adminCalls = [];
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p.startsWith('/api/v1/admin/')) adminCalls.push(`${req.method()} ${p}`);
        });
        // No session: the page goes to /login by itself.
        const res = await page.goto(`${base}admin`, { waitUntil: 'load' });
        checkCsp(res, '/admin');
        await page.waitForURL((u) => u.pathname === '/login');
        await waitI18n(page);
        await settle(page);
        check(adminCalls.length === 0, `without a session the page asked ${adminCalls.join(', ')}`);

        // Signed in: /account links to /admin (the owner's role holds user.manage).
        await signIn(page, base);
        const link = page.getByRole('link', { name: 'Administration', exact: true });
        await link.waitFor();
        check((await link.getAttribute('href')) === '/admin', `the link goes to ${await link.getAttribute('href')}`);
        await Promise.all([page.waitForURL((u) => u.pathname === '/admin'), link.click()]);
        await waitI18n(page, 'fr');
        check((await page.title()) === 'Administration · coffre', `the page title is "${await page.title()}"`);

        // 2FA off, policy "admins": the message and the link, no table, no form.
        const mfa = page.locator('#admin-mfa');
        await mfa.waitFor();
        const said = (await mfa.textContent()) || '';
        check(/exige la double authentification/.test(said), `the page says "${oneLine(said)}"`);
        const toAccount = mfa.getByRole('link', { name: 'Activer la double authentification dans Mon compte' });
        check((await toAccount.getAttribute('href')) === '/account', 'no link from the 2FA message to /account');
        check(await page.locator('#users-table').isHidden(), 'the accounts table shows although 2FA is required');
        check(await page.locator('#invite-form').isHidden(), 'the invitation form shows although 2FA is required');
        check((await page.locator('#main').getAttribute('aria-busy')) === 'false', 'the page stays aria-busy');
        await settle(page);
        check(adminCalls.join() === 'GET /api/v1/admin/users', `the page asked ${adminCalls.join(', ')}`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/requires two-factor authentication/.test((await mfa.textContent()) || ''),
          `in English the page says "${oneLine(await mfa.textContent())}"`);
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/account'),
          mfa.getByRole('link', { name: 'Turn on two-factor authentication in My account' }).click(),
        ]);
        await page.locator('#totp-state').filter({ hasText: /^Off/ }).waitFor();
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration: invite member@acme.example as member (the row shows as invited); a taken or refused address gets its message; the role goes to auditor and back; the account is disabled and enabled; demoting the only owner says last_owner and changes nothing',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      // Admin routes without 2FA for the owner: the policy is restored by the last test.
      await setMfaPolicy(ctx, 'optional');
      const expected = [[409, '/api/v1/admin/users'], [400, '/api/v1/admin/users'], [403, '/api/v1/admin/users']];
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' }, expected);
      try {
        const changes = [];
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p.startsWith('/api/v1/admin/') && req.method() !== 'GET') {
            changes.push({ method: req.method(), path: p, csrf: req.headers()['x-csrf-token'] || '', body: req.postDataJSON() });
          }
        });
        const isInvite = (r) => new URL(r.url()).pathname === '/api/v1/admin/users' && r.request().method() === 'POST';
        const isPatch = (r) => r.request().method() === 'PATCH';
        await signIn(page, base);

        // From an address outside the tenant's allow-list: the reason, no table.
        await coffre(['tenant', 'policy', TENANT_SLUG, 'admin_ips=192.0.2.0/24', '--data', ctx.data]);
        try {
          await page.goto(`${base}admin`, { waitUntil: 'load' });
          await waitI18n(page, 'fr');
          await page.locator('#admin-status').filter({ hasText: /^L’administration des comptes n’est pas ouverte depuis votre adresse IP/ }).waitFor();
          check(await page.locator('#admin-content').isHidden(), 'the table shows to an address outside the allow-list');
        } finally {
          await coffre(['tenant', 'policy', TENANT_SLUG, 'admin_ips=', '--data', ctx.data]);
        }
        const res = await page.goto(`${base}admin`, { waitUntil: 'load' });
        checkCsp(res, '/admin');
        await waitI18n(page, 'fr');
        const rows = page.locator('#users-body tr');
        const ownerRow = rows.filter({ hasText: OWNER_EMAIL });
        await ownerRow.waitFor();
        const ownerId = await ownerRow.getAttribute('data-id');
        check(ID_RE.test(ownerId || ''), `the owner's row has the id "${ownerId}"`);
        expected.push([409, `/api/v1/admin/users/${ownerId}`]);
        check(await page.getByRole('region', { name: 'Comptes' }).isVisible(), 'no region "Comptes"');
        const ownerRole = ownerRow.getByRole('combobox', { name: `Rôle de ${OWNER_EMAIL}` });
        check((await ownerRole.inputValue()) === 'owner', `the owner's role shows as ${await ownerRole.inputValue()}`);
        const ownerText = oneLine(await ownerRow.textContent());
        check(/\(vous\)/.test(ownerText) && /Actif/.test(ownerText) && /Désactivée/.test(ownerText) && /Non/.test(ownerText),
          `the owner's row reads "${ownerText}"`);
        check((await ownerRow.locator('time').count()) === 1, 'the owner\'s last sign-in is not shown as a time');
        check((await rows.count()) === 1, `${await rows.count()} accounts listed, not 1`);

        // (a) The invitation: 201, the message, the new row as invited.
        const invite = page.getByRole('region', { name: 'Inviter une personne' });
        const email = invite.getByLabel('Adresse e-mail');
        const role = invite.getByLabel('Rôle');
        const send = invite.getByRole('button', { name: 'Envoyer l’invitation' });
        check((await role.inputValue()) === 'member', `the invitation's role is ${await role.inputValue()} by default`);
        const offered = await role.locator('option:not([disabled])').evaluateAll((o) => o.map((x) => x.value));
        check(offered.join() === 'owner,admin,member,guest,auditor', `the owner may give ${offered.join(' ')}`);
        await email.fill(MEMBER_EMAIL);
        const [created] = await Promise.all([page.waitForResponse(isInvite), send.click()]);
        check(created.status() === 201, `POST /api/v1/admin/users answered ${created.status()}`);
        const createdBody = await created.json();
        check(createdBody.mail === 'queued' && !('link' in createdBody),
          `with mail on, the invitation answered mail=${createdBody.mail} and ${'link' in createdBody ? 'a' : 'no'} link`);
        const inviteStatus = page.locator('#invite-status');
        await inviteStatus.filter({
          hasText: `Invitation envoyée à ${MEMBER_EMAIL}.`,
        }).waitFor();
        check(await page.locator('#invite-link').isHidden(), 'the hand-over link shows although the invitation was mailed');
        check((await inviteStatus.getAttribute('data-kind')) === 'ok', 'the invitation message is not an "ok" message');
        check((await inviteStatus.getAttribute('aria-live')) === 'assertive', 'the invitation message is not aria-live');
        const memberRow = rows.filter({ hasText: MEMBER_EMAIL });
        await memberRow.waitFor();
        check((await memberRow.getAttribute('data-state')) === 'invited', `the new row's state is ${await memberRow.getAttribute('data-state')}`);
        const memberText = oneLine(await memberRow.textContent());
        check(/Invitation en attente/.test(memberText) && /Jamais/.test(memberText), `the new row reads "${memberText}"`);
        const memberRole = memberRow.getByRole('combobox', { name: `Rôle de ${MEMBER_EMAIL}` });
        check((await memberRole.inputValue()) === 'member', `the new row's role is ${await memberRole.inputValue()}`);
        check((await email.inputValue()) === '', 'the address stays in the field after the invitation');
        ctx.memberId = await memberRow.getAttribute('data-id');

        // The same address again: email_taken; an address the server refuses: invalid_email.
        await email.fill(MEMBER_EMAIL);
        const [taken] = await Promise.all([page.waitForResponse(isInvite), send.click()]);
        check(taken.status() === 409, `inviting the address again answered ${taken.status()}`);
        await inviteStatus.filter({ hasText: 'Cette adresse a déjà un compte ou une invitation en cours.' }).waitFor();
        check((await email.getAttribute('aria-invalid')) === 'true', 'the taken address is not aria-invalid');
        await email.fill('member\u200b@acme.example');
        const [refused] = await Promise.all([page.waitForResponse(isInvite), send.click()]);
        check(refused.status() === 400, `an address with U+200B answered ${refused.status()}`);
        await inviteStatus.filter({ hasText: /^Cette adresse e-mail n.est pas valable/ }).waitFor();
        check((await rows.count()) === 2, `${await rows.count()} accounts listed after the refusals, not 2`);

        // (b) The role to auditor and back, the focus kept on the select.
        const usersStatus = page.locator('#users-status');
        const focused = () => page.evaluate(() => {
          const el = document.activeElement;
          return `${el?.closest('tr')?.dataset.id}:${el?.dataset.action}`;
        });
        let [answer] = await Promise.all([page.waitForResponse(isPatch), memberRole.selectOption('auditor')]);
        check(answer.status() === 200, `PATCH {role: auditor} answered ${answer.status()}`);
        await usersStatus.filter({ hasText: `Le rôle de ${MEMBER_EMAIL} est maintenant : Auditeur.` }).waitFor();
        check((await memberRole.inputValue()) === 'auditor', `after the change the role shows ${await memberRole.inputValue()}`);
        check((await focused()) === `${ctx.memberId}:role`, `after the change the focus is on ${await focused()}`);
        [answer] = await Promise.all([page.waitForResponse(isPatch), memberRole.selectOption('member')]);
        check(answer.status() === 200, `PATCH {role: member} answered ${answer.status()}`);
        await usersStatus.filter({ hasText: `Le rôle de ${MEMBER_EMAIL} est maintenant : Membre.` }).waitFor();
        check((await memberRole.inputValue()) === 'member', `after the change back the role shows ${await memberRole.inputValue()}`);

        // (c) Disabled, then enabled (still invited: no password yet).
        [answer] = await Promise.all([page.waitForResponse(isPatch),
          memberRow.getByRole('button', { name: `Désactiver le compte ${MEMBER_EMAIL}` }).click()]);
        check(answer.status() === 200, `PATCH {state: disabled} answered ${answer.status()}`);
        await usersStatus.filter({ hasText: `Le compte ${MEMBER_EMAIL} est désactivé` }).waitFor();
        check((await memberRow.getAttribute('data-state')) === 'disabled', `the state after disabling is ${await memberRow.getAttribute('data-state')}`);
        check(/Désactivé/.test(await memberRow.locator('.cell-state').textContent()), 'the state cell does not say "Désactivé"');
        const enable = memberRow.getByRole('button', { name: `Réactiver le compte ${MEMBER_EMAIL}` });
        check((await focused()) === `${ctx.memberId}:state`, `after disabling the focus is on ${await focused()}`);
        [answer] = await Promise.all([page.waitForResponse(isPatch), enable.click()]);
        check(answer.status() === 200, `PATCH {state: active} answered ${answer.status()}`);
        await usersStatus.filter({ hasText: `Le compte ${MEMBER_EMAIL} est réactivé.` }).waitFor();
        check((await memberRow.getAttribute('data-state')) === 'invited', `the state after enabling is ${await memberRow.getAttribute('data-state')}`);

        // (d) The only owner demoted: last_owner, and the table as it was.
        [answer] = await Promise.all([page.waitForResponse(isPatch), ownerRole.selectOption('member')]);
        check(answer.status() === 409, `demoting the only owner answered ${answer.status()}`);
        await usersStatus.filter({ hasText: /^Impossible : c’est le dernier propriétaire actif de l’espace\./ }).waitFor();
        check((await usersStatus.getAttribute('data-kind')) === 'error', 'the last_owner message is not an error');
        check((await usersStatus.getAttribute('aria-live')) === 'assertive', 'the accounts status is not aria-live');
        check((await ownerRole.inputValue()) === 'owner', `after the refusal the owner's role shows ${await ownerRole.inputValue()}`);
        check((await rows.count()) === 2, `${await rows.count()} accounts listed after the refusal, not 2`);
        const me = await getTenant(port, TENANT_SLUG, '/api/v1/me', await sessionCookie(context));
        check(me.status === 200 && me.body?.user?.role === 'owner', `after the refusal /me says ${me.status} ${me.body?.user?.role}`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/^Not possible: this is the last active owner/.test(await statusText(page, '#users-status')),
          `the message in English is "${await statusText(page, '#users-status')}"`);
        check(await page.getByRole('columnheader', { name: 'Last sign-in' }).isVisible(), 'no "Last sign-in" column in English');
        check(await memberRow.getByRole('button', { name: `Disable the account ${MEMBER_EMAIL}` }).isVisible(),
          'the row buttons are not in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        const sent = changes.map((c) => `${c.method} ${c.path.replace(/^(\/api\/v1\/admin\/users\/)[^/]+/, '$1ID')} ${JSON.stringify(c.body)}`);
        const want = [
          `POST /api/v1/admin/users {"email":"${MEMBER_EMAIL}","role":"member"}`,
          `POST /api/v1/admin/users {"email":"${MEMBER_EMAIL}","role":"member"}`,
          'POST /api/v1/admin/users {"email":"member\u200b@acme.example","role":"member"}',
          'PATCH /api/v1/admin/users/ID {"role":"auditor"}',
          'PATCH /api/v1/admin/users/ID {"role":"member"}',
          'PATCH /api/v1/admin/users/ID {"state":"disabled"}',
          'PATCH /api/v1/admin/users/ID {"state":"active"}',
          'PATCH /api/v1/admin/users/ID {"role":"member"}',
        ];
        check(sent.join('\n') === want.join('\n'), `the changes sent were: ${sent.join('; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
        check(changes[3].path === `/api/v1/admin/users/${ctx.memberId}` && changes[7].path === `/api/v1/admin/users/${ownerId}`,
          'a change went to the wrong account');
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration: the invited member sets a password from the mailed link, signs in, has no Administration link, and /admin says the role cannot manage accounts',
    async run(ctx) {
      const { browser, base, port } = ctx;
      check(ctx.mail, `no SMTP sink to read the invitation from: ${ctx.mailError}`);
      const mailed = await ctx.mail.waitFor(MEMBER_EMAIL, (m) => /\/setup#/.test(m.body));
      check(/Invitation/.test(mailed.subject), `the mail to ${MEMBER_EMAIL} is "${mailed.subject}"`);
      const link = /\/setup#([A-Za-z0-9_-]{43})\b/.exec(mailed.body);
      check(link, `no /setup#TOKEN link in the invitation: ${oneLine(mailed.body)}`);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' });
      try {
        const adminCalls = [];
        page.on('request', (req) => {
          const p = new URL(req.url()).pathname;
          if (p.startsWith('/api/v1/admin/')) adminCalls.push(`${req.method()} ${p}`);
        });
        await page.goto(`${base}setup#${link[1]}`, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        await page.getByLabel('Nouveau mot de passe').fill(MEMBER_PASSWORD);
        await page.getByLabel('Confirmer le mot de passe').fill(MEMBER_PASSWORD);
        await page.waitForSelector('#setup-submit:not([disabled])');
        await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.locator('#setup-submit').click()]);
        await waitI18n(page, 'fr');
        await settle(page);

        await signIn(page, base, MEMBER_PASSWORD, MEMBER_EMAIL);
        const role = await statusText(page, '#account-role');
        check(role === 'Membre', `the member's role shows as "${role}"`);
        await settle(page);
        check(await page.locator('#admin-link').isHidden(), 'the member sees the Administration link');

        const res = await page.goto(`${base}admin`, { waitUntil: 'load' });
        checkCsp(res, '/admin');
        await waitI18n(page, 'fr');
        await page.locator('#admin-denied').filter({ hasText: 'Votre rôle ne permet pas de gérer les comptes de cet espace.' }).waitFor();
        check(await page.locator('#admin-content').isHidden(), 'the member sees the administration content');
        check(await page.locator('#admin-mfa').isHidden(), 'the member is told about 2FA');
        await settle(page);
        check(adminCalls.length === 0, `the page asked ${adminCalls.join(', ')} for a member`);
        const direct = await getTenant(port, TENANT_SLUG, '/api/v1/admin/users', await sessionCookie(context));
        check(direct.status === 403 && direct.body?.error?.code === 'forbidden',
          `GET /api/v1/admin/users as the member answered ${direct.status} ${direct.body?.error?.code}`);
        ctx.memberSignedIn = true;
        await secretNowhere(page, urls, consoleText, MEMBER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration: the access journal lists the sign-ins (address, outcome, IP, device), filters by outcome, shows an unknown address as such, and pages back with "Plus anciennes"',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, consoleText } = await openPage(browser, { locale: 'fr-FR' });
      try {
        const asked = [];
        page.on('request', (req) => {
          const u = new URL(req.url());
          if (u.pathname === '/api/v1/admin/logins') asked.push(u.searchParams);
        });
        const isLogins = (r) => new URL(r.url()).pathname === '/api/v1/admin/logins';
        await signIn(page, base);
        await page.goto(`${base}admin`, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        const journal = page.getByRole('region', { name: 'Journal des accès' });
        const rows = page.locator('#journal-body tr');
        await rows.first().waitFor();
        check(asked.length === 1 && asked[0].get('limit') === '50' && !asked[0].has('outcome') && !asked[0].has('before'),
          `the first journal request was ?${asked[0]}`);
        const count = await rows.count();
        check(count >= 5 && count <= 50, `${count} journal lines shown`);
        const signIns = rows.filter({ hasText: OWNER_EMAIL }).filter({ hasText: 'Connexion réussie' });
        check((await signIns.count()) >= 3, `${await signIns.count()} sign-ins of the owner listed`);
        const cells = (await signIns.first().locator('td').allTextContents()).map((c) => c.trim());
        check(cells.length === 5 && cells[3] === '127.0.0.1' && cells[4] !== '' && cells[0] !== '',
          `a sign-in line reads ${JSON.stringify(cells)}`);
        const times = async () => (await page.locator('#journal-body time').evaluateAll((all) => all.map((x) => Date.parse(x.dateTime))));
        const newestFirst = (list) => list.every((v, i) => i === 0 || list[i - 1] >= v);
        check(newestFirst(await times()), 'the journal is not newest first');
        if (ctx.memberSignedIn) {
          check((await rows.filter({ hasText: MEMBER_EMAIL }).filter({ hasText: 'Connexion réussie' }).count()) >= 1,
            'the member\'s sign-in is not in the journal');
        }

        // Filtered by outcome.
        const filter = journal.getByLabel('Résultat');
        await Promise.all([page.waitForResponse(isLogins), filter.selectOption('success')]);
        check(asked.at(-1).get('outcome') === 'success', `the filter sent ?${asked.at(-1)}`);
        await page.waitForFunction(() => {
          const all = [...document.querySelectorAll('#journal-body tr')];
          return all.length > 0 && all.every((tr) => tr.dataset.outcome === 'success');
        });
        await Promise.all([page.waitForResponse(isLogins), filter.selectOption('unknown_user')]);
        await page.waitForFunction(() => {
          const all = [...document.querySelectorAll('#journal-body tr')];
          return all.length > 0 && all.every((tr) => tr.dataset.outcome === 'unknown_user');
        });
        const unknown = (await rows.first().locator('td').nth(1).textContent()).trim();
        check(unknown === 'adresse inconnue', `an attempt on an unknown address shows "${unknown}" as its address`);

        // Paging: 3 lines a page (the test lowers the limit the page asks for).
        await page.route((u) => u.pathname === '/api/v1/admin/logins', (route) => {
          const u = new URL(route.request().url());
          u.searchParams.set('limit', '3');
          route.continue({ url: u.toString() }).catch(() => {});
        });
        const [first] = await Promise.all([page.waitForResponse(isLogins), filter.selectOption('success')]);
        const firstBody = await first.json();
        check(ID_RE.test(String(firstBody.next_before ?? '')), `a full page answered next_before ${firstBody.next_before}`);
        const more = journal.getByRole('button', { name: 'Plus anciennes' });
        await more.waitFor();
        check((await rows.count()) === 3, `${await rows.count()} lines on a page of 3`);
        const [second] = await Promise.all([page.waitForResponse(isLogins), more.click()]);
        check(second.status() === 200, `the older page answered ${second.status()}`);
        check(asked.at(-1).get('before') === String(firstBody.next_before) && asked.at(-1).get('outcome') === 'success',
          `"Plus anciennes" sent ?${asked.at(-1)}`);
        await page.waitForFunction(() => document.querySelectorAll('#journal-body tr').length === 6);
        check(newestFirst(await times()), 'the older lines are not below the newer ones');
        const ids = [...(firstBody.logins || []), ...((await second.json()).logins || [])].map((l) => l.id);
        check(new Set(ids).size === 6, `the two pages overlap: ${ids.join(' ')}`);
        await page.unroute((u) => u.pathname === '/api/v1/admin/logins');

        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(await page.getByRole('button', { name: 'Older' }).isVisible(), 'no "Older" button in English');
        check((await rows.first().locator('td').nth(2).textContent()).trim() === 'Signed in',
          `the outcome in English is "${(await rows.first().locator('td').nth(2).textContent()).trim()}"`);
        await settle(page);
        for (const text of consoleText) check(!text.includes(OWNER_EMAIL), 'an address appears in a console message');
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration: removing the member asks confirm() then the password; the locked owner is unlocked; the owner\'s 2FA is reset with the password; "Déconnecter partout" on oneself ends this session; the 2FA policy is restored',
    async run(ctx) {
      const { browser, base, port } = ctx;
      try {
        await ensureOwnerPassword(ctx);
        const expected = [[401, '/api/v1/admin/users'], [400, '/api/v1/auth/step-up']];
        const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' }, expected);
        try {
          const changes = [];
          const answers = [];
          page.on('request', (req) => {
            const p = new URL(req.url()).pathname;
            if ((p.startsWith('/api/v1/admin/') && req.method() !== 'GET') || p === '/api/v1/auth/step-up') {
              changes.push({ method: req.method(), path: p, csrf: req.headers()['x-csrf-token'] || '' });
            }
          });
          page.on('response', (r) => {
            const p = new URL(r.url()).pathname;
            if ((p.startsWith('/api/v1/admin/users/') && r.request().method() !== 'GET') || p === '/api/v1/auth/step-up') {
              answers.push(`${r.request().method()} ${p.replace(/^(\/api\/v1\/admin\/users\/)[^/]+/, '$1ID')} ${r.status()}`);
            }
          });
          await signIn(page, base);
          await page.goto(`${base}admin`, { waitUntil: 'load' });
          await waitI18n(page, 'fr');
          const rows = page.locator('#users-body tr');
          const usersStatus = page.locator('#users-status');
          const ownerRow = rows.filter({ hasText: OWNER_EMAIL });
          await ownerRow.waitFor();
          const ownerId = await ownerRow.getAttribute('data-id');
          const memberRow = rows.filter({ hasText: MEMBER_EMAIL });
          await memberRow.waitFor();
          const memberId = await memberRow.getAttribute('data-id');
          expected.push([403, `/api/v1/admin/users/${memberId}`], [403, `/api/v1/admin/users/${ownerId}/reset-totp`]);
          const dialog = page.getByRole('dialog', { name: 'Confirmez votre mot de passe' });
          const remove = memberRow.getByRole('button', { name: `Supprimer le compte ${MEMBER_EMAIL}` });

          // confirm() dismissed: nothing sent.
          const seen = [];
          page.once('dialog', (d) => {
            seen.push(d.message());
            d.dismiss().catch(() => {});
          });
          await remove.click();
          await sleep(300);
          check(seen.length === 1 && seen[0].includes(MEMBER_EMAIL) && /définitive/.test(seen[0]),
            `"Supprimer" asked ${JSON.stringify(seen)}`);
          check(changes.length === 0, 'the account was removed although the dialog was dismissed');

          // Accepted with a stale proof: the password dialog; Escape changes nothing.
          await ageProofs(ctx);
          page.once('dialog', (d) => d.accept().catch(() => {}));
          await remove.click();
          await dialog.waitFor();
          await page.keyboard.press('Escape');
          await dialog.waitFor({ state: 'hidden' });
          await usersStatus.filter({ hasText: /^Rien n.a été modifié/ }).waitFor();
          check((await rows.count()) === 2, 'the member is gone although the password was not confirmed');
          check((await page.evaluate(() => document.activeElement?.dataset.action)) === 'remove',
            'after Escape the focus is not back on "Supprimer"');

          // A wrong password stays in the dialog; the right one removes the account.
          page.once('dialog', (d) => d.accept().catch(() => {}));
          await remove.click();
          await dialog.waitFor();
          await dialog.getByLabel('Mot de passe').fill(WRONG_PASSWORD);
          await dialog.getByLabel('Mot de passe').press('Enter');
          await page.locator('#stepup-password-error').filter({ hasText: 'Mot de passe incorrect.' }).waitFor();
          await dialog.getByLabel('Mot de passe').fill(OWNER_PASSWORD);
          await dialog.getByLabel('Mot de passe').press('Enter');
          await usersStatus.filter({ hasText: `Le compte ${MEMBER_EMAIL} est supprimé.` }).waitFor();
          check((await rows.count()) === 1 && (await memberRow.count()) === 0, 'the removed account is still listed');
          check((await page.evaluate(() => document.activeElement?.id)) === 'users-heading',
            `after the removal the focus is on "${await page.evaluate(() => document.activeElement?.id)}"`);

          // The owner locked by 5 wrong passwords (sent from here), then unlocked from the page.
          for (let i = 0; i < 5; i++) {
            const r = await postTenant(port, TENANT_SLUG, '/api/v1/auth/login', { email: OWNER_EMAIL, password: WRONG_PASSWORD });
            check(r.status === 401, `wrong password ${i + 1} answered ${r.status}`);
          }
          const locked = await postTenant(port, TENANT_SLUG, '/api/v1/auth/login', { email: OWNER_EMAIL, password: OWNER_PASSWORD });
          check(locked.status === 401, `the locked owner signed in (${locked.status})`);
          await page.reload({ waitUntil: 'load' });
          await ownerRow.locator('td[data-locked="yes"]').waitFor();
          const unlock = ownerRow.getByRole('button', { name: `Déverrouiller le compte ${OWNER_EMAIL}` });
          await unlock.click();
          await usersStatus.filter({ hasText: `Le compte ${OWNER_EMAIL} est déverrouillé.` }).waitFor();
          check((await ownerRow.locator('td[data-locked]').getAttribute('data-locked')) === 'no', 'the owner still shows as locked');
          check((await unlock.count()) === 0, '"Déverrouiller" stays once the account is unlocked');
          const again = await postTenant(port, TENANT_SLUG, '/api/v1/auth/login', { email: OWNER_EMAIL, password: OWNER_PASSWORD });
          check(again.status === 200, `after the unlock the right password answered ${again.status}`);

          // The owner's 2FA on (through the API), then reset from the page with the password.
          const cookie = await sessionCookie(context);
          const me = await getTenant(port, TENANT_SLUG, '/api/v1/me', cookie);
          const csrf = me.body?.csrf_token;
          const begin = await apiTenant(port, 'POST', '/api/v1/me/totp', { cookie, csrf, body: {} });
          check(begin.status === 200, `POST /api/v1/me/totp answered ${begin.status} ${begin.body?.error?.code ?? ''}`);
          const key = base32Decode(new URL(begin.body.otpauth_uri).searchParams.get('secret'));
          const on = await apiTenant(port, 'POST', '/api/v1/me/totp/confirm',
            { cookie, csrf, body: { code: totpCode(key, totpStep()) } });
          check(on.status === 200, `POST /api/v1/me/totp/confirm answered ${on.status} ${on.body?.error?.code ?? ''}`);
          await page.reload({ waitUntil: 'load' });
          await ownerRow.locator('td[data-totp="on"]').waitFor();
          await ageProofs(ctx);
          const confirms = [];
          page.once('dialog', (d) => {
            confirms.push(d.message());
            d.accept().catch(() => {});
          });
          await ownerRow.getByRole('button', { name: `Réinitialiser la 2FA de ${OWNER_EMAIL}` }).click();
          await dialog.waitFor();
          check(confirms.length === 1 && confirms[0].includes(OWNER_EMAIL), `"Réinitialiser la 2FA" asked ${JSON.stringify(confirms)}`);
          await dialog.getByLabel('Mot de passe').fill(OWNER_PASSWORD);
          await dialog.getByRole('button', { name: 'Confirmer' }).click();
          await usersStatus.filter({ hasText: `La double authentification de ${OWNER_EMAIL} est réinitialisée.` }).waitFor();
          check((await ownerRow.locator('td[data-totp]').getAttribute('data-totp')) === 'off', 'the owner\'s 2FA still shows as on');
          const after = await getTenant(port, TENANT_SLUG, '/api/v1/me', cookie);
          check(after.body?.user?.totp === false, `after the reset /me says totp ${after.body?.user?.totp}`);

          // "Déconnecter partout" on one's own row: confirm(), then this session ends too.
          const selfConfirm = [];
          page.once('dialog', (d) => {
            selfConfirm.push(d.message());
            d.accept().catch(() => {});
          });
          await Promise.all([
            page.waitForURL((u) => u.pathname === '/login'),
            ownerRow.getByRole('button', { name: `Déconnecter partout ${OWNER_EMAIL}` }).click(),
          ]);
          check(selfConfirm.length === 1 && /vous devrez vous reconnecter/.test(selfConfirm[0]),
            `signing oneself out asked ${JSON.stringify(selfConfirm)}`);
          const gone = await getTenant(port, TENANT_SLUG, '/api/v1/me', cookie);
          check(gone.status === 401, `the ended session still answers ${gone.status}`);
          await waitI18n(page);
          await settle(page);

          const want = [
            'DELETE /api/v1/admin/users/ID 403', 'DELETE /api/v1/admin/users/ID 403', '/api/v1/auth/step-up 400',
            '/api/v1/auth/step-up 200', 'DELETE /api/v1/admin/users/ID 200', 'POST /api/v1/admin/users/ID/unlock 200',
            'POST /api/v1/admin/users/ID/reset-totp 403', '/api/v1/auth/step-up 200',
            'POST /api/v1/admin/users/ID/reset-totp 200', 'POST /api/v1/admin/users/ID/logout 200',
          ].map((a) => (a.startsWith('/') ? `POST ${a}` : a));
          check(answers.join() === want.join(), `the answers were ${answers.join(', ')}`);
          check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
          await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
          await secretNowhere(page, urls, consoleText, WRONG_PASSWORD);
          noProblems(problems);
        } finally {
          await context.close();
        }
      } finally {
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'account sessions: two browsers signed in are listed, this one marked; "Terminer" ends the other, which is signed out; "Terminer toutes les autres sessions" ends the rest',
    async run(ctx) {
      const { browser, base, port } = ctx;
      const me = await ensureSecondOwner(ctx);
      const other = await openPage(browser, { locale: 'fr-FR' });
      const mine = await openPage(browser, { locale: 'fr-FR' });
      try {
        await signIn(other.page, base, me.password, me.email);
        await signIn(mine.page, base, me.password, me.email);
        const { page } = mine;
        const changes = [];
        page.on('request', (req) => {
          if (req.method() === 'DELETE') changes.push({ path: new URL(req.url()).pathname, csrf: req.headers()['x-csrf-token'] });
        });
        const section = page.getByRole('region', { name: 'Sessions' });
        const items = section.locator('#sessions-list > li');
        await page.waitForFunction(() => document.querySelectorAll('#sessions-list > li').length === 2);
        const current = section.locator('#sessions-list > li[data-current="true"]');
        check((await current.count()) === 1, `${await current.count()} sessions marked current`);
        check(/\(cette session\)/.test(await current.textContent()), 'the current session is not marked "(cette session)"');
        check((await current.locator('button').count()) === 0, 'the current session offers a button to end it');
        const otherItem = section.locator('#sessions-list > li[data-current="false"]');
        const otherText = (await otherItem.textContent()) || '';
        check(/127\.0\.0\.1/.test(otherText), `the other session does not show its IP: "${oneLine(otherText)}"`);
        check((await otherItem.locator('time').count()) === 2, 'the other session does not show created and last seen');
        const end = otherItem.getByRole('button', { name: /^Terminer la session .+ \(127\.0\.0\.1\)$/ });
        const otherId = await otherItem.getAttribute('data-id');
        check(/^[0-9a-f]{32}$/.test(otherId || ''), `the other session's id is "${otherId}"`);
        check((await apiTenant(port, 'GET', '/api/v1/me', { cookie: await sessionCookie(other.context) })).status === 200,
          'the other browser is not signed in');

        await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/api/v1/me/sessions/${otherId}`)),
          end.click(),
        ]);
        await page.waitForFunction(() => document.querySelectorAll('#sessions-list > li').length === 1);
        check(/est terminée/.test(await statusText(page, '#sessions-status')),
          `the status says "${await statusText(page, '#sessions-status')}"`);
        check((await items.first().getAttribute('data-current')) === 'true', 'the session left is not this one');
        const gone = await apiTenant(port, 'GET', '/api/v1/me', { cookie: await sessionCookie(other.context) });
        check(gone.status === 401, `the ended session's /api/v1/me answered ${gone.status}`);
        check((await section.locator('#sessions-others-row').isHidden()), '"Terminer toutes les autres sessions" shows with no other session');

        // Two more sessions (from Node), then all the others at once.
        const a = await apiSignIn(port, me.email, me.password);
        const b = await apiSignIn(port, me.email, me.password);
        await page.reload({ waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelectorAll('#sessions-list > li').length === 3);
        await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith('/api/v1/me/sessions')),
          section.getByRole('button', { name: 'Terminer toutes les autres sessions' }).click(),
        ]);
        await page.waitForFunction(() => document.querySelectorAll('#sessions-list > li').length === 1);
        check(/^Sessions terminées : 2\.$/.test(await statusText(page, '#sessions-status')),
          `the status says "${await statusText(page, '#sessions-status')}"`);
        for (const s of [a, b]) {
          const r = await apiTenant(port, 'GET', '/api/v1/me', { cookie: s.cookie });
          check(r.status === 401, `a session ended with the others still answers ${r.status}`);
        }
        const still = await apiTenant(port, 'GET', '/api/v1/me', { cookie: await sessionCookie(mine.context) });
        check(still.status === 200, `this session answered ${still.status} after ending the others`);
        check(changes.length === 2 && changes.every((c) => CSRF_RE.test(c.csrf || '')),
          `the ends were sent as ${JSON.stringify(changes)}`);

        await waitI18n(page);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/\(this session\)/.test(await current.textContent()), 'the marker is not redrawn in English');
        check((await page.getByRole('region', { name: 'Sessions' }).getByRole('heading', { name: 'Sessions' }).count()) === 1,
          'no "Sessions" heading in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');
        await settle(page);
        noProblems(mine.problems);
        noProblems(other.problems);
      } finally {
        await other.context.close();
        await mine.context.close();
      }
    },
  },
  {
    name: 'account sign-in history: a failed then a successful sign-in show newest first with their outcome, IP and device; "Plus anciennes" pages back by 20',
    async run(ctx) {
      const { browser, base, port } = ctx;
      const me = await ensureSecondOwner(ctx);
      const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/auth/login']]);
      try {
        // Enough older lines for two pages: sign-ins and sign-outs from Node.
        for (let i = 0; i < 9; i++) {
          const s = await apiSignIn(port, me.email, me.password);
          const out = await apiTenant(port, 'POST', '/api/v1/auth/logout', { cookie: s.cookie, csrf: s.csrf, body: {} });
          check(out.status === 200, `a sign-out from Node answered ${out.status}`);
        }
        // A failed sign-in, then a good one, in the browser.
        await page.goto(`${base}login`, { waitUntil: 'load' });
        await waitI18n(page);
        const form = page.locator('#login-form');
        await form.getByLabel(/Adresse e-mail|E-mail address/).fill(me.email);
        await form.getByLabel(/^(Mot de passe|Password)$/).fill(WRONG_PASSWORD);
        await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
          page.locator('#login-submit').click(),
        ]);
        const asked = [];
        const answers = [];
        page.on('request', (req) => {
          const u = new URL(req.url());
          if (u.pathname === '/api/v1/me/logins') asked.push(u.searchParams);
        });
        page.on('response', (res) => {
          if (new URL(res.url()).pathname === '/api/v1/me/logins') answers.push(res.json().catch(() => null));
        });
        await signIn(page, base, me.password, me.email);
        const section = page.getByRole('region', { name: 'Historique de connexion' });
        // By id: the region's name changes with the language.
        const rows = page.locator('#logins-body tr');
        await page.waitForFunction(() => document.querySelectorAll('#logins-body tr').length === 20);
        check(asked.length === 1 && asked[0].get('limit') === '20' && !asked[0].has('before'),
          `the history was asked with ?${asked.join(' ?')}`);
        check((await rows.nth(0).getAttribute('data-outcome')) === 'success', 'the newest line is not the sign-in');
        check((await rows.nth(1).getAttribute('data-outcome')) === 'bad_password', 'the failed sign-in is not the line below it');
        const cells = async (i) => (await rows.nth(i).locator('td').allTextContents()).map((x) => x.trim());
        const [t0, o0, ip0, dev0] = await cells(0);
        check(o0 === 'Connexion réussie' && ip0 === '127.0.0.1' && /Chrom/.test(dev0) && t0 !== '',
          `the newest line reads "${[t0, o0, ip0, dev0].join(' | ')}"`);
        check((await cells(1))[1] === 'Mot de passe incorrect', `the failed sign-in reads "${(await cells(1)).join(' | ')}"`);
        check((await cells(2))[1] === 'Déconnexion', `the line before reads "${(await cells(2)).join(' | ')}"`);
        const times = async () => section.locator('#logins-body time').evaluateAll((ts) => ts.map((x) => Date.parse(x.dateTime)));
        const newestFirst = (list) => list.every((v, i) => i === 0 || list[i - 1] >= v);
        check(newestFirst(await times()), 'the lines are not newest first');

        const firstBody = await answers[0];
        check(/^\d+$/.test(String(firstBody?.next_before ?? '')), `a full page answered next_before ${firstBody?.next_before}`);
        const more = section.getByRole('button', { name: 'Plus anciennes' });
        await more.click();
        await page.waitForFunction(() => document.querySelectorAll('#logins-body tr').length > 20);
        check(asked.length === 2 && asked[1].get('before') === String(firstBody.next_before) && asked[1].get('limit') === '20',
          `"Plus anciennes" sent ?${asked[1]}`);
        const secondBody = await answers[1];
        const total = (await rows.count());
        check(total === 20 + (secondBody?.logins?.length ?? -1) && total > 20, `${total} lines after paging`);
        const ids = [...firstBody.logins, ...secondBody.logins].map((l) => l.id);
        check(new Set(ids).size === ids.length, `the two pages overlap: ${ids.join(' ')}`);
        check(newestFirst(await times()), 'the older lines are not below the newer ones');
        check(secondBody.next_before === null, `the last page answered next_before ${secondBody.next_before}`);
        check(await section.locator('#logins-more-row').isHidden(), '"Plus anciennes" still shows after the last page');

        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check((await cells(0))[1] === 'Signed in', `the newest line reads "${(await cells(0)).join(' | ')}" in English`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');
        await settle(page);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'account password: the meter follows the new password (e-mail, privileged); a weak one keeps the button off; a wrong current password is refused; a good change closes the other sessions; the previous password is refused as reused',
    async run(ctx) {
      const { browser, base, port } = ctx;
      const me = await ensureSecondOwner(ctx);
      const other = await openPage(browser, { locale: 'fr-FR' });
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[400, '/api/v1/me/password']]);
      try {
        await signIn(other.page, base, me.password, me.email);
        await signIn(page, base, me.password, me.email);
        const strength = [];
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/password/strength') strength.push(req.postDataJSON());
        });
        const section = page.getByRole('region', { name: 'Mot de passe' });
        const current = section.getByLabel('Mot de passe actuel');
        const fresh = section.getByLabel('Nouveau mot de passe', { exact: true });
        const again = section.getByLabel('Confirmer le nouveau mot de passe');
        const submit = section.getByRole('button', { name: 'Changer le mot de passe' });
        check(await submit.isDisabled(), 'the button is enabled on an empty form');

        // Weak: the meter says so, the button stays off.
        await fresh.pressSequentially(WEAK_PASSWORD, { delay: 20 });
        await again.fill(WEAK_PASSWORD);
        await page.locator('#password-strength[data-acceptable="false"]').waitFor();
        check(/Pas encore suffisant/.test(await statusText(page, '#password-strength-label')),
          `the verdict reads "${await statusText(page, '#password-strength-label')}"`);
        check(strength.length >= 1 && strength.length <= 3, `${strength.length} strength requests for one typed password`);
        check(strength.every((b) => b.email === me.email && b.privileged === true && typeof b.password === 'string'),
          `the strength requests were ${JSON.stringify(strength.map((b) => ({ email: b.email, privileged: b.privileged })))}`);
        check((await page.locator('#password-strength-hints li').count()) > 0, 'no hint for a weak password');
        check(await submit.isDisabled(), 'the button is enabled for a weak password');

        // A good new password, a wrong current one.
        await fresh.fill(SECOND_NEW_PASSWORD);
        await again.fill(SECOND_NEW_PASSWORD);
        await current.fill(WRONG_PASSWORD);
        await page.locator('#password-strength[data-acceptable="true"]').waitFor();
        await page.waitForFunction(() => !document.getElementById('password-submit').disabled);
        const sent = [];
        page.on('request', (req) => {
          if (new URL(req.url()).pathname === '/api/v1/me/password') {
            sent.push({ body: req.postDataJSON(), csrf: req.headers()['x-csrf-token'] });
          }
        });
        const [wrong] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password')),
          submit.click(),
        ]);
        check(wrong.status() === 400, `a wrong current password answered ${wrong.status()}`);
        await page.locator('#password-current-error').filter({ hasText: /\S/ }).waitFor();
        check(/^Ce n’est pas votre mot de passe actuel\.$/.test(await statusText(page, '#password-current-error')),
          `the current field's error reads "${await statusText(page, '#password-current-error')}"`);
        check((await current.getAttribute('aria-invalid')) === 'true', 'the current field is not marked invalid');

        // The right one: changed, the other session ended.
        await current.fill(me.password);
        const [good] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password')),
          submit.click(),
        ]);
        check(good.status() === 200, `the change answered ${good.status()}`);
        const previous = me.password;
        me.password = SECOND_NEW_PASSWORD;
        await page.locator('#password-status[data-kind="ok"]').waitFor();
        check(/autres sessions ont été fermées/.test(await statusText(page, '#password-status')),
          `the status reads "${await statusText(page, '#password-status')}"`);
        for (const input of [current, fresh, again]) check((await input.inputValue()) === '', 'a field is not emptied after the change');
        check(sent.length === 2 && sent.every((s) => CSRF_RE.test(s.csrf || '') && Object.keys(s.body).join() === 'current,new'),
          'the change was not sent as {current, new} with the CSRF token');
        const ended = await apiTenant(port, 'GET', '/api/v1/me', { cookie: await sessionCookie(other.context) });
        check(ended.status === 401, `the other session's /api/v1/me answered ${ended.status} after the change`);
        const kept = await apiTenant(port, 'GET', '/api/v1/me', { cookie: await sessionCookie(context) });
        check(kept.status === 200, `this session's /api/v1/me answered ${kept.status} after the change`);
        await page.waitForFunction(() => document.querySelectorAll('#sessions-list > li').length === 1);

        // The previous password again: refused, with the reuse hint.
        await current.fill(SECOND_NEW_PASSWORD);
        await fresh.fill(previous);
        await again.fill(previous);
        await page.waitForFunction(() => !document.getElementById('password-submit').disabled);
        const [reused] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password')),
          submit.click(),
        ]);
        const reusedBody = await reused.json();
        check(reused.status() === 400 && reusedBody?.error?.code === 'weak_password'
          && (reusedBody.strength?.problems || []).includes('reused'), `the previous password answered ${reused.status()} ${JSON.stringify(reusedBody)}`);
        await page.locator('#password-strength-hints li').filter({ hasText: /déjà utilisé ce mot de passe/ }).waitFor();
        check(/ne peut pas être utilisé/.test(await statusText(page, '#password-new-error')),
          `the new field's error reads "${await statusText(page, '#password-new-error')}"`);
        check(await submit.isDisabled(), 'the button stays enabled for a refused password');
        const still = await apiSignIn(port, me.email, SECOND_NEW_PASSWORD);
        check(CSRF_RE.test(still.csrf), 'the new password does not sign in');

        for (const secret of [previous, SECOND_NEW_PASSWORD, WRONG_PASSWORD, WEAK_PASSWORD]) {
          await secretNowhere(page, urls, consoleText, secret);
        }
        await settle(page);
        noProblems(problems);
        noProblems(other.problems);
      } finally {
        await other.context.close();
        await context.close();
      }
    },
  },
  {
    name: 'roles: the built-in roles are listed with their permissions; the owner creates "Relecteurs" (doc.read, audit.read) from the catalogue described in French; no name, no permission and a taken name are refused; a custom role is edited, then deleted after confirm()',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      await setMfaPolicy(ctx, 'optional');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[409, '/api/v1/admin/roles']]);
      try {
        ctx.authz = ctx.authz || {};
        const changes = recordChanges(page, ['/api/v1/admin/roles']);
        await signIn(page, base);
        await openAdmin(page, base);
        const rows = page.locator('#roles-body tr');
        await rows.nth(4).waitFor();
        const ids = await rows.evaluateAll((all) => all.map((tr) => tr.dataset.id));
        check(ids.slice(0, 5).join() === 'owner,admin,member,guest,auditor', `the roles listed first are ${ids.join(' ')}`);
        const memberRow = page.locator('#roles-body tr[data-id="member"]');
        check((await permsShown(memberRow)).join() === 'doc.read,doc.write,doc.delete,note.write',
          `the role member shows ${(await permsShown(memberRow)).join(' ')}`);
        check((await permsShown(page.locator('#roles-body tr[data-id="auditor"]'))).join() === 'audit.read',
          'the role auditor does not show just audit.read');
        const memberName = oneLine(await memberRow.locator('th').textContent());
        check(memberName === 'Membre (intégré)', `the built-in role member reads "${memberName}"`);
        check((await memberRow.locator('button').count()) === 0, 'a built-in role offers buttons');
        check((await page.locator('#roles-body tr[data-id="owner"] [data-permission]').count()) === 11,
          'the role owner does not show the 11 permissions');

        // The form: one checkbox per permission of the catalogue, described in French.
        const form = page.locator('#role-form');
        const name = form.getByLabel('Nom du rôle');
        const create = form.getByRole('button', { name: 'Créer le rôle' });
        check((await form.locator('#role-perms-list input[type="checkbox"]').count()) === 11, 'not one checkbox per permission');
        const readDocs = form.getByLabel(/^Lire les documents et les notes/);
        const readAudit = form.getByLabel(/^Lire les journaux d.accès et d.audit/);
        check((await readDocs.getAttribute('value')) === 'doc.read', 'no checkbox "Lire les documents et les notes" for doc.read');

        // Nothing filled in: the two errors, nothing sent.
        await create.click();
        await page.locator('#role-name-error').filter({ hasText: 'Saisissez un nom.' }).waitFor();
        check(/^Cochez au moins une permission\.$/.test(await statusText(page, '#role-perms-error')),
          `the permissions error reads "${await statusText(page, '#role-perms-error')}"`);
        check((await name.getAttribute('aria-invalid')) === 'true', 'the empty name is not aria-invalid');
        check(changes.length === 0, 'an empty role form was sent');

        // "Relecteurs": 201, the row after the built-in ones, the form emptied.
        await name.fill('Relecteurs');
        await readDocs.check();
        await readAudit.check();
        const [made] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/roles')), create.click()]);
        check(made.status() === 201, `POST /api/v1/admin/roles answered ${made.status()}`);
        const role = (await made.json()).role;
        check(HEX32_RE.test(role?.id || '') && role.builtin === false && role.permissions.join() === 'doc.read,audit.read',
          `the new role is ${JSON.stringify(role)}`);
        ctx.authz.relecteurs = role.id;
        const rolesStatus = page.locator('#roles-status');
        await rolesStatus.filter({ hasText: 'Le rôle « Relecteurs » est créé.' }).waitFor();
        check((await rolesStatus.getAttribute('data-kind')) === 'ok', 'the creation message is not an "ok" message');
        const row = page.locator(`#roles-body tr[data-id="${role.id}"]`);
        await row.waitFor();
        check((await permsShown(row)).join() === 'doc.read,audit.read', `the new row shows ${(await permsShown(row)).join(' ')}`);
        check(oneLine(await row.locator('td').nth(1).textContent()) === '0', 'the new role does not count 0 grants');
        check((await name.inputValue()) === '' && !(await readDocs.isChecked()), 'the form is not emptied after the creation');

        // The same name in other case: 409 name_taken, next to the field.
        await name.fill('relecteurs');
        await form.getByLabel(/^Écrire des notes/).check();
        const [taken] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/roles')), create.click()]);
        check(taken.status() === 409, `a taken name answered ${taken.status()}`);
        await page.locator('#role-name-error').filter({ hasText: 'Ce nom est déjà utilisé.' }).waitFor();
        await rolesStatus.filter({ hasText: /^Ce nom est déjà utilisé dans l.organisation/ }).waitFor();
        check((await rows.count()) === 6, `${await rows.count()} roles listed after the refusal, not 6`);

        // "Brouillons", edited into "Rédaction" with one more permission.
        await name.fill('Brouillons');
        await form.getByLabel(/^Écrire des notes/).uncheck();
        await form.getByLabel(/^Déposer et modifier des documents/).check();
        const [draft] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/roles')), create.click()]);
        check(draft.status() === 201, `creating "Brouillons" answered ${draft.status()}`);
        const draftId = (await draft.json()).role.id;
        const draftRow = page.locator(`#roles-body tr[data-id="${draftId}"]`);
        await draftRow.getByRole('button', { name: 'Modifier le rôle « Brouillons »' }).click();
        await page.locator('#role-form-heading').filter({ hasText: 'Modifier le rôle « Brouillons »' }).waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'role-name', 'the focus is not on the name to edit');
        check((await name.inputValue()) === 'Brouillons', `the name to edit is "${await name.inputValue()}"`);
        check(await form.getByLabel(/^Déposer et modifier des documents/).isChecked(), 'the role\'s permission is not ticked');
        await name.fill('Rédaction');
        await form.getByLabel(/^Écrire des notes/).check();
        const [saved] = await Promise.all([
          page.waitForResponse(answerTo('PATCH', `/api/v1/admin/roles/${draftId}`)),
          form.getByRole('button', { name: 'Enregistrer' }).click(),
        ]);
        check(saved.status() === 200, `PATCH of the role answered ${saved.status()}`);
        await rolesStatus.filter({ hasText: 'Le rôle « Rédaction » est enregistré.' }).waitFor();
        await draftRow.locator('th').filter({ hasText: 'Rédaction' }).waitFor();
        check((await permsShown(draftRow)).join() === 'doc.write,note.write', `the edited row shows ${(await permsShown(draftRow)).join(' ')}`);
        check((await focusedAction(page)) === `${draftId}:edit`, `after saving the focus is on ${await focusedAction(page)}`);
        await page.locator('#role-form-heading').filter({ hasText: 'Nouveau rôle' }).waitFor();

        // Deleted: confirm() dismissed sends nothing; accepted, the row goes.
        const remove = draftRow.getByRole('button', { name: 'Supprimer le rôle « Rédaction »' });
        const asked = [];
        page.once('dialog', (d) => {
          asked.push(d.message());
          d.dismiss().catch(() => {});
        });
        await remove.click();
        await sleep(300);
        check(asked.length === 1 && /Rédaction/.test(asked[0]), `"Supprimer" asked ${JSON.stringify(asked)}`);
        check(!changes.some((c) => c.method === 'DELETE'), 'the role was deleted although the dialog was dismissed');
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [gone] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/roles/${draftId}`)), remove.click()]);
        check(gone.status() === 200, `DELETE of the role answered ${gone.status()}`);
        await rolesStatus.filter({ hasText: 'Le rôle « Rédaction » est supprimé.' }).waitFor();
        check((await draftRow.count()) === 0 && (await rows.count()) === 6, 'the deleted role is still listed');
        check((await page.evaluate(() => document.activeElement?.id)) === 'roles-heading', 'after the deletion the focus is not on "Rôles"');

        // In English.
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(oneLine(await memberRow.locator('th').textContent()) === 'Member (built-in)', 'the built-in role is not redrawn in English');
        check(await form.getByLabel(/^Read documents and notes/).isVisible(), 'the catalogue is not described in English');
        check(await page.getByRole('region', { name: 'Roles', exact: true }).getByRole('heading', { name: 'New role' }).isVisible(),
          'no "New role" heading in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        const sent = changes.map((c) => `${c.method} ${c.path.replace(/[0-9a-f]{32}/, 'ID')} ${JSON.stringify(c.body)}`);
        const want = [
          'POST /api/v1/admin/roles {"name":"Relecteurs","permissions":["doc.read","audit.read"]}',
          'POST /api/v1/admin/roles {"name":"relecteurs","permissions":["note.write"]}',
          'POST /api/v1/admin/roles {"name":"Brouillons","permissions":["doc.write"]}',
          'PATCH /api/v1/admin/roles/ID {"name":"Rédaction","permissions":["doc.write","note.write"]}',
          'DELETE /api/v1/admin/roles/ID null',
        ];
        check(sent.join('\n') === want.join('\n'), `the changes sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'groups: "Finance" is created with a member (shown in the accounts table); "Direction" includes it; making Finance include Direction is refused as a cycle and changes nothing; Direction is renamed, then deleted',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      await setMfaPolicy(ctx, 'optional');
      const expected = [[409, '/api/v1/admin/groups']];
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' }, expected);
      try {
        ctx.authz = ctx.authz || {};
        const claire = await ensureAccount(ctx, CLAIRE_EMAIL, 'member', CLAIRE_PASSWORD);
        await ensureAccount(ctx, AUDIT_EMAIL, 'auditor', AUDIT_PASSWORD);
        const changes = recordChanges(page, ['/api/v1/admin/groups']);
        await signIn(page, base);
        await openAdmin(page, base);
        const rows = page.locator('#groups-body tr');
        await page.locator('#groups-empty').filter({ hasText: 'Aucun groupe.' }).waitFor();
        const form = page.locator('#group-form');
        const name = form.getByLabel('Nom du groupe');
        const members = page.getByRole('group', { name: 'Comptes membres', exact: true });
        const inner = page.getByRole('group', { name: 'Groupes inclus', exact: true });
        const groupsStatus = page.locator('#groups-status');
        check((await members.getByRole('checkbox').count()) >= 3, 'the accounts are not offered as members');

        // "Finance" with Claire.
        await name.fill('Finance');
        await members.getByLabel(CLAIRE_EMAIL, { exact: true }).check();
        const [made] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/groups')),
          form.getByRole('button', { name: 'Créer le groupe' }).click()]);
        check(made.status() === 201, `POST /api/v1/admin/groups answered ${made.status()}`);
        const finance = (await made.json()).group;
        check(HEX32_RE.test(finance?.id || '') && finance.members.join() === claire.id, `the new group is ${JSON.stringify(finance)}`);
        ctx.authz.finance = finance.id;
        expected.push([400, `/api/v1/admin/groups/${finance.id}`]);
        await groupsStatus.filter({ hasText: 'Le groupe « Finance » est créé.' }).waitFor();
        const financeRow = page.locator(`#groups-body tr[data-id="${finance.id}"]`);
        await financeRow.waitFor();
        check(oneLine(await financeRow.locator('td').first().textContent()) === CLAIRE_EMAIL,
          `the members of Finance read "${oneLine(await financeRow.locator('td').first().textContent())}"`);
        // The accounts table names the account's groups.
        const claireGroups = page.locator(`#users-body tr[data-id="${claire.id}"] td[data-groups]`);
        await claireGroups.filter({ hasText: 'Finance' }).waitFor();
        check(await page.getByRole('columnheader', { name: 'Groupes', exact: true }).first().isVisible(), 'no column "Groupes" in the accounts table');

        // A taken name (case ignored).
        await name.fill('FINANCE');
        const [taken] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/groups')),
          form.getByRole('button', { name: 'Créer le groupe' }).click()]);
        check(taken.status() === 409, `a taken group name answered ${taken.status()}`);
        await page.locator('#group-name-error').filter({ hasText: 'Ce nom est déjà utilisé.' }).waitFor();

        // "Direction" includes Finance.
        await name.fill('Direction');
        await inner.getByLabel('Finance', { exact: true }).check();
        const [made2] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/groups')),
          form.getByRole('button', { name: 'Créer le groupe' }).click()]);
        check(made2.status() === 201, `creating Direction answered ${made2.status()}`);
        const direction = (await made2.json()).group;
        check(direction.groups.join() === finance.id, `Direction includes ${JSON.stringify(direction.groups)}`);
        const directionRow = page.locator(`#groups-body tr[data-id="${direction.id}"]`);
        await directionRow.waitFor();
        check(oneLine(await directionRow.locator('td').nth(1).textContent()) === 'Finance', 'Direction does not show Finance as included');

        // Finance including Direction: 400 cycle, said clearly; nothing changes.
        await financeRow.getByRole('button', { name: 'Modifier le groupe « Finance »' }).click();
        await page.locator('#group-form-heading').filter({ hasText: 'Modifier le groupe « Finance »' }).waitFor();
        check((await inner.getByRole('checkbox').count()) === 1, 'the group being edited is offered as included in itself');
        check(await members.getByLabel(CLAIRE_EMAIL, { exact: true }).isChecked(), 'the member of Finance is not ticked');
        await inner.getByLabel('Direction', { exact: true }).check();
        const [cycle] = await Promise.all([page.waitForResponse(answerTo('PATCH', `/api/v1/admin/groups/${finance.id}`)),
          form.getByRole('button', { name: 'Enregistrer' }).click()]);
        check(cycle.status() === 400 && (await cycle.json())?.error?.code === 'cycle', `the cycle answered ${cycle.status()}`);
        await groupsStatus.filter({ hasText: 'Impossible : le groupe « Finance » se contiendrait lui-même, directement ou par un groupe inclus. Rien n’a été modifié.' }).waitFor();
        check((await groupsStatus.getAttribute('data-kind')) === 'error', 'the cycle message is not an error');
        check(/contient déjà/.test(await statusText(page, '#group-groups-error')), 'no error next to the included groups');
        check(oneLine(await financeRow.locator('td').nth(1).textContent()) === 'Aucun', 'Finance shows an included group after the refusal');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(/^Not possible: the group “Finance” would contain itself/.test(await statusText(page, '#groups-status')),
          `the cycle message in English is "${await statusText(page, '#groups-status')}"`);
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');
        await form.getByRole('button', { name: 'Annuler la modification' }).click();
        await page.locator('#group-form-heading').filter({ hasText: 'Nouveau groupe' }).waitFor();

        // Direction renamed, then deleted (confirm()); Finance stays.
        await directionRow.getByRole('button', { name: 'Modifier le groupe « Direction »' }).click();
        await name.fill('Direction générale');
        const [renamed] = await Promise.all([page.waitForResponse(answerTo('PATCH', `/api/v1/admin/groups/${direction.id}`)),
          form.getByRole('button', { name: 'Enregistrer' }).click()]);
        check(renamed.status() === 200, `renaming Direction answered ${renamed.status()}`);
        await groupsStatus.filter({ hasText: 'Le groupe « Direction générale » est enregistré.' }).waitFor();
        await directionRow.locator('th').filter({ hasText: 'Direction générale' }).waitFor();
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [gone] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/groups/${direction.id}`)),
          directionRow.getByRole('button', { name: 'Supprimer le groupe « Direction générale »' }).click()]);
        check(gone.status() === 200, `deleting the group answered ${gone.status()}`);
        await groupsStatus.filter({ hasText: 'Le groupe « Direction générale » est supprimé.' }).waitFor();
        check((await rows.count()) === 1 && (await financeRow.count()) === 1, 'the groups listed after the deletion are not just Finance');

        const sent = changes.map((c) => `${c.method} ${c.path.replace(finance.id, 'FIN').replace(direction.id, 'DIR')} ${JSON.stringify(c.body)}`);
        const want = [
          `POST /api/v1/admin/groups {"members":["${claire.id}"],"groups":[],"name":"Finance"}`,
          'POST /api/v1/admin/groups {"members":[],"groups":[],"name":"FINANCE"}',
          `POST /api/v1/admin/groups {"members":[],"groups":["${finance.id}"],"name":"Direction"}`,
          `PATCH /api/v1/admin/groups/FIN {"members":["${claire.id}"],"groups":["${direction.id}"]}`,
          `PATCH /api/v1/admin/groups/DIR {"members":[],"groups":["${finance.id}"],"name":"Direction générale"}`,
          'DELETE /api/v1/admin/groups/DIR null',
        ];
        check(sent.join('\n') === want.join('\n'), `the changes sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'grants: "Relecteurs" is granted to the group Finance in the whole tenant; the same grant again is refused; the member\'s permission preview then shows audit.read and the group; the role cannot be deleted while granted (role_in_use)',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const relecteurs = needs(ctx, 'relecteurs', 'the role "Relecteurs" of the roles test');
      const finance = needs(ctx, 'finance', 'the group "Finance" of the groups test');
      const claire = await ensureAccount(ctx, CLAIRE_EMAIL, 'member', CLAIRE_PASSWORD);
      await setMfaPolicy(ctx, 'optional');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[400, '/api/v1/admin/grants'], [409, `/api/v1/admin/roles/${relecteurs}`]]);
      try {
        const changes = recordChanges(page, ['/api/v1/admin/grants', '/api/v1/admin/roles']);
        await signIn(page, base);
        await openAdmin(page, base);
        const form = page.locator('#grant-form');
        const grantsStatus = page.locator('#grants-status');
        await page.locator('#grants-empty').filter({ hasText: 'Aucun droit accordé.' }).waitFor();
        const principal = form.getByLabel('Compte ou groupe');
        const role = form.getByLabel('Rôle', { exact: true });
        const scope = form.getByLabel('Portée');
        const submit = form.getByRole('button', { name: 'Accorder' });

        // Nobody chosen: the field's error, nothing sent.
        await submit.click();
        await page.locator('#grant-principal-error').filter({ hasText: /^Choisissez le compte ou le groupe/ }).waitFor();
        check(changes.length === 0, 'a grant without a principal was sent');

        check((await scope.inputValue()) === '', 'the scope is not the whole tenant by default');
        check(oneLine(await scope.locator('option').first().textContent()) === 'Toute l’organisation', 'the first scope is not "Toute l’organisation"');
        await principal.selectOption(`group:${finance}`);
        await role.selectOption(relecteurs);
        const [made] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/grants')), submit.click()]);
        check(made.status() === 201, `POST /api/v1/admin/grants answered ${made.status()}`);
        const grant = (await made.json()).grant;
        check(HEX32_RE.test(grant?.id || '') && grant.group === finance && grant.user === null && grant.role === relecteurs
          && grant.space === null && grant.role_name === 'Relecteurs', `the new grant is ${JSON.stringify(grant)}`);
        ctx.authz.financeGrant = grant.id;
        await grantsStatus.filter({ hasText: 'Rôle « Relecteurs » accordé à Groupe « Finance » (portée : Toute l’organisation).' }).waitFor();
        const row = page.locator(`#grants-body tr[data-id="${grant.id}"]`);
        await row.waitFor();
        const cells = (await row.locator('th, td').allTextContents()).map((c) => oneLine(c));
        check(cells[0] === 'Groupe « Finance »' && cells[1] === 'Relecteurs' && cells[2] === 'Toute l’organisation' && cells[3] !== '',
          `the grant row reads ${JSON.stringify(cells)}`);
        await page.locator(`#roles-body tr[data-id="${relecteurs}"] td`).nth(1).filter({ hasText: /^1$/ }).waitFor();

        // The same grant again: duplicate_grant.
        const [dup] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/grants')), submit.click()]);
        check(dup.status() === 400 && (await dup.json())?.error?.code === 'duplicate_grant', `the same grant again answered ${dup.status()}`);
        await grantsStatus.filter({ hasText: /^Ce droit existe déjà : Groupe « Finance » a déjà le rôle « Relecteurs »/ }).waitFor();
        check((await page.locator('#grants-body tr').count()) === 1, 'the refused grant is listed');

        // The member's permissions: audit.read from the group's grant.
        const claireRow = page.locator(`#users-body tr[data-id="${claire.id}"]`);
        const open = claireRow.getByRole('button', { name: `Permissions de ${CLAIRE_EMAIL}` });
        const [preview] = await Promise.all([
          page.waitForResponse(answerTo('GET', `/api/v1/admin/users/${claire.id}/permissions`)), open.click()]);
        check(preview.status() === 200, `the permission preview answered ${preview.status()}`);
        const panel = page.getByRole('region', { name: `Permissions de ${CLAIRE_EMAIL}` });
        await panel.locator('#preview-body').waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'preview-heading', 'the focus is not on the preview');
        const perms = await permsShown(panel.locator('#preview-perms'));
        check(perms.includes('audit.read') && perms.includes('doc.read') && perms.includes('doc.write') && !perms.includes('user.manage'),
          `the member's permissions show ${perms.join(' ')}`);
        check(oneLine(await panel.locator('#preview-role').textContent()) === 'Membre', 'the preview does not say the role "Membre"');
        check(oneLine(await panel.locator('#preview-groups').textContent()) === 'Finance', `the preview's groups read "${oneLine(await panel.locator('#preview-groups').textContent())}"`);
        check(await panel.locator('#preview-spaces-empty').isVisible(), 'the preview lists spaces for an account without space grants');
        await page.keyboard.press('Escape');
        await panel.waitFor({ state: 'hidden' });
        check((await focusedAction(page)) === `${claire.id}:permissions`, `after closing the preview the focus is on ${await focusedAction(page)}`);

        // The role cannot go while granted.
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [inUse] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/roles/${relecteurs}`)),
          page.locator(`#roles-body tr[data-id="${relecteurs}"]`).getByRole('button', { name: 'Supprimer le rôle « Relecteurs »' }).click()]);
        check(inUse.status() === 409 && (await inUse.json())?.error?.code === 'role_in_use', `deleting a granted role answered ${inUse.status()}`);
        await page.locator('#roles-status').filter({ hasText: 'Impossible de supprimer le rôle « Relecteurs » : il est encore accordé. Révoquez d’abord les droits qui le nomment (section « Droits accordés »).' }).waitFor();
        check((await page.locator(`#roles-body tr[data-id="${relecteurs}"]`).count()) === 1, 'the granted role is gone from the list');

        const sent = changes.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.body)}`);
        const want = [
          `POST /api/v1/admin/grants {"group":"${finance}","role":"${relecteurs}"}`,
          `POST /api/v1/admin/grants {"group":"${finance}","role":"${relecteurs}"}`,
          `DELETE /api/v1/admin/roles/${relecteurs} null`,
        ];
        check(sent.join('\n') === want.join('\n'), `the changes sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'spaces: the owner creates two spaces on the home page and renames one; grants member on the first to the auditor, who (in another browser) sees only that space with doc.read and cannot create one; a space is deleted after confirm(); the grant is revoked and the auditor sees no space',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const audit = await ensureAccount(ctx, AUDIT_EMAIL, 'auditor', AUDIT_PASSWORD);
      await setMfaPolicy(ctx, 'optional');
      const owner = await openPage(browser, { locale: 'fr-FR' });
      const other = await openPage(browser, { locale: 'fr-FR' }, [[403, '/api/v1/spaces']]);
      try {
        const { page } = owner;
        const changes = recordChanges(page, ['/api/v1/spaces', '/api/v1/admin/grants']);
        await signIn(page, base);
        const res = await page.goto(base, { waitUntil: 'load' });
        checkCsp(res, '/');
        await waitI18n(page, 'fr');
        const section = page.getByRole('region', { name: 'Mes espaces' });
        await section.waitFor();
        check(await page.locator('#home-signin').isHidden(), 'the sign-in link shows to a signed-in account');
        check(/^Connecté : owner@acme\.example/.test(oneLine(await page.locator('.home-who').textContent())),
          `the page says "${oneLine(await page.locator('.home-who').textContent())}"`);
        check((await page.getByRole('link', { name: 'Administration' }).getAttribute('href')) === '/admin', 'no Administration link for the owner');
        const items = page.locator('#spaces-list > li');
        await page.locator('#spaces-empty, #spaces-list:not([hidden])').first().waitFor();
        const status = page.locator('#spaces-status');
        const name = section.getByLabel('Nom de l’espace');
        const create = section.getByRole('button', { name: 'Créer l’espace' });
        await page.waitForSelector('#space-submit:not([disabled])');
        const before = await items.count();

        // Nothing typed: the field's error.
        await create.click();
        await page.locator('#space-name-error').filter({ hasText: 'Saisissez le nom de l’espace.' }).waitFor();

        // Two spaces.
        const made = [];
        for (const n of ['Contrats 2026', 'Paie']) {
          await name.fill(n);
          const [r] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/spaces')), name.press('Enter')]);
          check(r.status() === 201, `POST /api/v1/spaces {${n}} answered ${r.status()}`);
          const space = (await r.json()).space;
          check(HEX32_RE.test(space?.id || '') && space.name === n && (space.permissions || []).includes('space.manage'),
            `the new space is ${JSON.stringify(space)}`);
          made.push(space);
          await status.filter({ hasText: `L’espace « ${n} » est créé.` }).waitFor();
        }
        const [contrats, paie] = made;
        ctx.authz = ctx.authz || {};
        ctx.authz.contrats = contrats.id;
        check((await items.count()) === before + 2, `${await items.count()} spaces listed after two creations`);
        const contratsItem = page.locator(`#spaces-list > li[data-id="${contrats.id}"]`);
        const perms = await permsShown(contratsItem);
        check(perms.includes('doc.read') && perms.includes('space.manage'), `the owner's permissions in the space show ${perms.join(' ')}`);

        // Renamed in place; Escape gives up.
        const paieItem = page.locator(`#spaces-list > li[data-id="${paie.id}"]`);
        await paieItem.getByRole('button', { name: 'Renommer l’espace « Paie »' }).click();
        const field = page.getByLabel('Nouveau nom de l’espace « Paie »');
        check((await page.evaluate(() => document.activeElement?.id)) === `rename-${paie.id}`, 'the focus is not in the rename field');
        await page.keyboard.press('Escape');
        await field.waitFor({ state: 'detached' });
        check((await focusedAction(page)) === `${paie.id}:rename`, `after Escape the focus is on ${await focusedAction(page)}`);
        await paieItem.getByRole('button', { name: 'Renommer l’espace « Paie »' }).click();
        await field.fill('Paie 2026');
        const [renamed] = await Promise.all([page.waitForResponse(answerTo('PATCH', `/api/v1/spaces/${paie.id}`)), field.press('Enter')]);
        check(renamed.status() === 200, `PATCH of the space answered ${renamed.status()}`);
        await status.filter({ hasText: 'L’espace « Paie » s’appelle maintenant « Paie 2026 ».' }).waitFor();
        await paieItem.locator('h3').filter({ hasText: /^Paie 2026$/ }).waitFor();

        // The auditor gets member on "Contrats 2026" (from /admin).
        await openAdmin(page, base);
        const form = page.locator('#grant-form');
        await form.getByLabel('Portée').locator(`option[value="${contrats.id}"]`).waitFor({ state: 'attached' });
        await form.getByLabel('Compte ou groupe').selectOption(`user:${audit.id}`);
        await form.getByLabel('Rôle', { exact: true }).selectOption('member');
        await form.getByLabel('Portée').selectOption(contrats.id);
        const [granted] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/grants')),
          form.getByRole('button', { name: 'Accorder' }).click()]);
        check(granted.status() === 201, `granting member on the space answered ${granted.status()}`);
        const grant = (await granted.json()).grant;
        check(grant?.user === audit.id && grant.space === contrats.id && grant.role === 'member', `the grant is ${JSON.stringify(grant)}`);
        const grantRow = page.locator(`#grants-body tr[data-id="${grant.id}"]`);
        await grantRow.waitFor();
        const cells = (await grantRow.locator('th, td').allTextContents()).map((c) => oneLine(c));
        check(cells[0] === AUDIT_EMAIL && cells[1] === 'Membre' && cells[2] === 'Contrats 2026', `the grant row reads ${JSON.stringify(cells)}`);
        // The auditor's preview: the space, with doc.read there.
        await page.locator(`#users-body tr[data-id="${audit.id}"]`).getByRole('button', { name: `Permissions de ${AUDIT_EMAIL}` }).click();
        const spaceLine = page.locator(`#preview-spaces > li[data-id="${contrats.id}"]`);
        await spaceLine.waitFor();
        check((await permsShown(spaceLine)).includes('doc.read'), 'the auditor\'s preview does not show doc.read in the space');
        check(!(await permsShown(page.locator('#preview-perms'))).includes('doc.read'), 'the auditor holds doc.read in the whole tenant');

        // The auditor, in another browser: only that space, read-only, and no creation.
        await signIn(other.page, base, AUDIT_PASSWORD, AUDIT_EMAIL);
        await other.page.goto(base, { waitUntil: 'load' });
        await waitI18n(other.page, 'fr');
        const theirs = other.page.locator('#spaces-list > li');
        await theirs.first().waitFor();
        const names = (await theirs.locator('h3').allTextContents()).map((x) => x.trim());
        check(names.join() === 'Contrats 2026', `the auditor sees the spaces ${JSON.stringify(names)}`);
        const auditPerms = await permsShown(theirs.first());
        check(auditPerms.includes('doc.read') && !auditPerms.includes('space.manage'), `the auditor's permissions there show ${auditPerms.join(' ')}`);
        check((await theirs.first().getByRole('button').count()) === 0, 'the auditor is offered to rename or delete the space');
        check(await other.page.locator('#home-admin-link').isHidden(), 'the auditor sees the Administration link');
        await other.page.getByLabel('Nom de l’espace').fill('Audit');
        const [refused] = await Promise.all([other.page.waitForResponse(answerTo('POST', '/api/v1/spaces')),
          other.page.getByRole('button', { name: 'Créer l’espace' }).click()]);
        check(refused.status() === 403, `the auditor's space creation answered ${refused.status()}`);
        await other.page.locator('#space-create-denied').waitFor();
        check(await other.page.locator('#space-form').isHidden(), 'the creation form stays after the 403');
        check((await statusText(other.page, '#space-create-denied')) === 'Votre rôle ne permet pas de créer des espaces.',
          `the auditor's page says "${await statusText(other.page, '#space-create-denied')}"`);
        check((await other.page.evaluate(() => document.activeElement?.id)) === 'space-create-denied',
          'the focus is not on the reason the form went');
        check((await theirs.count()) === 1, 'the refused space is listed');

        // The owner deletes "Paie 2026" from the home page (confirm()).
        await page.goto(base, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        const remove = paieItem.getByRole('button', { name: 'Supprimer l’espace « Paie 2026 »' });
        await remove.waitFor();
        const asked = [];
        page.once('dialog', (d) => {
          asked.push(d.message());
          d.dismiss().catch(() => {});
        });
        await remove.click();
        await sleep(300);
        check(asked.length === 1 && /Paie 2026/.test(asked[0]) && /définitive/.test(asked[0]), `"Supprimer" asked ${JSON.stringify(asked)}`);
        check(!changes.some((c) => c.method === 'DELETE'), 'the space was deleted although the dialog was dismissed');
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [gone] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/spaces/${paie.id}`)), remove.click()]);
        check(gone.status() === 200, `DELETE of the space answered ${gone.status()}`);
        await page.locator('#spaces-status').filter({ hasText: 'L’espace « Paie 2026 » est supprimé.' }).waitFor();
        check((await paieItem.count()) === 0, 'the deleted space is still listed');
        check((await page.evaluate(() => document.activeElement?.id)) === 'spaces-heading', 'after the deletion the focus is not on "Mes espaces"');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check(await page.getByRole('heading', { name: 'My spaces' }).isVisible(), 'no "My spaces" heading in English');
        check(await contratsItem.getByRole('button', { name: 'Rename the space “Contrats 2026”' }).isVisible(), 'the buttons are not redrawn in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        // The grant revoked: the auditor has no space left.
        await openAdmin(page, base);
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [revoked] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/grants/${grant.id}`)),
          grantRow.getByRole('button', { name: `Révoquer le rôle « Membre » de ${AUDIT_EMAIL} (portée : Contrats 2026)` }).click()]);
        check(revoked.status() === 200, `revoking the grant answered ${revoked.status()}`);
        await page.locator('#grants-status').filter({ hasText: `Le rôle « Membre » de ${AUDIT_EMAIL} est révoqué (portée : Contrats 2026).` }).waitFor();
        check((await grantRow.count()) === 0, 'the revoked grant is still listed');
        await other.page.reload({ waitUntil: 'load' });
        await other.page.locator('#spaces-empty').filter({ hasText: 'Vous n’avez accès à aucun espace pour le moment.' }).waitFor();

        const sent = changes.map((c) => `${c.method} ${c.path.replace(/[0-9a-f]{32}/, 'ID')} ${JSON.stringify(c.body)}`);
        const want = [
          'POST /api/v1/spaces {"name":"Contrats 2026"}',
          'POST /api/v1/spaces {"name":"Paie"}',
          'PATCH /api/v1/spaces/ID {"name":"Paie 2026"}',
          `POST /api/v1/admin/grants {"user":"${audit.id}","role":"member","space":"${contrats.id}"}`,
          'DELETE /api/v1/spaces/ID null',
          'DELETE /api/v1/admin/grants/ID null',
        ];
        check(sent.join('\n') === want.join('\n'), `the changes sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');
        await settle(page);
        await settle(other.page);
        await secretNowhere(page, owner.urls, owner.consoleText, OWNER_PASSWORD);
        await secretNowhere(other.page, other.urls, other.consoleText, AUDIT_PASSWORD);
        noProblems(owner.problems);
        noProblems(other.problems);
      } finally {
        await other.context.close();
        await owner.context.close();
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'no escalation: an administrator cannot create a role holding tenant.export (permission_not_held) nor grant the role owner (role_not_allowed), and is told so; it revokes the Finance grant and then deletes "Relecteurs"',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      const relecteurs = needs(ctx, 'relecteurs', 'the role "Relecteurs" of the roles test');
      const financeGrant = needs(ctx, 'financeGrant', 'the grant to Finance of the grants test');
      const claire = await ensureAccount(ctx, CLAIRE_EMAIL, 'member', CLAIRE_PASSWORD);
      const audit = await ensureAccount(ctx, AUDIT_EMAIL, 'auditor', AUDIT_PASSWORD);
      await setMfaPolicy(ctx, 'optional');
      const owner = await apiSignIn(port, OWNER_EMAIL, OWNER_PASSWORD);
      const setRole = async (r) => {
        const res = await apiTenant(port, 'PATCH', `/api/v1/admin/users/${claire.id}`, { ...owner, body: { role: r } });
        check(res.status === 200, `making ${CLAIRE_EMAIL} ${r} answered ${res.status} ${res.body?.error?.code ?? ''}`);
      };
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[403, '/api/v1/admin/roles'], [403, '/api/v1/admin/grants']]);
      try {
        await setRole('admin');
        const changes = recordChanges(page, ['/api/v1/admin/roles', '/api/v1/admin/grants']);
        await signIn(page, base, CLAIRE_PASSWORD, CLAIRE_EMAIL);
        await openAdmin(page, base);
        await page.locator(`#roles-body tr[data-id="${relecteurs}"]`).waitFor();

        // A role holding tenant.export, which an administrator lacks.
        const form = page.locator('#role-form');
        await form.getByLabel('Nom du rôle').fill('Export');
        await form.getByLabel(/^Exporter toutes les données/).check();
        const [notHeld] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/roles')),
          form.getByRole('button', { name: 'Créer le rôle' }).click()]);
        check(notHeld.status() === 403 && (await notHeld.json())?.error?.code === 'permission_not_held',
          `a role beyond the administrator's permissions answered ${notHeld.status()}`);
        await page.locator('#roles-status').filter({ hasText: /^Refusé : vous ne pouvez créer, modifier ou supprimer un rôle que si vous détenez vous-même/ }).waitFor();
        check((await page.locator('#roles-body tr').count()) === 6, 'the refused role is listed');

        // The role owner granted: role_not_allowed.
        const grant = page.locator('#grant-form');
        await grant.getByLabel('Compte ou groupe').selectOption(`user:${audit.id}`);
        await grant.getByLabel('Rôle', { exact: true }).selectOption('owner');
        const [notAllowed] = await Promise.all([page.waitForResponse(answerTo('POST', '/api/v1/admin/grants')),
          grant.getByRole('button', { name: 'Accorder' }).click()]);
        check(notAllowed.status() === 403 && (await notAllowed.json())?.error?.code === 'role_not_allowed',
          `granting owner as an administrator answered ${notAllowed.status()}`);
        await page.locator('#grants-status').filter({ hasText: 'Refusé : vous ne pouvez accorder ou révoquer le rôle « Propriétaire » que si vous détenez vous-même toutes ses permissions dans cette portée.' }).waitFor();

        // What it holds, it may: the Finance grant revoked, then "Relecteurs" deleted.
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [revoked] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/grants/${financeGrant}`)),
          page.locator(`#grants-body tr[data-id="${financeGrant}"]`).getByRole('button', { name: /^Révoquer le rôle « Relecteurs » de Groupe « Finance »/ }).click()]);
        check(revoked.status() === 200, `revoking the Finance grant answered ${revoked.status()}`);
        await page.locator('#grants-empty').waitFor();
        page.once('dialog', (d) => d.accept().catch(() => {}));
        const [removed] = await Promise.all([page.waitForResponse(answerTo('DELETE', `/api/v1/admin/roles/${relecteurs}`)),
          page.locator(`#roles-body tr[data-id="${relecteurs}"]`).getByRole('button', { name: 'Supprimer le rôle « Relecteurs »' }).click()]);
        check(removed.status() === 200, `deleting the role once ungranted answered ${removed.status()}`);
        await page.locator('#roles-status').filter({ hasText: 'Le rôle « Relecteurs » est supprimé.' }).waitFor();
        check((await page.locator('#roles-body tr').count()) === 5, 'the roles listed are not the 5 built-in ones');

        check(changes.length === 4 && changes.every((c) => CSRF_RE.test(c.csrf)), `the changes sent were ${changes.map((c) => `${c.method} ${c.path}`).join(', ')}`);
        await settle(page);
        await secretNowhere(page, urls, consoleText, CLAIRE_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await setRole('member').catch(() => {});
        await setMfaPolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'security settings: the owner sees the defaults with their ranges; unticks three upload types and raises history; saving asks for the password; the new values show, survive a reload and are those of the API',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      await restorePolicy(ctx, 'optional');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[403, SETTINGS_PATH]]);
      try {
        const changes = recordChanges(page, [SETTINGS_PATH]);
        await signIn(page, base);
        await openAdmin(page, base);
        const section = page.getByRole('region', { name: 'Réglages de sécurité', exact: true });
        const form = page.locator('#security-form');
        await form.waitFor();
        check(await page.locator('.page-nav').getByRole('link', { name: 'Réglages de sécurité' }).isVisible(),
          'no link "Réglages de sécurité" among the links to the parts of the page');
        check(await section.getByRole('heading', { name: 'Réglages de sécurité' }).isVisible(), 'no heading "Réglages de sécurité"');

        // The defaults (mfa as this test set it), every field filled in.
        const defaults = {
          mfa: 'optional',
          ...Object.fromEntries(Object.entries(POLICY_DEFAULTS).filter(([, v]) => !Array.isArray(v)).map(([k, v]) => [k, String(v)])),
          admin_ips: '',
          upload_types: UPLOAD_TYPES,
        };
        const first = await settingsShown(page);
        check(JSON.stringify(first) === JSON.stringify(defaults), `the form shows ${JSON.stringify(first)}`);
        check(await form.getByLabel('Personne : elle reste facultative').isChecked(), 'the 2FA choice "optional" is not checked');

        // Each field's allowed range (the contract's) in its help text.
        const ranges = {
          password_min: /^De 12 à 128 ; 12 par défaut/,
          password_min_admin: /^De 16 à 128 ; 16 par défaut/,
          password_score: /^3 ou 4 ; 3 par défaut/,
          max_age_days: /^De 0 à 365 ; 0 par défaut/,
          max_age_days_admin: /^De 1 à 365 ; 365 par défaut/,
          history: /^De 0 à 24 ; 5 par défaut/,
          session_idle_minutes: /^De 1 à 30 ; 30 par défaut/,
          session_max_hours: /^De 1 à 12 ; 12 par défaut/,
          lockout_failures: /^De 3 à 5 ; 5 par défaut/,
          admin_ips: /32 au plus\. Vide \(par défaut\) : toutes les adresses/,
          upload_types: /^Les types de fichiers que les documents acceptent ; tous par défaut/,
          mfa: /par défaut : les propriétaires et administrateurs/,
        };
        const helps = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#security-form [data-setting]')]
          .map((el) => [el.dataset.setting, (el.getAttribute('aria-describedby') || '').split(' ')
            .map((id) => document.getElementById(id)?.textContent || '').join(' ').trim()])));
        for (const [name, re] of Object.entries(ranges)) {
          check(re.test(helps[name] || ''), `the help of ${name} reads "${helps[name]}"`);
        }
        const history = form.getByLabel('Anciens mots de passe interdits');
        check((await history.getAttribute('min')) === '0' && (await history.getAttribute('max')) === '24',
          'the history field does not carry min 0 and max 24');

        // Nothing changed: said, nothing sent.
        const save = form.getByRole('button', { name: 'Enregistrer les réglages' });
        const status = page.locator('#security-status');
        await save.click();
        await status.filter({ hasText: 'Aucune modification à enregistrer.' }).waitFor();
        check(changes.length === 0, 'an unchanged form was sent');

        // Three types unticked, history raised; the proof aged: the password dialog, then 200.
        await form.getByLabel(/^Image GIF/).uncheck();
        await form.getByLabel(/^Image WebP/).uncheck();
        await form.getByLabel(/^Présentation PowerPoint/).uncheck();
        await history.fill('8');
        await ageProofs(ctx);
        const dialog = page.getByRole('dialog', { name: 'Confirmez votre mot de passe' });
        await save.click();
        await dialog.waitFor();
        check((await page.evaluate(() => document.activeElement?.id)) === 'stepup-password', 'the dialog\'s field is not focused');
        await dialog.getByLabel('Mot de passe').fill(OWNER_PASSWORD);
        const [saved] = await Promise.all([
          page.waitForResponse((r) => answerTo('PATCH', SETTINGS_PATH)(r) && r.status() !== 403),
          dialog.getByLabel('Mot de passe').press('Enter'),
        ]);
        check(saved.status() === 200, `the PATCH after the step-up answered ${saved.status()}`);
        await status.filter({ hasText: /^Réglages de sécurité enregistrés\./ }).waitFor();
        check((await status.getAttribute('data-kind')) === 'ok', 'the saved message is not an "ok" message');
        check((await page.evaluate(() => document.activeElement?.id)) === 'security-heading',
          `after saving the focus is on "${await page.evaluate(() => document.activeElement?.id)}"`);
        const kept = UPLOAD_TYPES.filter((x) => !['gif', 'webp', 'pptx'].includes(x));
        const want = { ...defaults, history: '8', upload_types: kept };
        const after = await settingsShown(page);
        check(JSON.stringify(after) === JSON.stringify(want), `after saving the form shows ${JSON.stringify(after)}`);

        // One PATCH with only the changed fields (sent twice: before and after the password).
        const sent = changes.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.body)}`);
        const body = JSON.stringify({ history: 8, upload_types: kept });
        check(sent.length === 2 && sent.every((x) => x === `PATCH ${SETTINGS_PATH} ${body}`),
          `the changes sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => CSRF_RE.test(c.csrf)), 'a change was sent without a 64-hex X-CSRF-Token');

        // The API says the same.
        const api = await policyOf(port, await sessionCookie(context));
        check(JSON.stringify(api.upload_types) === JSON.stringify(kept), `the API's upload_types are ${JSON.stringify(api.upload_types)}`);
        check(api.history === 8 && api.lockout_failures === 5 && api.mfa === 'optional' && api.admin_ips.length === 0,
          `the API's policy is ${JSON.stringify(api)}`);

        // A reload shows the values kept.
        await openAdmin(page, base);
        await form.waitFor();
        const reloaded = await settingsShown(page);
        check(JSON.stringify(reloaded) === JSON.stringify(want), `after a reload the form shows ${JSON.stringify(reloaded)}`);
        check(!(await form.getByLabel(/^Image GIF/).isChecked()) && (await form.getByLabel(/^Document PDF/).isChecked()),
          'after a reload the ticks are not those saved');

        // In English.
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        const en = page.getByRole('region', { name: 'Security settings', exact: true });
        check(await en.getByRole('heading', { name: 'Security settings' }).isVisible(), 'no heading "Security settings"');
        check((await en.getByLabel('Earlier passwords refused').inputValue()) === '8', 'the history field is not labelled in English');
        check(/^From 3 to 5; 5 by default/.test(await statusText(page, '#security-lockout-failures-help')),
          `the lockout help reads "${await statusText(page, '#security-lockout-failures-help')}" in English`);
        check(await en.getByLabel(/^GIF image/).isVisible(), 'the upload types are not named in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await restorePolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'security settings: a value out of range (lockout_failures 2, history 25), an invalid admin address and a list without one\'s own address are refused, said at the field, and change nothing; a step-up called off changes nothing',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      await restorePolicy(ctx, 'optional');
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[400, SETTINGS_PATH], [409, SETTINGS_PATH], [403, SETTINGS_PATH]]);
      try {
        const changes = recordChanges(page, [SETTINGS_PATH]);
        await signIn(page, base);
        await openAdmin(page, base);
        const form = page.locator('#security-form');
        await form.waitFor();
        const cookie = await sessionCookie(context);
        const before = JSON.stringify(await policyOf(port, cookie));
        const unchanged = async (what) => {
          const now = JSON.stringify(await policyOf(port, cookie));
          check(now === before, `after ${what} the policy is ${now}`);
        };
        const save = form.getByRole('button', { name: 'Enregistrer les réglages' });
        const status = page.locator('#security-status');
        const history = form.getByLabel('Anciens mots de passe interdits');
        const lockout = form.getByLabel('Échecs de connexion avant verrouillage');
        const ips = form.getByLabel('Adresses autorisées pour l’administration');
        const patched = () => page.waitForResponse(answerTo('PATCH', SETTINGS_PATH));
        const focused = () => page.evaluate(() => document.activeElement?.id);

        // Not a number: the field's error, nothing sent.
        await history.fill('');
        await save.click();
        await page.locator('#security-history-error').filter({ hasText: 'Saisissez un nombre entier.' }).waitFor();
        check((await history.getAttribute('aria-invalid')) === 'true', 'the empty history field is not aria-invalid');
        check(changes.length === 0, 'a form with an empty number was sent');

        // lockout_failures 2 (with history 7): 400 invalid_setting, the field marked, nothing saved.
        await history.fill('7');
        check((await history.getAttribute('aria-invalid')) === null, 'the corrected field keeps its error');
        await lockout.fill('2');
        const [low] = await Promise.all([patched(), save.click()]);
        check(low.status() === 400 && (await low.json())?.error?.code === 'invalid_setting',
          `lockout_failures 2 answered ${low.status()}`);
        await page.locator('#security-lockout-failures-error').filter({ hasText: 'Refusé : un nombre entier de 3 à 5.' }).waitFor();
        check((await lockout.getAttribute('aria-invalid')) === 'true', 'the refused field is not aria-invalid');
        check((await focused()) === 'security-lockout-failures', `after the refusal the focus is on "${await focused()}"`);
        await status.filter({ hasText: 'Rien n’a été enregistré : la valeur de « Échecs de connexion avant verrouillage » est refusée. Corrigez-la et réessayez.' }).waitFor();
        check((await history.inputValue()) === '7' && (await lockout.inputValue()) === '2', 'the form does not keep what was typed');
        check((await page.locator('[aria-invalid="true"]').count()) === 1, 'another field is marked as refused');
        await unchanged('a refused lockout_failures');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        await status.filter({ hasText: 'Nothing was saved: the value of “Failed sign-ins before lockout” is refused. Correct it and try again.' }).waitFor();
        check((await statusText(page, '#security-lockout-failures-error')) === 'Refused: a whole number from 3 to 5.',
          'the field\'s error is not redrawn in English');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'fr');

        // "Annuler les modifications": the saved values again, the marks gone.
        await form.getByRole('button', { name: 'Annuler les modifications' }).click();
        await status.filter({ hasText: 'Le formulaire montre de nouveau les réglages enregistrés.' }).waitFor();
        check((await history.inputValue()) === '5' && (await lockout.inputValue()) === '5', 'the form is not back to the saved values');
        check((await page.locator('#security-form [aria-invalid="true"]').count()) === 0, 'a field stays marked after the reset');

        // history 25: above the declared maximum, 400 bad_request naming the field.
        await history.fill('25');
        const [high] = await Promise.all([patched(), save.click()]);
        check(high.status() === 400, `history 25 answered ${high.status()}`);
        await page.locator('#security-history-error').filter({ hasText: 'Refusé : un nombre entier de 0 à 24.' }).waitFor();
        await status.filter({ hasText: /la valeur de « Anciens mots de passe interdits » est refusée/ }).waitFor();
        await history.fill('5');

        // An invalid address: 400 invalid_setting naming admin_ips.
        await ips.fill('999.1.1.1');
        const [badIp] = await Promise.all([patched(), save.click()]);
        check(badIp.status() === 400 && (await badIp.json())?.error?.code === 'invalid_setting',
          `the address 999.1.1.1 answered ${badIp.status()}`);
        await page.locator('#security-admin-ips-error').filter({ hasText: /^Refusé : une adresse IP ou une plage CIDR valable par ligne/ }).waitFor();
        check((await ips.getAttribute('aria-invalid')) === 'true', 'the refused address list is not aria-invalid');
        check((await focused()) === 'security-admin-ips', `after the refused address the focus is on "${await focused()}"`);
        await status.filter({ hasText: /la valeur de « Adresses autorisées pour l’administration » est refusée/ }).waitFor();
        await unchanged('a refused address');

        // A valid list without this browser's address: 409 would_lock_you_out.
        await ips.fill('192.0.2.0/24\n\n  198.51.100.7  ');
        const [lock] = await Promise.all([patched(), save.click()]);
        check(lock.status() === 409 && (await lock.json())?.error?.code === 'would_lock_you_out',
          `a list without 127.0.0.1 answered ${lock.status()}`);
        await status.filter({ hasText: /^Rien n’a été enregistré : cette liste ne contient pas l’adresse IP d’où vous êtes connecté/ }).waitFor();
        check((await statusText(page, '#security-admin-ips-error')) === 'Votre propre adresse IP n’est pas dans cette liste.',
          `the address list's error reads "${await statusText(page, '#security-admin-ips-error')}"`);
        await unchanged('a list that would lock the owner out');
        await ips.fill('');

        // The password dialog called off: nothing saved.
        await lockout.fill('4');
        await ageProofs(ctx);
        const dialog = page.getByRole('dialog', { name: 'Confirmez votre mot de passe' });
        await save.click();
        await dialog.waitFor();
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        await status.filter({ hasText: /^Rien n.a été modifié/ }).waitFor();
        check((await focused()) === 'security-submit', `after Escape the focus is on "${await focused()}"`);
        await unchanged('a step-up called off');

        const sent = changes.map((c) => JSON.stringify(c.body));
        const want = [
          '{"history":7,"lockout_failures":2}',
          '{"history":25}',
          '{"admin_ips":["999.1.1.1"]}',
          '{"admin_ips":["192.0.2.0/24","198.51.100.7"]}',
          '{"lockout_failures":4}',
        ];
        check(sent.join('\n') === want.join('\n'), `the bodies sent were ${sent.join(' ; ')}`);
        check(changes.every((c) => c.method === 'PATCH' && CSRF_RE.test(c.csrf)), 'a change was not a PATCH with the CSRF token');
        await settle(page);
        await secretNowhere(page, urls, consoleText, OWNER_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
        await restorePolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'security settings: an auditor (no settings.security) gets no section and no settings request, and the API refuses it; a 403 to the owner\'s page hides the section and its link',
    async run(ctx) {
      const { browser, base, port } = ctx;
      await ensureOwnerPassword(ctx);
      await restorePolicy(ctx, 'optional');
      try {
        await ensureAccount(ctx, AUDIT_EMAIL, 'auditor', AUDIT_PASSWORD);
        const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' });
        try {
          const adminCalls = [];
          page.on('request', (req) => {
            const p = new URL(req.url()).pathname;
            if (p.startsWith('/api/v1/admin/')) adminCalls.push(`${req.method()} ${p}`);
          });
          await signIn(page, base, AUDIT_PASSWORD, AUDIT_EMAIL);
          const res = await page.goto(`${base}admin`, { waitUntil: 'load' });
          checkCsp(res, '/admin');
          await waitI18n(page, 'fr');
          await page.locator('#admin-denied').waitFor();
          await settle(page);
          check(await page.locator('#security').isHidden(), 'the auditor sees the security settings');
          check(await page.locator('[data-nav="security"]').isHidden(), 'the auditor sees the link to the security settings');
          check(adminCalls.length === 0, `the page asked ${adminCalls.join(', ')} for an auditor`);

          // The API refuses it too, and nothing changes.
          const auditor = await apiSignIn(port, AUDIT_EMAIL, AUDIT_PASSWORD);
          const read = await apiTenant(port, 'GET', SETTINGS_PATH, auditor);
          check(read.status === 403 && read.body?.error?.code === 'forbidden',
            `GET ${SETTINGS_PATH} as the auditor answered ${read.status} ${read.body?.error?.code}`);
          const write = await apiTenant(port, 'PATCH', SETTINGS_PATH, { ...auditor, body: { history: 9 } });
          check(write.status === 403 && write.body?.error?.code === 'forbidden',
            `PATCH ${SETTINGS_PATH} as the auditor answered ${write.status} ${write.body?.error?.code}`);
          const owner = await apiSignIn(port, OWNER_EMAIL, OWNER_PASSWORD);
          check((await policyOf(port, owner.cookie)).history === 5, 'the auditor\'s PATCH changed history');
          await secretNowhere(page, urls, consoleText, AUDIT_PASSWORD);
          noProblems(problems);
        } finally {
          await context.close();
        }

        // The owner's page, the settings answered 403 forbidden (as to a
        // principal that lacks settings.security): no section, no link.
        const other = await openPage(browser, { locale: 'fr-FR' }, [[403, SETTINGS_PATH]]);
        try {
          await other.page.route(`${base}api/v1/admin/settings/security`, (route) => route.fulfill({
            status: 403,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'forbidden', message: 'permission required: settings.security' } }),
          }));
          await signIn(other.page, base);
          const asked = other.page.waitForResponse(answerTo('GET', SETTINGS_PATH));
          await openAdmin(other.page, base);
          check((await asked).status() === 403, 'the routed settings request did not answer 403');
          await settle(other.page);
          check(await other.page.locator('#security').isHidden(), 'the section shows after a 403');
          check(await other.page.locator('[data-nav="security"]').isHidden(), 'the link to the section shows after a 403');
          check(await other.page.locator('#users-table').isVisible(), 'the accounts table went with the section');
          check((await statusText(other.page, '#admin-status')) === '', `the page says "${await statusText(other.page, '#admin-status')}"`);
          noProblems(other.problems);
        } finally {
          await other.context.close();
        }
      } finally {
        await restorePolicy(ctx, 'admins');
      }
    },
  },
  {
    name: 'strength meter: a refused password never gets a good word or bar, whatever its score; the checklist marks the rules it fails (minimum length, e-mail, organisation, common list) and every rule met once accepted, in French and English',
    async run(ctx) {
      const { browser, base } = ctx;
      await ensureOwnerPassword(ctx);
      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' });
      try {
        await signIn(page, base);
        await waitI18n(page, 'fr');
        const fresh = page.locator('#password-new');
        const box = page.locator('#password-strength');
        const described = (await fresh.getAttribute('aria-describedby')) || '';
        check(described.split(' ').includes('password-strength-checks'),
          `the new password field is described by "${described}"`);
        // The verdict shown once the answer for `pw` arrived.
        const verdictFor = async (pw, acceptable) => {
          await fresh.fill('');
          await fresh.fill(pw);
          await page.locator(`#password-strength[data-acceptable="${acceptable}"]`).waitFor();
          await page.locator('#password-strength-checks:not([hidden])').waitFor();
          const checks = await page.locator('#password-strength-checks li').evaluateAll((lis) => lis.map((li) => ({
            rule: li.getAttribute('data-rule'),
            ok: li.getAttribute('data-ok') === 'true',
            text: li.textContent.trim(),
          })));
          return {
            level: await statusText(page, '#password-strength-level'),
            verdict: await statusText(page, '#password-strength-verdict'),
            score: await page.locator('#password-strength-meter').getAttribute('data-score'),
            value: await page.locator('#password-strength-meter').evaluate((m) => m.value),
            checks,
            failed: checks.filter((c) => !c.ok).map((c) => c.rule).sort().join(),
          };
        };
        const refused = (v, what) => {
          check(v.level === '' && !/Excellent|Bonne|Good/.test(`${v.level} ${v.verdict}`),
            `${what}: the meter says "${v.level} ${v.verdict}" for a refused password`);
          check(v.verdict === 'Pas encore suffisant.' || v.verdict === 'Not strong enough yet.',
            `${what}: the verdict is "${v.verdict}"`);
          check(['0', '1'].includes(v.score) && v.value <= 1, `${what}: the bar shows score ${v.score} (${v.value})`);
        };

        // Short: the length rule fails and names the owner's minimum.
        let v = await verdictFor('Tambour7', false);
        refused(v, 'a short password');
        const length = v.checks.find((c) => c.rule === 'length');
        check(length && !length.ok && /Au moins 16 caractères$/.test(length.text),
          `the length rule reads ${JSON.stringify(length)}`);
        check(v.checks.every((c) => /^[\u2713\u2717](Respectée|À corriger) : /.test(c.text)),
          `the checklist items read ${JSON.stringify(v.checks.map((c) => c.text))}`);

        // Long and hard to guess, but holding the e-mail's local part:
        // zxcvbn scores it high, the server refuses it.
        v = await verdictFor('owner-Violet-tambour-glacier-47-mirabelle', false);
        refused(v, 'a password with the e-mail');
        check(v.failed === 'email', `with the e-mail, the rules failed are "${v.failed}" (${JSON.stringify(v.checks)})`);
        check(v.checks.find((c) => c.rule === 'length')?.ok
          && /Au moins 16 caractères$/.test(v.checks.find((c) => c.rule === 'length').text),
        `the length rule reads ${JSON.stringify(v.checks.find((c) => c.rule === 'length'))}`);
        check(['tenant', 'common', 'guess'].every((r) => v.checks.some((c) => c.rule === r && c.ok)),
          `the rules met are ${JSON.stringify(v.checks)}`);

        // The organisation's name.
        v = await verdictFor('Acme-violet-tambour-glacier-47-mirabelle', false);
        refused(v, 'a password with the organisation');
        check(v.failed === 'tenant', `with the organisation, the rules failed are "${v.failed}"`);

        // A common password.
        v = await verdictFor(WEAK_PASSWORD, false);
        refused(v, 'a common password');
        check(v.failed.split(',').includes('common'), `for "${WEAK_PASSWORD}", the rules failed are "${v.failed}"`);

        // Accepted: the score's word, every rule met.
        v = await verdictFor(SECOND_NEW_PASSWORD, true);
        check(/^(Bonne|Excellente)\.$/.test(v.level) && v.verdict === 'Ce mot de passe convient.',
          `an accepted password reads "${v.level} ${v.verdict}"`);
        check(v.failed === '' && ['3', '4'].includes(v.score), `accepted: failed "${v.failed}", score ${v.score}`);

        // English, redrawn on the switch.
        await fresh.fill('');
        await fresh.fill('owner-Violet-tambour-glacier-47-mirabelle');
        await page.locator('#password-strength[data-acceptable="false"]').waitFor();
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        const english = await page.locator('#password-strength-checks li').evaluateAll((lis) => lis.map((li) => li.textContent.trim()));
        check(english.includes('\u2713Met: At least 16 characters')
          && english.includes('\u2717To fix: Does not contain your e-mail address'),
        `the checklist in English reads ${JSON.stringify(english)}`);
        check((await statusText(page, '#password-strength-label')) === 'Not strong enough yet.',
          `the verdict in English reads "${await statusText(page, '#password-strength-label')}"`);
        await fresh.fill('');
        await secretNowhere(page, urls, consoleText, SECOND_NEW_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'login: a locked account gets the same message as a wrong password or an unknown address, saying that accounts lock after several failures and what to do, in French and English',
    async run(ctx) {
      const { browser, base, port } = ctx;
      if (!ctx.locked) {
        const out = await coffre(['tenant', 'owner', TENANT_SLUG, LOCKED_EMAIL, '--data', ctx.data]);
        const res = await postTenant(port, TENANT_SLUG, '/api/v1/auth/setup', {
          token: setupToken(out),
          password: LOCKED_PASSWORD,
        });
        check(res.status === 200, `the account's setup answered ${res.status} ${res.body?.error?.code ?? ''}`);
        ctx.locked = true;
      }
      // Locked by failed sign-ins: then the right password is refused too,
      // with the answer of a wrong one.
      for (let i = 0; i < POLICY_DEFAULTS.lockout_failures; i++) {
        const res = await postTenant(port, TENANT_SLUG, '/api/v1/auth/login', { email: LOCKED_EMAIL, password: WRONG_PASSWORD });
        check(res.status === 401, `wrong password ${i + 1} answered ${res.status}`);
      }
      const right = await postTenant(port, TENANT_SLUG, '/api/v1/auth/login', { email: LOCKED_EMAIL, password: LOCKED_PASSWORD });
      check(right.status === 401 && right.body?.error?.code === 'invalid_credentials',
        `the locked account's right password answered ${right.status} ${right.body?.error?.code ?? ''}`);

      const { context, page, problems, urls, consoleText } = await openPage(browser, { locale: 'fr-FR' },
        [[401, '/api/v1/auth/login']]);
      try {
        await page.goto(`${base}login`, { waitUntil: 'load' });
        await waitI18n(page, 'fr');
        const form = page.locator('#login-form');
        const said = async (email, password) => {
          await form.getByLabel('Adresse e-mail').fill(email);
          await form.getByLabel('Mot de passe').fill(password);
          await page.evaluate(() => { document.getElementById('login-status').textContent = ''; });
          await Promise.all([
            page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login'),
            page.locator('#login-submit').click(),
          ]);
          await page.waitForFunction(() => document.getElementById('login-submit')?.disabled === false
            && document.getElementById('login-status')?.textContent !== '');
          return statusText(page, '#login-status');
        };
        const locked = await said(LOCKED_EMAIL, LOCKED_PASSWORD);
        check(locked === LOGIN_REFUSED.fr, `the locked account got "${locked}"`);
        check(new URL(page.url()).pathname === '/login', `the locked account left /login (${page.url()})`);
        const unknown = await said('nobody.at.all@acme.example', LOCKED_PASSWORD);
        check(unknown === locked, `an unknown address got "${unknown}", the locked account "${locked}"`);
        const wrong = await said(OWNER_EMAIL, WRONG_PASSWORD);
        check(wrong === locked, `a wrong password got "${wrong}", the locked account "${locked}"`);
        check(await page.locator('#forgot-link').isVisible(), 'the "Mot de passe oublié ?" link the message names is not shown');
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check((await statusText(page, '#login-status')) === LOGIN_REFUSED.en,
          `the message in English is "${await statusText(page, '#login-status')}"`);
        check((await statusText(page, '#forgot-link')) === 'Forgot your password?',
          `the link the message names reads "${await statusText(page, '#forgot-link')}"`);
        await secretNowhere(page, urls, consoleText, LOCKED_PASSWORD);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: '404: an unknown path and an unknown tenant show the same translated page "Page introuvable" in the site\'s layout, under the CSP',
    async run(ctx) {
      const { browser, base, port } = ctx;
      const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' },
        [[404, '/no-such-page'], [404, '/some/old/link'], [404, '/api/v1/no-such-route']]);
      try {
        const shown = async (url) => {
          const res = await page.goto(url, { waitUntil: 'load' });
          check(res && res.status() === 404, `${url} answered ${res ? res.status() : 'nothing'}`);
          const csp = res.headers()['content-security-policy'] || '';
          check(csp.includes("default-src 'self'"), `no CSP on the 404 page of ${url} (got "${csp}")`);
          check((res.headers()['content-type'] || '').startsWith('text/html'), `the 404 of ${url} is ${res.headers()['content-type']}`);
          await waitI18n(page, 'fr');
          check((await page.title()) === 'Page introuvable · coffre', `the title is "${await page.title()}"`);
          const h1 = (await page.getByRole('heading', { level: 1 }).textContent())?.trim();
          check(h1 === 'Page introuvable', `the heading is "${h1}"`);
          const styled = await page.evaluate(() => ({
            accent: getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim(),
            header: getComputedStyle(document.querySelector('.site-header')).borderBottomStyle,
          }));
          check(styled.accent === '#1f5f8b' && styled.header === 'solid', `the stylesheet is not applied: ${JSON.stringify(styled)}`);
          check((await page.getByRole('link', { name: 'Aller à l’accueil' }).getAttribute('href')) === '/', 'no link home');
          await page.locator('[data-lang-switch]').click();
          await waitI18n(page, 'en');
          const en = (await page.getByRole('heading', { level: 1 }).textContent())?.trim();
          check(en === 'Page not found', `the heading in English is "${en}"`);
          await page.locator('[data-lang-switch]').click();
          await waitI18n(page, 'fr');
          return res.body();
        };
        const onTenant = await shown(`${base}no-such-page`);
        const unknownTenant = await shown(`https://nosuchtenant.localhost:${port}/some/old/link`);
        check(Buffer.compare(onTenant, unknownTenant) === 0, 'an unknown tenant\'s page differs from an unknown path\'s');
        check(!onTenant.toString('utf8').includes(TENANT_NAME), 'the 404 page names the tenant');
        // The API still answers JSON to the page's own requests.
        const api = await page.evaluate(async () => {
          const r = await fetch('/api/v1/no-such-route');
          return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
        });
        check(api.status === 404 && api.type === 'application/json'
          && api.body === '{"error":{"code":"not_found","message":"no such resource"}}',
        `a fetch of an unknown API route got ${JSON.stringify(api)}`);
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'administration without mail: the invitation says no e-mail was sent and shows the link to hand over, with a copy button; the link sets the password',
    async run(ctx) {
      const { browser } = ctx;
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'coffre-e2e-nomail-'));
      let server = null;
      try {
        // A second server, on a data directory of its own, with no [mail].
        const data = path.join(tmp, 'data');
        await coffre(['init', '--data', data]);
        const created = await coffre([
          'tenant', 'create', TENANT_SLUG, '--name', TENANT_NAME, '--owner', OWNER_EMAIL, '--data', data,
        ]);
        writeFileSync(path.join(data, 'coffre.conf'), TEST_CONF);
        const port = await freePort();
        server = new Server(data, port);
        await server.waitHealthy(port);
        const setup = await postTenant(port, TENANT_SLUG, '/api/v1/auth/setup', {
          token: setupToken(created),
          password: OWNER_PASSWORD,
        });
        check(setup.status === 200, `the owner's setup answered ${setup.status}`);
        await coffre(['tenant', 'policy', TENANT_SLUG, 'mfa=optional', '--data', data]);
        const base = `https://${TENANT_SLUG}.localhost:${port}/`;

        const { context, page, problems, urls, consoleText } = await openPage(browser,
          { locale: 'fr-FR', permissions: ['clipboard-read', 'clipboard-write'] });
        let link = '';
        try {
          await signIn(page, base);
          await openAdmin(page, base);
          const invite = page.getByRole('region', { name: 'Inviter une personne' });
          await invite.getByLabel('Adresse e-mail').fill(HANDOVER_EMAIL);
          const [answer] = await Promise.all([
            page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/admin/users' && r.request().method() === 'POST'),
            invite.getByRole('button', { name: 'Envoyer l’invitation' }).click(),
          ]);
          check(answer.status() === 201, `the invitation answered ${answer.status()}`);
          const body = await answer.json();
          check(body.mail === 'off' && typeof body.link === 'string',
            `without mail the invitation answered mail=${body.mail} link=${typeof body.link}`);
          link = body.link;
          check(/^https:\/\/acme\.localhost(:\d+)?\/setup#[A-Za-z0-9_-]{43}$/.test(link), `the link is "${link}"`);

          const status = page.locator('#invite-status');
          await status.filter({ hasText: /aucun e-mail n’a été envoyé/ }).waitFor();
          const said = await statusText(page, '#invite-status');
          check(said === `Compte créé pour ${HANDOVER_EMAIL}, mais aucun e-mail n’a été envoyé : ce serveur n’envoie pas de courrier. `
            + 'Copiez le lien ci-dessous et transmettez-le vous-même.', `the page says "${said}"`);
          check(!/Invitation envoyée/.test(said), 'the page says the invitation was sent');
          check((await status.getAttribute('data-kind')) === 'warning', `the message is of kind ${await status.getAttribute('data-kind')}`);
          const note = await statusText(page, '#invite-link-note');
          check(/^Aucun e-mail n’a été envoyé\. Transmettez ce lien à la personne vous-même, par un canal de confiance/.test(note),
            `the note reads "${note}"`);
          const field = invite.getByLabel(`Lien d’invitation de ${HANDOVER_EMAIL} (valable 7 jours)`);
          check((await field.inputValue()) === link, `the field holds "${await field.inputValue()}"`);
          check(await field.evaluate((f) => f.readOnly), 'the link field is not read-only');
          const copy = invite.getByRole('button', { name: 'Copier le lien' });
          check(await copy.evaluate((b) => b === document.activeElement), 'the focus is not on "Copier le lien"');
          await copy.click();
          await page.locator('#invite-link-copy-status').filter({ hasText: 'Lien copié dans le presse-papiers.' }).waitFor();
          const clipboard = await page.evaluate(() => navigator.clipboard.readText());
          check(clipboard === link, 'the clipboard does not hold the link');
          const row = page.locator('#users-body tr').filter({ hasText: HANDOVER_EMAIL });
          await row.waitFor();
          check(/Invitation en attente/.test(await row.textContent()), 'the new row is not shown as invited');

          await page.locator('[data-lang-switch]').click();
          await waitI18n(page, 'en');
          check((await statusText(page, '#invite-status')).startsWith(`Account created for ${HANDOVER_EMAIL}, but no e-mail was sent`),
            `the message in English is "${await statusText(page, '#invite-status')}"`);
          check(/through a trusted channel/.test(await statusText(page, '#invite-link-note')),
            `the note in English is "${await statusText(page, '#invite-link-note')}"`);
          await page.getByRole('button', { name: 'I have handed the link over' }).click();
          check(await page.locator('#invite-link').isHidden(), 'the link stays shown');
          check((await page.locator('#invite-link-value').inputValue()) === '', 'the link stays in the field');
          const token = link.slice(link.indexOf('#') + 1);
          await secretNowhere(page, urls, consoleText, token, 'invitation token');
          noProblems(problems);
        } finally {
          await context.close();
        }

        // The link handed over works: the person chooses a password and signs in.
        const other = await openPage(browser, { locale: 'fr-FR' });
        try {
          await other.page.goto(`${base}setup${link.slice(link.indexOf('#'))}`, { waitUntil: 'load' });
          await waitI18n(other.page, 'fr');
          await other.page.locator('#password').fill(HANDOVER_PASSWORD);
          await other.page.locator('#password2').fill(HANDOVER_PASSWORD);
          await other.page.waitForSelector('#setup-submit:not([disabled])');
          await Promise.all([
            other.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/setup' && r.status() === 200),
            other.page.locator('#setup-submit').click(),
          ]);
          await signIn(other.page, base, HANDOVER_PASSWORD, HANDOVER_EMAIL);
          noProblems(other.problems);
        } finally {
          await other.context.close();
        }
      } finally {
        if (server) await server.stop();
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  },
];

// ------------------------------------------------------------------- main

async function main() {
  let tmp = null;
  let server = null;
  let browser = null;
  let mail = null;
  let mailError = 'not started';
  let setupError = null;
  const results = [];
  const ran = new Set(); // numbers of the tests started

  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    let exit = null;
    if (server) exit = await server.stop();
    if (mail) await mail.stop();
    mail = null;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = null;
    return exit;
  };
  const onSignal = (sig) => {
    console.log(`# interrupted by ${sig}`);
    cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    try {
      accessSync(COFFRE_BIN, fsc.X_OK);
    } catch {
      throw new Error(`${COFFRE_BIN} is not an executable (build it: make san, or set COFFRE_BIN)`);
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), 'coffre-e2e-'));
    const data = path.join(tmp, 'data');
    await coffre(['init', '--data', data]);
    const created = await coffre([
      'tenant', 'create', TENANT_SLUG, '--name', TENANT_NAME, '--owner', OWNER_EMAIL, '--data', data,
    ]);
    const token = setupToken(created);
    // Without the sink the server runs with mail off: only the test that
    // reads the invitation fails (and says why).
    const sink = new MailSink(path.join(tmp, 'smtp'));
    try {
      mail = await sink.start();
    } catch (err) {
      mailError = err.message;
      await sink.stop();
    }
    writeFileSync(path.join(data, 'coffre.conf'), TEST_CONF + (mail ? mail.conf() : ''));
    const port = await freePort();
    server = new Server(data, port);
    await server.waitHealthy(port);
    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS });
    // ownerReady: the owner has a password (set by the set-up test, or by
    // ensureOwnerPassword when that test failed before using the link).
    const ctx = {
      browser,
      port,
      token,
      data,
      mail,
      mailError,
      ownerReady: false,
      base: `https://${TENANT_SLUG}.localhost:${port}/`,
    };

    for (const [i, t] of tests.entries()) {
      const n = i + 1;
      if (ONLY && !ONLY.has(n)) continue;
      ran.add(n);
      try {
        await withTimeout(t.run(ctx), TEST_TIMEOUT_MS, 'test');
        results.push(true);
        console.log(`ok ${n} - ${t.name}`);
      } catch (err) {
        if (err instanceof Skip) {
          results.push(true);
          console.log(`ok ${n} - ${t.name} # SKIP ${oneLine(err.message)}`);
        } else {
          results.push(false);
          console.log(`not ok ${n} - ${t.name}: ${oneLine(err.message)}`);
        }
      }
    }
  } catch (err) {
    setupError = err;
    console.log(`# setup failed: ${oneLine(err.message)}`);
    for (const [i, t] of tests.entries()) {
      if (ran.has(i + 1) || (ONLY && !ONLY.has(i + 1))) continue;
      results.push(false);
      console.log(`not ok ${i + 1} - ${t.name}: setup failed`);
    }
  }

  const failed = results.filter((ok) => !ok).length;
  const serverForLog = server;
  const exit = await cleanup();
  if (exit && exit.code !== 0) {
    console.log(`# coffre serve did not exit cleanly on SIGTERM: ${exit.code ?? exit.signal}`);
  }
  if ((failed > 0 || setupError) && serverForLog) {
    console.log('# last lines of the server log:');
    for (const line of serverForLog.tail()) console.log(`#   ${line}`);
  }
  console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.log(`# internal error: ${oneLine(err.stack || err.message)}`);
    console.log(`e2e: 0 passed, ${tests.length} failed`);
    process.exit(1);
  },
);
