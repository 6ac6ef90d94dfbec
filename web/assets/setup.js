// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the password page (/setup#TOKEN). Two kinds of link land here:
// the setup link of a new account and the reset link mailed on a
// forgotten password; both are completed the same way and the page cannot
// tell them apart, so its words fit both. The token comes from the URL
// fragment, which the browser never sends to the server. The person types
// the new password twice; a strength meter follows the first field
// (POST /api/v1/password/strength, debounced, privileged: true: the link
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

import { getLang, ready, setText, t } from './app.js';
import { errorCode, formatWait, postJSON } from './api.js';

const DEBOUNCE_MS = 250;
const REDIRECT_MS = 1500;
const RETRY_MAX_S = 30;
const FIELD_MAX_BYTES = 1024; // the API's limit on the password field
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
const strengthBox = document.getElementById('strength');
const meter = document.getElementById('strength-meter');
const level = document.getElementById('strength-level');
const verdictText = document.getElementById('strength-verdict');
const hintList = document.getElementById('strength-hints');

let token = '';
let verdict = null;     // last strength answer for the current password
let seq = 0;            // number of the latest strength request
let timer = null;       // debounce / retry timer
let busy = false;       // a setup request is on its way
let finished = false;   // setup succeeded or the link is dead
let confirmTouched = false;

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

// ---------------------------------------------------------- strength view

function hintsOf(v) {
  const hints = v && v.hints && v.hints[getLang()];
  return Array.isArray(hints) ? hints.filter((h) => typeof h === 'string' && h) : [];
}

function renderHints() {
  hintList.replaceChildren();
  if (!verdict) {
    hintList.hidden = true;
    return;
  }
  let hints = verdict.localHint ? [t(verdict.localHint)] : hintsOf(verdict);
  if (hints.length === 0 && !verdict.acceptable) hints = [t('setup.hint_generic')];
  for (const text of hints) {
    const li = document.createElement('li');
    li.textContent = text; // server text: never parsed as HTML
    hintList.append(li);
  }
  hintList.hidden = hints.length === 0;
}

function renderStrength() {
  if (!verdict) {
    meter.value = 0;
    meter.setAttribute('data-score', 'none');
    strengthBox.removeAttribute('data-acceptable');
    setText(level, '');
    if (!password.value) setText(verdictText, '');
    renderHints();
    return;
  }
  const score = Math.max(0, Math.min(4, Number(verdict.score) || 0));
  meter.value = score;
  meter.setAttribute('data-score', String(score));
  strengthBox.setAttribute('data-acceptable', verdict.acceptable ? 'true' : 'false');
  setText(level, `setup.score.${score}`);
  setText(verdictText, verdict.acceptable ? 'setup.verdict.ok' : 'setup.verdict.weak');
  renderHints();
}

// A verdict made here for a password the API would refuse to read.
function localVerdict(key) {
  return { acceptable: false, score: 0, hints: { fr: [], en: [] }, localHint: key };
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
  submit.disabled = busy || finished || !token || !verdict || !verdict.acceptable || !matches();
}

async function evaluate(pw) {
  timer = null;
  const mine = ++seq;
  if (new TextEncoder().encode(pw).length > FIELD_MAX_BYTES) {
    verdict = localVerdict('setup.error.too_long');
    renderStrength();
    updateSubmit();
    return;
  }
  const res = await postJSON('/api/v1/password/strength', { password: pw, privileged: true });
  if (mine !== seq || password.value !== pw) return; // typed on meanwhile
  if (res.status === 200 && res.data && typeof res.data.acceptable === 'boolean') {
    verdict = res.data;
    setText(verdictText, '');
    renderStrength();
  } else {
    verdict = null;
    renderStrength();
    setText(verdictText, 'setup.strength_unavailable');
    if ((res.status === 429 || res.status === 503) && res.retryAfter !== null) {
      const wait = Math.min(Math.max(res.retryAfter, 1), RETRY_MAX_S);
      timer = setTimeout(() => {
        if (password.value === pw) evaluate(pw).catch(() => {});
      }, wait * 1000);
    }
  }
  updateSubmit();
}

function onPasswordInput() {
  if (timer) clearTimeout(timer);
  timer = null;
  seq++; // any answer still on its way is for an older password
  verdict = null;
  fieldError(password, null);
  if (password.value === '') {
    renderStrength();
  } else {
    timer = setTimeout(() => {
      evaluate(password.value).catch(() => {});
    }, DEBOUNCE_MS);
  }
  if (confirm.value) updateConfirmError();
  updateSubmit();
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
  verdict = null;
  if (statusKey) showStatus(statusKey, vars);
}

async function onSubmit(event) {
  event.preventDefault();
  if (busy || finished) return;
  updateConfirmError();
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
    const strength = (res.data && (res.data.strength || (res.data.error && res.data.error.strength))) || null;
    verdict = strength && typeof strength.acceptable === 'boolean'
      ? { ...strength, acceptable: false }
      : localVerdict('setup.hint_generic');
    renderStrength();
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
// Hints come from the server in both languages: redraw them on a switch.
document.addEventListener('coffre:lang', () => renderHints());

ready.then(start);
