#!/usr/bin/env bash
# The OpenAPI document (www/openapi.json) against the running service: real
# requests for every endpoint and every status that is cheap to cause, each
# response checked by tests/e2e/openapi_check.py (python3-jsonschema, JSON Schema
# draft 2020-12) against the operation, status, media type and schema the
# document gives for it.  The store is shut down last, for the 503s.
#
# Run through tests/e2e/run.sh, which starts the stack and sets JOI_TEST_URL,
# JOI_REDIS, JOI_ADMIN and JOI_ROOT.
set -u
: "${JOI_TEST_URL:?run this through tests/e2e/run.sh}"
root=${JOI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
spec=$root/www/openapi.json
checker=$root/tests/e2e/openapi_check.py
py=/usr/bin/python3 # Debian's interpreter, which has python3-jsonschema

if ! "$py" -c 'import jsonschema' 2>/dev/null; then
    echo "openapi: $py has no jsonschema module (apt-get install python3-jsonschema)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/joi-openapi.XXXXXX")
trap 'rm -rf "$work"' EXIT
manifest=$work/manifest.tsv
: >"$manifest"
n=0

# call NAME EXPECTED-STATUS METHOD TARGET [curl args...]: one request, recorded.
call() {
    local name=$1 expect=$2 method=$3 target=$4
    shift 4
    n=$((n + 1))
    local d=$work/$n
    mkdir -p "$d"
    # curl --head writes the headers where the body would go: keep them apart.
    local how=(-X "$method" -o "$d/body")
    [ "$method" = HEAD ] && how=(--head -o "$d/head-output")
    curl -sS "${how[@]}" -D "$d/headers" --max-time 20 "$@" "$JOI_TEST_URL$target" \
        2>"$d/curl-error"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$method" "$target" "$expect" "$d" >>"$manifest"
}

# post NAME EXPECTED-STATUS TARGET JSON [curl args...]: a JSON body, kept for the
# request-schema checks.
post() {
    local name=$1 expect=$2 target=$3 json=$4
    shift 4
    local d=$work/$((n + 1))
    mkdir -p "$d"
    printf '%s' "$json" >"$d/request"
    call "$name" "$expect" POST "$target" -H 'Content-Type: application/json' \
        --data-binary @"$d/request" "$@"
}

# A check that failed outside a request.
broken() {
    printf '%s\t-\t%s\t0\t-\n' "$1" "$2" >>"$manifest"
}

store=/readings/store

# ---- the document itself
call "document" 200 GET /openapi.json
call "document HEAD" 200 HEAD /openapi.json

# ---- health
call "health" 200 GET /health
call "health HEAD" 200 HEAD /health
call "liveness" 200 GET /health/live
call "health DELETE" 405 DELETE /health
call "liveness POST" 405 POST /health/live -H 'Content-Type: application/json' --data-binary '{}'
call "health malformed query" 400 GET '/health?%zz'
call "liveness malformed query" 400 GET '/health/live?a%zz=1'
call "metrics" 200 GET /metrics
call "metrics HEAD" 200 HEAD /metrics
call "metrics POST" 405 POST /metrics -H 'Content-Type: application/json' --data-binary '{}'
call "metrics malformed query" 400 GET '/metrics?%zz'

# ---- store
post "store README example" 200 $store \
    '{"smartMeterId":"smart-meter-0","electricityReadings":[{"time":1606636800,"reading":0.0503},{"time":1606636860,"reading":0.0621}]}'
post "store RFC 3339 times" 200 $store \
    '{"smartMeterId":"oa-rfc","electricityReadings":[{"time":"2024-01-01T07:01:00Z","reading":0.1},{"time":"2024-01-01T08:02:00.5+01:00","reading":2},{"time":"2024-01-01T07:03:00.000000Z","reading":0}]}'
post "store with unknown fields" 200 $store \
    '{"smartMeterId":"oa-extra","note":"x","electricityReadings":[{"time":0,"reading":1000000,"unit":"kW"}]}'
post "store without account" 200 $store \
    '{"smartMeterId":"oa-noacct","electricityReadings":[{"time":0,"reading":1},{"time":3600,"reading":2}]}'
post "store single time" 200 $store \
    '{"smartMeterId":"oa-one","electricityReadings":[{"time":100,"reading":1},{"time":100,"reading":2}]}'
post "store far apart" 200 $store \
    '{"smartMeterId":"oa-far","electricityReadings":[{"time":0,"reading":1},{"time":253402300799,"reading":2}]}'
post "store 12 years apart" 200 $store \
    '{"smartMeterId":"oa-hours","electricityReadings":[{"time":0,"reading":1},{"time":400000000,"reading":1}]}'
post "store negative reading" 400 $store \
    '{"smartMeterId":"oa-x","electricityReadings":[{"time":1,"reading":0.5},{"time":2,"reading":-1}]}'
post "store reading too large" 400 $store \
    '{"smartMeterId":"oa-x","electricityReadings":[{"time":1,"reading":1000000.5}]}'
post "store bad meter id" 400 $store \
    '{"smartMeterId":"bad id!","electricityReadings":[{"time":1,"reading":1}]}'
