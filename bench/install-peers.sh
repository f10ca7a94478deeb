#!/usr/bin/env bash
# Installs the native peers of the benchmark (nginx, HAProxy, wrk, and h2load from
# nghttp2-client) from Debian's packages. Idempotent: does nothing when all are already on the
# PATH. Needs root or passwordless sudo. `npm run bench` also runs without them: it then skips
# nginx and HAProxy, loads with autocannon instead of wrk, and skips the HTTP/2 rounds.
set -euo pipefail

# tool:package
tools=(nginx:nginx haproxy:haproxy wrk:wrk h2load:nghttp2-client)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

missing=()
for entry in "${tools[@]}"; do
  if ! have "${entry%%:*}"; then
    missing+=("${entry#*:}")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "nginx, haproxy, wrk and h2load are already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "error: not root and no passwordless sudo; cannot install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "installing ${missing[*]}"
${sudo[@]+"${sudo[@]}"} apt-get update
${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"

for entry in "${tools[@]}"; do
  tool="${entry%%:*}"
  if have "$tool"; then
    echo "ok: $tool"
  else
    echo "error: $tool still missing" >&2
    exit 1
  fi
done
