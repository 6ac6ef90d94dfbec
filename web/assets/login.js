// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the sign-in page (/login). Posts {email, password} as JSON to
// /api/v1/auth/login and, on 200, goes to /account. Every refusal of the
// credentials (unknown e-mail, wrong password, locked account) gets the same
// message, as the server gives the same answer. 429 is the ban of the
// client address (Retry-After says for how long), 503 a full worker pool.
//
// The submit button is disabled in the HTML and enabled here, once the
// handler is in place, so the form is never sent natively (the password
// would go to /login as a form body). The password never leaves this
// script except in the body of the login request.

import { ready, setText } from './app.js';
import { formatWait, postJSON } from './api.js';

const form = document.getElementById('login-form');
const email = document.getElementById('email');
const password = document.getElementById('password');
const submit = document.getElementById('login-submit');
const status = document.getElementById('login-status');

let busy = false;

function fieldError(input, key) {
  const slot = document.getElementById(`${input.id}-error`);
  if (key) {
    setText(slot, key);
    slot.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  } else {
    setText(slot, '');
    slot.hidden = true;
    input.removeAttribute('aria-invalid');
  }
}

// The message next to the form; kind 'error' (default) or 'ok'.
function showStatus(key, vars, kind = 'error') {
  setText(status, key, vars);
  status.setAttribute('data-kind', kind);
}

function setBusy(on) {
  busy = on;
  submit.disabled = on;
  form.setAttribute('aria-busy', on ? 'true' : 'false');
  setText(submit, on ? 'login.submitting' : 'login.submit');
}

// Local checks only: empty fields and an obviously malformed address.
function validate() {
  let first = null;
  const address = email.value.trim();
  if (!address) {
    fieldError(email, 'login.email_missing');
    first = email;
  } else if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
    fieldError(email, 'login.email_invalid');
    first = email;
  } else {
    fieldError(email, null);
  }
  if (!password.value) {
    fieldError(password, 'login.password_missing');
    first = first || password;
  } else {
    fieldError(password, null);
  }
  if (first) first.focus();
  return first === null;
}

async function onSubmit(event) {
  event.preventDefault();
  if (busy) return;
  showStatus('');
  if (!validate()) return;
  setBusy(true);
  const res = await postJSON('/api/v1/auth/login', {
    email: email.value.trim(),
    password: password.value,
  });
  if (res.status === 200) {
    password.value = '';
    showStatus('login.success', null, 'ok');
    window.location.assign('/account');
    return; // stays busy until the next page
  }
  setBusy(false);
  if (res.status === 401 || res.status === 400) {
    // One message for every refusal of the credentials (a 400 is a field
    // the server would not take, such as an over-long address).
    password.value = '';
    showStatus('login.error.credentials');
    password.focus();
  } else if (res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'login.error.banned' : 'login.error.banned_later', wait ? { wait } : null);
  } else if (res.status === 503) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null);
  } else if (res.status === 0) {
    showStatus('common.error.network');
  } else {
    showStatus('common.error.unexpected', { status: res.status });
  }
}

function onInput(event) {
  // A corrected field loses its error as soon as it is typed in.
  if (event.target.getAttribute('aria-invalid') === 'true') fieldError(event.target, null);
}

form.addEventListener('submit', (event) => {
  onSubmit(event).catch(() => setBusy(false));
});
email.addEventListener('input', onInput);
password.addEventListener('input', onInput);

ready.then(() => {
  submit.disabled = false;
});
