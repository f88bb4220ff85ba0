package config

import "time"

// GroupConfig is the server configuration of the group coordinator and the
// __consumer_offsets topic, with Kafka's keys.
type GroupConfig struct {
	OffsetsTopicSegmentBytes int64         // offsets.topic.segment.bytes
	OffsetsRetention         time.Duration // offsets.retention.minutes
	OffsetsRetentionCheck    time.Duration // offsets.retention.check.interval.ms
	OffsetMetadataMaxBytes   int           // offset.metadata.max.bytes
	MinSessionTimeout        time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout        time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay    time.Duration // group.initial.rebalance.delay.ms
	MaxSize                  int           // group.max.size
}

// CleanerConfig is the log cleaner's server configuration (compaction of
// every topic with cleanup.policy=compact), with Kafka's keys.
type CleanerConfig struct {
	Enable           bool          // log.cleaner.enable
	Backoff          time.Duration // log.cleaner.backoff.ms
	DedupeBufferSize int64         // log.cleaner.dedupe.buffer.size
}

// MaxKeys is how many keys one compaction's key map may hold: as
// in Kafka, log.cleaner.dedupe.buffer.size over 24 bytes per key (a
// 16-byte MD5 and an 8-byte offset) at a 0.9 load factor. Go's map takes
// about a third more memory than that.
func (cc CleanerConfig) MaxKeys() int {
	return max(1, int(float64(cc.DedupeBufferSize)*0.9/24))
}
