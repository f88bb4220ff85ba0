package config

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"samsa/logfile"
)

// Config types as DescribeConfigs v3+ reports them.
const (
	TypeBoolean = 1
	TypeString  = 2
	TypeInt     = 3
	TypeLong    = 5
	TypeDouble  = 6
	TypeList    = 7
)

// TopicDef describes one topic-level config key.
type TopicDef struct {
	Default   string
	Type      int8
	BrokerKey string // the broker-level key that sets its default
	Check     func(v string) error
	Doc       string
}

func longIn(lo, hi int64) func(string) error {
	return func(v string) error {
		_, err := parseInt(v, lo, hi)
		return err
	}
}

func oneOf(opts ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(opts, v) {
			return fmt.Errorf("must be one of %s", strings.Join(opts, ", "))
		}
		return nil
	}
}

func listOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if !slices.Contains(opts, strings.TrimSpace(p)) {
				return fmt.Errorf("each item must be one of %s", strings.Join(opts, ", "))
			}
		}
		return nil
	}
}

func doubleIn(lo, hi float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			return fmt.Errorf("must be a number in [%g, %g]", lo, hi)
		}
		return nil
	}
}

const MaxLong = math.MaxInt64

// TopicDefs are the topic configs the broker knows, with Kafka's defaults.
var TopicDefs = map[string]TopicDef{
	"cleanup.policy":                      {"delete", TypeList, "log.cleanup.policy", listOf("delete", "compact"), "Retention policy of old segments: delete or compact."},
	"compression.type":                    {"producer", TypeString, "compression.type", oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"), "Codec batches are stored with; producer keeps what the producer sent."},
	"delete.retention.ms":                 {"86400000", TypeLong, "log.cleaner.delete.retention.ms", longIn(0, MaxLong), "How long tombstones are kept in compacted topics."},
	"file.delete.delay.ms":                {"60000", TypeLong, "", longIn(0, MaxLong), "Time before a deleted segment's files are removed."},
	"flush.messages":                      {strconv.FormatInt(MaxLong, 10), TypeLong, "log.flush.interval.messages", longIn(1, MaxLong), "Records appended before an fsync of the log."},
	"flush.ms":                            {strconv.FormatInt(MaxLong, 10), TypeLong, "log.flush.interval.ms", longIn(0, MaxLong), "Milliseconds between fsyncs of the log."},
	"index.interval.bytes":                {"4096", TypeInt, "log.index.interval.bytes", longIn(0, math.MaxInt32), "Log bytes between two offset index entries."},
	"max.message.bytes":                   {"1048588", TypeInt, "message.max.bytes", longIn(0, math.MaxInt32), "Largest record batch the topic accepts."},
	"message.timestamp.type":              {"CreateTime", TypeString, "log.message.timestamp.type", oneOf("CreateTime", "LogAppendTime"), "Whether record timestamps are the producer's or the broker's append time."},
	"message.timestamp.difference.max.ms": {strconv.FormatInt(MaxLong, 10), TypeLong, "log.message.timestamp.difference.max.ms", longIn(0, MaxLong), "Largest allowed difference between a CreateTime timestamp and the broker's clock."},
	"min.insync.replicas":                 {"1", TypeInt, "min.insync.replicas", longIn(1, math.MaxInt32), "In-sync replicas needed for an acks=all write."},
	"max.compaction.lag.ms":               {strconv.FormatInt(MaxLong, 10), TypeLong, "log.cleaner.max.compaction.lag.ms", longIn(1, MaxLong), "Maximum time a record stays ineligible for compaction: a compacted log whose oldest dirty record is older is cleaned whatever its dirty ratio."},
	"min.cleanable.dirty.ratio":           {"0.5", TypeDouble, "log.cleaner.min.cleanable.ratio", doubleIn(0, 1), "Dirty ratio that makes a compacted log eligible for cleaning."},
	"min.compaction.lag.ms":               {"0", TypeLong, "log.cleaner.min.compaction.lag.ms", longIn(0, MaxLong), "Minimum age of a record before it can be compacted."},
	"preallocate":                         {"false", TypeBoolean, "", oneOf("true", "false"), "Preallocate segment files (not used: segments grow as written)."},
	"retention.bytes":                     {"-1", TypeLong, "log.retention.bytes", longIn(-1, MaxLong), "Largest size of a partition's log before old segments are deleted; -1 for no limit."},
	"retention.ms":                        {"604800000", TypeLong, "log.retention.ms", longIn(-1, MaxLong), "How long records are kept; -1 for no limit."},
	"segment.bytes":                       {"1073741824", TypeInt, "log.segment.bytes", longIn(14, math.MaxInt32), "Size at which a segment rolls."},
	"segment.index.bytes":                 {"10485760", TypeInt, "log.index.size.max.bytes", longIn(12, math.MaxInt32), "Size of each segment's preallocated index files."},
	"segment.jitter.ms":                   {"0", TypeLong, "", longIn(0, MaxLong), "Random jitter subtracted from segment.ms (not used)."},
	"segment.ms":                          {"604800000", TypeLong, "log.roll.ms", longIn(1, MaxLong), "Age at which a segment rolls."},
	"unclean.leader.election.enable":      {"false", TypeBoolean, "", oneOf("true", "false"), "Whether an out-of-sync replica may become leader."},
}

// TopicConfig holds the value of every known topic config.
type TopicConfig map[string]string

// DefaultTopicConfig returns Kafka's defaults.
func DefaultTopicConfig() TopicConfig {
	c := make(TopicConfig, len(TopicDefs))
	for k, d := range TopicDefs {
		c[k] = d.Default
	}
	return c
}

// Set validates and sets one key.
func (c TopicConfig) Set(key, value string) error {
	d, ok := TopicDefs[key]
	if !ok {
		return fmt.Errorf("Unknown topic config name: %s", key)
	}
	value = strings.TrimSpace(value)
	if err := d.Check(value); err != nil {
		return fmt.Errorf("Invalid value %s for configuration %s: %w", value, key, err)
	}
	c[key] = value
	return nil
}

// With returns c with overrides applied after validation.
func (c TopicConfig) With(overrides map[string]string) (TopicConfig, error) {
	out := make(TopicConfig, len(c))
	for k, v := range c {
		out[k] = v
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := out.Set(k, overrides[k]); err != nil {
			return nil, err
		}
	}
	// Checks across keys (min.compaction.lag.ms <= max.compaction.lag.ms),
	// before anything is stored.
	lc := out.LogConfig()
	if err := lc.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func (c TopicConfig) Int64(key string) int64 {
	n, _ := strconv.ParseInt(c[key], 10, 64)
	return n
}

// LogConfig is the part of the topic config the log itself uses.
func (c TopicConfig) LogConfig() logfile.Config {
	return logfile.Config{
		SegmentBytes:       c.Int64("segment.bytes"),
		SegmentMs:          c.Int64("segment.ms"),
		IndexIntervalBytes: c.Int64("index.interval.bytes"),
		MaxIndexBytes:      c.Int64("segment.index.bytes"),
		MaxMessageBytes:    c.Int64("max.message.bytes"),
		RetentionMs:        c.Int64("retention.ms"),
		RetentionBytes:     c.Int64("retention.bytes"),
		FlushMessages:      c.Int64("flush.messages"),
		FlushMs:            c.Int64("flush.ms"),
		Compact:            c.Compact(),
		NoDelete:           !slices.Contains(c.cleanupPolicy(), "delete"),
		DeleteRetentionMs:  c.Int64("delete.retention.ms"),
		MinCleanableRatio:  c.Float64("min.cleanable.dirty.ratio"),
		MinCompactionLagMs: c.Int64("min.compaction.lag.ms"),
		MaxCompactionLagMs: c.Int64("max.compaction.lag.ms"),
	}
}

// Compact reports whether cleanup.policy includes compact. It does not
// allocate: the produce path asks it for every request.
func (c TopicConfig) Compact() bool {
	for p := range strings.SplitSeq(c["cleanup.policy"], ",") {
		if strings.TrimSpace(p) == "compact" {
			return true
		}
	}
	return false
}

// cleanupPolicy is cleanup.policy as a list: delete, compact or both.
func (c TopicConfig) cleanupPolicy() []string {
	var out []string
	for _, p := range strings.Split(c["cleanup.policy"], ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

func (c TopicConfig) Float64(key string) float64 {
	f, _ := strconv.ParseFloat(c[key], 64)
	return f
}

// LogAppendTime reports message.timestamp.type=LogAppendTime.
func (c TopicConfig) LogAppendTime() bool { return c["message.timestamp.type"] == "LogAppendTime" }

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

// TopicSynonyms lists where a topic config's value can come from, the
// one in effect first, as Kafka's DescribeConfigs does: the topic's override;
// the broker-level key when the server configuration sets it (seen as a
// value other than Kafka's default: setting a key to its default reads as
// the default); Kafka's default, named by the broker-level key. A key with
// no broker-level key and no override has no synonyms.
func TopicSynonyms(key string, overrides map[string]string, broker TopicConfig) []Synonym {
	d, ok := TopicDefs[key]
	if !ok {
		return nil
	}
	var out []Synonym
	if v, ok := overrides[key]; ok {
		out = append(out, Synonym{key, strings.TrimSpace(v), SourceTopic})
	}
	if d.BrokerKey == "" {
		return out
	}
	if v := broker[key]; v != "" && v != d.Default {
		out = append(out, Synonym{d.BrokerKey, v, SourceStaticBroker})
	}
	return append(out, Synonym{d.BrokerKey, d.Default, SourceDefault})
}

// TopicSource is the source of the value in effect.
func TopicSource(synonyms []Synonym) int8 {
	if len(synonyms) == 0 {
		return SourceDefault
	}
	return synonyms[0].Source
}

// TopicKeys returns the known topic config keys, sorted.
func TopicKeys() []string {
	keys := make([]string, 0, len(TopicDefs))
	for k := range TopicDefs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
