#!/usr/bin/env bash
# The pathological family through the real stack (run by tests/e2e/run.sh, and so
# by make e2e and make test): named worst-case inputs, each sent through lighttpd
# to the workers and Redis, its exact status and body asserted, and its wall time
# and the peak RSS it adds to the worker that served it (VmHWM of every worker,
# reset through /proc/PID/clear_refs before the case) checked against the bound
# stated with it.  With sanitizer or valgrind workers the time bounds are ten
# times looser and memory is not checked.  Prints a table of every case's
# figures, and ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
here=$(dirname "$0")

# shellcheck source=tests/e2e/check.sh
. "$here/check.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/joi-patho.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

slow=1
if [ -n "${JOI_WORKER_WRAPPER:-}" ] || ldd "$JOI_BUILD/joi-worker" 2>/dev/null | grep -q libasan; then
    slow=10
fi

lighttpd_pid=$(cat "$JOI_VAR/lighttpd.pid")
workers() { pgrep -P "$lighttpd_pid"; }
kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status" 2>/dev/null; }

reset_peaks() {
    local p
    for p in $(workers); do
        echo 5 >"/proc/$p/clear_refs" 2>/dev/null
        kb VmRSS "$p" >"$tmp/rss.$p"
    done
}

# The largest growth of a worker's peak RSS since reset_peaks, in kB.
peak_growth() {
    local p max=0 h b
    for p in $(workers); do
        h=$(kb VmHWM "$p")
        b=$(cat "$tmp/rss.$p" 2>/dev/null || echo "$h")
        [ -n "$h" ] && [ $((h - b)) -gt "$max" ] && max=$((h - b))
    done
    echo "$max"
}

table=""
# run_case NAME MAX_SECONDS MAX_MB STATUS EXPECTED CURL-ARGS...
# EXPECTED is the exact body, or @FILE for a body in a file, or - to check the
# status only (the caller checks the body from $tmp/body).
run_case() {
    local name=$1 max_s=$2 max_mb=$3 want_status=$4 want=$5
    shift 5
    reset_peaks
    local out status secs grew ok
    out=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' --max-time 120 "$@")
    status=${out% *}
    secs=${out#* }
    grew=$(peak_growth)
    case $want in
    -) ok=0 ;;
    @*) cmp -s "$tmp/body" "${want#@}" && ok=0 || ok=1 ;;
    *) [ "$(cat "$tmp/body")" = "$want" ] && ok=0 || ok=1 ;;
    esac
    [ "$status" = "$want_status" ] && [ "$ok" = 0 ]
    check "$name: $want_status and its body" $? "got $status: $(head -c 300 "$tmp/body")"
    local bound_s
    bound_s=$(awk -v a="$max_s" -v s="$slow" 'BEGIN { print a * s }')
    awk -v t="$secs" -v b="$bound_s" 'BEGIN { exit !(t <= b) }'
    check "$name: ${secs} s <= ${bound_s} s" $? "took ${secs} s"
    if [ "$slow" = 1 ]; then
        [ "$grew" -le $((max_mb * 1024)) ]
        check "$name: peak RSS +$((grew / 1024)) MB <= $max_mb MB" $? "+$grew kB"
    fi
    table+=$(printf '| %s | %s | %s s (bound %s) | +%s MB (bound %s) |' "$name" "$status" "$secs" \
        "$bound_s" "$(awk -v k="$grew" 'BEGIN { printf "%.1f", k / 1024 }')" "$max_mb")$'\n'
}

problem() { # status title detail [pointer]
    local p=""
    [ $# -ge 4 ] && p=",\"pointer\":\"$4\""
    printf '{"type":"about:blank","title":"%s","status":%s,"detail":"%s"%s}' "$2" "$1" "$3" "$p"
}

store() { # file: POSTs it, expects 200
    local st
    st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
        --data-binary "@$1" "$url/readings/store")
    [ "$st" = 200 ] || echo "storing $1: $st" >&2
}

py() { python3 -c "$@"; }
bad_request=$(problem 400 "Bad Request" "malformed JSON: nested more than 16 levels deep")
unprocessable="Unprocessable Content"