post "store no readings" 400 $store '{"smartMeterId":"oa-x","electricityReadings":[]}'
post "store fractional time" 400 $store \
    '{"smartMeterId":"oa-x","electricityReadings":[{"time":1.5,"reading":1}]}'
post "store time out of range" 400 $store \
    '{"smartMeterId":"oa-x","electricityReadings":[{"time":253402300800,"reading":1}]}'
post "store not an object" 400 $store '[]'
post "store malformed JSON" 400 $store '{"smartMeterId":"oa-x",'
call "store GET" 405 GET $store
call "store without Content-Length" 411 POST $store
big=$work/big.json
head -c $((1024 * 1024 + 1000)) /dev/zero | tr '\0' ' ' >"$big"
call "store over 1 MiB" 413 POST $store -H 'Content-Type: application/json' --data-binary @"$big"
call "store text/plain" 415 POST $store -H 'Content-Type: text/plain' --data-binary 'hello'

if token=$("$JOI_ADMIN" token create oa-locked 2>"$work/token-error") && [ -n "$token" ]; then
    locked='{"smartMeterId":"oa-locked","electricityReadings":[{"time":1,"reading":1}]}'
    post "store token missing" 401 $store "$locked"
    post "store token wrong" 401 $store "$locked" -H 'Authorization: Bearer 00'
    post "store token right" 200 $store "$locked" -H "Authorization: Bearer $token"
else
    broken "token create" "joi-admin token create failed: $(cat "$work/token-error")"
fi

# ---- read
read=/readings/read/smart-meter-0
call "read" 200 GET $read
call "read range and limit" 200 GET "$read?from=1606089600&to=1606176000&limit=10"
call "read RFC 3339 range" 200 GET "$read?from=2020-11-23T00:00:00Z&to=2020-11-23T01:00:00%2B01:00"
call "read empty range" 200 GET "$read?from=1&to=2"
call "read limit 0" 200 GET "$read?limit=0"
call "read bad limit" 400 GET "$read?limit=x"
call "read from after to" 400 GET "$read?from=5&to=2"
call "read limit twice" 400 GET "$read?limit=1&limit=2"
call "read bad time" 400 GET "$read?from=yesterday"
call "read bad meter id" 400 GET '/readings/read/bad%20id'
call "read malformed query" 400 GET "$read?a%zz=1"
call "read unknown meter" 404 GET /readings/read/oa-nobody
call "read POST" 405 POST $read -H 'Content-Type: application/json' --data-binary '{}'
call "read as CSV" 200 GET "$read?limit=3" -H 'Accept: text/csv'
call "read as CSV, preferred by q" 200 GET "$read?from=1606089600&to=1606176000" -H 'Accept: text/csv, application/json;q=0.5'
call "read as CSV, empty range" 200 GET "$read?from=1&to=2" -H 'Accept: text/csv'
call "read as CSV HEAD" 200 HEAD "$read?limit=3" -H 'Accept: text/csv'
call "read Accept */*" 200 GET "$read?limit=3" -H 'Accept: */*'
call "read Accept allows neither" 406 GET "$read" -H 'Accept: image/png'
# a meter with a read key
post "store keyed meter" 200 $store \
    '{"smartMeterId":"oa-keyed","electricityReadings":[{"time":0,"reading":1},{"time":3600,"reading":2}]}'
if rkey=$("$JOI_ADMIN" key create oa-keyed 2>"$work/key-error") && [ -n "$rkey" ]; then
    for p in /readings/read/oa-keyed /readings/usage/oa-keyed /price-plans/compare-all/oa-keyed \
        /price-plans/recommend/oa-keyed; do
        call "$p without its key" 401 GET "$p"
        call "$p wrong key" 401 GET "$p" -H 'Authorization: Bearer 00'
        call "$p malformed Authorization" 401 GET "$p" -H 'Authorization: Basic !'
        call "$p with its key" 200 GET "$p" -H "Authorization: Bearer $rkey"
        call "$p with its key as Basic" 200 GET "$p" -u "$rkey:"
    done
    call "read keyed as CSV" 200 GET /readings/read/oa-keyed -H 'Accept: text/csv' -H "Authorization: Bearer $rkey"
else
    broken "key create" "joi-admin key create failed: $(cat "$work/key-error")"
fi
call "read query over 8 KB" 431 GET "$read?limit=$(printf '9%.0s' {1..9000})"

# ---- usage
usage=/readings/usage/smart-meter-0
call "usage" 200 GET $usage
call "usage hours" 200 GET "$usage?period=hour&from=2020-11-29T00:00:00Z&to=2020-11-29T03:00:00Z"
call "usage week" 200 GET "$usage?period=week"
call "usage month" 200 GET "$usage?period=month&from=1606089600"
call "usage single time" 200 GET /readings/usage/oa-one
call "usage bad period" 400 GET "$usage?period=year"
call "usage bad to" 400 GET "$usage?to=-1"
call "usage unknown meter" 404 GET /readings/usage/oa-nobody
call "usage over 100 years" 422 GET /readings/usage/oa-far
call "usage by hour over 12 years" 422 GET "/readings/usage/oa-hours?period=hour"
call "usage by day over 12 years" 200 GET "/readings/usage/oa-hours?period=day"
call "usage DELETE" 405 DELETE $usage

