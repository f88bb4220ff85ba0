// Package txn is samsa txn: list and describe transactions and the
// producers of partitions (ListTransactions, DescribeTransactions,
// DescribeProducers: KIP-664), like kafka-transactions.sh. One file per
// subcommand.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. Transactional ids are positional arguments of describe; list takes
//     its filters as flags (--states, --producer-ids).
//  2. Every subcommand prints an aligned table to stdout, with Kafka's
//     names of transaction states (Empty, Ongoing, PrepareCommit, ...).
//  3. describe prints a row per id named; an id no coordinator knows, or
//     that could not be described, is said so in its row, and the
//     command exits 1. describe-producers does the same per partition.
//
// Locks: none; each subcommand runs on its command's goroutine.
package txn