# --- Bodies ------------------------------------------------------------------
py "import sys; sys.stdout.write('[' * 100000)" >"$tmp/deep-array"
run_case "deep JSON: 100000 [" 1 8 400 "$bad_request" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/deep-array" "$url/readings/store"
py "import sys; sys.stdout.write('{\"a\":' * 100000)" >"$tmp/deep-object"
run_case "deep JSON: 100000 {\"a\":" 1 8 400 "$bad_request" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/deep-object" "$url/readings/store"

py "
import sys
sys.stdout.write('{' + ''.join('\"smartMeterId\":\"m%d\",' % (i % 10) for i in range(40000)))
sys.stdout.write('\"smartMeterId\":\"patho-repeated\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}')
" >"$tmp/repeated"
run_case "40000 repeated keys (900 KB)" 1 32 200 \
    '{"smartMeterId":"patho-repeated","electricityReadings":[{"time":1,"reading":1}]}' \
    -H 'Content-Type: application/json' --data-binary "@$tmp/repeated" "$url/readings/store"

py "import sys; sys.stdout.write('{\"smartMeterId\":\"' + 'a' * 900000 + '\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}')" >"$tmp/long-id"
run_case "a 900 KB meter id in the body" 1 32 400 \
    "$(problem 400 "Bad Request" "smartMeterId must be 1 to 64 characters from A-Z a-z 0-9 . _ -" /smartMeterId)" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/long-id" "$url/readings/store"
py "import sys; sys.stdout.write('{\"note\":\"' + 'a' * 900000 + '\",\"smartMeterId\":\"patho-note\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}')" >"$tmp/long-note"
run_case "a 900 KB string in an unknown field" 1 32 200 \
    '{"smartMeterId":"patho-note","electricityReadings":[{"time":1,"reading":1}]}' \
    -H 'Content-Type: application/json' --data-binary "@$tmp/long-note" "$url/readings/store"

range_problem=$(problem 400 "Bad Request" "electricityReadings[0].reading must be a number between 0 and 1000000" /electricityReadings/0/reading)
printf '{"smartMeterId":"patho-huge","electricityReadings":[{"time":1,"reading":1e999999}]}' >"$tmp/exp"
run_case "a reading of 1e999999" 1 8 400 "$range_problem" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/exp" "$url/readings/store"
printf '{"smartMeterId":"patho-huge","electricityReadings":[{"time":1e400,"reading":1}]}' >"$tmp/exp-time"
run_case "a time of 1e400" 1 8 400 \
    "$(problem 400 "Bad Request" "electricityReadings[0].time must be epoch seconds (an integer from 0 to 253402300799) or an RFC 3339 date-time with an offset" /electricityReadings/0/time)" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/exp-time" "$url/readings/store"
py "import sys; sys.stdout.write('{\"smartMeterId\":\"patho-tiny\",\"electricityReadings\":[{\"time\":1,\"reading\":0.' + '0' * 900000 + '1}]}')" >"$tmp/tiny"
run_case "a reading of 900000 digits" 1 32 200 \
    '{"smartMeterId":"patho-tiny","electricityReadings":[{"time":1,"reading":0}]}' \
    -H 'Content-Type: application/json' --data-binary "@$tmp/tiny" "$url/readings/store"
py "import sys; sys.stdout.write('{\"smartMeterId\":\"patho-huge\",\"electricityReadings\":[{\"time\":1,\"reading\":1' + '0' * 900000 + '}]}')" >"$tmp/big"
run_case "an integer of 900000 digits" 1 32 400 "$range_problem" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/big" "$url/readings/store"

# --- Batches -----------------------------------------------------------------
# batch METER N START STEP > file: the body, in the form the service echoes.
batch() {
    py "
import sys
m, n, start, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.stdout.write('{\"smartMeterId\":\"%s\",\"electricityReadings\":[' % m)
sys.stdout.write(','.join('{\"time\":%d,\"reading\":0.5}' % (start + i * step) for i in range(n)))
sys.stdout.write(']}')" "$@"
}
batch patho-same 10000 1700000000 0 >"$tmp/same"
run_case "10000 readings at one time" 2 32 200 "@$tmp/same" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/same" "$url/readings/store"
run_case "read back: one reading" 1 8 200 '[{"time":1700000000,"reading":0.5}]' \
    "$url/readings/read/patho-same"
