// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Browser tests of the coffre web UI. A plain Node script, no test framework:
// it makes a fresh data directory, creates the tenant "acme", starts a real
// `coffre serve` on a free loopback port, drives headless Chromium through
// playwright-core against https://acme.localhost:PORT/, prints one line per
// test (`ok N - name` / `not ok N - name: reason`) and a summary line, stops
// the server with SIGTERM and removes the data directory. Exit status 0 when
// every test passed, 1 otherwise.
//
// Environment: COFFRE_BIN (default ../../build/san/coffre from this file),
// CHROMIUM_BIN (default /usr/bin/chromium).

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsc, mkdtempSync, rmSync } from 'node:fs';
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
// failed requests and HTTP errors.
async function openPage(browser, options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' || /Content Security Policy|Refused to/i.test(text)) {
      problems.push(`console ${msg.type()}: ${text}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? '?'})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  return { context, page, problems };
}

// Waits until app.js has applied a dictionary (it sets <html data-lang>).
async function waitI18n(page, lang) {
  const sel = lang ? `html[data-lang="${lang}"]` : 'html[data-lang]';
  await page.waitForSelector(sel, { state: 'attached' });
}

async function settle(page) {
  await page.waitForLoadState('networkidle').catch(() => {});
}

function noProblems(problems) {
  check(problems.length === 0, [...new Set(problems)].join('; '));
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
        check(await submit.isDisabled(), 'the submit button is not disabled');
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
    await coffre(['tenant', 'create', TENANT_SLUG, '--name', TENANT_NAME, '--data', data]);
    const port = await freePort();
    server = new Server(data, port);
    await server.waitHealthy(port);
    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS });
    const ctx = { browser, base: `https://${TENANT_SLUG}.localhost:${port}/` };

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
