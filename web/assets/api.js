// SPDX-License-Identifier: AGPL-3.0-or-later
//
// coffre: the small JSON client the page scripts share. Every call is a
// same-origin fetch with the session cookie (credentials: 'same-origin'),
// JSON in and out. It never throws: a network failure comes back as
// status 0, an unreadable body as data null. Nothing here logs: request
// bodies hold passwords.

// The answer of one call: { status, data, retryAfter }.
// status: the HTTP status, 0 when the server could not be reached;
// data: the parsed JSON body or null; retryAfter: seconds or null.
async function call(method, path, body, headers) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json', ...(headers || {}) },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { status: 0, data: null, retryAfter: null };
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { status: res.status, data, retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
}

export function getJSON(path, headers) {
  return call('GET', path, undefined, headers);
}

export function postJSON(path, body, headers) {
  return call('POST', path, body === undefined ? {} : body, headers);
}

export function patchJSON(path, body, headers) {
  return call('PATCH', path, body, headers);
}

// A DELETE without a body (the routes that take none refuse one).
export function deleteJSON(path, headers) {
  return call('DELETE', path, undefined, headers);
}

// The error code of an error body ({"error":{"code":...}}), or ''.
export function errorCode(data) {
  const code = data && data.error && data.error.code;
  return typeof code === 'string' ? code : '';
}

// Retry-After as seconds (delta-seconds or an HTTP date), or null.
export function parseRetryAfter(value) {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const when = Date.parse(v);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

// A wait in seconds as the {wait} text of a message: "45 s", "15 min".
export function formatWait(seconds) {
  if (seconds === null || seconds === undefined || seconds < 1) return '';
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  return `${Math.ceil(seconds / 60)} min`;
}
