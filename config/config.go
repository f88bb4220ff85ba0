package config

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"samsa/security"
)

// Config is the broker's server configuration, with Kafka's keys
// (server.properties). Each field is set by the key its comment names
// (the table in keys.go); code reads fields, never keys.
type Config struct {
	BrokerID            int32      // broker.id (node.id)
	Listeners           []Listener // listeners, resolved with listener.security.protocol.map
	AdvertisedListeners []Listener // advertised.listeners; listeners when unset
	// ListenerProtocols is listener.security.protocol.map: the protocol of
	// each listener name.
	ListenerProtocols map[string]security.Protocol
	// InterBrokerListener is the listener brokers reach each other on:
	// inter.broker.listener.name, or the one named after
	// security.inter.broker.protocol.
	InterBrokerListener string
	// ControlPlaneListener is control.plane.listener.name; "" when unset.
	ControlPlaneListener string
	listenerText         listenerText // the listener keys as configured
	// SSL is the broker-level ssl.* keys; SSLFor applies a listener's own.
	SSL security.SSLConfig
	// SASL is the broker-level SASL keys; SASLFor applies a listener's own.
	SASL SASLConfig
	// PasswordEncoder encrypts dynamic password configs stored in
	// ZooKeeper (password.encoder.*); PasswordEncoderOldSecret is
	// password.encoder.old.secret.
	PasswordEncoder          security.PasswordEncoder
	PasswordEncoderOldSecret string
	// ListenerOverrides holds listener.name.<listener>.<key> settings: by
	// listener name (upper case), then key.
	ListenerOverrides  map[string]map[string]string
	LogDirs            []string // log.dirs (log.dir)
	NumPartitions      int32    // num.partitions
	DefaultReplication int16    // default.replication.factor
	AutoCreateTopics   bool     // auto.create.topics.enable
	DeleteTopicEnable  bool     // delete.topic.enable

	SocketRequestMaxBytes        int32          // socket.request.max.bytes
	ConnectionsMaxIdle           time.Duration  // connections.max.idle.ms
	MaxConnections               int            // max.connections
	MaxConnectionsPerIP          int            // max.connections.per.ip
	FetchSessionSlots            int            // max.incremental.fetch.session.cache.slots
	MaxConnectionsPerIPOverrides map[string]int // max.connections.per.ip.overrides: host or IP -> limit
	connectionsPerIPText         string         // the overrides as configured, for DescribeConfigs
	AdminListener                string         // admin.listener: host:port of the HTTP admin listener; empty disables it
	LogFormat                    string         // log.format: text or json

	RetentionCheckInterval  time.Duration // log.retention.check.interval.ms
	FlushCheckInterval      time.Duration // log.flush.scheduler.interval.ms
	FlushCheckpointInterval time.Duration // log.flush.offset.checkpoint.interval.ms

	OffsetsTopicNumPartitions int32 // offsets.topic.num.partitions
	// OffsetsTopicReplicationFactor is offsets.topic.replication.factor;
	// see OffsetsTopicReplication for what a standalone broker does with it.
	OffsetsTopicReplicationFactor int16 // offsets.topic.replication.factor
	// TransactionStateLogReplicationFactor is
	// transaction.state.log.replication.factor; see
	// TransactionStateLogReplication.
	TransactionStateLogReplicationFactor int16 // transaction.state.log.replication.factor

	ProducerIDExpiration      time.Duration // producer.id.expiration.ms
	ProducerIDExpirationCheck time.Duration // producer.id.expiration.check.interval.ms

	AuthorizerClassName       string // authorizer.class.name; empty: no authorization
	SuperUsers                string // super.users, as configured (security/acl parses it)
	AllowEveryoneIfNoACLFound bool   // allow.everyone.if.no.acl.found

	// ZooKeeper mode and the cluster (keys.go marks them ZooKeeper): parsed,
	// validated and described; a standalone broker does not use them.
	ZookeeperConnect                   string        // zookeeper.connect; empty: standalone
	ZookeeperSessionTimeout            time.Duration // zookeeper.session.timeout.ms
	ZookeeperConnectionTimeout         time.Duration // zookeeper.connection.timeout.ms; the session timeout when unset
	ZookeeperSetACL                    bool          // zookeeper.set.acl
	BrokerIDGenerationEnable           bool          // broker.id.generation.enable
	ReservedBrokerMaxID                int32         // reserved.broker.max.id
	BrokerRack                         string        // broker.rack; empty: none
	ControlledShutdownEnable           bool          // controlled.shutdown.enable
	ControlledShutdownMaxRetries       int32         // controlled.shutdown.max.retries
	ControlledShutdownRetryBackoff     time.Duration // controlled.shutdown.retry.backoff.ms
	AutoLeaderRebalanceEnable          bool          // auto.leader.rebalance.enable
	LeaderImbalanceCheckInterval       time.Duration // leader.imbalance.check.interval.seconds
	LeaderImbalancePerBrokerPercentage int32         // leader.imbalance.per.broker.percentage
	NumReplicaFetchers                 int32         // num.replica.fetchers
	ReplicaFetchMaxBytes               int32         // replica.fetch.max.bytes
	ReplicaFetchResponseMaxBytes       int32         // replica.fetch.response.max.bytes
	ReplicaFetchWaitMax                time.Duration // replica.fetch.wait.max.ms
	ReplicaFetchMinBytes               int32         // replica.fetch.min.bytes
	ReplicaFetchBackoff                time.Duration // replica.fetch.backoff.ms
	ReplicaLagTimeMax                  time.Duration // replica.lag.time.max.ms
	ReplicaSocketTimeout               time.Duration // replica.socket.timeout.ms
	ReplicaHighWatermarkCheckpoint     time.Duration // replica.high.watermark.checkpoint.interval.ms
	ControllerSocketTimeout            time.Duration // controller.socket.timeout.ms
	LeaderReplicationThrottledRate     int64         // leader.replication.throttled.rate, bytes/s
	FollowerReplicationThrottledRate   int64         // follower.replication.throttled.rate, bytes/s

	// ZK is the ZooKeeper client's TLS and credentials (zookeeper.go).
	ZK ZookeeperSecurity

	// FetchWaitCap caps the time a consumer's fetch waits for min_bytes
	// (its max_wait_ms); 0, the default, caps nothing, as in Kafka. No key
	// sets it: it is for test harnesses (the fuzz broker answers long polls
	// within milliseconds).
	FetchWaitCap time.Duration

	// Groups configures the group coordinator (group.go).
	Groups GroupConfig
	// Cleaner configures the log cleaner (group.go).
	Cleaner CleanerConfig
	// Txn configures the transaction coordinator and __transaction_state
	// (txn.go).
	Txn TxnConfig

	// TopicDefaults are the broker-level defaults of topic configs
	// (log.retention.ms sets RetentionMs, and so on).
	TopicDefaults TopicConfig

	// Warnings lists unknown keys and similar non-fatal findings.
	Warnings []string
	// explicit holds the keys set by the file or an override, which
	// DescribeConfigs reports as STATIC_BROKER_CONFIG even at Kafka's
	// default value.
	explicit map[string]bool
}

