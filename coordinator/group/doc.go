// Package group is the group coordinator: Kafka's classic consumer group
// protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and committed
// offsets (OffsetCommit, OffsetFetch, OffsetDelete), with ListGroups,
// DescribeGroups and DeleteGroups, behaving as Kafka 3.x's
// GroupCoordinator does. Durable state is records of the internal topic
// __consumer_offsets, in Kafka's schemas, so Kafka's tools can read it.
//
// The coordinator is keyed by partition of __consumer_offsets: a group
// lives in partition abs(javaHashCode(group)) % partitions (PartitionFor),
// and Load/Unload hand partitions to and from this broker.
//
// # Group states
//
//	Empty ──join──▶ PreparingRebalance ──all joined or rebalance timeout──▶ CompletingRebalance
//	  ▲                 ▲      │ (no member left: Empty)                        │ leader's SyncGroup
//	  │                 │      ▼                                                ▼ stored
//	  └── last leaves ──┴── member joins, leaves, expires, changes ◀──────── Stable
//	Dead: deleted, expired or unloaded; requests for it retry elsewhere.
//
// # Records (part of the format: never change)
//
//	key                                          value (nil: tombstone)
//	int16 1 | group | topic | int32 partition    OffsetCommitValue v3: int64 offset, int32 leader
//	  (OffsetCommitKey v1; v0 is read too)         epoch, string metadata, int64 commit timestamp
//	                                             (v1 with int64 expire timestamp for OffsetCommit
//	                                             v2-v4 commits with a retention time)
//	int16 2 | group (GroupMetadataKey v2)        GroupMetadataValue v3: protocol type, generation,
//	                                             protocol, leader, state timestamp, members (id,
//	                                             instance id, client id and host, timeouts,
//	                                             subscription, assignment)
//
// Strings are int16-length-prefixed; the schemas are kmsg's. Batches are
// uncompressed RecordBatch v2 with CreateTime timestamps and no producer,
// but for offsets committed inside a transaction (txn.go): a transactional
// batch of the producer, pending until its COMMIT or ABORT marker.
//
// # Invariants
//
//  1. A change to a group's durable state is in the log before it is
//     applied in memory or acknowledged: commits, the leader's assignment,
//     a static member's replacement, deletions and expiry. A failed append
//     changes nothing and is answered with an error.
//  2. One lock per group (group.mu) guards all of its state; records of a
//     group are appended with it held, so the log's order of a group's
//     records is the order they were applied in. Lock order: partition.mu,
//     then group.mu; timer callbacks take group.mu only.
//  3. Replaying a partition's records, the last record of a key winning and
//     tombstones removing keys, rebuilds what was acknowledged: committed
//     offsets, and each group as of its last stored generation (members
//     keep their ids and generation across a restart). Offsets of a
//     transactional batch stay pending until the producer's marker:
//     committed by COMMIT, dropped by ABORT, pending without one.
//  4. Requests for a partition that is loading get
//     COORDINATOR_LOAD_IN_PROGRESS (heartbeats succeed, syncs get
//     REBALANCE_IN_PROGRESS, as in Kafka).
//  5. A JoinGroup or SyncGroup that waits is answered exactly once: by the
//     rebalance, by a fencing or removal of its member, or with
//     NOT_COORDINATOR when the partition is unloaded or the connection ends.
//  6. Timers act only on the state they were set for: rebalance and sync
//     timers carry a sequence number, heartbeat timers re-check the
//     member's deadline and membership.
//
// # Locks
//
// In the order taken:
//
//  1. Coordinator.mu (read-write) guards the partitions owned, whether the
//     coordinator is closed, and the load statistics; it is released
//     before a partition's lock is taken.
//  2. partition.mu guards a partition's loading flag and its map of
//     groups.
//  3. group.mu guards everything of one group (invariant 2). It is held
//     across the append of the group's records, so under it the Log
//     implementation takes its own locks: through package replica, a
//     partition's state lock and the log's, and in cluster mode the
//     append waits (at most 5 s) for the in-sync replicas.
//
// Timers take group.mu alone (the load log line's timer, Coordinator.mu
// alone). Of other packages' locks only admin's Manager.mu is held when
// this package is called: a deleted topic's offsets are dropped under it
// (DeleteTopicOffsets).
package group
