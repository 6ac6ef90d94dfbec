#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The include walls of DESIGN.md: each module includes only the public
# headers of the modules it may call, and libraries stay in their module
# (libsodium in crypto/, libmicrohttpd and GnuTLS in http/, SQLite in db/).
set -u
cd "$(dirname "$0")/.."

declare -A may=(
  [core]=""
  [crypto]="core"
  [db]="core"
  [tenant]="core db crypto audit"
  [audit]="core db crypto"
  [auth]="core db crypto audit authz"
  [authz]="core db audit"
  [docs]="core db crypto audit authz"
  [ops]="core db crypto tenant audit auth authz docs"
  [http]="core db crypto tenant audit auth authz docs ops"
  [cli]="core db crypto tenant audit auth authz docs ops http"
)
declare -A lib_home=(
  [sodium.h]=crypto
  [microhttpd.h]=http
  [gnutls/gnutls.h]=http
  [gnutls/x509.h]=http
  [gnutls/crypto.h]=http
  [sqlite3.h]=db
)

fail=0
for f in src/*/*.c src/*/*.h; do
  mod=${f#src/}; mod=${mod%%/*}
  while IFS= read -r inc; do
    case $inc in
      \"*)
        dep=${inc#\"}; dep=${dep%%/*}
        hdr=${inc#\"}; hdr=${hdr%\"}
        if [ "$dep" != "$mod" ]; then
          if [[ " ${may[$mod]-} " != *" $dep "* ]]; then
            echo "walls: $f includes $hdr but $mod may not call $dep"
            fail=1
          elif [[ $hdr == *_int.h ]]; then
            echo "walls: $f includes the private header $hdr"
            fail=1
          fi
        fi
        ;;
      \<*)
        h=${inc#<}; h=${h%>}
        home=${lib_home[$h]-}
        if [ -n "$home" ] && [ "$home" != "$mod" ]; then
          echo "walls: $f includes <$h>, which belongs to $home/"
          fail=1
        fi
        ;;
    esac
  done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p' "$f")
done
if grep -rln 'sodium_\|crypto_[a-z]*_\|randombytes_' src --include='*.c' | grep -v '^src/crypto/'; then
  echo "walls: libsodium called outside src/crypto/"
  fail=1
fi
if grep -rln 'MHD_\|gnutls_' src --include='*.c' | grep -v '^src/http/'; then
  echo "walls: libmicrohttpd or GnuTLS used outside src/http/"
  fail=1
fi
if grep -rln 'sqlite3_' src --include='*.c' | grep -v '^src/db/'; then
  echo "walls: SQLite called outside src/db/"
  fail=1
fi
if [ "$fail" -eq 0 ]; then
  echo "walls: ok"
fi
exit "$fail"
