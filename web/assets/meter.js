// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the live password strength meter, shared by the password page
// (/setup: a first password or a reset link) and the account page. Each
// input in the watched field restarts a short timer; then POST
// /api/v1/password/strength {password, email?, privileged} asks the server
// for its verdict (the tenant's policy is only known there): {acceptable,
// score, entropy_bits, length, problems, hints: {fr, en}}. An answer for
// an older value is dropped.
//
// The verdict follows `acceptable` and nothing else, so the page never
// praises a password the server would refuse: refused, the <meter> shows
// at most score 1 and the line says "not enough yet" with no score word;
// accepted, it shows the zxcvbn score (0..4; data-score picks the colour)
// and its word. Below, a checklist of the policy's rules (long enough,
// not containing the e-mail, name or organisation, not a common password,
// hard enough to guess, and any other rule the answer names), each marked
// met or to fix from `problems`; the minimum length is named once an
// answer's hint has said it (it depends on the role and the tenant's
// policy, which only the server knows). Then the server's hints. All of it
// in the page's language and redrawn on a language switch.
//
// The password is only sent in the request body: never in a URL, never
// stored, never logged.

import { getLang, setText, t } from './app.js';
import { postJSON } from './api.js';

const DEBOUNCE_MS = 250;
const RETRY_MAX_S = 30;
const FIELD_MAX_BYTES = 1024; // the API's limit on the password field

// The rules of the checklist, in the order shown: the problem names of
// the API each one covers, and when it shows while met (always, when the
// request named the thing it is about, or never: shown only when failed).
const RULES = [
  { id: 'length', problems: ['too_short'], shown: () => true },
  { id: 'too_long', problems: ['too_long'], shown: () => false },
  { id: 'printable', problems: ['not_printable'], shown: () => false },
  { id: 'email', problems: ['has_email'], shown: (ctx) => Boolean(ctx.email) },
  { id: 'name', problems: ['has_name'], shown: (ctx) => Boolean(ctx.name) },
  { id: 'tenant', problems: ['has_tenant'], shown: () => true },
  { id: 'common', problems: ['common'], shown: () => true },
  { id: 'guess', problems: ['weak'], shown: () => true },
  { id: 'reused', problems: ['reused'], shown: () => false },
];
const KNOWN_PROBLEMS = new Set(RULES.flatMap((r) => r.problems));
// The English hint naming the minimum length (src/auth/policy.c).
const MIN_HINT_RE = /^At least (\d+) characters\.$/;

function hintsOf(v) {
  const hints = v && v.hints && v.hints[getLang()];
  return Array.isArray(hints) ? hints.filter((h) => typeof h === 'string' && h) : [];
}

function problemsOf(v) {
  return v && Array.isArray(v.problems) ? v.problems.filter((p) => typeof p === 'string') : null;
}

// The minimum length a verdict's hints name, or null.
function minLengthOf(v) {
  const en = v && v.hints && Array.isArray(v.hints.en) ? v.hints.en : [];
  for (const h of en) {
    const m = typeof h === 'string' ? MIN_HINT_RE.exec(h) : null;
    if (m) return Number(m[1]);
  }
  return null;
}

// The checklist of verdict v: [{id, ok, key, vars}], or [] when v lists
// no problems (a verdict made here). `ctx` is the request's context.
function checklist(v, ctx, minLength) {
  const problems = problemsOf(v);
  if (!problems) return [];
  const failed = new Set(problems);
  const items = [];
  if (failed.has('bad_utf8')) {
    // Not text: the server judged nothing else.
    return [{ id: 'printable', ok: false, key: 'meter.rule.printable' }];
  }
  for (const r of RULES) {
    const ok = !r.problems.some((p) => failed.has(p));
    if (!ok || r.shown(ctx || {})) {
      const item = { id: r.id, ok, key: `meter.rule.${r.id}` };
      if (r.id === 'length' && minLength) {
        item.key = 'meter.rule.length_min';
        item.vars = { min: minLength };
      }
      items.push(item);
    }
  }
  if (problems.some((p) => !KNOWN_PROBLEMS.has(p))) {
    items.push({ id: 'other', ok: false, key: 'meter.rule.other' });
  }
  return items;
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
  let verdictCtx = {}; // the context verdict was asked with
  let minLength = null; // learnt from a hint: it depends on the account
  let seq = 0;       // number of the latest strength request
  let timer = null;  // debounce / retry timer

  function renderChecks() {
    if (!els.checks) return;
    els.checks.replaceChildren();
    const items = verdict ? checklist(verdict, verdictCtx, minLength) : [];
    for (const item of items) {
      const li = document.createElement('li');
      li.setAttribute('data-rule', item.id);
      li.setAttribute('data-ok', item.ok ? 'true' : 'false');
      const mark = document.createElement('span');
      mark.className = 'strength-check-mark';
      mark.setAttribute('aria-hidden', 'true');
      mark.textContent = item.ok ? '\u2713' : '\u2717';
      const state = document.createElement('span');
      state.className = 'visually-hidden';
      state.textContent = t(item.ok ? 'meter.met' : 'meter.unmet');
      const text = document.createElement('span');
      text.textContent = t(item.key, item.vars);
      li.append(mark, state, text);
      els.checks.append(li);
    }
    els.checks.hidden = items.length === 0;
  }

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
      renderChecks();
      renderHints();
      return;
    }
    const learnt = minLengthOf(verdict);
    if (learnt) minLength = learnt;
    const acceptable = verdict.acceptable === true;
    const score = Math.max(0, Math.min(4, Number(verdict.score) || 0));
    // Refused: never a good-looking bar or a praising word.
    const shown = acceptable ? score : Math.min(score, 1);
    els.meter.value = shown;
    els.meter.setAttribute('data-score', String(shown));
    els.box.setAttribute('data-acceptable', acceptable ? 'true' : 'false');
    setText(els.level, acceptable ? `setup.score.${score}` : '');
    setText(els.verdict, acceptable ? 'setup.verdict.ok' : 'setup.verdict.weak');
    renderChecks();
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
    const ctx = context();
    const res = await postJSON('/api/v1/password/strength', { password: pw, ...ctx });
    if (mine !== seq || input.value !== pw) return; // typed on meanwhile
    if (res.status === 200 && res.data && typeof res.data.acceptable === 'boolean') {
      verdict = res.data;
      verdictCtx = ctx;
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
  // Hints come from the server in both languages: redraw them on a switch
  // (the checklist too: its texts are built here, with their values).
  document.addEventListener('coffre:lang', () => {
    renderChecks();
    renderHints();
  });

  return {
    verdict: () => verdict,
    show(v) {
      if (timer) clearTimeout(timer);
      timer = null;
      seq++;
      verdict = v;
      verdictCtx = context();
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
