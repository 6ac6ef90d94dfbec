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
//
// Personal API tokens: GET /api/v1/me/tokens lists them (never the token
// itself) with a "Révoquer" button each (confirm(), then DELETE
// /api/v1/me/tokens/{id}). "Nouveau jeton" opens a form: a name, a
// validity of 1 to 365 days (90 by default) and one checkbox per
// permission the account's role holds (GET /api/v1/permissions gives the
// catalogue with its French and English descriptions and the permissions
// of each role; /me gives the role). POST /api/v1/me/tokens answers the
// token once: it is shown in a read-only field with a copy button until
// "J’ai copié le jeton" empties the field; it is kept nowhere else.
//
// Step-up: a sensitive change (2FA on or off, a new token) answers 403
// step_up_required when the session's last proof of identity is more than
// 5 minutes old. Every action of the page goes through withStepUp()
// (stepup.js, shared with the administration page): that answer opens the
// "Confirmez votre mot de passe" dialog, then the action is sent again,
// once.
//
// When the role's permissions (user.permissions of /me) include
// user.manage, a link to the administration page (/admin) is shown.
//
// Password: the current password, the new one with the live strength
// meter (meter.js; the requests carry the account's e-mail and
// privileged: true for owners and admins, the accounts the server holds
// to the stricter rule) and its confirmation. POST /api/v1/me/password
// {current, new}; success ends every other session. When /me says
// user.password_expired, a banner at the top leads here.
//
// Sessions: GET /api/v1/me/sessions lists the live sessions, this one
// marked; "Terminer" ends another one (DELETE /api/v1/me/sessions/{id}),
// "Terminer toutes les autres sessions" all of them (DELETE
// /api/v1/me/sessions). The list is asked for again after each. This
// session is ended by signing out, so it has no button.
//
// Sign-in history: GET /api/v1/me/logins?limit=20, newest first; "Plus
// anciennes" asks for the next page with before=<next_before>.
//
// Every state-changing request carries X-CSRF-Token.

import { copyField, fieldError, getLang, ready, setText, t } from './app.js';
import { deleteJSON, errorCode, formatWait, getJSON, postJSON } from './api.js';
import { createMeter, refusedVerdict } from './meter.js';
import { createStepUp } from './stepup.js';

const main = document.getElementById('main');
const loading = document.getElementById('account-loading');
const status = document.getElementById('account-status');
const details = document.getElementById('account-details');
const emailOut = document.getElementById('account-email');
const roleOut = document.getElementById('account-role');
const signout = document.getElementById('signout');
const adminLink = document.getElementById('admin-link');

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

const tokensSection = document.getElementById('tokens');
const tokensStatus = document.getElementById('tokens-status');
const tokensLoading = document.getElementById('tokens-loading');
const tokensEmpty = document.getElementById('tokens-empty');
const tokensList = document.getElementById('tokens-list');
const tokenCreated = document.getElementById('token-created');
const tokenCreatedNote = document.getElementById('token-created-note');
const tokenValue = document.getElementById('token-value');
const tokenCopy = document.getElementById('token-copy');
const tokenCopyStatus = document.getElementById('token-copy-status');
const tokenCreatedDone = document.getElementById('token-created-done');
const tokenNewRow = document.getElementById('token-new-row');
const tokenNew = document.getElementById('token-new');
const tokenForm = document.getElementById('token-form');
const tokenName = document.getElementById('token-name');
const tokenDays = document.getElementById('token-days');
const tokenPerms = document.getElementById('token-perms');
const tokenPermsList = document.getElementById('token-perms-list');
const tokenCreate = document.getElementById('token-create');
const tokenFormCancel = document.getElementById('token-form-cancel');

const expiredBanner = document.getElementById('password-expired');
const expiredLink = document.getElementById('password-expired-link');
const pwSection = document.getElementById('password');
const pwStatus = document.getElementById('password-status');
const pwForm = document.getElementById('password-form');
const pwUsername = document.getElementById('password-username');
const pwCurrent = document.getElementById('password-current');
const pwNew = document.getElementById('password-new');
const pwConfirm = document.getElementById('password-confirm');
const pwSubmit = document.getElementById('password-submit');

