// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the administration page (/admin), for the accounts of the
// tenant (docs/internals/admin-contract.md). GET /api/v1/me first:
// without a session (401) the page goes to /login; a role without the
// user.manage permission gets a sentence and nothing else. A 403
// mfa_enrolment_required from an administration route (the tenant asks
// administrators for two-factor authentication) shows a message with a
// link to /account, where it is turned on.
//
// Accounts: GET /api/v1/admin/users, one table row each (e-mail, role,
// state, 2FA, lock, last sign-in) with its actions: the role (a select of
// the built-in roles; roles holding a permission the viewer's role lacks
// are offered disabled, as the server would refuse them), disable or
// enable (PATCH {state}), unlock, end every session (POST .../logout),
// reset 2FA (confirm(), then POST .../reset-totp) and remove (confirm(),
// then DELETE). Every action goes through withStepUp() (stepup.js): the
// routes that need a fresh proof of identity open the password dialog.
// After each answer, good or bad, the table is asked for again, so it
// always shows what the server holds; a failed reload keeps the last
// table. The messages go to an aria-live status line.
//
// Invitation: an e-mail and a role, POST /api/v1/admin/users; the new row
// shows as invited. The 201 answer says what became of the link: "mail":
// "queued" (the page says the invitation was sent), or "mail": "off" with
// the link itself when the server has no mail transport: the page then says
// plainly that no mail went out and shows the link, read-only with a copy
// button, to be handed over through a trusted channel. The link is a
// secret until used: it lives only in that field, which "J'ai transmis le
// lien" (or the next invitation) empties. Any other answer only says the
// account was created.
//
// Roles, groups, grants and the permissions of an account: admin-authz.js,
// which this script starts once the accounts are listed; the accounts
// table shows each account's groups and a "Permissions" button.
//
// Security settings (settings.security): admin-security.js, started with
// the authorization parts; the section shows when
// GET /api/v1/admin/settings/security answers 200.
//
// Access journal (with audit.read): GET /api/v1/admin/logins, 50 lines a
// page, newest first, filtered by outcome; "Plus anciennes" asks for the
// lines before next_before and adds them below.
//
// Every state-changing request carries the X-CSRF-Token of /api/v1/me,
// which lives only in this script's memory. Nothing here logs.

import { copyField, fieldError, getLang, ready, setText, t } from './app.js';
import { deleteJSON, errorCode, formatWait, getJSON, patchJSON, postJSON } from './api.js';
import { createStepUp } from './stepup.js';
import { createAuthz } from './admin-authz.js';
import { createSecurity } from './admin-security.js';

const main = document.getElementById('main');
const loading = document.getElementById('admin-loading');
const status = document.getElementById('admin-status');
const denied = document.getElementById('admin-denied');
const mfaBlock = document.getElementById('admin-mfa');
const content = document.getElementById('admin-content');

const usersSection = document.getElementById('users');
const usersHeading = document.getElementById('users-heading');
const usersStatus = document.getElementById('users-status');
const usersLoading = document.getElementById('users-loading');
const usersEmpty = document.getElementById('users-empty');
const usersWrap = document.getElementById('users-wrap');
const usersBody = document.getElementById('users-body');

const inviteStatus = document.getElementById('invite-status');
const inviteForm = document.getElementById('invite-form');
const inviteEmail = document.getElementById('invite-email');
const inviteRole = document.getElementById('invite-role');
const inviteSubmit = document.getElementById('invite-submit');
const inviteLink = document.getElementById('invite-link');
const inviteLinkLabel = document.getElementById('invite-link-label');
const inviteLinkValue = document.getElementById('invite-link-value');
const inviteLinkCopy = document.getElementById('invite-link-copy');
const inviteLinkCopyStatus = document.getElementById('invite-link-copy-status');
const inviteLinkDone = document.getElementById('invite-link-done');

const journalSection = document.getElementById('journal');
const journalOutcome = document.getElementById('journal-outcome');
const journalStatus = document.getElementById('journal-status');
const journalLoading = document.getElementById('journal-loading');
const journalEmpty = document.getElementById('journal-empty');
const journalWrap = document.getElementById('journal-wrap');
const journalBody = document.getElementById('journal-body');
const journalMoreRow = document.getElementById('journal-more-row');
const journalMore = document.getElementById('journal-more');

