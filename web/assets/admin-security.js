// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the security settings of the administration page (/admin), over
// GET and PATCH /api/v1/admin/settings/security
// (docs/internals/auth-contract.md, "Security policy of a tenant").
// admin.js owns the page (the session, the step-up dialog) and starts this
// module once the accounts are listed.
//
// GET first: 200 shows the section (section#security) with every field of
// the policy filled in; 403 forbidden (the principal lacks
// settings.security) leaves it hidden; 404 says the settings are not
// available; any other answer is said in the section. The fields and
// their allowed ranges are in admin.html: 2FA (three radio buttons), the
// password and session numbers, the administration addresses (one per
// line) and the accepted upload types (one checkbox each).
//
// "Enregistrer les réglages" sends one PATCH with only the fields that
// differ from what the server last gave (nothing changed: said, nothing
// sent), through withStepUp() with the CSRF token. The server takes all or
// nothing: 400 invalid_setting (or bad_request from the input whitelist)
// names the refused field in its message, which the page marks
// (aria-invalid, its error slot, the focus) while the form keeps what was
// typed; 409 would_lock_you_out marks the address list. 200 answers the
// whole policy, which the form then shows; a value the server keeps other
// than the one asked for is said. The page checks beforehand only that the
// numbers are whole numbers and that the list has at most 32 lines: the
// ranges are the server's to judge. Nothing here logs.

import { t } from './app.js';
import { errorCode, getJSON, patchJSON } from './api.js';

const PATH = '/api/v1/admin/settings/security';
const MFA = ['admins', 'all', 'optional'];
const NUMBERS = ['password_min', 'password_min_admin', 'password_score', 'max_age_days', 'max_age_days_admin',
  'history', 'session_idle_minutes', 'session_max_hours', 'lockout_failures'];
// The server's list of upload types, in its order (the order it keeps).
const UPLOAD_TYPES = ['pdf', 'png', 'jpeg', 'gif', 'webp', 'txt', 'csv', 'md', 'docx', 'xlsx', 'pptx', 'odt',
  'ods', 'odp'];
// Every field of the policy, in the order of the form.
const FIELDS = ['mfa', ...NUMBERS, 'admin_ips', 'upload_types'];
const ADMIN_IPS_MAX = 32;

const $ = (id) => document.getElementById(id);

// The element of a field: the input, the textarea or the fieldset that
// carries its error slot (<id>-error).
function fieldEl(name) {
  return $(`security-${name.replace(/_/g, '-')}`);
}

function fieldLabel(name) {
  return t(`security.${name}.label`);
}

// The policy of an answer, checked field by field, or null.
function parsePolicy(data) {
  if (!data || typeof data !== 'object') return null;
  if (!MFA.includes(data.mfa)) return null;
  for (const name of NUMBERS) {
    if (!Number.isInteger(data[name]) || data[name] < 0) return null;
  }
  if (!Array.isArray(data.admin_ips) || !Array.isArray(data.upload_types)) return null;
  const policy = { mfa: data.mfa };
  for (const name of NUMBERS) policy[name] = data[name];
  policy.admin_ips = data.admin_ips.filter((x) => typeof x === 'string');
  policy.upload_types = UPLOAD_TYPES.filter((x) => data.upload_types.includes(x));
  return policy;
}

