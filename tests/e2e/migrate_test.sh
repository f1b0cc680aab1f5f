#!/usr/bin/env bash
# joi-admin migrate (run by tests/e2e/run.sh): meters written in layout 1 with its
# own store script (tests/e2e/layout1_store.lua), the layout key deleted, are
# refused (503) until the migration; after it every endpoint answers byte for byte
# what twin meters with the same readings, stored through the API, answer.  A
# second run changes no byte (DUMP of every key).  A store left half converted
# (some meters new, some old, no layout key; then a run killed part way) is
# finished by running it again.  Bounded by count and time.  Ends with
# "N passed, M failed".
set -u
url=$JOI_TEST_URL
sock=${JOI_REDIS#unix:}
admin=$JOI_ADMIN
lua=$(dirname "$0")/layout1_store.lua
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-migrate.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"
rcli() { redis-cli -s "$sock" "$@"; }

# Layout 1 of readings "time reading" on stdin (sorted, one per time) for meter,
# 500 at a time, by layout 1's own script.
store_v1() { # meter
    local m=$1 rec
    rec=$(rcli GET "joi:{$m}:token")
    awk '{ print $1; print $1 ":" $2 }' | split -l 1000 - "$work/v1.$m."
    for f in "$work/v1.$m."*; do
        # shellcheck disable=SC2046
        rcli EVAL "$(cat "$lua")" 4 "joi:{$m}:r" "joi:{$m}:e" "joi:{$m}:l" "joi:{$m}:token" \
            1800 1800 "$rec" $(cat "$f") >/dev/null
        rm -f "$f"
    done
}
# The same readings through the API, 1000 a batch, in order.
store_api() { # meter [token]
    local m=$1 tok=${2:-} code
    split -l 1000 - "$work/api.$m."
    for f in "$work/api.$m."*; do
        awk -v m="$m" 'BEGIN { printf "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", m }
            { printf "%s{\"time\":%s,\"reading\":%s}", (NR > 1 ? "," : ""), $1, $2 }
            END { printf "]}" }' "$f" >"$f.json"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
            ${tok:+-H "Authorization: Bearer $tok"} --data-binary @"$f.json" "$url/readings/store")
        [ "$code" = 200 ] || echo "store $m: $code" >&2
        rm -f "$f" "$f.json"
    done
}

# Every endpoint's answer for meter m, its id written as ID.
answers() { # meter from to
    local m=$1 from=$2 to=$3 p
    for p in "readings/read/$m" "readings/read/$m?from=$from&to=$to" "readings/read/$m?limit=5" \
        "readings/read/$m?from=$from&to=$to&limit=3" "readings/usage/$m?period=day" \
        "readings/usage/$m?period=hour&from=$from&to=$to" "price-plans/compare-all/$m" \
        "price-plans/compare-all/$m?from=$from&to=$to" "price-plans/recommend/$m" \
        "price-plans/recommend/$m?limit=1"; do
        printf '%s ' "${p//$m/ID}"
        curl -s --max-time 30 -w ' %{http_code}\n' "$url/$p" | sed "s/$m/ID/g"
    done
    printf 'csv '
    curl -s --max-time 30 -H 'Accept: text/csv' -w ' %{http_code}\n' "$url/readings/read/$m" | sed "s/$m/ID/g"
}

# The meters: name, then readings "time reading" from a generator.
d0=1672531200 # 2023-01-01 00:00 UTC
gen() { # kind
    case $1 in
    year) seq 0 1251 | awk -v t=$d0 '{ printf "%d %.4f\n", t + 25200 * $1 + ($1 % 7) * 61, 0.1 + ($1 % 13) / 10 }' ;;
    cross) seq 0 300 | awk -v t=$((d0 + 79200)) '{ printf "%d %.3f\n", t + 600 * $1, 1 + ($1 % 5) * 0.125 }' ;;
    one) echo "$((d0 + 12345)) 0.5" ;;
    gaps) printf '%s\n' "$d0 1" "$((d0 + 60)) 2" "$((d0 + 86400 * 10 + 7)) 3" "$((d0 + 86400 * 10 + 1807)) 4.5" \
        "$((d0 + 86400 * 40)) 0" "$((d0 + 86400 * 40 + 900)) 1000000" "$((d0 + 86400 * 200 + 3)) 0.001" ;;
    big) seq 0 1199 | awk -v t=$d0 '{ printf "%d %.2f\n", t + 43200 * $1 + 3600, 2 + ($1 % 3) }' ;;
    tok) seq 0 199 | awk -v t=$((d0 + 3000)) '{ printf "%d %.1f\n", t + 900 * $1, ($1 % 4) }' ;;
    esac
}
kinds="year cross one gaps big tok"
tok_mig=$("$admin" token create mig-tok)
tok_twin=$("$admin" token create twin-tok)
tokrec=$(rcli GET 'joi:{mig-tok}:token')

