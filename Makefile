# shardproxy: `make run` starts local backends and the proxy; `make test` runs
# every test, end to end included.
GO        ?= go
BIN       := bin/shardproxy
CONFIG    ?= conf/shardproxy.yaml
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
PKGS      := ./...
# The proxy runs inside the end-to-end test process, so -race there covers
# proxy/ and backend/ under real traffic; the two longest tests are left out,
# and the allocation count (sync.Pool drops items at random under -race).
RACE_PKGS := ./wire/... ./router/... ./sqlparse/... ./proxy/ ./tests/
RACE_SKIP := TestStreamMillionRows|TestDriverCompat|TestScatterReusesBatches

.PHONY: build run backends backends-down test test-unit test-race bench bench-go compat soak lint fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/shardproxy

backends:
	scripts/backends.sh up

backends-down:
	scripts/backends.sh down

run: build backends
	$(BIN) --config $(CONFIG)

test:
	scripts/ensure-deps.sh
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 30m $(PKGS)
	$(GO) test -count=1 -race -timeout 30m -skip '$(RACE_SKIP)' $(RACE_PKGS)

test-unit:
	$(GO) test -count=1 -short $(PKGS)

# sysbench through direct, an haproxy TCP relay and the proxy (bench/README.md).
bench:
	scripts/bench.sh

bench-go:
	scripts/ensure-deps.sh
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

# 10,000 idle client connections (SOAK_CONNS): the proxy's memory per
# connection, in process (heap + stacks) and as the binary's RSS.
SOAK_CONNS ?= 10000
soak:
	scripts/ensure-deps.sh
	SHARDPROXY_SOAK=1 SHARDPROXY_SOAK_CONNS=$(SOAK_CONNS) $(GO) test -count=1 -run 'TestSoak' -v -timeout 30m ./tests/

compat:
	scripts/ensure-deps.sh
	$(GO) test -count=1 -run TestDriverCompat -v -timeout 30m ./tests/

# Each fuzz target for FUZZTIME (60s by default); corpora live in testdata/fuzz.
FUZZTIME ?= 60s
FUZZ_TARGETS := wire:FuzzReadPacket wire:FuzzParseOKAndField wire:FuzzParseExecute wire:FuzzBinaryRowValues \
	proxy:FuzzHandshakeResponse sqlparse:FuzzTemplate router:FuzzPlan
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test ./$$pkg/ -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
