#!/usr/bin/env bash
# `make install` on a Debian host, end to end (run by tests/e2e/run.sh; it uses
# only JOI_BUILD and JOI_ROOT of the stack run.sh starts).
#
# Installs into a temporary DESTDIR, adds what the host has (Debian's own
# /etc/lighttpd/lighttpd.conf and the conf-available files our snippet depends
# on, copied from this machine's lighttpd package; the folders the packages'
# tmpfiles and the unit's RuntimeDirectory/StateDirectory make), and starts Redis
# and lighttpd from the installed files with the units' own command lines:
#   redis-server ROOT/etc/redis/redis-joi-energy.conf --supervised systemd --daemonize no
#   lighttpd -tt -f ROOT/etc/lighttpd/lighttpd.conf; lighttpd -D -f ROOT/etc/lighttpd/lighttpd.conf
# The installed files name the host's paths; the test roots them in the DESTDIR
# with one sed (rooted below: every absolute /etc/, /var/, /run/, /usr/local/
# after a quote, a space, "=" or ":" (unix:/run/...) gets the DESTDIR in front), and changes only what
# a test must: Debian's port 80 becomes a free loopback port (server.bind
# 127.0.0.1, no IPv6 socket), the TLS snippet's port, address and certificate
# lines (its "one place") point to a free port, 127.0.0.1/[::1] and a self-signed
# certificate, and server.username/groupname are dropped (the test runs as the
# user it is, never as a system service).  lighty-enable-mod runs as Debian's
# script with its /etc/lighttpd/ folder rooted the same way.  Nothing outside
# the temporary folder is written.
#
# Phase 1, JOI_AUTH=open: the CUnit API suite (build/e2e-tests) against the
# installed service, the page, the access log, the socket's mode.  Phase 2, the
# default install (JOI_AUTH=keys) with joi-energy-tls enabled: the API over
# https:// (curl --cacert), HSTS, the 308 redirect of plain HTTP (same path and
# query) but for /health/live, keys mode's 401s.  Last, the drop-in with Debian's
# redis-server@.service under systemd-analyze verify (skipped where it is not
# available).  Ends with "N passed, M failed".
set -u
root_repo=${JOI_ROOT:?run this through tests/e2e/run.sh}
build=${JOI_BUILD:-$root_repo/build}
# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"
# shellcheck source=scripts/free-port.sh
. "$root_repo/scripts/free-port.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/joi-install.XXXXXX")
root=$work/root
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

is() { # name got want
    [ "$2" = "$3" ]
    check "$1" $? "got: $2 | expected: $3"
}
rooted() { # file...: the host's paths rooted in the DESTDIR
    sed -i -E "s#([\"' =:])(/etc/|/var/|/run/|/usr/local/)#\1$root\2#g" "$@"
}
install_into() { # JOI_AUTH (empty: the default)
    (unset JOI_AUTH && make -s -C "$root_repo" install DESTDIR="$root" B="$build" ${1:+JOI_AUTH=$1}) >"$work/install.out" 2>&1 ||
        { cat "$work/install.out"; return 1; }
    rooted "$root"/etc/lighttpd/conf-available/9*-joi-energy*.conf "$root/etc/redis/redis-joi-energy.conf"
}
wait_for() { # tries command...
    local n=$1
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}
sock=$root/run/redis-joi-energy/redis-server.sock
admin() { JOI_REDIS=unix:$sock "$root/usr/local/bin/joi-admin" "$@"; }
health() { # url
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@")" = 200 ]
}

echo "== make install into a DESTDIR"
install_into open || exit 1
for f in usr/local/bin/joi-worker usr/local/bin/joi-admin usr/local/share/joi-energy/www/index.html \
    usr/local/share/joi-energy/redis/plans.json usr/local/share/joi-energy/lighttpd/per-address.lua \
    etc/lighttpd/conf-available/90-joi-energy.conf etc/lighttpd/conf-available/91-joi-energy-tls.conf \
    etc/redis/redis-joi-energy.conf etc/systemd/system/redis-server@joi-energy.service.d/joi-energy.conf; do
    [ -f "$root/$f" ]
    check "installed $f" $? "missing"
