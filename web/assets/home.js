// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the tenant home page (/). Served to everyone; it asks
// GET /api/v1/me and, without a session (401), stays as it is: the
// welcome text and the sign-in link. Signed in, the link gives way to the
// account's address, links to /account (and /admin with user.manage) and
// the spaces the account can read (docs/internals/authz-contract.md):
//
// - GET /api/v1/spaces (with GET /api/v1/permissions for the descriptions
//   of the permissions): one item per space, its name, when it was made
//   and the account's own permissions there; a 403 means no space at all.
// - With space.manage in a space: "Renommer" (a small form in place,
//   PATCH {name}; Escape or "Annuler" give up) and "Supprimer" (confirm(),
//   then DELETE).
// - "Nouvel espace": POST /api/v1/spaces {name}; a 403 (the account may
//   not create spaces) hides the form and says why.
//
// After each change the list is asked for again, so it shows what the
// server holds. Every change carries the X-CSRF-Token of /api/v1/me.
// Space names come from people: they are only ever set with textContent.
// Nothing here logs.

import { fieldError, getLang, ready, setText, t } from './app.js';
import { deleteJSON, errorCode, formatWait, getJSON, patchJSON, postJSON } from './api.js';

const signin = document.getElementById('home-signin');
const signedIn = document.getElementById('home-signed-in');
const who = document.getElementById('home-who');
const adminLink = document.getElementById('home-admin-link');
const section = document.getElementById('spaces');
const heading = document.getElementById('spaces-heading');
const status = document.getElementById('spaces-status');
const loading = document.getElementById('spaces-loading');
const empty = document.getElementById('spaces-empty');
const list = document.getElementById('spaces-list');
const form = document.getElementById('space-form');
const nameInput = document.getElementById('space-name');
const submit = document.getElementById('space-submit');
const createDenied = document.getElementById('space-create-denied');

const ID_RE = /^[0-9a-f]{32}$/;
// The refusals of the space routes that have their own sentence.
const SPACE_ERRORS = ['invalid_name', 'too_many', 'forbidden', 'not_found', 'password_expired'];

let csrf = '';
let spaces = [];
// The catalogue: name -> { fr, en }.
const catalogue = new Map();
let busy = false;
// The space being renamed (its id), or null.
let renaming = null;
let shown = false;

function showStatus(key, vars, kind) {
  setText(status, key, vars);
  if (key) status.setAttribute('data-kind', kind || 'error');
  else status.removeAttribute('data-kind');
}

function headers() {
  return { 'X-CSRF-Token': csrf };
}

// The message of an answer that is not the one hoped for.
function showError(res, vars) {
  const code = errorCode(res.data);
  if (res.status === 401) {
    // The session ended meanwhile: the page as a visitor sees it.
    window.location.reload();
  } else if (SPACE_ERRORS.includes(code)) {
    showStatus(`spaces.error.${code}`, vars || { name: '' });
  } else if (res.status === 404) {
    showStatus('spaces.error.not_found', vars || { name: '' });
  } else if (res.status === 400) {
    showStatus('admin.error.refused');
  } else if (res.status === 0) {
    showStatus('common.error.network');
  } else if (res.status === 429) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.too_many_wait' : 'common.error.too_many', wait ? { wait } : null);
  } else if (res.status === 503) {
    const wait = formatWait(res.retryAfter);
    showStatus(wait ? 'common.error.busy_wait' : 'common.error.busy', wait ? { wait } : null);
  } else {
    showStatus('common.error.unexpected', { status: res.status });
  }
}

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

function permText(name) {
  const entry = catalogue.get(name);
  const text = entry && entry[getLang()];
  return typeof text === 'string' ? text : '';
}

function isSpace(v) {
  return v && typeof v === 'object' && typeof v.id === 'string' && ID_RE.test(v.id) && typeof v.name === 'string';
}

function perms(s) {
  return Array.isArray(s.permissions) ? s.permissions.filter((p) => typeof p === 'string') : [];
}

function setBusy(on) {
  busy = on;
  section.setAttribute('aria-busy', on ? 'true' : 'false');
  for (const control of section.querySelectorAll('button')) control.disabled = on;
}

// ---------------------------------------------------------------- list

function detailsRow(dl, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.append(value);
  dl.append(dt, dd);
}

function smallButton(key, namedKey, vars, action, handler, secondary = true) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = secondary ? 'button button-secondary button-small' : 'button button-small';
  b.dataset.action = action;
  b.textContent = t(key);
  if (namedKey) b.setAttribute('aria-label', t(namedKey, vars));
  b.disabled = busy;
  b.addEventListener('click', () => {
    handler(b).catch(() => setBusy(false));
  });
  return b;
}

