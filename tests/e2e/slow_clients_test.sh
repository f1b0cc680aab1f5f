#!/usr/bin/env bash
# One client address must not starve the others (run by tests/e2e/run.sh).
#
# 1. Headroom, no root needed: 1100 connections from 127.0.0.2 that trickle one
#    header byte every 3 s (never a complete request) for 30 s; meanwhile a
#    client on 127.0.0.1 asks /health/live and reads a meter every 200 ms, and
#    every answer must be exact and take under 1 s.  With lighttpd's former
#    max-connections of 1024 every one of them timed out.
# 2. The per-address cap (lighttpd/per-address.lua): an address holding 32
#    connections gets its 33rd request refused with 429 and a problem document;
#    with 31 its 32nd is served; a complete request from the trickling address
#    is refused too.
# 3. The firewall rule (lighttpd/per-address.nft), as root with nft and network
#    namespaces (else skipped): the same service in a namespace with the rule
#    and lighttpd's connection limit at the former 1024 (hard open-files limit
#    2048); 1100 tricklers from 127.0.0.2 get 32 connections, and the client on
#    127.0.0.1 is served as in 1.
#
# Every client is bounded by count and time and ended by its pid on exit.
# Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${JOI_ROOT:-$(cd "$here/../.." && pwd)}
port=$JOI_TEST_PORT
url=$JOI_TEST_URL
slow=$here/slow_clients.py
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-slow.XXXXXX")
pids=()
ns=""
ns_var=""

# shellcheck source=tests/e2e/check.sh
. "$here/check.sh"

teardown() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    if [ -n "$ns" ]; then
        VAR=$ns_var REDIS=$JOI_REDIS ip netns exec "$ns" "$root/scripts/joi-service" stop \
            >/dev/null 2>&1
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    fi
    rm -rf "$work"
}
trap teardown EXIT
trap 'exit 130' INT TERM

