// Package producerstate is a partition's record of idempotent and
// transactional producers (KIP-98; Kafka's ProducerStateManager): per
// producer ID its epoch and the sequence ranges and offsets of its last
// five batches, so that a retried batch gets its original offsets back and
// a gap or a stale epoch is refused (producer.go); the first offset of its
// open transaction and the epoch of the coordinator of its last marker
// (txn.go: markers, fencing, the last stable offset, KIP-890's
// verification guard, the transaction index entries of aborts); kept in
// `<base>.snapshot` files in Kafka's format (snapshot.go has the layout)
// and rebuilt from the log after the newest snapshot (load.go).
// ReadSnapshot reads a snapshot's entries as written, for tools (samsa
// dump-log).
//
// Invariants:
//  1. Check and Update see batches in log order: on a leader the replica
//     layer calls Check, appends, then calls Update, and on a follower
//     appends then calls Update, all under Producers.Mu, so no other
//     append of the partition comes between a check and its update.
//  2. A producer's sequences are contiguous within an epoch (wrapping past
//     MaxInt32 to 0); a new epoch starts at sequence 0; an older epoch is
//     refused (INVALID_PRODUCER_EPOCH). A batch identical in sequence range
//     to one of the last five is a duplicate, answered with its offsets.
//  3. A snapshot at offset O holds the state after every batch below O;
//     Load takes the newest readable snapshot at or below the log end (a
//     later one is deleted: the log was cut below it), then replays the
//     batches from there, so a lost or corrupt snapshot costs time, never
//     correctness.
//  4. ReadSnapshot and DecodeSnapshot never panic (fuzzed); DecodeSnapshot
//     refuses a snapshot whose CRC-32C does not match (ErrSnapshotCRC, also
//     ErrBadSnapshot) or whose entries no producer could have written.
//  5. A producer has at most one open transaction on a partition, from
//     its first transactional batch to its next marker; the open ones and
//     the ended ones whose marker the high watermark has not passed are
//     published (Producers.Publish, Opening) before the records that
//     changed them become visible, so the last stable offset a reader
//     computes without the lock never passes an undecided record.
//  6. PlanAborts, the dry run the log uses to write transaction index
//     entries with an append, finds the aborts Apply finds for the same
//     batches: the entries and the state never disagree.
//  7. Load after an unclean shutdown replays from a snapshot at or below
//     the first segment whose transaction index awaits a rebuild, and
//     gives the log the entries of the aborts it finds from there.
//
// Locks: Producers.Mu is a partition's append lock (lock order:
// docs/architecture.md, before replica.Partition.stateMu and the log's
// locks); State has no lock of its own: its owner's Mu guards it. The
// published transactions are read without a lock (LastStable).
package producerstate
