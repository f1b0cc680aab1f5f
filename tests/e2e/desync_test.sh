#!/usr/bin/env bash
# One meter's damaged data never changes another meter's answer (run by
# tests/e2e/run.sh).  With a single worker, so that every request goes through
# the one Redis connection the damaged meter's requests used: three healthy
# meters' answers on every endpoint are recorded byte for byte; then each key of
# a victim meter is damaged in turn (a list, a set, a string of garbage bytes, a
# hash, a sorted set with a garbage member), every endpoint is asked for the
# victim, and after each of those requests every healthy answer must be what it
# was.  Bounded by count and by time.  Ends with "N passed, M failed".
set -u

# One worker: on a stack with more, run again on a stack of its own with one.
if [ "${WORKERS:-}" != 1 ]; then
    exec env WORKERS=1 "$JOI_ROOT/tests/e2e/run.sh" "$0" "$@"
fi

url=$JOI_TEST_URL
sock=${JOI_REDIS#unix:}
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-desync.XXXXXX")
trap 'rm -rf "$work"' EXIT
deadline=$(($(date +%s) + 300))

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

rcli() { redis-cli -s "$sock" "$@" >/dev/null; }
lighttpd_pid() { cat "$JOI_VAR/lighttpd.pid"; }
worker_pids() { pgrep -P "$(lighttpd_pid)" | sort | tr '\n' ' '; }

workers=$(worker_pids)
check "the stack runs one worker" "$([ "$(wc -w <<<"$workers")" = 1 ] && echo 0 || echo 1)" \
    "workers: $workers"

# Plans whose windows start and end inside half-hour buckets, so that pricing a
# whole history reads the readings around them (a pipeline of range reads) as
# well as the pre-aggregates (another pipeline).
cat >"$work/plans.json" <<'EOF'
{"timezone": "UTC", "maxGapSeconds": 7200,
 "pricePlans": [
   {"id": "desync-peak", "supplier": "A", "unitRate": 10, "standingCharge": 0.5,
    "peakTimeMultipliers": [{"from": "16:10", "to": "19:05", "multiplier": 2}]},
   {"id": "desync-night", "supplier": "B", "unitRate": 3,
    "peakTimeMultipliers": [{"from": "17:20", "to": "18:40", "multiplier": 0.5}]},
   {"id": "desync-flat", "supplier": "C", "unitRate": 4}],
 "accounts": {"desync-a": "desync-peak", "desync-v": "desync-night"}}
EOF
JOI_REDIS=$JOI_REDIS "$JOI_ADMIN" load-config "$work/plans.json" >/dev/null
check "the plans load" $? "joi-admin load-config failed"

# A batch of readings from t0, every step seconds, with the values given.
batch() { # meter t0 step values...
    local meter=$1 t=$2 step=$3 sep='' body
    shift 3
    body="{\"smartMeterId\":\"$meter\",\"electricityReadings\":["
    for v in "$@"; do
        body+="$sep{\"time\":$t,\"reading\":$v}"
        sep=,
        t=$((t + step))
    done
    echo "$body]}"
}
day=1699920000 # Tuesday 2023-11-14 00:00 UTC
t15=$((day + 15 * 3600))
batch desync-a "$t15" 600 0.5 0.75 1 1.25 1.5 2 2.5 3 2.75 2.5 2.25 2 1.75 1.5 1.25 1 \
    0.9 0.8 0.7 0.6 0.5 0.4 0.3 0.2 0.1 0.05 0.125 0.25 0.375 0.5 0.625 >"$work/a.json"
batch desync-b "$t15" 300 1.1 1.2 1.3 1.4 1.5 1.6 >"$work/b1.json"
batch desync-b $((t15 + 3 * 3600)) 300 2.1 2.2 2.3 2.4 2.5 2.6 >"$work/b2.json" # a gap of 2.5 h
batch desync-c $((t15 + 3600)) 1800 0.3 0.6 0.9 >"$work/c.json"
batch desync-v "$t15" 1200 4 3 2 1 2 3 4 5 6 7 8 9 10 11 12 13 >"$work/v1.json"
batch desync-v $((t15 + 8 * 3600)) 900 1 2 3 >"$work/v2.json"
batch desync-v $((t15 + 12 * 3600)) 60 5 6 >"$work/v3.json"

post() { # file: prints "status body"
    curl -s --max-time 10 -w '\n%{http_code}' -H 'Content-Type: application/json' \
        -d @"$1" "$url/readings/store"
}
for f in a b1 b2 c; do
    got=$(post "$work/$f.json")
    check "healthy batch $f is stored" "$([ "${got##*$'\n'}" = 200 ] && echo 0 || echo 1)" "got: $got"
done

# Every endpoint of the healthy meters, then a meter that has no readings; the
# store of an identical batch again (a retry, which changes nothing) last.
from=$((day + 16 * 3600))
to=$((day + 18 * 3600 + 600))
healthy=()
for m in desync-a desync-b desync-c; do
    healthy+=("$url/readings/read/$m"
        "$url/readings/read/$m?limit=2"
        "$url/readings/read/$m?from=$from&to=$to"
        "$url/readings/read/$m?from=$from&to=$to&limit=1"
        "$url/readings/read/$m?from=1600000000&to=1600000100"
        "$url/readings/usage/$m?period=hour"
        "$url/readings/usage/$m?period=day&from=$from&to=$to"
        "$url/price-plans/compare-all/$m"
        "$url/price-plans/compare-all/$m?from=$from&to=$to"
        "$url/price-plans/recommend/$m?limit=2"
        "$url/price-plans/recommend/$m?include=savings")
done
healthy+=("$url/readings/read/desync-none" "$url/readings/read/desync-none?from=0&to=100"
    "$url/price-plans/compare-all/desync-none" "$url/price-plans" "$url/health")

# Prints every healthy answer (body, then its status on a line of its own), one
# connection for all of them.
answers() {
    curl -s --max-time 20 -w '\n%{http_code}\n' "${healthy[@]}" \
        --next -s --max-time 10 -w '\n%{http_code}\n' -H 'Content-Type: application/json' \
        -d @"$work/c.json" "$url/readings/store"
}
answers >"$work/before"
statuses=$(awk 'NR % 2 == 0' "$work/before" | tr '\n' ' ')
want="$(printf "200 %.0s" $(seq 33))404 404 404 200 200 200 "
check "the healthy answers are what they should be" "$([ "$statuses" = "$want" ] && echo 0 || echo 1)" \
    "statuses: $statuses"
answers >"$work/again"
cmp -s "$work/before" "$work/again"
check "the healthy answers are the same when asked again" $? "$(diff "$work/before" "$work/again" | head -5)"

# The victim: stored again whole before each damage, on a new connection (Redis
# closes the worker's, and the worker reconnects), so that each case starts clean.
restore() {
    rcli CLIENT KILL TYPE normal
    rcli DEL 'joi:{desync-v}:r' 'joi:{desync-v}:e' 'joi:{desync-v}:h' 'joi:{desync-v}:token'
    local f
    for f in v1 v2 v3; do post "$work/$f.json" >/dev/null; done
}
# Garbage bytes: protocol-looking framing, a NUL, bytes that are not UTF-8.
# shellcheck disable=SC2016
printf '*3\r\n$5\r\nhello\r\n:1\r\n-ERR x\r\n\x00\xff\xfe 1700000000:1' >"$work/garbage"
damage() { # key kind
    rcli DEL "$1"
    case $2 in
    list) redis-cli -s "$sock" -x RPUSH "$1" <"$work/garbage" >/dev/null ;;
    set) redis-cli -s "$sock" -x SADD "$1" <"$work/garbage" >/dev/null ;;
    string) redis-cli -s "$sock" -x SET "$1" <"$work/garbage" >/dev/null ;;
    hash) redis-cli -s "$sock" -x HSET "$1" 19675 <"$work/garbage" >/dev/null ;;
    zset) rcli ZADD "$1" $((t15 + 60)) "$t15:1" &&
        redis-cli -s "$sock" -x ZADD "$1" $((t15 + 30)) <"$work/garbage" >/dev/null ;;
    esac
}
victim=("/readings/read/desync-v" "/readings/read/desync-v?limit=2"
    "/readings/read/desync-v?from=$from&to=$to" "/readings/read/desync-v?from=$from&to=$to&limit=1"
    "/readings/read/desync-v?from=1600000000&to=1600000100" "/readings/usage/desync-v?period=hour"
    "/price-plans/compare-all/desync-v" "/price-plans/compare-all/desync-v?from=$from&to=$to"
    "/price-plans/recommend/desync-v?limit=2" "/price-plans/recommend/desync-v?include=savings"
    "store")

