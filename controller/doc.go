// Package controller is the cluster controller of ZooKeeper mode (Kafka's
// KafkaController): one broker, elected through /controller, assigns
// leadership of every partition, and tells the brokers with LeaderAndIsr,
// UpdateMetadata and StopReplica (package kclient). Every broker runs a
// Controller; only the elected one is active.
//
// # Events
//
// All decisions run on one goroutine, one event at a time (Kafka's
// ControllerEventManager). ZooKeeper watches (package kafkazk re-arms them
// and delivers the latest state), requests from brokers (ControlledShutdown,
// AlterPartition, ElectLeaders) and timers queue events; nothing else
// touches the controller's state.
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
// partition state only if its leader epoch is newer than the one it holds,
// so requests lost or repeated change nothing: the controller resends full
// state when it starts and when a broker (re)joins.
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
package controller
