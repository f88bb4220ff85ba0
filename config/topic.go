package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"samsa/logfile"
	"samsa/record/codec"
)

// MaxLong is Kafka's Long.MAX_VALUE, the default of limits that are off.
const MaxLong = math.MaxInt64

// TopicConfig is a topic's configuration resolved into typed values: the
// broker's defaults of every topic key with the topic's overrides applied
// (With). It is built when a topic is opened or its configuration changes,
// so the produce path reads fields, never strings. The overrides as set
// are kept beside it (metadata.Topic.Configs) for DescribeConfigs and
// storage. The zero value is not a valid configuration: start from
// DefaultTopicConfig or Config.TopicDefaults. Values are comparable.
type TopicConfig struct {
	CleanupPolicy                        CleanupPolicy     // cleanup.policy
	CompressionType                      CompressionType   // compression.type
	DeleteRetentionMs                    int64             // delete.retention.ms
	FileDeleteDelayMs                    int64             // file.delete.delay.ms
	FlushMessages                        int64             // flush.messages
	FlushMs                              int64             // flush.ms
	FollowerReplicationThrottledReplicas ThrottledReplicas // follower.replication.throttled.replicas
	IndexIntervalBytes                   int32             // index.interval.bytes
	LeaderReplicationThrottledReplicas   ThrottledReplicas // leader.replication.throttled.replicas
	MaxCompactionLagMs                   int64             // max.compaction.lag.ms
	MaxMessageBytes                      int32             // max.message.bytes
	MessageTimestampType                 TimestampType     // message.timestamp.type
	// TimestampDifferenceMaxMs is message.timestamp.difference.max.ms;
	// MaxLong: no limit.
	TimestampDifferenceMaxMs int64
	MinCleanableDirtyRatio   float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs       int64   // min.compaction.lag.ms
	MinInSyncReplicas        int32   // min.insync.replicas
	Preallocate              bool    // preallocate
	RetentionBytes           int64   // retention.bytes; -1: no limit
	RetentionMs              int64   // retention.ms; -1: no limit
	SegmentBytes             int32   // segment.bytes
	SegmentIndexBytes        int32   // segment.index.bytes
	SegmentJitterMs          int64   // segment.jitter.ms
	SegmentMs                int64   // segment.ms
	UncleanLeaderElection    bool    // unclean.leader.election.enable
}

// CleanupPolicy is cleanup.policy: delete, compact or both.
type CleanupPolicy struct {
	Delete  bool // retention.ms and retention.bytes delete old segments
	Compact bool // the log cleaner keeps the latest record of each key
	list    string
}

// String is the policy as configured: its items, trimmed, comma-joined.
func (p CleanupPolicy) String() string { return p.list }

var cleanupPolicy = kind[CleanupPolicy]{typ: TypeList, valid: "[delete, compact]", options: []string{"delete", "compact"},
	parse: func(v string) (CleanupPolicy, error) {
		items := splitList(v)
		if len(items) == 0 {
			return CleanupPolicy{}, fmt.Errorf("each item must be one of delete, compact")
		}
		var p CleanupPolicy
		for _, it := range items {
			switch it {
			case "delete":
				p.Delete = true
			case "compact":
				p.Compact = true
			default:
				return CleanupPolicy{}, fmt.Errorf("each item must be one of delete, compact")
			}
		}
		p.list = strings.Join(items, ",")
		return p, nil
	},
	format: CleanupPolicy.String,
}

// CompressionType is compression.type: with Producer, batches are stored
// with the codec the producer used; otherwise every batch is stored with
// Codec, recompressed when it came with another.
type CompressionType struct {
	Producer bool
	Codec    codec.Codec
}

func (c CompressionType) String() string {
	switch {
	case c.Producer:
		return "producer"
	case c.Codec == codec.None:
		return "uncompressed"
	}
	return c.Codec.String()
}

var compressionType = kind[CompressionType]{typ: TypeString,
	options: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"},
	valid:   "uncompressed, zstd, lz4, snappy, gzip, producer",
	parse: func(v string) (CompressionType, error) {
		if v == "producer" {
			return CompressionType{Producer: true}, nil
		}
		if c, ok := codec.Parse(v); ok && v != "none" {
			return CompressionType{Codec: c}, nil
		}
		return CompressionType{}, fmt.Errorf("must be one of uncompressed, zstd, lz4, snappy, gzip, producer")
	},
	format: CompressionType.String,
}

// TimestampType is message.timestamp.type.
type TimestampType int8

const (
	CreateTime    TimestampType = 0 // the producer's timestamps are kept
	LogAppendTime TimestampType = 1 // the broker stamps batches with its clock
)

func (t TimestampType) String() string {
	if t == LogAppendTime {
		return "LogAppendTime"
	}
	return "CreateTime"
}

var timestampType = kind[TimestampType]{typ: TypeString, options: []string{"CreateTime", "LogAppendTime"},
	valid: "CreateTime, LogAppendTime",
	parse: func(v string) (TimestampType, error) {
		switch v {
		case "CreateTime":
			return CreateTime, nil
		case "LogAppendTime":
			return LogAppendTime, nil
		}
		return 0, fmt.Errorf("must be one of CreateTime, LogAppendTime")
	},
	format: TimestampType.String,
}

// ThrottledReplicas is leader.replication.throttled.replicas or
// follower.replication.throttled.replicas: "" (none), "*" (all), or
// partition:broker pairs, comma-separated, as configured.
type ThrottledReplicas string

