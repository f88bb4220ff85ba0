#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 30s).
# Go can fuzz one target of one package at a time, so they run in turn.
# Each input that widens coverage is minimized for FUZZMINIMIZETIME at
# most (default 5s; Go's own default, 60s, can take a short run's whole
# budget for targets whose inputs take milliseconds: storage, FuzzServe).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-30s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-5s}"
status=0
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== $pkg $target ($FUZZTIME)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"; then
			status=1
		fi
	done
done
exit $status
