#!/usr/bin/env bash
# End-to-end UI run: a real `masterplan serve` with the `sim` model, driven by Playwright in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="mp_e2e_$(date +%s%N)"
export MASTERPLAN_DATA_DIR="$data" MASTERPLAN_LOCAL_TOKEN="$token" MASTERPLAN_PORT="$port"
export MASTERPLAN_MODEL="${E2E_MODEL:-sim:latency=0.3,tasks=8}"
.venv/bin/masterplan serve --port "$port" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.2
done
cd web
MASTERPLAN_E2E_URL="http://127.0.0.1:$port" MASTERPLAN_E2E_TOKEN="$token" npm run e2e || { tail -50 "$data/server.log"; exit 1; }
