#!/usr/bin/env bash
# Installs the native peers of the benchmark (nginx, HAProxy, wrk) from Debian's packages.
# Idempotent: does nothing when all three are already on the PATH. Needs root or passwordless
# sudo. `npm run bench` also runs without them: it then skips nginx and HAProxy and loads with
# autocannon instead of wrk.
set -euo pipefail

missing=()
for tool in nginx haproxy wrk; do
  if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
    missing+=("$tool")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "nginx, haproxy and wrk are already installed"
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

for tool in nginx haproxy wrk; do
  if command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ]; then
    echo "ok: $tool"
  else
    echo "error: $tool still missing" >&2
    exit 1
  fi
done
