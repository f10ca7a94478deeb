#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind (repeatable where timings are not):
#   bash bench/callgrind.sh [BUILD_DIR] [--hooks] [--admin] [--ws]
# BUILD_DIR holds a built rxproxy (dist/cli.js; default: this checkout). With --hooks the proxy
# runs with request_id, one request header line and a rate limit that never refuses; with
# --admin it runs the admin listener (metrics and status counting every request). With --ws it
# counts WebSocket round trips instead: 8 connections to an echo backend, each sending its next
# 32-byte message when the echo of the last arrives.
# Needs valgrind and ab (apt-get install valgrind apache2-utils). Loopback only; N requests or
# round trips (default 10000) after 1500 warm-up ones, counters zeroed in between. KEEP=FILE keeps
# the callgrind dump there (for callgrind_annotate).
set -euo pipefail
build=$(cd "${1:-$(dirname "$0")/..}" && pwd)
flags=("${@:2}")
has() { [[ " ${flags[*]} " == *" $1 "* ]]; }
requests=${N:-10000}
port=18090
backend_port=19091
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# ws is resolved from the build's node_modules (or the folders above it).
export WS_MODULE
WS_MODULE=$(cd "$build" && node -p "require.resolve('ws')")
node -e "
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{\"backend\":\"server1\"}'));
  });
  const { WebSocketServer } = require(process.env.WS_MODULE);
  new WebSocketServer({ server, perMessageDeflate: false }).on('connection', (socket) =>
    socket.on('message', (data, binary) => socket.send(data, { binary })),
  );
  server.listen($backend_port, '127.0.0.1');
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
[websocket]
algorithm=round-robin
server1=127.0.0.1:$backend_port
INI
if has --hooks; then
  printf '[hooks]\nrequest_id=true\nrequest_header1=X-Env: bench\nrate_limit=10000000/s\n' \
    >> "$work/proxy.ini"
fi
if has --admin; then
  # The admin listener on: metrics and status count every request.
  printf '[admin]\nhost=127.0.0.1\nport=0\n' >> "$work/proxy.ini"
fi

valgrind --tool=callgrind --smc-check=all --dump-instr=no --separate-threads=yes \
  --callgrind-out-file="$work/callgrind.%p" \
  node ${NODE_FLAGS:-} "$build/dist/cli.js" --config "$work/proxy.ini" > "$work/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 600); do
  curl -s -o /dev/null "127.0.0.1:$port/" && break
  sleep 0.2
done
if has --ws; then
  # Warm-up round trips, then a line on stdin ("go") after the counters are zeroed.
  mkfifo "$work/go"
  node -e "
    const WebSocket = require(process.env.WS_MODULE);
    const payload = Buffer.alloc(32, 'x');
    const warmup = ${WARMUP:-1500}, counted = $requests;
    let done = 0, target = warmup, waiting = 8;
    const sockets = [];
    const echoed = (socket) => {
      if (++done === target) {
        if (target === warmup) {
          target += counted;
          console.log('warm');
          require('node:fs').readFile('$work/go', () => sockets.forEach((s) => s.send(payload)));
        } else {
          console.log('done');
          process.exit(0);
        }
      } else if (done < target) socket.send(payload);
    };
    for (let i = 0; i < 8; i++) {
      const socket = new WebSocket('ws://127.0.0.1:$port/', { perMessageDeflate: false });
      sockets.push(socket);
      socket.on('error', (error) => { console.error(error.message); process.exit(1); });
      socket.on('open', () => --waiting === 0 && sockets.forEach((s) => s.send(payload)));
      socket.on('message', () => echoed(socket));
    }
    setTimeout(() => { console.error('timed out'); process.exit(1); }, 600000).unref();
  " > "$work/client.log" &
  client=$!
  until grep -q warm "$work/client.log" 2>/dev/null; do sleep 0.2; done
  callgrind_control -z > /dev/null 2>&1
  echo go > "$work/go"
  wait "$client"
else
  ab -q -n "${WARMUP:-1500}" -c 8 -k "http://127.0.0.1:$port/" > /dev/null
  callgrind_control -z > /dev/null 2>&1
  ab -q -n "$requests" -c 8 -k "http://127.0.0.1:$port/" | grep -E "Failed requests|Non-2xx" || true
fi
callgrind_control -d > /dev/null 2>&1
sleep 1
kill -TERM "$proxy"
wait "$proxy" 2> /dev/null || true
# One dump per thread: the main thread (-01) runs the proxy; the others are V8's compiler and
# garbage collector helpers, whose share depends on when optimisation happens to run.
main_dump=$(ls "$work"/callgrind.*.1-01)
if [ -n "${KEEP:-}" ]; then cp "$main_dump" "$KEEP"; fi
thread_total() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2}'; }
total=0
for dump in "$work"/callgrind.*.1-*; do total=$((total + $(thread_total "$dump"))); done
main=$(thread_total "$main_dump")
unit=requests
if has --ws; then unit="round trips"; fi
echo "$build ${flags[*]:-(no flags)}: $total instructions for $requests $unit, $((total / requests)) per ${unit%s}; main thread $((main / requests))"
