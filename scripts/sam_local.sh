#!/usr/bin/env bash
# `make sam-local`, a stage of `make test`: the functions as deployed. `sam build` builds
# the real Lambda binaries with the template's own BuildMethod (rust-cargolambda), then
#   1. `sam local invoke` of every sample event in events/ (scripts/sam_invoke_check.py
#      checks each answer), with `sam local start-lambda` standing in for Lambda where
#      save hands a fetch to ingest;
#   2. `sam local start-api` serves the template's routes, and epilot's own client runs
#      upload -> PUT -> save -> get -> download -> delete through it, then Chromium
#      uploads a file through the console, pointed at it.
# The functions reach the emulators the way the template configures them (its
# environment), plus the endpoint variables and the bucket and table names (--env-vars).
# SAM runs no JWT authorizer, so the functions check the development token themselves
# (the template's DevJwtSecret; a function on Lambda refuses it).
#
# What it needs, it installs: Debian's docker.io (as root) when dockerd is missing, a
# dockerd when none answers (stopped at the end), aws-sam-cli (pinned, .venv-sam),
# cargo-lambda and zig (.venv), and the Lambda base image: pulled where a registry
# answers, else a stand-in (scripts/lambda_base_image.sh says what it is).
#
# SAM_BUILD_MODE=debug by default: the release profile (fat LTO, one codegen unit) takes
# about 19 minutes from cold on 2 cores, which CI cannot spend; SAM_BUILD_MODE=release
# builds what `sam deploy` ships.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
# shellcheck source=scripts/env.sh
. scripts/env.sh

say() { echo "sam-local: $*"; }
die() {
    echo "sam-local: $*" >&2
    exit 1
}
stage_started=$SECONDS
elapsed() { echo "$((SECONDS - stage_started)) s"; }

mkdir -p .local
pids=()
our_dockerd=""
owner="$(mktemp)"
work="$(mktemp -d)"

# shellcheck disable=SC2329 # invoked by the trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    # The containers SAM left (start-api's warm ones, a killed invoke's).
    if docker info >/dev/null 2>&1; then
        docker ps -aq --filter "label=sam.cli.container.type" | xargs -r docker rm -f >/dev/null 2>&1
    fi
    if [ -n "$our_dockerd" ]; then
        kill "$our_dockerd" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$our_dockerd" 2>/dev/null || break; sleep 0.2; done
    fi
    scripts/emulator.sh stop --owner "$owner" >/dev/null 2>&1 || true
    rm -rf "$owner" "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- Docker -------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "dockerd is missing; install Debian's docker.io (as root: apt-get install -y docker.io)"
    say "installing docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >.local/apt-docker.log 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >.local/apt-docker.log 2>&1; } ||
        die "apt-get install docker.io failed; see .local/apt-docker.log"
fi
if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "no Docker daemon answers and starting one needs root"
    say "starting dockerd (log .local/dockerd.log)"
    dockerd >.local/dockerd.log 2>&1 &
    our_dockerd=$!
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || die "dockerd did not start; see .local/dockerd.log"
fi
bridge="$(ip -4 -o addr show docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')"
[ -n "$bridge" ] || die "Docker's bridge docker0 has no address"
scripts/lambda_base_image.sh || die "no Lambda base image"

# -- Tools ---------------------------------------------------------------------------------
scripts/venv.sh scripts/requirements-sam.txt "$root/.venv-sam" || exit 1
scripts/venv.sh scripts/requirements-package.txt || exit 1
export PATH="$root/.venv/bin:$PATH"
sam="$root/.venv-sam/bin/sam"
export SAM_CLI_TELEMETRY=0

# -- Emulators (reused when `make test` started them) --------------------------------------
scripts/emulator.sh ensure --owner "$owner" >/dev/null || exit 1
# shellcheck source=/dev/null
. .local/endpoints.env
.venv/bin/python scripts/local_infra.py apply >/dev/null || exit 1

# -- Build ----------------------------------------------------------------------------------
case "$(uname -m)" in
    x86_64) arch=x86_64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported machine $(uname -m)" ;;
esac
mode="${SAM_BUILD_MODE:-debug}"
[ "$mode" = release ] && unset SAM_BUILD_MODE || export SAM_BUILD_MODE=debug
say "sam build ($mode, $arch)"
build_started=$SECONDS
"$sam" build --parameter-overrides "Architecture=$arch" >.local/sam-build.log 2>&1 ||
    { tail -40 .local/sam-build.log >&2; die "sam build failed; see .local/sam-build.log"; }
say "sam build took $((SECONDS - build_started)) s"
template="$root/.aws-sam/build/template.yaml"