for key in r e h token; do # layout 2: chunks, day records, head, token
    for kind in list set string hash zset; do
        restore
        damage "joi:{desync-v}:$key" "$kind"
        changed=0
        problems=0
        detail=''
        for path in "${victim[@]}"; do
            if [ "$(date +%s)" -ge "$deadline" ]; then
                check "within the time bound" 1 "stopped at :$key $kind $path"
                break 3
            fi
            if [ "$path" = store ]; then
                got=$(post "$work/v3.json")
            else
                got=$(curl -s --max-time 10 -w '\n%{http_code}' "$url$path")
            fi
            code=${got##*$'\n'}
            body=${got%$'\n'*}
            # The victim's answer: a 200, or a problem document of its own status.
            if [ "$code" != 200 ] && [[ "$body" != *"\"status\":$code,"* ]]; then
                problems=$((problems + 1))
                detail+=" [$path: $code $body]"
            fi
            answers >"$work/after"
            if ! cmp -s "$work/before" "$work/after"; then
                changed=$((changed + 1))
                [ "$changed" -gt 1 ] || detail+=" [after $path: $(diff "$work/before" "$work/after" | head -4 | cut -c1-120 | tr '\n' ' ')]"
            fi
        done
        check ":$key as $kind: every healthy answer stays byte for byte the same" "$changed" \
            "changed after $changed of ${#victim[@]} requests;$detail"
        check ":$key as $kind: the victim's answers are problem documents or 200" "$problems" "$detail"
    done
done

[ "$(worker_pids)" = "$workers" ]
check "no worker restarted" $? "before: $workers after: $(worker_pids)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