# ---- plans
call "plans" 200 GET /price-plans
call "plans malformed query" 400 GET '/price-plans?a%zz=1'
call "plans POST" 405 POST /price-plans -H 'Content-Type: application/json' --data-binary '{}'

# ---- compare-all
compare=/price-plans/compare-all
call "compare" 200 GET $compare/smart-meter-0
call "compare range" 200 GET "$compare/smart-meter-0?from=1606089600&to=2020-11-24T00:00:00Z"
call "compare without account" 200 GET $compare/oa-noacct
call "compare from after to" 400 GET "$compare/smart-meter-0?from=5&to=2"
call "compare bad meter id" 400 GET "$compare/$(printf 'x%.0s' {1..65})"
call "compare unknown meter" 404 GET $compare/oa-nobody
call "compare empty range" 404 GET "$compare/smart-meter-0?from=1&to=2"
call "compare single time" 422 GET $compare/oa-one
call "compare over 100 years" 422 GET $compare/oa-far
call "compare PUT" 405 PUT $compare/smart-meter-0 -H 'Content-Type: application/json' --data-binary '{}'

# ---- recommend
recommend=/price-plans/recommend
call "recommend" 200 GET $recommend/smart-meter-0
call "recommend limit" 200 GET "$recommend/smart-meter-0?limit=2"
call "recommend limit 0" 200 GET "$recommend/smart-meter-0?limit=0"
call "recommend savings" 200 GET "$recommend/smart-meter-0?include=savings"
call "recommend savings limit 0" 200 GET "$recommend/smart-meter-0?include=savings&limit=0"
call "recommend savings without account" 200 GET "$recommend/oa-noacct?include=savings&from=0&to=3600"
call "recommend bad limit" 400 GET "$recommend/smart-meter-0?limit=-1"
call "recommend bad include" 400 GET "$recommend/smart-meter-0?include=everything"
call "recommend unknown meter" 404 GET $recommend/oa-nobody
call "recommend single time" 422 GET $recommend/oa-one
call "recommend DELETE" 405 DELETE $recommend/smart-meter-0

# ---- paths the document does not list
call "unknown path" 404 GET /oa-nowhere
call "extra segment" 404 GET /readings/read/smart-meter-0/more
call "route without id" 404 GET $compare

# ---- plans with time-of-use rules, standing charges and time zones
cat >"$work/plans.json" <<'EOF'
{"timezone": "Europe/London",
 "maxGapSeconds": 7200,
 "pricePlans": [
   {"id": "price-plan-0", "supplier": "Dr Evil's Dark Energy", "unitRate": 10,
    "standingCharge": 0.45,
    "peakTimeMultipliers": [
      {"dayOfWeek": "WEDNESDAY", "multiplier": 10},
      {"days": ["MONDAY", "TUESDAY", "THURSDAY", "FRIDAY"], "from": "16:00", "to": "19:00", "multiplier": 2}]},
   {"id": "economy-7", "supplier": "The Green Eco", "unitRate": 2, "timezone": "UTC",
    "peakTimeMultipliers": [{"from": "22:30", "to": "07:30", "multiplier": 0.5}]}],
 "accounts": {"smart-meter-0": "price-plan-0"}}
EOF
if "$JOI_ADMIN" load-config "$work/plans.json" >/dev/null 2>"$work/load-error"; then
    call "plans with rules" 200 GET /price-plans
    call "compare with rules" 200 GET $compare/smart-meter-0
    call "recommend savings with rules" 200 GET "$recommend/smart-meter-0?include=savings"
    call "usage in Europe/London" 200 GET "$usage?period=day"
else
    broken "load plans" "joi-admin load-config failed: $(cat "$work/load-error")"
fi

# ---- the store goes away: 503 (last, nothing after this needs it)
case ${JOI_REDIS:-} in
unix:*)
    if redis-cli -s "${JOI_REDIS#unix:}" shutdown nosave >/dev/null 2>&1 ||
        ! redis-cli -s "${JOI_REDIS#unix:}" ping >/dev/null 2>&1; then
        for _ in $(seq 50); do
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$JOI_TEST_URL/health")
            [ "$code" = 503 ] && break
            sleep 0.1
        done
        call "health without store" 503 GET /health
        call "liveness without store" 200 GET /health/live
        post "store without store" 503 $store \
            '{"smartMeterId":"oa-x","electricityReadings":[{"time":1,"reading":1}]}'
        call "read without store" 503 GET $read
        call "usage without store" 503 GET $usage
        call "plans without store" 503 GET /price-plans
        call "compare without store" 503 GET $compare/smart-meter-0
        call "recommend without store" 503 GET $recommend/smart-meter-0
    else
        broken "store shutdown" "redis-cli shutdown failed"
    fi
    ;;
*) echo "openapi: JOI_REDIS is not a unix socket; the 503 checks are skipped" ;;
esac

"$py" "$checker" "$spec" "$manifest"