done
[ -x "$root/usr/local/bin/joi-worker" ]
check "joi-worker is executable" $? "mode $(stat -c %a "$root/usr/local/bin/joi-worker")"

# The host: Debian's lighttpd.conf and the modules' files from the lighttpd package.
mkdir -p "$root/etc/lighttpd/conf-enabled" "$root/run/lighttpd" "$root/var/log/lighttpd" \
    "$root/var/cache/lighttpd/uploads" "$root/var/log/redis" "$root/var/lib/redis/joi-energy"
chmod 700 "$root/var/lib/redis/joi-energy"
install -d -m 2750 "$root/run/redis-joi-energy"
cp /etc/lighttpd/lighttpd.conf "$root/etc/lighttpd/"
for m in 05-setenv 10-fastcgi 10-magnet 10-accesslog; do
    cp "/etc/lighttpd/conf-available/$m.conf" "$root/etc/lighttpd/conf-available/"
done
http_port=$(free_port)
https_port=$(free_port)
[ "$http_port" != "$https_port" ] || https_port=$(free_port)
main=$root/etc/lighttpd/lighttpd.conf
rooted "$main" "$root"/etc/lighttpd/conf-available/[01]*.conf
sed -i -E -e "s#^server\.port .*#server.port = $http_port\nserver.bind = \"127.0.0.1\"#" \
    -e '/^server\.(username|groupname)/d' -e '/use-ipv6\.pl/d' "$main"
sed "s#^my \$confdir = .*#my \$confdir = \"$root/etc/lighttpd/\";#" /usr/sbin/lighty-enable-mod >"$work/lighty-enable-mod"
out=$(perl "$work/lighty-enable-mod" joi-energy 2>&1)
check "lighty-enable-mod joi-energy" $? "$out"
is "it enabled the snippet and the modules it depends on" \
    "$(find "$root/etc/lighttpd/conf-enabled" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" \
    "05-setenv.conf 10-accesslog.conf 10-fastcgi.conf 10-magnet.conf 90-joi-energy.conf "

start_redis() {
    /usr/bin/redis-server "$root/etc/redis/redis-joi-energy.conf" --supervised systemd --daemonize no \
        >"$work/redis.out" 2>&1 &
    pids+=($!)
    wait_for 100 sh -c "redis-cli -s '$sock' ping 2>/dev/null | grep -q PONG"
}
start_lighttpd() {
    /usr/sbin/lighttpd -tt -f "$main" >"$work/lighttpd-t.out" 2>&1 || { cat "$work/lighttpd-t.out"; return 1; }
    /usr/sbin/lighttpd -D -f "$main" >"$work/lighttpd.out" 2>&1 &
    pids+=($!)
    lighttpd_pid=$!
    wait_for 150 health "http://127.0.0.1:$http_port/health/live"
}
stop_lighttpd() {
    kill -TERM "$lighttpd_pid"
    for _ in $(seq 100); do kill -0 "$lighttpd_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$lighttpd_pid" 2>/dev/null
}

echo "== Redis as redis-server@joi-energy runs it"
start_redis
check "Redis answers on its own socket" $? "$(tail -5 "$root/var/log/redis/redis-server-joi-energy.log" "$work/redis.out" 2>&1)"
is "the socket is srwxrwx--- (unixsocketperm 770)" "$(stat -c %A "$sock")" "srwxrwx---"
cfg() { redis-cli -s "$sock" config get "$1" | sed -n 2p; }
is "appendonly" "$(cfg appendonly)" yes
is "appendfsync" "$(cfg appendfsync)" always
is "save (no RDB snapshots)" "$(cfg save)" ""
is "port (no TCP)" "$(cfg port)" 0
is "its data folder" "$(cfg dir)" "$root/var/lib/redis/joi-energy"
[ -f "$root/var/log/redis/redis-server-joi-energy.log" ]
check "it logs to /var/log/redis/redis-server-joi-energy.log" $? "no log file"
out=$(admin load-config "$root/usr/local/share/joi-energy/redis/plans.json" 2>&1)
check "joi-admin load-config the installed plans" $? "$out"
admin seed-demo >/dev/null 2>&1
check "joi-admin seed-demo (the suite's meters)" $? ""

