// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the authorization parts of the administration page (/admin),
// over the routes of docs/internals/authz-contract.md. admin.js owns the
// page (the session, the accounts table, the step-up dialog) and hands
// this module what it needs through createAuthz().
//
// Roles (role.manage): GET /api/v1/admin/roles, the five built-in roles
// first, then the custom ones, each with its permissions and the number
// of grants naming it. A form creates a custom role (a name and one
// checkbox per permission of the catalogue of /api/v1/permissions,
// described in the page's language) or, after "Modifier", changes one
// (PATCH with only what changed). "Supprimer" asks confirm(), then
// DELETE; the server's refusals (permission_not_held, role_in_use, ...)
// have their own sentences.
//
// Groups (role.manage): GET /api/v1/admin/groups; a form with a name, one
// checkbox per account and one per other group; PATCH sends the whole
// lists (a list given replaces the old one). A cycle (400 cycle) says
// which group would contain itself.
//
// Grants (role.manage): GET /api/v1/admin/grants, oldest first; a form
// picks an account or a group, a role and the scope (the whole
// organisation, or one space of GET /api/v1/spaces); "Révoquer" asks
// confirm(), then DELETE.
//
// Permissions of an account (user.manage): the "Permissions" button of an
// account's row asks GET /api/v1/admin/users/{id}/permissions and shows
// its role, its tenant-wide permissions, its groups (nested ones too) and
// the spaces where a grant gives it more.
//
// After every answer, good or bad, the lists concerned are asked for
// again, so the page shows what the server holds. Every change goes
// through withStepUp() and carries the CSRF token. Names come from people:
// they are only ever set with textContent. Nothing here logs.

import { getLang, setText, t } from './app.js';
import { deleteJSON, errorCode, getJSON, patchJSON, postJSON } from './api.js';

const BUILTIN_ROLES = ['owner', 'admin', 'member', 'guest', 'auditor'];
// The refusals of the authorization routes that have their own sentence
// (authz.error.<code>); the others go to admin.js's showError().
const AUTHZ_ERRORS = ['invalid_name', 'name_taken', 'too_many', 'unknown_permission', 'duplicate_permission',
  'permission_not_held', 'role_in_use', 'builtin_role', 'unknown_user', 'unknown_group', 'duplicate_member',
  'cycle', 'unknown_role', 'unknown_space', 'duplicate_grant', 'role_not_allowed'];
// The refusals that concern the name field of a form.
const NAME_ERRORS = ['invalid_name', 'name_taken'];
const PUBLIC_ID_RE = /^[0-9a-f]{32}$/;

const $ = (id) => document.getElementById(id);

function isRoleId(v) {
  return typeof v === 'string' && (PUBLIC_ID_RE.test(v) || BUILTIN_ROLES.includes(v));
}

function isPublicId(v) {
  return typeof v === 'string' && PUBLIC_ID_RE.test(v);
}

function strings(list) {
  return Array.isArray(list) ? list.filter((x) => typeof x === 'string') : [];
}

function isRole(v) {
  return v && typeof v === 'object' && isRoleId(v.id) && typeof v.name === 'string';
}

function isGroup(v) {
  return v && typeof v === 'object' && isPublicId(v.id) && typeof v.name === 'string';
}

function isGrant(v) {
  return v && typeof v === 'object' && isPublicId(v.id) && typeof v.role === 'string';
}

function isSpace(v) {
  return v && typeof v === 'object' && isPublicId(v.id) && typeof v.name === 'string';
}

