#!/usr/bin/env bash
# Benchmark of the JOI Energy service: starts its own Redis, lighttpd and
# workers (scripts/joi-service, in a temporary folder, on a free loopback port),
# loads known data, drives each endpoint with wrk from this machine and prints
# one markdown table (requests/s, p50/p99 latency, ratio to the ceiling, problems)
# with the command that reproduces each row.  It reports numbers; it never fails
# on one.  It fails only when the stack does not start or data does not load.
#
#   scripts/bench.sh              the full run (about 2 minutes)
#   BENCH_QUICK=1 scripts/bench.sh   short runs and a 30-day meter instead of a year
#
# Environment: BENCH_QUICK (0), WORKERS (4), BENCH_THREADS (2), BENCH_CONNECTIONS
# (16), BENCH_DURATION (8s, quick 2s), BENCH_OUT (build/bench/last.md), BENCH_KEEP
# (1: leave the stack running afterwards, to rerun the printed commands),
# JOI_BUILD (build/).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
build=${JOI_BUILD:-$here/build}
quick=${BENCH_QUICK:-0}
[ "$quick" = 0 ] || [ "$quick" = 1 ] || quick=1
keep=${BENCH_KEEP:-0}
out=${BENCH_OUT:-$here/build/bench/last.md}
workers=${WORKERS:-4}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-16}
if [ "$quick" = 1 ]; then
    ceil_dur=1s
    dur=${BENCH_DURATION:-2s}
    big_days=30 # the "year" meter shrinks to 30 days of 1-minute readings
else
    ceil_dur=3s
    dur=${BENCH_DURATION:-8s}
    big_days=365
fi
batch=10000
big_n=$((big_days * 1440))
week_n=10080
small_meters=100 small_n=100
t_start=$(date +%s.%N)

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}
for tool in wrk curl awk redis-cli lighttpd; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
done
if [ ! -x "$build/joi-worker" ] || [ ! -x "$build/joi-admin" ]; then
    die "no build in $build (make all)"
fi

