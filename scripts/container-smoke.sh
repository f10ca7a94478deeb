#!/usr/bin/env bash
# Repeats the Dockerfile's runtime stage in a temporary folder (production-only
# dependencies plus the built dist/) and checks the image's entry point works:
# --version, --check, and a real start / request / SIGTERM drain on loopback.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
backend_pid=""
proxy_pid=""

cleanup() {
  local pid
  for pid in "$proxy_pid" "$backend_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  cd / && rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "container smoke: FAILED: $*" >&2
  exit 1
}

ok() {
  echo "container smoke: $* ok"
}

show() {
  echo "--- $1 ---" >&2
  cat "$2" >&2 || true
}

if [[ ! -f "$repo/dist/cli.js" ]]; then
  (cd "$repo" && npm run build --silent) || fail "npm run build"
fi

# Runtime stage: package files, production dependencies only, then dist/.
cp "$repo/package.json" "$repo/package-lock.json" "$work/"
(cd "$work" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  >"$work/npm.log" 2>&1) || {
  show "npm ci" "$work/npm.log"
  fail "npm ci --omit=dev"
}
cp -R "$repo/dist" "$work/dist"
for dev in typescript jest ts-jest eslint prettier; do
  [[ ! -e "$work/node_modules/$dev" ]] || fail "devDependency $dev installed in production tree"
done
ok "production install (no devDependencies)"

cd "$work"

expected_version="$(node -p "require('./package.json').version")"
actual_version="$(node dist/cli.js --version)" || fail "--version exited non-zero"
[[ "$actual_version" == "$expected_version" ]] ||
  fail "--version printed '$actual_version', expected '$expected_version'"
ok "--version ($actual_version)"

node dist/cli.js --check --config "$repo/spec/fixtures/original-example.ini" \
  >"$work/check.out" 2>"$work/check.err" || {
  show "stderr" "$work/check.err"
  fail "--check of spec/fixtures/original-example.ini exited non-zero"
}
ok "--check of a valid config"

printf '[frontend]\nhost=127.0.0.1\nport=70000\n[http]\nalgorithm=round-robin\nserver1=127.0.0.1:9\n' \
  >"$work/invalid.ini"
status=0
node dist/cli.js --check --config "$work/invalid.ini" >"$work/invalid.out" 2>"$work/invalid.err" ||
  status=$?
[[ "$status" -eq 1 ]] || fail "--check of an invalid config exited $status, expected 1"
grep -qF '[frontend] port' "$work/invalid.err" || {
  show "stderr" "$work/invalid.err"
  fail "--check stderr does not name [frontend] port"
}
ok "--check of an invalid config"