# Redis holds its one thread for the script of such a batch (the storage issue
# takes the arithmetic out of it); the bound here is the one of today.
batch patho-year 10000 1700000000 3154 >"$tmp/year"
run_case "10000 readings spread over a year" 10 32 200 "@$tmp/year" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/year" "$url/readings/store"
py "
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))['electricityReadings'], separators=(',', ':')), end='')" \
    "$tmp/year" >"$tmp/year-read"
run_case "read back: 10000 readings over a year" 1 16 200 "@$tmp/year-read" \
    "$url/readings/read/patho-year"
batch patho-century 10000 0 315360 >"$tmp/century"
run_case "10000 readings spread over 100 years" 10 32 200 "@$tmp/century" \
    -H 'Content-Type: application/json' --data-binary "@$tmp/century" "$url/readings/store"
run_case "usage by hour of 10000 readings over 100 years" 1 8 422 \
    "$(problem 422 "$unprocessable" "usage by hour over this range would be 875913 buckets; at most 100000 are answered: narrow from/to or choose a longer period")" \
    "$url/readings/usage/patho-century?period=hour"
run_case "usage by month of 10000 readings over 100 years" 1 16 200 - \
    "$url/readings/usage/patho-century?period=month"
[ "$(py "import json,sys; d=json.load(open(sys.argv[1])); print(len(d), d[0]['start'], d[0]['end'], d[-1]['start'])" "$tmp/body")" = \
    "1200 0 2678400 3153081600" ]
check "usage by month over 100 years: January 1970 to December 2069" $? "$(head -c 200 "$tmp/body")"

# --- 100-year spans on every endpoint -----------------------------------------
printf '{"smartMeterId":"patho-99y","electricityReadings":[{"time":0,"reading":1},{"time":3124224000,"reading":1}]}' >"$tmp/99y"
store "$tmp/99y"
run_case "usage by hour over 99 years (the issue's case)" 1 8 422 \
    "$(problem 422 "$unprocessable" "usage by hour over this range would be 867841 buckets; at most 100000 are answered: narrow from/to or choose a longer period")" \
    "$url/readings/usage/patho-99y?period=hour"
py "
import sys
sys.stdout.write('[' + ','.join('{\"start\":%d,\"end\":%d,\"kWh\":24}' % (d * 86400, (d + 1) * 86400) for d in range(36160)) + ']')" >"$tmp/99y-days"
run_case "usage by day over 99 years" 1 24 200 "@$tmp/99y-days" "$url/readings/usage/patho-99y?period=day"
run_case "usage by week over 99 years" 1 16 200 - "$url/readings/usage/patho-99y?period=week"
run_case "usage by month over 99 years" 1 8 200 - "$url/readings/usage/patho-99y?period=month"
flat='{"pricePlanId":null,"pricePlanComparisons":[{"price-plan-2":867840},{"price-plan-1":1735680},{"price-plan-0":8678400}],"usage":{"from":0,"to":3124224000,"kWh":867840,"coveredSeconds":3124224000,"gaps":0}}'
run_case "compare-all over 99 years" 1 8 200 "$flat" "$url/price-plans/compare-all/patho-99y"
run_case "compare-all from/to over 99 years" 1 8 200 "$flat" "$url/price-plans/compare-all/patho-99y?from=0&to=3124224000"
run_case "recommend over 99 years" 1 8 200 '[{"price-plan-2":867840}]' "$url/price-plans/recommend/patho-99y?limit=1"
run_case "read over 99 years" 1 8 200 '[{"time":0,"reading":1},{"time":3124224000,"reading":1}]' \
    "$url/readings/read/patho-99y"

printf '{"smartMeterId":"patho-101y","electricityReadings":[{"time":0,"reading":1},{"time":3162240001,"reading":1}]}' >"$tmp/101y"
store "$tmp/101y"
too_long=$(problem 422 "$unprocessable" "the readings span more than 100 years; choose a range with from and to")
for path in price-plans/compare-all price-plans/recommend readings/usage; do
    run_case "$path over 100 years and a second" 1 8 422 "$too_long" "$url/$path/patho-101y"
