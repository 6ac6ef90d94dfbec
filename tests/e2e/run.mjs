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
// CHROMIUM_BIN (default /usr/bin/chromium).

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsc, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
// The tests sign in many times from one address: no per-address limits.
const TEST_CONF = '[limits]\nread_per_minute = 0\nwrite_per_minute = 0\nauth_per_minute = 0\n';
const HEALTH_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_KEEP_BYTES = 64 * 1024;

// ---------------------------------------------------------------- helpers

function oneLine(text, max = 600) {
  const s = String(text).replace(/\s*\n\s*/g, ' | ').trim();
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

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
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: urlPath,
        servername: `${slug}.localhost`,
        headers: {
          Host: `${slug}.localhost:${port}`,
          'Content-Type': 'application/json',
          'Content-Length': data.length,
        },
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
    req.end(data);
  });
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
// storage of the page.
async function secretNowhere(page, urls, consoleText, secret) {
  const forms = [secret, encodeURIComponent(secret)];
  for (const u of urls) {
    check(!forms.some((f) => u.includes(f)), `the password appears in a URL: ${u}`);
  }
  for (const text of consoleText) {
    check(!text.includes(secret), 'the password appears in a console message');
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
  check(!stored.includes(secret), 'the password is kept in localStorage or sessionStorage');
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
async function signIn(page, base, password = OWNER_PASSWORD) {
  const res = await page.goto(`${base}login`, { waitUntil: 'load' });
  checkCsp(res, '/login');
  await waitI18n(page);
  await page.getByLabel(/Adresse e-mail|E-mail address/).fill(OWNER_EMAIL);
  await page.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/account'),
    page.locator('#login-submit').click(),
  ]);
  await page.locator('#account-email').filter({ hasText: OWNER_EMAIL }).waitFor();
}

async function statusText(page, selector) {
  return ((await page.locator(selector).textContent()) || '').trim();
}

// ------------------------------------------------------------------ tests

const tests = [
  {
    name: 'tenant home page renders with its name and styles under the CSP',
    async run({ browser, base }) {
      const { context, page, problems } = await openPage(browser);
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
        noProblems(problems);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'sign-in link leads to the login page and its e-mail field has a label',
    async run({ browser, base }) {
      const { context, page, problems } = await openPage(browser);
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
        const email = page.getByLabel(/e-mail/i);
        check((await email.count()) === 1, 'no single field labelled "e-mail"');
        check((await email.getAttribute('type')) === 'email', 'the e-mail field is not type=email');
        // The label is tied to the field: clicking it moves the focus there.
        await page.locator('label[for="email"]').click();
        const focused = await page.evaluate(() => document.activeElement?.id);
        check(focused === 'email', `clicking the label focused "${focused}", not the e-mail field`);
        await email.fill('alice@example.com');
        check((await email.inputValue()) === 'alice@example.com', 'cannot type in the e-mail field');
        const submit = page.locator('form button[type="submit"]');
        // login.js enables the button once its handler is in place.
        await page.waitForSelector('form button[type="submit"]:not([disabled])');
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
      const { context, page, problems } = await openPage(browser, { locale: 'fr-FR' });
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
        await confirm.press('Enter');
        await page.locator('#setup-status').filter({ hasText: /password is saved/ }).waitFor();
        check(await page.getByRole('link', { name: 'Go to sign-in' }).isVisible(), 'no link to the sign-in page after saving');
        await page.waitForURL((u) => u.pathname === '/login');
        ctx.ownerReady = true;
        await waitI18n(page, 'en');
        await settle(page);
        check((await page.title()) === 'Connexion · coffre', `after saving the page is "${await page.title()}"`);
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
        const email = page.getByLabel('Adresse e-mail');
        const password = page.getByLabel('Mot de passe');
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
        check(new URL(page.url()).pathname === '/login', `a wrong password left /login (${page.url()})`);
        check(await submit.isEnabled(), 'the button stays disabled after the answer');

        // An unknown address gets exactly the same message.
        await page.locator('[data-lang-switch]').click();
        await waitI18n(page, 'en');
        check((await statusText(page, '#login-status')) === 'Wrong e-mail or password.',
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
];

// ------------------------------------------------------------------- main

async function main() {
  let tmp = null;
  let server = null;
  let browser = null;
  let setupError = null;
  const results = [];

  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    let exit = null;
    if (server) exit = await server.stop();
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
    writeFileSync(path.join(data, 'coffre.conf'), TEST_CONF);
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
      ownerReady: false,
      base: `https://${TENANT_SLUG}.localhost:${port}/`,
    };

    for (const [i, t] of tests.entries()) {
      const n = i + 1;
      try {
        await withTimeout(t.run(ctx), TEST_TIMEOUT_MS, 'test');
        results.push(true);
        console.log(`ok ${n} - ${t.name}`);
      } catch (err) {
        results.push(false);
        console.log(`not ok ${n} - ${t.name}: ${oneLine(err.message)}`);
      }
    }
  } catch (err) {
    setupError = err;
    console.log(`# setup failed: ${oneLine(err.message)}`);
    for (const [i, t] of tests.entries()) {
      if (i < results.length) continue;
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
