package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"samsa/logfile/epochcache"
	"samsa/mmapindex"
	"samsa/record"
)

// Open opens the log in dir (creating it if needed), recovering as
// opts.Clean and opts.RecoveryPoint direct (invariant 6).
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	opts.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	topic, partition, err := ParseDirName(filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, topic: topic, partition: partition, opts: opts, fs: opts.FS,
		epochs: epochcache.New(opts.FS, filepath.Join(dir, LeaderEpochCheckpoint))}
	l.cfg.Store(&cfg)
	l.txnRebuild.Store(-1)
	if err := l.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	if err := l.finishSwaps(); err != nil {
		return nil, err
	}
	bases, err := l.listSegments()
	if err != nil {
		return nil, err
	}
	segs, err := l.loadSegments(bases, &cfg)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		s, _, err := openSegment(l.fs, dir, max(opts.LogStartOffset, 0), &cfg, segCreate)
		if err != nil {
			return nil, err
		}
		if err := l.fs.SyncDir(dir); err != nil {
			s.close()
			return nil, fmt.Errorf("logfile: %w", err)
		}
		segs = append(segs, s)
	}
	l.segs.Store(&segs)
	end := segs[len(segs)-1].nextNow()
	l.end.Store(end)
	l.start.Store(min(max(segs[0].base, opts.LogStartOffset), end))
	l.hw.Store(end)
	if opts.ManualHighWatermark {
		// The checkpointed high watermark (replication-offset-checkpoint):
		// what the ISR had when it was written; the leader moves it on.
		l.hw.Store(min(max(opts.HighWatermark, l.start.Load()), end))
	}
	if err := l.epochs.Load(end, l.opts.Logger); err != nil {
		for _, s := range segs {
			s.close()
		}
		return nil, err
	}
	l.lastFlushMs.Store(opts.Now().UnixMilli())
	if opts.Clean {
		l.recoveryPoint.Store(end)
	} else {
		l.recoveryPoint.Store(min(opts.RecoveryPoint, end))
		if err := l.Flush(); err != nil {
			l.Close()
			return nil, err
		}
	}
	for _, s := range segs {
		if s.txn.Stale() {
			// Invariant 12: scanned again after a crash until rebuilt.
			l.txnRebuild.Store(s.base)
			l.recoveryPoint.Store(min(l.recoveryPoint.Load(), s.base))
			break
		}
	}
	return l, nil
}

