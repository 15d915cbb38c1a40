#!/usr/bin/env bash
# The browser tests' parts: Uppy and its glue bundle (web/uppy, from the pinned
# package-lock.json), epilot's client (web/epilot, likewise), playwright-core for the console's test
# (web/console-test, likewise) and Debian's chromium
# (installed when missing and we are root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/web/uppy"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
npx esbuild src/uppy-file-service.js --bundle --format=esm --minify --log-level=warning \
    --outfile=dist/uppy-file-service.js
# epilot's own client, for the test that runs it as its users do.
cd "$root/web/epilot"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
# playwright-core for the console's browser test (the console itself has no build step).
cd "$root/web/console-test"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    else
        echo "web.sh: chromium is missing; install Debian's chromium (apt-get install chromium)" >&2
        exit 1
    fi
fi