echo "== lighttpd with 90-joi-energy.conf, JOI_AUTH=open"
start_lighttpd
check "lighttpd -tt and -D from Debian's lighttpd.conf with the snippet enabled" $? \
    "$(cat "$work/lighttpd.out" "$root/var/log/lighttpd/error.log" 2>/dev/null | tail -10)"
base=http://127.0.0.1:$http_port
is "GET / is the page" "$(curl -s -o "$work/page" -w '%{http_code} %{content_type}' "$base/")" \
    "200 text/html; charset=utf-8"
cmp -s "$work/page" "$root_repo/www/index.html"
check "the page is www/index.html byte for byte" $? "differs"
is "GET /health" "$(curl -s -w ' %{http_code}' "$base/health")" '{"status":"ok"} 200'
mkdir -p "$work/var"
JOI_TEST_URL=$base JOI_REDIS=unix:$sock JOI_VAR=$work/var JOI_ADMIN=$root/usr/local/bin/joi-admin \
    JOI_TEST_PORT=$http_port JOI_ROOT=$root_repo "$build/e2e-tests" >"$work/suite.out" 2>&1
rc=$?
check "the CUnit API suite against the installed service" $rc "$(grep -E 'FAIL|failed|Run Summary' -A3 "$work/suite.out" | head -30)"
grep -E '^ +(suites|tests|asserts) ' "$work/suite.out" | sed 's/^/    /'
grep -q '"GET /health HTTP/1.1" 200' "$root/var/log/lighttpd/access.log" 2>/dev/null
check "the access log is /var/log/lighttpd/access.log" $? "$(tail -2 "$root/var/log/lighttpd/access.log" 2>&1)"
stop_lighttpd

echo "== the default install (JOI_AUTH=keys) with HTTPS"
install_into "" || exit 1
grep -q '"JOI_AUTH" *=> "keys"' "$root/etc/lighttpd/conf-available/90-joi-energy.conf"
check "make install without JOI_AUTH installs keys mode" $? "$(grep JOI_AUTH "$root/etc/lighttpd/conf-available/90-joi-energy.conf")"
grep -q '^var.joi_tls_cert *= "'"$root"'/etc/letsencrypt/live/example.org/fullchain.pem"$' \
    "$root/etc/lighttpd/conf-available/91-joi-energy-tls.conf"
check "the certificate's one place names Let's Encrypt's layout" $? "$(grep joi_tls "$root/etc/lighttpd/conf-available/91-joi-energy-tls.conf")"
mkdir -p "$root/etc/letsencrypt/live/localhost"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$root/etc/letsencrypt/live/localhost/privkey.pem" \
    -out "$root/etc/letsencrypt/live/localhost/fullchain.pem" >"$work/openssl.out" 2>&1
check "a self-signed certificate (openssl req)" $? "$(cat "$work/openssl.out")"
ca=$root/etc/letsencrypt/live/localhost/fullchain.pem
sed -i -E -e "s#/live/example\.org/#/live/localhost/#" -e "s#^var\.joi_https_port *=.*#var.joi_https_port = $https_port#" \
    -e 's#"0\.0\.0\.0:"#"127.0.0.1:"#' -e 's#"\[::\]:"#"[::1]:"#' "$root/etc/lighttpd/conf-available/91-joi-energy-tls.conf"