done

printf '{"smartMeterId":"patho-small","electricityReadings":[{"time":1700000000,"reading":1},{"time":1700000060,"reading":2}]}' >"$tmp/small"
store "$tmp/small"

# --- Time-of-use plans over a century ------------------------------------------
rules='"peakTimeMultipliers":[{"days":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"],"from":"16:10","to":"19:00","multiplier":2},{"days":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"],"from":"07:00","to":"09:00","multiplier":1.5},{"days":["SATURDAY","SUNDAY"],"from":"10:00","to":"14:00","multiplier":1.2},{"from":"23:30","to":"07:30","multiplier":0.5}]'
plans() { # N: N plans with the same four rules
    local i sep="" out='{"timezone":"Europe/London","pricePlans":['
    for ((i = 0; i < $1; i++)); do
        out+="$sep{\"id\":\"tou-$i\",\"unitRate\":1,$rules}"
        sep=,
    done
    echo "$out]}" >"$tmp/plans.json"
    "$JOI_ADMIN" load-config "$tmp/plans.json" >/dev/null
}
printf '{"smartMeterId":"patho-tou","electricityReadings":[{"time":0,"reading":1},{"time":60,"reading":1},{"time":3124224000,"reading":1},{"time":3124224060,"reading":1}]}' >"$tmp/tou"
store "$tmp/tou"
plans 5
run_case "compare-all, 5 time-of-use plans over 99 years (490810 windows)" 3 64 200 - \
    "$url/price-plans/compare-all/patho-tou"
run_case "compare-all from/to, 5 time-of-use plans over 99 years" 3 64 200 - \
    "$url/price-plans/compare-all/patho-tou?from=0"
# Four of these at once (one per worker), and a read of another meter meanwhile:
# it waits for a worker at most as long as one of them takes.
for i in 1 2 3 4; do
    curl -s -o /dev/null --max-time 60 "$url/price-plans/compare-all/patho-tou" &
done
sleep 0.05
run_case "a read while four such requests run" 2 64 200 \
    '[{"time":1700000000,"reading":1},{"time":1700000060,"reading":2}]' "$url/readings/read/patho-small"
wait
plans 6
windows=$(problem 422 "$unprocessable" "pricing readings over 36161 days on these time-of-use plans means up to 588972 tariff windows; at most 500000 are worked out in one request: narrow the range with from and to")
run_case "compare-all, 6 time-of-use plans over 99 years (588972 windows)" 1 8 422 "$windows" \
    "$url/price-plans/compare-all/patho-tou"
run_case "recommend from/to, 6 time-of-use plans over 99 years" 1 8 422 "$windows" \
    "$url/price-plans/recommend/patho-tou?from=0"
"$JOI_ADMIN" load-config "$JOI_ROOT/redis/plans.json" >/dev/null

# --- URIs ----------------------------------------------------------------------
query=$(py "print('&'.join('a=1' for _ in range(1000)))")
run_case "1000 query parameters (4 KB)" 1 8 400 \
    "$(problem 400 "Bad Request" "the query string is malformed or too long")" \
    "$url/readings/read/patho-small?$query"
query=$(py "print('&'.join('p%d=%d' % (i, i) for i in range(1000)))")
header_limit=$(problem 431 "Request Header Fields Too Large" "the request line and headers are larger than 8 KB")
run_case "1000 query parameters (9 KB)" 1 8 431 "$header_limit" "$url/readings/read/patho-small?$query"
run_case "a 20 KB query value" 1 8 431 "$header_limit" "$url/readings/read/patho-small?limit=$(py "print('9' * 20000)")"
run_case "a 257-character query value" 1 8 400 \
    "$(problem 400 "Bad Request" "the query string is malformed or too long")" \
    "$url/readings/read/patho-small?limit=$(py "print('9' * 257)")"
run_case "a 256-digit limit" 1 8 200 '[{"time":1700000000,"reading":1},{"time":1700000060,"reading":2}]' \
    "$url/readings/read/patho-small?limit=$(py "print('9' * 256)")"
