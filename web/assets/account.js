// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the account page (/account). Asks GET /api/v1/me who is signed
// in; without a valid session (401) it goes to /login. Shows the e-mail
// and the role, and a sign-out button: POST /api/v1/auth/logout with the
// CSRF token /me gave (X-CSRF-Token) and an empty JSON object, then /login.
// The CSRF token lives only in this script's memory.

import { ready, setText } from './app.js';
import { formatWait, getJSON, postJSON } from './api.js';

const main = document.getElementById('main');
const loading = document.getElementById('account-loading');
const status = document.getElementById('account-status');
const details = document.getElementById('account-details');
const emailOut = document.getElementById('account-email');
const roleOut = document.getElementById('account-role');
const signout = document.getElementById('signout');

const KNOWN_ROLES = ['owner', 'admin', 'member'];

let csrf = '';
let busy = false;

function showStatus(key, vars) {
  setText(status, key, vars);
  if (key) status.setAttribute('data-kind', 'error');
  else status.removeAttribute('data-kind');
}

function toLogin() {
  // replace: Back must not return to a page that needs the ended session.
  window.location.replace('/login');
}

function showError(res) {
  if (res.status === 0) showStatus('common.error.network');
  else if (res.status === 503 || res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null);
  } else showStatus('common.error.unexpected', { status: res.status });
}

async function load() {
  // Ask at once; show once the dictionary is there too.
  const [res] = await Promise.all([getJSON('/api/v1/me'), ready]);
  if (res.status === 401) {
    toLogin();
    return;
  }
  loading.hidden = true;
  main.setAttribute('aria-busy', 'false');
  const user = res.data && res.data.user;
  if (res.status !== 200 || !user || typeof user.email !== 'string') {
    showError(res);
    return;
  }
  csrf = typeof res.data.csrf_token === 'string' ? res.data.csrf_token : '';
  emailOut.textContent = user.email;
  const role = typeof user.role === 'string' ? user.role : '';
  if (KNOWN_ROLES.includes(role)) {
    setText(roleOut, `account.role.${role}`);
  } else {
    setText(roleOut, '');
    roleOut.textContent = role;
  }
  details.hidden = false;
}

async function onSignout() {
  if (busy) return;
  busy = true;
  signout.disabled = true;
  showStatus('');
  const res = await postJSON('/api/v1/auth/logout', {}, { 'X-CSRF-Token': csrf });
  if (res.status === 200 || res.status === 401) {
    // 401: the session had already ended; either way it is over.
    toLogin();
    return;
  }
  busy = false;
  signout.disabled = false;
  showError(res);
}

signout.addEventListener('click', () => {
  onSignout().catch(() => {
    busy = false;
    signout.disabled = false;
  });
});

load().catch(() => {});
