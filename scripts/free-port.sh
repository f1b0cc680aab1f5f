# Sourced by scripts that start a stack of their own (tests/e2e/run.sh,
# scripts/bench.sh): free_port prints a loopback TCP port nothing listens on.
# It picks below the kernel's range for outgoing connections (ip_local_port_range),
# where a port nobody listens on may still be taken by a connection's own end.
free_port() {
    local p low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$low" -gt 11000 ] || low=32768
    for _ in $(seq 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