// options (from admin.js):
//   me: { id, email, permissions } of the signed-in account;
//   csrf(): the CSRF token of /api/v1/me;
//   withStepUp(send, opener): sends, with the password dialog on demand;
//   showError(res, el): the message of an unexpected answer;
//   showStatus(key, vars, kind, el), fieldError(input, key), timeNode(iso);
//   roleLabel(name): a built-in role's name in the page's language;
//   users(): the accounts as listed; reloadUsers(): asks for them again
//   and redraws the accounts table (resolves { ok, res }).
// Returns { start, groupNames, openPreview, redraw, usersChanged }.
export function createAuthz(options) {
  const { me, csrf, withStepUp, showError, showStatus, fieldError, timeNode, roleLabel, users, reloadUsers } = options;

  const el = {
    rolesSection: $('roles'),
    rolesHeading: $('roles-heading'),
    rolesStatus: $('roles-status'),
    rolesLoading: $('roles-loading'),
    rolesWrap: $('roles-wrap'),
    rolesBody: $('roles-body'),
    roleForm: $('role-form'),
    roleFormHeading: $('role-form-heading'),
    roleName: $('role-name'),
    rolePerms: $('role-perms'),
    rolePermsList: $('role-perms-list'),
    roleSubmit: $('role-submit'),
    roleCancel: $('role-cancel'),

    groupsSection: $('groups'),
    groupsHeading: $('groups-heading'),
    groupsStatus: $('groups-status'),
    groupsLoading: $('groups-loading'),
    groupsEmpty: $('groups-empty'),
    groupsWrap: $('groups-wrap'),
    groupsBody: $('groups-body'),
    groupForm: $('group-form'),
    groupFormHeading: $('group-form-heading'),
    groupName: $('group-name'),
    groupMembers: $('group-members'),
    groupMembersList: $('group-members-list'),
    groupMembersEmpty: $('group-members-empty'),
    groupGroups: $('group-groups'),
    groupGroupsList: $('group-groups-list'),
    groupGroupsEmpty: $('group-groups-empty'),
    groupSubmit: $('group-submit'),
    groupCancel: $('group-cancel'),

    grantsSection: $('grants'),
    grantsHeading: $('grants-heading'),
    grantsStatus: $('grants-status'),
    grantsLoading: $('grants-loading'),
    grantsEmpty: $('grants-empty'),
    grantsWrap: $('grants-wrap'),
    grantsBody: $('grants-body'),
    grantForm: $('grant-form'),
    grantPrincipal: $('grant-principal'),
    grantRole: $('grant-role'),
    grantScope: $('grant-scope'),
    grantSubmit: $('grant-submit'),

    preview: $('preview'),
    previewHeading: $('preview-heading'),
    previewStatus: $('preview-status'),
    previewLoading: $('preview-loading'),
    previewBody: $('preview-body'),
    previewRole: $('preview-role'),
    previewPerms: $('preview-perms'),
    previewGroups: $('preview-groups'),
    previewSpaces: $('preview-spaces'),
    previewSpacesEmpty: $('preview-spaces-empty'),
    previewClose: $('preview-close'),
  };

  const state = {
    // The catalogue: [{ name, fr, en }] in catalogue order.
    catalogue: [],
    // The lists as the server last gave them (null: not known).
    roles: null,
    groups: null,
    grants: null,
    spaces: null,
    // The custom role / group being changed in the form, or null.
    editRole: null,
    editGroup: null,
    busy: { roles: false, groups: false, grants: false },
    // What the preview shows: { user, data } or null; seq drops late answers.
    preview: null,
    previewSeq: 0,
    managing: false,
  };

  const headers = () => ({ 'X-CSRF-Token': csrf() });

  // ------------------------------------------------------------ helpers

  // The description of a permission in the page's language, or ''.
  function permText(name) {
    const entry = state.catalogue.find((p) => p.name === name);
    const text = entry && entry[getLang()];
    return typeof text === 'string' ? text : '';
  }

  // The permissions as small labelled chips (the name; the description
  // as the title and in the accessible name).
  function permList(names) {
    const ul = document.createElement('ul');
    ul.className = 'token-perms';
    for (const name of names) {
      const li = document.createElement('li');
      li.dataset.permission = name;
      const code = document.createElement('code');
      code.textContent = name;
      const text = permText(name);
      if (text) li.title = text;
      li.append(code);
      ul.append(li);
    }
    if (names.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = t('authz.none');
      ul.append(li);
    }
    return ul;
  }

  function roleName(id, fallback) {
    if (BUILTIN_ROLES.includes(id)) return roleLabel(id);
    const role = (state.roles || []).find((r) => r.id === id);
    if (role) return role.name;
    return typeof fallback === 'string' ? fallback : id;
  }

  // A role as the grants name it: built-in ones translated.
  function grantRoleName(g) {
    if (BUILTIN_ROLES.includes(g.role)) return roleLabel(g.role);
    return roleName(g.role, g.role_name);
  }

  function userById(id) {
    return users().find((u) => String(u.id) === id) || null;
  }

  function groupById(id) {
    return (state.groups || []).find((g) => g.id === id) || null;
  }

  function spaceById(id) {
    return (state.spaces || []).find((s) => s.id === id) || null;
  }

  function userText(id) {
    const u = userById(id);
    return u ? u.email : t('authz.unknown_account');
  }

  function groupText(id) {
    const g = groupById(id);
    return g ? g.name : t('authz.unknown_group');
  }

  function spaceText(id) {
    if (id === null || id === undefined) return t('authz.scope.tenant');
    const s = spaceById(id);
    return s ? s.name : t('authz.unknown_space');
  }

  function principalText(g) {
    if (typeof g.user === 'string') return userText(g.user);
    if (typeof g.group === 'string') return t('authz.grants.group_named', { name: groupText(g.group) });
    return '';
  }

  function button(key, vars, namedKey, action, handler) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'button button-secondary button-small';
    b.dataset.action = action;
    b.textContent = t(key);
    b.setAttribute('aria-label', t(namedKey, vars));
    b.addEventListener('click', () => {
      handler(b).catch(() => {});
    });
    return b;
  }

  function td(text) {
    const cell = document.createElement('td');
    if (text !== undefined) cell.textContent = text;
    return cell;
  }

  // The message of a refused request: the authorization refusals have
  // their own sentence (vars fill {name}); the rest is admin.js's.
  function refusal(res, el2, vars) {
    const code = errorCode(res.data);
    if (AUTHZ_ERRORS.includes(code) && !res.stepUpCancelled) {
      showStatus(`authz.error.${code}`, vars || { name: '' }, 'error', el2);
    } else if (res.status === 404 && !res.stepUpCancelled) {
      showStatus('authz.error.not_found', null, 'error', el2);
    } else {
      showError(res, el2);
    }
  }

  // Puts a refusal about the name next to the field too.
  function nameRefusal(res, input) {
    const code = errorCode(res.data);
    if (NAME_ERRORS.includes(code)) {
      fieldError(input, `authz.error.${code}_field`);
      input.focus();
    }
  }

  function setSectionBusy(which, section, on) {
    state.busy[which] = on;
    section.setAttribute('aria-busy', on ? 'true' : 'false');
    for (const control of section.querySelectorAll('tbody button, form button[type="submit"]')) {
      control.disabled = on;
    }
  }

  // Asks for one list; resolves { ok, res, list }.
  async function fetchList(path, key, valid) {
    const res = await getJSON(path);
    const list = res.data && res.data[key];
    if (res.status === 200 && Array.isArray(list)) return { ok: true, res, list: list.filter(valid) };
    return { ok: false, res, list: null };
  }

  async function fetchRoles() {
    const r = await fetchList('/api/v1/admin/roles', 'roles', isRole);
    if (r.ok) {
      state.roles = r.list.map((x) => ({ ...x, permissions: strings(x.permissions) }));
    }
    return r;
  }

  async function fetchGroups() {
    const r = await fetchList('/api/v1/admin/groups', 'groups', isGroup);
    if (r.ok) {
      state.groups = r.list.map((x) => ({ ...x, members: strings(x.members), groups: strings(x.groups) }));
    }
    return r;
  }

  async function fetchGrants() {
    const r = await fetchList('/api/v1/admin/grants', 'grants', isGrant);
    if (r.ok) state.grants = r.list;
    return r;
  }

  // The spaces the viewer can read (all of them for an owner or an
  // administrator): the scopes a grant can name. A refusal leaves none.
  async function fetchSpaces() {
    const r = await fetchList('/api/v1/spaces', 'spaces', isSpace);
    state.spaces = r.ok ? r.list : [];
    return r;
  }

  // A list that could not be had: the reason in the section's status, a
  // 404 meaning the server has no such routes.
  function listFailed(r, status, loading) {
    loading.hidden = true;
    if (r.res.status === 404) showStatus('authz.error.unavailable', null, 'error', status);
    else showError(r.res, status);
  }

  // -------------------------------------------------------------- roles

  function roleRow(role) {
    const tr = document.createElement('tr');
    tr.dataset.id = role.id;
    tr.dataset.builtin = role.builtin === true ? 'true' : 'false';
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = role.builtin === true ? roleName(role.id, role.name) : role.name;
    if (role.builtin === true) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t('authz.roles.builtin');
      name.append(' ', badge);
    }
    const perms = td();
    perms.append(permList(role.permissions));
    const grants = td(Number.isInteger(role.grants) ? String(role.grants) : '');
    grants.className = 'cell-number';
    const actions = td();
    if (role.builtin !== true) {
      const row = document.createElement('div');
      row.className = 'button-row';
      const vars = { name: role.name };
      row.append(
        button('authz.edit', vars, 'authz.roles.edit_named', 'edit', (b) => startRoleEdit(role, b)),
        button('admin.action.remove', vars, 'authz.roles.remove_named', 'remove', (b) => onRoleRemove(role, b)),
      );
      actions.append(row);
    }
    tr.append(name, perms, grants, actions);
    return tr;
  }

  function renderRoles() {
    if (!state.roles) return;
    el.rolesLoading.hidden = true;
    el.rolesBody.replaceChildren(...state.roles.map(roleRow));
    el.rolesWrap.hidden = false;
    for (const b of el.rolesBody.querySelectorAll('button')) b.disabled = state.busy.roles;
  }

  // One checkbox per permission of the catalogue; the ticks are kept
  // across a redraw (a language switch) unless given.
  function renderRolePerms(ticked) {
    const keep = ticked || new Set(checked(el.rolePermsList));
    el.rolePermsList.replaceChildren(...state.catalogue.map((p, i) => {
      const li = document.createElement('li');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `role-perm-${i}`;
      box.value = p.name;
      box.checked = keep.has(p.name);
      box.addEventListener('change', () => fieldError(el.rolePerms, null));
      const label = document.createElement('label');
      label.htmlFor = box.id;
      const text = document.createElement('span');
      text.textContent = permText(p.name) || p.name;
      const code = document.createElement('code');
      code.textContent = p.name;
      label.append(text, ' ', code);
      li.append(box, label);
      return li;
    }));
  }

  function checked(list) {
    return [...list.querySelectorAll('input[type="checkbox"]:checked')].map((b) => b.value);
  }

  function roleFormMode() {
    const editing = state.editRole !== null;
    if (editing) {
      setText(el.roleFormHeading, 'authz.roles.edit_heading', { name: state.editRole.name });
      setText(el.roleSubmit, 'authz.save');
    } else {
      setText(el.roleFormHeading, 'authz.roles.new');
      setText(el.roleSubmit, 'authz.roles.create');
    }
    el.roleCancel.hidden = !editing;
  }

  function resetRoleForm() {
    state.editRole = null;
    el.roleName.value = '';
    fieldError(el.roleName, null);
    fieldError(el.rolePerms, null);
    renderRolePerms(new Set());
    roleFormMode();
  }

  function startRoleEdit(role) {
    state.editRole = role;
    showStatus('', null, 'error', el.rolesStatus);
    el.roleName.value = role.name;
    fieldError(el.roleName, null);
    fieldError(el.rolePerms, null);
    renderRolePerms(new Set(role.permissions));
    roleFormMode();
    el.roleName.focus();
    return Promise.resolve();
  }

  function focusRow(body, id, action, fallback) {
    const row = [...body.querySelectorAll('tr')].find((tr) => tr.dataset.id === id);
    const target = row && row.querySelector(`[data-action="${action}"]`);
    (target || fallback).focus();
  }

  async function onRoleSubmit(event) {
    event.preventDefault();
    if (state.busy.roles) return;
    showStatus('', null, 'error', el.rolesStatus);
    const name = el.roleName.value;
    const permissions = checked(el.rolePermsList);
    let bad = false;
    if (!name.trim()) {
      fieldError(el.roleName, 'authz.name_missing');
      bad = true;
    } else if (name !== name.trim()) {
      fieldError(el.roleName, 'authz.error.invalid_name_field');
      bad = true;
    } else {
      fieldError(el.roleName, null);
    }
    if (permissions.length === 0) {
      fieldError(el.rolePerms, 'authz.roles.permissions_missing');
      bad = true;
    } else {
      fieldError(el.rolePerms, null);
    }
    if (bad) {
      (el.roleName.getAttribute('aria-invalid') === 'true' ? el.roleName
        : el.rolePermsList.querySelector('input')).focus();
      return;
    }
    const editing = state.editRole;
    let body;
    if (editing) {
      body = {};
      if (name !== editing.name) body.name = name;
      if (permissions.join() !== editing.permissions.join()) body.permissions = permissions;
      if (Object.keys(body).length === 0) {
        showStatus('authz.nothing_changed', null, 'error', el.rolesStatus);
        return;
      }
    } else {
      body = { name, permissions };
    }
    setSectionBusy('roles', el.rolesSection, true);
    const path = editing ? `/api/v1/admin/roles/${encodeURIComponent(editing.id)}` : '/api/v1/admin/roles';
    const res = await withStepUp(() => (editing ? patchJSON(path, body, headers()) : postJSON(path, body, headers())),
      el.roleSubmit);
    const done = res.status === 200 || res.status === 201;
    const saved = done && isRole(res.data && res.data.role) ? res.data.role.name : name;
    await Promise.all([fetchRoles(), editing ? fetchGrants() : null]);
    setSectionBusy('roles', el.rolesSection, false);
    renderRoles();
    renderGrantChoices();
    if (editing) renderGrants();
    if (done) {
      resetRoleForm();
      showStatus(editing ? 'authz.roles.saved' : 'authz.roles.created', { name: saved }, 'ok', el.rolesStatus);
      if (editing) focusRow(el.rolesBody, editing.id, 'edit', el.rolesHeading);
      else el.roleName.focus();
      return;
    }
    if (res.status === 401) return;
    refusal(res, el.rolesStatus, { name });
    nameRefusal(res, el.roleName);
    if (res.status === 404 && editing) resetRoleForm();
  }

  async function onRoleRemove(role, control) {
    if (state.busy.roles) return;
    showStatus('', null, 'error', el.rolesStatus);
    if (!window.confirm(t('authz.roles.remove_confirm', { name: role.name }))) return;
    setSectionBusy('roles', el.rolesSection, true);
    const res = await withStepUp(
      () => deleteJSON(`/api/v1/admin/roles/${encodeURIComponent(role.id)}`, headers()), control);
    await fetchRoles();
    setSectionBusy('roles', el.rolesSection, false);
    renderRoles();
    renderGrantChoices();
    if (res.status === 200) {
      if (state.editRole && state.editRole.id === role.id) resetRoleForm();
      showStatus('authz.roles.removed', { name: role.name }, 'ok', el.rolesStatus);
      el.rolesHeading.focus();
      return;
    }
    if (res.status === 401) return;
    refusal(res, el.rolesStatus, { name: role.name });
    focusRow(el.rolesBody, role.id, 'remove', el.rolesHeading);
  }

  // ------------------------------------------------------------- groups

  function nameList(names) {
    if (names.length === 0) {
      const none = document.createElement('span');
      none.className = 'muted';
      none.textContent = t('authz.none');
      return none;
    }
    const ul = document.createElement('ul');
    ul.className = 'plain-list';
    for (const n of names) {
      const li = document.createElement('li');
      li.textContent = n;
      ul.append(li);
    }
    return ul;
  }

  function groupRow(group) {
    const tr = document.createElement('tr');
    tr.dataset.id = group.id;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = group.name;
    const members = td();
    members.append(nameList(group.members.map(userText)));
    const inner = td();
    inner.append(nameList(group.groups.map(groupText)));
    const actions = td();
    const row = document.createElement('div');
    row.className = 'button-row';
    const vars = { name: group.name };
    row.append(
      button('authz.edit', vars, 'authz.groups.edit_named', 'edit', (b) => startGroupEdit(group, b)),
      button('admin.action.remove', vars, 'authz.groups.remove_named', 'remove', (b) => onGroupRemove(group, b)),
    );
    actions.append(row);
    tr.append(name, members, inner, actions);
    return tr;
  }

  function renderGroups() {
    if (!state.groups) return;
    el.groupsLoading.hidden = true;
    el.groupsBody.replaceChildren(...state.groups.map(groupRow));
    el.groupsWrap.hidden = state.groups.length === 0;
    el.groupsEmpty.hidden = state.groups.length !== 0;
    for (const b of el.groupsBody.querySelectorAll('button')) b.disabled = state.busy.groups;
  }

  function checkItems(list, prefix, items, keep) {
    list.replaceChildren(...items.map((item, i) => {
      const li = document.createElement('li');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `${prefix}-${i}`;
      box.value = item.id;
      box.checked = keep.has(item.id);
      const label = document.createElement('label');
      label.htmlFor = box.id;
      label.textContent = item.text;
      li.append(box, label);
      return li;
    }));
  }

  // The account and group checkboxes of the group form; the ticks are
  // kept across a redraw unless given.
  function renderGroupChoices(members, inner) {
    const keepMembers = members || new Set(checked(el.groupMembersList));
    const keepGroups = inner || new Set(checked(el.groupGroupsList));
    const accounts = users().map((u) => ({ id: String(u.id), text: u.email }));
    checkItems(el.groupMembersList, 'group-member', accounts, keepMembers);
    el.groupMembersEmpty.hidden = accounts.length !== 0;
    const editing = state.editGroup;
    const others = (state.groups || []).filter((g) => !editing || g.id !== editing.id)
      .map((g) => ({ id: g.id, text: g.name }));
    checkItems(el.groupGroupsList, 'group-group', others, keepGroups);
    el.groupGroupsEmpty.hidden = others.length !== 0;
  }

  function groupFormMode() {
    const editing = state.editGroup !== null;
    if (editing) {
      setText(el.groupFormHeading, 'authz.groups.edit_heading', { name: state.editGroup.name });
      setText(el.groupSubmit, 'authz.save');
    } else {
      setText(el.groupFormHeading, 'authz.groups.new');
      setText(el.groupSubmit, 'authz.groups.create');
    }
    el.groupCancel.hidden = !editing;
  }

  function resetGroupForm() {
    state.editGroup = null;
    el.groupName.value = '';
    fieldError(el.groupName, null);
    renderGroupChoices(new Set(), new Set());
    groupFormMode();
  }

  function startGroupEdit(group) {
    state.editGroup = group;
    showStatus('', null, 'error', el.groupsStatus);
    el.groupName.value = group.name;
    fieldError(el.groupName, null);
    renderGroupChoices(new Set(group.members), new Set(group.groups));
    groupFormMode();
    el.groupName.focus();
    return Promise.resolve();
  }

  // After a change of groups: the groups, the accounts (their groups
  // column) and the grants (a removed group takes its grants along).
  async function refreshAfterGroups() {
    await Promise.all([fetchGroups(), fetchGrants()]);
    // After the groups: the accounts table names them.
    await reloadUsers();
  }

  async function onGroupSubmit(event) {
    event.preventDefault();
    if (state.busy.groups) return;
    showStatus('', null, 'error', el.groupsStatus);
    const name = el.groupName.value;
    if (!name.trim()) {
      fieldError(el.groupName, 'authz.name_missing');
      el.groupName.focus();
      return;
    }
    if (name !== name.trim()) {
      fieldError(el.groupName, 'authz.error.invalid_name_field');
      el.groupName.focus();
      return;
    }
    fieldError(el.groupName, null);
    const members = checked(el.groupMembersList);
    const groups = checked(el.groupGroupsList);
    const editing = state.editGroup;
    const body = { members, groups };
    if (!editing || name !== editing.name) body.name = name;
    setSectionBusy('groups', el.groupsSection, true);
    const path = editing ? `/api/v1/admin/groups/${encodeURIComponent(editing.id)}` : '/api/v1/admin/groups';
    const res = await withStepUp(() => (editing ? patchJSON(path, body, headers()) : postJSON(path, body, headers())),
      el.groupSubmit);
    const done = res.status === 200 || res.status === 201;
    const saved = done && isGroup(res.data && res.data.group) ? res.data.group.name : name;
    await refreshAfterGroups();
    setSectionBusy('groups', el.groupsSection, false);
    renderGroups();
    renderGrants();
    renderGrantChoices();
    if (done) {
      resetGroupForm();
      showStatus(editing ? 'authz.groups.saved' : 'authz.groups.created', { name: saved }, 'ok', el.groupsStatus);
      if (editing) focusRow(el.groupsBody, editing.id, 'edit', el.groupsHeading);
      else el.groupName.focus();
      return;
    }
    if (res.status === 401) return;
    if (editing) {
      // The form keeps what was asked for, against the fresh lists.
      const fresh = groupById(editing.id);
      if (fresh) state.editGroup = fresh;
      else resetGroupForm();
      renderGroupChoices(new Set(members), new Set(groups));
    } else {
      renderGroupChoices(new Set(members), new Set(groups));
    }
    refusal(res, el.groupsStatus, { name: editing ? editing.name : name });
    nameRefusal(res, el.groupName);
    if (errorCode(res.data) === 'cycle') fieldError(el.groupGroups, 'authz.groups.cycle_field');
  }

  async function onGroupRemove(group, control) {
    if (state.busy.groups) return;
    showStatus('', null, 'error', el.groupsStatus);
    if (!window.confirm(t('authz.groups.remove_confirm', { name: group.name }))) return;
    setSectionBusy('groups', el.groupsSection, true);
    const res = await withStepUp(
      () => deleteJSON(`/api/v1/admin/groups/${encodeURIComponent(group.id)}`, headers()), control);
    await refreshAfterGroups();
    setSectionBusy('groups', el.groupsSection, false);
    renderGroups();
    renderGrants();
    renderGrantChoices();
    if (state.editGroup && !groupById(state.editGroup.id)) resetGroupForm();
    else renderGroupChoices();
    if (res.status === 200) {
      showStatus('authz.groups.removed', { name: group.name }, 'ok', el.groupsStatus);
      el.groupsHeading.focus();
      return;
    }
    if (res.status === 401) return;
    refusal(res, el.groupsStatus, { name: group.name });
    focusRow(el.groupsBody, group.id, 'remove', el.groupsHeading);
  }

  // ------------------------------------------------------------- grants

  function grantRow(g) {
    const tr = document.createElement('tr');
    tr.dataset.id = g.id;
    tr.dataset.kind = typeof g.user === 'string' ? 'user' : 'group';
    const who = document.createElement('th');
    who.scope = 'row';
    who.textContent = principalText(g);
    const role = td(grantRoleName(g));
    role.dataset.role = g.role;
    const scope = td(spaceText(g.space));
    scope.dataset.space = typeof g.space === 'string' ? g.space : '';
    const created = td();
    created.append(timeNode(g.created));
    const actions = td();
    actions.append(button('authz.grants.revoke', { role: grantRoleName(g), principal: principalText(g), scope: spaceText(g.space) },
      'authz.grants.revoke_named', 'revoke', (b) => onGrantRevoke(g, b)));
    tr.append(who, role, scope, created, actions);
    return tr;
  }

  function renderGrants() {
    if (!state.grants) return;
    el.grantsLoading.hidden = true;
    el.grantsBody.replaceChildren(...state.grants.map(grantRow));
    el.grantsWrap.hidden = state.grants.length === 0;
    el.grantsEmpty.hidden = state.grants.length !== 0;
    for (const b of el.grantsBody.querySelectorAll('button')) b.disabled = state.busy.grants;
  }

  function option(value, text) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  }

  function optgroup(key, options) {
    const g = document.createElement('optgroup');
    g.label = t(key);
    g.append(...options);
    return g;
  }

  // The three selects of the grant form; what was chosen stays chosen.
  function renderGrantChoices() {
    if (!state.managing) return;
    const who = el.grantPrincipal.value;
    const accounts = users().map((u) => option(`user:${u.id}`, u.email));
    const groups = (state.groups || []).map((g) => option(`group:${g.id}`, g.name));
    const pick = option('', t('authz.grants.choose'));
    const parts = [pick];
    if (accounts.length) parts.push(optgroup('authz.grants.accounts', accounts));
    if (groups.length) parts.push(optgroup('authz.grants.groups', groups));
    el.grantPrincipal.replaceChildren(...parts);
    el.grantPrincipal.value = who;
    if (el.grantPrincipal.value !== who) el.grantPrincipal.value = '';

    const role = el.grantRole.value;
    const roles = state.roles || BUILTIN_ROLES.map((id) => ({ id, name: id, builtin: true }));
    el.grantRole.replaceChildren(...roles.map((r) => option(r.id, r.builtin === true ? roleName(r.id, r.name) : r.name)));
    el.grantRole.value = role || 'member';
    if (!el.grantRole.value && roles.length) el.grantRole.value = roles[0].id;

    const scope = el.grantScope.value;
    el.grantScope.replaceChildren(option('', t('authz.scope.tenant')),
      ...(state.spaces || []).map((s) => option(s.id, t('authz.scope.space_named', { name: s.name }))));
    el.grantScope.value = scope;
    if (el.grantScope.value !== scope) el.grantScope.value = '';
  }

  async function onGrantSubmit(event) {
    event.preventDefault();
    if (state.busy.grants) return;
    showStatus('', null, 'error', el.grantsStatus);
    const who = el.grantPrincipal.value;
    const m = /^(user|group):(.+)$/.exec(who);
    if (!m) {
      fieldError(el.grantPrincipal, 'authz.grants.principal_missing');
      el.grantPrincipal.focus();
      return;
    }
    fieldError(el.grantPrincipal, null);
    const body = { [m[1]]: m[2], role: el.grantRole.value };
    if (el.grantScope.value) body.space = el.grantScope.value;
    const vars = {
      principal: m[1] === 'user' ? userText(m[2]) : t('authz.grants.group_named', { name: groupText(m[2]) }),
      role: roleName(body.role),
      scope: spaceText(body.space || null),
      name: roleName(body.role),
    };
    setSectionBusy('grants', el.grantsSection, true);
    const res = await withStepUp(() => postJSON('/api/v1/admin/grants', body, headers()), el.grantSubmit);
    await Promise.all([fetchGrants(), fetchRoles()]);
    setSectionBusy('grants', el.grantsSection, false);
    renderGrants();
    renderRoles();
    if (res.status === 201 || res.status === 200) {
      showStatus('authz.grants.created', vars, 'ok', el.grantsStatus);
      el.grantSubmit.focus();
      refreshPreview();
      return;
    }
    if (res.status === 401) return;
    refusal(res, el.grantsStatus, vars);
  }

  async function onGrantRevoke(g, control) {
    if (state.busy.grants) return;
    showStatus('', null, 'error', el.grantsStatus);
    const vars = { role: grantRoleName(g), principal: principalText(g), scope: spaceText(g.space), name: grantRoleName(g) };
    if (!window.confirm(t('authz.grants.revoke_confirm', vars))) return;
    setSectionBusy('grants', el.grantsSection, true);
    const res = await withStepUp(
      () => deleteJSON(`/api/v1/admin/grants/${encodeURIComponent(g.id)}`, headers()), control);
    await Promise.all([fetchGrants(), fetchRoles()]);
    setSectionBusy('grants', el.grantsSection, false);
    renderGrants();
    renderRoles();
    if (res.status === 200) {
      showStatus('authz.grants.revoked', vars, 'ok', el.grantsStatus);
      el.grantsHeading.focus();
      refreshPreview();
      return;
    }
    if (res.status === 401) return;
    refusal(res, el.grantsStatus, vars);
    focusRow(el.grantsBody, g.id, 'revoke', el.grantsHeading);
  }

  // ------------------------------------------------------------ preview

  function renderPreview() {
    const p = state.preview;
    if (!p) return;
    setText(el.previewHeading, 'authz.preview.heading', { email: p.user.email });
    if (!p.data) return;
    const d = p.data;
    el.previewRole.textContent = typeof d.role === 'string' ? roleName(d.role) : '';
    el.previewPerms.replaceChildren(permList(strings(d.permissions)));
    const groups = strings(d.groups);
    if (state.groups || groups.length === 0) {
      el.previewGroups.replaceChildren(nameList(groups.map(groupText)));
    } else {
      // Without role.manage the groups cannot be listed: how many, then.
      el.previewGroups.textContent = t('authz.groups.count', { count: groups.length });
    }
    const spaces = Array.isArray(d.spaces) ? d.spaces.filter(isSpace) : [];
    el.previewSpaces.replaceChildren(...spaces.map((s) => {
      const li = document.createElement('li');
      li.dataset.id = s.id;
      const name = document.createElement('p');
      name.className = 'space-perms-name';
      name.textContent = s.name;
      li.append(name, permList(strings(s.permissions)));
      return li;
    }));
    el.previewSpaces.hidden = spaces.length === 0;
    el.previewSpacesEmpty.hidden = spaces.length !== 0;
    el.previewBody.hidden = false;
  }

  async function loadPreview(focus) {
    const p = state.preview;
    if (!p) return;
    const seq = ++state.previewSeq;
    el.previewLoading.hidden = false;
    showStatus('', null, 'error', el.previewStatus);
    const res = await getJSON(`/api/v1/admin/users/${encodeURIComponent(String(p.user.id))}/permissions`);
    if (seq !== state.previewSeq || state.preview !== p) return; // another account asked meanwhile
    el.previewLoading.hidden = true;
    if (res.status === 200 && res.data && typeof res.data === 'object') {
      p.data = res.data;
      renderPreview();
    } else {
      p.data = null;
      el.previewBody.hidden = true;
      if (res.status === 404) showStatus('admin.error.not_found', null, 'error', el.previewStatus);
      else showError(res, el.previewStatus);
    }
    if (focus) el.previewHeading.focus();
  }

  // The permissions of account u, below the accounts table; opener gets
  // the focus back when the panel closes.
  function openPreview(u, opener) {
    state.preview = { user: u, data: null, opener: { id: String(u.id), action: opener.dataset.action } };
    el.previewBody.hidden = true;
    el.preview.hidden = false;
    renderPreview();
    el.previewHeading.focus();
    return loadPreview(true);
  }

  function refreshPreview() {
    if (state.preview && !el.preview.hidden) loadPreview(false).catch(() => {});
  }

  function closePreview() {
    const p = state.preview;
    state.preview = null;
    state.previewSeq++;
    el.preview.hidden = true;
    const body = document.getElementById('users-body');
    const row = p && [...body.querySelectorAll('tr')].find((tr) => tr.dataset.id === p.opener.id);
    const target = row && row.querySelector(`[data-action="${p.opener.action}"]`);
    (target || document.getElementById('users-heading')).focus();
  }

  // --------------------------------------------------------------- page

  function showSection(section, nav) {
    section.hidden = false;
    const item = document.querySelector(`[data-nav="${nav}"]`);
    if (item) item.hidden = false;
  }

  // Called once the accounts are listed. catalogue: the permissions of
  // /api/v1/permissions ([{name, fr, en}]).
  async function start(catalogue) {
    state.catalogue = Array.isArray(catalogue)
      ? catalogue.filter((p) => p && typeof p.name === 'string') : [];
    if (!me.permissions.includes('role.manage')) return;
    state.managing = true;
    showSection(el.rolesSection, 'roles');
    showSection(el.groupsSection, 'groups');
    showSection(el.grantsSection, 'grants');
    renderRolePerms(new Set());
    renderGroupChoices(new Set(), new Set());
    const [roles, groups, grants] = await Promise.all([fetchRoles(), fetchGroups(), fetchGrants(), fetchSpaces()]);
    if (roles.ok) renderRoles();
    else listFailed(roles, el.rolesStatus, el.rolesLoading);
    if (groups.ok) {
      renderGroups();
      renderGroupChoices();
    } else {
      listFailed(groups, el.groupsStatus, el.groupsLoading);
    }
    if (grants.ok) renderGrants();
    else listFailed(grants, el.grantsStatus, el.grantsLoading);
    el.roleForm.hidden = !roles.ok;
    el.groupForm.hidden = !groups.ok;
    el.grantForm.hidden = !grants.ok;
    renderGrantChoices();
    el.roleSubmit.disabled = false;
    el.groupSubmit.disabled = false;
    el.grantSubmit.disabled = false;
    // The accounts table names the groups now that they are known.
    if (groups.ok) options.renderUsers();
  }

  // The names of the groups ids, or null when the groups are not known.
  function groupNames(ids) {
    if (!state.groups) return null;
    return strings(ids).map(groupText);
  }

  // A language switch: everything drawn here again.
  function redraw() {
    if (state.managing) {
      renderRoles();
      renderRolePerms();
      roleFormMode();
      renderGroups();
      renderGroupChoices();
      groupFormMode();
      renderGrants();
      renderGrantChoices();
    }
    if (state.preview && !el.preview.hidden) renderPreview();
  }

  // The accounts were asked for again: the lists that name them follow.
  function usersChanged() {
    if (!state.managing) return;
    renderGroups();
    renderGroupChoices();
    renderGrants();
    renderGrantChoices();
  }

  el.roleForm.addEventListener('submit', (event) => {
    onRoleSubmit(event).catch(() => setSectionBusy('roles', el.rolesSection, false));
  });
  el.roleCancel.addEventListener('click', () => {
    resetRoleForm();
    showStatus('', null, 'error', el.rolesStatus);
    el.roleName.focus();
  });
  el.roleName.addEventListener('input', () => {
    if (el.roleName.getAttribute('aria-invalid') === 'true') fieldError(el.roleName, null);
  });
  el.groupForm.addEventListener('submit', (event) => {
    onGroupSubmit(event).catch(() => setSectionBusy('groups', el.groupsSection, false));
  });
  el.groupCancel.addEventListener('click', () => {
    resetGroupForm();
    showStatus('', null, 'error', el.groupsStatus);
    el.groupName.focus();
  });
  el.groupName.addEventListener('input', () => {
    if (el.groupName.getAttribute('aria-invalid') === 'true') fieldError(el.groupName, null);
  });
  el.groupGroupsList.addEventListener('change', () => fieldError(el.groupGroups, null));
  el.grantForm.addEventListener('submit', (event) => {
    onGrantSubmit(event).catch(() => setSectionBusy('grants', el.grantsSection, false));
  });
  el.grantPrincipal.addEventListener('change', () => fieldError(el.grantPrincipal, null));
  el.previewClose.addEventListener('click', closePreview);
  el.preview.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closePreview();
    }
  });

  return { start, groupNames, openPreview, redraw, usersChanged };
}
