#!/usr/bin/env bash
# Fault tests against the real stack (run by tests/e2e/run.sh): Redis killed
# during a write load, a worker killed, Redis paused, concurrent writers (also
# tests/e2e/contention.py: a seal while appends stream in).
# Every loop is bounded by count and time.  Ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
sock=${JOI_REDIS#unix:}
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-faults.XXXXXX")
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

now_ms() { date +%s%3N; }
lighttpd_pid() { cat "$JOI_VAR/lighttpd.pid"; }
worker_pids() { pgrep -P "$(lighttpd_pid)" | sort | tr '\n' ' '; }

# POSTs one batch of two readings; prints the status.
post() { # meter t value
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$1\",\"electricityReadings\":[{\"time\":$2,\"reading\":$3},{\"time\":$(($2 + 1)),\"reading\":$3}]}" \
        "$url/readings/store"
}

# A writer: up to $2 batches for meter $1, recording "time status" per batch.
writer() { # meter count
    local t=1700000000 end=$(($(date +%s) + 20))
    for i in $(seq "$2"); do
        [ "$(date +%s)" -lt "$end" ] || break
        echo "$t $(post "$1" "$t" "0.$i")" >>"$work/$1.log"
        t=$((t + 60))
    done
}

echo "Redis killed (kill -9) during a write load"
workers_before=$(worker_pids)
for w in 1 2 3 4; do writer "fault-kill-$w" 150 & done
sleep 1
kill -9 "$(cat "$JOI_VAR/redis.pid")"
start=$(now_ms)
code=$(curl -s -o "$work/down.json" -w '%{http_code}' --max-time 10 "$url/health")
took=$(($(now_ms) - start))
check "health while Redis is down is 503" "$([ "$code" = 503 ] && echo 0 || echo 1)" "got $code"
check "503 comes within the timeout ($took ms)" "$([ "$took" -lt 3000 ] && echo 0 || echo 1)" "$took ms"
check "503 is problem details" "$(grep -q '"status":503' "$work/down.json" && echo 0 || echo 1)" "$(cat "$work/down.json")"
wait
"$JOI_SERVICE" start >/dev/null
# Every worker still holds a connection to the Redis that died: each must
# reconnect by itself on its next request.
bad=0
for _ in $(seq 24); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/readings/read/fault-kill-1")
    [ "$code" = 200 ] || bad=$((bad + 1))
done
check "after make start every request succeeds" "$bad" "$bad of 24 failed"
check "workers were not restarted" "$([ "$(worker_pids)" = "$workers_before" ] && echo 0 || echo 1)" \
    "before: $workers_before after: $(worker_pids)"
acked=0
lost=0
codes_ok=0
for w in 1 2 3 4; do
    m=fault-kill-$w
    curl -s --max-time 10 "$url/readings/read/$m" >"$work/$m.json"
    while read -r t status; do
        case $status in
        200)
            acked=$((acked + 1))
            grep -q "\"time\":$t," "$work/$m.json" || lost=$((lost + 1))
            ;;
        503) ;;
        *) codes_ok=1 ;;
        esac
    done <"$work/$m.log"
    # No time is stored twice.
    dup=$(grep -o '"time":[0-9]*' "$work/$m.json" | sort | uniq -d | wc -l)
    [ "$dup" = 0 ] || lost=$((lost + 1000))
done
check "writes got only 200 or 503" "$codes_ok" "see $work"
check "every acknowledged batch ($acked) is stored exactly once" "$([ "$lost" = 0 ] && [ "$acked" -gt 0 ] && echo 0 || echo 1)" "$lost missing or duplicated"

echo "A worker killed (kill -9)"
victim=$(pgrep -P "$(lighttpd_pid)" | head -n 1)
kill -9 "$victim"
start=$(now_ms)
bad=0
for _ in $(seq 200); do
    [ $(($(now_ms) - start)) -lt 2000 ] || break
    curl -s -o /dev/null --max-time 5 "$url/health/live"
done
for _ in $(seq 30); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/health")
    [ "$code" = 200 ] || bad=$((bad + 1))
done
check "two seconds after the kill every request succeeds" "$bad" "$bad of 30 failed"
n=$(pgrep -P "$(lighttpd_pid)" | wc -l)
check "lighttpd started a new worker ($n running)" "$([ "$n" = "$WORKERS" ] && echo 0 || echo 1)" "$n workers"

echo "Redis paused (kill -STOP)"
rpid=$(cat "$JOI_VAR/redis.pid")
kill -STOP "$rpid"
start=$(now_ms)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$url/health")
took=$(($(now_ms) - start))
kill -CONT "$rpid"
check "a request to a paused Redis gets 503" "$([ "$code" = 503 ] && echo 0 || echo 1)" "got $code"
check "after a bounded time ($took ms, timeout ${JOI_REDIS_TIMEOUT_MS} ms)" \
    "$([ "$took" -ge "$JOI_REDIS_TIMEOUT_MS" ] && [ "$took" -lt $((JOI_REDIS_TIMEOUT_MS + 2000)) ] && echo 0 || echo 1)" "$took ms"
bad=0
for _ in $(seq 10); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/health")
    [ "$code" = 200 ] || bad=$((bad + 1))
done
check "workers are healthy once Redis resumes" "$bad" "$bad of 10 failed"

echo "Concurrent writers on one meter"
for w in $(seq 8); do
    (
        for i in $(seq 25); do
            echo "$(post fault-shared $((1800000000 + (w * 1000 + i) * 10)) 1.5)"
        done >"$work/shared-$w.codes"
    ) &
done
wait
non200=$(cat "$work"/shared-*.codes | grep -vc '^200$')
check "every concurrent batch got 200" "$([ "$non200" = 0 ] && echo 0 || echo 1)" \
    "$(cat "$work"/shared-*.codes | sort | uniq -c | tr '\n' ' ')" 
count=$(curl -s --max-time 10 "$url/readings/read/fault-shared" | grep -o '"time"' | wc -l)
check "the meter holds every reading (400 expected, $count stored)" "$([ "$count" = 400 ] && echo 0 || echo 1)" "$count"

echo "A seal while appends stream in, then writers of a sealed day at once"
# The turn marker is the only key the store gives an expiry: none may expire.
expired() { redis-cli -s "$sock" INFO stats | tr -d '\r' | sed -n 's/^expired_keys://p'; }
expired0=$(expired)
# 1799971200 is a UTC day's start.
while IFS=$'\t' read -r result name detail; do
    check "$name" "$result" "$detail"
done < <(timeout 120 /usr/bin/python3 "$(dirname "$0")/contention.py" "$url" fault-stream 1799971200 ||
    printf '1\tcontention.py ran to its end\tit failed\n')
# Every batch that took the meter's turn was stored in time, so it ended its turn.
turn=$(redis-cli -s "$sock" EXISTS 'joi:{fault-stream}:turn')
expired1=$(expired)
check "every turn taken was ended by its batch: none left, none expired" \
    "$([ "$turn" = 0 ] && [ -n "$expired0" ] && [ "$expired1" = "$expired0" ] && echo 0 || echo 1)" \
    "marker exists: $turn; keys expired meanwhile: $expired0 -> $expired1"

if [ "$failed" != 0 ]; then
    echo "worker log:"
    tail -n 20 "$JOI_VAR/worker-error.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
