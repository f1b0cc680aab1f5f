#!/usr/bin/env bash
# The store script's pre-aggregates price exactly like the readings (run by
# tests/e2e/run.sh against the real stack).
exec /usr/bin/python3 "$(dirname "$0")/aggregates.py"
