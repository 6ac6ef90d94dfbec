// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the one script of the web UI, loaded as an ES module from every
// page. For now it does the language choice: French or English, taken from a
// stored choice, else from the browser, else French (the language the pages
// are written in). Each language has one dictionary, assets/i18n/<lang>.json,
// a flat object of "key": "text". Elements carrying data-i18n="key" get
// their text replaced (textContent: never HTML). The button marked
// data-lang-switch toggles the language and remembers it in localStorage.
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

function applyDictionary(lang, dict) {
  for (const el of document.querySelectorAll('[data-i18n]')) {
    const text = dict[el.getAttribute('data-i18n')];
    if (typeof text === 'string') el.textContent = text;
  }
  document.documentElement.lang = lang;
  document.documentElement.setAttribute('data-lang', lang);
  currentLang = lang;
  updateSwitches(lang);
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

init().catch(() => {});
