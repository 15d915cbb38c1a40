#!/usr/bin/env bash
# `make test` (and CI): the local stack and the browser test's parts (scripts/web.sh),
# then the template lint (as written and after the SAM transform), format check, clippy,
# the whole test suite against the stack, and the functions as deployed under SAM
# (scripts/sam_local.sh: sam build, sam local invoke of every event, start-api).
# Every step runs; the exit status is the first failing step's. An emulator this run
# started is stopped whatever the outcome.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
# shellcheck source=scripts/env.sh
. scripts/env.sh
# Tests may call cfn-lint and python (the venv's).
export PATH="$root/.venv/bin:$PATH"

scripts/venv.sh || exit $?
# The schema fuzzer of tests/openapi.rs, in its own venv (its pins differ from moto's).
scripts/venv.sh scripts/requirements-schemathesis.txt .venv-schemathesis || exit $?

# The emulators this run starts are listed here, and stopped at the end.
owner="$(mktemp)"

# shellcheck disable=SC2329 # invoked by the traps below
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    scripts/emulator.sh stop --owner "$owner" >/dev/null || true
    rm -f "$owner"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/emulator.sh ensure --owner "$owner" || exit $?
# shellcheck source=/dev/null
. .local/endpoints.env
.venv/bin/python scripts/local_infra.py apply || exit $?

first_failure=0
failed_steps=()
step() {
    echo "==> $*"
    "$@"
    local status=$?
    if [ "$status" -ne 0 ]; then
        failed_steps+=("$* (exit $status)")
        [ "$first_failure" -ne 0 ] || first_failure=$status
    fi
}

step scripts/web.sh
step .venv/bin/python scripts/sam_lint.py
step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets -- -D warnings
step cargo test --workspace
step scripts/sam_local.sh

if [ "$first_failure" -ne 0 ]; then
    echo "test.sh: failed steps:" >&2
    printf '  %s\n' "${failed_steps[@]}" >&2
fi
exit "$first_failure"