const sessionsSection = document.getElementById('sessions');
const sessionsStatus = document.getElementById('sessions-status');
const sessionsLoading = document.getElementById('sessions-loading');
const sessionsList = document.getElementById('sessions-list');
const sessionsOthersRow = document.getElementById('sessions-others-row');
const sessionsEndOthers = document.getElementById('sessions-end-others');

const loginsSection = document.getElementById('logins');
const loginsStatus = document.getElementById('logins-status');
const loginsLoading = document.getElementById('logins-loading');
const loginsEmpty = document.getElementById('logins-empty');
const loginsWrap = document.getElementById('logins-wrap');
const loginsBody = document.getElementById('logins-body');
const loginsMoreRow = document.getElementById('logins-more-row');
const loginsMore = document.getElementById('logins-more');

const KNOWN_ROLES = ['owner', 'admin', 'member', 'guest', 'auditor'];
// The roles the server holds to the owners' password rule.
const PRIVILEGED_ROLES = ['owner', 'admin'];
// The outcomes of the access journal (docs/internals/auth-contract.md);
// their names are the administration page's.
const OUTCOMES = ['success', 'bad_password', 'unknown_user', 'locked', 'banned', 'logout',
  'totp_success', 'totp_failed', 'totp_replay', 'recovery_code',
  'reset_sent', 'reset_throttled', 'reset_unknown'];
const LOGINS_LIMIT = 20;
const SVG_NS = 'http://www.w3.org/2000/svg';
// What of the server's QR code SVG is kept: a white <rect>, a black <path>.
const SVG_ELEMENTS = ['svg', 'rect', 'path'];
const SVG_ATTRIBUTES = ['xmlns', 'viewBox', 'width', 'height', 'shape-rendering', 'fill', 'd', 'x', 'y'];
const TOKEN_DAYS_MIN = 1;
const TOKEN_DAYS_MAX = 365;
const TOKEN_NAME_MAX = 64;

let csrf = '';
let role = '';
let email = '';
let pwBusy = false;
let pwConfirmTouched = false;
// The sessions as listed; one action at a time.
const sessions = { list: [], busy: false };
// The history as listed: its lines, the id to page from (null: no older
// lines), and the number of the last request sent (a late answer to an
// older one is dropped).
const logins = { rows: [], next: null, seq: 0, busy: false };
let busy = false;
let totpBusy = false;
let tokenBusy = false;
// 2FA as the server last said; enrolling: between "Activer" and the end.
const totp = { on: false, enrolling: false };
// The tokens as listed; the permission catalogue (name -> {fr, en}) and
// the names the role holds, in catalogue order (null: not loaded).
const tokens = { list: [], catalogue: new Map(), held: null };

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

// The message of an answer that is not the one hoped for: a step-up the
// person called off, the tenant's 2FA rule, the session gone (then
// /login), the rate limit, a busy server, no answer, anything else.
function showError(res, el = status) {
  const code = errorCode(res.data);
  if (res.stepUpCancelled) {
    showStatus('stepup.cancelled', null, 'error', el);
    if (res.opener && res.opener.isConnected) res.opener.focus();
  } else if (res.status === 401) {
    toLogin();
  } else if (res.status === 403 && code === 'step_up_required') {
    showStatus('stepup.still_required', null, 'error', el);
  } else if (res.status === 403 && code === 'mfa_enrolment_required') {
    showStatus('account.error.mfa_enrolment', null, 'error', el);
  } else if (res.status === 0) {
    showStatus('common.error.network', null, 'error', el);
  } else if (res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.too_many_wait' : 'common.error.too_many', wait ? { wait } : null, 'error', el);
  } else if (res.status === 503) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null, 'error', el);
  } else {
    showStatus('common.error.unexpected', { status: res.status }, 'error', el);
  }
}

