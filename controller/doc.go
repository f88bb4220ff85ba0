// Package controller is the cluster controller of ZooKeeper mode (Kafka's
// KafkaController): one broker, elected through /controller, assigns
// leadership of every partition, and tells the brokers with LeaderAndIsr,
// UpdateMetadata and StopReplica (package kclient). Every broker runs a
// Controller; only the elected one is active.
//
// # Invariants
//
//  1. One goroutine makes every decision (Events); nothing else reads or
//     writes the controller's state.
//  2. Every ZooKeeper write is fenced by the controller epoch, and a
//     partition state is written only at the partition epoch read
//     (Fencing); a fenced write makes the controller resign.
//  3. A new leader is the first live in-sync replica in assignment order
//     that is not shutting down; a replica outside the ISR leads only
//     with unclean election enabled, and then the ISR is that leader
//     alone (Partition states).
//  4. The ISR never becomes empty: a follower that dies leaves it unless
//     it is the last member.
//  5. Every request to a broker carries the controller epoch and that
//     broker's epoch, and goes over the broker's one channel in the order
//     sent (Channels).
//  6. An event other than a broker's request whose ZooKeeper write
//     fails, or any event that panics, ends this controller's term; the
//     next term reads the cluster afresh. A broker's request whose write
//     fails is answered with the error (NOT_CONTROLLER when another
//     controller fenced it, and then this one resigns).
//
// # Events
//
// All decisions run on one goroutine, one event at a time (Kafka's
// ControllerEventManager). ZooKeeper watches (package kafkazk re-arms them
// and delivers the latest state), requests from brokers (ControlledShutdown,
// AlterPartition, ElectLeaders, AlterPartitionReassignments,
// ListPartitionReassignments) and the rebalance timer queue events;
// nothing else touches the controller's state. An event other than a
// broker's request whose ZooKeeper write fails leaves its work half done,
// so the controller resigns and a new term reads the cluster again (an
// event that panics does the same).
//
// # Partition states (Kafka's PartitionStateMachine)
//
//	state      meaning                                    znode state
//	---------  -----------------------------------------  --------------------------
//	New        assigned, no leadership decided yet        absent
//	Online     a live leader                              leader >= 0
//	Offline    no live leader                             leader -1 (or a dead one)
//	Deleting   its topic is being deleted                 removed when all replicas stopped
//
//	transition          when                                  writes (epoch+1 on every leader change)
//	------------------  ------------------------------------  --------------------------------------------
//	New -> Online       a replica is live                     create state: first live replica leads, ISR = live replicas
//	Online -> Online    leader dies / shuts down / preferred  leader = first live ISR member in assignment order
//	                    election / reassignment               not shutting down; ISR = live ISR members
//	Online -> Offline   leader dies, no live ISR member       leader -1, ISR keeps its last member
//	                    (unclean election off)
//	Offline -> Online   an ISR member returns (or any live    leader = it; unclean: ISR = [leader]
//	                    replica, with unclean election)
//	any -> Deleting     /admin/delete_topics/<t>              UpdateMetadata leader -2; StopReplica(delete)
//
// A follower that dies leaves the ISR (leader epoch + 1) unless it is the
// last member: the ISR never becomes empty, so the last in-sync replica is
// known when it returns. A replica its broker could not host (LeaderAndIsr
// answered KAFKA_STORAGE_ERROR) is offline until the broker registers
// again: treated as a dead broker's for that partition alone (offline.go).
// A new partition's UpdateMetadata waits until its replicas answered the
// LeaderAndIsr that created it (at most controller.socket.timeout.ms).
//
// # Requests to brokers
//
// An event's steps do not send: they add partitions to the event's batch
// (batch.go, Kafka's ControllerBrokerRequestBatch), and when the event ends
// each broker gets at most one LeaderAndIsr, one UpdateMetadata and one
// StopReplica (two: one stopping, one deleting) for it, built from the state
// the event left and queued in that order on the broker's channel
// (channel.go: one ordered queue per broker, retried until answered). A
// broker's request (ControlledShutdown, AlterPartition, ...) is answered
// once its requests are queued. With thousands of partitions, an event that
// changes all of them still costs each broker a few requests.
//
// # Fencing
//
// Every ZooKeeper write is fenced by the controller epoch's znode version
// (kafkazk: a deposed controller's write fails with ErrControllerMoved and
// the controller resigns); partition states are written conditionally on
// their version (the partition epoch). Every request to a broker carries
// the controller epoch and the target broker's epoch (the czxid of its
// registration), so a broker refuses requests of a deposed controller and
// requests meant for an earlier incarnation of itself. A broker applies a
// partition state only if its leader epoch is newer than the one it holds
// (or equal, with a newer partition epoch), so requests lost or repeated
// change nothing: the controller resends full state when it starts and
// when a broker (re)joins.
//
// # Channels
//
// Requests to a broker go through one channel per live broker (Kafka's
// ControllerChannelManager), in the order sent; a request that fails is
// retried with a growing pause until it is answered or the channel closes
// (the broker died or the controller resigned). Nothing is lost with a
// closed channel: a broker that returns gets a new one and the full state.
//
// # Testing
//
// The controller reaches ZooKeeper through Store (a *kafkazk.Client in
// production) and brokers through Conns that Config.Dial opens (kclient's
// by default). Its unit tests run it on an in-memory store with kafkazk's
// semantics (memstore_test.go) against fake brokers that record every
// request (fakebroker_test.go), inside testing/synctest bubbles: no
// process, no sleep, time under a fake clock. controller_test.go checks the
// znodes against a real ZooKeeper.
//
// # Locks
//
// The event loop's state has no lock: one goroutine owns it. Two leaves
// guard queues: Controller.qmu the event queue (any goroutine posts, the
// loop takes), and each channel's mu its requests not yet sent (the loop
// sends, the channel's goroutine takes). What a channel's goroutine makes
// of an answer it hands to the loop as an event (a StopReplica's outcome),
// holding no lock. The controller reaches ZooKeeper through Store and the
// brokers, its own included, through Kafka requests; of the broker it runs
// in it touches only what Config.OnControllerChange does on the loop (the
// server updates its metadata cache there).
package controller
