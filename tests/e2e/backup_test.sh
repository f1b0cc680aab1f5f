#!/usr/bin/env bash
# A backup of the running store and its restore (README, Backups), through the
# real stack (run by tests/e2e/run.sh).
#
# Stores readings for 20 meters and keeps every answer they get (read, and
# compare-all).  Then, while a writer keeps storing one reading at a time to
# other meters (at most 400 requests or 30 s, about 10 s), takes the backup the
# README gives: `redis-cli --rdb` over the store's socket (Redis forks and sends a
# snapshot of one instant, about 5 s after the request: repl-diskless-sync-delay).  Restores it the README's way into a fresh Redis in
# another folder (load the RDB with AOF off, CONFIG SET appendonly yes, wait
# until INFO persistence says the rewrite finished, restart it on the AOF
# alone), starts a second stack on it, and compares every meter's answers byte
# for byte with those acknowledged before the backup; the writer's meters hold
# a prefix of what it was acknowledged (no reading cut in half, none invented).
# Ends with "N passed, M failed".
set -u
: "${JOI_TEST_URL:?run this through tests/e2e/run.sh}"
url=$JOI_TEST_URL
here=$JOI_ROOT
sock=${JOI_REDIS#unix:}
# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"
# shellcheck source=scripts/free-port.sh
. "$here/scripts/free-port.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-backup.XXXXXX")
rpid='' wpid=''
cleanup() {
    [ -z "$wpid" ] || kill "$wpid" 2>/dev/null
    VAR=$work/var2 REDIS=unix:$work/restore/redis.sock "$here/scripts/joi-service" stop >/dev/null 2>&1
    [ -z "$rpid" ] || { redis-cli -s "$work/restore/redis.sock" shutdown nosave >/dev/null 2>&1 || kill "$rpid" 2>/dev/null; }
    [ -z "$rpid" ] || wait "$rpid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
is() { # name got want
    [ "$2" = "$3" ]
    check "$1" $? "got: $2 | expected: $3"
}
wait_for() { # tries command...
    local n=$1
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

echo "== 20 meters stored, their answers kept"
meters=()
bad=0
for i in $(seq 0 19); do
    m=backup-$i
    meters+=("$m")
    for b in 0 1 2; do
        body="{\"smartMeterId\":\"$m\",\"electricityReadings\":["
        for k in 0 1 2 3 4; do
            t=$((1700000000 + b * 18000 + k * 3600 + i))
            body+="{\"time\":$t,\"reading\":$i.$b$k}"
            [ "$k" = 4 ] || body+=","
        done
        body+="]}"
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$url/readings/store")
        [ "$code" = 200 ] || bad=$((bad + 1))
    done
done
is "60 batches stored, each 200" "$bad" 0
answers() { # base-url folder: every meter's read and compare-all answer
    mkdir -p "$2"
    for m in "${meters[@]}"; do
        curl -s -w '\n%{http_code}\n' "$1/readings/read/$m?from=0&to=1800000000" >"$2/$m.read"
        curl -s -w '\n%{http_code}\n' "$1/price-plans/compare-all/$m?from=1700000000&to=1700100000" >"$2/$m.compare"
    done
    curl -s -w '\n%{http_code}\n' "$1/price-plans" >"$2/plans"
}
answers "$url" "$work/before"
is "the answers before are 200s with readings" "$(grep -l '^200$' "$work"/before/*.read | wc -l) $(grep -c '"reading"' "$work/before/backup-7.read")" "20 1"

echo "== the backup, while a writer stores"
# the writer: one reading per request to meters late-0..3, each acknowledged one logged
(
    end=$((SECONDS + 30))
    for n in $(seq 1 400); do
        [ "$SECONDS" -lt "$end" ] || break
        m=late-$((n % 4))
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
            -d "{\"smartMeterId\":\"$m\",\"electricityReadings\":[{\"time\":$((1700000000 + n)),\"reading\":$n}]}" "$url/readings/store")
        [ "$code" != 200 ] || echo "$m $((1700000000 + n)) $n" >>"$work/acked"
        sleep 0.02
    done
) &
wpid=$!
wait_for 100 test -s "$work/acked"
check "the writer is storing" $? "nothing acknowledged"
before=$(wc -l <"$work/acked")
redis-cli -s "$sock" --rdb "$work/backup.rdb" >"$work/rdb.out" 2>&1
check "redis-cli --rdb took the backup while the writer stored" $? "$(cat "$work/rdb.out")"
sleep 0.5
wait "$wpid"
wpid=''
after=$(wc -l <"$work/acked")
[ "$after" -gt "$before" ]
check "the writer kept storing during the backup ($before before, $after at the end)" $? ""

echo "== restore into a fresh Redis"
mkdir -p "$work/restore"
cp "$work/backup.rdb" "$work/restore/dump.rdb"
rsock=$work/restore/redis.sock
start_restore() { # extra redis-server args...
    redis-server "$here/redis/redis.conf" --unixsocket "$rsock" --dir "$work/restore" \
        --logfile "$work/restore/redis.log" "$@" &
    rpid=$!
    wait_for 100 sh -c "redis-cli -s '$rsock' ping 2>/dev/null | grep -q PONG"
}
start_restore --appendonly no --dbfilename dump.rdb
check "Redis loads the backup (appendonly no, dbfilename dump.rdb)" $? "$(tail -5 "$work/restore/redis.log")"
redis-cli -s "$rsock" config set appendonly yes >/dev/null
done_rewrite() {
    redis-cli -s "$rsock" info persistence | tr -d '\r' |
        grep -qxE 'aof_rewrite_in_progress:0' &&
        redis-cli -s "$rsock" info persistence | tr -d '\r' | grep -qx 'aof_rewrite_scheduled:0' &&
        redis-cli -s "$rsock" info persistence | tr -d '\r' | grep -qx 'aof_last_bgrewrite_status:ok' &&
        redis-cli -s "$rsock" info persistence | tr -d '\r' | grep -qx 'aof_enabled:1'
}
wait_for 300 done_rewrite
check "CONFIG SET appendonly yes: INFO persistence says the AOF rewrite finished" $? \
    "$(redis-cli -s "$rsock" info persistence | grep -E 'aof_')"
redis-cli -s "$rsock" shutdown >/dev/null 2>&1
wait "$rpid"
rpid=''
rm "$work/restore/dump.rdb"
start_restore
check "Redis starts again on the AOF alone (the service's redis.conf)" $? "$(tail -5 "$work/restore/redis.log")"

echo "== every meter compared"
port=$(free_port)
VAR=$work/var2 PORT=$port REDIS=unix:$rsock JOI_DEMO=0 "$here/scripts/joi-service" start >"$work/start2.out" 2>&1
check "a stack on the restored store" $? "$(cat "$work/start2.out")"
answers "http://127.0.0.1:$port" "$work/after"
same=0
for f in "$work"/before/*; do
    if cmp -s "$f" "$work/after/$(basename "$f")"; then same=$((same + 1)); else
        echo "    differs: $(basename "$f")"
        diff "$f" "$work/after/$(basename "$f")" | head -4 | sed 's/^/    /'
    fi
done
is "all 41 answers (20 meters' read and compare-all, the plans) byte for byte" "$same" 41
# the writer's meters: a prefix of the acknowledged readings each (none invented, none cut)
prefix_bad=0
restored=0
for i in 0 1 2 3; do
    got=$(curl -s "http://127.0.0.1:$port/readings/read/late-$i?from=0&to=1800000000" | jq -c '[.[] | [.time, .reading]]')
    want=$(awk -v m="late-$i" '$1 == m { print $2, $3 }' "$work/acked" | jq -R -s -c 'split("\n") | map(select(. != "") | split(" ") | map(tonumber))')
    n=$(jq length <<<"$got")
    restored=$((restored + n))
    [ "$(jq -c ".[:$n]" <<<"$want")" = "$got" ] || { prefix_bad=$((prefix_bad + 1)); echo "    late-$i: $got vs $want"; }
done
is "the writer's meters hold a prefix of what was acknowledged ($restored of $after readings)" "$prefix_bad" 0
[ "$restored" -ge "$before" ] && [ "$restored" -lt "$after" ]
check "the backup is one instant while the writer stored: $before acknowledged before it began <= $restored < $after" $? "$restored restored"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