# shellcheck source=scripts/free-port.sh
. "$here/scripts/free-port.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/joi-bench.XXXXXX")
port=$(free_port) || die "no free port"
url=http://127.0.0.1:$port
export VAR=$tmp/var PORT=$port BIND=127.0.0.1 WORKERS=$workers JOI_BUILD=$build JOI_DEMO=0
# Always a fresh store of its own, never one named by the caller.
unset REDIS JOI_REDIS
cleanup() {
    if [ "$keep" = 1 ]; then
        say "the stack is still running on $url; stop it with: VAR=$VAR scripts/joi-service stop && rm -rf $tmp"
        return
    fi
    "$here/scripts/joi-service" stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting Redis, lighttpd and $workers workers on $url (files in $tmp)"
if ! "$here/scripts/joi-service" start >"$tmp/service.log" 2>&1; then
    cat "$tmp/service.log" >&2
    tail -n 20 "$VAR"/*.log >&2
    die "the service did not start"
fi
export JOI_REDIS=unix:$VAR/redis.sock # for joi-admin

# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

used_memory() {
    redis-cli -s "$VAR/redis.sock" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}

# "pid=kB ..." for every joi-worker child of lighttpd (VmRSS from /proc).
worker_rss() {
    local lpid c list=""
    lpid=$(cat "$VAR/lighttpd.pid" 2>/dev/null) || return 0
    for c in $(pgrep -P "$lpid" | sort -n); do
        [ "$(cat "/proc/$c/comm" 2>/dev/null)" = joi-worker ] || continue
        list="$list $c=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$c/status")"
    done
    echo "${list# }"
}
rss_total() { echo "$1" | tr ' ' '\n' | awk -F= '{ s += $2 } END { print s + 0 }'; }

# The rows of the table, and the commands that reproduce them.
rows=()
repro=()
rss_rows=() # "id total-kB" after each wrk row
ceiling_rps=""

row() { # label req/s p50 p99 ratio problems [ceiling around it]
    rows+=("| $1 | $2 | $3 | $4 | $5 | ${7:--} | $6 |")
}

# The ceiling's req/s over a short run, before each wrk row and once after the
# last: the machine's speed drifts during a run (other tenants, clocks), so each
# row is compared with the mean of the ceilings measured just before and just
# after it, rather than only with the first.  A row's ratio and ceiling are filled
# in (placeholders @RATIOi@ and @NEARi@, i = the index of its ceiling before) once
# the ceiling after it is known.
near_ceilings=()
near_rps=""
ceiling_now() { # sets near_rps
    local line
    line=$(wrk "-t$threads" "-c$conns" "-d$ceil_dur" --timeout 30s -s tests/bench/meters.lua "$url" -- /health/live 2>&1 |
        grep '^BENCH ')
    line=${line#*rps=}
    near_rps=${line%% *}
    near_ceilings+=("$near_rps")
}

wrk_cmd_text() { # args...: the command as one copyable line, paths relative to the repository
    local a s=""
    for a in "$@"; do
        case $a in
        *[!A-Za-z0-9_./:=-]*) s="$s '$a'" ;;
        *) s="$s $a" ;;
        esac
    done
    echo "${s# }"
}

# Runs one wrk row.  ID and LABEL name it; CHECK is a path that must answer 200
# before the run; the rest are wrk's script and script arguments.
run_wrk() { # id label check-path script args...
    local id=$1 label=$2 check=$3 script=$4
    shift 4
    local cmd=(wrk "-t$threads" "-c$conns" "-d$dur" --timeout 30s -s "tests/bench/$script" "$url" -- "$@")
    local problems=() code line
    if [ "$script" = store.lua ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            --data-binary "$(awk -v meter=bench-s-check -v from=1577836800 -v step=60 -v count=10 \
                -f tests/bench/readings.awk)" "$url$check")
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' "$url$check")
    fi
    [ "$code" = 200 ] || problems+=("**pre-check $check answered $code**")
    local near=""
    if [ -n "$ceiling_rps" ]; then
        ceiling_now
        near=$((${#near_ceilings[@]} - 1))
    fi
    say "$id: $(wrk_cmd_text "${cmd[@]}")"
    "${cmd[@]}" >"$tmp/$id.wrk" 2>&1
    rss_rows+=("$id $(rss_total "$(worker_rss)")")
    line=$(grep '^BENCH ' "$tmp/$id.wrk" | tail -n 1)
    repro+=("$id|$(wrk_cmd_text "${cmd[@]}")")
    if [ -z "$line" ]; then
        sed 's/^/    /' "$tmp/$id.wrk" >&2
        row "$id: $label" 0 - - - "wrk failed: $(head -n 1 "$tmp/$id.wrk")"
        return
    fi
    local requests rps p50 p99 non2xx timeouts sockerr
    field() { echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    requests=$(field requests) rps=$(field rps) p50=$(field p50_ms) p99=$(field p99_ms)
    non2xx=$(field non2xx) timeouts=$(field timeouts) sockerr=$(field socket_errors)
    [ "$non2xx" = 0 ] || problems+=("**$non2xx non-2xx of $requests**")
    [ "$timeouts" = 0 ] || problems+=("**$timeouts timeouts**")
    [ "$sockerr" = 0 ] || problems+=("**$sockerr socket errors**")
    [ "$requests" -gt 0 ] || problems+=("**no request completed**")
    local ratio ceil
    if [ -z "$ceiling_rps" ]; then
        ceiling_rps=$rps
        ratio=1.000 ceil=$(calc '%.0f' "$rps")
    else
        row_rps[near]=$rps
        ratio="@RATIO$near@" ceil="@NEAR$near@"
    fi
    local p="${problems[*]:-}"
    row "$id: $label" "$(calc '%.0f' "$rps")" "$(calc '%.2f' "$p50")" "$(calc '%.2f' "$p99")" "$ratio" \
        "${p:-none} ($requests requests)" "$ceil"
}
row_rps=()

# Fills in each row's ratio to the mean of the ceilings before and after it.
fill_ratios() {
    local i r mean
    for i in "${!row_rps[@]}"; do
        mean=$(calc '%.1f' "(${near_ceilings[i]} + ${near_ceilings[i + 1]:-${near_ceilings[i]}}) / 2")
        r=$(awk -v r="${row_rps[i]}" -v c="$mean" 'BEGIN { if (c > 0) printf "%.3f", r / c; else print "-" }')
        rows=("${rows[@]//@RATIO$i@/$r}")
        rows=("${rows[@]//@NEAR$i@/$(calc '%.0f' "$mean")}")
    done
}

# Queues the POSTs that store meter METER: TOTAL readings every STEP seconds
# from FROM, in bodies of up to $batch readings.
queued=()
nqueued=0
queue_meter() { # meter from step total
    local meter=$1 from=$2 step=$3 total=$4 first=0
    while [ "$first" -lt "$total" ]; do
        awk -v meter="$meter" -v from="$from" -v step="$step" -v first="$first" -v count="$batch" \
            -v total="$total" -f tests/bench/readings.awk >"$tmp/body-$nqueued.json"
        [ "$nqueued" = 0 ] || queued+=(--next)
        queued+=(-s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json'
            --data-binary "@$tmp/body-$nqueued.json" "$url/readings/store")
        first=$((first + batch))
        nqueued=$((nqueued + 1))
    done
}

# Sends the queued POSTs one after the other over one keep-alive connection.
# Sets load_secs and load_posts; fails unless every POST answered 200.
post_queued() {
    local t0 t1 codes
    t0=$(now)
    codes=$(curl "${queued[@]}")
    t1=$(now)
    load_posts=$nqueued
    load_secs=$(calc '%.3f' "$t1 - $t0")
    if [ "$(echo "$codes" | grep -c '^200$')" != "$nqueued" ]; then
        die "storing readings: answers $(echo "$codes" | sort | uniq -c | tr '\n' ' ')"
    fi
    rm -f "$tmp"/body-*.json
    queued=()
    nqueued=0
}

# Loads a data set and adds a row for its Redis memory per reading.
mem_row() { # id label readings before after
    local bytes=$(($5 - $4))
    row "$1: $2" - - - - "used_memory +$bytes B for $3 readings = **$(calc '%.1f' "$bytes / $3") B/reading**"
}

# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

rss_start=$(worker_rss)
say "workers' VmRSS at start (pid=kB): $rss_start"

# 1. The ceiling: a constant answer through the same lighttpd and workers.
run_wrk ceiling "GET /health/live" /health/live meters.lua /health/live

# 5. Data, with Redis memory per stored reading.
from_small=1704067200 # 2024-01-01T00:00:00Z
from_week=1704067200  # 2024-01-01, a Monday
from_big=1672531200   # 2023-01-01T00:00:00Z
m0=$(used_memory)
for i in $(seq 0 $((small_meters - 1))); do
    queue_meter "bench-h-$i" "$from_small" 900 "$small_n"
done
post_queued
small_secs=$load_secs
m1=$(used_memory)
mem_row memory-100 "Redis memory per reading, $small_meters meters x $small_n readings (listpack sets)" \
    $((small_meters * small_n)) "$m0" "$m1"
queue_meter bench-week "$from_week" 60 "$week_n"
post_queued
m2=$(used_memory)
queue_meter bench-year "$from_big" 60 "$big_n"
post_queued
m3=$(used_memory)
big_label="1 meter x $big_n readings ($big_days days of 1-minute readings, skiplist set)"
mem_row memory-year "Redis memory per reading, $big_label" "$big_n" "$m2" "$m3"
row "load-year: POST /readings/store, $load_posts requests of up to $batch readings, one at a time (curl, one connection)" \
    "$(calc '%.2f' "$load_posts / $load_secs")" - - - \
    "$big_n readings in $load_secs s = **$(calc '%.0f' "$big_n / $load_secs") readings/s**"
repro+=("load|for i in \$(seq 0 $((small_meters - 1))); do awk -v meter=bench-h-\$i -v from=$from_small -v step=900 -v first=0 -v count=$small_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("load|for f in \$(seq 0 $batch $((week_n - 1))); do awk -v meter=bench-week -v from=$from_week -v step=60 -v first=\$f -v count=$batch -v total=$week_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("load-year|for f in \$(seq 0 $batch $((big_n - 1))); do awk -v meter=bench-year -v from=$from_big -v step=60 -v first=\$f -v count=$batch -v total=$big_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("memory|redis-cli -s $VAR/redis.sock info memory | grep '^used_memory:'   # before and after a load")
rss_loaded=$(worker_rss)

# 2. Store: 10 readings per request, spread over 1000 meters.
run_wrk store "POST /readings/store, 10 readings per request, 1000 meters" /readings/store store.lua 1000 10 "$threads"

# 3. Read a meter with 100 readings (spread over the 100 such meters).
run_wrk read-100 "GET /readings/read/{id}, $small_n readings ($small_meters meters)" \
    /readings/read/bench-h-0 meters.lua /readings/read/bench-h- "$small_meters"

# 4. Pricing with the default plans (three flat plans).
run_wrk compare-100 "GET /price-plans/compare-all/{id}, $small_n readings ($small_meters meters)" \
    /price-plans/compare-all/bench-h-0 meters.lua /price-plans/compare-all/bench-h- "$small_meters"
run_wrk recommend-100 "GET /price-plans/recommend/{id}?limit=1, $small_n readings ($small_meters meters)" \
    '/price-plans/recommend/bench-h-0?limit=1' meters.lua /price-plans/recommend/bench-h- "$small_meters" '?limit=1'
run_wrk compare-week "GET /price-plans/compare-all/bench-week, $week_n readings (1 week, 1-minute)" \
    /price-plans/compare-all/bench-week meters.lua /price-plans/compare-all/bench-week
run_wrk recommend-week "GET /price-plans/recommend/bench-week?limit=1, $week_n readings" \
    '/price-plans/recommend/bench-week?limit=1' meters.lua '/price-plans/recommend/bench-week?limit=1'
run_wrk compare-year "GET /price-plans/compare-all/bench-year, $big_n readings ($big_days days, 1-minute)" \
    /price-plans/compare-all/bench-year meters.lua /price-plans/compare-all/bench-year
run_wrk recommend-year "GET /price-plans/recommend/bench-year?limit=1, $big_n readings" \
    '/price-plans/recommend/bench-year?limit=1' meters.lua '/price-plans/recommend/bench-year?limit=1'

# The same week priced against plans with four time-of-use windows each; the
# plans file is loaded last so that every row above ran with the default plans.
"$build/joi-admin" load-config tests/bench/plans-tou.json >/dev/null || die "loading tests/bench/plans-tou.json failed"
repro+=("compare-week-tou|JOI_REDIS=unix:$VAR/redis.sock build/joi-admin load-config tests/bench/plans-tou.json   # before the next line")
run_wrk compare-week-tou "GET /price-plans/compare-all/bench-week, $week_n readings, 3 plans x 4 time-of-use windows" \
    /price-plans/compare-all/bench-week meters.lua /price-plans/compare-all/bench-week

rss_end=$(worker_rss)
ceiling_now # the ceiling after the last row
fill_ratios

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

problems_log=""
if [ -s "$VAR/worker-error.log" ]; then
    problems_log=$(tail -n 5 "$VAR/worker-error.log")
fi
pids() { echo "$1" | tr ' ' '\n' | cut -d= -f1 | tr '\n' ' '; }
respawned=""
[ "$(pids "$rss_start")" = "$(pids "$rss_end")" ] || respawned=yes
elapsed=$(calc '%.0f' "$(now) - $t_start")

report() {
    echo "## JOI Energy benchmark$([ "$quick" = 1 ] && echo " (BENCH_QUICK=1: short runs, smaller data; not comparable)")"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $workers workers, wrk -t$threads -c$conns -d$dur on the same machine, Redis AOF appendfsync always; $elapsed s in all."
    echo
    echo "| row | req/s | p50 ms | p99 ms | ratio to ceiling | ceiling around it | problems |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Ratios are to the ceiling around each row (\`GET /health/live\`, no Redis): the mean of two"
    echo "$ceil_dur runs with the same wrk settings, just before and just after the row; those ceiling runs"
    echo "ranged from" \
        "$(printf '%s\n' "${near_ceilings[@]}" | sort -n | head -n 1 | xargs printf '%.0f') to" \
        "$(printf '%s\n' "${near_ceilings[@]}" | sort -n | tail -n 1 | xargs printf '%.0f') req/s in this run."
    echo
    echo "Workers' VmRSS (pid=kB): at start $rss_start (total $(rss_total "$rss_start") kB);" \
        "after loading $rss_loaded (total $(rss_total "$rss_loaded") kB);" \
        "at the end $rss_end (total $(rss_total "$rss_end") kB)."
    echo "Workers' VmRSS total after each row (kB): $(printf '%s, ' "${rss_rows[@]}" | sed 's/, $//')."
    [ -z "$respawned" ] || echo "**The worker pids changed during the run: a worker died and lighttpd respawned it.**"
    echo "Loading the $small_meters meters of $small_n readings took $small_secs s ($small_meters POSTs, one at a time)."
    echo "Memory per reading is Redis used_memory over the readings stored: the readings' sorted sets and the"
    echo "pre-aggregates the store keeps beside them."
    if [ -n "$problems_log" ]; then
        echo
        echo "**worker-error.log is not empty**; its last lines:"
        echo '```'
        echo "$problems_log"
        echo '```'
    fi
    echo
    echo "To reproduce a row, from the repository root, against the stack this run used"
    echo "(BENCH_KEEP=1 scripts/bench.sh leaves it running at the same address):"
    echo
    echo '```sh'
    local r last=""
    for r in "${repro[@]}"; do
        [ "${r%%|*}" = "$last" ] || echo "# ${r%%|*}"
        last=${r%%|*}
        echo "${r#*|}"
    done
    echo '```'
}

mkdir -p "$(dirname "$out")"
report | tee "$out"
say "table written to $out"
