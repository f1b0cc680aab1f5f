#!/usr/bin/env bash
# Data in the store that the service did not write (run by tests/e2e/run.sh):
# damaged chunks, head records and day records (layout 2), keys of the wrong type.  Each is a 500
# problem details for that meter only; the workers live on and every other meter
# still reads back exactly.  Ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
sock=${JOI_REDIS#unix:}

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

rcli() { redis-cli -s "$sock" "$@" >/dev/null; }
lighttpd_pid() { cat "$JOI_VAR/lighttpd.pid"; }
worker_pids() { pgrep -P "$(lighttpd_pid)" | sort | tr '\n' ' '; }

# GETs a path; prints "status body".
get() {
    local body
    body=$(curl -s --max-time 10 -w ' %{http_code}' "$url$1")
    echo "${body##* } ${body% *}"
}

expect() { # name path status body
    local got
    got=$(get "$2")
    [ "$got" = "$3 $4" ]
    check "$1" $? "got: $got"
}

workers_before=$(worker_pids)
curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"smartMeterId":"damaged-good","electricityReadings":[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]}' \
    "$url/readings/store"
good='[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]'
expect "a good meter reads back" /readings/read/damaged-good 200 "$good"

malformed='{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the store holds a malformed reading"}'
# Records the store never writes in a meter's head (joi:{M}:h, layout 2: "DAY\n"
# then "time:reading\n" records; 1700000000 is in day 19675): no colon, a time
# that is not digits, a reading that is not a number, or one too large for a
# double, a time of another day; each among good ones.
for member in garbage x1700000120:1 01700000120:1 1700000120:one 1700000120: :1 1700000120:1. \
    1700000120:01 1700000120:.5 1700000120:1e 1700000120:+1 '1700000120:1 ' 17000001200000:1 \
    1700000120:1e999 "1700000120:$(printf '9%.0s' $(seq 400))" 1600000000:1 ''; do
    rcli DEL 'joi:{damaged-bad}:h'
    rcli SET 'joi:{damaged-bad}:h' "$(printf '19675\n1700000000:0.5\n%s\n1700000180:2\n' "$member")"
    expect "head record '$member': 500" /readings/read/damaged-bad 500 "$malformed"
    expect "head record '$member', with limit: 500" '/readings/read/damaged-bad?limit=2' 500 "$malformed"
    expect "head record '$member', usage: 500" '/readings/usage/damaged-bad?period=day' 500 "$malformed"
    expect "head record '$member', compare-all: 500" /price-plans/compare-all/damaged-bad 500 "$malformed"
done
for head in '' 19675 'x
' '019675
' '19675
1700000000:0.5'; do
    rcli SET 'joi:{damaged-bad}:h' "$head"
    expect "head '$head': 500" /readings/read/damaged-bad 500 "$malformed"
done

