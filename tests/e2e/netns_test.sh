#!/usr/bin/env bash
# Workers on two other hosts (lighttpd/two-hosts.conf), with Linux network
# namespaces as the hosts.  Run by tests/e2e/run.sh like the other *_test.sh, but
# it builds its own topology and stack and uses nothing of the one run.sh starts:
#
#   front  lighttpd, rendered from lighttpd/two-hosts.conf, on 127.0.0.1:8080
#          (inside its namespace); links 10.200.1.1/24 to w1, 10.200.2.1/24 to w2
#   w1     joi-worker --listen 0.0.0.0:9000 on 10.200.1.2; Redis via 10.200.3.1
#   w2     joi-worker --listen 0.0.0.0:9000 on 10.200.2.2; Redis via 10.200.4.1
#   db     redis-server bound to 10.200.3.1 (link to w1) and 10.200.4.1 (link to w2)
#
# Point-to-point veth links only: no bridge, no routing, no default route, and
# nothing in the namespace this script runs in.  Requests are sent from inside
# the front namespace to its own 127.0.0.1.  Whether a host is used is read from
# its namespace's TCP counters (PassiveOpens: connections the worker accepted).
#
# Checks: requests succeed through the front and both hosts serve them; with w1's
# worker killed every request still succeeds, each within disable-time + 1 s;
# restarted, w1 is used again (and then carries everything alone while w2 is
# down).  Needs root (ip netns add); without it prints
# "skipped: network namespaces not available" and exits 0.  Everything is torn
# down on exit.  Every loop is bounded.  Ends with "N passed, M failed".
set -u
root=${JOI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${JOI_BUILD:-$root/build}
disable_time=1 # as in lighttpd/two-hosts.conf

tag=joi$$
front=$tag-front
w1=$tag-w1
w2=$tag-w2
db=$tag-db
spaces=()
pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-netns.XXXXXX")

# Every process this script started runs inside one of its namespaces: they are
# ended by their ids (ip netns pids), then the namespaces deleted with their links.
teardown() {
    local p ns
    for ns in "${spaces[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    for p in "${pids[@]}"; do gone "$p"; done
    for ns in "${spaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap teardown EXIT

# Background processes are disowned (no job messages); this waits for one to end.
gone() { # pid
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}
trap 'exit 130' INT TERM

skip() {
    echo "skipped: network namespaces not available ($1)"
    echo "0 passed, 0 failed"
    exit 0
}

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

# (Processes that stay in the background are started with ip netns exec itself,
# not through this function, so that $! is their own pid.)
in_ns() { # namespace command...
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
if ! ip netns add "$front" 2>"$work/netns.err"; then
    skip "ip netns add: $(head -1 "$work/netns.err")"
fi
spaces+=("$front")
for ns in "$w1" "$w2" "$db"; do
    ip netns add "$ns" || skip "ip netns add $ns failed"
    spaces+=("$ns")
done

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair made directly inside the two
# namespaces, each end with its /24 address.
link() {
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" 2>"$work/veth.err" ||
        skip "veth: $(head -1 "$work/veth.err")"
    in_ns "$1" ip addr add "$3/24" dev "$2" && in_ns "$1" ip link set "$2" up &&
        in_ns "$4" ip addr add "$6/24" dev "$5" && in_ns "$4" ip link set "$5" up
}

echo "topology: front, w1, w2, db ($tag-*)"
for ns in "${spaces[@]}"; do in_ns "$ns" ip link set lo up; done
link "$front" to-w1 10.200.1.1 "$w1" to-front 10.200.1.2
link "$front" to-w2 10.200.2.1 "$w2" to-front 10.200.2.2
link "$db" to-w1 10.200.3.1 "$w1" to-db 10.200.3.2
link "$db" to-w2 10.200.4.1 "$w2" to-db 10.200.4.2
check "the four namespaces are linked" "$?" "ip addr or ip link set failed"

# --- the stack -----------------------------------------------------------------

ip netns exec "$db" redis-server --port 6379 --bind 10.200.3.1 10.200.4.1 --protected-mode no \
    --save "" --appendonly no --daemonize no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
disown $!

# start_worker HOST-NAMESPACE REDIS-ADDRESS: one joi-worker on port 9000; its pid
# goes to $worker_pid.
start_worker() {
    ip netns exec "$1" env JOI_REDIS="$2:6379" JOI_REDIS_TIMEOUT_MS=1000 \
        "$build/joi-worker" --listen 0.0.0.0:9000 >/dev/null 2>>"$work/worker-$1.log" &
    worker_pid=$!
    disown "$worker_pid"
    pids+=("$worker_pid")
}

up() { # namespace host port: something accepts connections there
    in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}
wait_up() { # namespace host port
    for _ in $(seq 100); do
        up "$@" && return 0
        sleep 0.05
    done
    return 1
}

ok=0
wait_up "$w1" 10.200.3.1 6379 && wait_up "$w2" 10.200.4.1 6379 || ok=1
check "Redis in db answers on both links" "$ok" "see $work/redis.log"
out=$(in_ns "$w1" env JOI_REDIS=10.200.3.1:6379 "$build/joi-admin" load-config \
    "$root/redis/plans.json" 2>&1)
check "plans loaded from w1" "$?" "$out"

start_worker "$w1" 10.200.3.1
w1_pid=$worker_pid
start_worker "$w2" 10.200.4.1
w2_pid=$worker_pid
ok=0
wait_up "$front" 10.200.1.2 9000 && wait_up "$front" 10.200.2.2 9000 || ok=1
check "both worker hosts listen on :9000" "$ok" "see $work/worker-*.log"

sed -e "s|@PORT@|8080|g" -e "s|@BIND@|127.0.0.1|g" -e "s|@VAR@|$work|g" \
    -e "s|@WWW@|$root/www|g" -e "s|@WORKER_HOST_1@|10.200.1.2|g" \
    -e "s|@WORKER_HOST_2@|10.200.2.2|g" -e "s|@WORKER_PORT@|9000|g" \
    "$root/lighttpd/two-hosts.conf" >"$work/front.conf"
out=$(lighttpd -tt -f "$work/front.conf" 2>&1)
check "lighttpd/two-hosts.conf is valid" "$?" "$out"
ip netns exec "$front" lighttpd -D -f "$work/front.conf" 2>>"$work/front.stderr" &
pids+=($!)
disown $!
wait_up "$front" 127.0.0.1 8080
check "the front listens on 127.0.0.1:8080" "$?" "$(tail -5 "$work/lighttpd-error.log" 2>/dev/null)"

# --- requests ------------------------------------------------------------------

# get PATH: one request through the front; prints "status seconds".
get() {
    in_ns "$front" curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 \
        "http://127.0.0.1:8080$1"
}
# store METER TIME: a batch of two readings; prints the status.
store() {
    in_ns "$front" curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$1\",\"electricityReadings\":[{\"time\":$2,\"reading\":1.5},{\"time\":$(($2 + 900)),\"reading\":2.5}]}" \
        "http://127.0.0.1:8080/readings/store"
}
# accepted NAMESPACE: connections accepted in that namespace so far.
accepted() {
    in_ns "$1" awk '$1 == "Tcp:" { if (h) { print $(c); exit } for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 }' \
        /proc/net/snmp
}

# burst N [FILE]: N requests of a mix of endpoints, one after the other; records
# "status seconds" per request in FILE ($work/burst).
burst() {
    local out=${2:-$work/burst} i
    : >"$out"
    for i in $(seq "$1"); do
        case $((i % 4)) in
        0) get /health ;;
        1) get /readings/read/netns-meter ;;
        2) get /price-plans/compare-all/netns-meter ;;
        3) get "/price-plans/recommend/netns-meter?limit=1" ;;
        esac >>"$out"
        echo >>"$out"
    done
}
# Requests in the burst that were not 200, and the slowest one's time.
burst_failures() { awk '$1 != 200' "$work/burst" | wc -l; }
burst_slowest() { sort -k2 -g "$work/burst" | tail -1 | cut -d' ' -f2; }