// Error is an invalid configuration value; the broker exits 2 on it.
type Error struct {
	Key, Value, Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid value %q for configuration %s: %s", e.Value, e.Key, e.Reason)
}

// Load builds a Config from defaults, an optional properties file and
// --override key=value pairs (applied in order, later wins).
func Load(file string, overrides []string) (*Config, error) {
	props := map[string]string{}
	var order []string
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p, o, err := ParseProperties(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		props, order = p, o
	}
	for _, ov := range overrides {
		k, v, ok := strings.Cut(ov, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{Key: ov, Value: "", Reason: "--override wants key=value"}
		}
		if _, dup := props[k]; !dup {
			order = append(order, k)
		}
		props[k] = strings.TrimSpace(v)
	}
	return New(props, order)
}

// New applies props (in order) over the defaults.
func New(props map[string]string, order []string) (*Config, error) {
	c := &Config{TopicDefaults: DefaultTopicConfig()}
	for _, d := range BrokerDefs {
		if d.Default != "" && d.TopicKey == "" {
			if err := d.set(c, d.Default); err != nil {
				panic(fmt.Sprintf("config: default of %s: %v", d.Name, err))
			}
		}
	}
	// An alias before its key, and log.retention.ms over .minutes over
	// .hours, as in Kafka: apply the coarser ones first.
	order = slices.Clone(order)
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(applyRank(a), applyRank(b)) })
	for _, k := range order {
		v := props[k]
		if strings.HasPrefix(k, ListenerPrefix) {
			if err := c.setListenerOverride(k, v); err != nil {
				return nil, &Error{Key: k, Value: v, Reason: err.Error()}
			}
			continue
		}
		d, ok := brokerByName[k]
		if !ok {
			if _, ok := ignoredKeys[k]; !ok {
				c.Warnings = append(c.Warnings, fmt.Sprintf("unknown configuration %s ignored", k))
			}
			continue
		}
		if err := d.set(c, v); err != nil {
			return nil, &Error{Key: k, Value: v, Reason: err.Error()}
		}
		if c.explicit == nil {
			c.explicit = map[string]bool{}
		}
		c.explicit[k] = true
	}
	for _, d := range BrokerDefs {
		if d.DefaultFrom != "" && !c.explicit[d.Name] {
			if v := brokerByName[d.DefaultFrom].get(c); v != nil {
				if err := d.set(c, *v); err != nil {
					return nil, &Error{Key: d.DefaultFrom, Value: *v, Reason: fmt.Sprintf("as the default of %s: %v", d.Name, err)}
				}
			}
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	for _, l := range c.AdvertisedListeners {
		if l.Host == "" || l.Host == "0.0.0.0" || l.Host == "::" {
			return nil, &Error{Key: "advertised.listeners", Value: l.String(), Reason: "clients cannot connect to a wildcard or empty host; set advertised.listeners"}
		}
	}
	return c, nil
}

// validate makes Kafka's checks across keys.
func (c *Config) validate() error {
	if err := c.resolveListeners(); err != nil {
		return err
	}
	if c.MaxConnectionsPerIP == 0 && len(c.MaxConnectionsPerIPOverrides) == 0 {
		return &Error{Key: "max.connections.per.ip", Value: "0", Reason: "0 refuses every connection; it is allowed only with max.connections.per.ip.overrides"}
	}
	if c.BrokerIDGenerationEnable && c.BrokerID > c.ReservedBrokerMaxID {
		return &Error{Key: "broker.id", Value: strconv.Itoa(int(c.BrokerID)),
			Reason: fmt.Sprintf("must not be greater than reserved.broker.max.id (%d) while broker.id.generation.enable is true", c.ReservedBrokerMaxID)}
	}
	if c.ReplicaFetchWaitMax > c.ReplicaSocketTimeout {
		return &Error{Key: "replica.fetch.wait.max.ms", Value: strconv.FormatInt(c.ReplicaFetchWaitMax.Milliseconds(), 10),
			Reason: "must not be greater than replica.socket.timeout.ms, or fetches from followers time out"}
	}
	if c.ReplicaFetchWaitMax > c.ReplicaLagTimeMax {
		return &Error{Key: "replica.fetch.wait.max.ms", Value: strconv.FormatInt(c.ReplicaFetchWaitMax.Milliseconds(), 10),
			Reason: "must not be greater than replica.lag.time.max.ms, or followers drop out of the in-sync replicas"}
	}
	return c.validateZookeeper()
}

// applyRank orders keys for New: aliases first, then keys setting a topic
// key's default by falling unit, then the rest.
func applyRank(k string) int64 {
	d, ok := brokerByName[k]
	switch {
	case !ok:
		return 0
	case d.Alias != "":
		return -math.MaxInt64
	case d.Scale > 1:
		return -d.Scale
	}
	return 0
}

// Explicit reports whether key was set by the file or an override.
func (c *Config) Explicit(key string) bool { return c.explicit[key] }

// OffsetsTopicReplication is the replication factor __consumer_offsets is
// created with while liveBrokers brokers are alive, and whether it may be
// created now. In ZooKeeper mode it is offsets.topic.replication.factor,
// and, as in Kafka, the topic is not created while fewer brokers are alive
// (the coordinator answers COORDINATOR_NOT_AVAILABLE until they are). A
// standalone broker is the whole cluster: it caps the factor at the live
// brokers, so that Kafka's default of 3 works there; only standalone mode
// does this.
func (c *Config) OffsetsTopicReplication(liveBrokers int) (int16, bool) {
	rf := c.OffsetsTopicReplicationFactor
	if c.ZookeeperConnect == "" {
		return int16(max(1, min(int(rf), liveBrokers))), true
	}
	return rf, int(rf) <= liveBrokers
}

// TransactionStateLogReplication is OffsetsTopicReplication for
// __transaction_state (transaction.state.log.replication.factor), and the
// min.insync.replicas it is created with: transaction.state.log.min.isr,
// capped at the replication factor so that a standalone broker can write.
func (c *Config) TransactionStateLogReplication(liveBrokers int) (rf int16, minISR int32, ok bool) {
	rf = c.TransactionStateLogReplicationFactor
	ok = int(rf) <= liveBrokers
	if c.ZookeeperConnect == "" {
		rf, ok = int16(max(1, min(int(rf), liveBrokers))), true
	}
	return rf, min(c.Txn.MinISR, int32(rf)), ok
}

// Keys returns every broker key, sorted.
func Keys() []string {
	keys := make([]string, len(BrokerDefs))
	for i, d := range BrokerDefs {
		keys[i] = d.Name
	}
	return keys
}

// FetchWait is how long a fetch asking for maxWaitMs may wait:
// FetchWaitCap at most, when set.
func (c *Config) FetchWait(maxWaitMs int32) time.Duration {
	d := time.Duration(maxWaitMs) * time.Millisecond
	if c.FetchWaitCap > 0 {
		d = min(d, c.FetchWaitCap)
	}
	return d
}
