# Samsa build, test, fuzz and benchmark entry points.
GO        ?= go
BIN       := bin/samsa
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
PKGS      := ./...

.PHONY: all build test test-short fuzz bench run vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/samsa

vet:
	$(GO) vet $(PKGS)

# The full suite: unit, crash, fault-injection and integration tests, plus a
# short pass over every fuzz corpus (go test runs seed corpora as unit tests).
test: build vet
	$(GO) test -race -timeout 12m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

# Run every fuzz target for FUZZTIME each (default 30s).
fuzz:
	FUZZTIME=$(FUZZTIME) ./fuzz/run.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./bench/ ./zerocopy/ ./netpoll/ ./record/

# Standalone broker: embedded metadata, data in ./data, 127.0.0.1:9092.
run: build
	./$(BIN) broker

clean:
	rm -rf bin
