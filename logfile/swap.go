package logfile

// Compaction's side in the log: package logfile/compact decides what a
// cleaned segment keeps and works on the log through compactLog; this
// file gives it the cleanable segments and swaps the cleaned ones in.
//
// # Swap (part of the format: never change)
//
// A group of adjacent segments [B, N) is rewritten into one segment:
//
//	<B>.log.cleaned                 being written; deleted at open
//	<B>.log.<N>.swap                complete and fsynced: the commit point
//
// then the old segments are renamed to .deleted and the swap file to
// <B>.log. Open finishes an interrupted swap: it removes the segment files
// with a base in [B, N) and renames the swap file; their indexes are
// rebuilt. So a crash at any step leaves either every old segment or the
// cleaned one, never a mix.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"samsa/logfile/compact"
	"samsa/logfile/internal/segment"
	"samsa/logfile/vfs"
	"samsa/record"
	"samsa/txnindex"
)

// File name suffixes of compaction. Part of the format: never change.
const (
	CleanedSuffix = ".cleaned"
	SwapSuffix    = ".swap"
)

// Compact compacts the log's cleanable segments once (compact.Run) and
// reports what it did. opts.Now defaults to the log's clock.
func (l *Log) Compact(opts compact.Options) (compact.Result, error) {
	if opts.Now.IsZero() {
		opts.Now = l.opts.Now()
	}
	return compact.Run(compactLog{l}, opts)
}

// compactLog is a Log as package compact works on it.
type compactLog struct{ l *Log }

func (c compactLog) Name() TopicPartition {
	return TopicPartition{Topic: c.l.topic, Partition: c.l.partition}
}

func (c compactLog) String() string { return c.l.dir }

func (c compactLog) Config() compact.Config {
	cfg := c.l.cfg.Load()
	return compact.Config{Compact: cfg.Compact, SegmentBytes: cfg.SegmentBytes, DeleteRetentionMs: cfg.DeleteRetentionMs,
		MinCleanableRatio: cfg.MinCleanableRatio, MinCompactionLagMs: cfg.MinCompactionLagMs, MaxCompactionLagMs: cfg.MaxCompactionLagMs}
}

func (c compactLog) Closed() bool {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.l.closed
}

func (c compactLog) AbortedTxns(from, upTo int64) []AbortedTxn { return c.l.AbortedTxns(from, upTo) }

// Cleanable returns the segments below the last stable offset but the
// active one, held; none while the transaction index awaits a rebuild
// (invariant 12), or when retention took one meanwhile (next time).
func (c compactLog) Cleanable() ([]compact.Segment, int64) {
	if c.l.txnRebuild.Load() >= 0 {
		return nil, 0
	}
	segs := *c.l.segs.Load()
	lso := c.l.LastStableOffset()
	var out []compact.Segment
	for _, s := range segs[:len(segs)-1] {
		if s.Next() > lso {
			break
		}
		if !s.Acquire() {
			for _, h := range out {
				h.Release()
			}
			return nil, 0
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, 0
	}
	return out, segs[len(out)].Base()
}

// Create opens <base>.log.cleaned, emptied.
func (c compactLog) Create(base int64) (compact.Cleaned, error) {
	path := filepath.Join(c.l.dir, SegmentName(base, LogSuffix+CleanedSuffix))
	f, err := c.l.fs.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logfile: compact %s: %w", c.l.dir, err)
	}
	return &cleanedFile{fs: c.l.fs, path: path, f: f}, nil
}

// Swap fsyncs and closes the cleaned file, then swaps it in (swapIn).
func (c compactLog) Swap(group []compact.Segment, cleaned compact.Cleaned, txns []AbortedTxn) error {
	cf := cleaned.(*cleanedFile)
	if err := cf.f.Sync(); err != nil {
		return fmt.Errorf("logfile: compact %s: %w", cf.path, err)
	}
	cf.closed = true
	if err := cf.f.Close(); err != nil {
		return fmt.Errorf("logfile: compact %s: %w", cf.path, err)
	}
	grp := make([]*segment.Segment, len(group))
	for i, s := range group {
		grp[i] = s.(*segment.Segment)
	}
	return c.l.swapIn(grp, cf.path, c.l.cfg.Load(), txns)
}

// cleanedFile is <base>.log.cleaned being written.
type cleanedFile struct {
	fs     vfs.FS
	path   string
	f      vfs.File
	pos    int64
	closed bool
}

func (c *cleanedFile) Write(p []byte) (int, error) {
	n, err := c.f.WriteAt(p, c.pos)
	c.pos += int64(n)
	if err != nil {
		return n, fmt.Errorf("logfile: compact %s: %w", c.path, err)
	}
	return n, nil
}