echo "both hosts up"
code=$(store netns-meter 1700000000)
check "a store through the front is 200" "$([ "$code" = 200 ] && echo 0 || echo 1)" "got $code"
read -r code _ <<<"$(get /)"
check "the page is served by the front itself" "$([ "$code" = 200 ] && echo 0 || echo 1)" "got $code"
read -r code _ <<<"$(get /no-such-route)"
check "an unknown route is 404 from a worker" "$([ "$code" = 404 ] && echo 0 || echo 1)" "got $code"
a1=$(accepted "$w1")
a2=$(accepted "$w2")
# Four clients at once, so that least-connection spreads them over both hosts.
clients=()
for c in 1 2 3 4; do
    burst 10 "$work/burst-$c" &
    clients+=($!)
done
wait "${clients[@]}"
cat "$work"/burst-[1-4] >"$work/burst"
check "40 requests from 4 clients through the front all succeed" "$(burst_failures)" \
    "$(awk '$1 != 200' "$work/burst" | sort | uniq -c | head -3)"
d1=$(($(accepted "$w1") - a1))
d2=$(($(accepted "$w2") - a2))
echo "  connections accepted: w1 $d1, w2 $d2"
check "both worker hosts served requests" "$([ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] && echo 0 || echo 1)" \
    "w1 $d1, w2 $d2"

