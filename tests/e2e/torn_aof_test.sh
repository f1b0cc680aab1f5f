#!/usr/bin/env bash
# A torn AOF tail (run by tests/e2e/run.sh): the stack is stopped, half a command
# is appended to Redis's AOF (as a crash or a full disk in the middle of a write
# leaves it), and `joi-service start` must say on stderr that Redis truncated it
# (Redis says so only in its log), with Redis's own warning lines; the readings
# stored before the tear read back unchanged.  A start after that, with a clean
# AOF, says nothing.  Ends with "N passed, M failed".
set -u
url=$JOI_TEST_URL
work=$(mktemp -d "${TMPDIR:-/tmp}/joi-torn.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

ok_if() { if "$@"; then echo 0; else echo 1; fi; }

post() { # meter t reading
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$1\",\"electricityReadings\":[{\"time\":$2,\"reading\":$3},{\"time\":$(($2 + 60)),\"reading\":$3}]}" \
        "$url/readings/store"
}

codes=$(post torn-0 1700000000 0.5)$(post torn-0 1700000120 1.25)$(post torn-1 1700000000 2)
check "three batches stored" "$(ok_if [ "$codes" = 200200200 ])" "$codes"
want0='[{"time":1700000000,"reading":0.5},{"time":1700000060,"reading":0.5},{"time":1700000120,"reading":1.25},{"time":1700000180,"reading":1.25}]'
want1='[{"time":1700000000,"reading":2},{"time":1700000060,"reading":2}]'

"$JOI_SERVICE" stop >/dev/null 2>&1
# The AOF that Redis appends to is the last incr file in its manifest.
dir=$JOI_VAR/appendonlydir
incr=$(sed -n 's/^file \([^ ]*\) .*type i.*/\1/p' "$dir"/*.manifest | tail -n 1)
check "the AOF has an incr file" "$(ok_if [ -n "$incr" ] && [ -f "$dir/$incr" ])" "$(cat "$dir"/*.manifest)"
size=$(stat -c %s "$dir/$incr")
# Half of a ZADD: the array header, the command name, then a key cut short.
printf '*4\r\n$4\r\nZADD\r\n$15\r\njoi:{tor' >>"$dir/$incr"

"$JOI_SERVICE" start >"$work/out" 2>"$work/err"
check "start succeeds" $? "$(cat "$work/out" "$work/err")"
grep -q "^joi-service: Redis repaired its AOF on load" "$work/err"
check "start says on stderr that the AOF was repaired" $? "stderr: $(cat "$work/err")"
grep -qE "^    [0-9]+:M .* # !!! Truncating the AOF $incr at offset $size !!!$" "$work/err"
check "and shows Redis's warning with the offset ($size)" $? "stderr: $(cat "$work/err")"
grep -qE "^    [0-9]+:M .* # AOF $incr loaded anyway because aof-load-truncated is enabled$" "$work/err"
check "and that Redis loaded it anyway" $? "stderr: $(cat "$work/err")"
! grep -q "Truncating\|repaired" "$work/out"
check "stdout does not carry the warning" $? "stdout: $(cat "$work/out")"
got=$(curl -s --max-time 10 "$url/readings/read/torn-0")
check "the readings before the tear are intact (torn-0)" "$(ok_if [ "$got" = "$want0" ])" "$got"
got=$(curl -s --max-time 10 "$url/readings/read/torn-1")
check "the readings before the tear are intact (torn-1)" "$(ok_if [ "$got" = "$want1" ])" "$got"
check "and the store takes batches" "$(ok_if [ "$(post torn-1 1700000120 3)" = 200 ])" "refused"

# Redis cut the tail off: the next start has nothing to say.
"$JOI_SERVICE" stop >/dev/null 2>&1
"$JOI_SERVICE" start >"$work/out" 2>"$work/err"
check "a second start succeeds" $? "$(cat "$work/out" "$work/err")"
check "and says nothing on stderr" "$(ok_if [ ! -s "$work/err" ])" "stderr: $(cat "$work/err")"
got=$(curl -s --max-time 10 "$url/readings/read/torn-1")
check "every reading is there after it" \
    "$(ok_if [ "$got" = "${want1%]},{\"time\":1700000120,\"reading\":3},{\"time\":1700000180,\"reading\":3}]" ])" "$got"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