// The rename form of space s, in place of its buttons.
function renameForm(s) {
  const f = document.createElement('form');
  f.className = 'form rename-form';
  f.noValidate = true;
  f.method = 'post';
  f.action = '/';
  const field = document.createElement('div');
  field.className = 'field';
  const label = document.createElement('label');
  const input = document.createElement('input');
  input.id = `rename-${s.id}`;
  input.type = 'text';
  input.maxLength = 200;
  input.autocomplete = 'off';
  input.value = s.name;
  input.setAttribute('aria-describedby', `${input.id}-error`);
  label.htmlFor = input.id;
  label.textContent = t('spaces.rename_label', { name: s.name });
  const error = document.createElement('p');
  error.className = 'field-error';
  error.id = `${input.id}-error`;
  error.hidden = true;
  field.append(label, input, error);
  const row = document.createElement('div');
  row.className = 'button-row';
  const save = document.createElement('button');
  save.type = 'submit';
  save.className = 'button button-small';
  save.dataset.action = 'save';
  save.textContent = t('spaces.rename_save');
  save.disabled = busy;
  const cancel = smallButton('spaces.rename_cancel', null, null, 'cancel', async () => {
    renaming = null;
    render();
    focusItem(s.id, 'rename');
  });
  row.append(save, cancel);
  f.append(field, row);
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    onRename(s, input).catch(() => setBusy(false));
  });
  f.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      renaming = null;
      render();
      focusItem(s.id, 'rename');
    }
  });
  return f;
}

function spaceItem(s) {
  const li = document.createElement('li');
  li.className = 'token-item';
  li.dataset.id = s.id;
  const name = document.createElement('h3');
  name.className = 'token-name';
  name.textContent = s.name;
  const meta = document.createElement('dl');
  meta.className = 'token-meta';
  detailsRow(meta, t('spaces.created'), timeNode(s.created));
  const chips = document.createElement('ul');
  chips.className = 'token-perms';
  for (const p of perms(s)) {
    const chip = document.createElement('li');
    chip.dataset.permission = p;
    const code = document.createElement('code');
    code.textContent = p;
    const text = permText(p);
    if (text) chip.title = text;
    chip.append(code);
    chips.append(chip);
  }
  detailsRow(meta, t('spaces.my_permissions'), chips);
  li.append(name, meta);
  if (perms(s).includes('space.manage')) {
    if (renaming === s.id) {
      li.append(renameForm(s));
    } else {
      const row = document.createElement('div');
      row.className = 'button-row';
      const vars = { name: s.name };
      row.append(
        smallButton('spaces.rename', 'spaces.rename_named', vars, 'rename', async () => {
          renaming = s.id;
          showStatus('');
          render();
          const input = document.getElementById(`rename-${s.id}`);
          if (input) {
            input.focus();
            input.select();
          }
        }),
        smallButton('spaces.remove', 'spaces.remove_named', vars, 'remove', (b) => onRemove(s, b)),
      );
      li.append(row);
    }
  }
  return li;
}

function render() {
  loading.hidden = true;
  if (renaming && !spaces.some((s) => s.id === renaming)) renaming = null;
  // A redraw (a language switch) keeps what was typed in the rename field.
  const typing = renaming && document.getElementById(`rename-${renaming}`);
  const typed = typing ? typing.value : null;
  const hadFocus = typing && document.activeElement === typing;
  list.replaceChildren(...spaces.map(spaceItem));
  const again = renaming && document.getElementById(`rename-${renaming}`);
  if (again && typed !== null) {
    again.value = typed;
    if (hadFocus) again.focus();
  }
  list.hidden = spaces.length === 0;
  empty.hidden = spaces.length !== 0;
}

function focusItem(id, action) {
  const item = [...list.children].find((li) => li.dataset.id === id);
  const target = item && item.querySelector(`[data-action="${action}"]`);
  (target || heading).focus();
}

// Asks for the spaces; a 403 (doc.read nowhere) is an empty list.
async function fetchSpaces() {
  const res = await getJSON('/api/v1/spaces');
  const got = res.data && res.data.spaces;
  if (res.status === 200 && Array.isArray(got)) {
    spaces = got.filter(isSpace);
    return { ok: true, res };
  }
  if (res.status === 403 && errorCode(res.data) === 'forbidden') {
    spaces = [];
    return { ok: true, res };
  }
  return { ok: false, res };
}

// ------------------------------------------------------------- changes

