#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind (repeatable where timings are not):
#   bash bench/callgrind.sh [BUILD_DIR] [--hooks | --admin]
# BUILD_DIR holds a built rxproxy (dist/cli.js; default: this checkout). With --hooks the proxy
# runs with request_id, one request header line and a rate limit that never refuses; with
# --admin it runs the admin listener (metrics and status counting every request).
# Needs valgrind and ab (apt-get install valgrind apache2-utils). Loopback only; N requests
# (default 10000) after 1500 warm-up requests, counters zeroed in between.
set -euo pipefail
build=$(cd "${1:-$(dirname "$0")/..}" && pwd)
hooks=${2:-}
requests=${N:-10000}
port=18090
backend_port=19091
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

node -e "
  require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{\"backend\":\"server1\"}'));
  }).listen($backend_port, '127.0.0.1');
" &
cat > "$work/proxy.ini" <<INI
[frontend]
host=127.0.0.1
port=$port
log_level=warn
[http]
algorithm=round-robin
server1=127.0.0.1:$backend_port
max_workers=16
min_workers=4
INI
if [ "$hooks" = "--hooks" ]; then
  printf '[hooks]\nrequest_id=true\nrequest_header1=X-Env: bench\nrate_limit=10000000/s\n' \
    >> "$work/proxy.ini"
fi
if [ "$hooks" = "--admin" ]; then
  # The admin listener on: metrics and status count every request.
  printf '[admin]\nhost=127.0.0.1\nport=0\n' >> "$work/proxy.ini"
fi

valgrind --tool=callgrind --smc-check=all --dump-instr=no \
  --callgrind-out-file="$work/callgrind.%p" \
  node "$build/dist/cli.js" --config "$work/proxy.ini" > "$work/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 600); do
  curl -s -o /dev/null "127.0.0.1:$port/" && break
  sleep 0.2
done
ab -q -n 1500 -c 8 -k "http://127.0.0.1:$port/" > /dev/null
callgrind_control -z > /dev/null 2>&1
ab -q -n "$requests" -c 8 -k "http://127.0.0.1:$port/" | grep -E "Failed requests|Non-2xx" || true
callgrind_control -d > /dev/null 2>&1
sleep 1
kill -TERM "$proxy"
wait "$proxy" 2> /dev/null || true
dump=$(ls -t "$work"/callgrind.*.1 | head -1)
total=$(grep -E '^(summary|totals):' "$dump" | head -1 | awk '{print $2}')
echo "$build ${hooks:-(no hooks)}: $total instructions for $requests requests, $((total / requests)) per request"
