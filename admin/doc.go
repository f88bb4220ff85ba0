// Package admin is the topic administration of a broker (Kafka's
// AdminManager / ZkAdminManager): creating and deleting topics, adding
// partitions, changing topic configs, with Kafka's checks and errors.
// The CreateTopics, DeleteTopics, CreatePartitions and Alter*Configs
// handlers of package kafkaapi call it, and so does FindCoordinator when
// it creates __consumer_offsets.
//
// A standalone broker is its own controller: after the store it opens or
// drops the logs (package replica) and publishes the topic in the metadata
// cache. In ZooKeeper mode only the store is written (package zkstore: the
// topic and config znodes, deletion markers): the controller makes or
// removes the partitions, and brokers learn of them with LeaderAndIsr and
// UpdateMetadata.
//
// Invariants:
//  1. One change at a time: every operation holds Manager.mu from its
//     first check to its last write, so its checks see every earlier
//     change (two creations of one name cannot both pass).
//  2. Creation, new partitions and config changes write the metadata
//     store before anything else; a failed store write changes nothing
//     else. A standalone creation whose logs fail to open is rolled back
//     (logs dropped, store entry deleted) and answered
//     KAFKA_STORAGE_ERROR.
//  3. A standalone deletion stops serving first: the logs are deleted,
//     then the cache entry, then the store entry, and the deleted
//     callback then drops the topic's committed offsets (as Kafka does, so
//     a new topic of the name starts with none).
//  4. validateOnly runs every check of the operation and writes nothing.
//  5. Errors carry Kafka's codes and messages (internal/apierr): a name
//     taken (TOPIC_ALREADY_EXISTS) or colliding with another once '.' and
//     '_' are equated (INVALID_TOPIC_EXCEPTION), counts out of range
//     (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR), assignments naming
//     brokers that are not live (INVALID_REPLICA_ASSIGNMENT), configs
//     config.TopicConfig.With refuses (INVALID_CONFIG). Standalone, this
//     broker is the only replica: a replication factor above 1, or an
//     assignment naming another broker, is refused.
//  6. A config change is applied at once to this broker's logs of the
//     topic, if it hosts them; other brokers apply it when ZooKeeper
//     announces the change.
//
// Locks: Manager.mu is taken before every other lock the operation takes:
// the store's, the metadata cache's, the replica manager's and the log
// directory's, and through the deleted callback the group coordinator's
// (docs/architecture.md).
package admin