# Chunks (members of joi:{M}:r) damaged in place: cut short, another version byte,
# garbage, a layout-1 member, a byte after the end.  (A chunk has no checksum: a
# flipped bit can make another valid chunk, see joi/chunk.h.)  The meter has three
# sealed days and a head.
store_days() { # meter
    curl -s -o /dev/null -H 'Content-Type: application/json' -d "{\"smartMeterId\":\"$1\",\"electricityReadings\":[
        {\"time\":1700000000,\"reading\":0.5},{\"time\":1700000060,\"reading\":1.25},
        {\"time\":1700086400,\"reading\":2},{\"time\":1700086460,\"reading\":2.5},
        {\"time\":1700172800,\"reading\":3},{\"time\":1700259200,\"reading\":4}]}" "$url/readings/store"
}
damage() { # meter lua-expression-of-m
    redis-cli -s "$sock" EVAL "local m = redis.call('ZRANGEBYSCORE', KEYS[1], 1699920000, 1699920000)[1]
        redis.call('ZREM', KEYS[1], m)
        redis.call('ZADD', KEYS[1], 1699920000, $2)" 1 "joi:{$1}:r" >/dev/null
}
i=0
for how in "string.sub(m, 1, #m - 1)" "'\\2' .. string.sub(m, 2)" \
    "'garbage'" "'1700000000:0.5'" "m .. '\\0'"; do
    i=$((i + 1))
    store_days "damaged-chunk-$i"
    expect "chunk $i read back before damage" "/readings/read/damaged-chunk-$i?limit=1" 200 \
        '[{"time":1700259200,"reading":4}]'
    damage "damaged-chunk-$i" "$how"
    expect "chunk damaged by $how: read 500" "/readings/read/damaged-chunk-$i" 500 "$malformed"
    expect "chunk damaged by $how: read of its day 500" \
        "/readings/read/damaged-chunk-$i?from=1700000000&to=1700000060" 500 "$malformed"
    expect "chunk damaged by $how: usage 500" "/readings/usage/damaged-chunk-$i?period=day" 500 "$malformed"
done
# A damaged chunk outside the range read, or before the newest readings a limit
# takes (skipped by its header's count), is not read at all... unless its header
# is damaged: that one is always seen.
expect "a damaged chunk outside the range is not read" \
    "/readings/read/damaged-chunk-1?from=1700086400&to=1700086460" 200 \
    '[{"time":1700086400,"reading":2},{"time":1700086460,"reading":2.5}]'

rcli DEL 'joi:{damaged-type}:r'
rcli SET 'joi:{damaged-type}:r' not-a-sorted-set
refused='{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the store refused a command"}'
expect "a sorted set of the wrong type: 500" /readings/read/damaged-type 500 "$refused"
rcli DEL 'joi:{damaged-type}:r'
rcli HSET 'joi:{damaged-type}:h' a b
expect "a head of the wrong type: 500" /readings/read/damaged-type 500 "$refused"
expect "a head of the wrong type, compare-all: 500" /price-plans/compare-all/damaged-type 500 "$refused"
rcli DEL 'joi:{damaged-type}:h'
rcli SET 'joi:{damaged-type}:e' not-a-hash
expect "day records of the wrong type: 500" /price-plans/compare-all/damaged-type 500 "$refused"

# Day records: a value that is not a record, a field that is not a day.
baddays='{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the store holds a malformed day record"}'
for field in "19675 short" "19675 \\x01" "x19675 \\x01" "-1 \\x01"; do
    store_days damaged-days
    rcli DEL 'joi:{damaged-days}:e'
    store_days damaged-days
    redis-cli -s "$sock" EVAL "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])" 1 'joi:{damaged-days}:e' \
        ${field% *} "$(printf "${field#* }")" >/dev/null
    expect "day record '$field': compare-all 500" /price-plans/compare-all/damaged-days 500 "$baddays"
done

store_days damaged-limit
expect "limit still gives the latest, ascending" '/readings/read/damaged-limit?limit=2' 200 \
    '[{"time":1700172800,"reading":3},{"time":1700259200,"reading":4}]'
expect "limit in a range gives the latest of the range, ascending" \
    '/readings/read/damaged-limit?limit=2&to=1700086400' 200 \
    '[{"time":1700000060,"reading":1.25},{"time":1700086400,"reading":2}]'
expect "limit 1 in a range" '/readings/read/damaged-limit?limit=1&from=1700000060&to=1700000061' 200 \
    '[{"time":1700000060,"reading":1.25}]'
expect "limit 3 across chunks" '/readings/read/damaged-limit?limit=3&from=1700000001&to=1700172800' 200 \
    '[{"time":1700086400,"reading":2},{"time":1700086460,"reading":2.5},{"time":1700172800,"reading":3}]'
expect "the good meter still reads back" /readings/read/damaged-good 200 "$good"
[ "$(worker_pids)" = "$workers_before" ]
check "no worker restarted" $? "before: $workers_before after: $(worker_pids)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
