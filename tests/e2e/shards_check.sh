#!/usr/bin/env bash
# The sharded store: run through tests/e2e/run.sh with JOI_E2E_SHARDED=1, which
# starts two Redis shards behind twemproxy and the service on top of the proxy.
#
# Stores readings for 50 meters over HTTP, then asks each shard directly which
# meters it holds: every meter's keys sit together on exactly one shard, each
# shard holds some meters and neither holds all; the plans' keys sit together
# too.  Every meter's compare-all and readings come back right through the
# proxy.  Then the shard holding the plans is shut down (/health is 503) and
# started again (/health is 200, its meters' readings are still there: AOF).
# Last, meters of storage layout 1 written through the proxy are converted by
# joi-admin migrate with --shard for each shard, and read back exactly.
# Every loop is bounded.  Ends with "N passed, M failed".
set -u
: "${JOI_TEST_URL:?run this through tests/e2e/run.sh with JOI_E2E_SHARDED=1}"
: "${JOI_SHARD_PORTS:?run this through tests/e2e/run.sh with JOI_E2E_SHARDED=1}"
url=$JOI_TEST_URL
read -r -a shard_ports <<<"$JOI_SHARD_PORTS"
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-shards.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"
ok_if() { "$@" && echo 0 || echo 1; } # one command only

meters=50
t0=1700000000
meter() { printf 'shard-check-%02d' "$1"; }

echo "plans through the proxy (EVAL over the two {config} keys)"
cat >"$work/plans.json" <<'EOF'
{"timezone": "UTC",
 "pricePlans": [
   {"id": "flat-10", "supplier": "Ten", "unitRate": 10},
   {"id": "flat-2", "supplier": "Two", "unitRate": 2},
   {"id": "flat-1", "supplier": "One", "unitRate": 1}],
 "accounts": {"shard-check-00": "flat-2", "shard-check-01": "flat-10"}}
EOF
out=$("$JOI_ADMIN" load-config "$work/plans.json" 2>&1)
check "joi-admin load-config through twemproxy" "$?" "$out"

echo "$meters meters stored over HTTP"
# Meter i draws a constant (i + 1) kW for one hour: (i + 1) kWh.
bad=0
for i in $(seq 0 $((meters - 1))); do
    kw=$((i + 1))
    code=$(curl -s -o "$work/store-$i.json" -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$(meter "$i")\",\"electricityReadings\":[{\"time\":$t0,\"reading\":$kw},{\"time\":$((t0 + 1800)),\"reading\":$kw},{\"time\":$((t0 + 3600)),\"reading\":$kw}]}" \
        "$url/readings/store")
    [ "$code" = 200 ] || bad=$((bad + 1))
done
check "every store is 200" "$bad" "$bad of $meters were not"

echo "placement on the shards"
for s in 0 1; do
    redis-cli -h 127.0.0.1 -p "${shard_ports[$s]}" --scan --pattern 'joi:{*' >"$work/keys-$s" 2>&1
    check "shard-$s answers --scan" "$?" "$(head -3 "$work/keys-$s")"
    grep -o '^joi:{shard-check-[0-9]*}' "$work/keys-$s" | sort -u >"$work/meters-$s"
done
n0=$(wc -l <"$work/meters-0")
n1=$(wc -l <"$work/meters-1")
echo "  shard-0 holds $n0 of the $meters meters, shard-1 holds $n1"
check "shard-0 holds some meters" "$(ok_if [ "$n0" -gt 0 ])" "it holds none"
check "shard-1 holds some meters" "$(ok_if [ "$n1" -gt 0 ])" "it holds none"
check "neither shard holds all" \
    "$([ "$n0" -lt "$meters" ] && [ "$n1" -lt "$meters" ] && echo 0 || echo 1)" \
    "$n0 and $n1"
both=$(comm -12 "$work/meters-0" "$work/meters-1" | wc -l)
check "no meter has keys on both shards" "$both" "$(comm -12 "$work/meters-0" "$work/meters-1" | head -3)"
check "every meter is on a shard" "$(ok_if [ $((n0 + n1)) = "$meters" ])" "$((n0 + n1)) found"
# Each stored meter has its head (:h) on its shard, and its sealed days (:r) with
# their day records (:e) there too when it has any (layout 2).
split=0
for s in 0 1; do
    while read -r m; do
        r=0 e=0
        grep -qxF "$m:r" "$work/keys-$s" && r=1
        grep -qxF "$m:e" "$work/keys-$s" && e=1
        grep -qxF "$m:h" "$work/keys-$s" && [ "$r" = "$e" ] || split=$((split + 1))
    done <"$work/meters-$s"
