#!/usr/bin/env bash
# Layout 2's write path (run by tests/e2e/run.sh): batches into sealed days (out of
# order, replacing readings), writers racing across a seal, and a 10,000-reading
# batch spread over a year, shuffled.  Every meter reads back exactly what was
# acknowledged.  Bounded by count and time.  Ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
sock=${JOI_REDIS#unix:}
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-chunks.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"
rcli() { redis-cli -s "$sock" "$@"; }

post() { # file: prints the status
    curl -s -o "$work/out" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
        --data-binary @"$1" "$url/readings/store"
}
# A body from lines "time reading" on stdin.
body() { # meter
    awk -v m="$1" 'BEGIN { printf "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", m }
        { printf "%s{\"time\":%s,\"reading\":%s}", (NR > 1 ? "," : ""), $1, $2 }
        END { printf "]}" }'
}
# The read answer expected for lines "time reading" (the last of a time wins).
expected() {
    awk '{ v[$1] = $2 } END { for (t in v) print t, v[t] }' | sort -n |
        awk 'BEGIN { printf "[" } { printf "%s{\"time\":%s,\"reading\":%s}", (NR > 1 ? "," : ""), $1, $2 }
            END { printf "]" }'
}

echo "out-of-order and replacing batches into sealed days"
d0=1700006400 # a UTC day start (2023-11-15)
: >"$work/all"
for day in 0 1 2 3; do # four days of 10-minute readings, sent in order
    seq 0 143 | awk -v t=$((d0 + day * 86400)) -v d=$day '{ printf "%d %d.%03d1\n", t + 600 * $1, d, $1 }' >"$work/b"
    cat "$work/b" >>"$work/all"
    body ooo <"$work/b" >"$work/b.json"
    [ "$(post "$work/b.json")" = 200 ] || check "day $day stored" 1 "$(cat "$work/out")"
done
check "four days: three sealed chunks and a head" \
    "$([ "$(rcli ZCARD 'joi:{ooo}:r')" = 3 ] && [ "$(rcli HLEN 'joi:{ooo}:e')" = 3 ] && echo 0 || echo 1)" \
    "chunks $(rcli ZCARD 'joi:{ooo}:r'), records $(rcli HLEN 'joi:{ooo}:e')"
# Late: replaced readings in days 0 and 2, new ones between, a new day before all,
# and a reading in the head, in one batch, unsorted, with a time twice (last wins).
printf '%s\n' "$((d0 + 600 * 5)) 7.5" "$((d0 - 86400 + 60)) 0.25" "$((d0 + 2 * 86400 + 300)) 8" \
    "$((d0 + 600 * 5)) 9.75" "$((d0 + 2 * 86400)) 1000000" "$((d0 + 3 * 86400 + 30)) 0.001" \
    "$((d0 + 86399)) 5e-324" >"$work/late"
cat "$work/late" >>"$work/all"
body ooo <"$work/late" >"$work/late.json"
code=$(post "$work/late.json")
check "a late batch over sealed days, a new earlier day and the head is stored" \
    "$([ "$code" = 200 ] && echo 0 || echo 1)" "$code $(cat "$work/out")"
want=$(expected <"$work/all")
got=$(curl -s --max-time 10 "$url/readings/read/ooo")
check "every reading reads back once, the last of a time" "$([ "$got" = "$want" ] && echo 0 || echo 1)" \
    "got $(echo "$got" | head -c 300)"
check "five chunks now, each with its record" \
    "$([ "$(rcli ZCARD 'joi:{ooo}:r')" = 4 ] && [ "$(rcli HLEN 'joi:{ooo}:e')" = 4 ] && echo 0 || echo 1)" \
    "chunks $(rcli ZCARD 'joi:{ooo}:r')"
all=$(curl -s "$url/price-plans/compare-all/ooo")
ranged=$(curl -s "$url/price-plans/compare-all/ooo?from=0&to=253402300799")
# Sums in another order: equal to 1e-9 relative, as tests/e2e/aggregates_test.sh checks.
close=$(python3 -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def flat(x):
    if isinstance(x, dict): return [(k, v) for kv in sorted(x.items()) for v in [kv[1]] for k in [kv[0]]] and [y for k in sorted(x) for y in [k] + flat(x[k])]
    if isinstance(x, list): return [y for e in x for y in flat(e)]
    return [x]
fa, fb = flat(a), flat(b)
ok = len(fa) == len(fb) and all((abs(p - q) <= 1e-9 * max(abs(p), abs(q), 1e-300)) if isinstance(p, float) or isinstance(q, float) else p == q for p, q in zip(fa, fb))
print(0 if ok else 1)' "$all" "$ranged" 2>&1)
check "compare-all from the day records equals compare-all from the readings" "$close" "$all vs $ranged"
code=$(post "$work/late.json")
got=$(curl -s --max-time 10 "$url/readings/read/ooo")
check "the same late batch again changes nothing" "$([ "$code" = 200 ] && [ "$got" = "$want" ] && echo 0 || echo 1)" "$code"

echo "a seal never drops a reading appended to the head meanwhile"
# Writes paused: two batches read the same head, then their scripts run in the order
# they were sent.  B appends to the head's day; A, sent after B, seals that day.  A
# must see that the head changed since it read it, read again, and keep B's reading.
ds=$((d0 + 10 * 86400))
printf '%s 1\n' "$ds" | body sealrace >"$work/sr0.json"
code0=$(post "$work/sr0.json")
printf '%s 2\n' "$((ds + 60))" | body sealrace >"$work/srB.json"
printf '%s 3\n' "$((ds + 86400))" | body sealrace >"$work/srA.json"
rcli CLIENT PAUSE 700 WRITE >/dev/null
(post "$work/srB.json" >"$work/srB.code") &
sleep 0.2
(post "$work/srA.json" >"$work/srA.code") &
wait
got=$(curl -s --max-time 10 "$url/readings/read/sealrace")
want="[{\"time\":$ds,\"reading\":1},{\"time\":$((ds + 60)),\"reading\":2},{\"time\":$((ds + 86400)),\"reading\":3}]"
check "both batches acknowledged and every reading kept across the seal" \
    "$([ "$code0 $(cat "$work/srB.code") $(cat "$work/srA.code")" = "200 200 200" ] && [ "$got" = "$want" ] && echo 0 || echo 1)" \
    "codes $code0 $(cat "$work/srB.code") $(cat "$work/srA.code"); got $got"

echo "a batch that lost a race takes the meter's turn (joi:{M}:turn)"
# redis/store_batch.lua run by hand on a meter with a head: a seal whose view of the
# head is stale, allowed to claim, writes nothing but the marker (its id, for the
# life it is given) and says so (2); while the marker has at most a writer's life
# left, only its holder writes (more counts as none); the holder's write ends the
# turn; the API's batch waits for a turn that expires.
dm=$((d0 + 20 * 86400))
printf '%s 1\n' "$dm" | body mark >"$work/m0.json"
code0=$(post "$work/m0.json")
h0=$(rcli GET 'joi:{mark}:h')
sha=$(rcli SCRIPT LOAD "$(cat "$JOI_ROOT/redis/store_batch.lua")")
mkeys=(5 'joi:{mark}:r' 'joi:{mark}:e' 'joi:{mark}:h' 'joi:{mark}:token' 'joi:{mark}:turn')
stale_seal() { # life id claim
    rcli EVALSHA "$sha" "${mkeys[@]}" '' "${h0}x" S "$((dm / 86400 + 1))"$'\n' 0 "$@"
}
append() { # reading life id claim
    rcli EVALSHA "$sha" "${mkeys[@]}" '' "$((dm / 86400))"$'\n' A "$((dm + 60)):$1"$'\n' 0 "${@:2}"
}
head_is() { [ "$(rcli GET 'joi:{mark}:h')" = "$1" ]; }
r1=$(stale_seal 60000 A 1)
pttl=$(rcli PTTL 'joi:{mark}:turn')
owner=$(rcli GET 'joi:{mark}:turn')
r2=$(append 5 60000 B 0)
r3=$(stale_seal 60000 B 1)
check "a stale seal takes the turn (2, marker A); another's append and seal then write nothing (0, 0)" \
    "$([ "$code0 $r1 $r2 $r3 $(rcli GET 'joi:{mark}:turn')" = "200 2 0 0 A" ] && [ "$owner" = A ] &&
        [ "$pttl" -gt 50000 ] && [ "$pttl" -le 60000 ] && head_is "$h0" && echo 0 || echo 1)" \
    "store $code0, seal $r1 $r3, append $r2, marker $owner for $pttl ms, head $(rcli GET 'joi:{mark}:h' | tr '\n' '|')"
r4=$(append 5 60000 A 0)
check "the holder writes and its turn ends" \
    "$([ "$r4 $(rcli EXISTS 'joi:{mark}:turn')" = "1 0" ] && head_is "$h0"$'\n'"$((dm + 60)):5" && echo 0 || echo 1)" \
    "append $r4, marker left $(rcli EXISTS 'joi:{mark}:turn'), head $(rcli GET 'joi:{mark}:h' | tr '\n' '|')"
r1=$(stale_seal 60000 A 1)
r2=$(rcli EVALSHA "$sha" "${mkeys[@]}" 'a token record' '-' N '' 0 60000 A 1 | tr '\n' '|')
check "a holder refused for its token (the record) ends its turn too" \
    "$([ "$r1 $r2 $(rcli EXISTS 'joi:{mark}:turn')" = "2 | 0" ] && echo 0 || echo 1)" \
    "seal $r1, reply '$r2', marker left $(rcli EXISTS 'joi:{mark}:turn')"
r1=$(stale_seal 60000 A 1)
r2=$(append 6 100 B 0)
check "a marker with more left than the writer's life counts as none" \
    "$([ "$r1 $r2 $(rcli GET 'joi:{mark}:turn')" = "2 1 A" ] &&
        head_is "$h0"$'\n'"$((dm + 60)):5"$'\n'"$((dm + 60)):6" && echo 0 || echo 1)" \
    "seal $r1, append $r2, head $(rcli GET 'joi:{mark}:h' | tr '\n' '|')"