function clearErrorOnInput(event) {
  // A corrected field loses its error as soon as it is typed in.
  if (event.target.getAttribute('aria-invalid') === 'true') fieldError(event.target, null);
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
  email = user.email;
  stepUp.setUsername(user.email);
  pwUsername.value = user.email;
  role = typeof user.role === 'string' ? user.role : '';
  if (KNOWN_ROLES.includes(role)) {
    setText(roleOut, `account.role.${role}`);
  } else {
    setText(roleOut, '');
    roleOut.textContent = role;
  }
  adminLink.hidden = !(Array.isArray(user.permissions) && user.permissions.includes('user.manage'));
  totp.on = user.totp === true;
  renderTotp();
  details.hidden = false;
  updatePwSubmit();
  if (user.password_expired === true) {
    expiredBanner.hidden = false;
    pwCurrent.focus();
  }
  await Promise.all([loadTokens(), loadSessions(), loadLogins(false)]);
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

// -------------------------------------------------------------- step-up

const stepUp = createStepUp({ csrf: () => csrf, showError, toLogin });
const { withStepUp } = stepUp;

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
  const res = await withStepUp(() => postJSON('/api/v1/me/totp', {}, { 'X-CSRF-Token': csrf }), totpEnable);
  setTotpBusy(false);
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
  const res = await withStepUp(
    () => postJSON('/api/v1/me/totp/confirm', { code }, { 'X-CSRF-Token': csrf }), totpCode);
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
  const res = await withStepUp(() => deleteJSON('/api/v1/me/totp', { 'X-CSRF-Token': csrf }), totpDisable);
  setTotpBusy(false);
  if (res.status === 200) {
    clearRecovery();
    totp.on = false;
    renderTotp();
    showStatus('totp.disabled', null, 'ok', totpStatus);
    totpEnable.focus();
  } else {
    showError(res, totpStatus);
  }
}

// ------------------------------------------------------ API tokens

function isToken(v) {
  return v && typeof v === 'object' && typeof v.id === 'string' && v.id !== ''
    && typeof v.name === 'string' && Array.isArray(v.permissions);
}

function setTokenBusy(on) {
  tokenBusy = on;
  tokensSection.setAttribute('aria-busy', on ? 'true' : 'false');
  for (const button of [tokenNew, tokenCreate, tokenFormCancel]) button.disabled = on;
  for (const button of tokensList.querySelectorAll('button')) button.disabled = on;
}

// An RFC 3339 time of the server as a <time> in the page's language.
function timeNode(iso) {
  const node = document.createElement('time');
  const when = typeof iso === 'string' ? new Date(iso) : null;
  if (!when || Number.isNaN(when.getTime())) {
    node.textContent = typeof iso === 'string' ? iso : '';
    return node;
  }
  node.dateTime = iso;
  node.textContent = new Intl.DateTimeFormat(getLang() === 'en' ? 'en-GB' : 'fr-FR',
    { dateStyle: 'medium', timeStyle: 'short' }).format(when);
  return node;
}

// The description of a permission in the page's language, or ''.
function permText(name) {
  const entry = tokens.catalogue.get(name);
  const text = entry && entry[getLang()];
  return typeof text === 'string' ? text : '';
}

function detailsRow(list, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.append(value);
  list.append(dt, dd);
}

function tokenItem(tok) {
  const item = document.createElement('li');
  item.className = 'token-item';
  item.dataset.id = tok.id;
  const name = document.createElement('p');
  name.className = 'token-name';
  name.textContent = tok.name; // the person's text: never parsed as HTML
  const meta = document.createElement('dl');
  meta.className = 'token-meta';
  const perms = document.createElement('ul');
  perms.className = 'token-perms';
  for (const p of tok.permissions) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = String(p);
    const text = permText(String(p));
    if (text) li.title = text;
    li.append(code);
    perms.append(li);
  }
  detailsRow(meta, t('tokens.col.permissions'), perms);
  detailsRow(meta, t('tokens.col.created'), timeNode(tok.created));
  const expired = Date.parse(tok.expires) <= Date.now();
  detailsRow(meta, t(expired ? 'tokens.col.expired' : 'tokens.col.expires'), timeNode(tok.expires));
  detailsRow(meta, t('tokens.col.last_used'),
    typeof tok.last_used === 'string' ? timeNode(tok.last_used) : t('tokens.never'));
  const revoke = document.createElement('button');
  revoke.type = 'button';
  revoke.className = 'button button-secondary button-small';
  revoke.textContent = t('tokens.revoke');
  // Several "Révoquer" buttons: the name says which one.
  revoke.setAttribute('aria-label', t('tokens.revoke_named', { name: tok.name }));
  revoke.disabled = tokenBusy;
  revoke.addEventListener('click', () => {
    onRevoke(tok, revoke).catch(() => setTokenBusy(false));
  });
  item.append(name, meta, revoke);
  return item;
}