// listSegments removes leftovers of interrupted deletes and writes and
// returns the base offsets of the .log files, ascending.
func (l *Log) listSegments() ([]int64, error) {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	var bases []int64
	logs := map[string]bool{}
	var indexes []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, DeletedSuffix), strings.HasSuffix(name, ".tmp"):
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("logfile: remove leftover: %w", err)
			}
		case strings.HasSuffix(name, LogSuffix):
			stem := strings.TrimSuffix(name, LogSuffix)
			base, err := strconv.ParseInt(stem, 10, 64)
			if err != nil || len(stem) != 20 || base < 0 {
				l.opts.Logger.Warn("ignoring file with a non-offset name", "file", filepath.Join(l.dir, name))
				continue
			}
			bases = append(bases, base)
			logs[stem] = true
		case strings.HasSuffix(name, IndexSuffix), strings.HasSuffix(name, TimeIndexSuffix), strings.HasSuffix(name, TxnIndexSuffix):
			indexes = append(indexes, name)
		}
	}
	for _, name := range indexes {
		stem, _, _ := strings.Cut(name, ".")
		if !logs[stem] {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, fmt.Errorf("logfile: remove orphan index: %w", err)
			}
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// loadSegments opens every segment. After an unclean shutdown, segments from
// the one holding the recovery point on are scanned and their indexes
// rebuilt; the log is cut at the first invalid batch, or (unless compacted)
// at a segment that ends below the next one's base, and later segments are
// deleted. Other segments get sanity checks, and a rebuild if they fail.
func (l *Log) loadSegments(bases []int64, cfg *Config) (segs []*segment, err error) {
	defer func() {
		if err != nil {
			for _, s := range segs {
				s.close()
			}
			segs = nil
		}
	}()
	firstRecover := len(bases)
	if !l.opts.Clean {
		firstRecover = 0
		for i, b := range bases {
			if b <= l.opts.RecoveryPoint {
				firstRecover = i
			}
		}
	}
	prevNext := int64(0)
	for i, base := range bases {
		last := i == len(bases)-1
		recovering := i >= firstRecover
		mode := segReadOnly
		switch {
		case recovering:
			mode = segRebuild
		case last:
			mode = segWritable
		}
		s, rebuild, err := openSegment(l.fs, l.dir, base, cfg, mode)
		if err != nil {
			return segs, err
		}
		if !recovering && !rebuild {
			if terr := s.loadTail(); terr != nil {
				l.opts.Logger.Warn("segment fails sanity check; rebuilding", "dir", l.dir, "base", base, "err", terr)
				s.close()
				if s, _, err = openSegment(l.fs, l.dir, base, cfg, segRebuild); err != nil {
					return segs, err
				}
				rebuild = true
			}
		}
		switch {
		case recovering:
			l.loadStats.Recovered++
		case rebuild:
			l.loadStats.Rebuilt++
		}
		cut := false
		if recovering || rebuild {
			if cut, err = s.recover(cfg, prevNext, l.opts.Logger); err != nil {
				s.close()
				return segs, err
			}
		}
		switch {
		case recovering && s.hasControl, slices.Contains(l.staleTxns, base):
			// Its markers' entries come back from the producer state's
			// replay (invariant 12).
			s.txn.MarkStale()
		case recovering:
			if err := s.txn.Rewrite(nil); err != nil {
				s.close()
				return segs, err
			}
		default:
			if !s.txn.Check(s.base, s.nextNow()) {
				l.opts.Logger.Warn("transaction index fails sanity check; rebuilding", "segment", s.path(TxnIndexSuffix))
			}
		}
		if recovering && !last && !cut && !cfg.Compact && s.nextNow() < bases[i+1] {
			// The segment lost its tail while a later one kept its bytes
			// (a power cut writes back pages in any order): the later
			// segments would leave a hole in the offsets. Only compaction
			// makes such holes legitimately.
			l.opts.Logger.Warn("cutting log at a hole in the offsets", "segment", s.path(LogSuffix), "end", s.nextNow(), "next_base", bases[i+1])
			cut = true
		}
		s.rollStart = s.firstTimestamp(l.opts.Now())
		if !last && !cut && (recovering || rebuild) {
			// Rebuilt indexes are writable and preallocated: finish them.
			// A read-only segment was finished when it rolled.
			s.finish(l.opts.Logger)
		}
		segs = append(segs, s)
		prevNext = s.nextNow()
		if cut {
			for _, b := range bases[i+1:] {
				l.opts.Logger.Warn("deleting segment after a cut", "dir", l.dir, "base", b)
				for _, suf := range fileSuffixes {
					if err := l.fs.Remove(filepath.Join(l.dir, SegmentName(b, suf))); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return segs, fmt.Errorf("logfile: %w", err)
					}
				}
			}
			break
		}
	}
	return segs, nil
}

// recover rebuilds a segment's indexes from its batches, checking each, and
// cuts the file at the first invalid one; it reports whether it cut.
func (s *segment) recover(cfg *Config, minOffset int64, log interface{ Warn(string, ...any) }) (bool, error) {
	if err := s.resetIndexes(); err != nil {
		return false, err
	}
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(s.base)
	s.bytesSinceIndex = 0
	s.hasControl = false
	next := s.base
	size := s.sizeNow()
	end, err := s.scan(0, size, max(minOffset, s.base), func(h *record.Header, pos int64) error {
		if h.LastOffset()-s.base > math.MaxInt32 {
			return fmt.Errorf("%w: offset %d too far from base %d", record.ErrCorrupt, h.LastOffset(), s.base)
		}
		s.hasControl = s.hasControl || h.IsControl()
		next = h.NextOffset()
		return s.indexBatch(h, pos, cfg.IndexIntervalBytes)
	})
	if err == nil {
		s.publish(size, next)
		return false, nil
	}
	if !errors.Is(err, record.ErrCorrupt) {
		return false, err
	}
	log.Warn("cutting log at the first invalid batch", "segment", s.path(LogSuffix), "position", end, "dropped_bytes", size-end, "reason", err)
	if err := s.log.Truncate(end); err != nil {
		return false, fmt.Errorf("logfile: cut %s: %w", s.path(LogSuffix), err)
	}
	if err := s.log.Sync(); err != nil {
		return false, fmt.Errorf("logfile: cut %s: %w", s.path(LogSuffix), err)
	}
	s.publish(end, next)
	return true, nil
}

