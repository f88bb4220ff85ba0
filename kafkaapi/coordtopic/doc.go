// Package coordtopic is the broker's side of the coordinators' internal
// topics: __consumer_offsets of the group coordinator (package group) and
// __transaction_state of the transaction coordinator (package txn). It
// creates them on the first FindCoordinator of their kind, as Kafka does
// (on a standalone broker at once, its partitions led here; in cluster
// mode through the controller, COORDINATOR_NOT_AVAILABLE until their
// leaders are known), with Kafka's configs (offsets.topic.* and
// transaction.state.log.*), hands each partition this broker comes to lead
// to its coordinator, which replays it, and takes it back when the
// leadership ends. The coordinators write and replay their partitions
// through the logs it gives them, over package replica.
//
// Invariants:
//  1. A coordinator owns exactly the partitions of its topic this broker
//     leads, as the last LeaderAndIsr or StopReplica applied says
//     (standalone: all of them, at leader epoch 0).
//  2. The transaction coordinator loads a partition at the leader epoch
//     of the leadership that handed it over, its coordinator epoch; an
//     append through that log is refused once the leadership has another
//     epoch (NOT_LEADER_OR_FOLLOWER), and in cluster mode while the ISR is
//     below min.insync.replicas (NOT_ENOUGH_REPLICAS), or when it fell
//     below while the append waited for it (NOT_ENOUGH_REPLICAS_AFTER_APPEND).
//  3. An internal topic's replication factor, and __transaction_state's
//     min ISR, are capped at the live brokers on a standalone broker only;
//     in cluster mode the topic waits for enough brokers, as in Kafka.
//
// Locks: none of its own. Topic creation goes through package admin
// (admin.Manager.mu); the coordinators take theirs.
package coordtopic