wait_file() { # path: up to 30 s
    for _ in $(seq 300); do
        [ -f "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# Established connections to the service port from address $1 (run in $2...).
established_from() { # addr port [command prefix...]
    local addr=$1 p=$2
    shift 2
    "$@" ss -Htn state established "( sport = :$p )" | awk -v a="$addr:" 'index($4, a) == 1' |
        wc -l
}

json_field() { # json key
    $py -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"
}

hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 2400 ]; then
    check "open-files hard limit (ulimit -Hn) allows 1100 connections" 1 \
        "it is $hard: 1100 client sockets and lighttpd's headroom need at least 2400"
    echo "$passed passed, $failed failed"
    exit 1
fi
max_conns=$(sed -n 's/^server.max-connections *= *\([0-9]*\).*/\1/p' "$JOI_VAR/lighttpd.conf")
[ "${max_conns:-0}" -gt 1100 ]
check "lighttpd's connection limit ($max_conns) has room above 1100" $? "see $JOI_VAR/lighttpd.conf"

meter=slow-probe-$$
curl -s -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"smartMeterId\":\"$meter\",\"electricityReadings\":[{\"time\":1700000000,\"reading\":0.5},{\"time\":1700000060,\"reading\":1.25}]}" \
    "$url/readings/store"
readings='[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]'
probe_checks=(--check /health/live 200 '{"status":"ok"}' "/readings/read/$meter" 200 "$readings")
too_many='{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"too many requests from this address at once; retry when some are done"}'

# Prints "STATUS BODY" of a GET from address $1.
get_from() { # addr path
    local body
    body=$(curl -s --max-time 10 --interface "$1" -w ' %{http_code}' "$url$2")
    echo "${body##* } ${body% *}"
}

# --- 1. headroom: 1100 tricklers, the others still served -----------------------
echo "1. 1100 connections trickling headers from 127.0.0.2 for 30 s"
$py "$slow" trickle --addr 127.0.0.2 --port "$port" --count 1100 --seconds 30 --interval 3 \
    --ready "$work/trickle.ready" >"$work/trickle.json" 2>"$work/trickle.err" &
pids+=($!)
trickler=$!
wait_file "$work/trickle.ready"
check "the trickling client opened its connections" $? "$(cat "$work/trickle.err")"
sleep 2
held=$(established_from 127.0.0.2 "$port")
[ "$held" -ge 1100 ]
check "lighttpd holds all 1100 trickling connections" $? "established from 127.0.0.2: $held"

# The probe ends (24 s) before the trickler does (30 s after it started).
$py "$slow" probe --addr 127.0.0.1 --port "$port" --seconds 24 --every 0.2 "${probe_checks[@]}" \
    >"$work/probe.json"
probe=$(cat "$work/probe.json")
echo "  probe from 127.0.0.1: $probe"
[ "$(json_field "$probe" requests)" -ge 60 ] &&
    [ "$(json_field "$probe" good)" = "$(json_field "$probe" requests)" ]
check "every request from 127.0.0.1 answered exactly within 1 s" $? "$probe"
body=$(curl -s --max-time 2 --interface 127.0.0.2 -D "$work/429.headers" -w ' %{http_code}' \
    "$url/health/live")
got="${body##* } ${body% *}"
[ "$got" = "429 $too_many" ]
check "a complete request from the trickling address: 429" $? "got: $got"
grep -qx $'Retry-After: 1\r' "$work/429.headers"
check "the 429 says when to try again (Retry-After: 1)" $? "$(cat "$work/429.headers")"
wait "$trickler"
trickle=$(cat "$work/trickle.json")
echo "  trickler: $trickle"
[ "$(json_field "$trickle" max_open)" = 1100 ] && [ "$(json_field "$trickle" closed_by_server)" = 0 ]
check "the trickler kept its 1100 connections the whole time" $? "$trickle"

# --- 2. the per-address cap once headers are complete ---------------------------
echo "2. the per-address cap"
# Holds $2 idle connections from address $1, then writes "STATUS BODY" of one
# more request from it to $work/got.
hold_then_get() { # addr connections
    rm -f "$work/hold.ready"
    $py "$slow" hold --addr "$1" --port "$port" --count "$2" --seconds 20 \
        --ready "$work/hold.ready" >/dev/null &
    local h=$!
    pids+=("$h")
    wait_file "$work/hold.ready"
    sleep 1
    get_from "$1" /health/live >"$work/got"
    kill "$h" 2>/dev/null
    wait "$h" 2>/dev/null
}
hold_then_get 127.0.0.3 31
got=$(cat "$work/got")
[ "$got" = '200 {"status":"ok"}' ]
check "31 connections held: the 32nd request is served" $? "got: $got"
hold_then_get 127.0.0.3 32
got=$(cat "$work/got")
[ "$got" = "429 $too_many" ]
check "32 connections held: the 33rd request gets 429" $? "got: $got"
got=$(get_from 127.0.0.3 /health/live)
[ "$got" = '200 {"status":"ok"}' ]
check "once they are closed the address is served again" $? "got: $got"

# --- 3. the firewall rule, in a network namespace (root) ------------------------
echo "3. the host firewall rule (lighttpd/per-address.nft)"
skip3=""
if [ "$(id -u)" != 0 ]; then
    skip3="not root"
elif ! command -v nft >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
    skip3="no nft or ip command"
elif ! ip netns add "joi$$-slow" 2>"$work/netns.err"; then
    skip3="ip netns add: $(head -1 "$work/netns.err")"
fi
if [ -n "$skip3" ]; then
    echo "  skipped: $skip3"
else
    ns=joi$$-slow
    ns_var=$work/ns-var
    in_ns() { ip netns exec "$ns" "$@"; }
    in_ns ip link set lo up
    in_ns nft -D port=8080 -f "$root/lighttpd/per-address.nft" 2>"$work/nft.err"
    check "the rule loads" $? "$(cat "$work/nft.err")"
    # lighttpd at its former connection limit: 1024 (hard open-files limit 2048).
    in_ns env VAR="$ns_var" PORT=8080 BIND=127.0.0.1 WORKERS=2 REDIS="$JOI_REDIS" JOI_DEMO=0 \
        bash -c 'ulimit -Sn 2048 && ulimit -Hn 2048 && exec "$0" start' \
        "$root/scripts/joi-service" >"$work/ns-start.out" 2>&1
    check "the service starts in the namespace" $? "$(cat "$work/ns-start.out")"
    ns_conns=$(sed -n 's/^server.max-connections *= *\([0-9]*\).*/\1/p' "$ns_var/lighttpd.conf" 2>/dev/null)
    [ "$ns_conns" = 1024 ]
    check "there lighttpd's connection limit is 1024, below 1100" $? "max-connections: $ns_conns"

    rm -f "$work/trickle.ready"
    in_ns $py "$slow" trickle --addr 127.0.0.2 --port 8080 --count 1100 --seconds 20 \
        --interval 3 --ready "$work/trickle.ready" >"$work/trickle-ns.json" 2>&1 &
    pids+=($!)
    trickler=$!
    wait_file "$work/trickle.ready"
    sleep 2
    held=$(established_from 127.0.0.2 8080 in_ns)
    [ "$held" -le 32 ] && [ "$held" -ge 30 ]
    check "the rule lets 127.0.0.2 hold 32 connections" $? "established from 127.0.0.2: $held"
    in_ns $py "$slow" probe --addr 127.0.0.1 --port 8080 --seconds 14 --every 0.2 \
        "${probe_checks[@]}" >"$work/probe-ns.json"
    probe=$(cat "$work/probe-ns.json")
    echo "  probe from 127.0.0.1: $probe"
    [ "$(json_field "$probe" requests)" -ge 40 ] &&
        [ "$(json_field "$probe" good)" = "$(json_field "$probe" requests)" ]
    check "every request from 127.0.0.1 answered exactly within 1 s" $? "$probe"
    wait "$trickler"
    echo "  trickler: $(cat "$work/trickle-ns.json")"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