const KNOWN_ROLES = ['owner', 'admin', 'member', 'guest', 'auditor'];
const KNOWN_STATES = ['invited', 'active', 'disabled'];
// The outcomes of the access journal (docs/internals/auth-contract.md).
const OUTCOMES = ['success', 'bad_password', 'unknown_user', 'locked', 'banned', 'logout',
  'totp_success', 'totp_failed', 'totp_replay', 'recovery_code',
  'reset_sent', 'reset_throttled', 'reset_unknown'];
// The refusals of the administration routes that have their own message.
const ADMIN_ERRORS = ['role_not_allowed', 'last_owner', 'email_taken', 'unknown_role', 'invalid_email',
  'ip_not_allowed'];
const JOURNAL_LIMIT = 50;

let csrf = '';
// The signed-in account: id, e-mail, the permissions of its role, 2FA on.
const me = { id: null, email: '', permissions: [], totp: false };
// The built-in roles with their permissions (null: not known).
let roles = KNOWN_ROLES.map((name) => ({ name, permissions: null }));
let users = [];
let shown = false;
let usersBusy = false;
let inviteBusy = false;
// The journal as listed: its lines, the id to page from (null: no
// older lines), the filter, and the number of the last request sent (an
// answer to an older one is dropped).
const journal = { rows: [], next: null, outcome: '', seq: 0, busy: false };

// ------------------------------------------------------------- helpers

// A message in el; kind 'error' (default) or 'ok'. An empty key empties it.
function showStatus(key, vars, kind, el) {
  setText(el, key, vars);
  if (key) el.setAttribute('data-kind', kind || 'error');
  else el.removeAttribute('data-kind');
}

function toLogin() {
  // replace: Back must not return to a page that needs the ended session.
  window.location.replace('/login');
}

function showMfa() {
  mfaBlock.hidden = false;
}