function renderTokenList() {
  tokensList.replaceChildren(...tokens.list.map(tokenItem));
  tokensList.hidden = tokens.list.length === 0;
  tokensEmpty.hidden = tokens.list.length !== 0;
}

// One checkbox per permission of the role; the boxes ticked stay ticked
// across a redraw (a language switch).
function renderPermChoices() {
  if (!tokens.held) return;
  const ticked = new Set(checkedPerms());
  const items = tokens.held.map((name, i) => {
    const li = document.createElement('li');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = `token-perm-${i}`;
    box.value = name;
    box.checked = ticked.has(name);
    box.addEventListener('change', () => fieldError(tokenPerms, null));
    const label = document.createElement('label');
    label.htmlFor = box.id;
    const text = document.createElement('span');
    text.textContent = permText(name) || name;
    const code = document.createElement('code');
    code.textContent = name;
    label.append(text, ' ', code);
    li.append(box, label);
    return li;
  });
  tokenPermsList.replaceChildren(...items);
}

function checkedPerms() {
  return [...tokenPermsList.querySelectorAll('input[type="checkbox"]:checked')].map((b) => b.value);
}

async function loadTokens() {
  const [list, perms] = await Promise.all([
    getJSON('/api/v1/me/tokens'),
    getJSON('/api/v1/permissions'),
  ]);
  tokensLoading.hidden = true;
  if (list.status === 401 || perms.status === 401) {
    toLogin();
    return;
  }
  if (list.status !== 200 || !list.data || !Array.isArray(list.data.tokens)) {
    showError(list, tokensStatus);
    return;
  }
  tokens.list = list.data.tokens.filter(isToken);
  const catalogue = perms.data && perms.data.permissions;
  const roles = perms.data && perms.data.roles;
  if (perms.status !== 200 || !Array.isArray(catalogue) || !Array.isArray(roles)) {
    renderTokenList();
    showError(perms, tokensStatus);
    return;
  }
  tokens.catalogue = new Map();
  for (const p of catalogue) {
    if (p && typeof p.name === 'string') tokens.catalogue.set(p.name, { fr: p.fr, en: p.en });
  }
  const mine = roles.find((r) => r && r.name === role);
  const held = new Set(mine && Array.isArray(mine.permissions) ? mine.permissions : []);
  // In catalogue order, and only names the catalogue knows.
  tokens.held = [...tokens.catalogue.keys()].filter((name) => held.has(name));
  renderTokenList();
  renderPermChoices();
  if (tokens.held.length === 0) {
    showStatus('tokens.no_permission', null, 'error', tokensStatus);
  } else {
    tokenNewRow.hidden = false;
  }
}

function openTokenForm() {
  if (tokenBusy) return;
  showStatus('', null, 'error', tokensStatus);
  tokenName.value = '';
  tokenDays.value = String(90);
  for (const box of tokenPermsList.querySelectorAll('input[type="checkbox"]')) box.checked = false;
  for (const el of [tokenName, tokenDays, tokenPerms]) fieldError(el, null);
  tokenNewRow.hidden = true;
  tokenForm.hidden = false;
  tokenName.focus();
}

function closeTokenForm() {
  tokenForm.hidden = true;
  tokenNewRow.hidden = false;
}

// The form's values, or null (with the errors shown) when one is wrong.
function tokenRequest() {
  let first = null;
  const name = tokenName.value.trim();
  if (!name) {
    fieldError(tokenName, 'tokens.name_missing');
    first = tokenName;
  } else if ([...name].length > TOKEN_NAME_MAX) {
    fieldError(tokenName, 'tokens.name_long');
    first = tokenName;
  } else {
    fieldError(tokenName, null);
  }
  const daysText = tokenDays.value.trim();
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || days < TOKEN_DAYS_MIN || days > TOKEN_DAYS_MAX) {
    fieldError(tokenDays, 'tokens.days_invalid');
    first = first || tokenDays;
  } else {
    fieldError(tokenDays, null);
  }
  const permissions = checkedPerms();
  let wrong = first !== null;
  if (permissions.length === 0) {
    fieldError(tokenPerms, 'tokens.permissions_missing');
    first = first || tokenPermsList.querySelector('input');
    wrong = true;
  } else {
    fieldError(tokenPerms, null);
  }
  if (wrong) {
    if (first) first.focus();
    return null;
  }
  return { name, expires_days: days, permissions };
}