// The field a refusal names: the message of invalid_setting and of the
// input whitelist quote it ('lockout_failures' is out of range...).
function refusedField(data) {
  const message = data && data.error && typeof data.error.message === 'string' ? data.error.message : '';
  const m = /'([a-z_]+)'/.exec(message);
  return m && FIELDS.includes(m[1]) ? m[1] : null;
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// options (from admin.js):
//   me: { totp, ... } of the signed-in account;
//   csrf(): the CSRF token of /api/v1/me;
//   withStepUp(send, opener): sends, with the password dialog on demand;
//   showError(res, el): the message of an unexpected answer;
//   showStatus(key, vars, kind, el), fieldError(input, key);
//   toLogin(): leaves for /login (the session ended).
// Returns { start, redraw }.
export function createSecurity(options) {
  const { me, csrf, withStepUp, showError, showStatus, fieldError, toLogin } = options;

  const el = {
    section: $('security'),
    heading: $('security-heading'),
    status: $('security-status'),
    loading: $('security-loading'),
    form: $('security-form'),
    submit: $('security-submit'),
    reset: $('security-reset'),
    ips: $('security-admin-ips'),
    nav: document.querySelector('[data-nav="security"]'),
  };

  const state = {
    // The policy as the server last gave it, or null.
    policy: null,
    busy: false,
    // The last message, redrawn on a language switch when it names
    // fields: { key, fields, kind } or null.
    named: null,
  };

  const mfaRadios = () => [...el.form.querySelectorAll('input[name="mfa"]')];
  const typeBoxes = () => [...el.form.querySelectorAll('input[name="upload_types"]')];

  // ------------------------------------------------------------ the form

  function clearErrors() {
    for (const name of FIELDS) fieldError(fieldEl(name), null);
  }

  // Fills every field with the policy.
  function fill(policy) {
    for (const radio of mfaRadios()) radio.checked = radio.value === policy.mfa;
    for (const name of NUMBERS) fieldEl(name).value = String(policy[name]);
    el.ips.value = policy.admin_ips.join('\n');
    for (const box of typeBoxes()) box.checked = policy.upload_types.includes(box.value);
  }

  // The addresses typed: one per line, blanks around and empty lines left out.
  function typedIps() {
    return el.ips.value.split(/\r?\n/).map((x) => x.trim()).filter((x) => x !== '');
  }

  // What the form holds: { values, bad } where bad is the first field
  // the page itself refuses, with its message key.
  function read() {
    const values = {};
    let bad = null;
    const chosen = mfaRadios().find((r) => r.checked);
    values.mfa = chosen ? chosen.value : state.policy.mfa;
    for (const name of NUMBERS) {
      const input = fieldEl(name);
      const text = input.value.trim();
      if (input.validity.badInput || !/^\d{1,6}$/.test(text)) {
        if (!bad) bad = { name, key: 'security.error.not_number' };
        values[name] = null;
      } else {
        values[name] = Number(text);
      }
    }
    values.admin_ips = typedIps();
    if (values.admin_ips.length > ADMIN_IPS_MAX && !bad) bad = { name: 'admin_ips', key: 'security.error.too_many_ips' };
    values.upload_types = typeBoxes().filter((b) => b.checked).map((b) => b.value);
    values.upload_types = UPLOAD_TYPES.filter((x) => values.upload_types.includes(x));
    return { values, bad };
  }

  // Only what differs from the policy the server last gave.
  function changes(values) {
    const body = {};
    const p = state.policy;
    if (values.mfa !== p.mfa) body.mfa = values.mfa;
    for (const name of NUMBERS) {
      if (values[name] !== p[name]) body[name] = values[name];
    }
    if (!sameList(values.admin_ips, p.admin_ips)) body.admin_ips = values.admin_ips;
    if (!sameList(values.upload_types, p.upload_types)) body.upload_types = values.upload_types;
    return body;
  }

  // The fields the server answered with another value than the one sent.
  // Addresses are compared by count (the server writes them in canonical
  // form: 192.0.2.7 comes back as 192.0.2.7/32).
  function differing(sent, policy) {
    return Object.keys(sent).filter((name) => {
      if (name === 'admin_ips') return sent.admin_ips.length !== policy.admin_ips.length;
      if (name === 'upload_types') return !sameList(sent.upload_types, policy.upload_types);
      return sent[name] !== policy[name];
    });
  }

  // A message naming fields, redrawn in the page's language on a switch.
  function showNamed(key, fields, kind) {
    state.named = { key, fields, kind };
    const vars = key === 'security.error.invalid_setting'
      ? { field: fieldLabel(fields[0]) }
      : { fields: fields.map(fieldLabel).join(', ') };
    showStatus(key, vars, kind, el.status);
  }

  function say(key, kind) {
    state.named = null;
    showStatus(key, null, kind, el.status);
  }

  // Marks one field as refused and puts the focus in it.
  function markField(name, key) {
    const target = fieldEl(name);
    fieldError(target, key);
    let focus = target;
    if (name === 'mfa') focus = mfaRadios().find((r) => r.checked) || mfaRadios()[0];
    if (name === 'upload_types') focus = typeBoxes().find((b) => b.checked) || typeBoxes()[0];
    focus.focus();
  }

  function setBusy(on) {
    state.busy = on;
    el.submit.disabled = on;
    el.reset.disabled = on;
    el.form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // ---------------------------------------------------------------- save

  async function onSubmit(event) {
    event.preventDefault();
    if (state.busy || !state.policy) return;
    say('', 'error');
    clearErrors();
    const { values, bad } = read();
    if (bad) {
      markField(bad.name, bad.key);
      say('security.check_fields', 'error');
      return;
    }
    const body = changes(values);
    if (Object.keys(body).length === 0) {
      say('security.nothing_changed', 'error');
      return;
    }
    // Turning 2FA on for administrators (or everyone) without having it
    // oneself closes the administration to oneself: ask first.
    if (body.mfa && body.mfa !== 'optional' && me.totp !== true && !window.confirm(t('security.mfa_self_confirm'))) {
      say('security.not_saved', 'error');
      el.submit.focus();
      return;
    }
    setBusy(true);
    const res = await withStepUp(() => patchJSON(PATH, body, { 'X-CSRF-Token': csrf() }), el.submit);
    setBusy(false);
    if (res.status === 200) {
      const policy = parsePolicy(res.data);
      if (!policy) {
        showError(res, el.status); // an answer the page cannot read
        return;
      }
      state.policy = policy;
      fill(policy);
      const off = differing(body, policy);
      if (off.length > 0) showNamed('security.saved_differs', off, 'error');
      else say('security.saved', 'ok');
      el.heading.focus();
      return;
    }
    if (res.status === 401) {
      toLogin();
      return;
    }
    const code = errorCode(res.data);
    state.named = null;
    if (res.stepUpCancelled) {
      showError(res, el.status);
    } else if (res.status === 409 && code === 'would_lock_you_out') {
      markField('admin_ips', 'security.error.lock_field');
      say('security.error.would_lock_you_out', 'error');
    } else if (res.status === 400 && (code === 'invalid_setting' || code === 'bad_request')) {
      const name = refusedField(res.data);
      if (name) {
        markField(name, `security.refused.${name}`);
        showNamed('security.error.invalid_setting', [name], 'error');
      } else {
        say('security.error.invalid_unknown', 'error');
      }
    } else if (res.status === 404) {
      say('security.error.unavailable', 'error');
    } else {
      showError(res, el.status);
    }
  }

  function onReset() {
    if (state.busy || !state.policy) return;
    clearErrors();
    fill(state.policy);
    say('security.reset_done', 'ok');
    el.submit.focus();
  }

  // ---------------------------------------------------------------- page

  function show() {
    el.section.hidden = false;
    if (el.nav) el.nav.hidden = false;
  }

  // Called once the accounts are listed.
  async function start() {
    const res = await getJSON(PATH);
    if (res.status === 401) {
      toLogin();
      return;
    }
    const code = errorCode(res.data);
    if (res.status === 403 && code === 'forbidden') return; // no settings.security: no section
    show();
    el.loading.hidden = true;
    const policy = res.status === 200 ? parsePolicy(res.data) : null;
    if (!policy) {
      if (res.status === 404) say('security.error.unavailable', 'error');
      else showError(res, el.status);
      return;
    }
    state.policy = policy;
    fill(policy);
    el.form.hidden = false;
    el.submit.disabled = false;
  }

  // A language switch: the messages that name fields follow it.
  function redraw() {
    if (state.named) showNamed(state.named.key, state.named.fields, state.named.kind);
  }

  el.form.addEventListener('submit', (event) => {
    onSubmit(event).catch(() => setBusy(false));
  });
  el.reset.addEventListener('click', onReset);
  // A corrected field loses its error as soon as it changes.
  el.form.addEventListener('input', (event) => {
    const holder = event.target.closest('[data-setting]');
    if (holder && holder.getAttribute('aria-invalid') === 'true') fieldError(holder, null);
  });
  el.form.addEventListener('change', (event) => {
    const holder = event.target.closest('[data-setting]');
    if (holder && holder.getAttribute('aria-invalid') === 'true') fieldError(holder, null);
  });

  return { start, redraw };
}
