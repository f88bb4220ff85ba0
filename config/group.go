package config

import (
	"math"
	"strconv"
	"time"
)

// GroupConfig is the server configuration of the group coordinator, the
// __consumer_offsets topic and the log cleaner, with Kafka's keys.
type GroupConfig struct {
	OffsetsTopicSegmentBytes int64         // offsets.topic.segment.bytes
	OffsetsRetention         time.Duration // offsets.retention.minutes
	OffsetsRetentionCheck    time.Duration // offsets.retention.check.interval.ms
	OffsetMetadataMaxBytes   int           // offset.metadata.max.bytes
	MinSessionTimeout        time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout        time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay    time.Duration // group.initial.rebalance.delay.ms
	MaxSize                  int           // group.max.size
	CleanerEnable            bool          // log.cleaner.enable
	CleanerBackoff           time.Duration // log.cleaner.backoff.ms
	CleanerDedupeBufferSize  int64         // log.cleaner.dedupe.buffer.size
}

// CleanerMaxKeys is how many keys one compaction's key map may hold: as
// in Kafka, log.cleaner.dedupe.buffer.size over 24 bytes per key (a
// 16-byte MD5 and an 8-byte offset) at a 0.9 load factor. Go's map takes
// about a third more memory than that.
func (gc GroupConfig) CleanerMaxKeys() int {
	return max(1, int(float64(gc.CleanerDedupeBufferSize)*0.9/24))
}

// groupKey is one server key of GroupConfig with how DescribeConfigs shows it.
type groupKey struct {
	key  serverKey
	desc BrokerDef
}

func groupMsKey(def string, lo int64, field func(c *GroupConfig) *time.Duration, doc string) groupKey {
	return groupKey{
		key: intKey(def, lo, math.MaxInt64/int64(time.Millisecond), func(c *Config, n int64) {
			*field(&c.Groups) = time.Duration(n) * time.Millisecond
		}),
		desc: BrokerDef{Type: TypeLong, Doc: doc, Get: func(c *Config) *string {
			return describeInt(field(&c.Groups).Milliseconds())
		}},
	}
}

func groupIntKey(def string, lo, hi int64, typ int8, field func(c *GroupConfig) *int64, doc string) groupKey {
	return groupKey{
		key:  intKey(def, lo, hi, func(c *Config, n int64) { *field(&c.Groups) = n }),
		desc: BrokerDef{Type: typ, Doc: doc, Get: func(c *Config) *string { return describeInt(*field(&c.Groups)) }},
	}
}

func init() {
	keys := map[string]groupKey{
		"offsets.topic.segment.bytes": groupIntKey("104857600", 1, math.MaxInt32, TypeInt,
			func(c *GroupConfig) *int64 { return &c.OffsetsTopicSegmentBytes }, "Segment size of __consumer_offsets when it is created."),
		"offsets.retention.minutes": {
			key: intKey("10080", 1, math.MaxInt32, func(c *Config, n int64) { c.Groups.OffsetsRetention = time.Duration(n) * time.Minute }),
			desc: BrokerDef{Type: TypeInt, Doc: "How long the offsets of a group without members (or of a topic its members no longer read) are kept.",
				Get: func(c *Config) *string { return describeInt(int64(c.Groups.OffsetsRetention / time.Minute)) }},
		},
		"offsets.retention.check.interval.ms": groupMsKey("600000", 1, func(c *GroupConfig) *time.Duration { return &c.OffsetsRetentionCheck },
			"How often expired offsets are looked for."),
		"offset.metadata.max.bytes": {
			key: intKey("4096", 0, math.MaxInt32, func(c *Config, n int64) { c.Groups.OffsetMetadataMaxBytes = int(n) }),
			desc: BrokerDef{Type: TypeInt, Doc: "Largest metadata string of a committed offset.",
				Get: func(c *Config) *string { return describeInt(int64(c.Groups.OffsetMetadataMaxBytes)) }},
		},
		"group.min.session.timeout.ms": groupMsKey("6000", 1, func(c *GroupConfig) *time.Duration { return &c.MinSessionTimeout },
			"Smallest session timeout a group member may ask for."),
		"group.max.session.timeout.ms": groupMsKey("1800000", 1, func(c *GroupConfig) *time.Duration { return &c.MaxSessionTimeout },
			"Largest session timeout a group member may ask for."),
		"group.initial.rebalance.delay.ms": groupMsKey("3000", 0, func(c *GroupConfig) *time.Duration { return &c.InitialRebalanceDelay },
			"How long the first rebalance of an empty group waits for more members."),
		"group.max.size": {
			key: intKey("2147483647", 1, math.MaxInt32, func(c *Config, n int64) { c.Groups.MaxSize = int(n) }),
			desc: BrokerDef{Type: TypeInt, Doc: "Most members a group may have.",
				Get: func(c *Config) *string { return describeInt(int64(c.Groups.MaxSize)) }},
		},
		"log.cleaner.enable": {
			key: boolKey("true", func(c *Config, b bool) { c.Groups.CleanerEnable = b }),
			desc: BrokerDef{Type: TypeBoolean, Doc: "Whether topics with cleanup.policy=compact are compacted.",
				Get: func(c *Config) *string { return strptr(strconv.FormatBool(c.Groups.CleanerEnable)) }},
		},
		"log.cleaner.backoff.ms": groupMsKey("15000", 1, func(c *GroupConfig) *time.Duration { return &c.CleanerBackoff },
			"Interval between the log cleaner's passes."),
		"log.cleaner.dedupe.buffer.size": groupIntKey("134217728", 24, math.MaxInt64, TypeLong,
			func(c *GroupConfig) *int64 { return &c.CleanerDedupeBufferSize },
			"Memory for the log cleaner's key map (24 bytes per key): a compaction that fills it cleans up to where it stopped and the next goes on."),
		"log.cleaner.min.cleanable.ratio":   {key: topicKey("min.cleanable.dirty.ratio", 1), desc: topicDefault("min.cleanable.dirty.ratio", TypeDouble, 1)},
		"log.cleaner.min.compaction.lag.ms": {key: topicKey("min.compaction.lag.ms", 1), desc: topicDefault("min.compaction.lag.ms", TypeLong, 1)},
		"log.cleaner.max.compaction.lag.ms": {key: topicKey("max.compaction.lag.ms", 1), desc: topicDefault("max.compaction.lag.ms", TypeLong, 1)},
	}
	for k, v := range keys {
		serverKeys[k] = v.key
		BrokerDefs[k] = v.desc
	}
	// Kafka keys that have no effect here: the coordinator writes
	// uncompressed batches straight to its single-replica log, and the
	// cleaner is one goroutine.
	for _, k := range []string{
		"offsets.topic.compression.codec", "offsets.commit.timeout.ms", "offsets.commit.required.acks",
		"offsets.load.buffer.size", "log.cleaner.threads",
		"log.cleaner.io.buffer.size", "log.cleaner.io.buffer.load.factor", "log.cleaner.io.max.bytes.per.second",
		"group.coordinator.rebalance.protocols", "group.coordinator.new.enable",
	} {
		ignoredKeys[k] = true
	}
}
