package config

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"time"
)

// defs is the one table of configuration keys, broker and topic: the
// properties parser, validation, DescribeConfigs, CreateTopics' returned
// configs, the Alter*Configs checks and docs/configuration.md all read it.
// Each key names the typed field it sets (brokerField, topicField), so a
// key is never looked up by a string that could be misspelt; register
// checks the table when the package initialises and panics on a key
// defined twice, a reference to a key that does not exist, or a default
// that does not parse.
//
// Defaults, types, ranges and wording follow Kafka 3.x (ZooKeeper mode)
// unless the Doc says otherwise.
var defs = append([]*Def{
	// The broker and its listeners.
	{Name: "broker.id", Default: "0", Doc: "The broker's ID. It must not exceed reserved.broker.max.id while broker.id.generation.enable is true.",
		bind: brokerField(intIn[int32](TypeInt, 0, math.MaxInt32), func(c *Config) *int32 { return &c.BrokerID })},
	{Name: "node.id", Alias: "broker.id", Doc: "The broker's ID (alias of broker.id, which wins when both are set).",
		bind: brokerField(intIn[int32](TypeInt, 0, math.MaxInt32), func(c *Config) *int32 { return &c.BrokerID })},
	{Name: "log.dirs", Default: "./data", Doc: "The directory holding the logs and the metadata (one directory).",
		bind: custom(TypeString, "one directory", setLogDirs, func(c *Config) *string { return nullable(strings.Join(c.LogDirs, ",")) })},
	{Name: "log.dir", Alias: "log.dirs", Doc: "The log directory (alias of log.dirs, which wins when both are set).",
		bind: custom(TypeString, "one directory", setLogDirs, func(c *Config) *string { return nullable(strings.Join(c.LogDirs, ",")) })},
	{Name: "admin.listener", Default: "127.0.0.1:9644", Doc: "host:port of the HTTP admin listener (/metrics, /healthz, /livez, /debug/pprof/); empty disables it. Samsa's own key.",
		bind: brokerField(text("host:port or empty", checkHostPort), func(c *Config) *string { return &c.AdminListener })},
	{Name: "log.format", Default: "text", Doc: "Format of the broker's log on standard error: text (key=value pairs) or json (one JSON object a line). Samsa's own key.",
		bind: brokerField(oneOf("text", "json"), func(c *Config) *string { return &c.LogFormat })},

	// Topics.
	{Name: "num.partitions", Default: "1", Doc: "Partitions of a topic created without a count.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.NumPartitions })},
	{Name: "default.replication.factor", Default: "1", Doc: "Replication factor of a topic created without one.",
		bind: brokerField(atLeast[int16](TypeInt, 1), func(c *Config) *int16 { return &c.DefaultReplication })},
	{Name: "auto.create.topics.enable", Default: "true", Doc: "Whether Metadata requests create unknown topics.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.AutoCreateTopics })},
	{Name: "delete.topic.enable", Default: "true", Doc: "Whether DeleteTopics may delete topics.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.DeleteTopicEnable })},

	// Connections.
	{Name: "socket.request.max.bytes", Default: "104857600", Doc: "Largest request the broker reads.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.SocketRequestMaxBytes })},
	{Name: "connections.max.idle.ms", Default: "600000", Doc: "Idle time after which a connection is closed.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.ConnectionsMaxIdle })},
	{Name: "max.connections", Default: "2147483647", Doc: "Most connections the broker accepts at once.",
		bind: brokerField(atLeast[int](TypeInt, 1), func(c *Config) *int { return &c.MaxConnections })},
	{Name: "max.connections.per.ip", Default: "2147483647", Doc: "Most connections the broker accepts at once from one address; 0 only with overrides.",
		bind: brokerField(atLeast[int](TypeInt, 0), func(c *Config) *int { return &c.MaxConnectionsPerIP })},
	{Name: "max.connections.per.ip.overrides", Doc: "Per-address exceptions to max.connections.per.ip: host:limit or ip:limit, comma-separated. Host names are resolved when the broker starts.",
		bind: custom(TypeString, "host:limit,ip:limit,...", setConnectionsPerIPOverrides, func(c *Config) *string { return nullable(c.connectionsPerIPText) })},
	{Name: "max.incremental.fetch.session.cache.slots", Default: "1000", Doc: "Most fetch sessions (KIP-227) kept at once; 0 turns them off.",
		bind: brokerField(atLeast[int](TypeInt, 0), func(c *Config) *int { return &c.FetchSessionSlots })},

	// The log manager.
	{Name: "log.retention.check.interval.ms", Default: "300000", Doc: "Interval between retention passes.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.RetentionCheckInterval })},
	{Name: "log.flush.scheduler.interval.ms", Default: "1000", Doc: "Interval between checks for logs due an fsync.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.FlushCheckInterval })},
	{Name: "log.flush.offset.checkpoint.interval.ms", Default: "60000", Doc: "Interval between writes of the recovery-point and log-start-offset checkpoints.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.FlushCheckpointInterval })},
	{Name: "producer.id.expiration.ms", Default: "86400000", Doc: "Time after which a producer with no appends to a partition is forgotten there.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ProducerIDExpiration })},
	{Name: "producer.id.expiration.check.interval.ms", Default: "600000", Doc: "How often idle producers are expired.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ProducerIDExpirationCheck })},

	// The group coordinator, __consumer_offsets and the log cleaner.
	{Name: "offsets.topic.num.partitions", Default: "50", Doc: "Partitions of __consumer_offsets.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.OffsetsTopicNumPartitions })},
	{Name: "offsets.topic.replication.factor", Default: "3", Doc: "Replication factor of __consumer_offsets when it is created. In ZooKeeper mode, as in Kafka, it is not created until this many brokers are alive. A standalone broker caps it at the brokers alive (1), so the default works there.",
		bind: brokerField(atLeast[int16](TypeShort, 1), func(c *Config) *int16 { return &c.OffsetsTopicReplicationFactor })},
	{Name: "offsets.topic.segment.bytes", Default: "104857600", Doc: "Segment size of __consumer_offsets when it is created.",
		bind: brokerField(atLeast[int64](TypeInt, 1), func(c *Config) *int64 { return &c.Groups.OffsetsTopicSegmentBytes })},
	{Name: "offsets.retention.minutes", Default: "10080", Doc: "How long the offsets of a group without members (or of a topic its members no longer read) are kept.",
		bind: brokerField(duration(TypeInt, time.Minute, 1), func(c *Config) *time.Duration { return &c.Groups.OffsetsRetention })},
	{Name: "offsets.retention.check.interval.ms", Default: "600000", Doc: "How often expired offsets are looked for.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.Groups.OffsetsRetentionCheck })},
	{Name: "offset.metadata.max.bytes", Default: "4096", Doc: "Largest metadata string of a committed offset.",
		bind: brokerField(atLeast[int](TypeInt, 0), func(c *Config) *int { return &c.Groups.OffsetMetadataMaxBytes })},
	{Name: "group.min.session.timeout.ms", Default: "6000", Doc: "Smallest session timeout a group member may ask for.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Groups.MinSessionTimeout })},
	{Name: "group.max.session.timeout.ms", Default: "1800000", Doc: "Largest session timeout a group member may ask for.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Groups.MaxSessionTimeout })},
	{Name: "group.initial.rebalance.delay.ms", Default: "3000", Doc: "How long the first rebalance of an empty group waits for more members.",
		bind: brokerField(ms(TypeInt, 0), func(c *Config) *time.Duration { return &c.Groups.InitialRebalanceDelay })},
	{Name: "group.max.size", Default: "2147483647", Doc: "Most members a group may have.",
		bind: brokerField(atLeast[int](TypeInt, 1), func(c *Config) *int { return &c.Groups.MaxSize })},
	{Name: "log.cleaner.enable", Default: "true", Doc: "Whether topics with cleanup.policy=compact are compacted.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.Cleaner.Enable })},
	{Name: "log.cleaner.backoff.ms", Default: "15000", Doc: "Interval between the log cleaner's passes.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.Cleaner.Backoff })},
	{Name: "log.cleaner.dedupe.buffer.size", Default: "134217728", Doc: "Memory for the log cleaner's key map (24 bytes per key): a compaction that fills it cleans up to where it stopped and the next goes on.",
		bind: brokerField(atLeast[int64](TypeLong, 24), func(c *Config) *int64 { return &c.Cleaner.DedupeBufferSize })},

	// The transaction coordinator and __transaction_state.
	{Name: "transaction.state.log.num.partitions", Default: "50", Doc: "Partitions of __transaction_state.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.Txn.NumPartitions })},
	{Name: "transaction.state.log.replication.factor", Default: "3", Doc: "Replication factor of __transaction_state when it is created. In ZooKeeper mode, as in Kafka, it is not created until this many brokers are alive. A standalone broker caps it at the brokers alive (1), so the default works there.",
		bind: brokerField(atLeast[int16](TypeShort, 1), func(c *Config) *int16 { return &c.TransactionStateLogReplicationFactor })},
	{Name: "transaction.state.log.min.isr", Default: "2", Doc: "min.insync.replicas of __transaction_state when it is created (capped at its replication factor, so 1 on a standalone broker).",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.Txn.MinISR })},
	{Name: "transaction.state.log.segment.bytes", Default: "104857600", Doc: "Segment size of __transaction_state when it is created.",
		bind: brokerField(atLeast[int64](TypeInt, 1), func(c *Config) *int64 { return &c.Txn.SegmentBytes })},
	{Name: "transaction.state.log.load.buffer.size", Default: "5242880", Doc: "Bytes read at a time when a partition of __transaction_state is loaded.",
		bind: brokerField(atLeast[int](TypeInt, 1), func(c *Config) *int { return &c.Txn.LoadBufferSize })},
	{Name: "transaction.max.timeout.ms", Default: "900000", Doc: "Largest transaction timeout a producer may ask for; InitProducerId with more gets INVALID_TRANSACTION_TIMEOUT.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Txn.MaxTimeout })},
	{Name: "transactional.id.expiration.ms", Default: "604800000", Doc: "Time after which a transactional id with no transaction in progress and no update is forgotten.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Txn.IDExpiration })},
	{Name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", Default: "10000", Doc: "How often transactions open longer than their timeout are aborted.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Txn.AbortInterval })},
	{Name: "transaction.remove.expired.transaction.cleanup.interval.ms", Default: "3600000", Doc: "How often expired transactional ids are removed.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.Txn.RemoveInterval })},
	{Name: "transaction.partition.verification.enable", Default: "true", Doc: "Whether the leaders ask the coordinator, before appending a producer's first transactional batch to a partition, that the partition is in its ongoing transaction (KIP-890); refused batches get INVALID_TXN_STATE. Static here (dynamic in Kafka).",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.Txn.PartitionVerification })},

	// Broker defaults of topic keys: the broker key sets the topic key's
	// default, in the unit of Scale (DescribeConfigs derives the coarser
	// ones from the millisecond value).
	{Name: "log.segment.bytes", TopicKey: KeySegmentBytes, Scale: 1},
	{Name: "log.roll.ms", TopicKey: KeySegmentMs, Scale: 1},
	{Name: "log.roll.hours", TopicKey: KeySegmentMs, Scale: hour, Type: TypeInt},
	{Name: "log.retention.ms", TopicKey: KeyRetentionMs, Scale: 1},
	{Name: "log.retention.minutes", TopicKey: KeyRetentionMs, Scale: minute, Type: TypeInt},
	{Name: "log.retention.hours", TopicKey: KeyRetentionMs, Scale: hour, Type: TypeInt},
	{Name: "log.retention.bytes", TopicKey: KeyRetentionBytes, Scale: 1},
	{Name: "log.index.interval.bytes", TopicKey: KeyIndexIntervalBytes, Scale: 1},
	{Name: "log.index.size.max.bytes", TopicKey: KeySegmentIndexBytes, Scale: 1},
	{Name: "log.flush.interval.messages", TopicKey: KeyFlushMessages, Scale: 1},
	{Name: "log.flush.interval.ms", TopicKey: KeyFlushMs, Scale: 1},
	{Name: "message.max.bytes", TopicKey: KeyMaxMessageBytes, Scale: 1},
	{Name: "compression.type", TopicKey: KeyCompressionType, Scale: 1},
	{Name: "log.cleanup.policy", TopicKey: KeyCleanupPolicy, Scale: 1},
	{Name: "log.message.timestamp.type", TopicKey: KeyMessageTimestampType, Scale: 1},
	{Name: "log.message.timestamp.difference.max.ms", TopicKey: KeyMessageTimestampDifferenceMaxMs, Scale: 1},
	{Name: "min.insync.replicas", TopicKey: KeyMinInSyncReplicas, Scale: 1},
	{Name: "log.cleaner.delete.retention.ms", TopicKey: KeyDeleteRetentionMs, Scale: 1},
	{Name: "log.cleaner.min.cleanable.ratio", TopicKey: KeyMinCleanableDirtyRatio, Scale: 1},
	{Name: "log.cleaner.min.compaction.lag.ms", TopicKey: KeyMinCompactionLagMs, Scale: 1},
	{Name: "log.cleaner.max.compaction.lag.ms", TopicKey: KeyMaxCompactionLagMs, Scale: 1},
	{Name: "unclean.leader.election.enable", TopicKey: KeyUncleanLeaderElectionEnable, Scale: 1, ZooKeeper: true},

	// ZooKeeper mode and replication, for the cluster stage.
	{Name: "zookeeper.connect", ZooKeeper: true, Doc: "ZooKeeper connection string, host:port[,host:port...][/chroot]; unset for a standalone broker. The chroot is created if it is missing.",
		bind: brokerField(text("host:port[,host:port...][/chroot]", nil), func(c *Config) *string { return &c.ZookeeperConnect })},
	{Name: "zookeeper.session.timeout.ms", Default: "18000", ZooKeeper: true, Doc: "ZooKeeper session timeout: a broker silent this long loses its registration and its leaderships.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ZookeeperSessionTimeout })},
	{Name: "zookeeper.connection.timeout.ms", DefaultFrom: "zookeeper.session.timeout.ms", ZooKeeper: true, Doc: "Longest wait for a connection to ZooKeeper; zookeeper.session.timeout.ms when unset.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ZookeeperConnectionTimeout })},
	{Name: "zookeeper.set.acl", Default: "false", ZooKeeper: true, Doc: "Whether the broker creates its znodes with secure ACLs, as Kafka's: all permissions to the broker's ZooKeeper identity, read to everyone, and no read under /config/users, /config/brokers and /delegation_tokens. The identity is the digest credentials of java.security.auth.login.config or the client certificate of zookeeper.ssl.keystore.location; without either the broker refuses to start. Every broker must have the same identity. Znodes created before keep their ACLs.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ZookeeperSetACL })},
	{Name: "broker.id.generation.enable", Default: "true", ZooKeeper: true, Doc: "Whether a broker without broker.id gets one generated above reserved.broker.max.id. Samsa's broker.id defaults to 0, so it is never generated yet; while true, broker.id must not exceed reserved.broker.max.id, as in Kafka.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.BrokerIDGenerationEnable })},
	{Name: "reserved.broker.max.id", Default: "1000", ZooKeeper: true, Doc: "Largest broker.id that may be configured; generated IDs are above it.",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.ReservedBrokerMaxID })},
	{Name: "broker.rack", ZooKeeper: true, Doc: "Rack of the broker, for rack-aware replica assignment (RACK1, us-east-1d).",
		bind: brokerField(text("any string", nil), func(c *Config) *string { return &c.BrokerRack })},
	{Name: "controlled.shutdown.enable", Default: "true", ZooKeeper: true, Doc: "Whether a broker shutting down first asks the controller to move its leaderships elsewhere.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ControlledShutdownEnable })},
	{Name: "controlled.shutdown.max.retries", Default: "3", ZooKeeper: true, Doc: "Attempts at a controlled shutdown before the broker shuts down uncontrolled.",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.ControlledShutdownMaxRetries })},
	{Name: "controlled.shutdown.retry.backoff.ms", Default: "5000", ZooKeeper: true, Doc: "Wait between attempts at a controlled shutdown.",
		bind: brokerField(ms(TypeLong, 0), func(c *Config) *time.Duration { return &c.ControlledShutdownRetryBackoff })},
	{Name: "auto.leader.rebalance.enable", Default: "true", ZooKeeper: true, Doc: "Whether the controller moves leaderships back to preferred replicas when a broker's imbalance exceeds leader.imbalance.per.broker.percentage, checked every leader.imbalance.check.interval.seconds.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.AutoLeaderRebalanceEnable })},
	{Name: "leader.imbalance.check.interval.seconds", Default: "300", ZooKeeper: true, Doc: "Interval between the controller's checks of leader imbalance.",
		bind: brokerField(duration(TypeLong, time.Second, 1), func(c *Config) *time.Duration { return &c.LeaderImbalanceCheckInterval })},
	{Name: "leader.imbalance.per.broker.percentage", Default: "10", ZooKeeper: true, Doc: "Percentage of a broker's partitions led by other than their preferred replica above which the controller rebalances.",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.LeaderImbalancePerBrokerPercentage })},
	{Name: "num.replica.fetchers", Default: "1", ZooKeeper: true, Doc: "Fetcher threads (goroutines) per source broker replicating partitions led there.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.NumReplicaFetchers })},
	{Name: "replica.fetch.max.bytes", Default: "1048576", ZooKeeper: true, Doc: "Bytes a follower asks for per partition in a fetch; a larger first batch is still returned (KIP-74).",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.ReplicaFetchMaxBytes })},
	{Name: "replica.fetch.response.max.bytes", Default: "10485760", ZooKeeper: true, Doc: "Bytes a follower asks for in a whole fetch response; a larger first batch is still returned (KIP-74).",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.ReplicaFetchResponseMaxBytes })},
	{Name: "replica.fetch.wait.max.ms", Default: "500", ZooKeeper: true, Doc: "Longest a follower's fetch waits at the leader for replica.fetch.min.bytes; at most replica.socket.timeout.ms and replica.lag.time.max.ms.",
		bind: brokerField(ms(TypeInt, 0), func(c *Config) *time.Duration { return &c.ReplicaFetchWaitMax })},
	{Name: "replica.fetch.min.bytes", Default: "1", ZooKeeper: true, Doc: "Bytes a follower's fetch waits for at the leader, up to replica.fetch.wait.max.ms.",
		bind: brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.ReplicaFetchMinBytes })},
	{Name: "replica.fetch.backoff.ms", Default: "1000", ZooKeeper: true, Doc: "Wait before a follower fetches again after a fetch failed.",
		bind: brokerField(ms(TypeInt, 0), func(c *Config) *time.Duration { return &c.ReplicaFetchBackoff })},
	{Name: "replica.lag.time.max.ms", Default: "30000", ZooKeeper: true, Doc: "A follower that has not fetched, or not caught up to the leader's end, for this long leaves the in-sync replicas.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.ReplicaLagTimeMax })},
	{Name: "replica.socket.timeout.ms", Default: "30000", ZooKeeper: true, Doc: "Network timeout of a follower's requests to the leader; at least replica.fetch.wait.max.ms.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ReplicaSocketTimeout })},
	{Name: "replica.high.watermark.checkpoint.interval.ms", Default: "5000", ZooKeeper: true, Doc: "Interval between writes of the high watermarks to replication-offset-checkpoint.",
		bind: brokerField(ms(TypeLong, 1), func(c *Config) *time.Duration { return &c.ReplicaHighWatermarkCheckpoint })},
	{Name: "controller.socket.timeout.ms", Default: "30000", ZooKeeper: true, Doc: "Network timeout of the controller's requests to brokers.",
		bind: brokerField(ms(TypeInt, 1), func(c *Config) *time.Duration { return &c.ControllerSocketTimeout })},
	{Name: "leader.replication.throttled.rate", Default: "9223372036854775807", ZooKeeper: true, Doc: "Bytes per second this broker sends to followers of the replicas listed in a topic's leader.replication.throttled.replicas.",
		bind: brokerField(atLeast[int64](TypeLong, 0), func(c *Config) *int64 { return &c.LeaderReplicationThrottledRate })},
	{Name: "follower.replication.throttled.rate", Default: "9223372036854775807", ZooKeeper: true, Doc: "Bytes per second this broker fetches as a follower of the replicas listed in a topic's follower.replication.throttled.replicas.",
		bind: brokerField(atLeast[int64](TypeLong, 0), func(c *Config) *int64 { return &c.FollowerReplicationThrottledRate })},

	// Authorization (package security/acl): ACLs as Kafka's AclAuthorizer
	// keeps them in ZooKeeper mode.
	{Name: "authorizer.class.name", Doc: "The authorizer: kafka.security.authorizer.AclAuthorizer (or its old name kafka.security.auth.SimpleAclAuthorizer) checks every request against the ACLs, kept where Kafka keeps them (ZooKeeper's /kafka-acl znodes; the metadata file of a standalone broker). Empty: no authorization, every request is allowed.",
		bind: brokerField(text(strings.Join(AuthorizerClassNames, ", ")+" or empty", checkAuthorizer), func(c *Config) *string { return &c.AuthorizerClassName })},
	{Name: "super.users", Doc: "Principals allowed everything whatever the ACLs, separated by semicolons: User:admin;User:ANONYMOUS. Read by the authorizer.",
		bind: brokerField(text("principal;principal;...", checkSuperUsers), func(c *Config) *string { return &c.SuperUsers })},
	{Name: "allow.everyone.if.no.acl.found", Default: "false", Doc: "Whether the authorizer allows everyone on a resource that no ACL applies to.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.AllowEveryoneIfNoACLFound })},

	// Topic keys. BrokerKey names the broker key setting the default.
	{Scope: ScopeTopic, Name: KeyCleanupPolicy, Default: "delete", BrokerKey: "log.cleanup.policy",
		Doc:  "Retention policy of old segments: delete (retention.ms, retention.bytes), compact (keep the latest record of each key), or both.",
		bind: topicField(cleanupPolicy, func(t *TopicConfig) *CleanupPolicy { return &t.CleanupPolicy })},
	{Scope: ScopeTopic, Name: KeyCompressionType, Default: "producer", BrokerKey: "compression.type",
		Doc:  "Codec batches are stored with; producer keeps what the producer sent, any other recompresses batches sent with another codec.",
		bind: topicField(compressionType, func(t *TopicConfig) *CompressionType { return &t.CompressionType })},
	{Scope: ScopeTopic, Name: KeyDeleteRetentionMs, Default: "86400000", BrokerKey: "log.cleaner.delete.retention.ms",
		Doc:  "How long tombstones are kept in compacted topics.",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.DeleteRetentionMs })},
	{Scope: ScopeTopic, Name: KeyFileDeleteDelayMs, Default: "60000",
		Doc:  "Time before a deleted segment's files are removed.",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.FileDeleteDelayMs })},
	{Scope: ScopeTopic, Name: KeyFlushMessages, Default: "9223372036854775807", BrokerKey: "log.flush.interval.messages",
		Doc:  "Records appended before an fsync of the log.",
		bind: topicField(atLeast[int64](TypeLong, 1), func(t *TopicConfig) *int64 { return &t.FlushMessages })},
	{Scope: ScopeTopic, Name: KeyFlushMs, Default: "9223372036854775807", BrokerKey: "log.flush.interval.ms",
		Doc:  "Milliseconds between fsyncs of the log.",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.FlushMs })},
	{Scope: ScopeTopic, Name: KeyFollowerReplicationThrottledReplicas, ZooKeeper: true,
		Doc:  "Replicas whose replication is throttled on the follower side (follower.replication.throttled.rate): partition:broker pairs, or * for all of the topic's.",
		bind: topicField(throttledReplicas, func(t *TopicConfig) *ThrottledReplicas { return &t.FollowerReplicationThrottledReplicas })},
	{Scope: ScopeTopic, Name: KeyIndexIntervalBytes, Default: "4096", BrokerKey: "log.index.interval.bytes",
		Doc:  "Log bytes between two offset index entries.",
		bind: topicField(atLeast[int32](TypeInt, 0), func(t *TopicConfig) *int32 { return &t.IndexIntervalBytes })},
	{Scope: ScopeTopic, Name: KeyLeaderReplicationThrottledReplicas, ZooKeeper: true,
		Doc:  "Replicas whose replication is throttled on the leader side (leader.replication.throttled.rate): partition:broker pairs, or * for all of the topic's.",
		bind: topicField(throttledReplicas, func(t *TopicConfig) *ThrottledReplicas { return &t.LeaderReplicationThrottledReplicas })},
	{Scope: ScopeTopic, Name: KeyMaxCompactionLagMs, Default: "9223372036854775807", BrokerKey: "log.cleaner.max.compaction.lag.ms",
		Doc:  "Maximum time a record stays ineligible for compaction: a compacted log whose oldest dirty record is older is cleaned whatever its dirty ratio.",
		bind: topicField(atLeast[int64](TypeLong, 1), func(t *TopicConfig) *int64 { return &t.MaxCompactionLagMs })},
	{Scope: ScopeTopic, Name: KeyMaxMessageBytes, Default: "1048588", BrokerKey: "message.max.bytes",
		Doc:  "Largest record batch the topic accepts.",
		bind: topicField(atLeast[int32](TypeInt, 0), func(t *TopicConfig) *int32 { return &t.MaxMessageBytes })},
	{Scope: ScopeTopic, Name: KeyMessageTimestampDifferenceMaxMs, Default: "9223372036854775807", BrokerKey: "log.message.timestamp.difference.max.ms",
		Doc:  "Largest allowed difference between a CreateTime timestamp and the broker's clock.",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.TimestampDifferenceMaxMs })},
	{Scope: ScopeTopic, Name: KeyMessageTimestampType, Default: "CreateTime", BrokerKey: "log.message.timestamp.type",
		Doc:  "Whether record timestamps are the producer's or the broker's append time.",
		bind: topicField(timestampType, func(t *TopicConfig) *TimestampType { return &t.MessageTimestampType })},
	{Scope: ScopeTopic, Name: KeyMinCleanableDirtyRatio, Default: "0.5", BrokerKey: "log.cleaner.min.cleanable.ratio",
		Doc:  "Dirty ratio that makes a compacted log eligible for cleaning.",
		bind: topicField(doubleIn(0, 1), func(t *TopicConfig) *float64 { return &t.MinCleanableDirtyRatio })},
	{Scope: ScopeTopic, Name: KeyMinCompactionLagMs, Default: "0", BrokerKey: "log.cleaner.min.compaction.lag.ms",
		Doc:  "Minimum age of a record before it can be compacted.",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.MinCompactionLagMs })},
	{Scope: ScopeTopic, Name: KeyMinInSyncReplicas, Default: "1", BrokerKey: "min.insync.replicas",
		Doc:  "In-sync replicas needed for an acks=all write.",
		bind: topicField(atLeast[int32](TypeInt, 1), func(t *TopicConfig) *int32 { return &t.MinInSyncReplicas })},
	{Scope: ScopeTopic, Name: KeyPreallocate, Default: "false",
		Doc:  "Preallocate segment files (not used: segments grow as written).",
		bind: topicField(boolean, func(t *TopicConfig) *bool { return &t.Preallocate })},
	{Scope: ScopeTopic, Name: KeyRetentionBytes, Default: "-1", BrokerKey: "log.retention.bytes",
		Doc:  "Largest size of a partition's log before old segments are deleted; -1 for no limit.",
		bind: topicField(atLeast[int64](TypeLong, -1), func(t *TopicConfig) *int64 { return &t.RetentionBytes })},
	{Scope: ScopeTopic, Name: KeyRetentionMs, Default: "604800000", BrokerKey: "log.retention.ms",
		Doc:  "How long records are kept; -1 for no limit.",
		bind: topicField(atLeast[int64](TypeLong, -1), func(t *TopicConfig) *int64 { return &t.RetentionMs })},
	{Scope: ScopeTopic, Name: KeySegmentBytes, Default: "1073741824", BrokerKey: "log.segment.bytes",
		Doc:  "Size at which a segment rolls.",
		bind: topicField(atLeast[int32](TypeInt, 14), func(t *TopicConfig) *int32 { return &t.SegmentBytes })},
	{Scope: ScopeTopic, Name: KeySegmentIndexBytes, Default: "10485760", BrokerKey: "log.index.size.max.bytes",
		Doc:  "Size of each segment's preallocated index files.",
		bind: topicField(atLeast[int32](TypeInt, 12), func(t *TopicConfig) *int32 { return &t.SegmentIndexBytes })},
	{Scope: ScopeTopic, Name: KeySegmentJitterMs, Default: "0",
		Doc:  "Random jitter subtracted from segment.ms (not used).",
		bind: topicField(atLeast[int64](TypeLong, 0), func(t *TopicConfig) *int64 { return &t.SegmentJitterMs })},
	{Scope: ScopeTopic, Name: KeySegmentMs, Default: "604800000", BrokerKey: "log.roll.ms",
		Doc:  "Age at which a segment rolls.",
		bind: topicField(atLeast[int64](TypeLong, 1), func(t *TopicConfig) *int64 { return &t.SegmentMs })},
	{Scope: ScopeTopic, Name: KeyUncleanLeaderElectionEnable, Default: "false", BrokerKey: "unclean.leader.election.enable", ZooKeeper: true,
		Doc:  "Whether a replica out of the in-sync set may become leader when no in-sync replica is alive, losing the records it lacks.",
		bind: topicField(boolean, func(t *TopicConfig) *bool { return &t.UncleanLeaderElection })},
}, slices.Concat(securityDefs, saslDefs, zookeeperDefs)...)

// The topic keys, for code that builds a topic's overrides (the table
// defines each with its constant).
const (
	KeyCleanupPolicy                        = "cleanup.policy"
	KeyCompressionType                      = "compression.type"
	KeyDeleteRetentionMs                    = "delete.retention.ms"
	KeyFileDeleteDelayMs                    = "file.delete.delay.ms"
	KeyFlushMessages                        = "flush.messages"
	KeyFlushMs                              = "flush.ms"
	KeyFollowerReplicationThrottledReplicas = "follower.replication.throttled.replicas"
	KeyIndexIntervalBytes                   = "index.interval.bytes"
	KeyLeaderReplicationThrottledReplicas   = "leader.replication.throttled.replicas"
	KeyMaxCompactionLagMs                   = "max.compaction.lag.ms"
	KeyMaxMessageBytes                      = "max.message.bytes"
	KeyMessageTimestampDifferenceMaxMs      = "message.timestamp.difference.max.ms"
	KeyMessageTimestampType                 = "message.timestamp.type"
	KeyMinCleanableDirtyRatio               = "min.cleanable.dirty.ratio"
	KeyMinCompactionLagMs                   = "min.compaction.lag.ms"
	KeyMinInSyncReplicas                    = "min.insync.replicas"
	KeyPreallocate                          = "preallocate"
	KeyRetentionBytes                       = "retention.bytes"
	KeyRetentionMs                          = "retention.ms"
	KeySegmentBytes                         = "segment.bytes"
	KeySegmentIndexBytes                    = "segment.index.bytes"
	KeySegmentJitterMs                      = "segment.jitter.ms"
	KeySegmentMs                            = "segment.ms"
	KeyUncleanLeaderElectionEnable          = "unclean.leader.election.enable"
)

const (
	minute = int64(time.Minute / time.Millisecond)
	hour   = int64(time.Hour / time.Millisecond)
)

// ignoredKeys are Kafka broker keys the broker accepts without a warning
// and without effect, with the reason the reference page gives.
var ignoredKeys = map[string]string{
	"num.network.threads":                    "the Go runtime schedules connections: there is no thread pool to size",
	"num.io.threads":                         "the Go runtime schedules requests: there is no thread pool to size",
	"socket.send.buffer.bytes":               "the operating system's socket buffer sizes apply",
	"socket.receive.buffer.bytes":            "the operating system's socket buffer sizes apply",
	"num.recovery.threads.per.data.dir":      "there is no thread pool to size",
	"log.retention.check.interval.ms.jitter": "not a Kafka key; accepted because earlier Samsa configurations carried it",
	"offsets.topic.compression.codec":        "the coordinator writes uncompressed batches",
	"offsets.commit.timeout.ms":              "the coordinator writes to its single-replica log",
	"offsets.commit.required.acks":           "the coordinator writes to its single-replica log",
	"offsets.load.buffer.size":               "no effect here",
	"log.cleaner.threads":                    "the cleaner is one goroutine",
	"log.cleaner.io.buffer.size":             "no effect here",
	"log.cleaner.io.buffer.load.factor":      "no effect here",
	"log.cleaner.io.max.bytes.per.second":    "the cleaner is not throttled",
	"group.coordinator.rebalance.protocols":  "only the classic rebalance protocol is served",
	"group.coordinator.new.enable":           "only the classic rebalance protocol is served",
}

func checkHostPort(v string) error {
	if v == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("want host:port")
	}
	return nil
}

func setLogDirs(c *Config, v string) error {
	c.LogDirs = nil
	for _, d := range strings.Split(v, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.LogDirs = append(c.LogDirs, d)
		}
	}
	if len(c.LogDirs) == 0 {
		return fmt.Errorf("no directory given")
	}
	if len(c.LogDirs) > 1 {
		return fmt.Errorf("only one log directory is supported")
	}
	return nil
}