// loadTail finds the end offset and largest timestamp of a cleanly closed
// segment by scanning from its last index entry, checking that the indexes
// agree with the log.
func (s *segment) loadTail() error {
	lastOff, pos := s.idx.Last()
	size := s.sizeNow()
	if pos > size {
		return fmt.Errorf("%w: index entry at %d past log size %d", record.ErrCorrupt, pos, size)
	}
	if ts, off := s.tidx.Last(); ts != -1 {
		s.maxTs.Store(ts)
		s.maxTsOffset.Store(off)
	}
	next := s.base
	first := true
	end, err := s.scan(pos, size, s.base, func(h *record.Header, p int64) error {
		if first && s.idx.Len() > 0 && h.LastOffset() != lastOff {
			return fmt.Errorf("%w: index entry (%d, %d) but batch there ends at %d", record.ErrCorrupt, lastOff, pos, h.LastOffset())
		}
		first = false
		if h.MaxTimestamp > s.maxTs.Load() {
			s.maxTs.Store(h.MaxTimestamp)
			s.maxTsOffset.Store(h.LastOffset())
		}
		next = h.NextOffset()
		return nil
	})
	if err != nil {
		return err
	}
	if end != size {
		return fmt.Errorf("%w: scan ended at %d of %d", record.ErrCorrupt, end, size)
	}
	if s.idx.Len() > 0 && first {
		return fmt.Errorf("%w: index entry at %d with no batch there", record.ErrCorrupt, pos)
	}
	if s.legacyNoTimestampEntry() {
		// Written by Samsa before time indexes followed Kafka's maybeAppend
		// rule (mmapindex invariant 8): a segment closed, rolled or indexed
		// before any timestamp, above all an empty one, got the entry
		// (NoTimestamp, base). It says nothing, so it is no fault. A
		// writable (active) segment drops it, zeroing 12 bytes, because a
		// later entry at base would not increase past it; a read-only one
		// keeps it, and lookups take it for no entry.
		if err := s.tidx.Reset(); err != nil && !errors.Is(err, mmapindex.ErrReadOnly) {
			return err
		}
	} else if _, off := s.tidx.Last(); s.tidx.Len() > 0 && off >= next {
		return fmt.Errorf("%w: time index offset %d past segment end %d", record.ErrCorrupt, off, next)
	}
	s.publish(size, next)
	s.bytesSinceIndex = size - pos
	return nil
}

// legacyNoTimestampEntry reports whether the time index holds just the
// (NoTimestamp, base) entry that older Samsa wrote when closing or rolling a
// segment without timestamps.
func (s *segment) legacyNoTimestampEntry() bool {
	if s.tidx.Len() != 1 {
		return false
	}
	ts, off := s.tidx.Entry(0)
	return ts == mmapindex.NoTimestamp && off == s.base
}

// firstTimestamp is when the segment started, for segment.ms: the first
// batch's max timestamp when plausible, now otherwise.
func (s *segment) firstTimestamp(now time.Time) time.Time {
	if s.sizeNow() == 0 {
		return time.Time{}
	}
	h, err := s.headerAt(0, s.sizeNow())
	if err != nil || h.MaxTimestamp <= 0 || h.MaxTimestamp > now.UnixMilli() {
		return now
	}
	return time.UnixMilli(h.MaxTimestamp)
}
