// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the password confirmation ("step-up") the signed-in pages share
// (account.js, admin.js). A sensitive change answers 403 step_up_required
// when the session's last proof of identity is more than 5 minutes old.
// withStepUp() sends a request; on that answer it opens the "Confirmez
// votre mot de passe" dialog (a modal <dialog>: the focus goes to its
// field, Escape or "Annuler" closes it and nothing changes), posts
// {password} with X-CSRF-Token to /api/v1/auth/step-up and, on 200, sends
// the request again, once. 400 wrong_password stays in the dialog with a
// message next to the field. The password is only ever in that field and
// that request body.
//
// The page holds the dialog's markup (ids stepup, stepup-form,
// stepup-username, stepup-password, stepup-password-error, stepup-status,
// stepup-submit, stepup-cancel: see account.html) and gives
// createStepUp() its CSRF token, how to show an unexpected answer and what
// to do when the session is over.

import { ready, setText } from './app.js';
import { errorCode, postJSON } from './api.js';

function showStatus(el, key) {
  setText(el, key);
  if (key) el.setAttribute('data-kind', 'error');
  else el.removeAttribute('data-kind');
}

function fieldError(input, key) {
  const slot = document.getElementById(`${input.id}-error`);
  setText(slot, key || '');
  slot.hidden = !key;
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// options: csrf() gives the CSRF token of /api/v1/me; showError(res, el)
// shows an answer that is neither 200 nor 400 in el; toLogin() leaves for
// /login (the session ended). Returns { withStepUp, setUsername }.
export function createStepUp({ csrf, showError, toLogin }) {
  const dialog = document.getElementById('stepup');
  const form = document.getElementById('stepup-form');
  const username = document.getElementById('stepup-username');
  const password = document.getElementById('stepup-password');
  const status = document.getElementById('stepup-status');
  const submit = document.getElementById('stepup-submit');
  const cancel = document.getElementById('stepup-cancel');

  // The dialog in use: { resolve } of the promise ask() gave, or null.
  let pending = null;
  let busy = false;

  function setBusy(on) {
    busy = on;
    submit.disabled = on;
    cancel.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // Opens the dialog; settles true once the password was confirmed, false
  // when the person closed it.
  function ask() {
    if (pending) return Promise.resolve(false); // one at a time
    return new Promise((resolve) => {
      pending = { resolve };
      password.value = '';
      fieldError(password, null);
      showStatus(status, '');
      setBusy(false);
      dialog.showModal();
      password.focus();
    });
  }

  function end(proved) {
    const was = pending;
    pending = null;
    password.value = '';
    fieldError(password, null);
    showStatus(status, '');
    if (dialog.open) dialog.close();
    if (was) was.resolve(proved);
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy || !pending) return;
    showStatus(status, '');
    if (!password.value) {
      fieldError(password, 'stepup.password_missing');
      password.focus();
      return;
    }
    fieldError(password, null);
    setBusy(true);
    const res = await postJSON('/api/v1/auth/step-up', { password: password.value },
      { 'X-CSRF-Token': csrf() });
    setBusy(false);
    if (res.status === 200) {
      end(true);
    } else if (res.status === 400) {
      // wrong_password, or a password too long for the API to read.
      password.value = '';
      fieldError(password, 'stepup.wrong_password');
      password.focus();
    } else if (res.status === 401) {
      end(false);
      toLogin();
    } else {
      showError(res, status);
    }
  }

  form.addEventListener('submit', (event) => {
    onSubmit(event).catch(() => setBusy(false));
  });
  password.addEventListener('input', () => {
    // A corrected field loses its error as soon as it is typed in.
    if (password.getAttribute('aria-invalid') === 'true') fieldError(password, null);
  });
  cancel.addEventListener('click', () => end(false));
  // Escape: closes the dialog, unless the password is on its way.
  dialog.addEventListener('cancel', (event) => {
    if (busy) event.preventDefault();
  });
  dialog.addEventListener('close', () => end(false));
  ready.then(() => {
    submit.disabled = false;
  });

  // Sends the request send() makes and, if the server wants a fresh proof
  // of identity, asks for the password and sends it once more. A step-up
  // called off gives the first answer marked stepUpCancelled, with opener
  // (the control that started the action) to give the focus back to.
  async function withStepUp(send, opener) {
    const first = await send();
    if (first.status !== 403 || errorCode(first.data) !== 'step_up_required') return first;
    if (!(await ask())) return { ...first, stepUpCancelled: true, opener };
    return send();
  }

  // For password managers: which account the dialog's password is for.
  function setUsername(email) {
    username.value = email;
  }

  return { withStepUp, setUsername };
}