// Includes reports whether the replica of partition on broker is throttled.
func (r ThrottledReplicas) Includes(partition, broker int32) bool {
	if r == "*" {
		return true
	}
	want := strconv.Itoa(int(partition)) + ":" + strconv.Itoa(int(broker))
	return slices.Contains(splitList(string(r)), want)
}

var throttledReplicas = kind[ThrottledReplicas]{typ: TypeList,
	valid: "[partitionId]:[brokerId],[partitionId]:[brokerId],... or *",
	parse: func(v string) (ThrottledReplicas, error) {
		items := splitList(v)
		if len(items) == 1 && items[0] == "*" {
			return "*", nil
		}
		for _, it := range items {
			p, b, ok := strings.Cut(it, ":")
			if !ok || !digits(p) || !digits(b) {
				return "", fmt.Errorf("must be the wildcard (*) or a list of [partitionId]:[brokerId] pairs")
			}
		}
		return ThrottledReplicas(strings.Join(items, ",")), nil
	},
	format: func(r ThrottledReplicas) string { return string(r) },
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DefaultTopicConfig returns Kafka's defaults of the topic keys.
func DefaultTopicConfig() TopicConfig { return defaultTopic }

// defaultTopic is built from the table's defaults when the package
// initialises.
var defaultTopic TopicConfig

// Set validates one key's value and stores it.
func (t *TopicConfig) Set(key, value string) error {
	d, ok := LookupTopic(key)
	if !ok {
		return fmt.Errorf("Unknown topic config name: %s", key)
	}
	if err := d.setT(t, value); err != nil {
		return fmt.Errorf("Invalid value %s for configuration %s: %w", strings.TrimSpace(value), key, err)
	}
	return nil
}

// With returns t with overrides applied after validation, in key order so
// that the first bad key named is always the same.
func (t TopicConfig) With(overrides map[string]string) (TopicConfig, error) {
	out := t
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := out.Set(k, overrides[k]); err != nil {
			return TopicConfig{}, err
		}
	}
	// Checks across keys (min.compaction.lag.ms <= max.compaction.lag.ms),
	// before anything is stored.
	lc := out.LogConfig()
	if err := lc.Validate(); err != nil {
		return TopicConfig{}, err
	}
	return out, nil
}

// LogConfig is the part of the topic config the log itself uses.
func (t TopicConfig) LogConfig() logfile.Config {
	return logfile.Config{
		SegmentBytes:       int64(t.SegmentBytes),
		SegmentMs:          t.SegmentMs,
		IndexIntervalBytes: int64(t.IndexIntervalBytes),
		MaxIndexBytes:      int64(t.SegmentIndexBytes),
		MaxMessageBytes:    int64(t.MaxMessageBytes),
		RetentionMs:        t.RetentionMs,
		RetentionBytes:     t.RetentionBytes,
		FlushMessages:      t.FlushMessages,
		FlushMs:            t.FlushMs,
		Compact:            t.CleanupPolicy.Compact,
		NoDelete:           !t.CleanupPolicy.Delete,
		DeleteRetentionMs:  t.DeleteRetentionMs,
		MinCleanableRatio:  t.MinCleanableDirtyRatio,
		MinCompactionLagMs: t.MinCompactionLagMs,
		MaxCompactionLagMs: t.MaxCompactionLagMs,
	}
}

// Config sources, as DescribeConfigs v1+ and CreateTopics v5+ report them.
const (
	SourceTopic        int8 = 1 // DYNAMIC_TOPIC_CONFIG: the topic's override
	SourceStaticBroker int8 = 4 // STATIC_BROKER_CONFIG: server.properties or --override
	SourceDefault      int8 = 5 // DEFAULT_CONFIG: Kafka's default
)

// Synonym is one place a config's value can come from.
type Synonym struct {
	Name, Value string
	Source      int8
}

// TopicSynonyms lists where topic key d's value can come from, the one in
// effect first, as Kafka's DescribeConfigs does: the topic's override;
// the broker-level key when the server configuration sets it (seen as a
// value other than Kafka's default: setting a key to its default reads as
// the default); Kafka's default, named by the broker-level key. A key with
// no broker-level key and no override has no synonyms. Values are shown
// as Kafka shows parsed values (items of a list trimmed, and so on).
func TopicSynonyms(d *Def, overrides map[string]string, broker *TopicConfig) []Synonym {
	var out []Synonym
	if v, ok := overrides[d.Name]; ok {
		out = append(out, Synonym{d.Name, canonical(d, v), SourceTopic})
	}
	if d.BrokerKey == "" {
		return out
	}
	if v := d.getT(broker); v != "" && v != d.Default {
		out = append(out, Synonym{d.BrokerKey, v, SourceStaticBroker})
	}
	return append(out, Synonym{d.BrokerKey, d.Default, SourceDefault})
}

// canonical is a topic key's value as its type prints it, or v trimmed
// if it does not parse.
func canonical(d *Def, v string) string {
	t := defaultTopic
	if d.setT(&t, v) != nil {
		return strings.TrimSpace(v)
	}
	return d.getT(&t)
}

// TopicSource is the source of the value in effect.
func TopicSource(synonyms []Synonym) int8 {
	if len(synonyms) == 0 {
		return SourceDefault
	}
	return synonyms[0].Source
}