// The message of an answer that is not the one hoped for.
function showError(res, el) {
  const code = errorCode(res.data);
  if (res.stepUpCancelled) {
    showStatus('stepup.cancelled', null, 'error', el);
    if (res.opener && res.opener.isConnected) res.opener.focus();
  } else if (res.status === 401) {
    toLogin();
  } else if (res.status === 403 && code === 'mfa_enrolment_required') {
    showMfa();
    showStatus('admin.mfa_required', null, 'error', el);
  } else if (res.status === 403 && code === 'step_up_required') {
    showStatus('stepup.still_required', null, 'error', el);
  } else if (res.status === 403 && code === 'password_expired') {
    showStatus('admin.error.password_expired', null, 'error', el);
  } else if (res.status === 403 && code === 'forbidden') {
    showStatus('admin.error.forbidden', null, 'error', el);
  } else if (ADMIN_ERRORS.includes(code)) {
    showStatus(`admin.error.${code}`, null, 'error', el);
  } else if (res.status === 404) {
    showStatus('admin.error.not_found', null, 'error', el);
  } else if (res.status === 400) {
    showStatus('admin.error.refused', null, 'error', el);
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

function csrfHeader() {
  return { 'X-CSRF-Token': csrf };
}

const { withStepUp, setUsername } = createStepUp({ csrf: () => csrf, showError, toLogin });

// Roles, groups, grants and the permissions preview (admin-authz.js).
const authz = createAuthz({
  me,
  csrf: () => csrf,
  withStepUp,
  showError,
  showStatus,
  fieldError,
  timeNode,
  roleLabel,
  users: () => users,
  reloadUsers: async () => {
    const list = await fetchUsers();
    if (list.ok) renderUsers();
    return list;
  },
  renderUsers: () => renderUsers(),
});

// The security settings (admin-security.js).
const security = createSecurity({ me, csrf: () => csrf, withStepUp, showError, showStatus, fieldError, toLogin });

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

function roleLabel(name) {
  return KNOWN_ROLES.includes(name) ? t(`account.role.${name}`) : name;
}

// May the viewer give this role? Only when its role holds every
// permission of that role (the server's no-escalation rule).
function grantable(name) {
  const role = roles.find((r) => r.name === name);
  if (!role || !Array.isArray(role.permissions)) return true; // the server decides
  return role.permissions.every((p) => me.permissions.includes(p));
}

// The options of a role select: every built-in role (and current, if the
// list lacks it), those the viewer may not give disabled, except current.
function fillRoles(select, current) {
  const names = roles.map((r) => r.name);
  if (current && !names.includes(current)) names.push(current);
  select.replaceChildren(...names.map((name) => {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = roleLabel(name);
    option.disabled = name !== current && !grantable(name);
    option.selected = name === current;
    return option;
  }));
}

// An object id of the API: a whole number, or a public id (a string of
// URL-safe characters) as the accounts get them.
function isId(v) {
  return (Number.isInteger(v) && v > 0) || (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v));
}

function isAccount(v) {
  return v && typeof v === 'object' && isId(v.id) && typeof v.email === 'string'
    && typeof v.role === 'string' && typeof v.state === 'string';
}

// Is u the signed-in account? The same id, or the same address (an
// address has one account in a tenant).
function isSelf(u) {
  return (me.id !== null && u.id === me.id) || u.email.toLowerCase() === me.email.toLowerCase();
}

function userPath(u, tail = '') {
  return `/api/v1/admin/users/${encodeURIComponent(String(u.id))}${tail}`;
}

// ------------------------------------------------------------- accounts

function setUsersBusy(on) {
  usersBusy = on;
  usersSection.setAttribute('aria-busy', on ? 'true' : 'false');
  for (const control of usersBody.querySelectorAll('button, select')) control.disabled = on;
}

// A cell of the accounts table. The explicit roles and the column name in
// data-label keep it a table for assistive technology when small screens
// lay each row out as a block (style.css, .table-stack).
function cell(column, tag = 'td') {
  const el = document.createElement(tag);
  el.setAttribute('role', tag === 'th' ? 'rowheader' : 'cell');
  el.dataset.label = t(`admin.col.${column}`);
  return el;
}

function textCell(column, key) {
  const td = cell(column);
  td.textContent = t(key);
  return td;
}

function actionButton(u, action, key, namedKey, handler) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button button-secondary button-small';
  button.dataset.action = action;
  button.textContent = t(key);
  // Several rows: the name says which account (and starts with the text shown).
  button.setAttribute('aria-label', t(namedKey, { email: u.email }));
  button.disabled = usersBusy;
  button.addEventListener('click', () => {
    handler(u, button).catch(() => setUsersBusy(false));
  });
  return button;
}

