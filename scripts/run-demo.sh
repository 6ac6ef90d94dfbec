#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make run: initialise the data directory, make sure the demo tenant
# exists, print where to go, and serve in the foreground (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-./var}
bin=build/coffre

owner=owner@demo.example
"$bin" init --data "$data" >/dev/null
setup=""
if ! "$bin" tenant show demo --data "$data" >/dev/null 2>&1; then
  setup=$("$bin" tenant create demo --name "Demo" --owner "$owner" \
    --data "$data" | sed -n 's/^setup: //p')
else
  # An owner who never chose a password gets a fresh link (the earlier
  # ones stop working); one with a password is refused with exit code 6.
  rc=0
  out=$("$bin" tenant owner demo "$owner" --data "$data" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then
    setup=$(printf '%s\n' "$out" | sed -n 's/^setup: //p')
  elif [ "$rc" -ne 6 ]; then
    printf '%s\n' "$out" >&2
    exit "$rc"
  fi
fi
url=$("$bin" tenant show demo --data "$data" | sed -n 's/^url: //p')
if [ -n "$setup" ]; then
  login="Choose the password of $owner (single use, valid 24 h):
    $setup
  then sign in at ${url}login"
else
  login="Sign in at ${url}login as $owner with the password you chose.
  (Forgot it? The sign-in page's \"Forgot your password?\" link mails a
  reset link once [mail] smtp_url is set in $data/coffre.conf; or
  rm -rf $data and run make run again for a fresh demo.)"
fi
cat <<MSG

  coffre is starting on the data directory $data
  Open $url
  (self-signed certificate: accept it once in the browser)
  $login
  Platform health: ${url/demo./}healthz
  Stop with Ctrl-C.

MSG
exec "$bin" serve --data "$data"
