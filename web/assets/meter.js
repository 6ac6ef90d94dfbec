// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the live password strength meter, shared by the password page
// (/setup) and the account page. Each input in the watched field restarts
// a short timer; then POST /api/v1/password/strength {password, email?,
// privileged} asks the server for its verdict (the tenant's policy is only
// known there). An answer for an older value is dropped. The verdict
// drives a <meter> (0..4; data-score picks the colour), a verdict line
// (a polite live region) and the list of the server's hints, in the page's
// language and redrawn on a language switch.
//
// The password is only sent in the request body: never in a URL, never
// stored, never logged.

import { getLang, setText, t } from './app.js';
import { postJSON } from './api.js';

const DEBOUNCE_MS = 250;
const RETRY_MAX_S = 30;
const FIELD_MAX_BYTES = 1024; // the API's limit on the password field

function hintsOf(v) {
  const hints = v && v.hints && v.hints[getLang()];
  return Array.isArray(hints) ? hints.filter((h) => typeof h === 'string' && h) : [];
}

// A verdict made here for a password the API would refuse to read.
export function localVerdict(key) {
  return { acceptable: false, score: 0, hints: { fr: [], en: [] }, localHint: key };
}

// The strength object of a 400 weak_password answer as a verdict (never
// acceptable), or a generic one when the answer holds none.
export function refusedVerdict(data) {
  const strength = (data && (data.strength || (data.error && data.error.strength))) || null;
  return strength && typeof strength.acceptable === 'boolean'
    ? { ...strength, acceptable: false }
    : localVerdict('setup.hint_generic');
}

// Watches `input` and draws into the elements of `els` ({box, meter,
// level, verdict, hints}). `context()` gives the extra fields of each
// request ({privileged, email?}); `onChange()` runs whenever the verdict
// changes (to enable a button). Returns {verdict(), show(v), reset()}:
// the last verdict for the field's current value (null: none yet), a way
// to show a verdict the page got otherwise (a refused change), and a way
// to forget everything (the field was emptied by the page).
export function createMeter(input, els, context, onChange = () => {}) {
  let verdict = null;
  let seq = 0;       // number of the latest strength request
  let timer = null;  // debounce / retry timer

  function renderHints() {
    els.hints.replaceChildren();
    if (!verdict) {
      els.hints.hidden = true;
      return;
    }
    let hints = verdict.localHint ? [t(verdict.localHint)] : hintsOf(verdict);
    if (hints.length === 0 && !verdict.acceptable) hints = [t('setup.hint_generic')];
    for (const text of hints) {
      const li = document.createElement('li');
      li.textContent = text; // server text: never parsed as HTML
      els.hints.append(li);
    }
    els.hints.hidden = hints.length === 0;
  }

  function render() {
    if (!verdict) {
      els.meter.value = 0;
      els.meter.setAttribute('data-score', 'none');
      els.box.removeAttribute('data-acceptable');
      setText(els.level, '');
      if (!input.value) setText(els.verdict, '');
      renderHints();
      return;
    }
    const score = Math.max(0, Math.min(4, Number(verdict.score) || 0));
    els.meter.value = score;
    els.meter.setAttribute('data-score', String(score));
    els.box.setAttribute('data-acceptable', verdict.acceptable ? 'true' : 'false');
    setText(els.level, `setup.score.${score}`);
    setText(els.verdict, verdict.acceptable ? 'setup.verdict.ok' : 'setup.verdict.weak');
    renderHints();
  }

  async function evaluate(pw) {
    timer = null;
    const mine = ++seq;
    if (new TextEncoder().encode(pw).length > FIELD_MAX_BYTES) {
      verdict = localVerdict('setup.error.too_long');
      render();
      onChange();
      return;
    }
    const res = await postJSON('/api/v1/password/strength', { password: pw, ...context() });
    if (mine !== seq || input.value !== pw) return; // typed on meanwhile
    if (res.status === 200 && res.data && typeof res.data.acceptable === 'boolean') {
      verdict = res.data;
      setText(els.verdict, '');
      render();
    } else {
      verdict = null;
      render();
      setText(els.verdict, 'setup.strength_unavailable');
      if ((res.status === 429 || res.status === 503) && res.retryAfter !== null) {
        const wait = Math.min(Math.max(res.retryAfter, 1), RETRY_MAX_S);
        timer = setTimeout(() => {
          if (input.value === pw) evaluate(pw).catch(() => {});
        }, wait * 1000);
      }
    }
    onChange();
  }

  function onInput() {
    if (timer) clearTimeout(timer);
    timer = null;
    seq++; // any answer still on its way is for an older password
    verdict = null;
    if (input.value === '') {
      render();
    } else {
      timer = setTimeout(() => {
        evaluate(input.value).catch(() => {});
      }, DEBOUNCE_MS);
    }
    onChange();
  }

  input.addEventListener('input', onInput);
  // Hints come from the server in both languages: redraw them on a switch.
  document.addEventListener('coffre:lang', () => renderHints());

  return {
    verdict: () => verdict,
    show(v) {
      if (timer) clearTimeout(timer);
      timer = null;
      seq++;
      verdict = v;
      render();
      onChange();
    },
    reset() {
      if (timer) clearTimeout(timer);
      timer = null;
      seq++;
      verdict = null;
      render();
      setText(els.verdict, '');
      onChange();
    },
  };
}
