#!/usr/bin/env bash
# Runs an end-to-end test binary against the real stack: a Redis, lighttpd and
# the FastCGI workers, started by scripts/joi-service in a temporary folder on a
# free loopback port, and stopped afterwards whatever the outcome.
#
# Usage: tests/e2e/run.sh TEST-BINARY [args...]
# The binary finds the service through: JOI_TEST_URL, JOI_REDIS, JOI_VAR,
# JOI_ADMIN (joi-admin), JOI_SERVICE (scripts/joi-service), JOI_TEST_PORT,
# JOI_ROOT (the repository).  JOI_BUILD selects the build folder (build/).
#
# JOI_AUTH (open, the default, or keys) is the access mode of the stack: the
# suites run in open mode; tests/e2e/keys_test.sh restarts its stack in keys mode.
#
# With JOI_E2E_SHARDED=1 the store is two Redis shards behind twemproxy
# (scripts/joi-shards, on free loopback ports in the same folder) instead of one
# Redis; JOI_REDIS is then the proxy's 127.0.0.1:PORT, and the binary also gets
# JOI_SHARD_PORTS ("PORT0 PORT1", shard-0 first) and JOI_PROXY_PORT.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
shift
build=${JOI_BUILD:-$here/build}
sharded=${JOI_E2E_SHARDED:-0}
# The stack is always a fresh one of its own, never a store named by the caller.
unset REDIS JOI_REDIS

# shellcheck source=scripts/free-port.sh
. "$here/scripts/free-port.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/joi-e2e.XXXXXX")
export VAR=$tmp/var BIND=127.0.0.1 WORKERS=${WORKERS:-4} JOI_BUILD=$build
export JOI_REDIS_TIMEOUT_MS=${JOI_REDIS_TIMEOUT_MS:-1000}
export JOI_AUTH=${JOI_AUTH:-open}
cleanup() {
    "$here/scripts/joi-service" stop >/dev/null 2>&1
    if [ "$sharded" = 1 ]; then "$here/scripts/joi-shards" stop >/dev/null 2>&1; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sharded: two shards and the proxy first, each on a free port (tried again with
# other ports if one was taken in the meantime).
if [ "$sharded" = 1 ]; then
    up=0
    for _ in 1 2 3 4 5; do
        p0=$(free_port) && p1=$(free_port) && pp=$(free_port) && ps=$(free_port) || break
        [ "$(printf '%s\n' "$p0" "$p1" "$pp" "$ps" | sort -u | wc -l)" = 4 ] || continue
        if SHARD_PORTS="$p0 $p1" PROXY_PORT=$pp STATS_PORT=$ps \
            "$here/scripts/joi-shards" start >"$tmp/shards.out" 2>&1; then
            up=1
            break
        fi
        "$here/scripts/joi-shards" stop >/dev/null 2>&1
    done
    if [ "$up" != 1 ]; then
        echo "e2e: the Redis shards and twemproxy did not start" >&2
        cat "$tmp/shards.out" >&2
        tail -n 20 "$VAR"/nutcracker.log "$VAR"/shard-*/redis.log >&2 2>/dev/null
        exit 1
    fi
    export REDIS=127.0.0.1:$pp JOI_SHARD_PORTS="$p0 $p1" JOI_PROXY_PORT=$pp
fi

# Another program may take the free port between the probe and lighttpd's bind:
# then try another one.
started=0
for _ in 1 2 3 4 5; do
    port=$(free_port) || break
    export PORT=$port
    if "$here/scripts/joi-service" start 2>"$tmp/start.err"; then
        started=1
        break
    fi
    cat "$tmp/start.err" >&2
    grep -qs "Address already in use" "$tmp/start.err" "$VAR/lighttpd-error.log" || break
    : >"$VAR/lighttpd-error.log"
done
if [ "$started" != 1 ]; then
    echo "e2e: the service did not start" >&2
    tail -n 20 "$VAR"/*.log >&2
    exit 1
fi

export JOI_TEST_URL=http://127.0.0.1:$port JOI_REDIS=${REDIS:-unix:$VAR/redis.sock} JOI_VAR=$VAR
export JOI_ADMIN=$build/joi-admin JOI_SERVICE=$here/scripts/joi-service JOI_TEST_PORT=$port
export JOI_ROOT=$here
"$bin" "$@"
rc=$?

# A sanitizer report from any worker fails the run even if every request looked fine.
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$VAR/worker-error.log" 2>/dev/null; then
    echo "e2e: a worker reported a sanitizer error:" >&2
    grep -E -A20 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$VAR/worker-error.log" | head -60 >&2
    rc=1
fi
exit $rc
