package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"samsa/logfile/epochcache"
	"samsa/logfile/internal/segment"
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
		s, _, err := segment.Open(l.fs, dir, max(opts.LogStartOffset, 0), cfg.MaxIndexBytes, segment.Create)
		if err != nil {
			return nil, err
		}
		if err := l.fs.SyncDir(dir); err != nil {
			s.Close()
			return nil, fmt.Errorf("logfile: %w", err)
		}
		segs = append(segs, s)
	}
	l.segs.Store(&segs)
	end := segs[len(segs)-1].Next()
	l.end.Store(end)
	l.start.Store(min(max(segs[0].Base(), opts.LogStartOffset), end))
	l.hw.Store(end)
	if opts.ManualHighWatermark {
		// The checkpointed high watermark (replication-offset-checkpoint):
		// what the ISR had when it was written; the leader moves it on.
		l.hw.Store(min(max(opts.HighWatermark, l.start.Load()), end))
	}
	if err := l.epochs.Load(end, l.opts.Logger); err != nil {
		for _, s := range segs {
			s.Close()
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
		if s.Txn.Stale() {
			// Invariant 12: scanned again after a crash until rebuilt.
			l.txnRebuild.Store(s.Base())
			l.recoveryPoint.Store(min(l.recoveryPoint.Load(), s.Base()))
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
func (l *Log) loadSegments(bases []int64, cfg *Config) (segs []*segment.Segment, err error) {
	defer func() {
		if err != nil {
			for _, s := range segs {
				s.Close()
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
		mode := segment.ReadOnly
		switch {
		case recovering:
			mode = segment.Rebuild
		case last:
			mode = segment.Writable
		}
		s, rebuild, err := segment.Open(l.fs, l.dir, base, cfg.MaxIndexBytes, mode)
		if err != nil {
			return segs, err
		}
		if !recovering && !rebuild {
			if terr := s.LoadTail(); terr != nil {
				l.opts.Logger.Warn("segment fails sanity check; rebuilding", "dir", l.dir, "base", base, "err", terr)
				s.Close()
				if s, _, err = segment.Open(l.fs, l.dir, base, cfg.MaxIndexBytes, segment.Rebuild); err != nil {
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
			if cut, err = s.Recover(cfg.IndexIntervalBytes, prevNext, l.opts.Logger); err != nil {
				s.Close()
				return segs, err
			}
		}
		switch {
		case recovering && s.HasControl, slices.Contains(l.staleTxns, base):
			// Its markers' entries come back from the producer state's
			// replay (invariant 12).
			s.Txn.MarkStale()
		case recovering:
			if err := s.Txn.Rewrite(nil); err != nil {
				s.Close()
				return segs, err
			}
		default:
			if !s.Txn.Check(s.Base(), s.Next()) {
				l.opts.Logger.Warn("transaction index fails sanity check; rebuilding", "segment", s.Path(TxnIndexSuffix))
			}
		}
		if recovering && !last && !cut && !cfg.Compact && s.Next() < bases[i+1] {
			// The segment lost its tail while a later one kept its bytes
			// (a power cut writes back pages in any order): the later
			// segments would leave a hole in the offsets. Only compaction
			// makes such holes legitimately.
			l.opts.Logger.Warn("cutting log at a hole in the offsets", "segment", s.Path(LogSuffix), "end", s.Next(), "next_base", bases[i+1])
			cut = true
		}
		s.RollStart = s.StartTime(l.opts.Now())
		if !last && !cut && (recovering || rebuild) {
			// Rebuilt indexes are writable and preallocated: finish them.
			// A read-only segment was finished when it rolled.
			s.Finish(l.opts.Logger)
		}
		segs = append(segs, s)
		prevNext = s.Next()
		if cut {
			for _, b := range bases[i+1:] {
				l.opts.Logger.Warn("deleting segment after a cut", "dir", l.dir, "base", b)
				for _, suf := range segment.Suffixes {
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
