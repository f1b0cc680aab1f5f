#!/usr/bin/env bash
# Requests lighttpd refuses itself, before a worker reads them (run by
# tests/e2e/run.sh): the worker behind server.error-handler must still say the
# real cause, with the exact status, title and detail.  Raw bytes over a socket,
# since no HTTP client sends these.  Ends with "N passed, M failed".
set -u
port=$JOI_TEST_PORT
url=$JOI_TEST_URL

# shellcheck source=tests/e2e/check.sh
. "$(dirname "$0")/check.sh"

# Sends $1 (\r and \n written as escapes) and prints "STATUS BODY" of the answer.
raw() {
    /usr/bin/python3 - "$port" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
head, _, body = data.partition(b"\r\n\r\n")
status = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "none"
print(status, body.decode("utf-8", "replace"))
EOF
}

expect() { # name request status title detail
    local got want
    got=$(raw "$2")
    want="$3 {\"type\":\"about:blank\",\"title\":\"$4\",\"status\":$3,\"detail\":\"$5\"}"
    [ "$got" = "$want" ]
    check "$1" $? "got: $got"
}

meter=protocol-te-$$
body="{\"smartMeterId\":\"$meter\",\"electricityReadings\":[{\"time\":1700000000,\"reading\":1}]}"
te='a Transfer-Encoding other than chunked is not supported'
expect "Transfer-Encoding: identity on a store: 501 that names it" \
    "POST /readings/store HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\nContent-Length: ${#body}\r\nConnection: close\r\n\r\n$body" \
    501 "Not Implemented" "$te"
expect "Transfer-Encoding: gzip on a read: 501 that names it" \
    "GET /readings/read/smart-meter-0 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n" \
    501 "Not Implemented" "$te"
got=$(curl -s --max-time 10 -w ' %{http_code}' "$url/readings/read/$meter")
[ "${got##* }" = 404 ]
check "the refused store wrote nothing" $? "got: $got"

expect "an unknown method: 501 that names the method" \
    "FROB /readings/store HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" \
    501 "Not Implemented" "the request method is not supported"
expect "DELETE of a static file: 501" \
    "DELETE /openapi.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" \
    501 "Not Implemented" "this method is not supported here, or the Transfer-Encoding is not chunked"
expect "HTTP/2.0 in a request line: 505 with its title" \
    "GET /health HTTP/2.0\r\nHost: t\r\n\r\n" \
    505 "HTTP Version Not Supported" "the HTTP version is not supported; use HTTP/1.1"
expect "HTTP/1.2: 505" \
    "GET /health/live HTTP/1.2\r\nHost: t\r\n\r\n" \
    505 "HTTP Version Not Supported" "the HTTP version is not supported; use HTTP/1.1"
big=$(head -c 9000 /dev/zero | tr '\0' a)
expect "headers over 8 KiB: 431" \
    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Big: $big\r\n\r\n" \
    431 "Request Header Fields Too Large" "the request line and headers are larger than 8 KB"
expect "a plain request on the same port still works" \
    "GET /readings/read/$meter HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" \
    404 "Not Found" "meter $meter has no readings"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
