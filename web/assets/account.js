// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the account page (/account). Asks GET /api/v1/me who is signed
// in; without a valid session (401) it goes to /login. Shows the e-mail
// and the role, and a sign-out button: POST /api/v1/auth/logout with the
// CSRF token /me gave (X-CSRF-Token) and an empty JSON object, then /login.
// The CSRF token lives only in this script's memory.
//
// Two-factor authentication (user.totp of /me says whether it is on):
// - "Activer": POST /api/v1/me/totp {} gives otpauth_uri and qr_svg. The
//   QR code is the server's SVG, parsed by DOMParser as image/svg+xml,
//   cut down to <svg>/<rect>/<path> and a few drawing attributes, and
//   imported as a node (no innerHTML, no data: URL: the CSP forbids them).
//   The secret (the `secret` parameter of the URI) is shown as text for
//   manual entry. "Confirmer" posts {code} to /api/v1/me/totp/confirm; the
//   answer's 10 recovery codes are shown once, as a list, until "J’ai
//   conservé ces codes" clears them (they are kept nowhere else).
// - "Désactiver": after a confirm() dialog, DELETE /api/v1/me/totp.
// Every state-changing request carries X-CSRF-Token.

import { ready, setText, t } from './app.js';
import { deleteJSON, errorCode, formatWait, getJSON, postJSON } from './api.js';

const main = document.getElementById('main');
const loading = document.getElementById('account-loading');
const status = document.getElementById('account-status');
const details = document.getElementById('account-details');
const emailOut = document.getElementById('account-email');
const roleOut = document.getElementById('account-role');
const signout = document.getElementById('signout');

const totpState = document.getElementById('totp-state');
const totpStatus = document.getElementById('totp-status');
const totpOff = document.getElementById('totp-off');
const totpEnable = document.getElementById('totp-enable');
const totpEnrol = document.getElementById('totp-enrol');
const totpQr = document.getElementById('totp-qr');
const totpSecret = document.getElementById('totp-secret');
const totpForm = document.getElementById('totp-confirm-form');
const totpCode = document.getElementById('totp-code');
const totpConfirm = document.getElementById('totp-confirm');
const totpEnrolCancel = document.getElementById('totp-enrol-cancel');
const totpRecovery = document.getElementById('totp-recovery');
const totpRecoveryNote = document.getElementById('totp-recovery-note');
const totpRecoveryList = document.getElementById('totp-recovery-list');
const totpRecoveryDone = document.getElementById('totp-recovery-done');
const totpOn = document.getElementById('totp-on');
const totpDisable = document.getElementById('totp-disable');

const KNOWN_ROLES = ['owner', 'admin', 'member'];
const SVG_NS = 'http://www.w3.org/2000/svg';
// What of the server's QR code SVG is kept: a white <rect>, a black <path>.
const SVG_ELEMENTS = ['svg', 'rect', 'path'];
const SVG_ATTRIBUTES = ['xmlns', 'viewBox', 'width', 'height', 'shape-rendering', 'fill', 'd', 'x', 'y'];

let csrf = '';
let busy = false;
let totpBusy = false;
// 2FA as the server last said; enrolling: between "Activer" and the end.
const totp = { on: false, enrolling: false };

// A message in el (the page's status line unless said otherwise); kind
// 'error' (default) or 'ok'. An empty key empties it.
function showStatus(key, vars, kind = 'error', el = status) {
  setText(el, key, vars);
  if (key) el.setAttribute('data-kind', kind);
  else el.removeAttribute('data-kind');
}

function toLogin() {
  // replace: Back must not return to a page that needs the ended session.
  window.location.replace('/login');
}

function showError(res, el = status) {
  if (res.status === 0) showStatus('common.error.network', null, 'error', el);
  else if (res.status === 503 || res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null, 'error', el);
  } else showStatus('common.error.unexpected', { status: res.status }, 'error', el);
}

function fieldError(input, key) {
  const slot = document.getElementById(`${input.id}-error`);
  setText(slot, key || '');
  slot.hidden = !key;
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
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
  totp.on = user.totp === true;
  renderTotp();
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

// ------------------------------------------- two-factor authentication

function renderTotp() {
  setText(totpState, totp.on ? 'totp.state_on' : 'totp.state_off');
  totpState.setAttribute('data-state', totp.on ? 'on' : 'off');
  totpOff.hidden = totp.on || totp.enrolling;
  totpEnrol.hidden = !totp.enrolling;
  totpOn.hidden = !totp.on;
}

function setTotpBusy(on) {
  totpBusy = on;
  for (const button of [totpEnable, totpConfirm, totpEnrolCancel, totpDisable]) button.disabled = on;
  document.getElementById('totp').setAttribute('aria-busy', on ? 'true' : 'false');
}

// The `secret` parameter of an otpauth:// URI (base32), or ''.
function secretOf(uri) {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'otpauth:') return '';
    const secret = (url.searchParams.get('secret') || '').toUpperCase();
    return /^[A-Z2-7]+=*$/.test(secret) ? secret.replace(/=+$/, '') : '';
  } catch {
    return '';
  }
}

// Drops from the parsed SVG every element and attribute a QR code does not
// need (scripts, event handlers, links, styles, foreign content).
function cleanSvg(el) {
  for (const child of [...el.children]) {
    if (child.namespaceURI !== SVG_NS || !SVG_ELEMENTS.includes(child.localName)) child.remove();
    else cleanSvg(child);
  }
  for (const attr of [...el.attributes]) {
    if (attr.namespaceURI !== null && attr.name !== 'xmlns') el.removeAttributeNode(attr);
    else if (!SVG_ATTRIBUTES.includes(attr.name)) el.removeAttributeNode(attr);
  }
}