function userRow(u) {
  const tr = document.createElement('tr');
  tr.setAttribute('role', 'row');
  tr.dataset.id = String(u.id);
  tr.dataset.state = u.state;

  const email = cell('email', 'th');
  email.scope = 'row';
  email.className = 'cell-email';
  email.textContent = u.email; // the address as the server holds it: never parsed as HTML
  if (isSelf(u)) {
    const you = document.createElement('span');
    you.className = 'badge';
    you.textContent = t('admin.you');
    email.append(' ', you);
  }

  const roleCell = cell('role');
  const select = document.createElement('select');
  select.dataset.action = 'role';
  select.setAttribute('aria-label', t('admin.role_of', { email: u.email }));
  fillRoles(select, u.role);
  select.disabled = usersBusy;
  select.addEventListener('change', () => {
    onRole(u, select).catch(() => setUsersBusy(false));
  });
  roleCell.append(select);

  // The account's direct groups, by name once the groups are known.
  const groupsCell = cell('groups');
  const ids = Array.isArray(u.groups) ? u.groups.filter((g) => typeof g === 'string') : [];
  const names = authz.groupNames(ids);
  groupsCell.dataset.groups = ids.join(' ');
  if (ids.length === 0) {
    const none = document.createElement('span');
    none.className = 'muted';
    none.textContent = t('authz.none');
    groupsCell.append(none);
  } else if (names) {
    groupsCell.textContent = names.join(', ');
  } else {
    groupsCell.textContent = t('authz.groups.count', { count: ids.length });
  }

  const state = cell('state');
  state.textContent = KNOWN_STATES.includes(u.state) ? t(`admin.state.${u.state}`) : u.state;
  state.className = 'cell-state';
  state.dataset.state = u.state;
  const totp = textCell('totp', u.totp === true ? 'admin.totp.on' : 'admin.totp.off');
  totp.dataset.totp = u.totp === true ? 'on' : 'off';
  const locked = textCell('locked', u.locked === true ? 'admin.locked.yes' : 'admin.locked.no');
  locked.dataset.locked = u.locked === true ? 'yes' : 'no';
  if (u.locked === true) locked.className = 'cell-alert';
  const last = cell('last_login');
  last.append(typeof u.last_login === 'string' ? timeNode(u.last_login) : t('admin.never'));

  const actions = cell('actions');
  const row = document.createElement('div');
  row.className = 'button-row';
  if (u.state === 'disabled') {
    row.append(actionButton(u, 'state', 'admin.action.enable', 'admin.action.enable_named', onEnable));
  } else {
    row.append(actionButton(u, 'state', 'admin.action.disable', 'admin.action.disable_named', onDisable));
  }
  if (u.locked === true) {
    row.append(actionButton(u, 'unlock', 'admin.action.unlock', 'admin.action.unlock_named', onUnlock));
  }
  if (u.state === 'active') {
    row.append(actionButton(u, 'logout', 'admin.action.logout', 'admin.action.logout_named', onLogout));
  }
  if (u.totp === true) {
    row.append(actionButton(u, 'reset-totp', 'admin.action.reset_totp', 'admin.action.reset_totp_named',
      onResetTotp));
  }
  row.append(actionButton(u, 'remove', 'admin.action.remove', 'admin.action.remove_named', onRemove));
  row.append(actionButton(u, 'permissions', 'authz.preview.open', 'authz.preview.open_named',
    (who, button) => authz.openPreview(who, button)));
  actions.append(row);

  tr.append(email, roleCell, groupsCell, state, totp, locked, last, actions);
  return tr;
}

function renderUsers() {
  usersLoading.hidden = true;
  usersBody.replaceChildren(...users.map(userRow));
  usersWrap.hidden = users.length === 0;
  usersEmpty.hidden = users.length !== 0;
  authz.usersChanged();
}

// Asks for the accounts; { ok, res }. The list is kept only when it came.
async function fetchUsers() {
  const res = await getJSON('/api/v1/admin/users');
  const list = res.data && res.data.users;
  if (res.status === 200 && Array.isArray(list)) {
    users = list.filter(isAccount);
    return { ok: true, res };
  }
  return { ok: false, res };
}

// Gives the focus back to the same control of the same row after a
// redraw; the row gone, to its first control; the row removed, to the
// section's heading.
function restoreFocus(key) {
  const row = [...usersBody.querySelectorAll('tr')].find((tr) => tr.dataset.id === key.id);
  const target = row && (row.querySelector(`[data-action="${key.action}"]`) || row.querySelector('button, select'));
  (target || usersHeading).focus();
}

// One action on the row of u, started from control: send() makes the
// request; done(data) gives the [key, vars] of the message of a 200.
// Whatever the answer, the table is asked for again.
async function runAction(u, control, send, done) {
  if (usersBusy) return;
  const key = { id: String(u.id), action: control.dataset.action };
  showStatus('', null, 'error', usersStatus);
  setUsersBusy(true);
  const res = await withStepUp(send, control);
  if (res.status === 401) {
    toLogin();
    return;
  }
  const list = await fetchUsers();
  setUsersBusy(false);
  renderUsers();
  restoreFocus(key);
  if (res.status === 200 && !list.ok) {
    showError(list.res, usersStatus);
  } else if (res.status === 200) {
    const [msg, vars] = done(res.data || {});
    showStatus(msg, vars, 'ok', usersStatus);
  } else {
    showError({ ...res, opener: null }, usersStatus);
  }
}