function showCreated(tok) {
  tokenValue.value = tok.token;
  setText(tokenCreatedNote, 'tokens.created_note', { name: tok.name });
  setText(tokenCopyStatus, '');
  tokenCreated.hidden = false;
  tokenValue.focus();
  tokenValue.select();
}

function clearCreated() {
  tokenValue.value = '';
  setText(tokenCopyStatus, '');
  tokenCreated.hidden = true;
}

async function onTokenSubmit(event) {
  event.preventDefault();
  if (tokenBusy) return;
  showStatus('', null, 'error', tokensStatus);
  const body = tokenRequest();
  if (!body) return;
  clearCreated();
  setTokenBusy(true);
  const res = await withStepUp(
    () => postJSON('/api/v1/me/tokens', body, { 'X-CSRF-Token': csrf }), tokenCreate);
  setTokenBusy(false);
  const code = errorCode(res.data);
  if ((res.status === 201 || res.status === 200) && res.data && typeof res.data.token === 'string'
    && isToken(res.data)) {
    const { token, ...listed } = res.data;
    closeTokenForm();
    tokens.list.unshift({ last_used: null, ...listed });
    renderTokenList();
    showStatus('tokens.created', { name: listed.name }, 'ok', tokensStatus);
    showCreated({ token, name: listed.name });
  } else if (res.status === 400 && code === 'invalid_expiry') {
    fieldError(tokenDays, 'tokens.days_invalid');
    tokenDays.focus();
  } else if (res.status === 400 && code === 'unknown_permission') {
    fieldError(tokenPerms, 'tokens.error.unknown_permission');
    tokenPermsList.querySelector('input')?.focus();
  } else if (res.status === 403 && code === 'permission_not_held') {
    fieldError(tokenPerms, 'tokens.error.not_held');
    tokenPermsList.querySelector('input')?.focus();
  } else if (res.status === 409 && code === 'too_many_tokens') {
    showStatus('tokens.error.too_many', null, 'error', tokensStatus);
  } else if (res.status === 400 && code === 'invalid_name') {
    fieldError(tokenName, 'tokens.name_refused');
    tokenName.focus();
  } else if (res.status === 400) {
    showStatus('tokens.error.refused', null, 'error', tokensStatus);
  } else {
    showError(res, tokensStatus);
  }
}

async function onCopy() {
  if (!tokenValue.value) return;
  const copied = await copyField(tokenValue);
  setText(tokenCopyStatus, copied ? 'tokens.copied' : 'tokens.copy_failed');
}

function onCreatedDone() {
  clearCreated();
  showStatus('', null, 'error', tokensStatus);
  tokenNew.focus();
}

async function onRevoke(tok, button) {
  if (tokenBusy) return;
  showStatus('', null, 'error', tokensStatus);
  if (!window.confirm(t('tokens.revoke_confirm', { name: tok.name }))) return;
  setTokenBusy(true);
  const path = `/api/v1/me/tokens/${encodeURIComponent(tok.id)}`;
  const res = await withStepUp(() => deleteJSON(path, { 'X-CSRF-Token': csrf }), button);
  setTokenBusy(false);
  if (res.status === 200 || (res.status === 404 && errorCode(res.data) === 'not_found')) {
    // 404: it was not (or no longer) one of mine: gone either way.
    const at = tokens.list.findIndex((x) => x.id === tok.id);
    if (at >= 0) tokens.list.splice(at, 1);
    renderTokenList();
    showStatus(res.status === 200 ? 'tokens.revoked' : 'tokens.already_gone', { name: tok.name }, 'ok',
      tokensStatus);
    // The focus goes to the next token's button, else the one before, else "Nouveau jeton".
    const buttons = tokensList.querySelectorAll('button');
    const next = buttons[Math.min(Math.max(at, 0), buttons.length - 1)];
    if (next) next.focus();
    else if (!tokenNewRow.hidden) tokenNew.focus();
  } else {
    showError(res, tokensStatus);
  }
}

// ------------------------------------------------------------- password

