# cert-manager-rs developer entry points. `make help` lists them.
SHELL := /usr/bin/env bash
CARGO ?= cargo
# The local control plane (etcd + an API server on the real k8s.io/apiserver libraries) is built
# once into a cache by hack/install-envtest.sh; its last output line is the binaries' folder.
ENVTEST = ENVTEST_BIN_DIR="$$(hack/install-envtest.sh | tail -n1)"

.PHONY: help build test unit lint fmt envtest run crds

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build the workspace (debug)
	$(CARGO) build --workspace --all-targets

test: lint chart-test ## Lint, chart tests, then every Rust test (unit, fake-server, local control plane)
	$(ENVTEST) $(CARGO) nextest run --workspace --no-fail-fast

unit: ## Run the tests quickly, without lint
	$(ENVTEST) $(CARGO) nextest run --workspace

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
