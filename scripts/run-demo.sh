#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make run: initialise the data directory, make sure the demo tenant
# exists, print where to go, and serve in the foreground (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-./var}
bin=build/coffre

"$bin" init --data "$data" >/dev/null
if ! "$bin" tenant show demo --data "$data" >/dev/null 2>&1; then
  "$bin" tenant create demo --name "Demo" --data "$data" >/dev/null
fi
url=$("$bin" tenant show demo --data "$data" | sed -n 's/^url: //p')
cat <<MSG

  coffre is starting on the data directory $data
  Open $url
  (self-signed certificate: accept it once in the browser)
  Platform health: ${url/demo./}healthz
  The sign-in page is a placeholder until accounts exist.
  Stop with Ctrl-C.

MSG
exec "$bin" serve --data "$data"
