#!/usr/bin/env bash
# Big answers to clients that do not read them (run by tests/e2e/run.sh).
#
# A meter with 200,000 readings (an answer of about 7 MB), then 40 connections
# from 127.0.0.2 that each ask for all of them and read nothing after the
# status line.  The service is restarted first with SPOOL in this test's own
# folder, so that what lighttpd spools can be measured.  Checks:
# - one address gets at most 32 answers at a time: 32 are 200, 8 are 429;
# - their unread answers are spooled in SPOOL, never in VAR (the AOF's folder):
#   VAR grows by less than 2 MB, SPOOL holds at most 32 answers;
# - no worker is held by them: meanwhile a client on 127.0.0.1 gets
#   /health/live and a real read answered exactly within 1 s, every 200 ms,
#   while there are 32 stuck answers and only 4 workers;
# - lighttpd drops them after server.max-write-idle (60 s) without progress,
#   and the spool is empty again.
# Every client is bounded by count and time and ended by its pid on exit.
# Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${JOI_ROOT:-$(cd "$here/../.." && pwd)}
port=$JOI_TEST_PORT
url=$JOI_TEST_URL
slow=$here/slow_clients.py
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-slowread.XXXXXX")
pids=()
limit=32          # lighttpd/per-address.lua
write_idle=60     # server.max-write-idle in lighttpd/lighttpd.conf.in
readings=200000

# shellcheck source=tests/e2e/check.sh
. "$here/check.sh"

teardown() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap teardown EXIT
trap 'exit 130' INT TERM

bytes() { du -sb "$1" | cut -f1; }
json_field() { # json key
    $py -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"
}
wait_file() { # path: up to 60 s
    for _ in $(seq 600); do
        [ -f "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
established_from() { # addr
    ss -Htn state established "( sport = :$port )" | awk -v a="$1:" 'index($4, a) == 1' | wc -l
}

# The service again, with its spool here.
mkdir -p "$work/spool"
"$root/scripts/joi-service" stop >/dev/null 2>&1
SPOOL=$work/spool "$root/scripts/joi-service" start >"$work/start.out" 2>&1
check "the service restarts with SPOOL=$work/spool" $? "$(cat "$work/start.out")"
grep -q "^server.upload-dirs *= *(\"$work/spool\")" "$JOI_VAR/lighttpd.conf"
check "lighttpd spools in SPOOL" $? "$(grep upload-dirs "$JOI_VAR/lighttpd.conf")"

# A big meter, through the API: 20 batches of 10,000 readings a minute apart.
big=slow-big-$$
$py - "$port" "$big" "$readings" <<'EOF'
import http.client, json, sys
port, meter, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for b in range(0, n, 10000):
    rs = [{"time": 1600000000 + 60 * i, "reading": round(0.1 + (i % 97) / 100, 4)}
          for i in range(b, min(n, b + 10000))]
    c.request("POST", "/readings/store", json.dumps({"smartMeterId": meter, "electricityReadings": rs}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("store: %d" % r.status)
EOF
check "$readings readings stored" $? ""
answer=$(curl -s --max-time 30 -o /dev/null -w '%{size_download}' "$url/readings/read/$big")
[ "$answer" -gt 5000000 ]
check "the whole read is several MB ($answer bytes)" $? "$answer bytes"

small=slow-small-$$
curl -s -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"smartMeterId\":\"$small\",\"electricityReadings\":[{\"time\":1700000000,\"reading\":0.5},{\"time\":1700000060,\"reading\":1.25}]}" \
    "$url/readings/store"
small_body='[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]'

var_before=$(bytes "$JOI_VAR")
t0=$(date +%s)
$py "$slow" slowread --addr 127.0.0.2 --port "$port" --count 40 --seconds 100 \
    --path "/readings/read/$big" --ready "$work/slow.ready" >"$work/slow.json" 2>&1 &
pids+=($!)
reader=$!
wait_file "$work/slow.ready"
asked=$(cat "$work/slow.ready" 2>/dev/null)
echo "  slow readers: $asked"
[ "$asked" = '{"connections": 40, "status_lines": {"HTTP/1.1 200 OK": 32, "HTTP/1.1 429 Too Many Requests": 8}}' ]
check "of 40 readers from one address, 32 got 200 and 8 got 429" $? "$asked $(cat "$work/slow.json")"

# Until the spool stops growing: every answer is out of the workers by then.
last=-1
for _ in $(seq 60); do
    now=$(bytes "$work/spool")
    [ "$now" = "$last" ] && break
    last=$now
    sleep 0.5
done
spool=$(bytes "$work/spool")
var_after=$(bytes "$JOI_VAR")
stuck=$(established_from 127.0.0.2)
echo "  one answer: $answer B; spool: $spool B in $(find "$work/spool" -type f | wc -l) files;" \
    "VAR grew by $((var_after - var_before)) B; connections from 127.0.0.2: $stuck"
[ "$stuck" = "$limit" ]
check "127.0.0.2 holds $limit answers, the rest were refused" $? "established: $stuck"
[ "$spool" -gt $((limit * answer / 4)) ] && [ "$spool" -le $((limit * answer)) ]
check "the unread answers are in SPOOL, at most $limit of them" $? \
    "spool $spool B, one answer $answer B"
[ $((var_after - var_before)) -lt 2000000 ] &&
    [ -z "$(find "$JOI_VAR" -name 'lighttpd-upload-*' -print -quit)" ]
check "VAR (the AOF's folder) gets none of it" $? \
    "VAR grew by $((var_after - var_before)) B: $(find "$JOI_VAR" -name 'lighttpd-upload-*' | head -3)"

$py "$slow" probe --addr 127.0.0.1 --port "$port" --seconds 10 --every 0.2 \
    --check /health/live 200 '{"status":"ok"}' "/readings/read/$small" 200 "$small_body" \
    >"$work/probe.json"
probe=$(cat "$work/probe.json")
echo "  probe from 127.0.0.1: $probe"
[ "$(json_field "$probe" requests)" -ge 25 ] &&
    [ "$(json_field "$probe" good)" = "$(json_field "$probe" requests)" ]
check "with $limit answers stuck, 127.0.0.1 is answered exactly within 1 s" $? "$probe"
[ "$(established_from 127.0.0.2)" = "$limit" ]
check "the slow readers are still stuck after the probe" $? "$(established_from 127.0.0.2)"

# Dropped after max-write-idle: within write_idle + 10 s of asking.
dropped=""
while [ $(($(date +%s) - t0)) -le $((write_idle + 10)) ]; do
    if [ "$(established_from 127.0.0.2)" = 0 ] && [ "$(bytes "$work/spool")" -lt 100000 ]; then
        dropped=$(($(date +%s) - t0))
        break
    fi
    sleep 1
done
echo "  dropped after: ${dropped:-more than $((write_idle + 10))} s"
[ -n "$dropped" ] && [ "$dropped" -ge $((write_idle - 5)) ]
check "lighttpd drops them after max-write-idle and empties the spool" $? \
    "dropped after ${dropped:-?} s (max-write-idle $write_idle s), spool $(bytes "$work/spool") B"
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
