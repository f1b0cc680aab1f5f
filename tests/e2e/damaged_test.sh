#!/usr/bin/env bash
# Data in the store that the service did not write (run by tests/e2e/run.sh):
# readings that are not "time:reading", a key of the wrong type.  Each is a 500
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
# Members the store script never writes: no colon, a time that is not digits,
# a reading that is not a number, or one too large for a double; each among good
# ones.
for member in garbage x1700000120:1 01700000120:1 1700000120:one 1700000120: :1 1700000120:1. \
    1700000120:01 1700000120:.5 1700000120:1e 1700000120:+1 '1700000120:1 ' 17000001200000:1 \
    1700000120:1e999 "1700000120:$(printf '9%.0s' $(seq 400))"; do
    rcli DEL 'joi:{damaged-bad}:r'
    rcli ZADD 'joi:{damaged-bad}:r' 1700000000 1700000000:0.5 1700000060 "$member" 1700000120 1700000180:2
    expect "member '$member': 500" /readings/read/damaged-bad 500 "$malformed"
    expect "member '$member', with limit: 500" '/readings/read/damaged-bad?limit=2' 500 "$malformed"
    expect "member '$member', usage: 500" '/readings/usage/damaged-bad?period=day' 500 "$malformed"
done

# A hundred malformed members, newest, before good ones: a read of a range with a
# limit comes newest first and notes where each entry ends, for every member.
many=()
for i in $(seq 100); do many+=($((1700000200 + i)) "bad-$i"); done
rcli DEL 'joi:{damaged-many}:r'
rcli ZADD 'joi:{damaged-many}:r' 1700000000 1700000000:0.5 1700000060 1700000060:1.25 "${many[@]}"
expect "100 malformed members before good ones, read newest first: 500" \
    '/readings/read/damaged-many?limit=200&from=1600000000&to=1800000000' 500 "$malformed"

rcli DEL 'joi:{damaged-type}:r'
rcli SET 'joi:{damaged-type}:r' not-a-sorted-set
refused='{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the store refused a command"}'
expect "a key of the wrong type: 500" /readings/read/damaged-type 500 "$refused"

# Energy buckets: a day field whose value is not 48 doubles.
curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"smartMeterId":"damaged-buckets","electricityReadings":[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]}' \
    "$url/readings/store"
rcli HSET 'joi:{damaged-buckets}:e' 19675 short
expect "a malformed day of buckets: 500" /price-plans/compare-all/damaged-buckets 500 \
    '{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the store holds malformed energy buckets"}'

rcli ZADD 'joi:{damaged-limit}:r' 1700000000 1700000000:0.5 1700000060 1700000060:1.25 1700000120 1700000120:2
expect "limit still gives the latest, ascending" '/readings/read/damaged-limit?limit=2' 200 \
    '[{"time":1700000060,"reading":1.25},{"time":1700000120,"reading":2}]'
expect "limit in a range gives the latest of the range, ascending" \
    '/readings/read/damaged-limit?limit=2&to=1700000060' 200 \
    '[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":1.25}]'
expect "limit 1 in a range" '/readings/read/damaged-limit?limit=1&from=1700000060' 200 \
    '[{"time":1700000120,"reading":2}]'
expect "the good meter still reads back" /readings/read/damaged-good 200 "$good"
[ "$(worker_pids)" = "$workers_before" ]
check "no worker restarted" $? "before: $workers_before after: $(worker_pids)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