async function onCreate(event) {
  event.preventDefault();
  if (busy) return;
  showStatus('');
  const name = nameInput.value;
  if (!name.trim()) {
    fieldError(nameInput, 'spaces.name_missing');
    nameInput.focus();
    return;
  }
  if (name !== name.trim()) {
    fieldError(nameInput, 'spaces.error.invalid_name');
    nameInput.focus();
    return;
  }
  fieldError(nameInput, null);
  setBusy(true);
  const res = await postJSON('/api/v1/spaces', { name }, headers());
  if (res.status === 401) {
    showError(res);
    return;
  }
  const got = await fetchSpaces();
  setBusy(false);
  render();
  if (res.status === 201 || res.status === 200) {
    nameInput.value = '';
    const made = isSpace(res.data && res.data.space) ? res.data.space.name : name;
    if (got.ok) showStatus('spaces.created_ok', { name: made }, 'ok');
    else showError(got.res);
    nameInput.focus();
    return;
  }
  if (res.status === 403 && errorCode(res.data) === 'forbidden') {
    // Not allowed to create spaces: no form that cannot work, and the
    // reason in its place (focused, so that it is read out).
    form.hidden = true;
    createDenied.hidden = false;
    createDenied.focus();
    return;
  }
  if (errorCode(res.data) === 'invalid_name') {
    fieldError(nameInput, 'spaces.error.invalid_name');
    nameInput.focus();
  }
  showError(res, { name });
}

async function onRename(s, input) {
  if (busy) return;
  showStatus('');
  const name = input.value;
  if (!name.trim() || name !== name.trim()) {
    fieldError(input, name.trim() ? 'spaces.error.invalid_name' : 'spaces.name_missing');
    input.focus();
    return;
  }
  if (name === s.name) {
    renaming = null;
    render();
    focusItem(s.id, 'rename');
    return;
  }
  setBusy(true);
  const res = await patchJSON(`/api/v1/spaces/${encodeURIComponent(s.id)}`, { name }, headers());
  if (res.status === 401) {
    showError(res);
    return;
  }
  const got = await fetchSpaces();
  setBusy(false);
  if (res.status === 200) {
    renaming = null;
    render();
    if (got.ok) showStatus('spaces.renamed', { old: s.name, name }, 'ok');
    else showError(got.res);
    focusItem(s.id, 'rename');
    return;
  }
  if (errorCode(res.data) !== 'invalid_name') renaming = null;
  render();
  showError(res, { name: s.name });
  const again = document.getElementById(`rename-${s.id}`);
  if (again) {
    again.value = name;
    fieldError(again, 'spaces.error.invalid_name');
    again.focus();
  } else {
    focusItem(s.id, 'rename');
  }
}

async function onRemove(s, control) {
  if (busy) return;
  showStatus('');
  if (!window.confirm(t('spaces.remove_confirm', { name: s.name }))) {
    control.focus();
    return;
  }
  setBusy(true);
  const res = await deleteJSON(`/api/v1/spaces/${encodeURIComponent(s.id)}`, headers());
  if (res.status === 401) {
    showError(res);
    return;
  }
  const got = await fetchSpaces();
  setBusy(false);
  render();
  if (res.status === 200) {
    if (got.ok) showStatus('spaces.removed', { name: s.name }, 'ok');
    else showError(got.res);
    heading.focus();
    return;
  }
  showError(res, { name: s.name });
  focusItem(s.id, 'remove');
}

// ---------------------------------------------------------------- page

async function load() {
  const [me] = await Promise.all([getJSON('/api/v1/me'), ready]);
  const user = me.data && me.data.user;
  // A visitor (401), or an answer that says nothing: the page as served.
  if (me.status !== 200 || !user || typeof user.email !== 'string') return;
  csrf = typeof me.data.csrf_token === 'string' ? me.data.csrf_token : '';
  const held = Array.isArray(user.permissions) ? user.permissions : [];
  signin.hidden = true;
  signedIn.hidden = false;
  setText(who, 'home.signed_in_as', { email: user.email });
  adminLink.hidden = !held.includes('user.manage');
  const [got, cat] = await Promise.all([fetchSpaces(), getJSON('/api/v1/permissions')]);
  if (cat.status === 200 && cat.data && Array.isArray(cat.data.permissions)) {
    for (const p of cat.data.permissions) {
      if (p && typeof p.name === 'string') catalogue.set(p.name, { fr: p.fr, en: p.en });
    }
  }
  shown = true;
  if (!got.ok) {
    loading.hidden = true;
    if (got.res.status === 404) showStatus('spaces.error.unavailable');
    else showError(got.res);
    return;
  }
  render();
  form.hidden = false;
  submit.disabled = false;
}

form.addEventListener('submit', (event) => {
  onCreate(event).catch(() => setBusy(false));
});
nameInput.addEventListener('input', () => {
  if (nameInput.getAttribute('aria-invalid') === 'true') fieldError(nameInput, null);
});
document.addEventListener('coffre:lang', () => {
  if (shown) render();
});

load().catch(() => {});
