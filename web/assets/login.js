// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the sign-in page (/login). Posts {email, password} as JSON to
// /api/v1/auth/login and, on 200, goes to /account. Every refusal of the
// credentials (unknown e-mail, wrong password, locked account) gets the same
// message, as the server gives the same answer. 429 is the ban of the
// client address (Retry-After says for how long), 503 a full worker pool.
//
// With two-factor authentication on, the login answers
// {"mfa_required": true}: the session it opened is only good for the second
// step. The password form then gives way to a code form, which posts
// {code} to /api/v1/auth/totp (an authenticator code or a recovery code; no
// CSRF token: that session was never shown one, the SameSite cookie and the
// Origin check stand for it). 200: /account. 401 invalid_code: a message
// next to the field. Any other 401 (the session ended): back to the
// password step. "Annuler" ends the half-open session and goes back too.
//
// "Mot de passe oublié ?" is a link to #forgot: the page then shows, in
// place of the password form, a form asking for the e-mail, which posts
// {email} to /api/v1/auth/reset. The server answers 200 whether or not an
// account uses the address, so the page says the same neutral thing
// either way (the link, if any, is valid 30 minutes); 400 invalid_email
// goes next to the field, 429 is the rate limit. #signin (the "Retour à la
// connexion" link) brings the password form back; /login#forgot opens the
// form directly (the setup page links there). /login#password-set, where
// the setup page goes once a password is saved, shows a notice above the
// password form.
//
// The submit buttons are disabled in the HTML and enabled here, once the
// handlers are in place, so a form is never sent natively (the password
// would go to /login as a form body). The password and the code never
// leave this script except in the body of their request.

import { fieldError, ready, setText } from './app.js';
import { errorCode, formatWait, postJSON } from './api.js';

const form = document.getElementById('login-form');
const email = document.getElementById('email');
const password = document.getElementById('password');
const submit = document.getElementById('login-submit');
const status = document.getElementById('login-status');

const totpForm = document.getElementById('totp-form');
const totpCode = document.getElementById('totp-code');
const totpSubmit = document.getElementById('totp-submit');
const totpCancel = document.getElementById('totp-cancel');
const totpStatus = document.getElementById('totp-status');

// Not id="forgot": when the fragment names an element that cannot take the
// focus, Chromium clears the focus once it scrolls there, which would undo
// the move to the e-mail field on /login#forgot.
const forgot = document.getElementById('forgot-section');
const forgotForm = document.getElementById('forgot-form');
const forgotEmail = document.getElementById('forgot-email');
const forgotSubmit = document.getElementById('forgot-submit');
const forgotStatus = document.getElementById('forgot-status');

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

let busy = false;
let totpBusy = false;
let forgotBusy = false;

// The message next to a form (the password one unless el says otherwise);
// kind 'error' (default) or 'ok'.
function showStatus(key, vars, kind = 'error', el = status) {
  setText(el, key, vars);
  el.setAttribute('data-kind', kind);
}

// The messages every request of the page shares: ban or rate limit (429),
// busy server (503), no answer (0), anything else.
function showOtherError(res, el, bannedKeys) {
  if (res.status === 429) {
    const wait = formatWait(res.retryAfter);
    const [withWait, without] = bannedKeys;
    showStatus(wait ? withWait : without, wait ? { wait } : null, 'error', el);
  } else if (res.status === 503) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null, 'error', el);
  } else if (res.status === 0) {
    showStatus('common.error.network', null, 'error', el);
  } else {
    showStatus('common.error.unexpected', { status: res.status }, 'error', el);
  }
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
  } else if (!EMAIL_RE.test(address)) {
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
    if (res.data && res.data.mfa_required === true) {
      setBusy(false);
      showTotpStep();
      return;
    }
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
  } else {
    showOtherError(res, status, ['login.error.banned', 'login.error.banned_later']);
  }
}

// ------------------------------------------------ second step: the code

function setTotpBusy(on) {
  totpBusy = on;
  totpSubmit.disabled = on;
  totpCancel.disabled = on;
  totpForm.setAttribute('aria-busy', on ? 'true' : 'false');
  setText(totpSubmit, on ? 'login.totp_submitting' : 'login.totp_submit');
}

function showTotpStep() {
  showStatus('');
  status.removeAttribute('data-kind');
  form.hidden = true;
  totpCode.value = '';
  fieldError(totpCode, null);
  showStatus('', null, 'error', totpStatus);
  totpForm.hidden = false;
  setTotpBusy(false);
  totpCode.focus();
}

// Back to e-mail + password, with a message (key) or none.
function showPasswordStep(key) {
  totpForm.hidden = true;
  totpCode.value = '';
  fieldError(totpCode, null);
  showStatus('', null, 'error', totpStatus);
  form.hidden = false;
  setBusy(false);
  if (key) showStatus(key);
  else showStatus('');
  password.focus();
}

