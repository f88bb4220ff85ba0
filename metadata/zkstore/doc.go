// Package zkstore is the metadata store of a broker in ZooKeeper mode:
// metadata.Store over Kafka's znodes (package kafkazk), as Kafka's
// AdminZkClient reads and writes them. Writes are what AdminZkClient
// writes (topic config then assignment, deletion markers, config change
// notifications, producer-id blocks); the controller turns them into
// partitions. Reads go to ZooKeeper: they serve admin requests and the
// first hosting of a partition, not the hot path, which reads the
// metadata cache. ACLStore (acls.go) is the authorizer's acl.Store over
// Kafka's /kafka-acl* znodes and the listener of their change
// notifications. UserStore (users.go) is the SCRAM credentials'
// sasl.CredentialStore over Kafka's /config/users znodes, with the config
// change notifications every broker follows.
//
// Invariants:
//  1. Every call is bounded: it runs under a context of the timeout given
//     to New (kafkazk retries a lost connection until then).
//  2. The store writes no partition state and nothing fenced by the
//     controller epoch: CreateTopic, MarkTopicForDeletion, AddPartitions
//     (conditional on the assignment's version), SetTopicConfig and the
//     producer-id block are kafkazk's admin writes; the controller writes
//     the rest.
//  3. ZooKeeper's answers map to the Store's errors: a topic that exists
//     is metadata.ErrTopicExists for CreateTopic, a missing one
//     metadata.ErrUnknownTopic for AddPartitions and SetTopicConfigs. A
//     producer-id block of another size than asked is an error.
//  4. A read that fails looks like an absence: Topic reports no topic and
//     Topics leaves out the topics it could not read (none at all when the
//     topic list could not be read), so a caller cannot tell a ZooKeeper
//     outage from a missing topic.
//  5. Close does nothing: the server owns the kafkazk.Client and closes
//     it.
//
// Locks: none in Store: its fields do not change after New, and the
// kafkazk.Client is safe for concurrent use. ACLStore.mu serializes the
// processing of change notifications; the authorizer's lock is taken
// under it (Refresh), never the other way. UserStore has no lock: its
// writes are conditional on the znode's version.
package zkstore
