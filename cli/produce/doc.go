// Package produce is samsa produce: one record per input line, like
// kafka-console-producer and rpk topic produce.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. Each line of stdin (or --file) is one record of the topic named as
//     the one argument, without its trailing "\n" or "\r\n"; with
//     --key-separator the line splits at its first separator into key and
//     value. A line longer than --max-message-bytes stops the producer
//     with an error naming the line; what was read before it is still
//     delivered.
//  2. -p/--partition P sends every record to partition P and implies
//     --partitioner manual; a manual partitioner without -p, or -p with
//     another partitioner, is a usage error.
//  3. The summary, "produced N records to TOPIC in T" and, if some
//     failed, how many and the first error, goes to stderr at the end,
//     whatever the outcome. With --verbose each acknowledged record's
//     PARTITION@OFFSET goes to stdout (offset -1 with --acks 0).
//  4. It exits 1 if any record sent was not acknowledged: each has
//     --timeout, and a record still unacknowledged when the command stops
//     counts as failed. SIGINT or SIGTERM stops reading, waits a moment
//     for records in flight, prints the summary and exits 130 or 143.
//  5. With --transactional-id (acks all and idempotence required) the
//     records go in transactions: one for the input, or one every
//     --txn-records records; a transaction is committed only when all its
//     records were acknowledged, else aborted, and so when the command is
//     stopped. Only committed records count as produced; the summary adds
//     "(transactions: N committed, M aborted)", and a transaction not
//     committed exits 1.
//
// Locks: lineProducer.mu guards the counts, the first error and the
// --verbose output, which record promises write from kgo's goroutines; a
// leaf. lineProducer.txnMu guards the transaction state, which the reading
// goroutine and run both end transactions on; taken before mu. Progress is
// the watchdog's atomics.
package produce
