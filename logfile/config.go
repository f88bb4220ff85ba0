package logfile

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"samsa/logfile/vfs"
)

// Config is a log's topic-level configuration, with Kafka's names and defaults.
type Config struct {
	SegmentBytes       int64 // segment.bytes
	SegmentMs          int64 // segment.ms
	IndexIntervalBytes int64 // index.interval.bytes
	MaxIndexBytes      int64 // segment.index.bytes
	MaxMessageBytes    int64 // max.message.bytes
	RetentionMs        int64 // retention.ms; -1: no limit
	RetentionBytes     int64 // retention.bytes; -1: no limit
	FlushMessages      int64 // flush.messages
	FlushMs            int64 // flush.ms

	// cleanup.policy: Compact keeps the latest record of each key
	// (package logfile/compact); NoDelete (a policy without "delete")
	// turns off retention.ms and retention.bytes.
	Compact            bool
	NoDelete           bool
	DeleteRetentionMs  int64   // delete.retention.ms: tombstones outlive compaction this long
	MinCleanableRatio  float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs int64   // min.compaction.lag.ms
	// MaxCompactionLagMs (max.compaction.lag.ms): a compacted log whose
	// oldest dirty record is older is cleaned whatever its dirty ratio,
	// and its segments roll at least this often. math.MaxInt64: never.
	MaxCompactionLagMs int64
}

// rollMs is how long a segment may take appends: segment.ms, or
// max.compaction.lag.ms when compacted and shorter, as in Kafka, so that
// records leave the active segment, which is never cleaned, in time.
func (c *Config) rollMs() int64 {
	if c.Compact && c.MaxCompactionLagMs < c.SegmentMs {
		return c.MaxCompactionLagMs
	}
	return c.SegmentMs
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * 3600 * 1000,
		IndexIntervalBytes: 4096,
		MaxIndexBytes:      10 << 20,
		MaxMessageBytes:    1048588,
		RetentionMs:        7 * 24 * 3600 * 1000,
		RetentionBytes:     -1,
		FlushMessages:      math.MaxInt64,
		FlushMs:            math.MaxInt64,
		DeleteRetentionMs:  24 * 3600 * 1000,
		MinCleanableRatio:  0.5,
		MaxCompactionLagMs: math.MaxInt64,
	}
}

// Validate rejects values Kafka rejects.
func (c *Config) Validate() error {
	switch {
	case c.SegmentBytes < 14 || c.SegmentBytes > math.MaxInt32:
		return fmt.Errorf("logfile: segment.bytes %d out of range [14, %d]", c.SegmentBytes, math.MaxInt32)
	case c.SegmentMs < 1:
		return fmt.Errorf("logfile: segment.ms %d must be >= 1", c.SegmentMs)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("logfile: index.interval.bytes %d must be >= 0", c.IndexIntervalBytes)
	case c.MaxIndexBytes < 12 || c.MaxIndexBytes > math.MaxInt32:
		return fmt.Errorf("logfile: segment.index.bytes %d out of range [12, %d]", c.MaxIndexBytes, math.MaxInt32)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("logfile: max.message.bytes %d must be >= 0", c.MaxMessageBytes)
	case c.RetentionMs < -1:
		return fmt.Errorf("logfile: retention.ms %d must be >= -1", c.RetentionMs)
	case c.FlushMessages < 1:
		return fmt.Errorf("logfile: flush.messages %d must be >= 1", c.FlushMessages)
	case c.FlushMs < 0:
		return fmt.Errorf("logfile: flush.ms %d must be >= 0", c.FlushMs)
	case c.MaxCompactionLagMs < 1:
		return fmt.Errorf("logfile: max.compaction.lag.ms %d must be >= 1", c.MaxCompactionLagMs)
	case c.MinCompactionLagMs > c.MaxCompactionLagMs:
		return fmt.Errorf("logfile: min.compaction.lag.ms %d exceeds max.compaction.lag.ms %d", c.MinCompactionLagMs, c.MaxCompactionLagMs)
	}
	return nil
}

// Options are the parts of opening a log that are not topic configuration.
type Options struct {
	// FS defaults to vfs.OS.
	FS vfs.FS
	// RecoveryPoint is the checkpointed offset below which everything was
	// fsynced. Unclean opens scan from the segment holding it.
	RecoveryPoint int64
	// LogStartOffset is the checkpointed log start offset (DeleteRecords).
	LogStartOffset int64
	// Clean says the previous Close completed (the shutdown marker existed):
	// no scan beyond index sanity checks.
	Clean bool
	// ManualHighWatermark leaves the high watermark to SetHighWatermark
	// (replication: the ISR decides). Otherwise every append moves it to the
	// log end, as on a single node where this broker is the whole ISR.
	ManualHighWatermark bool
	// HighWatermark is the checkpointed high watermark a log with
	// ManualHighWatermark starts at (clamped to the log).
	HighWatermark int64
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	// checkpoint rewrites the log directory's checkpoints (Dir.Checkpoint),
	// for a truncation to make its lowered recovery point durable. Nil for
	// a log opened alone: its caller must.
	checkpoint func() error
}

func (o *Options) fill() {
	if o.FS == nil {
		o.FS = vfs.OS
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}
