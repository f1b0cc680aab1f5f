#!/usr/bin/env bash
# The customer page (www/) in a real browser: tests/e2e/page/page.test.js drives
# Debian's Chromium headless through playwright-core against the stack that
# tests/e2e/run.sh started (JOI_TEST_URL, JOI_REDIS, JOI_ROOT).
#
# Usage: tests/e2e/run.sh tests/e2e/page_test.sh
# Screenshots go to $JOI_TEST_ARTEFACTS, else build/artefacts/ (page.png and more).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${JOI_ROOT:-$(cd "$here/../.." && pwd)}
dir=$here/page
chromium=${JOI_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
    echo "skipped: chromium not installed ($chromium; scripts/deps.sh installs it)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "page test: node and npm are needed (scripts/deps.sh installs them)" >&2
    exit 1
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    # Debian 12's own nodejs is 18: the page test needs a newer one (NodeSource's).
    echo "skipped: playwright-core needs Node.js 20 or newer, this is $(node --version)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ -z "${JOI_TEST_URL:-}" ]; then
    echo "page test: JOI_TEST_URL is not set; run it as tests/e2e/run.sh $0" >&2
    exit 1
fi

# playwright-core at the version package-lock.json pins, installed once.
want=$(cd "$dir" && node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
have=$(cd "$dir" && node -p 'try { require("./node_modules/playwright-core/package.json").version } catch (e) { "" }')
if [ "$want" != "$have" ]; then
    echo "page test: installing playwright-core $want (npm ci)"
    if ! (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error); then
        echo "page test: npm ci failed in $dir" >&2
        exit 1
    fi
fi

# A meter with a single reading: its usage cannot be computed (422).
one_meter=page-one-reading
if ! curl -sS -f -m 10 -o /dev/null -X POST -H 'Content-Type: application/json' \
    "$JOI_TEST_URL/readings/store" \
    -d "{\"smartMeterId\":\"$one_meter\",\"electricityReadings\":[{\"time\":1606694400,\"reading\":0.5}]}"; then
    echo "page test: could not store the single reading" >&2
    exit 1
fi

# A meter without an account whose two readings are 10 days apart: the last day
# holds one reading (422), all of it can be priced.
sparse_meter=page-sparse
if ! curl -sS -f -m 10 -o /dev/null -X POST -H 'Content-Type: application/json' \
    "$JOI_TEST_URL/readings/store" \
    -d "{\"smartMeterId\":\"$sparse_meter\",\"electricityReadings\":[{\"time\":1606089600,\"reading\":1},{\"time\":1606953600,\"reading\":2}]}"; then
    echo "page test: could not store the sparse meter's readings" >&2
    exit 1
fi

# A meter with a read key: the page asks for it.
keyed_meter=smart-meter-4
if ! read_key=$("$JOI_ADMIN" key create "$keyed_meter") || [ -z "$read_key" ]; then
    echo "page test: could not create a read key" >&2
    exit 1
fi

artefacts=${JOI_TEST_ARTEFACTS:-$root/build/artefacts}
mkdir -p "$artefacts"
profile=$(mktemp -d "${TMPDIR:-/tmp}/joi-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT

JOI_CHROMIUM=$chromium JOI_ARTEFACTS=$artefacts JOI_PROFILE=$profile JOI_ONE_READING_METER=$one_meter \
    JOI_SPARSE_METER=$sparse_meter JOI_KEYED_METER=$keyed_meter JOI_READ_KEY=$read_key \
    timeout -k 10 240 node "$dir/page.test.js"
rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "page test: timed out after 240 s" >&2
    echo "0 passed, 1 failed"
fi
exit $rc
