// Package bench is samsa bench: producer and consumer load generators in
// the manner of kafka-producer-perf-test and kafka-consumer-perf-test.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. The topic is the one argument (the old --topic flag still works,
//     with a deprecation note on stderr; naming two topics is a usage
//     error). For produce, -p/--partitions is the partition count of a
//     topic it creates; an existing topic keeps its count, with a note.
//  2. Once a run has started (produce: the topic exists), its summary
//     goes to stdout when it ends, whatever the outcome:
//     a table (topic, records, MiB, elapsed time, throughput, and for
//     produce the failures and the ack latency percentiles), or with
//     --json one JSON object, which names the error of a failed run.
//  3. A progress line goes to stderr every second only when stderr is a
//     terminal, and is cleared at the end.
//  4. produce exits 1 if any record was not delivered or the brokers stop
//     answering for --timeout; consume exits 1 if no record arrives for
//     --timeout while some are expected. SIGINT or SIGTERM ends the run,
//     prints the summary and exits 130 or 143.
//
// Locks: in each run a mutex guards the counts (produce: also the latency
// histogram and the first error) that record promises or the fetch loop
// update and the progress line reads; a leaf.
package bench