func (c *cleanedFile) Discard() {
	if !c.closed {
		c.f.Close()
	}
	// Gone already if the swap took it.
	_ = c.fs.Remove(c.path)
}

// swapIn replaces the group's segments with the cleaned file (see the file
// comment). After the commit point a failure is sticky: the files on disk
// are consistent and the next open completes the swap.
func (l *Log) swapIn(grp []*segment.Segment, cleaned string, cfg *Config, txns []AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if err := l.Err(); err != nil {
		return err
	}
	segs := *l.segs.Load()
	i := segmentFor(segs, grp[0].Base())
	if i < 0 || i+len(grp) >= len(segs) {
		return compact.ErrRaced
	}
	for k, s := range grp {
		if segs[i+k] != s {
			return compact.ErrRaced
		}
	}
	base, next := grp[0].Base(), segs[i+len(grp)].Base()
	swap := filepath.Join(l.dir, swapName(base, next))
	if err := l.fs.Rename(cleaned, swap); err != nil {
		return fmt.Errorf("logfile: compact %s: %w", l.dir, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	// Committed: from here the swap completes, now or at the next open.
	for _, s := range grp {
		if err := s.MarkDeleted(); err != nil {
			return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
		}
	}
	// The transaction index goes before the .log: a crash between the two
	// leaves the swap file, and the next open rebuilds the index.
	if err := txnindex.WriteFile(l.fs, filepath.Join(l.dir, SegmentName(base, TxnIndexSuffix)), txns); err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	if err := l.fs.Rename(swap, filepath.Join(l.dir, SegmentName(base, LogSuffix))); err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	ns, _, err := segment.Open(l.fs, l.dir, base, cfg.MaxIndexBytes, segment.Rebuild)
	if err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	minOffset := int64(0)
	if i > 0 {
		minOffset = segs[i-1].Next()
	}
	if cut, err := ns.Recover(cfg.IndexIntervalBytes, max(minOffset, base), l.opts.Logger); err != nil || cut {
		ns.Close()
		if err == nil {
			err = fmt.Errorf("%w: cleaned segment %d does not scan", record.ErrCorrupt, base)
		}
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	ns.Finish(l.opts.Logger)
	ns.Synced.Store(ns.Size())
	ns.RollStart = ns.StartTime(l.opts.Now())
	rest := make([]*segment.Segment, 0, len(segs)-len(grp)+1)
	rest = append(append(append(rest, segs[:i]...), ns), segs[i+len(grp):]...)
	l.segs.Store(&rest)
	for _, s := range grp {
		s.Release()
	}
	return nil
}

func swapName(base, next int64) string {
	return fmt.Sprintf("%020d%s.%020d%s", base, LogSuffix, next, SwapSuffix)
}

// parseSwapName parses "<base>.log.<next>.swap".
func parseSwapName(name string) (base, next int64, ok bool) {
	stem, found := strings.CutSuffix(name, SwapSuffix)
	if !found {
		return 0, 0, false
	}
	b, n, found := strings.Cut(stem, LogSuffix+".")
	if !found || len(b) != 20 || len(n) != 20 {
		return 0, 0, false
	}
	base, err1 := strconv.ParseInt(b, 10, 64)
	next, err2 := strconv.ParseInt(n, 10, 64)
	if err1 != nil || err2 != nil || base < 0 || next <= base {
		return 0, 0, false
	}
	return base, next, true
}

// finishSwaps completes compactions interrupted after their commit point
// and removes unfinished cleaned files; Open calls it before listing
// segments.
func (l *Log) finishSwaps() error {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, CleanedSuffix) {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("logfile: remove leftover: %w", err)
			}
			continue
		}
		base, next, ok := parseSwapName(name)
		if !ok {
			continue
		}
		l.opts.Logger.Warn("finishing an interrupted compaction", "dir", l.dir, "base", base, "next", next)
		for _, o := range entries {
			stem, suffix, found := strings.Cut(o.Name(), ".")
			if !found || len(stem) != 20 || !(suffix == "log" || suffix == "index" || suffix == "timeindex" || suffix == "txnindex") {
				continue
			}
			if b, err := strconv.ParseInt(stem, 10, 64); err == nil && b >= base && b < next {
				if err := l.fs.Remove(filepath.Join(l.dir, o.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("logfile: finish swap: %w", err)
				}
			}
		}
		if err := l.fs.Rename(filepath.Join(l.dir, name), filepath.Join(l.dir, SegmentName(base, LogSuffix))); err != nil {
			return fmt.Errorf("logfile: finish swap: %w", err)
		}
		// Its transaction index may be the old first segment's or
		// missing: rebuild it (invariant 12).
		l.staleTxns = append(l.staleTxns, base)
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("logfile: %w", err)
		}
	}
	return nil
}