id64=$(py "print('A' * 64)")
unknown64=$(problem 404 "Not Found" "meter $id64 has no readings")
bad_id=$(problem 400 "Bad Request" "the meter id must be 1 to 64 characters from A-Z a-z 0-9 . _ -")
run_case "a 64-character id" 1 8 404 "$unknown64" "$url/readings/read/$id64"
run_case "a 64-character id, percent-encoded" 1 8 404 "$unknown64" \
    "$url/price-plans/compare-all/$(py "print('%41' * 64)")"
run_case "a 65-character id" 1 8 400 "$bad_id" "$url/readings/read/${id64}A"
run_case "a 65-character id, percent-encoded" 1 8 400 "$bad_id" "$url/readings/usage/$(py "print('%41' * 65)")"
run_case "a 6 KB percent-encoded id" 1 8 400 "$bad_id" "$url/price-plans/recommend/$(py "print('%41' * 2000)")"

# --- One reading more than a request reads --------------------------------------
# 1000001 readings a minute apart (about 23 months), in 101 batches.
py "
import sys
d = sys.argv[1]
for b in range(101):
    with open('%s/long-%03d' % (d, b), 'w') as f:
        n = 10000 if b < 100 else 1
        f.write('{\"smartMeterId\":\"patho-long\",\"electricityReadings\":[')
        f.write(','.join('{\"time\":%d,\"reading\":0.5}' % (1600000000 + (b * 10000 + i) * 60) for i in range(n)))
        f.write(']}')
with open('%s/long-read' % d, 'w') as f:
    f.write('[' + ','.join('{\"time\":%d,\"reading\":0.5}' % (1600000000 + i * 60) for i in range(1, 1000001)) + ']')
" "$tmp"
loaded=0
start=$(date +%s)
for f in "$tmp"/long-[0-9]*; do
    [ $(($(date +%s) - start)) -lt 300 ] || break
    store "$f" && loaded=$((loaded + 1))
done
[ "$loaded" = 101 ]
check "1000001 readings stored in 101 batches in $(($(date +%s) - start)) s" $? "$loaded batches"
run_case "read 1000001 readings" 5 96 422 \
    "$(problem 422 "$unprocessable" "the meter has more than 1000000 readings; at most 1000000 are answered in one request: narrow the range with from and to, or give a limit")" \
    "$url/readings/read/patho-long"
run_case "read 1000000 readings (37 MB)" 5 160 200 "@$tmp/long-read" \
    "$url/readings/read/patho-long?from=1600000060"
run_case "read with limit=1000001" 5 96 422 \
    "$(problem 422 "$unprocessable" "the meter has more than 1000000 readings; at most 1000000 are answered in one request: narrow the range with from and to, or give a limit")" \
    "$url/readings/read/patho-long?limit=1000001"
run_case "read the latest 2 of 1000001" 1 8 200 \
    '[{"time":1659999940,"reading":0.5},{"time":1660000000,"reading":0.5}]' \
    "$url/readings/read/patho-long?limit=2"
run_case "compare-all from/to over 1000001 readings" 5 96 422 \
    "$(problem 422 "$unprocessable" "the range holds more than 1000000 readings; at most 1000000 are priced in one request: narrow the range with from and to")" \
    "$url/price-plans/compare-all/patho-long?from=0"
run_case "compare-all of 1000001 readings (pre-aggregates)" 2 32 200 - \
    "$url/price-plans/compare-all/patho-long"
run_case "usage of 1000001 readings" 5 96 422 \
    "$(problem 422 "$unprocessable" "the meter has more than 1000000 readings; at most 1000000 are bucketed in one request: narrow the range with from and to")" \
    "$url/readings/usage/patho-long?period=month"
run_case "usage by hour of 1000000 readings" 5 96 200 - \
    "$url/readings/usage/patho-long?period=hour&from=1600000060"
[ "$(py "import json,sys; d=json.load(open(sys.argv[1])); print(len(d), d[0]['start'], d[-1]['end'])" "$tmp/body")" = \
    "16668 1599998400 1660003200" ]
check "usage by hour of 1000000 readings: 16668 hours" $? "$(head -c 200 "$tmp/body")"

echo
echo "| case | status | time | worker peak RSS |"
echo "|---|---:|---:|---:|"
printf '%s' "$table"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