const pwMeter = createMeter(pwNew, {
  box: document.getElementById('password-strength'),
  meter: document.getElementById('password-strength-meter'),
  level: document.getElementById('password-strength-level'),
  verdict: document.getElementById('password-strength-verdict'),
  checks: document.getElementById('password-strength-checks'),
  hints: document.getElementById('password-strength-hints'),
}, () => (email ? { email, privileged: PRIVILEGED_ROLES.includes(role) }
  : { privileged: PRIVILEGED_ROLES.includes(role) }), () => updatePwSubmit());

function pwMatches() {
  return pwConfirm.value !== '' && pwConfirm.value === pwNew.value;
}

function updatePwConfirmError() {
  const show = pwConfirm.value !== '' && !pwMatches() &&
    (pwConfirmTouched || pwConfirm.value.length >= pwNew.value.length);
  fieldError(pwConfirm, show ? 'setup.error.mismatch' : null);
}

function updatePwSubmit() {
  const verdict = pwMeter.verdict();
  pwSubmit.disabled = pwBusy || !csrf || !verdict || !verdict.acceptable || !pwMatches();
}

function clearPasswordForm() {
  for (const input of [pwCurrent, pwNew, pwConfirm]) {
    input.value = '';
    fieldError(input, null);
  }
  pwConfirmTouched = false;
  pwMeter.reset();
}

async function onPasswordSubmit(event) {
  event.preventDefault();
  if (pwBusy) return;
  showStatus('', null, 'error', pwStatus);
  updatePwConfirmError();
  const verdict = pwMeter.verdict();
  if (!verdict || !verdict.acceptable || !pwMatches()) {
    updatePwSubmit();
    return;
  }
  if (!pwCurrent.value) {
    fieldError(pwCurrent, 'password.error.current_missing');
    pwCurrent.focus();
    return;
  }
  pwBusy = true;
  updatePwSubmit();
  pwSection.setAttribute('aria-busy', 'true');
  const body = { current: pwCurrent.value, new: pwNew.value };
  const res = await withStepUp(
    () => postJSON('/api/v1/me/password', body, { 'X-CSRF-Token': csrf }), pwSubmit);
  pwBusy = false;
  pwSection.setAttribute('aria-busy', 'false');
  const code = errorCode(res.data);
  if (res.status === 200) {
    clearPasswordForm();
    expiredBanner.hidden = true;
    showStatus('password.changed', null, 'ok', pwStatus);
    // The other sessions are over: the list says so.
    loadSessions().catch(() => {});
  } else if (res.status === 400 && code === 'wrong_password') {
    pwCurrent.value = '';
    fieldError(pwCurrent, 'password.error.wrong');
    pwCurrent.focus();
  } else if (res.status === 400 && code === 'weak_password') {
    pwMeter.show(refusedVerdict(res.data));
    fieldError(pwNew, 'password.error.weak');
    pwNew.focus();
  } else {
    showError(res, pwStatus);
  }
  updatePwSubmit();
}

// ------------------------------------------------------------- sessions

function isSession(v) {
  return v && typeof v === 'object' && typeof v.id === 'string' && /^[0-9a-f]{32}$/.test(v.id);
}

function deviceName(sess) {
  return typeof sess.device === 'string' && sess.device ? sess.device : t('sessions.unknown_device');
}

function setSessionsBusy(on) {
  sessions.busy = on;
  sessionsSection.setAttribute('aria-busy', on ? 'true' : 'false');
  sessionsEndOthers.disabled = on;
  for (const button of sessionsList.querySelectorAll('button')) button.disabled = on;
}