async function onTotpSubmit(event) {
  event.preventDefault();
  if (totpBusy) return;
  showStatus('', null, 'error', totpStatus);
  // "123 456" and "abcd-efgh-jkmn" as typed: blanks are not part of a code.
  const code = totpCode.value.replace(/\s+/g, '');
  if (!code) {
    fieldError(totpCode, 'login.totp_missing');
    totpCode.focus();
    return;
  }
  fieldError(totpCode, null);
  setTotpBusy(true);
  const res = await postJSON('/api/v1/auth/totp', { code });
  if (res.status === 200) {
    totpCode.value = '';
    showStatus('login.success', null, 'ok', totpStatus);
    window.location.assign('/account');
    return; // stays busy until the next page
  }
  setTotpBusy(false);
  const reason = errorCode(res.data);
  if ((res.status === 401 && reason === 'invalid_code') || res.status === 400) {
    // Wrong, already used, or not a code at all (400: far too long).
    totpCode.value = '';
    fieldError(totpCode, 'login.totp_invalid');
    totpCode.focus();
  } else if (res.status === 401) {
    // unauthorized: the half-open session is over (expired, ended).
    showPasswordStep('login.error.session_over');
  } else {
    showOtherError(res, totpStatus, ['common.error.too_many_wait', 'common.error.too_many']);
  }
}

async function onTotpCancel() {
  if (totpBusy) return;
  setTotpBusy(true);
  // End the half-open session; whatever the answer, the step is left.
  await postJSON('/api/v1/auth/logout', {});
  setTotpBusy(false);
  showPasswordStep(null);
}

// ------------------------------------------ forgotten password: #forgot

function setForgotBusy(on) {
  forgotBusy = on;
  forgotSubmit.disabled = on;
  forgotForm.setAttribute('aria-busy', on ? 'true' : 'false');
  setText(forgotSubmit, on ? 'forgot.submitting' : 'forgot.submit');
}

// The e-mail form, fresh (the address typed for the sign-in, if any).
function showForgot() {
  if (!totpForm.hidden) return; // a half-open sign-in is not left this way
  form.hidden = true;
  forgot.hidden = false;
  forgotForm.hidden = false;
  showStatus('', null, 'error', forgotStatus);
  forgotStatus.removeAttribute('data-kind');
  fieldError(forgotEmail, null);
  if (!forgotEmail.value) forgotEmail.value = email.value.trim();
  setForgotBusy(false);
  forgotEmail.focus();
}

function showSignIn() {
  if (!totpForm.hidden) return;
  forgot.hidden = true;
  form.hidden = false;
  if (!email.value && forgotEmail.value) email.value = forgotEmail.value.trim();
  email.focus();
}

async function onForgotSubmit(event) {
  event.preventDefault();
  if (forgotBusy) return;
  showStatus('', null, 'error', forgotStatus);
  const address = forgotEmail.value.trim();
  if (!address) {
    fieldError(forgotEmail, 'login.email_missing');
    forgotEmail.focus();
    return;
  }
  if (!EMAIL_RE.test(address)) {
    fieldError(forgotEmail, 'login.email_invalid');
    forgotEmail.focus();
    return;
  }
  fieldError(forgotEmail, null);
  setForgotBusy(true);
  const res = await postJSON('/api/v1/auth/reset', { email: address });
  setForgotBusy(false);
  if (res.status === 200) {
    // The same words whatever the address: the server tells nothing more.
    forgotForm.hidden = true;
    showStatus('forgot.sent', null, 'ok', forgotStatus);
    forgotStatus.focus();
  } else if (res.status === 400) {
    // invalid_email, or an address too long for the API to read.
    fieldError(forgotEmail, 'forgot.email_refused');
    forgotEmail.focus();
  } else {
    showOtherError(res, forgotStatus, ['common.error.too_many_wait', 'common.error.too_many']);
  }
}

// What the fragment asks for: #forgot the e-mail form, #password-set the
// notice of a saved password, anything else the sign-in form.
function followHash(first) {
  const hash = window.location.hash;
  if (hash === '#forgot') {
    showForgot();
    return;
  }
  if (hash === '#password-set' && first) {
    showStatus('login.password_set', null, 'ok');
    // A reload must not say it again.
    window.history.replaceState(null, '', window.location.pathname);
    return;
  }
  if (!forgot.hidden) showSignIn();
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
totpForm.addEventListener('submit', (event) => {
  onTotpSubmit(event).catch(() => setTotpBusy(false));
});
totpCancel.addEventListener('click', () => {
  onTotpCancel().catch(() => showPasswordStep(null));
});
totpCode.addEventListener('input', onInput);
forgotForm.addEventListener('submit', (event) => {
  onForgotSubmit(event).catch(() => setForgotBusy(false));
});
forgotEmail.addEventListener('input', onInput);
window.addEventListener('hashchange', () => followHash(false));

ready.then(() => {
  submit.disabled = false;
  forgotSubmit.disabled = false;
  followHash(true);
});
