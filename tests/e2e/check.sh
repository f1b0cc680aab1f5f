# Sourced by the end-to-end shell tests: check NAME RESULT DETAIL counts a
# check as passed when RESULT is 0 (and prints DETAIL when it failed).
passed=0
failed=0
check() { # name result(0 = ok) detail
    if [ "$2" = 0 ]; then
        passed=$((passed + 1))
        echo "  ok   $1"
    else
        failed=$((failed + 1))
        echo "  FAIL $1: $3"
    fi
}