# Tiny backend on an ephemeral loopback port; it prints the port once listening.
node -e "
const server = require('http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
" >"$work/backend.out" 2>"$work/backend.err" &
backend_pid=$!

backend_port=""
for _ in $(seq 1 100); do
  backend_port="$(head -n 1 "$work/backend.out")"
  [[ -n "$backend_port" ]] && break
  kill -0 "$backend_pid" 2>/dev/null || break
  sleep 0.1
done
[[ "$backend_port" =~ ^[0-9]+$ ]] || {
  show "backend stderr" "$work/backend.err"
  fail "backend did not start"
}

free_port() {
  node -e "
const s = require('net').createServer().listen(0, '127.0.0.1', () => {
  console.log(s.address().port);
  s.close();
});"
}
proxy_port="$(free_port)"
admin_port="$(free_port)"
[[ "$proxy_port" =~ ^[0-9]+$ && "$admin_port" =~ ^[0-9]+$ ]] || fail "could not find free ports"

printf '[frontend]\nhost=127.0.0.1\nport=%s\n[http]\nalgorithm=round-robin\nserver1=127.0.0.1:%s\n[admin]\nhost=127.0.0.1\nport=%s\n' \
  "$proxy_port" "$backend_port" "$admin_port" >"$work/reverse-proxy-config.ini"
# The same front door without an admin listener, for the HEALTHCHECK's other path.
printf '[frontend]\nhost=127.0.0.1\nport=%s\n[http]\nserver1=127.0.0.1:%s\n' \
  "$proxy_port" "$backend_port" >"$work/no-admin.ini"

# The image's HEALTHCHECK command fails while nothing runs.
if RXPROXY_CONFIG="$work/reverse-proxy-config.ini" node dist/cli.js --healthcheck \
  >/dev/null 2>&1; then
  fail "--healthcheck passed with no proxy running"
fi
ok "--healthcheck fails with no proxy running"

# As the container runs it: the CMD's node options, config path from the environment, no
# arguments.
cmd_line="$(grep -E '^CMD \[' "$repo/Dockerfile" | tail -n 1)"
[[ -n "$cmd_line" ]] || fail "Dockerfile has no exec-form CMD"
options_text="$(node -e "
const words = JSON.parse(process.argv[1].slice(4));
const script = words.indexOf('dist/cli.js');
if (words[0] !== 'node' || script < 1) process.exit(1);
for (const option of words.slice(1, script)) console.log(option);
" "$cmd_line")" || fail "Dockerfile CMD is not [\"node\", ...options, \"dist/cli.js\"]: $cmd_line"
node_options=()
[[ -z "$options_text" ]] || mapfile -t node_options <<<"$options_text"
RXPROXY_CONFIG="$work/reverse-proxy-config.ini" node "${node_options[@]}" dist/cli.js \
  >"$work/proxy.out" 2>"$work/proxy.err" &
proxy_pid=$!

listening=""
for _ in $(seq 1 100); do
  if grep -qF '"event":"listening"' "$work/proxy.out"; then
    listening=yes
    break
  fi
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$listening" ]] || {
  show "proxy stdout" "$work/proxy.out"
  show "proxy stderr" "$work/proxy.err"
  fail "proxy did not log \"event\":\"listening\" within 10s"
}
ok "start from RXPROXY_CONFIG"

body="$(curl -sf --max-time 5 "http://127.0.0.1:$proxy_port/")" || {
  show "proxy stdout" "$work/proxy.out"
  fail "request through the proxy failed"
}
[[ "$body" == "ok" ]] || fail "proxied body was '$body', expected 'ok'"
ok "request through the proxy"

RXPROXY_CONFIG="$work/reverse-proxy-config.ini" node dist/cli.js --healthcheck >/dev/null ||
  fail "--healthcheck (admin /livez) failed with the proxy running"
node dist/cli.js --healthcheck --config "$work/no-admin.ini" >/dev/null ||
  fail "--healthcheck (front door connection) failed with the proxy running"
ok "HEALTHCHECK command with and without the admin listener"

livez="$(curl -sf --max-time 5 "http://127.0.0.1:$admin_port/livez")" ||
  fail "GET /livez on the admin listener failed"
[[ "$livez" == '{"status":"ok"}' ]] || fail "/livez answered '$livez'"
ok "admin /livez"

curl -sf --max-time 5 "http://127.0.0.1:$admin_port/metrics" >"$work/metrics.txt" ||
  fail "GET /metrics on the admin listener failed"
grep -qE '^rxproxy_requests_total\{pool="http",server="server1",code="2xx"\} 1$' "$work/metrics.txt" || {
  show "metrics" "$work/metrics.txt"
  fail "/metrics does not count the proxied request"
}
ok "admin /metrics"

kill -TERM "$proxy_pid"
for _ in $(seq 1 150); do
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$proxy_pid" 2>/dev/null; then
  show "proxy stdout" "$work/proxy.out"
  fail "proxy still running 15s after SIGTERM"
fi
status=0
wait "$proxy_pid" || status=$?
proxy_pid=""
[[ "$status" -eq 0 ]] || {
  show "proxy stdout" "$work/proxy.out"
  show "proxy stderr" "$work/proxy.err"
  fail "proxy exited $status after SIGTERM, expected 0"
}
grep -qF '"event":"stopped"' "$work/proxy.out" || {
  show "proxy stdout" "$work/proxy.out"
  fail "proxy did not log \"event\":\"stopped\""
}
ok "SIGTERM drain and exit 0"

echo "container smoke: all checks passed"
