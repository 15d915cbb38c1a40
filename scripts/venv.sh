#!/usr/bin/env bash
# Creates .venv at the repository root (if missing or broken) and installs
# scripts/requirements.txt into it, or the requirements file given as the first argument
# (scripts/package.sh installs scripts/requirements-package.txt this way), into the venv
# given as the second (default .venv; the emulator keeps LocalStack in .venv-localstack). Idempotent: pip
# runs only when a requirements file changed since its last successful install (one stamp
# file per requirements file inside .venv).
# Quiet unless something fails. Needs python3 with the venv module (PYTHON overrides).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${2:-$root/.venv}"
requirements="${1:-$root/scripts/requirements.txt}"
[ -f "$requirements" ] || { echo "venv.sh: no requirements file $requirements" >&2; exit 1; }
requirements="$(cd "$(dirname "$requirements")" && pwd)/$(basename "$requirements")"
# .venv/.requirements.sha256 for scripts/requirements.txt, .requirements-package.sha256, ...
stamp="$venv/.$(basename "$requirements" .txt).sha256"
python="${PYTHON:-python3}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
    echo "venv.sh: $1" >&2
    if [ -s "$log" ]; then
        echo "---- output ----" >&2
        tail -n 60 "$log" >&2
    fi
    exit 1
}

# A venv whose interpreter no longer runs (python upgraded or removed) is rebuilt.
if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
    command -v "$python" >/dev/null 2>&1 || fail "$python not found; install Python 3.9+ (Debian: apt-get install python3 python3-venv)"
    if ! "$python" -m venv "$venv" >"$log" 2>&1; then
        rm -rf "$venv"
        fail "'$python -m venv' failed (Debian: apt-get install python3-venv)"
    fi
fi

want="$( (cat "$requirements"; "$venv/bin/python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

rm -f "$stamp"
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    "$venv/bin/python" -m pip install --quiet --requirement "$requirements" >"$log" 2>&1; then
    fail "pip install -r ${requirements#"$root"/} failed"
fi
echo "$want" >"$stamp"
