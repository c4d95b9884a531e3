#!/usr/bin/env bash
# Builds the bcryptprimitives.dll stand-in (see bcryptprimitives.c) into
# $FREETHREADING_WINE_DIR (default target/wine), once: prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${FREETHREADING_WINE_DIR:-$here/../../target/wine}
mkdir -p "$dir"
dll=$dir/bcryptprimitives.dll
if [[ ! -f $dll || $here/bcryptprimitives.c -nt $dll ]]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$dll.tmp" "$here/bcryptprimitives.c" -lbcrypt
    mv "$dll.tmp" "$dll"
fi
printf '%s\n' "$dll"
