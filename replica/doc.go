// Package replica is the set of partitions this broker hosts and everything
// about their leadership (Kafka's ReplicaManager, Partition,
// ReplicaFetcherThread, DelayedFetch and DelayedProduce).
//
// It owns: the hosted partitions by topic (manager.go); each partition's
// leadership as the controller last set it (partition.go); appends with
// Kafka's validation, idempotence, leader-epoch stamping and acks rules
// (append.go, validate.go); transactions: the coordinator's verification
// of a producer's first transactional batch (KIP-890, through the
// TxnVerifier interface), COMMIT and ABORT markers fenced by producer and
// coordinator epoch, the last stable offset (txn.go); reads as file
// regions for Fetch (read_committed up to the last stable offset, with the
// aborted transactions of the range), ListOffsets and DeleteRecords
// (fetch.go, offsets.go, deleterecords.go); fetch
// sessions (fetchsession.go); the purgatory that parks long polls and
// acks=all produces until a watched partition changes (purgatory.go);
// LeaderAndIsr and StopReplica applied under epoch fencing
// (leaderandisr.go); the leader's record of its followers, the high
// watermark and ISR changes proposed with AlterPartition (replication.go);
// and the follower's fetchers (fetcher.go), which reach a leader through
// the leaderClient interface: a kclient.Conn in production, an in-process
// leader in the unit tests.
//
// Invariants:
//  1. Every batch a leader appends carries the leader epoch of the
//     leadership that accepted it: the append holds the partition's state
//     lock (read), which a leadership change takes (write).
//  2. A follower appends a fetched batch only while it still follows that
//     leader at that leader epoch (checked under the same lock).
//  3. On a leader the high watermark never moves back; it is the smallest
//     log end of the maximal ISR (replication.go, rule 3).
//  4. A partition's state is replaced only by a newer leader epoch (or a
//     newer partition epoch within one), from a controller epoch not older
//     than any seen.
//  5. Nothing waits by polling: appends, follower fetches, ISR and
//     leadership changes wake the parked operations of a partition.
//  6. A transactional batch is written only inside a transaction the
//     coordinator knows of: the producer's transaction is open on the
//     partition, or the coordinator verified it and no marker of the
//     producer came since the verification began.
//  7. The last stable offset never passes a record of an undecided
//     transaction: a transaction's opening is published before its first
//     batch is appended, and a follower's producer state (and its
//     transaction index) is rebuilt from the same batches as the
//     leader's.
//
// Locks (docs/architecture.md places them among the other packages'):
//
//   - Manager.stateMu is taken first: it serializes LeaderAndIsr and
//     StopReplica and guards the newest controller epoch seen. Under it
//     an apply takes Manager.mu, fetchers.mu and partitions' stateMu,
//     never the other way.
//   - Manager.mu guards the topic map (a Topic is replaced whole, never
//     changed, so readers keep one without the lock). Nothing of this
//     package is taken under it.
//   - fetchers.mu guards the registry of the follower's fetchers and the
//     leaders' addresses; a fetcher's own mu (the partitions it fetches)
//     is taken under it or alone, and is a leaf.
//   - Per partition: Producers.Mu (one append at a time: check, append,
//     update; markers and the broker's own appends too), then
//     Partition.stateMu (read-locked by an append and by a
//     follower's fetched append; write-locked by a leadership, ISR or
//     high watermark change), then the log's locks (package logfile).
//   - Fetch sessions: Sessions.mu (the cache), then a Session's mu, a
//     leaf taken under it or alone.
//   - Partition.mu (the purgatory's watchers) is a leaf, taken after
//     stateMu is released.
//
// An ISR proposal goes to the controller from a goroutine of its own,
// holding no lock while the request is in flight.
package replica
