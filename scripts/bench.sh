#!/usr/bin/env bash
# `make bench`: release builds of the functions and of the bench program, the local
# stack (as `make test` starts it), then every benchmark in one run. The report (a
# Markdown table) goes to stdout and target/bench-report.md; BENCHMARKS.md explains it.
# Not part of `make test`: figures depend on the machine, and no test asserts a time.
#   scripts/bench.sh [--quick] [--skip-node]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
. scripts/env.sh

scripts/venv.sh
owner="$(mktemp)"
cleanup() {
    scripts/emulator.sh stop --owner "$owner" >/dev/null || true
    rm -f "$owner"
}
trap cleanup EXIT
scripts/emulator.sh ensure --owner "$owner"
# shellcheck source=/dev/null
. .local/endpoints.env
.venv/bin/python scripts/local_infra.py apply

packages=(-p bench -p local-api -p files-cli)
for dir in functions/*/; do
    packages+=(-p "$(basename "$dir")")
done
cargo build --release "${packages[@]}"

{
    echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $(rustc --version); node $(node --version 2>/dev/null || echo missing)"
    target/release/bench "$@"
    echo
    echo "## 7. Multipart upload of a file: the files CLI beside boto3"
    echo
    scripts/bench-cli.sh
} | tee target/bench-report.md