function onRole(u, select) {
  const role = select.value;
  return runAction(u, select,
    () => patchJSON(userPath(u), { role }, csrfHeader()),
    () => ['admin.done.role', { email: u.email, role: roleLabel(role) }]);
}

function onDisable(u, button) {
  return runAction(u, button,
    () => patchJSON(userPath(u), { state: 'disabled' }, csrfHeader()),
    () => ['admin.done.disabled', { email: u.email }]);
}

function onEnable(u, button) {
  return runAction(u, button,
    () => patchJSON(userPath(u), { state: 'active' }, csrfHeader()),
    () => ['admin.done.enabled', { email: u.email }]);
}

function onUnlock(u, button) {
  return runAction(u, button,
    () => postJSON(userPath(u, '/unlock'), {}, csrfHeader()),
    () => ['admin.done.unlocked', { email: u.email }]);
}

async function onLogout(u, button) {
  if (usersBusy) return;
  // Oneself included: this session ends too, and the page goes to /login.
  if (isSelf(u) && !window.confirm(t('admin.logout_self_confirm'))) return;
  await runAction(u, button,
    () => postJSON(userPath(u, '/logout'), {}, csrfHeader()),
    (data) => ['admin.done.logout', { email: u.email, count: Number.isInteger(data.ended) ? data.ended : 0 }]);
}

async function onResetTotp(u, button) {
  if (usersBusy) return;
  showStatus('', null, 'error', usersStatus);
  if (!window.confirm(t('admin.reset_totp_confirm', { email: u.email }))) return;
  await runAction(u, button,
    () => postJSON(userPath(u, '/reset-totp'), {}, csrfHeader()),
    () => ['admin.done.totp_reset', { email: u.email }]);
}

async function onRemove(u, button) {
  if (usersBusy) return;
  showStatus('', null, 'error', usersStatus);
  if (!window.confirm(t('admin.remove_confirm', { email: u.email }))) return;
  await runAction(u, button,
    () => deleteJSON(userPath(u), csrfHeader()),
    () => ['admin.done.removed', { email: u.email }]);
}

// ----------------------------------------------------------- invitation

function setInviteBusy(on) {
  inviteBusy = on;
  inviteSubmit.disabled = on;
  inviteForm.setAttribute('aria-busy', on ? 'true' : 'false');
}

// The link of an invitation the server could not mail: an https URL to
// this tenant's /setup page with its token after '#', or null.
function handOverLink(data) {
  if (!data || data.mail !== 'off' || typeof data.link !== 'string') return null;
  let url;
  try {
    url = new URL(data.link);
  } catch {
    return null;
  }
  return url.protocol === 'https:' && url.pathname === '/setup' && url.hash.length > 1 ? data.link : null;
}

function showInviteLink(link, email) {
  setText(inviteLinkLabel, 'admin.invite.link_label', { email });
  inviteLinkValue.value = link;
  setText(inviteLinkCopyStatus, '');
  inviteLink.hidden = false;
}

function hideInviteLink() {
  inviteLink.hidden = true;
  inviteLinkValue.value = '';
  setText(inviteLinkCopyStatus, '');
}

async function onInviteLinkCopy() {
  if (!inviteLinkValue.value) return;
  const copied = await copyField(inviteLinkValue);
  setText(inviteLinkCopyStatus, copied ? 'admin.invite.link_copied' : 'admin.invite.link_copy_failed');
}

function onInviteLinkDone() {
  hideInviteLink();
  showStatus('', null, 'error', inviteStatus);
  inviteEmail.focus();
}

