#!/usr/bin/env bash
# Checks a table written by scripts/bench.sh (BENCH_OUT): every row is there, each
# wrk row completed requests (req/s above 0, and a ceiling measured around it) with no problem (no non-2xx answer, no
# timeout or socket error, its pre-check answered 200), each one-client row
# completed requests with no problem, the memory, bytes, load and ratio rows have a
# figure above 0, and the spread batch got 200.  It checks that the benchmark
# works, never how fast or how small.
# Prints one line per row and "N passed, M failed"; exits 1 if any failed.
#
# Usage: tests/bench/check-table.sh TABLE.md
table=${1:?usage: check-table.sh TABLE.md}
wrk_rows="ceiling noop-store durable-store store durable-store-after noop-store-after read-100 compare-100 recommend-100
compare-week recommend-week compare-year recommend-year compare-week-tou"
one_rows="one-compare-year one-compare-range one-usage-day one-usage-month one-read-year"
figure_rows="memory-100 memory-year load-year bytes-year bytes-q15 bytes-one bytes-day
meter-years-24g store-vs-noop durable-vs-noop store-vs-durable redis-busy"
clean_rows="redis-busy" # figure rows whose problems cell must say none
passed=0 failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

line_of() { [ -f "$table" ] && grep -m1 -E "^\| $1: " "$table"; }
cell() { echo "$1" | awk -F'|' -v n="$2" '{ gsub(/^ +| +$/, "", $(n + 1)); print $(n + 1) }'; }

for id in $wrk_rows; do
    line=$(line_of "$id") || { bad "$id" "no such row in $table"; continue; }
    rps=$(cell "$line" 2) near=$(cell "$line" 6) problems=$(cell "$line" 7)
    if ! awk -v r="$rps" 'BEGIN { exit !(r + 0 > 0) }'; then
        bad "$id" "req/s is '$rps'"
    elif ! awk -v r="$near" 'BEGIN { exit !(r + 0 > 0) }'; then
        bad "$id" "no ceiling measured around it: '$near'"
    elif [ "${problems%% *}" != none ]; then
        bad "$id" "$problems"
    else
        ok "$id ($rps req/s)"
    fi
done
for id in $one_rows; do
    line=$(line_of "$id") || { bad "$id" "no such row in $table"; continue; }
    rps=$(cell "$line" 2) p50=$(cell "$line" 3) problems=$(cell "$line" 7)
    if ! awk -v r="$rps" -v p="$p50" 'BEGIN { exit !(r + 0 > 0 && p + 0 > 0) }'; then
        bad "$id" "req/s '$rps', p50 '$p50'"
    elif [ "${problems%% *}" != none ]; then
        bad "$id" "$problems"
    else
        ok "$id (p50 $p50 ms)"
    fi
done
for id in $clean_rows; do
    line=$(line_of "$id") || continue # reported below
    problems=$(cell "$line" 7)
    [ "${problems%%;*}" = none ] || bad "$id" "$problems"
done
for id in $figure_rows; do
    line=$(line_of "$id") || { bad "$id" "no such row in $table"; continue; }
    figure=$(cell "$line" 7 | sed -n 's/.*\*\*\([0-9.]*\) .*/\1/p')
    if awk -v f="$figure" 'BEGIN { exit !(f + 0 > 0) }'; then
        ok "$id ($(cell "$line" 7 | sed 's/.*\*\*\(.*\)\*\*.*/\1/'))"
    else
        bad "$id" "no figure above 0: $(cell "$line" 7)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