# -- The containers' way to the emulators ---------------------------------------------------
port_of() { echo "${1##*:}" | tr -d /; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
lambda_port="$(free_port)"
python3 scripts/relay.py "$bridge" "0:$(port_of "$AWS_ENDPOINT_URL_S3")" \
    "0:$(port_of "$AWS_ENDPOINT_URL_DYNAMODB")" "0:$lambda_port" >"$work/relay" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -qs "^ready" "$work/relay" && break; sleep 0.1; done
grep -q '^ready' "$work/relay" || die "the relay did not start: $(cat "$work/relay")"
relayed() { awk -v port="$1" '$1 == port { print $2 }' "$work/relay"; }
s3_for_functions="http://$bridge:$(relayed "$(port_of "$AWS_ENDPOINT_URL_S3")")"
dynamodb_for_functions="http://$bridge:$(relayed "$(port_of "$AWS_ENDPOINT_URL_DYNAMODB")")"
lambda_for_functions="http://$bridge:$(relayed "$lambda_port")"

# moto serves EventBridge beside DynamoDB; the check makes this bus (and a queue its rule
# delivers to) before the events function publishes.
event_bus="file-service-local-files"
webhook_queue="file-service-local-webhooks"
signing_key="sam-local-signing-key-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
env_vars="$work/env-vars.json"
python3 - "$env_vars" <<EOF
import json, sys
json.dump({"Parameters": {
    "FILES_BUCKET": "$FILES_BUCKET",
    "FILES_TABLE": "$FILES_TABLE",
    "AWS_ENDPOINT_URL_S3": "$s3_for_functions",
    "AWS_ENDPOINT_URL_DYNAMODB": "$dynamodb_for_functions",
    "AWS_ENDPOINT_URL_LAMBDA": "$lambda_for_functions",
    "AWS_ENDPOINT_URL_EVENTBRIDGE": "$dynamodb_for_functions",
    "AWS_ENDPOINT_URL_SQS": "$dynamodb_for_functions",
    "EVENT_BUS_NAME": "$event_bus",
    "WEBHOOK_QUEUE_URL": "$dynamodb_for_functions/123456789012/$webhook_queue",
    "DEV_JWT_SECRET": "$DEV_JWT_SECRET",
    "DEV_JWT_ISSUER": "file-service-local",
    "DEV_JWT_AUDIENCE": "file-service",
    "CUSTOM_URL_SIGNING_KEY": "$signing_key",
}}, open(sys.argv[1], "w"), indent=1)
EOF
params="Architecture=$arch JwtIssuer=file-service-local JwtAudience=file-service"

# -- 1. sam local invoke of every event -----------------------------------------------------
"$sam" local start-lambda -t "$template" -p "$lambda_port" --env-vars "$env_vars" \
    --parameter-overrides "$params" --skip-pull-image >.local/sam-start-lambda.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$lambda_port/" && break
    sleep 0.2
done

say "sam local invoke, every event in events/ ($(elapsed) so far)"
SAM="$sam" SAM_TEMPLATE="$template" SAM_ENV_VARS="$env_vars" SAM_PARAMS="$params" \
    S3_URL="$s3_for_functions" S3_URL_SEEN_BY_FUNCTIONS="$s3_for_functions" EVENT_BUS_NAME="$event_bus" \
    WEBHOOK_QUEUE="$webhook_queue" \
    "$root/.venv-sam/bin/python" scripts/sam_invoke_check.py || die "sam local invoke: a check failed"

# -- 2. sam local start-api: epilot's client, then the console in Chromium -----------------
scripts/web.sh >/dev/null || die "scripts/web.sh (the clients' node modules, Chromium) failed"
api_port="$(free_port)"
api="http://127.0.0.1:$api_port"
"$sam" local start-api -t "$template" -p "$api_port" --env-vars "$env_vars" \
    --parameter-overrides "$params" --skip-pull-image --warm-containers LAZY \
    >.local/sam-start-api.log 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
    curl -s -o /dev/null "$api/v2/files" && break
    sleep 0.2
done
curl -s -o /dev/null "$api/v2/files" || die "sam local start-api did not answer; see .local/sam-start-api.log"
say "sam local start-api on $api ($(elapsed) so far)"
token="$("$root/.venv-sam/bin/python" scripts/sam_invoke_check.py token "samapi$RANDOM")"
(cd web/epilot && FILES_API_URL="$api" FILES_TOKEN="$token" node test/epilot-sam.mjs) ||
    die "epilot's client through sam local start-api failed; see .local/sam-start-api.log"

console_port="$(free_port)"
python3 -m http.server --bind 127.0.0.1 --directory web/console "$console_port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$console_port/" && break; sleep 0.1; done
(cd web/console-test && CONSOLE_URL="http://127.0.0.1:$console_port" FILES_API_URL="$api" \
    FILES_TOKEN="$token" node test/console-sam.mjs) ||
    die "the console through sam local start-api failed; see .local/sam-start-api.log"

say "all stages passed in $(elapsed)"
