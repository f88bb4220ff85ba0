// Package dumplog is samsa dump-log: it prints, and with --verify checks,
// segment files offline (.log, .index, .timeindex, .snapshot), like
// Kafka's kafka-dump-log.sh. Each format is read through the package that
// owns it: record (batches and their records), mmapindex (index entries),
// producerstate (producer snapshots).
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. Each argument is a file, a directory (a partition directory: its
//     files in segment order, a segment's .log first) or a glob the shell
//     did not expand. A file of another kind, or a subdirectory, is
//     skipped with a note on stderr; that is not a problem.
//  2. stdout gets "Dumping PATH" before each file, then its batches,
//     entries or producers as Kafka's tool prints them, and each problem
//     found as a "PROBLEM: ..." line where it was found. --print-data adds
//     every record, decompressing a compressed batch within 256 MiB.
//  3. Problems of framing are found always; --verify adds the CRCs, the
//     order of offsets, and that index entries point at the batches they
//     name (it needs the segment's .log beside an index). A snapshot whose
//     CRC does not match is a problem, and its entries are still printed.
//  4. It exits 1, after "samsa dump-log: N problem(s) found" on stderr,
//     if any problem was found or a file could not be read (the reason on
//     stderr); otherwise 0.
//
// Locks: none; one goroutine reads the files in turn.
package dumplog
