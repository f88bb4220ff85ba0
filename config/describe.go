package config

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// BrokerDef describes how DescribeConfigs reports a server key.
type BrokerDef struct {
	Type int8
	Get  func(c *Config) *string // nil: not set
	Doc  string
}

// BrokerDefs covers every key of serverKeys (a test checks).
var BrokerDefs = map[string]BrokerDef{
	"broker.id":                  {TypeInt, func(c *Config) *string { return describeInt(int64(c.BrokerID)) }, "The broker's ID."},
	"node.id":                    {TypeInt, func(c *Config) *string { return describeInt(int64(c.BrokerID)) }, "The broker's ID (alias of broker.id)."},
	"listeners":                  {TypeString, func(c *Config) *string { return describeListeners(c.Listeners) }, "The listener the broker binds: PLAINTEXT://host:port."},
	"advertised.listeners":       {TypeString, func(c *Config) *string { return describeListeners(c.AdvertisedListeners) }, "The listener clients are told to connect to."},
	"log.dirs":                   {TypeString, func(c *Config) *string { return describeStr(strings.Join(c.LogDirs, ",")) }, "The directory holding the logs and the metadata."},
	"log.dir":                    {TypeString, func(c *Config) *string { return describeStr(strings.Join(c.LogDirs, ",")) }, "The log directory (alias of log.dirs)."},
	"num.partitions":             {TypeInt, func(c *Config) *string { return describeInt(int64(c.NumPartitions)) }, "Partitions of a topic created without a count."},
	"default.replication.factor": {TypeInt, func(c *Config) *string { return describeInt(int64(c.DefaultReplication)) }, "Replication factor of a topic created without one."},
	"auto.create.topics.enable":  {TypeBoolean, func(c *Config) *string { return strptr(strconv.FormatBool(c.AutoCreateTopics)) }, "Whether Metadata requests create unknown topics."},
	"delete.topic.enable":        {TypeBoolean, func(c *Config) *string { return strptr(strconv.FormatBool(c.DeleteTopicEnable)) }, "Whether DeleteTopics may delete topics."},
	"socket.request.max.bytes":   {TypeInt, func(c *Config) *string { return describeInt(int64(c.SocketRequestMaxBytes)) }, "Largest request the broker reads."},
	"connections.max.idle.ms":    {TypeLong, func(c *Config) *string { return describeInt(c.ConnectionsMaxIdle.Milliseconds()) }, "Idle time after which a connection is closed."},
	"max.connections":            {TypeInt, func(c *Config) *string { return describeInt(int64(c.MaxConnections)) }, "Most connections the broker accepts at once."},
	"max.incremental.fetch.session.cache.slots": {TypeInt, func(c *Config) *string { return describeInt(int64(c.FetchSessionSlots)) },
		"Most fetch sessions (KIP-227) kept at once; 0 turns them off."},
	"max.connections.per.ip": {TypeInt, func(c *Config) *string { return describeInt(int64(c.MaxConnectionsPerIP)) }, "Most connections the broker accepts at once from one address; 0 only with overrides."},
	"max.connections.per.ip.overrides": {TypeString, func(c *Config) *string { return describeStr(c.connectionsPerIPText) },
		"Per-address exceptions to max.connections.per.ip: host:limit or ip:limit, comma-separated."},
	"admin.listener": {TypeString, func(c *Config) *string { return describeStr(c.AdminListener) }, "host:port of the HTTP admin listener (metrics, health, pprof); empty disables it."},
	"log.retention.check.interval.ms": {TypeLong, func(c *Config) *string { return describeInt(c.RetentionCheckInterval.Milliseconds()) },
		"Interval between retention passes."},
	"log.flush.scheduler.interval.ms": {TypeLong, func(c *Config) *string { return describeInt(c.FlushCheckInterval.Milliseconds()) },
		"Interval between checks for logs due an fsync."},
	"log.flush.offset.checkpoint.interval.ms": {TypeInt, func(c *Config) *string { return describeInt(c.FlushCheckpointInterval.Milliseconds()) },
		"Interval between writes of the recovery-point and log-start-offset checkpoints."},
	"offsets.topic.num.partitions": {TypeInt, func(c *Config) *string { return describeInt(int64(c.OffsetsTopicNumPartitions)) }, "Partitions of __consumer_offsets."},
	"zookeeper.connect":            {TypeString, func(c *Config) *string { return describeStr(c.ZookeeperConnect) }, "ZooKeeper connection string; empty for a standalone broker."},
	"producer.id.expiration.ms": {TypeInt, func(c *Config) *string { return describeInt(c.ProducerIDExpiration.Milliseconds()) },
		"Time after which a producer with no appends to a partition is forgotten there."},
	"producer.id.expiration.check.interval.ms": {TypeInt, func(c *Config) *string { return describeInt(c.ProducerIDExpirationCheck.Milliseconds()) },
		"How often idle producers are expired."},

	// Broker defaults of topic configs.
	"log.segment.bytes":                       topicDefault("segment.bytes", TypeInt, 1),
	"log.roll.ms":                             topicDefault("segment.ms", TypeLong, 1),
	"log.roll.hours":                          topicDefault("segment.ms", TypeInt, 3600*1000),
	"log.retention.ms":                        topicDefault("retention.ms", TypeLong, 1),
	"log.retention.minutes":                   topicDefault("retention.ms", TypeInt, 60*1000),
	"log.retention.hours":                     topicDefault("retention.ms", TypeInt, 3600*1000),
	"log.retention.bytes":                     topicDefault("retention.bytes", TypeLong, 1),
	"log.index.interval.bytes":                topicDefault("index.interval.bytes", TypeInt, 1),
	"log.index.size.max.bytes":                topicDefault("segment.index.bytes", TypeInt, 1),
	"log.flush.interval.messages":             topicDefault("flush.messages", TypeLong, 1),
	"log.flush.interval.ms":                   topicDefault("flush.ms", TypeLong, 1),
	"message.max.bytes":                       topicDefault("max.message.bytes", TypeInt, 1),
	"compression.type":                        topicDefault("compression.type", TypeString, 1),
	"log.cleanup.policy":                      topicDefault("cleanup.policy", TypeList, 1),
	"log.message.timestamp.type":              topicDefault("message.timestamp.type", TypeString, 1),
	"log.message.timestamp.difference.max.ms": topicDefault("message.timestamp.difference.max.ms", TypeLong, 1),
	"min.insync.replicas":                     topicDefault("min.insync.replicas", TypeInt, 1),
	"log.cleaner.delete.retention.ms":         topicDefault("delete.retention.ms", TypeLong, 1),
}

// topicDefault reports a broker key that sets a topic config's default, in
// the broker key's unit (scale milliseconds for hours and minutes).
func topicDefault(topicKey string, typ int8, scale int64) BrokerDef {
	return BrokerDef{Type: typ, Doc: TopicDefs[topicKey].Doc, Get: func(c *Config) *string {
		v := c.TopicDefaults[topicKey]
		if scale == 1 {
			return strptr(v)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return nil
		case n < 0: // -1: no limit, in any unit
			return strptr(v)
		case n%scale != 0:
			return nil
		}
		return describeInt(n / scale)
	}}
}

var Default = sync.OnceValue(func() *Config {
	c, err := New(map[string]string{}, nil)
	if err != nil {
		panic("broker: default configuration: " + err.Error())
	}
	return c
})

func BrokerKeys() []string {
	keys := make([]string, 0, len(BrokerDefs))
	for k := range BrokerDefs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func describeInt(n int64) *string { return strptr(strconv.FormatInt(n, 10)) }

func describeStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func describeListeners(ls []Listener) *string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return describeStr(strings.Join(parts, ","))
}
func strptr(s string) *string { return &s }
