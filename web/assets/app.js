// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the shared script of the web UI, loaded as an ES module from every
// page. It does the language choice: French or English, taken from a
// stored choice, else from the browser, else French (the language the pages
// are written in). Each language has one dictionary, assets/i18n/<lang>.json,
// a flat object of "key": "text". Elements carrying data-i18n="key" get
// their text replaced (textContent: never HTML); `{name}` placeholders in a
// text are filled from the element's data-i18n-vars (a JSON object). The
// button marked data-lang-switch toggles the language and remembers it in
// localStorage.
//
// The page scripts (login.js, setup.js, account.js) import it for `ready`,
// `t`, `setText`, `getLang` and the `coffre:lang` event that tells them the
// language changed (so they can redraw text that comes from the server).
//
// Nothing here may break the page: a failed fetch, a bad dictionary or a
// blocked localStorage leaves the page as served, in French.

const LANGS = ['fr', 'en'];
const DEFAULT_LANG = 'fr';
const STORAGE_KEY = 'coffre.lang';

// What the switch offers, named in its own language.
const SWITCH_LABELS = {
  fr: { code: 'FR', name: 'Français (FR)' },
  en: { code: 'EN', name: 'English (EN)' },
};

const dictionaries = new Map();
let currentLang = null;

function normalise(tag) {
  const base = String(tag || '').toLowerCase().split('-')[0];
  return LANGS.includes(base) ? base : null;
}

function storedLang() {
  try {
    return normalise(window.localStorage.getItem(STORAGE_KEY));
  } catch {
    return null; // storage disabled or blocked
  }
}

function storeLang(lang) {
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // the choice just lasts for this page
  }
}

function browserLang() {
  const tags = [];
  if (typeof navigator !== 'undefined') {
    if (navigator.language) tags.push(navigator.language);
    if (Array.isArray(navigator.languages)) tags.push(...navigator.languages);
  }
  for (const tag of tags) {
    const lang = normalise(tag);
    if (lang) return lang;
  }
  return DEFAULT_LANG;
}

// Returns the dictionary of lang, or null if it cannot be had.
async function loadDictionary(lang) {
  if (dictionaries.has(lang)) return dictionaries.get(lang);
  let dict = null;
  try {
    const url = new URL(`./i18n/${lang}.json`, import.meta.url);
    const res = await fetch(url, { credentials: 'same-origin' });
    if (res.ok) {
      const data = await res.json();
      if (data && typeof data === 'object' && !Array.isArray(data)) {
        dict = data;
      }
    }
  } catch {
    dict = null;
  }
  if (dict) dictionaries.set(lang, dict);
  return dict;
}

function otherLang(lang) {
  return lang === 'fr' ? 'en' : 'fr';
}

function updateSwitches(lang) {
  const target = SWITCH_LABELS[otherLang(lang)];
  for (const button of document.querySelectorAll('[data-lang-switch]')) {
    button.textContent = target.code;
    button.setAttribute('lang', otherLang(lang));
    button.setAttribute('aria-label', target.name);
    button.title = target.name;
    button.hidden = false;
  }
}

// Fills the {name} placeholders of text from vars (missing ones stay as is).
function format(text, vars) {
  if (!vars || typeof vars !== 'object') return text;
  return text.replace(/\{([a-z_]+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole);
}

function elementVars(el) {
  const raw = el.getAttribute('data-i18n-vars');
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

function applyDictionary(lang, dict) {
  for (const el of document.querySelectorAll('[data-i18n]')) {
    const text = dict[el.getAttribute('data-i18n')];
    if (typeof text === 'string') el.textContent = format(text, elementVars(el));
  }
  document.documentElement.lang = lang;
  document.documentElement.setAttribute('data-lang', lang);
  currentLang = lang;
  updateSwitches(lang);
  document.dispatchEvent(new CustomEvent('coffre:lang', { detail: { lang } }));
}

// ------------------------------------------------- for the page scripts

// The language the page is shown in ('fr' until a dictionary applied).
export function getLang() {
  return currentLang || DEFAULT_LANG;
}

// The text of key in the current language (else French), placeholders
// filled from vars; the key itself when no dictionary could be loaded.
export function t(key, vars) {
  for (const lang of [currentLang, DEFAULT_LANG]) {
    const dict = lang && dictionaries.get(lang);
    if (dict && typeof dict[key] === 'string') return format(dict[key], vars);
  }
  return key;
}

// Shows the text of key in el and keeps it translated across language
// switches (data-i18n + data-i18n-vars). An empty key empties el.
export function setText(el, key, vars) {
  if (!el) return;
  if (!key) {
    el.removeAttribute('data-i18n');
    el.removeAttribute('data-i18n-vars');
    el.textContent = '';
    return;
  }
  el.setAttribute('data-i18n', key);
  if (vars) el.setAttribute('data-i18n-vars', JSON.stringify(vars));
  else el.removeAttribute('data-i18n-vars');
  el.textContent = t(key, vars);
}

// Shows the text of key under input (the element #<input id>-error) and
// marks input invalid; an empty key clears both.
export function fieldError(input, key) {
  const slot = document.getElementById(`${input.id}-error`);
  setText(slot, key || '');
  slot.hidden = !key;
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// Copies the value of the read-only field input to the clipboard (or, when
// the clipboard API is missing or refused, through the selection); true
// when it was copied.
export async function copyField(input) {
  const value = input.value;
  if (!value) return false;
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

async function setLang(lang) {
  const dict = await loadDictionary(lang);
  if (!dict) return false;
  applyDictionary(lang, dict);
  return true;
}

async function onSwitch(event) {
  event.preventDefault();
  const target = otherLang(currentLang || DEFAULT_LANG);
  if (await setLang(target)) storeLang(target);
}

async function init() {
  for (const button of document.querySelectorAll('[data-lang-switch]')) {
    button.addEventListener('click', (event) => {
      onSwitch(event).catch(() => {});
    });
  }
  const wanted = storedLang() || browserLang();
  if (await setLang(wanted)) return;
  // The wanted dictionary is missing: fall back to the pages' own language.
  if (wanted !== DEFAULT_LANG) await setLang(DEFAULT_LANG);
}

// Settles once the first dictionary was applied (or could not be).
export const ready = init().catch(() => {});