function sessionItem(sess) {
  const item = document.createElement('li');
  item.className = 'token-item';
  item.dataset.id = sess.id;
  item.dataset.current = sess.current === true ? 'true' : 'false';
  const name = document.createElement('p');
  name.className = 'token-name';
  name.textContent = deviceName(sess);
  if (sess.current === true) {
    const mark = document.createElement('span');
    mark.className = 'badge session-current';
    mark.textContent = t('sessions.current');
    name.append(' ', mark);
  }
  const meta = document.createElement('dl');
  meta.className = 'token-meta';
  const ip = document.createElement('span');
  ip.className = 'mono';
  ip.textContent = typeof sess.client_ip === 'string' ? sess.client_ip : '';
  detailsRow(meta, t('sessions.col.ip'), ip);
  detailsRow(meta, t('sessions.col.created'), timeNode(sess.created));
  detailsRow(meta, t('sessions.col.last_seen'), timeNode(sess.last_seen));
  item.append(name, meta);
  if (sess.current !== true) {
    const end = document.createElement('button');
    end.type = 'button';
    end.className = 'button button-secondary button-small';
    end.textContent = t('sessions.end');
    // Several "Terminer" buttons: the name says which one.
    end.setAttribute('aria-label', t('sessions.end_named', {
      device: deviceName(sess),
      ip: typeof sess.client_ip === 'string' ? sess.client_ip : '',
    }));
    end.disabled = sessions.busy;
    end.addEventListener('click', () => {
      onEndSession(sess).catch(() => setSessionsBusy(false));
    });
    item.append(end);
  }
  return item;
}

function renderSessions() {
  sessionsList.replaceChildren(...sessions.list.map(sessionItem));
  sessionsList.hidden = sessions.list.length === 0;
  sessionsOthersRow.hidden = !sessions.list.some((x) => x.current !== true);
}

// Asks for the list and redraws it; a failed reload keeps the last list.
async function loadSessions() {
  const res = await getJSON('/api/v1/me/sessions');
  sessionsLoading.hidden = true;
  const list = res.data && res.data.sessions;
  if (res.status !== 200 || !Array.isArray(list)) {
    showError(res, sessionsStatus);
    return false;
  }
  sessions.list = list.filter(isSession);
  renderSessions();
  return true;
}

// After an end: the focus goes to the first remaining "Terminer", else to
// the section's heading.
function focusSessions() {
  const next = sessionsList.querySelector('button');
  if (next) next.focus();
  else document.getElementById('sessions-heading').focus();
}

async function onEndSession(sess) {
  if (sessions.busy) return;
  showStatus('', null, 'error', sessionsStatus);
  setSessionsBusy(true);
  const path = `/api/v1/me/sessions/${encodeURIComponent(sess.id)}`;
  const res = await withStepUp(() => deleteJSON(path, { 'X-CSRF-Token': csrf }), sessionsEndOthers);
  setSessionsBusy(false);
  const device = deviceName(sess);
  if (res.status === 200 || (res.status === 404 && errorCode(res.data) === 'not_found')) {
    // 404: it had ended already (signed out, expired): gone either way.
    showStatus(res.status === 200 ? 'sessions.ended' : 'sessions.already_gone', { device }, 'ok',
      sessionsStatus);
  } else {
    showError(res, sessionsStatus);
  }
  if (res.status !== 401 && await loadSessions()) focusSessions();
}

async function onEndOthers() {
  if (sessions.busy) return;
  showStatus('', null, 'error', sessionsStatus);
  setSessionsBusy(true);
  const res = await withStepUp(() => deleteJSON('/api/v1/me/sessions', { 'X-CSRF-Token': csrf }),
    sessionsEndOthers);
  setSessionsBusy(false);
  const ended = res.data && Number.isInteger(res.data.ended) ? res.data.ended : 0;
  if (res.status === 200) {
    showStatus('sessions.ended_others', { count: ended }, 'ok', sessionsStatus);
  } else {
    showError(res, sessionsStatus);
  }
  if (res.status !== 401 && await loadSessions()) focusSessions();
}

// ------------------------------------------------------ sign-in history

function isCursor(v) {
  return (Number.isInteger(v) && v > 0) || (typeof v === 'string' && /^\d{1,19}$/.test(v));
}

function outcomeLabel(outcome) {
  return OUTCOMES.includes(outcome) ? t(`admin.outcome.${outcome}`) : outcome;
}

function loginRow(line) {
  const tr = document.createElement('tr');
  tr.dataset.outcome = String(line.outcome);
  const time = document.createElement('td');
  time.append(timeNode(line.time));
  const outcome = document.createElement('td');
  outcome.textContent = outcomeLabel(String(line.outcome));
  const ip = document.createElement('td');
  ip.className = 'mono';
  ip.textContent = typeof line.client_ip === 'string' ? line.client_ip : '';
  const device = document.createElement('td');
  device.textContent = typeof line.device === 'string' ? line.device : '';
  tr.append(time, outcome, ip, device);
  return tr;
}

