// Package consume is samsa consume: read partitions directly, or as a
// member of a consumer group with --group, and print each record through
// a format string, like kcat -C and rpk topic consume.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. It reads exactly one topic, named as the argument; -p/--partition
//     names partitions to read, -o/--from where to start (and end), in
//     the spellings of kcat and rpk too.
//  2. Records go to stdout, each through --format (default "%v\n"),
//     flushed after every poll; a partition's error other than a lost
//     connection goes to stderr once, as "samsa consume: TOPIC partition
//     P: ERROR".
//  3. It runs until interrupted unless -n, -e or an end in --from says
//     when to stop, and then exits 0. It exits 1 once the brokers have
//     been unreachable for --timeout (reading partitions directly, also
//     when no answer at all comes for --timeout and half a second), and
//     130 or 143 on SIGINT or SIGTERM, after printing what it has.
//  4. --group reads as a member of the group: partitions come from the
//     group, so -p, an end in --from and relative offsets are usage
//     errors with it; reading starts at the committed offsets (--from for
//     partitions without one); only records printed are committed, every
//     5 s and on exit (within --timeout, and not at all once the brokers
//     are known to be unreachable), then it leaves the group.
//  5. --isolation read_committed prints only records of committed
//     transactions and those written outside transactions, up to the last
//     stable offset (-e ends there); transaction markers are never
//     printed, and count for -e's end either way.
//
// Locks: with --group, a mutex guards the partitions still to be read
// for -e, which the group's assignment callbacks change from kgo's
// goroutines; a leaf. Printing runs on the command's goroutine.
package consume