echo "w1's worker killed"
kill -KILL "$w1_pid"
gone "$w1_pid"
check "w1 refuses connections" "$(up "$front" 10.200.1.2 9000 && echo 1 || echo 0)" "it still accepts"
a2=$(accepted "$w2")
burst 40
limit=$((disable_time + 1))
check "40 requests with w1 down all succeed" "$(burst_failures)" \
    "$(awk '$1 != 200' "$work/burst" | sort | uniq -c | head -3)"
slowest=$(burst_slowest)
check "each within disable-time + 1 s = $limit s (slowest $slowest s)" \
    "$(awk -v s="$slowest" -v l="$limit" 'BEGIN { print (s < l) ? 0 : 1 }')" "$slowest s"
d2=$(($(accepted "$w2") - a2))
check "w2 served them" "$([ "$d2" -ge 40 ] && echo 0 || echo 1)" "w2 accepted $d2"

echo "w1's worker restarted"
start_worker "$w1" 10.200.3.1
w1_pid=$worker_pid
wait_up "$front" 10.200.1.2 9000
check "w1 listens again" "$?" "see $work/worker-$w1.log"
a1=$(accepted "$w1")
used=1
for _ in $(seq 20); do # at most 20 rounds of 5 parallel requests, ~disable-time apart
    clients=()
    for _ in 1 2 3 4 5; do
        get /health >/dev/null &
        clients+=($!)
    done
    wait "${clients[@]}"
    if [ $(($(accepted "$w1") - a1)) -gt 0 ]; then
        used=0
        break
    fi
    sleep 0.25
done
check "the front uses w1 again" "$used" "w1 accepted no connection in 20 rounds"
echo "w2's worker killed: w1 carries everything"
kill -KILL "$w2_pid"
gone "$w2_pid"
burst 20
check "20 requests with only w1 up all succeed" "$(burst_failures)" \
    "$(awk '$1 != 200' "$work/burst" | sort | uniq -c | head -3)"
read -r code _ <<<"$(get /price-plans/compare-all/netns-meter)"
check "the readings stored at the start are still priced" \
    "$([ "$code" = 200 ] && echo 0 || echo 1)" "got $code"

# A sanitizer report from a worker (make check-asan) fails the run.
bad=$(cat "$work"/worker-*.log 2>/dev/null | grep -cE "ERROR: (Address|Leak)Sanitizer|runtime error:")
check "no worker reported a sanitizer error" "$bad" "$(grep -hE -A5 "Sanitizer|runtime error:" "$work"/worker-*.log | head -20)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