async function onInvite(event) {
  event.preventDefault();
  if (inviteBusy) return;
  showStatus('', null, 'error', inviteStatus);
  hideInviteLink();
  const email = inviteEmail.value.trim();
  if (!email) {
    fieldError(inviteEmail, 'admin.invite.email_missing');
    inviteEmail.focus();
    return;
  }
  if (!email.includes('@')) {
    fieldError(inviteEmail, 'login.email_invalid');
    inviteEmail.focus();
    return;
  }
  fieldError(inviteEmail, null);
  const role = inviteRole.value;
  setInviteBusy(true);
  const res = await withStepUp(() => postJSON('/api/v1/admin/users', { email, role }, csrfHeader()),
    inviteSubmit);
  if (res.status === 201 || res.status === 200) {
    const sent = res.data && res.data.user && typeof res.data.user.email === 'string'
      ? res.data.user.email : email;
    const link = handOverLink(res.data);
    const mailed = res.data && res.data.mail === 'queued';
    inviteEmail.value = '';
    const list = await fetchUsers();
    setInviteBusy(false);
    renderUsers();
    if (link) {
      // Said even when the list failed to reload: the link must not be lost.
      showStatus('admin.invite.no_mail', { email: sent }, 'warning', inviteStatus);
      showInviteLink(link, sent);
      inviteLinkCopy.focus();
      return;
    }
    if (list.ok) showStatus(mailed ? 'admin.invite.sent' : 'admin.invite.created', { email: sent }, 'ok', inviteStatus);
    else showError(list.res, inviteStatus);
    inviteEmail.focus();
    return;
  }
  setInviteBusy(false);
  const code = errorCode(res.data);
  if (code === 'invalid_email' || code === 'email_taken') {
    inviteEmail.setAttribute('aria-invalid', 'true');
    inviteEmail.focus();
  }
  showError(res, inviteStatus);
}

// ------------------------------------------------------- access journal

function outcomeLabel(outcome) {
  return OUTCOMES.includes(outcome) ? t(`admin.outcome.${outcome}`) : outcome;
}

// The filter's options, in the page's language; the choice is kept.
function fillOutcomes() {
  const chosen = journalOutcome.value;
  const all = document.createElement('option');
  all.value = '';
  all.textContent = t('admin.journal.all');
  journalOutcome.replaceChildren(all, ...OUTCOMES.map((name) => {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = outcomeLabel(name);
    return option;
  }));
  journalOutcome.value = chosen;
}

function journalRow(line) {
  const tr = document.createElement('tr');
  tr.dataset.outcome = String(line.outcome);
  const time = document.createElement('td');
  time.append(timeNode(line.time));
  const email = document.createElement('td');
  if (typeof line.email === 'string' && line.email) {
    email.textContent = line.email;
  } else {
    const unknown = document.createElement('span');
    unknown.className = 'muted';
    unknown.textContent = t('admin.journal.unknown_address');
    email.append(unknown);
  }
  const outcome = document.createElement('td');
  outcome.textContent = outcomeLabel(String(line.outcome));
  const ip = document.createElement('td');
  ip.className = 'mono';
  ip.textContent = typeof line.client_ip === 'string' ? line.client_ip : '';
  const device = document.createElement('td');
  device.textContent = typeof line.device === 'string' ? line.device : '';
  tr.append(time, email, outcome, ip, device);
  return tr;
}

function renderJournal() {
  journalBody.replaceChildren(...journal.rows.map(journalRow));
  journalWrap.hidden = journal.rows.length === 0;
  journalEmpty.hidden = journal.rows.length !== 0;
  journalMoreRow.hidden = journal.next === null;
}

function setJournalBusy(on) {
  journal.busy = on;
  journalMore.disabled = on;
  journalSection.setAttribute('aria-busy', on ? 'true' : 'false');
}

// The first page (more false) or the next older one.
async function loadJournal(more) {
  if (more && (journal.busy || journal.next === null)) return;
  const seq = ++journal.seq;
  const params = new URLSearchParams({ limit: String(JOURNAL_LIMIT) });
  if (journal.outcome) params.set('outcome', journal.outcome);
  if (more) params.set('before', String(journal.next));
  showStatus('', null, 'error', journalStatus);
  setJournalBusy(true);
  journalLoading.hidden = more;
  const res = await getJSON(`/api/v1/admin/logins?${params}`);
  if (seq !== journal.seq) return; // a later request (another filter) has the say
  setJournalBusy(false);
  journalLoading.hidden = true;
  const list = res.data && res.data.logins;
  if (res.status !== 200 || !Array.isArray(list)) {
    showError(res, journalStatus);
    return;
  }
  const lines = list.filter((l) => l && typeof l === 'object');
  journal.rows = more ? journal.rows.concat(lines) : lines;
  journal.next = isId(res.data.next_before) ? res.data.next_before : null;
  renderJournal();
  // The button gone (no older lines): the focus goes to the table.
  if (more && journal.next === null) journalWrap.focus();
}

