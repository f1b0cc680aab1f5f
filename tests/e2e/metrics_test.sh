#!/usr/bin/env bash
# GET /metrics scraped by Debian's prometheus (run by tests/e2e/run.sh): the test
# makes an exact number of requests of several routes and codes, spread over the
# workers, and waits until Prometheus's HTTP API returns exactly those counts; then
# kills a worker (kill -9: lighttpd respawns it) and checks that no total dropped.
# Also: readings stored, a histogram's count, a store timeout counted, and the log
# line of a failed request exactly as README's Monitoring section documents it.
# Prometheus runs from its binary (never the package's service), with its own
# config and data in a temp folder, on a free loopback port.  Every wait is
# bounded by count and time.  Ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-metrics.XXXXXX")
prom=''
cleanup() {
    if [ -n "$prom" ]; then
        kill "$prom" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$prom" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$prom" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/e2e/check.sh
. "$here/check.sh"
# shellcheck source=scripts/free-port.sh
. "$here/../../scripts/free-port.sh"

is() { [ "$1" = "$2" ] && echo 0 || echo 1; }
worker_pids() { pgrep -P "$(cat "$JOI_VAR/lighttpd.pid")" | sort | tr '\n' ' '; }

echo "/metrics answers in Prometheus's text format"
ctype=$(curl -s -o "$work/first.txt" -w '%{http_code} %{content_type}' "$url/metrics")
check "GET /metrics is 200 text/plain version 0.0.4" \
    "$(is "$ctype" "200 text/plain; version=0.0.4; charset=utf-8")" "got $ctype"
check "it has joi_http_requests_total" \
    "$(grep -q '^# TYPE joi_http_requests_total counter$' "$work/first.txt" && echo 0 || echo 1)" \
    "$(head -c 300 "$work/first.txt")"

# Prometheus: scrapes the stack every second.
pport=''
for _ in 1 2 3 4 5; do
    pport=$(free_port) || break
    cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: joi
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$JOI_TEST_PORT']
EOF
    /usr/bin/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
        --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
    prom=$!
    up=0
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && up=1 && break
        kill -0 "$prom" 2>/dev/null || break
        sleep 0.1
    done
    [ "$up" = 1 ] && break
    kill "$prom" 2>/dev/null
    wait "$prom" 2>/dev/null
    prom=''
done
check "prometheus started on 127.0.0.1:$pport" "$([ -n "$prom" ] && echo 0 || echo 1)" \
    "$(tail -n 5 "$work/prometheus.log")"

# The value of a PromQL query that has one result, "none" without one.
q() {
    curl -s --max-time 5 --data-urlencode "query=$1" "http://127.0.0.1:$pport/api/v1/query" |
        python3 -c 'import sys, json
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if len(r) == 1 else "none")
except Exception:
    print("none")'
}

# Waits (at most 40 tries and 30 s) until query $1 returns $2; prints the last value.
wait_eq() {
    local v end=$(($(date +%s) + 30))
    for _ in $(seq 40); do
        v=$(q "$1")
        [ "$v" = "$2" ] && break
        [ "$(date +%s)" -lt "$end" ] || break
        sleep 0.5
    done
    echo "$v"
}

# count requests of one kind, 8 at a time (so that every worker gets some).
many() { # count curl-args...
    local n=$1
    shift
    seq "$n" | xargs -P 8 -I{} curl -s -o /dev/null --max-time 10 "$@" >/dev/null
}

body() { # meter t
    printf '{"smartMeterId":"%s","electricityReadings":[{"time":%d,"reading":0.5},{"time":%d,"reading":0.25},{"time":%d,"reading":1}]}' \
        "$1" "$2" "$(($2 + 60))" "$(($2 + 120))"
}

echo "exact counts of several routes and codes"
stores=12
for i in $(seq "$stores"); do body m-metrics "$((1700000000 + i * 600))" >"$work/b$i.json"; done
seq "$stores" | xargs -P 8 -I{} curl -s -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "@$work/b{}.json" "$url/readings/store"
many 20 "$url/readings/read/m-metrics"
# Redis paused for a moment, so that each of these waits in a worker and lighttpd
# must hand them to several: the scrape's sum over the workers' files is what is
# tested (400 ms: under the 1000 ms store timeout, so each still gets its 404).
redis-cli -s "${JOI_REDIS#unix:}" client pause 400 all >/dev/null
many 10 "$url/readings/read/m-metrics-ghost"
many 7 "$url/no/such/path"
many 5 "$url/price-plans"
many 3 -X DELETE "$url/readings/store"
many 4 "$url/readings/read/bad%20id"

