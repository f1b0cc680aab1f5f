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
# Beside the wrk rows under load: bytes per reading of a meter (MEMORY USAGE of
# every key of it), how long Redis is busy with one spread batch (SLOWLOG), one
# client's p50/p99 of the year-long reads, store against a no-op FastCGI that
# receives the same POSTs and against a durable no-op that also writes each body
# to Redis (tests/bench/noop_fcgi.c, built twice into the temporary folder),
# and, when the victoria-metrics binary is there, its bytes per reading for the
# same year (an optional row).
#
# Environment: BENCH_QUICK (0), WORKERS (16), BENCH_THREADS (2), BENCH_CONNECTIONS
# (16), BENCH_DURATION (8s, quick 2s), BENCH_LATENCY_DURATION (one client's rows:
# 4s, quick 1s), BENCH_OUT (build/bench/last.md), BENCH_KEEP
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
workers=${WORKERS:-16}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-16}
if [ "$quick" = 1 ]; then
    ceil_dur=1s
    dur=${BENCH_DURATION:-2s}
    lat_dur=${BENCH_LATENCY_DURATION:-1s}
    big_days=30 # the "year" meter shrinks to 30 days of 1-minute readings
else
    ceil_dur=3s
    dur=${BENCH_DURATION:-8s}
    lat_dur=${BENCH_LATENCY_DURATION:-4s}
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
noop_port=$port
while [ "$noop_port" = "$port" ]; do noop_port=$(free_port) || die "no free port"; done
noop_url=http://127.0.0.1:$noop_port
durable_port=$port
while [ "$durable_port" = "$port" ] || [ "$durable_port" = "$noop_port" ]; do
    durable_port=$(free_port) || die "no free port"