// ---------------------------------------------------------------- page

function loaded() {
  loading.hidden = true;
  main.setAttribute('aria-busy', 'false');
}

async function load() {
  // Ask at once; show once the dictionary is there too.
  const [res] = await Promise.all([getJSON('/api/v1/me'), ready]);
  if (res.status === 401) {
    toLogin();
    return;
  }
  const user = res.data && res.data.user;
  if (res.status !== 200 || !user || typeof user.email !== 'string') {
    loaded();
    showError(res, status);
    return;
  }
  csrf = typeof res.data.csrf_token === 'string' ? res.data.csrf_token : '';
  me.id = isId(user.id) ? user.id : null;
  me.email = user.email;
  me.permissions = Array.isArray(user.permissions) ? user.permissions.filter((p) => typeof p === 'string') : [];
  me.totp = user.totp === true;
  setUsername(user.email);
  if (!me.permissions.includes('user.manage')) {
    loaded();
    denied.hidden = false;
    return;
  }
  const [list, perms] = await Promise.all([fetchUsers(), getJSON('/api/v1/permissions')]);
  loaded();
  if (!list.ok) {
    const code = errorCode(list.res.data);
    if (list.res.status === 403 && code === 'mfa_enrolment_required') {
      showMfa();
    } else if (list.res.status === 403 && code === 'forbidden') {
      denied.hidden = false;
    } else if (list.res.status === 404) {
      // A server without the administration routes.
      showStatus('admin.error.unavailable', null, 'error', status);
    } else {
      showError(list.res, status);
    }
    return;
  }
  const known = perms.status === 200 && perms.data && Array.isArray(perms.data.roles) ? perms.data.roles : null;
  if (known) {
    roles = known.filter((r) => r && typeof r.name === 'string')
      .map((r) => ({ name: r.name, permissions: Array.isArray(r.permissions) ? r.permissions : null }));
  }
  shown = true;
  content.hidden = false;
  renderUsers();
  fillRoles(inviteRole, 'member');
  const catalogue = perms.status === 200 && perms.data && Array.isArray(perms.data.permissions)
    ? perms.data.permissions : [];
  // The security settings are asked for without looking at the role's
  // permissions (a grant may give settings.security); a 403 leaves the
  // section hidden.
  const pending = [authz.start(catalogue), security.start()];
  if (me.permissions.includes('audit.read')) {
    fillOutcomes();
    journalSection.hidden = false;
    document.querySelector('[data-nav="journal"]').hidden = false;
    pending.push(loadJournal(false));
  }
  await Promise.all(pending);
}

// ------------------------------------------------------------ handlers

inviteLinkCopy.addEventListener('click', () => {
  onInviteLinkCopy().catch(() => setText(inviteLinkCopyStatus, 'admin.invite.link_copy_failed'));
});
inviteLinkDone.addEventListener('click', onInviteLinkDone);
inviteForm.addEventListener('submit', (event) => {
  onInvite(event).catch(() => setInviteBusy(false));
});
inviteEmail.addEventListener('input', () => {
  if (inviteEmail.getAttribute('aria-invalid') === 'true') fieldError(inviteEmail, null);
});
journalOutcome.addEventListener('change', () => {
  journal.outcome = journalOutcome.value;
  loadJournal(false).catch(() => setJournalBusy(false));
});
journalMore.addEventListener('click', () => {
  loadJournal(true).catch(() => setJournalBusy(false));
});
// Redraw what is made here (dates, role and outcome names, labels).
document.addEventListener('coffre:lang', () => {
  if (!shown) return;
  renderUsers();
  const chosen = inviteRole.value;
  fillRoles(inviteRole, chosen || 'member');
  if (!journalSection.hidden) {
    fillOutcomes();
    renderJournal();
  }
  authz.redraw();
  security.redraw();
});

ready.then(() => {
  inviteSubmit.disabled = false;
});

load().catch(() => {});