rcli DEL 'joi:{mark}:turn' >/dev/null
printf '%s 2\n' "$((dm + 120))" | body mark >"$work/m1.json"
r1=$(stale_seal 800 A 1)
pttl=$(rcli PTTL 'joi:{mark}:turn')
start=$(date +%s%3N)
code1=$(post "$work/m1.json")
took=$(($(date +%s%3N) - start))
left=$(rcli EXISTS 'joi:{mark}:turn')
got=$(curl -s --max-time 10 "$url/readings/read/mark")
want="[{\"time\":$dm,\"reading\":1},{\"time\":$((dm + 60)),\"reading\":6},{\"time\":$((dm + 120)),\"reading\":2}]"
check "an append through the API waits out another's turn (${pttl} ms left, ${took} ms), then is stored" \
    "$([ "$r1 $code1 $left" = "2 200 0" ] && [ "$pttl" -gt 100 ] && [ "$took" -ge $((pttl - 50)) ] &&
        [ "$took" -lt 2000 ] &&
        [ "$got" = "$want" ] && echo 0 || echo 1)" \
    "seal $r1, store $code1 after $took ms of the turn's $pttl, marker left $left, got $got"
# The marker is never data: taking a turn stays out of the append-only file (no
# fsync).  Counted: SETs of the marker's key, and APPENDs to the head (a marker's
# expiry, and this test's DEL, do reach the file).
aof_sets() { cat "$JOI_VAR"/appendonlydir/*.aof* | tr -d '\r' | grep -a -x -A2 "$1" | grep -ac -x "$2"; }
inaof=$(aof_sets SET 'joi:{mark}:turn')
inaof_h=$(aof_sets APPEND 'joi:{mark}:h')
check "taking a turn is not in the append-only file, the batches are" \
    "$([ "$inaof" = 0 ] && [ "$inaof_h" -gt 0 ] && echo 0 || echo 1)" "turn $inaof, head $inaof_h"

echo "writers racing across a seal"
: >"$work/race"
for w in 1 2 3 4; do
    (
        for i in $(seq 0 19); do # each writer: its own times, over three days
            t=$((d0 + (i * 4 + w) * 3600))
            echo "$t $w.${i}1" >>"$work/race-$w"
            echo "$t $w.${i}1" | body race >"$work/race-$w.json"
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
                --data-binary @"$work/race-$w.json" "$url/readings/store")
            echo "$code" >>"$work/codes-$w"
        done
    ) &
done
wait
cat "$work"/race-? >"$work/race"
bad=$(cat "$work"/codes-? | grep -cv '^200$')
check "every racing store is acknowledged" "$bad" "$bad not 200: $(sort "$work"/codes-? | uniq -c | tr '\n' ' ')"
want=$(expected <"$work/race")
got=$(curl -s --max-time 10 "$url/readings/read/race")
check "nothing lost, nothing doubled" "$([ "$got" = "$want" ] && echo 0 || echo 1)" \
    "got $(echo "$got" | grep -o time | wc -l) readings, want 80"

echo "10,000 readings spread over a year, shuffled"
awk -v t0=1672531200 'BEGIN { srand(7); for (i = 0; i < 10000; i++) printf "%d %d.%04d1\n", t0 + int(rand() * 365 * 86400), int(rand() * 5), int(rand() * 10000) }' |
    shuf --random-source=<(yes) >"$work/year"
body spread <"$work/year" >"$work/year.json"
rcli CONFIG SET slowlog-log-slower-than 0 >/dev/null
rcli SLOWLOG RESET >/dev/null
rcli CONFIG SET slowlog-max-len 100000 >/dev/null
code=$(post "$work/year.json")
check "the spread batch is a 200" "$([ "$code" = 200 ] && echo 0 || echo 1)" "$code $(head -c 200 "$work/out")"
# The longest single command Redis ran meanwhile (microseconds).
longest=$(redis-cli -s "$sock" --no-raw SLOWLOG GET 100000 |
    awk '/^ *3\) \(integer\)/ { if ($3 > m) m = $3 } END { print m + 0 }')
rcli CONFIG SET slowlog-log-slower-than 10000 >/dev/null
echo "  longest Redis command during the spread batch: $longest us"
check "Redis is busy at most 50 ms at a time for it" "$([ "$longest" -le 50000 ] && echo 0 || echo 1)" "$longest us"
want=$(expected <"$work/year")
got=$(curl -s --max-time 30 "$url/readings/read/spread")
check "the spread batch reads back exactly" "$([ "$got" = "$want" ] && echo 0 || echo 1)" "$(echo "$got" | head -c 200)"

echo "a batch into the head's day is one command to the store"
d1=1700092800 # a UTC day start
seq 0 9 | awk -v t=$d1 '{ printf "%d 0.%03d1\n", t + 60 * $1, $1 }' >"$work/lean1"
seq 10 19 | awk -v t=$d1 '{ printf "%d 0.%03d1\n", t + 60 * $1, $1 }' >"$work/lean2"
printf '%s\n' "$((d1 + 86400)) 1.5" "$((d1 + 86460)) 2.25" >"$work/lean3" # the next day: a seal
body lean <"$work/lean1" >"$work/lean1.json"
body lean <"$work/lean2" >"$work/lean2.json"
body lean <"$work/lean3" >"$work/lean3.json"
code=$(post "$work/lean1.json")
rcli CONFIG SET slowlog-log-slower-than 0 >/dev/null
rcli CONFIG SET slowlog-max-len 1000 >/dev/null
rcli SLOWLOG RESET >/dev/null
code="$code $(post "$work/lean2.json")"
# Each command a client sent on the meter's keys, one line each (its name; the
# script's own commands are logged with the client "?:0").
cmds=$(redis-cli -s "$sock" --no-raw SLOWLOG GET 1000 | awk '
    /^ *4\) +1\) / { name = $3; want = 0; inargs = 1; next }
    inargs && /joi:\{lean\}/ { want = 1 }
    /^ *5\) / { if (inargs && want && $2 != "\"?:0\"") print name; inargs = 0 }' | tr -d '"' | sort | tr '\n' ' ')
rcli CONFIG SET slowlog-log-slower-than 10000 >/dev/null
check "the batch into the head is one EVALSHA, nothing read first" \
    "$([ "$code" = "200 200" ] && [ "$cmds" = "EVALSHA " ] && echo 0 || echo 1)" "$code: $cmds"
code=$(post "$work/lean3.json")
want=$(cat "$work/lean1" "$work/lean2" "$work/lean3" | expected)
got=$(curl -s --max-time 10 "$url/readings/read/lean")
check "a batch of the next day seals the head; every reading reads back" \
    "$([ "$code" = 200 ] && [ "$got" = "$want" ] && [ "$(rcli ZCARD 'joi:{lean}:r')" = 1 ] && echo 0 || echo 1)" \
    "$code chunks $(rcli ZCARD 'joi:{lean}:r') got $(echo "$got" | tail -c 200) want $(echo "$want" | tail -c 200)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
