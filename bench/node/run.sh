#!/usr/bin/env bash
# Node.js side of the benchmarks: presigned URLs (presign.mjs) and previews (preview.mjs,
# sharp). Installs the pinned dependencies (npm ci) when needed, then runs the script.
# stdout: exactly one line of JSON (from the script); everything else -> stderr.
# Usage: bench/node/run.sh [--iterations N] [--warmup N] [--endpoint URL] [--sample]
#        bench/node/run.sh --script preview.mjs fixtures DIR | run FILE RUNS W H
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[ "$script_dir" = "${BASH_SOURCE[0]}" ] && script_dir=.
cd "$script_dir"

if ! command -v node >/dev/null 2>&1; then
    echo "bench/node/run.sh: 'node' not found on PATH; install Node.js >= 20 to run the Node presign benchmark" >&2
    exit 127
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "bench/node/run.sh: 'npm' not found on PATH; install npm (ships with Node.js) to run the Node presign benchmark" >&2
    exit 127
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
    echo "bench/node/run.sh: Node.js >= 20 required, found $(node --version)" >&2
    exit 1
fi

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "bench/node/run.sh: installing dependencies (npm ci)" >&2
    if ! npm ci --no-audit --no-fund --silent >&2; then
        echo "bench/node/run.sh: 'npm ci' failed (is the npm registry reachable?)" >&2
        exit 1
    fi
fi

script=presign.mjs
if [ "${1:-}" = "--script" ]; then
    script="$2"
    shift 2
fi
exec node "$script" "$@"