function renderLogins() {
  loginsBody.replaceChildren(...logins.rows.map(loginRow));
  loginsWrap.hidden = logins.rows.length === 0;
  loginsEmpty.hidden = logins.rows.length !== 0;
  loginsMoreRow.hidden = logins.next === null;
}

function setLoginsBusy(on) {
  logins.busy = on;
  loginsMore.disabled = on;
  loginsSection.setAttribute('aria-busy', on ? 'true' : 'false');
}

// The first page (more false) or the next older one.
async function loadLogins(more) {
  if (more && (logins.busy || logins.next === null)) return;
  const seq = ++logins.seq;
  const params = new URLSearchParams({ limit: String(LOGINS_LIMIT) });
  if (more) params.set('before', String(logins.next));
  showStatus('', null, 'error', loginsStatus);
  setLoginsBusy(true);
  const res = await getJSON(`/api/v1/me/logins?${params}`);
  if (seq !== logins.seq) return; // a later request has the say
  setLoginsBusy(false);
  loginsLoading.hidden = true;
  const list = res.data && res.data.logins;
  if (res.status !== 200 || !Array.isArray(list)) {
    showError(res, loginsStatus);
    return;
  }
  const lines = list.filter((l) => l && typeof l === 'object');
  logins.rows = more ? logins.rows.concat(lines) : lines;
  logins.next = isCursor(res.data.next_before) ? res.data.next_before : null;
  renderLogins();
  // The button gone (no older lines): the focus goes to the table.
  if (more && logins.next === null) loginsWrap.focus();
}

// ----------------------------------------------------------- handlers

totpEnable.addEventListener('click', () => {
  onEnable().catch(() => setTotpBusy(false));
});
totpForm.addEventListener('submit', (event) => {
  onConfirm(event).catch(() => setTotpBusy(false));
});
totpCode.addEventListener('input', clearErrorOnInput);
totpEnrolCancel.addEventListener('click', onEnrolCancel);
totpRecoveryDone.addEventListener('click', onRecoveryDone);
totpDisable.addEventListener('click', () => {
  onDisable().catch(() => setTotpBusy(false));
});

tokenNew.addEventListener('click', openTokenForm);
tokenFormCancel.addEventListener('click', () => {
  if (tokenBusy) return;
  closeTokenForm();
  tokenNew.focus();
});
tokenForm.addEventListener('submit', (event) => {
  onTokenSubmit(event).catch(() => setTokenBusy(false));
});
tokenName.addEventListener('input', clearErrorOnInput);
tokenDays.addEventListener('input', clearErrorOnInput);
tokenCopy.addEventListener('click', () => {
  onCopy().catch(() => setText(tokenCopyStatus, 'tokens.copy_failed'));
});
tokenCreatedDone.addEventListener('click', onCreatedDone);
pwForm.addEventListener('submit', (event) => {
  onPasswordSubmit(event).catch(() => {
    pwBusy = false;
    updatePwSubmit();
  });
});
pwCurrent.addEventListener('input', clearErrorOnInput);
pwNew.addEventListener('input', (event) => {
  clearErrorOnInput(event);
  if (pwConfirm.value) updatePwConfirmError();
});
pwConfirm.addEventListener('input', () => {
  updatePwConfirmError();
  updatePwSubmit();
});
pwConfirm.addEventListener('blur', () => {
  pwConfirmTouched = true;
  updatePwConfirmError();
});
expiredLink.addEventListener('click', (event) => {
  event.preventDefault();
  pwCurrent.focus();
});
sessionsEndOthers.addEventListener('click', () => {
  onEndOthers().catch(() => setSessionsBusy(false));
});
loginsMore.addEventListener('click', () => {
  loadLogins(true).catch(() => setLoginsBusy(false));
});

// Redraw what is made here from server data (dates, descriptions).
document.addEventListener('coffre:lang', () => {
  renderTokenList();
  renderPermChoices();
  renderSessions();
  renderLogins();
});

ready.then(() => {
  totpConfirm.disabled = false;
  tokenCreate.disabled = false;
});

signout.addEventListener('click', () => {
  onSignout().catch(() => {
    busy = false;
    signout.disabled = false;
  });
});

load().catch(() => {});