done
check "each meter's :h, :r and :e keys are on its shard" "$split" "$split meters lack one"
c0=$(grep -c '^joi:{config}:' "$work/keys-0")
c1=$(grep -c '^joi:{config}:' "$work/keys-1")
check "the three {config} keys (doc, version, layout) are together on one shard" \
    "$(case $c0:$c1 in 3:0 | 0:3) echo 0 ;; *) echo 1 ;; esac)" "shard-0 has $c0, shard-1 has $c1"
config_shard=0
[ "$c1" = 3 ] && config_shard=1

echo "compare-all and read through the proxy"
for i in $(seq 0 $((meters - 1))); do
    curl -s --max-time 10 -w '\n%{http_code}\n' "$url/price-plans/compare-all/$(meter "$i")" \
        >"$work/compare-$i"
    curl -s --max-time 10 -w '\n%{http_code}\n' "$url/readings/read/$(meter "$i")" >"$work/read-$i"
done
wrong=$("$py" - "$work" "$meters" "$t0" <<'EOF'
import json, sys
work, meters, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
plans = {0: "flat-2", 1: "flat-10"}
bad = []


def same(got, want):
    """Equal, numbers to 1e-9 relative (energy is summed in half-hour buckets)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and \
            all(same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and \
            all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and \
            abs(got - want) <= 1e-9 * max(1, abs(want))
    return got == want



for i in range(meters):
    k = i + 1
    body, code = open(f"{work}/compare-{i}").read().rsplit("\n", 2)[:2]
    want = {"pricePlanId": plans.get(i),
            "pricePlanComparisons": [{"flat-1": k}, {"flat-2": 2 * k}, {"flat-10": 10 * k}],
            "usage": {"from": t0, "to": t0 + 3600, "kWh": k, "coveredSeconds": 3600, "gaps": 0}}
    try:
        got = json.loads(body)
    except ValueError:
        got = body
    if code != "200" or not same(got, want):
        bad.append(f"compare-all {i}: {code} {body[:200]}")
    body, code = open(f"{work}/read-{i}").read().rsplit("\n", 2)[:2]
    want = [{"time": t0 + d, "reading": k} for d in (0, 1800, 3600)]
    try:
        got = json.loads(body)
    except ValueError:
        got = body
    if code != "200" or got != want:
        bad.append(f"read {i}: {code} {body[:200]}")
print(len(bad))
for b in bad[:5]:
    print(b, file=sys.stderr)
EOF
)
check "compare-all and read are right for all $meters meters" "${wrong:-1}" "${wrong:-?} wrong"

echo "the shard holding the plans shut down and started again"
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/health"; }
check "/health is 200 with both shards up" "$(ok_if [ "$(health)" = 200 ])" "not 200"
redis-cli -h 127.0.0.1 -p "${shard_ports[$config_shard]}" shutdown >/dev/null 2>&1
code=000
for _ in $(seq 50); do # the shard is gone within 5 s
    code=$(health)
    [ "$code" = 503 ] && break
    sleep 0.1
done
check "/health is 503 once shard-$config_shard is down" "$(ok_if [ "$code" = 503 ])" "got $code"
other_meter=$(head -1 "$work/meters-$((1 - config_shard))" | sed 's/^joi:{\(.*\)}$/\1/')
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/readings/read/$other_meter")
echo "  (readings of $other_meter on the other shard while the plans' shard is down: $code)"
out=$(VAR=$JOI_VAR SHARD_PORTS="$JOI_SHARD_PORTS" PROXY_PORT=$JOI_PROXY_PORT \
    "$JOI_ROOT/scripts/joi-shards" start 2>&1)
check "joi-shards start brings the shard back" "$?" "$out"
code=000
for _ in $(seq 50); do
    code=$(health)
    [ "$code" = 200 ] && break
    sleep 0.1
done
check "/health is 200 again" "$(ok_if [ "$code" = 200 ])" "got $code"
m=$(head -1 "$work/meters-$config_shard" | sed 's/^joi:{\(.*\)}$/\1/')
if [ -n "$m" ]; then
    curl -s --max-time 10 "$url/readings/read/$m" >"$work/after"
    check "$m's readings survived the restart (AOF)" "$(ok_if cmp -s "$work/after" \
        <(head -n -1 "$work/read-$((10#${m#shard-check-}))" | tr -d '\n'))" "$(cat "$work/after")"
fi
check "the plans survived the restart (AOF)" \
    "$(ok_if grep -q '"id":"flat-10"' <(curl -s --max-time 10 "$url/price-plans"))" "flat-10 is gone"

echo "joi-admin migrate over the shards (layout-1 meters written through the proxy)"
# Meter i of layout 1: three readings of (i + 1) kW over one hour, written by layout
# 1's own script through twemproxy (EVAL goes to the shard of its first key).
pcli() { redis-cli -h 127.0.0.1 -p "$JOI_PROXY_PORT" "$@"; }
mig=6
for i in $(seq 0 $((mig - 1))); do
    m=$(printf 'shard-mig-%d' "$i") kw=$((i + 1))
    pcli EVAL "$(cat "$(dirname "$0")/layout1_store.lua")" 4 "joi:{$m}:r" "joi:{$m}:e" "joi:{$m}:l" \
        "joi:{$m}:token" 1800 1800 "" $t0 "$t0:$kw" $((t0 + 1800)) "$((t0 + 1800)):$kw" \
        $((t0 + 3600)) "$((t0 + 3600)):$kw" >/dev/null
done
on=0
for s in 0 1; do
    n=$(redis-cli -h 127.0.0.1 -p "${shard_ports[$s]}" --scan --pattern 'joi:{shard-mig-*}:r' | wc -l)
    [ "$n" -gt 0 ] && on=$((on + 1))
done
check "the layout-1 meters sit on both shards" "$(ok_if [ "$on" = 2 ])" "on $on shards"
pcli DEL 'joi:{config}:layout' >/dev/null
out=$("$JOI_ADMIN" migrate 2>&1)
rc=$?
check "migrate through the proxy alone is refused: name each shard" \
    "$(ok_if [ "$rc" != 0 ] && grep -q 'name each shard' <<<"$out")" "$rc $out"
shard_args=()
for p in "${shard_ports[@]}"; do shard_args+=(--shard "127.0.0.1:$p"); done
out=$("$JOI_ADMIN" migrate "${shard_args[@]}" 2>&1)
rc=$?
check "migrate --shard A --shard B converts every meter and sets the layout" \
    "$(ok_if [ "$rc" = 0 ] && [ "$(grep -c '^shard-mig-[0-9]: 3 readings in 1 days converted to layout 2$' <<<"$out")" = "$mig" ] &&
        [ "$(pcli GET 'joi:{config}:layout')" = 2 ])" "$rc $out"
bad=0
for i in $(seq 0 $((mig - 1))); do
    m=$(printf 'shard-mig-%d' "$i") kw=$((i + 1))
    want="[{\"time\":$t0,\"reading\":$kw},{\"time\":$((t0 + 1800)),\"reading\":$kw},{\"time\":$((t0 + 3600)),\"reading\":$kw}]"
    got=$(curl -s --max-time 10 "$url/readings/read/$m")
    [ "$got" = "$want" ] || { bad=$((bad + 1)); echo "  $m: $got"; }
done
check "every migrated meter reads back exactly through the proxy" "$bad" "$bad of $mig differ"
out=$("$JOI_ADMIN" migrate "${shard_args[@]}" 2>&1)
check "a second run finds layout 2: nothing to migrate" \
    "$(ok_if grep -q "layout is version 2: nothing to migrate" <<<"$out")" "$out"
pcli DEL 'joi:{config}:layout' >/dev/null
out=$("$JOI_ADMIN" migrate "${shard_args[@]}" 2>&1)
check "without the layout key, a rerun converts no meter again and sets it" \
    "$(ok_if grep -q "^0 meters converted (0 readings, 0 days), [1-9][0-9]* skipped, 0 failed; the store's layout is now version 2" <<<"$out")" \
    "$(tail -n 1 <<<"$out")"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