func describeListeners(ls []Listener) *string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return nullable(strings.Join(parts, ","))
}

// setConnectionsPerIPOverrides parses Kafka's "host:limit,ip:limit" list.
// Host names are resolved when the broker starts.
func setConnectionsPerIPOverrides(c *Config, v string) error {
	c.MaxConnectionsPerIPOverrides, c.connectionsPerIPText = nil, strings.TrimSpace(v)
	for entry := range strings.SplitSeq(c.connectionsPerIPText, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		i := strings.LastIndexByte(entry, ':')
		if i <= 0 {
			return fmt.Errorf("%q: want host:limit", entry)
		}
		n, err := parseInt(entry[i+1:], 0, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("%q: %v", entry, err)
		}
		if c.MaxConnectionsPerIPOverrides == nil {
			c.MaxConnectionsPerIPOverrides = map[string]int{}
		}
		c.MaxConnectionsPerIPOverrides[strings.Trim(entry[:i], "[]")] = int(n)
	}
	return nil
}

// AuthorizerClassNames are the authorizer.class.name values that turn the
// authorizer on: Kafka's ZooKeeper-mode AclAuthorizer under its current
// and its pre-2.4 name.
var AuthorizerClassNames = []string{"kafka.security.authorizer.AclAuthorizer", "kafka.security.auth.SimpleAclAuthorizer"}

func checkAuthorizer(v string) error {
	if v == "" || slices.Contains(AuthorizerClassNames, v) {
		return nil
	}
	return fmt.Errorf("the broker's authorizer is Kafka's AclAuthorizer: set %s, or nothing for no authorization", AuthorizerClassNames[0])
}

// checkSuperUsers checks super.users as Kafka's AclAuthorizer reads it:
// principals type:name separated by semicolons, each trimmed.
func checkSuperUsers(v string) error {
	if v == "" {
		return nil
	}
	for _, p := range strings.Split(v, ";") {
		if !strings.Contains(p, ":") {
			return fmt.Errorf("%q is not a principal principalType:principalName", strings.TrimSpace(p))
		}
	}
	return nil
}
