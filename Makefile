# Samsa build, test, fuzz and benchmark entry points.
GO        ?= go
BIN       := bin/samsa
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
PKGS      := ./...

.PHONY: all build test test-short fuzz bench run vet clean

all: build

# samsa version names the commit: the go command's own VCS stamping is off
# under GOFLAGS=-buildvcs=false and in git worktrees, so make stamps it.
# Without git (or a checkout) the stamps are empty and the binary says the
# commit is unknown. The version is git describe's for a v* tag, else a Go
# pseudo-version of the commit.
GIT         ?= git
GIT_COMMIT  := $(shell $(GIT) rev-parse HEAD 2>/dev/null)
GIT_TIME    := $(shell TZ=UTC $(GIT) log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null)
GIT_DIRTY   := $(shell $(GIT) status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true)
GIT_VERSION := $(shell $(GIT) describe --tags --match 'v[0-9]*' 2>/dev/null || \
	TZ=UTC $(GIT) log -1 --date=format-local:%Y%m%d%H%M%S --format='v0.0.0-%cd-%h' --abbrev=12 2>/dev/null)
LDFLAGS     := -X main.version=$(GIT_VERSION)$(if $(GIT_DIRTY),+dirty) -X main.commit=$(GIT_COMMIT) \
	-X main.commitTime=$(GIT_TIME) -X main.modified=$(GIT_DIRTY)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/samsa

vet:
	$(GO) vet $(PKGS)

# The full suite: unit, crash, fault-injection and integration tests, plus a
# short pass over every fuzz corpus (go test runs seed corpora as unit tests).
test: build vet
	$(GO) test -race -timeout 12m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

# Run every fuzz target for FUZZTIME each (default 30s), minimizing new
# inputs for FUZZMINIMIZETIME at most (default 5s).
fuzz:
	FUZZTIME=$(FUZZTIME) ./fuzz/run.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./bench/ ./zerocopy/ ./netpoll/ ./record/

# Standalone broker: embedded metadata, data in ./data, 127.0.0.1:9092.
run: build
	./$(BIN) broker

clean:
	rm -rf bin