// The QR code markup of the server as an <svg> node of this document, or
// null when it is not a well-formed SVG document.
function qrNode(markup) {
  if (typeof markup !== 'string' || !markup) return null;
  let doc;
  try {
    doc = new DOMParser().parseFromString(markup, 'image/svg+xml');
  } catch {
    return null;
  }
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== 'svg'
    || doc.getElementsByTagName('parsererror').length > 0) return null;
  cleanSvg(root);
  const svg = document.importNode(root, true);
  // The text around it says what it is; the secret is its text twin.
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  return svg;
}

function clearEnrolment() {
  totpQr.replaceChildren();
  totpSecret.textContent = '';
  totpCode.value = '';
  fieldError(totpCode, null);
}

function clearRecovery() {
  totpRecoveryList.replaceChildren();
  totpRecovery.hidden = true;
}

async function onEnable() {
  if (totpBusy) return;
  setTotpBusy(true);
  showStatus('', null, 'error', totpStatus);
  clearRecovery();
  const res = await postJSON('/api/v1/me/totp', {}, { 'X-CSRF-Token': csrf });
  setTotpBusy(false);
  if (res.status === 401) {
    toLogin();
    return;
  }
  if (res.status !== 200) {
    showError(res, totpStatus);
    return;
  }
  const secret = secretOf(res.data && res.data.otpauth_uri);
  if (!secret) {
    showStatus('totp.error.enrol', null, 'error', totpStatus);
    return;
  }
  clearEnrolment();
  const svg = qrNode(res.data.qr_svg);
  if (svg) totpQr.append(svg);
  totpQr.hidden = !svg;
  // Groups of four, as authenticator apps take them (blanks are ignored).
  totpSecret.textContent = secret.replace(/(.{4})(?=.)/g, '$1 ');
  totp.enrolling = true;
  renderTotp();
  totpCode.focus();
}

async function onConfirm(event) {
  event.preventDefault();
  if (totpBusy) return;
  showStatus('', null, 'error', totpStatus);
  const code = totpCode.value.replace(/\s+/g, '');
  if (!code) {
    fieldError(totpCode, 'totp.code_missing');
    totpCode.focus();
    return;
  }
  if (!/^\d{6}$/.test(code)) {
    fieldError(totpCode, 'totp.code_format');
    totpCode.focus();
    return;
  }
  fieldError(totpCode, null);
  setTotpBusy(true);
  const res = await postJSON('/api/v1/me/totp/confirm', { code }, { 'X-CSRF-Token': csrf });
  setTotpBusy(false);
  const reason = errorCode(res.data);
  const codes = res.data && res.data.recovery_codes;
  if (res.status === 200 && Array.isArray(codes)) {
    clearEnrolment();
    totp.enrolling = false;
    totp.on = true;
    renderTotp();
    for (const one of codes) {
      const item = document.createElement('li');
      item.textContent = String(one);
      totpRecoveryList.append(item);
    }
    totpRecovery.hidden = false;
    showStatus('totp.enabled', null, 'ok', totpStatus);
    totpRecoveryNote.focus();
  } else if (res.status === 400 && reason === 'invalid_code') {
    totpCode.value = '';
    fieldError(totpCode, 'totp.code_invalid');
    totpCode.focus();
  } else if (res.status === 400 && reason === 'no_enrolment') {
    clearEnrolment();
    totp.enrolling = false;
    renderTotp();
    showStatus('totp.error.no_enrolment', null, 'error', totpStatus);
  } else if (res.status === 401) {
    toLogin();
  } else {
    showError(res, totpStatus);
  }
}

function onEnrolCancel() {
  if (totpBusy) return;
  clearEnrolment();
  totp.enrolling = false;
  showStatus('', null, 'error', totpStatus);
  renderTotp();
  totpEnable.focus();
}

function onRecoveryDone() {
  clearRecovery();
  showStatus('', null, 'error', totpStatus);
  (totp.on ? totpDisable : totpEnable).focus();
}

async function onDisable() {
  if (totpBusy) return;
  showStatus('', null, 'error', totpStatus);
  if (!window.confirm(t('totp.disable_confirm'))) return;
  setTotpBusy(true);
  const res = await deleteJSON('/api/v1/me/totp', { 'X-CSRF-Token': csrf });
  setTotpBusy(false);
  if (res.status === 200) {
    clearRecovery();
    totp.on = false;
    renderTotp();
    showStatus('totp.disabled', null, 'ok', totpStatus);
    totpEnable.focus();
  } else if (res.status === 401) {
    toLogin();
  } else {
    showError(res, totpStatus);
  }
}

totpEnable.addEventListener('click', () => {
  onEnable().catch(() => setTotpBusy(false));
});
totpForm.addEventListener('submit', (event) => {
  onConfirm(event).catch(() => setTotpBusy(false));
});
totpCode.addEventListener('input', () => {
  if (totpCode.getAttribute('aria-invalid') === 'true') fieldError(totpCode, null);
});
totpEnrolCancel.addEventListener('click', onEnrolCancel);
totpRecoveryDone.addEventListener('click', onRecoveryDone);
totpDisable.addEventListener('click', () => {
  onDisable().catch(() => setTotpBusy(false));
});
ready.then(() => {
  totpConfirm.disabled = false;
});

signout.addEventListener('click', () => {
  onSignout().catch(() => {
    busy = false;
    signout.disabled = false;
  });
});

load().catch(() => {});
