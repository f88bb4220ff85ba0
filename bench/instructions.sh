#!/usr/bin/env bash
# instructions.sh: instructions per call of one function, counted by
# valgrind's callgrind, for two revisions of the module. Counts repeat to a
# few percent whatever else the machine does, so small changes on a hot
# path show where timed benchmarks on a shared 2-core machine are noise.
#
#   bench/instructions.sh REV_A REV_B PKG BENCH FUNC N
#   bench/instructions.sh HEAD~1 HEAD ./replica/ 'ProduceAppend/1x1KiB/append' \
#       'samsa/replica.(*Manager).Append' 5000
#
# BENCH runs with -benchtime Nx (N+1 calls of FUNC: b.Loop's first probe
# runs once); the figure is collected instructions / (N+1).
set -euo pipefail
a=$1 b=$2 pkg=$3 bench=$4 fn=$5 n=$6
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'for w in "$tmp"/wt-*; do git -C "$top" worktree remove --force "$w" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
for rev in "$a" "$b"; do
	wt="$tmp/wt-$(git -C "$top" rev-parse --short "$rev")"
	[ -d "$wt" ] || git -C "$top" worktree add -q --detach "$wt" "$rev"
	(cd "$wt" && go test -c -o "$tmp/$(basename "$wt").test" "$pkg")
	out=$(cd "$tmp" && GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --toggle-collect="$fn" \
		--callgrind-out-file="$tmp/cg.out" "$tmp/$(basename "$wt").test" -test.run '^$' \
		-test.bench "$bench" -test.benchtime "${n}x" 2>&1 >/dev/null | grep -o 'Collected : [0-9]*' | awk '{print $3}')
	echo "$rev $(awk -v c="$out" -v n="$n" 'BEGIN{printf "%.0f", c/(n+1)}') instructions per call of $fn"
done