out=$(perl "$work/lighty-enable-mod" joi-energy-tls 2>&1)
check "lighty-enable-mod joi-energy-tls" $? "$out"
start_lighttpd
check "lighttpd starts with TLS" $? "$(cat "$work/lighttpd.out" "$root/var/log/lighttpd/error.log" 2>/dev/null | tail -10)"
tls=https://127.0.0.1:$https_port
wait_for 50 health --cacert "$ca" "$tls/health"
check "https:// answers, the certificate verified with --cacert" $? "$(curl -sS --cacert "$ca" "$tls/health" 2>&1)"
curl -s -o /dev/null --max-time 5 "$tls/health"
is "without the CA the certificate is refused (exit 60)" $? 60
hdr() { grep -i "^$1: " "$work/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
curl -s --cacert "$ca" -D "$work/h" -o /dev/null "$tls/health"
is "HSTS on https://" "$(hdr Strict-Transport-Security)" "max-age=31536000"
for q in "/readings/read/smart-meter-0?from=1606089600&to=1606100000" "/" "/price-plans/compare-all/smart-meter-0" "/health"; do
    is "http://$q is redirected (308)" "$(curl -s -D "$work/h" -o /dev/null -w '%{http_code}' "$base$q")" 308
    is "  to https:// with the same path and query" "$(hdr Location)" "https://127.0.0.1:$https_port$q"
done
is "a POST over plain HTTP is redirected too, not stored" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "$base/readings/store")" 308
curl -s -D "$work/h" -o "$work/b" -w '%{http_code}' "$base/health/live" >"$work/code"
is "/health/live over plain HTTP is answered, not redirected" "$(cat "$work/code") $(hdr Location)" "200 "
is "  and carries no HSTS (plain HTTP must not)" "$(hdr Strict-Transport-Security)" ""
is "plain HTTP/1.0 without a Host gets 403, not the API" \
    "$(curl -s -o /dev/null -w '%{http_code}' --http1.0 -H 'Host:' "$base/readings/read/smart-meter-0")" 403

echo "== keys mode over https://"
store() { # meter [curl args]
    local m=$1
    shift
    curl -s --cacert "$ca" -o "$work/store.b" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"smartMeterId\":\"$m\",\"electricityReadings\":[{\"time\":1700000000,\"reading\":0.5}]}" "$@" "$tls/readings/store"
}
is "store without a token: 401" "$(store tls-meter)" 401
token=$(admin token create tls-meter)
key=$(admin key create tls-meter)
is "store with the meter's token: 200" "$(store tls-meter -H "Authorization: Bearer $token")" 200
is "read without the key: 401" "$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$tls/readings/read/tls-meter?from=0&to=1700000001")" 401
is "read with the key: the reading" \
    "$(curl -s --cacert "$ca" -H "Authorization: Bearer $key" "$tls/readings/read/tls-meter?from=0&to=1700000001")" \
    '[{"time":1700000000,"reading":0.5}]'
is "the plans are loaded: GET /price-plans" "$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$tls/price-plans")" 200
if grep -qF -e "$token" -e "$key" "$root"/var/log/lighttpd/*.log; then r=1; else r=0; fi
check "no token or key in lighttpd's logs" $r "found"
stop_lighttpd

echo "== the unit with its drop-in"
if command -v systemd-analyze >/dev/null 2>&1 && [ -f /lib/systemd/system/redis-server@.service ]; then
    mkdir -p "$work/units"
    cp /lib/systemd/system/redis-server@.service "$work/units/redis-server@joi-energy.service"
    cp -r "$root/etc/systemd/system/redis-server@joi-energy.service.d" "$work/units/"
    out=$(cd "$work/units" && SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze verify --man=no \
        "$work/units/redis-server@joi-energy.service" 2>&1)
    rc=$?
    # verify exits 0 on an unknown key or a bad value and only says so: any line
    # it prints fails the check
    [ "$rc" = 0 ] && [ -z "$out" ]
    check "systemd-analyze verify redis-server@joi-energy.service with the drop-in, silent" $? "exit $rc: $out"
    # the check sees the drop-in: a misspelt key in it is reported
    echo 'Grup=joi-energy' >>"$work/units/redis-server@joi-energy.service.d/joi-energy.conf"
    out=$(cd "$work/units" && SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze verify --man=no \
        "$work/units/redis-server@joi-energy.service" 2>&1)
    case $out in *"joi-energy.conf"*"Unknown key 'Grup'"*) r=0 ;; *) r=1 ;; esac
    check "  and it reads the drop-in (a misspelt key in it is reported)" $r "$out"
else
    echo "  skip systemd-analyze verify: systemd-analyze or Debian's redis-server@.service is not on this machine"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