v=$(wait_eq 'sum(joi_http_requests_total{route="read",code="200"})' 20)
check "read 200 is 20" "$(is "$v" 20)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="read",code="404"})' 10)
check "read 404 is 10" "$(is "$v" 10)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="read",code="400"})' 4)
check "read 400 is 4" "$(is "$v" 4)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="store",code="200"})' "$stores")
check "store 200 is $stores" "$(is "$v" "$stores")" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="store",code="405"})' 3)
check "store 405 is 3" "$(is "$v" 3)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="plans",code="200"})' 5)
check "plans 200 is 5" "$(is "$v" 5)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="unknown",code="404"})' 7)
check "unknown paths are one label: 404 is 7" "$(is "$v" 7)" "got $v"
v=$(wait_eq 'count(joi_http_requests_total{route="unknown"})' 1)
check "no raw path is a label" "$(is "$v" 1)" "got $v series"
v=$(wait_eq 'sum(joi_readings_stored_total)' $((stores * 3)))
check "readings stored is $((stores * 3))" "$(is "$v" $((stores * 3)))" "got $v"
v=$(wait_eq 'sum(joi_http_request_duration_seconds_count{route="read"})' 34)
check "read's histogram count is its 34 requests" "$(is "$v" 34)" "got $v"
v=$(wait_eq 'sum(joi_http_request_duration_seconds_bucket{route="read",le="+Inf"})' 34)
check "read's +Inf bucket is 34" "$(is "$v" 34)" "got $v"
v=$(wait_eq 'joi_workers' 4)
check "4 workers up" "$(is "$v" 4)" "got $v"
# The 404s of the ghost meter were logged by more than one worker.
spread=$(grep 'meter=m-metrics-ghost' "$JOI_VAR/worker-error.log" | sed 's/\].*//' | sort -u | wc -l)
check "the requests were spread over workers ($spread logged the 404s)" \
    "$([ "$spread" -ge 2 ] && echo 0 || echo 1)" "$spread"

echo "a worker killed (kill -9) loses nothing of the totals"
before=$(worker_pids)
victim=$(echo "$before" | cut -d' ' -f1)
kill -9 "$victim"
for _ in $(seq 100); do
    now=$(worker_pids)
    [ "$(echo "$now" | wc -w)" = 4 ] && ! echo " $now" | grep -q " $victim " && break
    sleep 0.1
done
check "lighttpd respawned the worker" \
    "$([ "$(echo "$(worker_pids)" | wc -w)" = 4 ] && echo 0 || echo 1)" "workers: $(worker_pids)"
many 8 "$url/readings/read/m-metrics"
v=$(wait_eq 'sum(joi_http_requests_total{route="read",code="200"})' 28)
check "read 200 is 20 + 8 after the kill" "$(is "$v" 28)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="store",code="200"})' "$stores")
check "store 200 is still $stores" "$(is "$v" "$stores")" "got $v"
v=$(wait_eq 'sum(joi_readings_stored_total)' $((stores * 3)))
check "readings stored is still $((stores * 3))" "$(is "$v" $((stores * 3)))" "got $v"
v=$(wait_eq 'sum(joi_worker_restarts_total)' 1)
check "one worker restart counted" "$(is "$v" 1)" "got $v"
v=$(wait_eq 'sum(joi_http_request_duration_seconds_count{route="read"})' 42)
check "read's histogram count is 42" "$(is "$v" 42)" "got $v"
v=$(wait_eq 'resets(joi_http_requests_total{route="read",code="200"}[1m])' 0)
check "Prometheus saw no counter reset" "$(is "$v" 0)" "got $v"

echo "a store timeout: counted, and its log line as documented"
redis-cli -s "${JOI_REDIS#unix:}" client pause 2500 all >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/readings/read/m-metrics")
check "a read while Redis is paused is 503" "$(is "$code" 503)" "got $code"
v=$(wait_eq 'sum(joi_store_timeouts_total)' 1)
check "one store timeout counted" "$(is "$v" 1)" "got $v"
v=$(wait_eq 'sum(joi_store_errors_total)' 1)
check "one store error counted" "$(is "$v" 1)" "got $v"
v=$(wait_eq 'sum(joi_http_requests_total{route="read",code="503"})' 1)
check "read 503 is 1" "$(is "$v" 1)" "got $v"
re='^joi-worker\[[0-9]+\] ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
n=$(grep -cE "$re level=error event=request route=read meter=m-metrics status=503 cause=\"the store is unavailable or timed out\" store_cause=\"redis [A-Z]+: Resource temporarily unavailable\"$" \
    "$JOI_VAR/worker-error.log")
check "exactly one request line for the 503" "$(is "$n" 1)" "$(grep status=503 "$JOI_VAR/worker-error.log")"
n=$(grep -cE "$re level=error event=store_error op=[A-Z]+ cause=\"Resource temporarily unavailable\"$" \
    "$JOI_VAR/worker-error.log")
check "exactly one store_error line" "$(is "$n" 1)" "$(grep store_error "$JOI_VAR/worker-error.log")"
n=$(grep -cE "$re level=warn event=request route=read meter=m-metrics-ghost status=404 cause=\"meter m-metrics-ghost has no readings\"$" \
    "$JOI_VAR/worker-error.log")
check "one warn line per 404 of the ghost meter (10)" "$(is "$n" 10)" "got $n"
n=$(grep -cE "$re level=warn event=request route=unknown meter=\"\" status=404 cause=\"no such resource\"$" \
    "$JOI_VAR/worker-error.log")
check "one warn line per unknown path (7)" "$(is "$n" 7)" "got $n"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
