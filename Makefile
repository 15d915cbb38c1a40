# Local development and CI entry points (GNU make). See `make help`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The local stack; scripts/env.sh has the same defaults for running the scripts directly.
export AWS_ENDPOINT_URL ?= http://127.0.0.1:4566
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export AWS_REGION ?= us-east-1
export FILES_BUCKET ?= file-service-local
export FILES_TABLE ?= file-service-local
export DEV_JWT_SECRET ?= local-development-secret-change-me

# Organisation of the development token (`make token ORG=456`).
ORG ?= 123

.PHONY: help venv web-deps emulator emulator-stop infra-check dev test sam-local token lint-template package bench fuzz

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(firstword $(MAKEFILE_LIST))

venv: ## Python tools (moto, cfn-lint, boto3) in .venv
	scripts/venv.sh

web-deps: ## Uppy and its bundle (web/uppy, pinned lockfile) and chromium, for the browser test
	scripts/web.sh

emulator: venv ## start (or reuse) the emulators (moto: DynamoDB, LocalStack: S3) and apply template.yaml to them
	scripts/emulator.sh ensure
	. .local/endpoints.env && .venv/bin/python scripts/local_infra.py apply

emulator-stop: ## stop the emulators `make emulator` started
	scripts/emulator.sh stop

infra-check: venv ## compare the emulators' bucket and table with template.yaml
	. .local/endpoints.env && .venv/bin/python scripts/local_infra.py check

dev: ## emulators + local API on 127.0.0.1, port PORT (default 3000), until Ctrl-C
	scripts/dev.sh

test: ## emulators, template lint, cargo fmt --check, clippy -D warnings, cargo test, sam-local (what CI runs)
	scripts/test.sh

sam-local: ## the real Lambda binaries under SAM: sam build, sam local invoke of every event, start-api (Docker)
	scripts/sam_local.sh

token: ## a development JWT for organisation $(ORG)
	cargo run -q -p local-api -- token --org $(ORG)

lint-template: venv ## cfn-lint template.yaml, as written and after the SAM transform
	.venv/bin/cfn-lint template.yaml
	.venv/bin/python scripts/sam_lint.py --transformed-only template.yaml

package: ## Lambda zips of every function (ARCH=arm64 for Graviton), sizes; fails over 4.5 MB
	scripts/package.sh

fuzz: ## long fuzz runs of the JPEG DC decoder and the multipart form parser (FUZZ_ITERATIONS, default 2,000,000 each; make test runs a bounded one)
	FUZZ_ITERATIONS=$${FUZZ_ITERATIONS:-2000000} cargo test --release -p thumbnail --lib fuzz_the_dc_decoder -- --nocapture
	FUZZ_ITERATIONS=$${FUZZ_ITERATIONS:-2000000} cargo test --release -p shared --lib fuzz_the_form_parser -- --nocapture

bench: ## benchmarks (cold init, warm cost, presigning vs Node.js, peak memory, round trips); see BENCHMARKS.md
	scripts/bench.sh $(BENCH_ARGS)