echo "twins through the API, the same readings in layout 1"
for k in $kinds; do
    gen "$k" >"$work/$k"
    t=""
    [ "$k" = tok ] && t=$tok_twin
    store_api "twin-$k" "$t" <"$work/$k"
    store_v1 "mig-$k" <"$work/$k"
done
check "layout 1 written: one member per reading" \
    "$({ [ "$(rcli ZCARD "joi:{mig-year}:r")" = 1252 ] && [ "$(rcli ZCARD "joi:{mig-big}:r")" = 1200 ]; } && echo 0 || echo 1)" \
    "$(rcli ZCARD 'joi:{mig-year}:r') $(rcli ZCARD 'joi:{mig-big}:r')"
rcli DEL 'joi:{config}:layout' >/dev/null

# Workers that found the layout right keep it for their connection: start lighttpd
# again so that they look.
pid=$(cat "$JOI_VAR/lighttpd.pid")
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
lighttpd -f "$JOI_VAR/lighttpd.conf"
for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" != 000 ] && break
    sleep 0.1
done
body=$(curl -s -D "$work/h503" -w ' %{http_code}' --max-time 10 "$url/readings/read/mig-year")
check "a layout-1 store is refused with Retry-After" "$({ grep -qi '^Retry-After: [0-9]' "$work/h503"; } && echo 0 || echo 1)" \
    "$(cat "$work/h503")"
check "a layout-1 store is refused: 503 run joi-admin migrate" \
    "$({ grep -q "\"detail\":\"the store.s layout is version 1; run joi-admin migrate\".* 503$" <<<"$body"; } && echo 0 || echo 1)" "$body"

echo "joi-admin migrate"
JOI_MIGRATE_PAGE=7 "$admin" migrate >"$work/m1.out" 2>"$work/m1.err"
rc=$?
check "migrate exits 0 and sets the layout" \
    "$({ [ "$rc" = 0 ] && [ "$(rcli GET "joi:{config}:layout")" = 2 ]; } && echo 0 || echo 1)" "$rc $(cat "$work/m1.out" "$work/m1.err")"
ndays=0
for k in $kinds; do
    n=$(awk '{ print int($1 / 86400) }' "$work/$k" | sort -u | wc -l)
    ndays=$((ndays + n))
    grep -qx "mig-$k: $(wc -l <"$work/$k") readings in $n days converted to layout 2" "$work/m1.out" ||
        echo "no line for mig-$k ($n days)" >>"$work/m1.miss"
done
check "one line per meter and the summary" \
    "$({ [ ! -s "$work/m1.miss" ] &&
        grep -qx "6 meters converted (2961 readings, $ndays days), [0-9]* skipped, 0 failed; the store.s layout is now version 2" "$work/m1.out"; } && echo 0 || echo 1)" \
    "$(cat "$work/m1.out")"
check "no :l, no temporary key left" \
    "$({ [ -z "$(rcli --scan --pattern "joi:{mig-*}:l")$(rcli --scan --pattern "joi:{*}:mig-*")" ]; } && echo 0 || echo 1)" \
    "$(rcli --scan --pattern 'joi:{*}:*' | grep -E ':l$|mig-' | head)"
check "the token survives" "$({ [ "$(rcli GET "joi:{mig-tok}:token")" = "$tokrec" ]; } && echo 0 || echo 1)" "token changed"
for k in $kinds; do
    first=$(head -n 1 "$work/$k" | cut -d' ' -f1)
    last=$(tail -n 1 "$work/$k" | cut -d' ' -f1)
    from=$((first + (last - first) / 3))
    to=$((first + 2 * (last - first) / 3))
    answers "twin-$k" "$from" "$to" >"$work/want.$k"
    answers "mig-$k" "$from" "$to" >"$work/got.$k"
    check "mig-$k answers every endpoint as twin-$k" "$({ cmp -s "$work/want.$k" "$work/got.$k"; } && echo 0 || echo 1)" \
        "$(diff "$work/want.$k" "$work/got.$k" | head -c 600)"
