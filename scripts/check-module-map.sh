#!/bin/sh
# Checks that the README's module map ("Where to change what") names every file
# under src/, include/joi/, redis/, scripts/, lighttpd/ and tests/ (seed corpora and
# the page test's installed packages aside).  A file is named when its path, or its
# base name in a row that starts with its folder, appears in the README.
# Usage: scripts/check-module-map.sh   (from the repository; exits 1 naming what is missing)
set -eu
cd "$(dirname "$0")/.."
missing=0
for f in $(git ls-files src include/joi redis scripts lighttpd tests | grep -v -e '^tests/fuzz/seeds-' \
    -e '^tests/e2e/page/'); do
    base=$(basename "$f")
    dir=$(dirname "$f")
    if grep -qF "\`$f\`" README.md; then continue; fi
    # A row such as | `tests/e2e/store.c`, `read.c` | names read.c in tests/e2e.
    if grep -F "\`$dir/" README.md | grep -qF "\`$base\`"; then continue; fi
    echo "module map: $f is not named in README.md" >&2
    missing=1
done
[ "$missing" = 0 ] && echo "module map: every file is named"
exit "$missing"
