// Package txn is the transaction coordinator (KIP-98, KIP-360, KIP-664,
// KIP-890 part 1), behaving as Kafka 3.8's TransactionCoordinator,
// TransactionStateManager and TransactionMarkerChannelManager do: it hands
// transactional producers their producer id and epoch (InitProducerId),
// records the partitions of each transaction (AddPartitionsToTxn,
// AddOffsetsToTxn), ends transactions (EndTxn) by writing COMMIT or ABORT
// markers to every partition through WriteTxnMarkers, aborts transactions
// that outlive their timeout, forgets idle transactional ids, and answers
// DescribeTransactions, ListTransactions and the leaders' verification of
// transactional produces. Durable state is records of the compacted
// internal topic __transaction_state, in Kafka's schemas, so that Kafka's
// tools read it. The requests' answers, with Kafka's version-dependent
// codes, are built here (api.go), as package group builds its own.
//
// The coordinator is keyed by partition of __transaction_state: an id
// lives in partition abs(javaHashCode(id)) % partitions (PartitionFor, the
// group coordinator's rule), and the leader of that partition is its
// coordinator. Load takes a partition over at a leader epoch, which is the
// coordinator epoch every marker it sends carries; Unload gives it up.
//
// # States (Kafka's TransactionMetadata)
//
//	state              written  from (validPrevious)              by
//	Empty              yes      Empty, CompleteCommit, CompleteAbort  InitProducerId (epoch bump, new producer id)
//	Ongoing            yes      Empty, Ongoing, Complete*           AddPartitionsToTxn, AddOffsetsToTxn
//	PrepareCommit      yes      Ongoing                             EndTxn(commit)
//	PrepareAbort       yes      Ongoing, PrepareEpochFence          EndTxn(abort), a fence, a timeout
//	CompleteCommit     yes      PrepareCommit                       every marker written
//	CompleteAbort      yes      PrepareAbort                        every marker written
//	PrepareEpochFence  never    Ongoing                             InitProducerId or a timeout during a
//	                                                                transaction: the bumped epoch goes
//	                                                                into the PrepareAbort
//	Dead               never    Empty, Complete*                    expiry: a tombstone is written
//
// A transition is prepared under the id's lock (its target becomes the
// pending state), written to the log with the lock released, and applied
// when the append returns; a request meeting a pending state gets
// CONCURRENT_TRANSACTIONS. While markers go out the Complete state is
// pending.
//
// # Records (part of the format: never change)
//
//	key (TransactionLogKey v0)        value (TransactionLogValue v0; nil: tombstone)
//	int16 0                           int16 0 (v1, flexible, is read too)
//	string transactional_id           int64 producer_id
//	                                  int16 producer_epoch
//	                                  int32 transaction_timeout_ms
//	                                  int8 transaction_status (the State numbers above)
//	                                  [string topic, [int32 partition]] partitions
//	                                      (null when Empty, empty when Complete*)
//	                                  int64 transaction_last_update_timestamp_ms
//	                                  int64 transaction_start_timestamp_ms (-1: none)
//
// Strings are int16-length-prefixed; the codecs are kmsg's (TxnMetadataKey,
// TxnMetadataValue), with a walk of a v1 value's tag sections before kmsg
// decodes it (its loops trust a tag count). Batches are uncompressed
// RecordBatch v2 with CreateTime timestamps and no producer, one record per
// transition; expiry writes a batch of tombstones.
//
// # Invariants
//
//  1. A transition is in the log before it is applied in memory or
//     answered; a failed append applies nothing (the pending state is
//     cleared, but for a completion that is written again).
//  2. Replaying a partition, the last record of an id winning and a
//     tombstone forgetting it, rebuilds what was applied (the last
//     producer id and epoch, which v0 records lack, are -1 after a load,
//     as in Kafka). Unreadable records are skipped, and so are records of
//     states Kafka never writes, so that garbage loses nothing written
//     before it.
//  3. Transactions loaded in PrepareCommit or PrepareAbort are completed
//     by the new coordinator: their markers are sent again, so a
//     coordinator failing over mid-commit finishes the commit.
//  4. Every marker carries the coordinator epoch of the partition as
//     loaded; markers of a partition given up, or loaded again at another
//     epoch, are dropped, and their answers ignored.
//  5. Nothing is appended for a partition once Unload returns: a
//     transition holds its partition's appendMu (read) from its checks to
//     its apply, and unload takes it (write). A reload so replays every
//     append of the leadership before it.
//  6. Markers follow leadership: partitions without a live leader, and
//     those answered with a retriable error, are routed again from the
//     metadata cache after RetryBackoff; a partition the cache no longer
//     has was deleted and needs none, once the cache has the cluster's
//     state (it knows __transaction_state: in cluster mode a broker just
//     started gets the LeaderAndIsr that loads the coordinator before the
//     UpdateMetadata that fills its cache).
//  7. An id whose transaction is not Ongoing, idle for
//     transactional.id.expiration.ms, is forgotten once its tombstone is
//     in the log; an Ongoing transaction older than its timeout is aborted
//     with the producer's epoch bumped, fencing the producer.
//
// # Locks
//
// In the order taken:
//
//  1. Coordinator.loadMu serializes Load and Unload.
//  2. Coordinator.mu (read-write) guards the partitions owned, whether the
//     coordinator is closed and the load statistics; it is released
//     before a partition's locks are taken.
//  3. partition.appendMu (read-write): see invariant 5. Held (read) across
//     appends to __transaction_state, which in cluster mode wait, at most
//     5 s, for the in-sync replicas.
//  4. partition.mu guards loading, unloaded and the map of ids.
//  5. txnMeta.mu guards one id's state; never held across an append.
//  6. markerChannel.mu guards the markers queued and the transactions
//     sending them; a leaf.
//
// The producer-id allocator (Config.ProducerIDs) is called under
// txnMeta.mu. Markers are sent with no lock held; a broker's queue is
// sent by one goroutine at a time, living while the queue has entries.
// Time is the time package's, so tests run the coordinator inside
// testing/synctest bubbles.
package txn
