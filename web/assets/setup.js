// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the password page (/setup#TOKEN). Two kinds of link land here:
// the setup link of a new account and the reset link mailed on a
// forgotten password; both are completed the same way and the page cannot
// tell them apart, so its words fit both. The token comes from the URL
// fragment, which the browser never sends to the server. The person types
// the new password twice; a strength meter (meter.js) follows the first
// field (POST /api/v1/password/strength, debounced, privileged: true: the link
// does not say the account's role, so the page holds every account to the
// owners' rule, which is the stricter one) and shows the server's hints in
// the page's language. The button is enabled only when the server finds
// the password acceptable and both fields match. Then POST
// /api/v1/auth/setup {token, password}; on success the page says so and
// goes to /login#password-set, where the sign-in page repeats that the
// password is saved. (A reset also ends every session of the account; the
// answer does not say which kind of link it was, so the page does not
// claim it.) A dead link points to /login#forgot, to ask for a new one.
//
// The password is only ever sent in request bodies: never in a URL, never
// stored (no localStorage, no sessionStorage) and never logged.

import { ready, setText } from './app.js';
import { errorCode, formatWait, postJSON } from './api.js';
import { createMeter, refusedVerdict } from './meter.js';

const REDIRECT_MS = 1500;
const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;

const form = document.getElementById('setup-form');
const intro = document.getElementById('setup-intro');
const password = document.getElementById('password');
const confirm = document.getElementById('password2');
const submit = document.getElementById('setup-submit');
const status = document.getElementById('setup-status');
const linkHelp = document.getElementById('setup-link-help');
const done = document.getElementById('setup-done');
const toLogin = document.getElementById('setup-to-login');

let token = '';
let busy = false;       // a setup request is on its way
let finished = false;   // setup succeeded or the link is dead
let confirmTouched = false;

// The link does not say the account's role: every account is held to the
// owners' rule, the stricter one.
const meter = createMeter(password, {
  box: document.getElementById('strength'),
  meter: document.getElementById('strength-meter'),
  level: document.getElementById('strength-level'),
  verdict: document.getElementById('strength-verdict'),
  checks: document.getElementById('strength-checks'),
  hints: document.getElementById('strength-hints'),
}, () => ({ privileged: true }), () => updateSubmit());

// ------------------------------------------------------------- messages

function showStatus(key, vars, kind = 'error') {
  setText(status, key, vars);
  if (key) status.setAttribute('data-kind', kind);
  else status.removeAttribute('data-kind');
}

function fieldError(input, key) {
  const slot = document.getElementById(`${input.id}-error`);
  setText(slot, key || '');
  slot.hidden = !key;
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// ------------------------------------------------------------ the checks

function matches() {
  return confirm.value !== '' && confirm.value === password.value;
}

function updateConfirmError() {
  const show = confirm.value !== '' && !matches() &&
    (confirmTouched || confirm.value.length >= password.value.length);
  fieldError(confirm, show ? 'setup.error.mismatch' : null);
}

function updateSubmit() {
  const verdict = meter.verdict();
  submit.disabled = busy || finished || !token || !verdict || !verdict.acceptable || !matches();
}

function onPasswordInput() {
  fieldError(password, null);
  if (confirm.value) updateConfirmError();
}

function onConfirmInput() {
  updateConfirmError();
  updateSubmit();
}

// ---------------------------------------------------------------- submit

function closeForm(statusKey, vars) {
  finished = true;
  form.hidden = true;
  intro.hidden = true;
  password.value = '';
  confirm.value = '';
  meter.reset();
  if (statusKey) showStatus(statusKey, vars);
}

async function onSubmit(event) {
  event.preventDefault();
  if (busy || finished) return;
  updateConfirmError();
  const verdict = meter.verdict();
  if (!verdict || !verdict.acceptable || !matches()) {
    updateSubmit();
    return;
  }
  busy = true;
  updateSubmit();
  form.setAttribute('aria-busy', 'true');
  showStatus('');
  const res = await postJSON('/api/v1/auth/setup', { token, password: password.value });
  busy = false;
  form.setAttribute('aria-busy', 'false');
  const code = errorCode(res.data);

  if (res.status === 200) {
    closeForm();
    showStatus('setup.done', null, 'ok');
    done.hidden = false;
    toLogin.focus();
    setTimeout(() => window.location.assign('/login#password-set'), REDIRECT_MS);
    return;
  }
  if (res.status === 400 && code === 'weak_password') {
    meter.show(refusedVerdict(res.data));
    showStatus('setup.error.weak');
    password.focus();
  } else if (res.status === 400 && code === 'invalid_token') {
    closeForm('setup.error.invalid_token');
    linkHelp.hidden = false;
  } else if (res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.too_many_wait' : 'common.error.too_many', wait ? { wait } : null);
  } else if (res.status === 503) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null);
  } else if (res.status === 0) {
    showStatus('common.error.network');
  } else {
    showStatus('common.error.unexpected', { status: res.status });
  }
  updateSubmit();
}

// ------------------------------------------------------------------ start

function readToken() {
  const raw = window.location.hash.replace(/^#/, '');
  if (!raw) return { token: '', error: 'setup.error.missing_token' };
  if (!TOKEN_RE.test(raw)) return { token: '', error: 'setup.error.bad_token' };
  return { token: raw, error: null };
}

function start() {
  const got = readToken();
  token = got.token;
  if (got.error) {
    form.hidden = true;
    intro.hidden = true;
    linkHelp.hidden = false;
    showStatus(got.error);
  } else if (!finished) {
    form.hidden = false;
    intro.hidden = false;
    linkHelp.hidden = true;
    showStatus('');
  }
  updateSubmit();
}

form.addEventListener('submit', (event) => {
  onSubmit(event).catch(() => {
    busy = false;
    updateSubmit();
  });
});
password.addEventListener('input', onPasswordInput);
confirm.addEventListener('input', onConfirmInput);
confirm.addEventListener('blur', () => {
  confirmTouched = true;
  updateConfirmError();
});
window.addEventListener('hashchange', () => {
  if (!finished) start();
});

ready.then(start);
