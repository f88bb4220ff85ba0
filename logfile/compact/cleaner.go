package compact

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
)

// CheckpointFile is the cleaner's file in a log directory: each compacted
// log's first dirty offset (Kafka's cleaner-offset-checkpoint, in package
// checkpoint's format). Part of the format: never change.
const CheckpointFile = "cleaner-offset-checkpoint"

// CleanerOptions configure a Cleaner.
type CleanerOptions struct {
	// FS and Dir locate the log directory, where CheckpointFile is.
	FS  vfs.FS
	Dir string
	// Logs returns the directory's logs, each pass; those whose
	// cleanup.policy does not include compact are skipped.
	Logs func() []Log
	// MaxKeys bounds each pass's key map (Options.MaxKeys).
	MaxKeys int
	// Now defaults to time.Now; Logger to slog.Default().
	Now    func() time.Time
	Logger *slog.Logger
}

// Cleaner compacts the logs of a directory whose cleanup.policy includes
// compact, each once its dirty ratio (the bytes written since its last
// compaction over its cleanable bytes) reaches min.cleanable.dirty.ratio,
// or once its oldest dirty record is older than max.compaction.lag.ms. It
// keeps each log's first dirty offset in CheckpointFile.
type Cleaner struct {
	opts CleanerOptions

	mu         sync.Mutex // one pass at a time; guards firstDirty
	firstDirty map[checkpoint.TopicPartition]int64
}

// NewCleaner returns a cleaner, reading its checkpoint.
func NewCleaner(opts CleanerOptions) (*Cleaner, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	fd, err := checkpoint.Read(opts.FS, filepath.Join(opts.Dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	return &Cleaner{opts: opts, firstDirty: fd}, nil
}

// FirstDirty returns where the next pass over tp's log builds its key map
// from: the end of what the last pass cleaned, 0 if unknown.
func (c *Cleaner) FirstDirty(tp checkpoint.TopicPartition) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstDirty[tp]
}

// CleanStats sums one pass of the cleaner.
type CleanStats struct {
	Logs           int // logs compacted
	RecordsRemoved int64
	BytesBefore    int64
	BytesAfter     int64
}

// RunOnce compacts every compacted log that is dirty enough and writes the
// checkpoint. force ignores min.cleanable.dirty.ratio. A log closed under
// the pass (deleted) is no error.
func (c *Cleaner) RunOnce(force bool) (CleanStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var st CleanStats
	var errs []error
	live := map[checkpoint.TopicPartition]bool{}
	for _, l := range c.opts.Logs() {
		tp := l.Name()
		live[tp] = true
		cfg := l.Config()
		if !cfg.Compact {
			continue
		}
		now := c.opts.Now()
		if !force && !due(l, &cfg, c.firstDirty[tp], now) {
			continue
		}
		res, err := Run(l, Options{Now: now, FirstDirty: c.firstDirty[tp], MaxKeys: c.opts.MaxKeys})
		if err != nil {
			if !l.Closed() {
				errs = append(errs, fmt.Errorf("%s: %w", l, err))
			}
			continue
		}
		if res.CleanedTo > 0 {
			c.firstDirty[tp] = res.CleanedTo
		}
		if res.Segments > 0 {
			st.Logs++
			st.RecordsRemoved += res.RecordsRemoved
			st.BytesBefore += res.BytesBefore
			st.BytesAfter += res.BytesAfter
			c.opts.Logger.Info("compacted log", "dir", l.String(), "segments", res.Segments, "records_removed", res.RecordsRemoved,
				"bytes_before", res.BytesBefore, "bytes_after", res.BytesAfter)
		}
	}
	for tp := range c.firstDirty {
		if !live[tp] {
			delete(c.firstDirty, tp)
		}
	}
	if err := checkpoint.Write(c.opts.FS, filepath.Join(c.opts.Dir, CheckpointFile), c.firstDirty); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// due reports whether a log is dirty enough for a pass: the share of its
// cleanable bytes at or past firstDirty reaches min.cleanable.dirty.ratio,
// or the first cleanable segment holding dirty records began longer than
// max.compaction.lag.ms ago.
func due(l Log, cfg *Config, firstDirty int64, now time.Time) bool {
	segs := cleanable(l, cfg, now)
	defer func() {
		for _, s := range segs {
			s.Release()
		}
	}()
	var total, dirty int64
	for _, s := range segs {
		size := s.Size()
		total += size
		if s.Base() >= firstDirty {
			dirty += size
		}
	}
	ratio := 0.0
	if total > 0 {
		ratio = float64(dirty) / float64(total)
	}
	if ratio >= cfg.MinCleanableRatio {
		return true
	}
	if cfg.MaxCompactionLagMs == math.MaxInt64 {
		return false
	}
	for _, s := range segs {
		if s.Next() <= firstDirty {
			continue
		}
		ts := s.FirstTimestamp()
		return ts >= 0 && ts < now.UnixMilli()-cfg.MaxCompactionLagMs
	}
	return false
}
