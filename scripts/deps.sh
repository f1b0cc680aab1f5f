#!/bin/sh
# Installs the Debian packages the service, its tests and its tools need, when
# they are missing.  As root it runs apt-get; otherwise it prints the command.
# Usage: scripts/deps.sh [--build] [extra-package...]
#   --build   only what compiling the programs and running the unit tests need
set -eu
build="make gcc pkg-config libfcgi-dev libhiredis-dev libjson-c-dev libcunit1-dev \
libcurl4-openssl-dev libssl-dev tzdata"
if [ "${1:-}" = --build ]; then
    shift
    pkgs="$build $*"
else
    pkgs="$build redis-server redis-tools lighttpd lighttpd-modules-lua curl wrk ca-certificates \
python3-jsonschema nutcracker iproute2 nftables chromium nodejs npm lighttpd-mod-openssl openssl \
prometheus $*"
fi
missing=""
for p in $pkgs; do
    # A Node.js from elsewhere counts as installed (NodeSource's nodejs package
    # carries npm and conflicts with Debian's npm package).
    case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "missing Debian packages:$missing" >&2
    echo "run: sudo apt-get install -y$missing" >&2
    exit 1
fi