done
check "the answers are real (200, readings)" \
    "$({ [ "$(grep -c " 200$" "$work/want.year")" = 11 ] && grep -q "\"reading\":" "$work/want.year"; } && echo 0 || echo 1)" \
    "$(head -c 300 "$work/want.year")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary '{"smartMeterId":"mig-tok","electricityReadings":[{"time":1700000000,"reading":1}]}' "$url/readings/store")
code2=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $tok_mig" \
    --data-binary '{"smartMeterId":"mig-tok","electricityReadings":[{"time":1700000000,"reading":1}]}' "$url/readings/store")
check "the migrated meter's token still guards it (401 without, 200 with)" \
    "$({ [ "$code" = 401 ] && [ "$code2" = 200 ]; } && echo 0 || echo 1)" "$code $code2"

echo "migrate again: nothing changes"
dump() { rcli --scan --pattern 'joi:*' | sort | while read -r key; do printf '%s ' "$key"; rcli --no-raw DUMP "$key"; done; }
dump >"$work/dump1"
"$admin" migrate >"$work/m2.out" 2>&1
rc=$?
dump >"$work/dump2"
check "a second run is a no-op: exit 0, every key's DUMP the same" \
    "$({ [ "$rc" = 0 ] && cmp -s "$work/dump1" "$work/dump2" && grep -q "nothing to migrate" "$work/m2.out"; } && echo 0 || echo 1)" \
    "$rc $(cat "$work/m2.out") $(diff "$work/dump1" "$work/dump2" | head -c 300)"

echo "a store left half converted, then a run killed part way"
many=30
for i in $(seq 1 $many); do
    seq 0 999 | awk -v t=$((d0 + i * 3600)) -v i="$i" '{ printf "%d %d.%02d\n", t + 1800 * $1, i, $1 % 100 }' >"$work/many.$i"
    store_api "twin-many-$i" <"$work/many.$i"
done
for i in $(seq 1 $((many / 2))); do store_v1 "mig-many-$i" <"$work/many.$i"; done
rcli DEL 'joi:{config}:layout' >/dev/null
"$admin" migrate >/dev/null 2>&1 # the first half converted
rcli DEL 'joi:{config}:layout' >/dev/null
for i in $(seq $((many / 2 + 1)) $many); do store_v1 "mig-many-$i" <"$work/many.$i"; done
# One member a command: the run takes long enough to be killed part way.
JOI_MIGRATE_PAGE=1 "$admin" migrate >"$work/m3.out" 2>&1 &
mpid=$!
for _ in $(seq 100); do
    [ "$(grep -c 'converted to layout' "$work/m3.out" 2>/dev/null)" -ge 1 ] && break
    sleep 0.02
done
{
    kill -KILL "$mpid"
    wait "$mpid"
} 2>/dev/null
# Counted in the store, not from the killed run's lines: the kill can fall
# between a meter's swap and the line that reports it.  A layout-1 member
# starts with a digit, a layout-2 one with byte 0x01.
old=0
for i in $(seq 1 $many); do
    rcli ZRANGE "joi:{mig-many-$i}:r" 0 0 | head -c 1 | grep -q '[0-9]' && old=$((old + 1))
done
check "killed part way: layout key absent, some meters still old" \
    "$({ [ -z "$(rcli GET "joi:{config}:layout")" ] && [ "$old" -gt 0 ]; } && echo 0 || echo 1)" \
    "$old still old; the run printed $(grep -c 'converted to layout' "$work/m3.out") conversions"
"$admin" migrate >"$work/m4.out" 2>&1
rc=$?
check "run again: exit 0, the rest converted, the first half skipped" \
    "$({ [ "$rc" = 0 ] && [ "$(grep -c "converted to layout" "$work/m4.out")" = "$old" ] &&
        [ "$(rcli GET "joi:{config}:layout")" = 2 ]; } && echo 0 || echo 1)" "$rc $(tail -n 1 "$work/m4.out")"
bad=0
for i in $(seq 1 $many); do
    answers "twin-many-$i" $((d0 + i * 3600 + 40000)) $((d0 + i * 3600 + 120000)) >"$work/want"
    answers "mig-many-$i" $((d0 + i * 3600 + 40000)) $((d0 + i * 3600 + 120000)) >"$work/got"
    cmp -s "$work/want" "$work/got" || { bad=$((bad + 1)); diff "$work/want" "$work/got" | head -n 4; }
done
check "all $many meters answer as their twins" "$bad" "$bad meters differ"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
