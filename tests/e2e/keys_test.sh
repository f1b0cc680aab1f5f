#!/usr/bin/env bash
# Read keys, the two access modes, erasure and CSV export, through the real stack
# (run by tests/e2e/run.sh; with JOI_E2E_SHARDED=1 the store is two shards behind
# twemproxy, and the meter list and the checks after an erasure go to each shard).
#
# First in open mode (the stack run.sh starts): CSV export and Accept
# negotiation, a meter with a read key (Bearer, Basic, wrong, malformed, another
# meter's key, its write token), revocation, meter list and meter delete.  Then
# the same stack restarted with JOI_AUTH=keys: the public paths stay public,
# every 401 is byte for byte the same for unknown and known meters, a key opens
# its own meter only, a store needs the meter's token.  Last, no key or token
# appears in any log.  Ends with "N passed, M failed".
set -u
: "${JOI_TEST_URL:?run this through tests/e2e/run.sh}"
url=$JOI_TEST_URL
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-keys.XXXXXX")
trap 'rm -rf "$work"' EXIT
read -r -a shard_ports <<<"${JOI_SHARD_PORTS:-}"

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

# fetch NAME [curl args...] URL: headers in $work/NAME.h (Date left out, CRs
# kept), body in $work/NAME.b; prints the status.
fetch() {
    local name=$1
    shift
    curl -s --max-time 10 -D "$work/$name.raw" -o "$work/$name.b" -w '%{http_code}' "$@"
    grep -v '^Date: ' "$work/$name.raw" >"$work/$name.h"
}
header() { # NAME HEADER: its value, without the CR
    grep -i "^$2: " "$work/$1.h" | head -1 | cut -d' ' -f2- | tr -d '\r'
}
same() { # name file-a file-b
    cmp -s "$2" "$3"
    check "$1" $? "$(diff "$2" "$3" | head -6)"
}
is() { # name got want
    [ "$2" = "$3" ]
    check "$1" $? "got: $2 | expected: $3"
}
store() { # meter [curl args...]: a two-reading batch; prints the status
    local m=$1
    shift
    curl -s --max-time 10 -o "$work/store.b" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$m\",\"electricityReadings\":[{\"time\":1700000000,\"reading\":0.5},{\"time\":1700003600,\"reading\":1.5}]}" \
        "$@" "$url/readings/store"
}
# every key name in the store (each shard when sharded)
all_keys() {
    if [ ${#shard_ports[@]} -gt 0 ]; then
        for p in "${shard_ports[@]}"; do redis-cli -h 127.0.0.1 -p "$p" --scan; done
    else
        redis-cli -s "${JOI_REDIS#unix:}" --scan
    fi
}
shard_args=()
for p in "${shard_ports[@]}"; do shard_args+=(--shard "127.0.0.1:$p"); done

read401='{"type":"about:blank","title":"Unauthorized","status":401,"detail":"this meter'"'"'s data needs its read key: Authorization: Bearer KEY, or Basic with the key as user name and an empty password"}'
write401='{"type":"about:blank","title":"Unauthorized","status":401,"detail":"storing readings for this meter needs its write token: Authorization: Bearer TOKEN"}'
challenge='Bearer realm="joi-energy", Basic realm="joi-energy"'

echo "== open mode"
echo "CSV export"
r=/readings/read/smart-meter-0
for q in "" "?limit=3" "?from=1606089600&to=1606100000" "?from=1606089600&to=1606176000&limit=5" "?from=1&to=2"; do
    is "JSON read$q is 200" "$(fetch json "$url$r$q")" 200
    is "CSV read$q is 200" "$(fetch csv -H 'Accept: text/csv' "$url$r$q")" 200
    jq -j '"time,reading\r\n", (.[] | "\(.time),\(.reading)\r\n")' "$work/json.b" >"$work/want.csv"
    same "CSV read$q holds the JSON's readings, CRLF, header row" "$work/csv.b" "$work/want.csv"
done
# each reading's stored text, not a reformatted number (jq would print 0.1 either way)
store csv-text >/dev/null
curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"smartMeterId":"csv-text","electricityReadings":[{"time":5,"reading":1E-7},{"time":6,"reading":100.50},{"time":7,"reading":0}]}' \
    "$url/readings/store"
fetch csv -H 'Accept: text/csv' "$url/readings/read/csv-text?to=10" >/dev/null
printf 'time,reading\r\n5,1e-07\r\n6,100.5\r\n7,0\r\n' >"$work/want.csv"
same "CSV of stored texts, byte for byte" "$work/csv.b" "$work/want.csv"
fetch csv -H 'Accept: text/csv' "$url$r?limit=2" >/dev/null
is "CSV Content-Type" "$(header csv Content-Type)" "text/csv; charset=utf-8"
is "CSV Content-Disposition" "$(header csv Content-Disposition)" 'attachment; filename="smart-meter-0.csv"'
is "CSV Vary" "$(header csv Vary)" "Accept"
fetch json "$url$r?limit=2" >/dev/null
is "JSON Vary" "$(header json Vary)" "Accept"
is "JSON has no Content-Disposition" "$(header json Content-Disposition)" ""
is "empty range as CSV: 200" "$(fetch csv -H 'Accept: text/csv' "$url$r?from=1&to=2")" 200
printf 'time,reading\r\n' >"$work/want.csv"
same "empty range as CSV: the header row only" "$work/csv.b" "$work/want.csv"
is "unknown meter as CSV: 404 problem" "$(fetch csv -H 'Accept: text/csv' "$url/readings/read/nobody-here")$(header csv Content-Type)" \
    "404application/problem+json"
is "CSV bad limit: 400" "$(fetch csv -H 'Accept: text/csv' "$url$r?limit=x")" 400

echo "Accept negotiation"
neg() { # name accept want-type
    fetch neg -H "Accept: $2" "$url$r?limit=1" >/dev/null
    is "$1" "$(header neg Content-Type)" "$3"
}
neg "text/csv, application/json;q=0.5 is CSV" "text/csv, application/json;q=0.5" "text/csv; charset=utf-8"
neg "application/json;q=0.5, text/csv is CSV" "application/json;q=0.5, text/csv" "text/csv; charset=utf-8"
neg "text/csv;q=0.4, application/json is JSON" "text/csv;q=0.4, application/json" "application/json"
neg "*/* is JSON" "*/*" "application/json"
neg "text/* is CSV" "text/*" "text/csv; charset=utf-8"
neg "a browser's Accept is JSON" "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" "application/json"
fetch neg "$url$r?limit=1" >/dev/null
is "no Accept is JSON" "$(header neg Content-Type)" "application/json"
is "Accept: image/png is 406" "$(fetch neg -H 'Accept: image/png' "$url$r")" 406
is "406 body" "$(cat "$work/neg.b")" '{"type":"about:blank","title":"Not Acceptable","status":406,"detail":"readings are answered as application/json or text/csv; the Accept header allows neither"}'
is "Accept: text/csv;q=0, application/json;q=0 is 406" "$(fetch neg -H 'Accept: text/csv;q=0, application/json;q=0' "$url$r")" 406
is "other endpoints ignore Accept" "$(fetch neg -H 'Accept: text/csv' "$url/price-plans/compare-all/smart-meter-0")$(header neg Content-Type)" \
    "200application/json"

echo "a meter with a read key"
key=$("$JOI_ADMIN" key create smart-meter-1)
check "key create prints 64 hex characters" "$([[ $key =~ ^[0-9a-f]{64}$ ]] && echo 0 || echo 1)" "$key"
key0=$("$JOI_ADMIN" key create smart-meter-0)
token1=$("$JOI_ADMIN" token create smart-meter-1)
basic=$(printf '%s:' "$key" | base64 -w0)
for p in /readings/read/smart-meter-1 "/readings/read/smart-meter-1?limit=1" /readings/usage/smart-meter-1 \
    /price-plans/compare-all/smart-meter-1 "/price-plans/recommend/smart-meter-1?limit=1"; do
    is "$p without a key: 401" "$(fetch no "$url$p")" 401
    is "$p 401 body" "$(cat "$work/no.b")" "$read401"
    is "$p 401 challenge" "$(header no WWW-Authenticate)" "$challenge"
    is "$p with Bearer: 200" "$(fetch bearer -H "Authorization: Bearer $key" "$url$p")" 200
    is "$p with Basic: 200" "$(fetch basic -H "Authorization: Basic $basic" "$url$p")" 200
    same "$p Basic and Bearer answer the same" "$work/bearer.b" "$work/basic.b"
done
is "curl -u KEY: reads" "$(fetch u -u "$key:" "$url/readings/read/smart-meter-1?limit=1")" 200
is "CSV with the key" "$(fetch csvk -H "Authorization: Bearer $key" -H 'Accept: text/csv' "$url/readings/read/smart-meter-1?limit=1")$(header csvk Content-Type)" \
    "200text/csv; charset=utf-8"
is "CSV without the key: 401" "$(fetch csvn -H 'Accept: text/csv' "$url/readings/read/smart-meter-1")" 401
is "HEAD without the key: 401" "$(curl -s -I -o /dev/null -w '%{http_code}' "$url/readings/read/smart-meter-1")" 401
fetch base "$url/readings/read/smart-meter-1" >/dev/null
n=0
# The key with its last character changed (to 0, or to 1 when it is a 0 already).
last=${key: -1}
other=0
[ "$last" = 0 ] && other=1
for a in "Bearer ${key%?}$other" "Bearer ${key}0" "Bearer $key0" "Bearer $token1" "Basic $(printf '%s:x' "$key" | base64 -w0)" \
    "Basic $(printf '%s' "$key" | base64 -w0)" "Basic $key" "Bearer" "Bearer " "Bearer a b" "Digest x" "$key" \
    "Basic !!!!" "Bearer $key$key$key" "bearer"; do
    n=$((n + 1))
    is "read with Authorization #$n: 401" "$(fetch bad$n -H "Authorization: $a" "$url/readings/read/smart-meter-1")" 401
    same "read with Authorization #$n: the same 401" "$work/base.h" "$work/bad$n.h"
    same "read with Authorization #$n: the same 401 body" "$work/base.b" "$work/bad$n.b"
done
is "a read key does not write" "$(store smart-meter-1 -H "Authorization: Bearer $key")" 401
is "the write token writes" "$(store smart-meter-1 -H "Authorization: Bearer $token1")" 200
is "the key still reads after the write" "$(fetch after -H "Authorization: Bearer $key" "$url/readings/read/smart-meter-1?limit=1")$(cat "$work/after.b")" \
    '200[{"time":1700003600,"reading":1.5}]'
is "a meter without a key stays open" "$(fetch open "$url/readings/read/smart-meter-2?limit=1")" 200
is "key revoke" "$("$JOI_ADMIN" key revoke smart-meter-0)" "read key of smart-meter-0 revoked"
is "a revoked key opens the meter again (open mode)" "$(fetch rev "$url/readings/read/smart-meter-0?limit=1")" 200
key0=$("$JOI_ADMIN" key create smart-meter-0)
is "a new key replaces the old" "$(fetch new -H "Authorization: Bearer $key0" "$url/readings/read/smart-meter-0?limit=1")" 200

echo "meter list and meter delete"
list=$("$JOI_ADMIN" meter list "${shard_args[@]}" 2>&1)
check "meter list runs" $? "$list"
is "meter list: smart-meter-1" "$(grep '^smart-meter-1 ' <<<"$list")" "smart-meter-1 token=yes key=yes data=yes"
is "meter list: smart-meter-0" "$(grep '^smart-meter-0 ' <<<"$list")" "smart-meter-0 token=no key=yes data=yes"
is "meter list: smart-meter-2" "$(grep '^smart-meter-2 ' <<<"$list")" "smart-meter-2 token=no key=no data=yes"
"$JOI_ADMIN" token create creds-only >/dev/null
is "meter list: a meter with only a token" "$("$JOI_ADMIN" meter list "${shard_args[@]}" | grep '^creds-only ')" \
    "creds-only token=yes key=no data=no"
is "meter list never shows a secret" "$(grep -c -e "$key" -e "$token1" -e "$key0" <<<"$list")" 0
is "meter list is sorted" "$(cut -d' ' -f1 <<<"$list")" "$(cut -d' ' -f1 <<<"$list" | LC_ALL=C sort)"
if [ ${#shard_ports[@]} -gt 0 ]; then
    "$JOI_ADMIN" meter list >"$work/proxy-list" 2>&1
    is "meter list through the proxy fails and says to name the shards" \
        "$?:$(grep -c -- '--shard' "$work/proxy-list")" "1:1"
fi
all_keys | grep -F '{smart-meter-1}' | sort >"$work/keys-before"
is "smart-meter-1 has keys of each kind before" "$(tr '\n' ' ' <"$work/keys-before")" \
    "joi:{smart-meter-1}:e joi:{smart-meter-1}:h joi:{smart-meter-1}:key joi:{smart-meter-1}:r joi:{smart-meter-1}:token "
is "meter delete" "$("$JOI_ADMIN" meter delete smart-meter-1)" "smart-meter-1 erased (5 keys)"
is "no key names the meter afterwards" "$(all_keys | grep -cF 'smart-meter-1')" 0
is "the erased meter is 404" "$(fetch gone "$url/readings/read/smart-meter-1")" 404
is "its old key opens nothing secret: still 404" "$(fetch gone2 -H "Authorization: Bearer $key" "$url/readings/read/smart-meter-1")" 404
is "meter list: gone" "$("$JOI_ADMIN" meter list "${shard_args[@]}" | grep -c '^smart-meter-1 ')" 0
is "other meters untouched" "$(fetch other "$url/readings/read/smart-meter-2?limit=1")" 200
is "meter delete of an unknown meter" "$("$JOI_ADMIN" meter delete nobody-here)" "nobody-here erased (0 keys)"
"$JOI_ADMIN" meter delete 'bad id' >/dev/null 2>&1
is "meter delete of a bad id fails" $? 1
is "its write token went too: the meter is open to write again (open mode)" "$(store smart-meter-1)" 200

echo "== keys mode"
"$JOI_SERVICE" stop >/dev/null 2>&1
out=$(JOI_AUTH=keys "$JOI_SERVICE" start 2>&1)
check "the service starts in keys mode" $? "$out"
check "start says keys mode" "$(grep -q 'access: JOI_AUTH=keys' <<<"$out" && echo 0 || echo 1)" "$out"
for p in /health /health/live /price-plans /openapi.json / /assets/main.js; do
    is "$p is public" "$(fetch pub "$url$p")" 200
done
# smart-meter-0 has a key, smart-meter-2 has data and no key, nobody-x nothing
fetch k-unknown "$url/readings/read/nobody-x" >/dev/null
is "unknown meter: 401" "$(head -1 "$work/k-unknown.h" | tr -d '\r')" "HTTP/1.1 401 Unauthorized"
is "unknown meter: body" "$(cat "$work/k-unknown.b")" "$read401"
n=0
for v in "/readings/read/smart-meter-0" "/readings/read/smart-meter-2" "/readings/read/smart-meter-0 Bearer $key" \
    "/readings/read/smart-meter-2 Bearer $key0" "/readings/read/nobody-x Bearer $key0" "/readings/read/smart-meter-0 Basic !" \
    "/readings/usage/nobody-x" "/readings/usage/smart-meter-0" "/price-plans/compare-all/smart-meter-2" \
    "/price-plans/recommend/smart-meter-0" "/readings/read/smart-meter-0?limit=x" "/readings/read/nobody-x?limit=1 Bearer $token1"; do
    n=$((n + 1))
    p=${v%% *}
    a=${v#"$p"}
    a=${a# }
    if [ -n "$a" ]; then fetch k$n -H "Authorization: $a" "$url$p" >/dev/null; else fetch k$n "$url$p" >/dev/null; fi
    same "keys mode #$n ($p${a:+ with ${a%% *}}): headers the same as an unknown meter's" "$work/k-unknown.h" "$work/k$n.h"
    same "keys mode #$n: body the same as an unknown meter's" "$work/k-unknown.b" "$work/k$n.b"
done
fetch csvu -H 'Accept: text/csv' "$url/readings/read/nobody-x" >/dev/null
same "keys mode CSV for an unknown meter: the same 401" "$work/k-unknown.h" "$work/csvu.h"
is "keys mode: the key opens its meter" "$(fetch own -H "Authorization: Bearer $key0" "$url/readings/read/smart-meter-0?limit=1")" 200
is "keys mode: Basic too" "$(fetch ownb -u "$key0:" "$url/price-plans/compare-all/smart-meter-0")" 200
is "keys mode: CSV with the key" "$(fetch ownc -u "$key0:" -H 'Accept: text/csv' "$url/readings/read/smart-meter-0?limit=1")$(header ownc Content-Type)" \
    "200text/csv; charset=utf-8"
echo "keys mode: writes"
store nobody-y >/dev/null
cp "$work/store.b" "$work/w-unknown.b"
is "store without a token: 401" "$(store nobody-y)" 401
is "store 401 body" "$(cat "$work/store.b")" "$write401"
for v in "smart-meter-2" "smart-meter-2 Bearer $key0" "nobody-y Bearer $token1" "smart-meter-0 Bearer $key0" "smart-meter-0 Basic $(printf '%s:' "$key0" | base64 -w0)"; do
    m=${v%% *}
    a=${v#"$m"}
    a=${a# }
    if [ -n "$a" ]; then code=$(store "$m" -H "Authorization: $a"); else code=$(store "$m"); fi
    is "store $m${a:+ with ${a%% *}}: 401" "$code" 401
    same "store $m: the same 401 body" "$work/w-unknown.b" "$work/store.b"
done
curl -s -D "$work/w1.raw" -o /dev/null -H 'Content-Type: application/json' -d '{"smartMeterId":"nobody-y","electricityReadings":[{"time":1,"reading":1}]}' "$url/readings/store"
curl -s -D "$work/w2.raw" -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $token1" -d '{"smartMeterId":"smart-meter-2","electricityReadings":[{"time":1,"reading":1}]}' "$url/readings/store"
same "store 401 headers the same for unknown and known meters" <(grep -v '^Date' "$work/w1.raw") <(grep -v '^Date' "$work/w2.raw")
is "store 401 challenge" "$(grep -i '^WWW-Authenticate' "$work/w1.raw" | tr -d '\r')" 'WWW-Authenticate: Bearer realm="joi-energy"'
token2=$("$JOI_ADMIN" token create smart-meter-2)
is "store with the meter's token: 200" "$(store smart-meter-2 -H "Authorization: Bearer $token2")" 200
is "the token does not read" "$(fetch tr -H "Authorization: Bearer $token2" "$url/readings/read/smart-meter-2")" 401
is "a bad body is still a 400 for the token holder" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $token2" -d '{"smartMeterId":"smart-meter-2"}' "$url/readings/store")" 400

echo "no credential in any log"
sleep 0.5
leaks=$(grep -rl -e "$key" -e "$key0" -e "$token1" -e "$token2" -e "$basic" -e "$(printf '%s:' "$key0" | base64 -w0)" \
    "$JOI_VAR"/*.log 2>/dev/null | tr '\n' ' ')
is "no key or token (raw or Basic-encoded) in the logs ($(ls "$JOI_VAR"/*.log | wc -l) files)" "$leaks" ""
is "the access log saw the keyed requests" "$(grep -c 'smart-meter-0' "$JOI_VAR/access.log" 2>/dev/null | awk '{print ($1 > 0)}')" 1

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
