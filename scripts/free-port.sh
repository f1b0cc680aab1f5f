# Sourced by scripts that start a stack of their own (tests/e2e/run.sh,
# scripts/bench.sh): free_port prints a loopback TCP port nothing listens on.
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