done
durable_url=http://127.0.0.1:$durable_port
vm_pid=
export VAR=$tmp/var PORT=$port BIND=127.0.0.1 WORKERS=$workers JOI_BUILD=$build JOI_DEMO=0
# Always a fresh store of its own, never one named by the caller.
unset REDIS JOI_REDIS
cleanup() {
    if [ "$keep" = 1 ]; then
        say "the stack is still running on $url; stop it with: VAR=$VAR scripts/joi-service stop && rm -rf $tmp"
        return
    fi
    [ -z "$vm_pid" ] || { kill "$vm_pid" 2>/dev/null && wait "$vm_pid" 2>/dev/null; }
    local v
    for v in noop durable; do
        [ ! -f "$tmp/$v/lighttpd.pid" ] ||
            VAR=$tmp/$v REDIS=$JOI_REDIS "$here/scripts/joi-service" stop >/dev/null 2>&1
    done
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
# With target=URL in its environment, wrk and the pre-check go to that stack
# instead (the ceiling runs around it stay on this one).
run_wrk() { # id label check-path script args...
    local id=$1 label=$2 check=$3 script=$4 u=${target:-$url}
    shift 4
    local cmd=(wrk "-t$threads" "-c$conns" "-d$dur" --timeout 30s -s "tests/bench/$script" "$u" -- "$@")
    local problems=() code line
    if [ "$script" = store.lua ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            --data-binary "$(awk -v meter=bench-s-check -v from=1577836800 -v step=60 -v count=10 \
                -f tests/bench/readings.awk)" "$u$check")
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' "$u$check")
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


rcli() { redis-cli -s "$VAR/redis.sock" "$@"; }

# "BYTES KEYS DETAIL": MEMORY USAGE (SAMPLES 0: every element counted) summed over
# every key of METER (SCAN MATCH joi:{METER}:*), and each key's share.
meter_bytes() { # meter
    local k b total=0 n=0 detail=""
    while read -r k; do
        [ -n "$k" ] || continue
        b=$(rcli MEMORY USAGE "$k" SAMPLES 0)
        total=$((total + b)) n=$((n + 1)) detail="$detail ${k##*:}=$b"
    done < <(rcli --scan --pattern "joi:{$1}:*")
    echo "$total $n${detail}"
}

# A row for the bytes per reading of one meter.
bytes_row() { # id label meter readings
    local m total keys detail
    m=$(meter_bytes "$3")
    total=${m%% *} m=${m#* } keys=${m%% *} detail=${m#* }
    row "$1: $2" - - - - "MEMORY USAGE of its $keys keys ($detail) = $total B for $4 readings = **$(calc '%.2f' "$total / $4") B/reading**"
    bytes_total=$total
}

# One client, one connection (wrk -t1 -c1): a row of its req/s and p50/p99; no
# ceiling around it (the table's ratio column is for the rows under load).
run_one() { # id label path
    local id=$1 label=$2 path=$3 problems=() code line
    local cmd=(wrk -t1 -c1 "-d$lat_dur" --timeout 30s -s tests/bench/meters.lua "$url" -- "$path")
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
    [ "$code" = 200 ] || problems+=("**pre-check $path answered $code**")
    say "$id: $(wrk_cmd_text "${cmd[@]}")"
    "${cmd[@]}" >"$tmp/$id.wrk" 2>&1
    line=$(grep '^BENCH ' "$tmp/$id.wrk" | tail -n 1)
    repro+=("$id|$(wrk_cmd_text "${cmd[@]}")")
    if [ -z "$line" ]; then
        sed 's/^/    /' "$tmp/$id.wrk" >&2
        row "$id: $label" 0 - - - "wrk failed: $(head -n 1 "$tmp/$id.wrk")"
        return
    fi
    field() { echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    local requests rps p50 p99 non2xx
    requests=$(field requests) rps=$(field rps) p50=$(field p50_ms) p99=$(field p99_ms) non2xx=$(field non2xx)
    [ "$non2xx" = 0 ] || problems+=("**$non2xx non-2xx of $requests**")
    [ "$requests" -gt 0 ] || problems+=("**no request completed**")
    local p="${problems[*]:-}"
    row "$id: $label" "$(calc '%.1f' "$rps")" "$(calc '%.2f' "$p50")" "$(calc '%.2f' "$p99")" - \
        "${p:-none} ($requests requests, one client)"
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
# Bytes per reading: every key of a meter, MEMORY USAGE ... SAMPLES 0.
from_q15=1696118400 # 2023-10-01T00:00:00Z
queue_meter bench-q15 "$from_q15" 900 $((90 * 96))
queue_meter bench-one "$from_small" 60 1
queue_meter bench-day "$from_small" 60 1440
post_queued
bytes_row bytes-year "bytes per reading, every key of bench-year: $big_label, readings.awk's day curve, 2-4 decimals" \
    bench-year "$big_n"
year_bytes=$bytes_total
bytes_row bytes-q15 "bytes per reading, every key of bench-q15: 90 days of 15-minute readings ($((90 * 96)))" \
    bench-q15 $((90 * 96))
bytes_row bytes-one "fixed cost: every key of a meter with 1 reading" bench-one 1
bytes_row bytes-day "a meter with one day (1440 1-minute readings, all in its head)" bench-day 1440
# How many meter-years of minute readings 24 GiB holds, from the year's (or in a
# quick run the 30 days') bytes per reading, Redis's own used_memory aside.
host=$((24 * 1024 * 1024 * 1024))
row "meter-years-24g: meter-years of 1-minute readings in 24 GiB of Redis memory$([ "$quick" = 1 ] && echo ", extrapolated from $big_days days")" \
    - - - - "24 GiB / ($(calc '%.3f' "$year_bytes / $big_n") B/reading x 525600 readings = $(calc '%.0f' "$year_bytes / $big_n * 525600") B a meter-year) = **$(calc '%.0f' "$host / ($year_bytes / $big_n * 525600)") meter-years**"
repro+=("bytes|for k in \$(redis-cli -s $VAR/redis.sock --scan --pattern 'joi:{bench-year}:*'); do redis-cli -s $VAR/redis.sock MEMORY USAGE \$k SAMPLES 0; done | awk '{ s += \$1 } END { print s }'")
repro+=("load|for i in \$(seq 0 $((small_meters - 1))); do awk -v meter=bench-h-\$i -v from=$from_small -v step=900 -v first=0 -v count=$small_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("load|for f in \$(seq 0 $batch $((week_n - 1))); do awk -v meter=bench-week -v from=$from_week -v step=60 -v first=\$f -v count=$batch -v total=$week_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("load-year|for f in \$(seq 0 $batch $((big_n - 1))); do awk -v meter=bench-year -v from=$from_big -v step=60 -v first=\$f -v count=$batch -v total=$big_n -f tests/bench/readings.awk | curl -s -X POST -H 'Content-Type: application/json' --data-binary @- $url/readings/store >/dev/null; done")
repro+=("memory|redis-cli -s $VAR/redis.sock info memory | grep '^used_memory:'   # before and after a load")
rss_loaded=$(worker_rss)

# 2. Store: 10 readings per request, spread over 1000 meters, between runs of the
# same POSTs to two stand-ins that lighttpd starts in the workers' place
# (tests/bench/noop_fcgi.c), each on a lighttpd of its own of the same config (its
# own port and folder, the same Redis for the config check joi-service makes):
# the no-op, which only reads the body and answers, and the durable no-op, which
# also SETs the body in the same Redis (appendfsync always) before it answers,
# the least any store path does.  Order: no-op, durable, store, durable, no-op.
wrk_rps() { grep '^BENCH ' "$tmp/$1.wrk" 2>/dev/null | tail -n 1 | tr ' ' '\n' | awk -F= '$1 == "rps" { print $2 }'; }
ratio() { awk -v s="${1:-0}" -v a="${2:-0}" -v b="${3:-0}" 'BEGIN { if (a + b > 0) printf "%.3f", 2 * s / (a + b); else print 0 }'; }
${CC:-cc} -O2 -o "$tmp/noop-fcgi" tests/bench/noop_fcgi.c -lfcgi || die "building tests/bench/noop_fcgi.c failed"
# shellcheck disable=SC2046 # pkg-config prints flags to split
${CC:-cc} -O2 -DDURABLE $(pkg-config --cflags hiredis) -o "$tmp/noop-durable" tests/bench/noop_fcgi.c \
    -lfcgi -lhiredis || die "building tests/bench/noop_fcgi.c -DDURABLE failed"
for v in noop:$noop_port:noop-fcgi durable:$durable_port:noop-durable; do
    IFS=: read -r name p bin <<<"$v"
    VAR=$tmp/$name PORT=$p REDIS=$JOI_REDIS JOI_WORKER_WRAPPER=$tmp/$bin \
        "$here/scripts/joi-service" start >"$tmp/$name.log" 2>&1 || {
        cat "$tmp/$name.log" >&2
        die "the $name FastCGI stand-in did not start"
    }
done
store_args=(/readings/store store.lua 1000 10 "$threads")
# (In a quick run the stand-ins' runs are as short as the ceiling's.)
noop_dur=$dur
[ "$quick" = 0 ] || noop_dur=$ceil_dur
target=$noop_url dur=$noop_dur run_wrk noop-store "the same POSTs to a no-op FastCGI (reads the body, answers {}), same lighttpd config" "${store_args[@]}"
target=$durable_url dur=$noop_dur run_wrk durable-store "the same POSTs to the durable no-op (reads the body, SETs it in Redis, answers {})" "${store_args[@]}"
run_wrk store "POST /readings/store, 10 readings per request, 1000 meters" "${store_args[@]}"
target=$durable_url dur=$noop_dur run_wrk durable-store-after "the durable no-op again, after the store row" "${store_args[@]}"
target=$noop_url dur=$noop_dur run_wrk noop-store-after "the no-op FastCGI again, after the store row" "${store_args[@]}"
for v in noop durable; do
    VAR=$tmp/$v REDIS=$JOI_REDIS "$here/scripts/joi-service" stop >/dev/null 2>&1
done
redis-cli -s "$VAR/redis.sock" --scan --pattern 'joi:bench:noop-durable:*' | xargs -r redis-cli -s "$VAR/redis.sock" del >/dev/null
noop_a=$(wrk_rps noop-store) noop_b=$(wrk_rps noop-store-after) store_rps=$(wrk_rps store)
durable_a=$(wrk_rps durable-store) durable_b=$(wrk_rps durable-store-after)
row "store-vs-noop: store / the no-op FastCGI receiving the same POSTs (mean of the runs before and after)" - - - - \
    "$(calc '%.0f' "${store_rps:-0}") / $(calc '%.0f' "(${noop_a:-0} + ${noop_b:-0}) / 2") req/s = **$(ratio "$store_rps" "$noop_a" "$noop_b") of the no-op ceiling**"
row "durable-vs-noop: the durable no-op / the no-op (what one durable Redis write a request leaves of the no-op ceiling)" - - - - \
    "$(calc '%.0f' "(${durable_a:-0} + ${durable_b:-0}) / 2") / $(calc '%.0f' "(${noop_a:-0} + ${noop_b:-0}) / 2") req/s = **$(ratio "$(calc '%.1f' "(${durable_a:-0} + ${durable_b:-0}) / 2")" "$noop_a" "$noop_b") of the no-op ceiling**"
row "store-vs-durable: store / the durable no-op (mean of the runs before and after)" - - - - \
    "$(calc '%.0f' "${store_rps:-0}") / $(calc '%.0f' "(${durable_a:-0} + ${durable_b:-0}) / 2") req/s = **$(ratio "$store_rps" "$durable_a" "$durable_b") of the durable no-op**"
repro+=("noop-store|cc -O2 -o /tmp/noop-fcgi tests/bench/noop_fcgi.c -lfcgi && VAR=/tmp/noop PORT=$noop_port REDIS=$JOI_REDIS JOI_WORKER_WRAPPER=/tmp/noop-fcgi scripts/joi-service start   # then the wrk line above it")
repro+=("durable-store|cc -O2 -DDURABLE \$(pkg-config --cflags hiredis) -o /tmp/noop-durable tests/bench/noop_fcgi.c -lfcgi -lhiredis && VAR=/tmp/durable PORT=$durable_port REDIS=$JOI_REDIS JOI_WORKER_WRAPPER=/tmp/noop-durable scripts/joi-service start   # then the wrk line above it")

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

# One client, one connection: the latency of the year-long reads (issue 14's
# targets are one client's p50).  The range starts and ends at arbitrary seconds,
# two days after the first reading and about three days before the last.
range_from=$((from_big + 2 * 86400 + 19043))
range_to=$((from_big + (big_days - 3) * 86400 + 70867))
span="$big_n readings ($big_days days, 1-minute)"
run_one one-compare-year "one client: GET /price-plans/compare-all/bench-year, no range, $span" \
    /price-plans/compare-all/bench-year
run_one one-compare-range "one client: GET /price-plans/compare-all/bench-year?from=$range_from&to=$range_to ($(((range_to - range_from) / 86400)) days, arbitrary seconds)" \
    "/price-plans/compare-all/bench-year?from=$range_from&to=$range_to"
run_one one-usage-day "one client: GET /readings/usage/bench-year?period=day, $span" \
    '/readings/usage/bench-year?period=day'
run_one one-usage-month "one client: GET /readings/usage/bench-year?period=month, $span" \
    '/readings/usage/bench-year?period=month'
run_one one-read-year "one client: GET /readings/read/bench-year, the whole $span ($(curl -s -o /dev/null -w '%{size_download}' "$url/readings/read/bench-year") B of JSON)" \
    /readings/read/bench-year

# The same week priced against plans with four time-of-use windows each; the
# plans file is loaded last so that every row above ran with the default plans.
"$build/joi-admin" load-config tests/bench/plans-tou.json >/dev/null || die "loading tests/bench/plans-tou.json failed"
repro+=("compare-week-tou|JOI_REDIS=unix:$VAR/redis.sock build/joi-admin load-config tests/bench/plans-tou.json   # before the next line")
run_wrk compare-week-tou "GET /price-plans/compare-all/bench-week, $week_n readings, 3 plans x 4 time-of-use windows" \
    /price-plans/compare-all/bench-week meters.lua /price-plans/compare-all/bench-week

# Redis busy with one batch: 10,000 readings at random seconds over a year, in
# random order, into bench-year (every one of its days gets readings merged in;
# last, because it changes bench-year).  The longest command Redis ran meanwhile
# is in SLOWLOG with slowlog-log-slower-than 0.
awk -v meter=bench-year -v t0="$from_big" 'BEGIN {
    srand(7)
    printf "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", meter
    for (i = 0; i < 10000; i++)
        printf "%s{\"time\":%d,\"reading\":%d.%03d%d}", (i ? "," : ""), t0 + int(rand() * 365 * 86400),
            int(rand() * 2), int(rand() * 1000), 1 + int(rand() * 9)
    print "]}"
}' >"$tmp/spread.json"
rcli CONFIG SET slowlog-max-len 100000 >/dev/null
rcli CONFIG SET slowlog-log-slower-than 0 >/dev/null
rcli SLOWLOG RESET >/dev/null
spread=$(curl -s -o "$tmp/spread.out" -w '%{http_code} %{time_total}' --max-time 60 -X POST \
    -H 'Content-Type: application/json' --data-binary "@$tmp/spread.json" "$url/readings/store")
rcli --no-raw SLOWLOG GET 100000 >"$tmp/slowlog"
rcli CONFIG SET slowlog-log-slower-than 10000 >/dev/null
rcli CONFIG SET slowlog-max-len 128 >/dev/null
# "longest-us its-command commands total-us", SLOWLOG's own commands left out
# (redis-cli pads "4) 1)" to "4)  1)" when a command has 10 arguments or more)
busy=$(awk '/^ *3\) \(integer\)/ { d = $3; next }
    /^ *4\) +1\) "/ { c = $3; gsub(/"/, "", c); if (tolower(c) == "slowlog" || tolower(c) == "config") next
        n++; t += d; if (d > m) { m = d; mc = c } }
    END { printf "%d %s %d %d", m, (mc == "" ? "-" : mc), n, t }' "$tmp/slowlog")
read -r busy_us busy_cmd busy_n busy_total <<<"$busy"
spread_code=${spread%% *}
p="none"
[ "$spread_code" = 200 ] || p="**the client got $spread_code: $(head -c 200 "$tmp/spread.out")**"
row "redis-busy: POST /readings/store, one batch of 10,000 readings at random seconds over a year, shuffled, into bench-year$([ "$quick" = 1 ] && echo " ($big_days days loaded)")" \
    - - - - "$p; client: $spread_code in $(calc '%.3f' "${spread#* }") s; Redis ran $busy_n commands, $(calc '%.1f' "$busy_total / 1000") ms in all; the longest ($busy_cmd) **$(calc '%.2f' "$busy_us / 1000") ms**"
repro+=("redis-busy|redis-cli -s $VAR/redis.sock CONFIG SET slowlog-log-slower-than 0; redis-cli -s $VAR/redis.sock CONFIG SET slowlog-max-len 100000; redis-cli -s $VAR/redis.sock SLOWLOG RESET")
repro+=("redis-busy|curl -s -w '%{http_code} %{time_total}\\n' -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @spread.json $url/readings/store   # spread.json: 10,000 readings as in scripts/bench.sh")
repro+=("redis-busy|redis-cli -s $VAR/redis.sock --no-raw SLOWLOG GET 100000   # the largest '3) (integer)' is the longest command in microseconds")

rss_end=$(worker_rss)
ceiling_now # the ceiling after the last row
fill_ratios

# Optional: the same year of readings in VictoriaMetrics (Debian's
# victoria-metrics), imported through /api/v1/import on its own loopback port with
# its data in the temporary folder; its size on disk after a flush and a forced
# merge.  Skipped, with a row that says so, when the binary is absent or in a quick run.
vm_row() {
    local id="vm-year: VictoriaMetrics, the same $big_n readings (/api/v1/import), bytes on disk per reading"
    if ! command -v victoria-metrics >/dev/null; then
        row "$id" - - - - "skipped: no victoria-metrics binary (apt-get install victoria-metrics)"
        return
    fi
    if [ "$quick" = 1 ]; then
        row "$id" - - - - "skipped in a quick run"
        return
    fi
    local vport vurl before after i
    vport=$port
    while [ "$vport" = "$port" ] || [ "$vport" = "$noop_port" ]; do vport=$(free_port) || return; done
    vurl=http://127.0.0.1:$vport
    victoria-metrics -storageDataPath="$tmp/vm" -httpListenAddr="127.0.0.1:$vport" -retentionPeriod=100y \
        -loggerLevel=ERROR >"$tmp/vm.log" 2>&1 &
    vm_pid=$!
    for i in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$vurl/health")" = 200 ] && break
        sleep 0.1
    done
    awk -v meter=bench-year -v from="$from_big" -v step=60 -v count="$big_n" -f tests/bench/readings.awk |
        awk -v RS='{"time":' -F'[,:}]' 'NR > 1 { t[++n] = $1 "000"; v[n] = $3 }
            END { printf "{\"metric\":{\"__name__\":\"reading\",\"meter\":\"bench-year\"},\"values\":["
                  for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "," : ""), v[i]
                  printf "],\"timestamps\":["
                  for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "," : ""), t[i]
                  print "]}" }' >"$tmp/vm-import.json"
    local code
    code=$(curl -s -o "$tmp/vm-import.out" -w '%{http_code}' --max-time 60 --data-binary "@$tmp/vm-import.json" "$vurl/api/v1/import")
    curl -s "$vurl/internal/force_flush" >/dev/null
    curl -s "$vurl/internal/force_merge" >/dev/null
    # the merge runs in the background: wait until the size stays put (at most 20 s)
    before=-1
    for i in $(seq 40); do
        sleep 0.5
        after=$(du -sb "$tmp/vm/data" | cut -f1)
        [ "$after" = "$before" ] && break
        before=$after
    done
    local n
    n=$(curl -s "$vurl/api/v1/query?query=count_over_time(reading\[400d\])&time=$((from_big + big_days * 86400))" |
        sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
    kill "$vm_pid" 2>/dev/null && wait "$vm_pid" 2>/dev/null
    vm_pid=""
    if [ "$code" != 204 ] || [ "${n:-0}" != "$big_n" ]; then
        row "$id" - - - - "**import answered $code, $n readings counted back**"
        return
    fi
    row "$id" - - - - "$(du -sb "$tmp/vm" | cut -f1) B on disk in all (of which data/ $after B) for $n readings = **$(calc '%.2f' "$(du -sb "$tmp/vm" | cut -f1) / $n") B/reading** (data/ alone $(calc '%.2f' "$after / $n"); ours: $(calc '%.2f' "$year_bytes / $big_n") B/reading of Redis memory)"
    repro+=("vm-year|victoria-metrics -storageDataPath=/tmp/vm -httpListenAddr=127.0.0.1:$vport -retentionPeriod=100y &   # then POST the readings as one JSON line to /api/v1/import, GET /internal/force_flush and /internal/force_merge, du -sb /tmp/vm/data")
}
vm_row

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
