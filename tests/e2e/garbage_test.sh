#!/usr/bin/env bash
# Thousands of bad requests against the real stack (run by tests/e2e/run.sh):
# every one gets a 4xx problem document, none a 5xx, and no worker dies.
exec /usr/bin/python3 "$(dirname "$0")/garbage.py"
