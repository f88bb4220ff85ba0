// Package bench holds Samsa's benchmarks; it has no code but its tests.
// The storage ones (append, index lookups, reads, reopening, restarts)
// run in the test process; the broker, group, replication and cluster
// ones build and start processes: bin/samsa brokers, franz-go's kfake as
// its own process (bench/kfakesrv), and ZooKeeper (internal/zktest).
// Figures and the commands that reproduce them are in README.md;
// instructions.sh counts instructions per call with callgrind, to compare
// two revisions where timings on a shared machine are noise.
//
// Invariants:
//  1. Where a baseline exists it runs in the same run and the ratio is
//     reported: a raw file write beside a log append, a plain binary
//     search beside an index lookup, opening a fresh directory beside a
//     restart, kfake beside the broker (run as processes alike, their CPU
//     time read from /proc), RF=1 acks=1 beside RF=3 acks=all. The
//     cluster failover benchmarks are reported beside the ZooKeeper
//     session timeout that dominates them.
//  2. They are not unit tests: make test does not run them (go test runs
//     no benchmark without -bench), and make bench runs them with the
//     benchmarks of zerocopy, netpoll and record.
//
// Locks: none; each benchmark drives its processes from its own
// goroutines.
package bench
