#!/bin/sh
# Renders the Debian host's configuration files for `make install`: the lighttpd
# snippets, the Redis instance's configuration and its systemd drop-in, from the
# same templates `make run` uses (the service settings of lighttpd/lighttpd.conf.in,
# between its marker lines; redis/redis.conf, included by the instance's file).
#
# Usage: scripts/install-conf.sh DESTDIR PREFIX JOI_AUTH WORKERS TLS_HOST
# Writes under DESTDIR (may be empty): etc/lighttpd/conf-available/90-joi-energy.conf
# and 91-joi-energy-tls.conf, etc/redis/redis-joi-energy.conf,
# etc/systemd/system/redis-server@joi-energy.service.d/joi-energy.conf.  The files
# name the paths of the host (PREFIX, /etc, /run, /var), never DESTDIR.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
destdir=$1 prefix=$2 auth=$3 workers=$4 tls_host=$5
case $auth in open | keys) ;; *)
    echo "install-conf: JOI_AUTH must be open or keys (got $auth)" >&2
    exit 2
    ;;
esac
share=$prefix/share/joi-energy
sock=unix:/run/redis-joi-energy/redis-server.sock

render() { # file: the placeholders of the installed service
    sed -e "s|@WWW@|$share/www|g" -e "s|@SHARE@|$share|g" -e "s|@VAR@|/run/lighttpd|g" \
        -e "s|@WORKER@|$prefix/bin/joi-worker|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|@JOI_REDIS@|$sock|g" -e "s|@TIMEOUT_MS@|2000|g" -e "s|@JOI_AUTH@|$auth|g" \
        -e "s|@MAX_FDS@|16384|g" -e "s|@MAX_CONNECTIONS@|8192|g" -e "s|@TLS_HOST@|$tls_host|g" "$1"
}

install -d "$destdir/etc/lighttpd/conf-available" "$destdir/etc/redis" \
    "$destdir/etc/systemd/system/redis-server@joi-energy.service.d"
out=$destdir/etc/lighttpd/conf-available
{
    render "$here/lighttpd/90-joi-energy.conf.in"
    echo
    echo "# ---- from lighttpd/lighttpd.conf.in ----"
    render "$here/lighttpd/lighttpd.conf.in" |
        sed -n '/^# ---- service settings: begin/,/^# ---- service settings: end/p' |
        grep -v '^# ---- service settings'
} >"$out/90-joi-energy.conf"
render "$here/lighttpd/91-joi-energy-tls.conf.in" >"$out/91-joi-energy-tls.conf"
render "$here/redis/redis-joi-energy.conf.in" >"$destdir/etc/redis/redis-joi-energy.conf"
cp "$here/redis/redis-server@joi-energy.conf" \
    "$destdir/etc/systemd/system/redis-server@joi-energy.service.d/joi-energy.conf"
chmod 644 "$out/90-joi-energy.conf" "$out/91-joi-energy-tls.conf" \
    "$destdir/etc/redis/redis-joi-energy.conf" \
    "$destdir/etc/systemd/system/redis-server@joi-energy.service.d/joi-energy.conf"
