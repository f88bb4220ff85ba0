package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"samsa/logfile/epochcache"
	"samsa/logfile/internal/segment"
	"samsa/logfile/vfs"
	"samsa/record"
)

// File name suffixes of a segment's files (package segment has them).
// Part of the format: never change.
const (
	LogSuffix       = segment.LogSuffix
	IndexSuffix     = segment.IndexSuffix
	TimeIndexSuffix = segment.TimeIndexSuffix
	TxnIndexSuffix  = segment.TxnIndexSuffix
	DeletedSuffix   = segment.DeletedSuffix
)

// SegmentName returns the file name of a segment file: base offset, %020d.
func SegmentName(base int64, suffix string) string { return segment.Name(base, suffix) }

var (
	// ErrOffsetOutOfRange: an offset below the log start or above the log end
	// (Kafka's OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("logfile: offset out of range")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("logfile: log closed")
)

// Log is one partition's log. Appends, rolls, truncation and retention are
// serialized by the log; reads run concurrently without locks.
type Log struct {
	dir       string
	topic     string
	partition int32
	opts      Options
	fs        vfs.FS
	cfg       atomic.Pointer[Config]

	// Published state (invariant 1).
	segs          atomic.Pointer[[]*segment.Segment] // ascending base offsets; the last is active
	end           atomic.Int64                       // log end offset: next offset to assign
	start         atomic.Int64                       // log start offset
	hw            atomic.Int64                       // high watermark, set by the broker
	recoveryPoint atomic.Int64                       // everything below is fsynced
	// dirDirty: a segment was created since the directory was last
	// fsynced; its entry must be made durable before the recovery point
	// passes its base (a power cut keeps a synced file whose directory
	// entry was not).
	dirDirty    atomic.Bool
	lastFlushMs atomic.Int64
	werr        atomic.Pointer[error] // sticky write error (invariant 5)
	// txnRebuild is the base of the first segment whose transaction
	// index awaits a rebuild, -1 for none (invariant 12).
	txnRebuild atomic.Int64
	// staleTxns are the bases of segments an interrupted compaction
	// swapped in (Open only).
	staleTxns []int64
	// stable maps a high watermark to the last stable offset (the
	// owner's open transactions); nil: the high watermark.
	stable atomic.Pointer[func(hw int64) int64]

	// mu serializes every change to the segment list and to the active
	// segment's bytes.
	mu        sync.Mutex
	closed    bool
	unflushed int64 // records appended since the last flush
	// followerBatches holds the headers of a follower's append while it
	// runs (AppendAsFollowerTxn), its capacity kept from one to the next.
	followerBatches record.Batches

	// epochs is the leader epoch cache; its own lock.
	epochs *epochcache.Cache

	// flushMu serializes fsyncs and recovery point moves.
	flushMu sync.Mutex
	bg      sync.WaitGroup // background flushes after a roll

	loadStats LoadStats // set by Open, read-only after
}

// LoadStats says how much of a log its opening had to scan and rebuild.
type LoadStats struct {
	// Recovered counts segments scanned batch by batch, indexes rebuilt,
	// because the shutdown before was unclean: those from the recovery
	// point on (invariant 6).
	Recovered int
	// Rebuilt counts segments below the recovery point (every segment,
	// after a clean shutdown) whose indexes were missing or failed the
	// sanity checks, and were rebuilt from the log.
	Rebuilt int
}

// Add returns the sum of two LoadStats.
func (s LoadStats) Add(o LoadStats) LoadStats {
	return LoadStats{Recovered: s.Recovered + o.Recovered, Rebuilt: s.Rebuilt + o.Rebuilt}
}

// LoadStats reports what opening the log scanned and rebuilt.
func (l *Log) LoadStats() LoadStats { return l.loadStats }

// ParseDirName splits a partition directory name, "<topic>-<partition>".
func ParseDirName(name string) (topic string, partition int32, err error) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, fmt.Errorf("logfile: %q is not <topic>-<partition>", name)
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 {
		return "", 0, fmt.Errorf("logfile: %q is not <topic>-<partition>", name)
	}
	return name[:i], int32(p), nil
}

// Topic returns the topic parsed from the directory name.
func (l *Log) Topic() string { return l.topic }

// Partition returns the partition parsed from the directory name.
func (l *Log) Partition() int32 { return l.partition }

// Dir returns the partition directory.
func (l *Log) Dir() string { return l.dir }

// Config returns the current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig changes the configuration; it applies to the next append, roll
// and retention pass.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.cfg.Store(&cfg)
	return nil
}

// StartOffset returns the log start offset.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// EndOffset returns the log end offset (the next offset to be assigned).
func (l *Log) EndOffset() int64 { return l.end.Load() }

// HighWatermark returns the high watermark.
func (l *Log) HighWatermark() int64 { return l.hw.Load() }

// SetHighWatermark sets the high watermark, clamped to [start, end].
func (l *Log) SetHighWatermark(off int64) {
	l.hw.Store(min(max(off, l.start.Load()), l.end.Load()))
}

// SetLastStableFunc gives the log its owner's rule for the last stable
// offset: fn maps a high watermark to the first offset not yet stable
// (the earliest open transaction's first offset, or the high watermark).
func (l *Log) SetLastStableFunc(fn func(hw int64) int64) { l.stable.Store(&fn) }

// LastStableOffset returns the last stable offset: the high watermark,
// lowered to the first offset of the earliest transaction not yet decided
// (or decided by a marker the high watermark has not passed), never below
// the log start. Read committed consumers read below it, and compaction
// cleans below it.
func (l *Log) LastStableOffset() int64 {
	hw := l.hw.Load()
	fn := l.stable.Load()
	if fn == nil {
		return hw
	}
	return min(max((*fn)(hw), l.start.Load()), hw)
}

// RecoveryPoint returns the offset below which everything is fsynced.
func (l *Log) RecoveryPoint() int64 { return l.recoveryPoint.Load() }

// Size returns the bytes in all segments.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range *l.segs.Load() {
		n += s.Size()
	}
	return n
}

// NumSegments returns the number of segments.
func (l *Log) NumSegments() int { return len(*l.segs.Load()) }

// SegmentBases returns the base offsets of the segments, ascending.
func (l *Log) SegmentBases() []int64 {
	segs := *l.segs.Load()
	out := make([]int64, len(segs))
	for i, s := range segs {
		out[i] = s.Base()
	}
	return out
}

func (l *Log) active() *segment.Segment {
	segs := *l.segs.Load()
	return segs[len(segs)-1]
}

// Err returns the sticky write error, if any.
func (l *Log) Err() error {
	if p := l.werr.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *Log) fail(err error) error {
	l.werr.CompareAndSwap(nil, &err)
	l.opts.Logger.Error("log write failed; appends refused until reopened", "dir", l.dir, "err", err)
	return err
}

// AppendInfo describes an append.
type AppendInfo struct {
	FirstOffset    int64
	LastOffset     int64
	LogStartOffset int64
	Batches        int
	Records        int64
}

// Append validates a producer's record set (record.ValidateProduce) and
// appends it, assigning offsets from the log end. It stamps each batch's
// baseOffset into buf in place; nothing else of buf changes.
func (l *Log) Append(buf []byte) (AppendInfo, error) {
	bs, err := record.ValidateProduce(buf, l.cfg.Load().MaxMessageBytes, false)
	if err != nil {
		return AppendInfo{}, err
	}
	return l.AppendValidated(&bs)
}

// AppendValidated appends batches that record.ValidateProduce accepted (the
// broker may have changed them since, e.g. timestamps, keeping them valid
// and their parsed headers in step). It stamps their base offsets.
func (l *Log) AppendValidated(bs *record.Batches) (AppendInfo, error) {
	return l.AppendValidatedTxn(bs, nil)
}

// AppendValidatedTxn is AppendValidated that also writes the transaction
// index entries plan finds for the batches, offsets assigned, before the
// append is flushed or published (invariant 10); a nil plan writes none.
func (l *Log) AppendValidatedTxn(bs *record.Batches, plan TxnPlan) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, ErrClosed
	}
	if err := l.Err(); err != nil {
		return AppendInfo{}, err
	}
	first := l.end.Load()
	return l.appendLocked(bs, first, first+bs.Records-1, true, plan)
}

// AppendAsFollower appends batches fetched from the partition's leader as
// they are: their offsets are kept (a compacted leader's may skip some),
// their leader epochs become the epoch cache's, and nothing is revalidated
// beyond framing, CRC and order (the leader validated them). The first
// batch may not start below the log end.
func (l *Log) AppendAsFollower(buf []byte) (AppendInfo, error) {
	return l.AppendAsFollowerTxn(buf, nil)
}

// AppendAsFollowerTxn is AppendAsFollower that also writes the
// transaction index entries plan finds for the batches (invariant 10).
func (l *Log) AppendAsFollowerTxn(buf []byte, plan TxnPlan) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The headers are parsed into the Batches the log keeps for this (a
	// follower's appends come one at a time): no allocation per append.
	bs := &l.followerBatches
	defer func() { bs.Buf = nil }() // the caller's buffer is not kept
	if err := record.ValidateBatches(bs, buf); err != nil {
		return AppendInfo{}, err
	}
	if bs.Count == 0 {
		return AppendInfo{FirstOffset: -1, LastOffset: -1, LogStartOffset: l.start.Load()}, nil
	}
	for i := range bs.Count {
		// Written once for all of them, before the batches (appendLocked).
		h := bs.Header(i)
		l.AssignEpochDeferred(h.LeaderEpoch, h.BaseOffset)
	}
	first, last := bs.Header(0), bs.Header(bs.Count-1)
	if l.closed {
		return AppendInfo{}, ErrClosed
	}
	if err := l.Err(); err != nil {
		return AppendInfo{}, err
	}
	if end := l.end.Load(); first.BaseOffset < end {
		return AppendInfo{}, fmt.Errorf("%w: follower append at %d below the log end %d", ErrOffsetOutOfRange, first.BaseOffset, end)
	}
	return l.appendLocked(bs, first.BaseOffset, last.LastOffset(), false, plan)
}

// appendLocked writes whole batches whose first offset is first and last
// offset last (assigning offsets from first when assign), indexes them and
// publishes them. Called with l.mu held.
func (l *Log) appendLocked(bs *record.Batches, first, last int64, assign bool, plan TxnPlan) (AppendInfo, error) {
	if l.epochs.Dirty() {
		// The epoch cache on disk covers every batch on disk. A failed
		// write is a failed write of the log (Kafka marks the directory
		// offline): sticky, though nothing of the batches was written.
		if err := l.epochs.WriteDeferred(); err != nil {
			return AppendInfo{}, l.fail(fmt.Errorf("logfile: leader-epoch-checkpoint of %s: %w", l.dir, err))
		}
	}
	cfg := l.cfg.Load()
	seg, err := l.maybeRoll(cfg, int64(len(bs.Buf)), bs.Count, last)
	if err != nil {
		return AppendInfo{}, err
	}
	buf := bs.Buf
	next := last + 1
	if assign {
		next = bs.AssignOffsets(first)
	}
	pos := seg.Size()
	if _, err := seg.File.WriteAt(buf, pos); err != nil {
		// Nothing was published; cut whatever part reached the file.
		_ = seg.File.Truncate(pos)
		return AppendInfo{}, l.fail(fmt.Errorf("logfile: append to %s at %d: %w", seg.Path(LogSuffix), pos, err))
	}
	mark := seg.IndexMark()
	p := pos
	for i := range bs.Count {
		h := bs.Header(i)
		if err := seg.IndexBatch(h, p, cfg.IndexIntervalBytes); err != nil {
			// An index that could not reserve disk for its next entry
			// (a full disk) lands here, before any store into its mapping.
			_ = seg.File.Truncate(pos)
			seg.Unindex(mark, first)
			return AppendInfo{}, l.fail(fmt.Errorf("logfile: index %s: %w", seg.Path(IndexSuffix), err))
		}
		p += h.Size()
	}
	if plan != nil {
		// A new .txnindex's directory entry is made durable by the sync
		// of the directory after the roll that ends its segment, before
		// the recovery point can pass the segment.
		aborted, err := plan(bs)
		if err == nil {
			err = seg.Txn.Append(aborted)
		}
		if err != nil {
			// Nothing is published: the batches go as if never written.
			terr := errors.Join(seg.File.Truncate(pos), seg.Index.TruncateTo(first), seg.TimeIndex.TruncateTo(first))
			if terr != nil {
				return AppendInfo{}, l.fail(fmt.Errorf("logfile: undo append to %s: %w", seg.Path(LogSuffix), terr))
			}
			return AppendInfo{}, fmt.Errorf("logfile: transaction index of %s: %w", seg.Path(LogSuffix), err)
		}
	}
	newSize := pos + int64(len(buf))
	flush := l.unflushed+bs.Records >= cfg.FlushMessages
	if flush {
		// flush.messages: durable before it is visible or acknowledged.
		if err := seg.SyncTo(newSize); err != nil {
			_ = seg.File.Truncate(pos)
			seg.Unindex(mark, first)
			return AppendInfo{}, l.fail(err)
		}
	}
	if seg.RollStart.IsZero() {
		seg.RollStart = l.opts.Now()
	}
	seg.Publish(newSize, next)
	l.end.Store(next)
	if !l.opts.ManualHighWatermark {
		l.hw.Store(next)
	}

	l.unflushed += bs.Records
	if flush {
		l.unflushed = 0
		if err := l.flushTo(next); err != nil {
			return AppendInfo{}, err
		}
	}
	return AppendInfo{
		FirstOffset:    first,
		LastOffset:     next - 1,
		LogStartOffset: l.start.Load(),
		Batches:        bs.Count,
		Records:        bs.Records,
	}, nil
}

// maybeRoll returns the segment to append size bytes of batches to, rolling
// first when the active segment is full by bytes, index room, relative
// offset range or age.
func (l *Log) maybeRoll(cfg *Config, size int64, batches int, lastOffset int64) (*segment.Segment, error) {
	seg := l.active()
	cur := seg.Size()
	if cur == 0 {
		return seg, nil
	}
	roll := cur+size > cfg.SegmentBytes ||
		seg.Index.MaxEntries()-seg.Index.Len() < batches ||
		seg.TimeIndex.MaxEntries()-seg.TimeIndex.Len() < batches ||
		lastOffset-seg.Base() > math.MaxInt32 ||
		(!seg.RollStart.IsZero() && l.opts.Now().Sub(seg.RollStart) >= time.Duration(cfg.rollMs())*time.Millisecond)
	if !roll {
		return seg, nil
	}
	return l.roll()
}

// Roll starts a new segment at the log end (unless the active one is empty).
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.active().Size() == 0 {
		return nil
	}
	_, err := l.roll()
	return err
}

func (l *Log) roll() (*segment.Segment, error) {
	old := l.active()
	base := l.end.Load()
	ns, _, err := segment.Open(l.fs, l.dir, base, l.cfg.Load().MaxIndexBytes, segment.Create)
	if err != nil {
		if !errors.Is(err, fs.ErrExist) {
			for _, suf := range segment.Suffixes {
				_ = l.fs.Remove(filepath.Join(l.dir, SegmentName(base, suf)))
			}
		}
		return nil, fmt.Errorf("logfile: roll %s at %d: %w", l.dir, base, err)
	}
	old.Finish(l.opts.Logger)
	l.dirDirty.Store(true) // before a flush can see the segment
	segs := *l.segs.Load()
	next := append(segs[:len(segs):len(segs)], ns)
	l.segs.Store(&next)
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		if err := l.flushTo(base); err != nil {
			l.opts.Logger.Error("flush after roll", "dir", l.dir, "err", err)
		}
	}()
	return ns, nil
}

// Flush fsyncs everything appended so far and moves the recovery point to
// the log end.
func (l *Log) Flush() error { return l.flushTo(l.end.Load()) }

// MaybeFlush flushes when flush.ms has passed since the last flush and there
// is something to flush.
func (l *Log) MaybeFlush(now time.Time) error {
	cfg := l.cfg.Load()
	if cfg.FlushMs == math.MaxInt64 || l.recoveryPoint.Load() >= l.end.Load() {
		return nil
	}
	if now.UnixMilli()-l.lastFlushMs.Load() < cfg.FlushMs {
		return nil
	}
	return l.Flush()
}

func (l *Log) flushTo(upTo int64) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if upTo <= l.recoveryPoint.Load() {
		return nil
	}
	for _, s := range *l.segs.Load() {
		if s.Base() >= upTo || s.Size() == s.Synced.Load() {
			continue
		}
		if !s.Acquire() {
			continue
		}
		err := s.Sync()
		s.Release()
		if err != nil {
			return l.fail(err)
		}
	}
	if l.dirDirty.Swap(false) {
		if err := l.fs.SyncDir(l.dir); err != nil {
			l.dirDirty.Store(true)
			return l.fail(fmt.Errorf("logfile: fsync %s: %w", l.dir, err))
		}
	}
	if upTo > l.recoveryPoint.Load() {
		l.recoveryPoint.Store(upTo)
	}
	l.lastFlushMs.Store(l.opts.Now().UnixMilli())
	return nil
}

// Close flushes the log, finishes the active segment and releases the
// segments; outstanding Regions keep their segment open until released.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.bg.Wait()
	var errs []error
	if l.Err() == nil {
		errs = append(errs, l.Flush())
	}
	act := l.active()
	act.Finish(l.opts.Logger)
	errs = append(errs, act.TimeIndex.Sync())
	for _, s := range *l.segs.Load() {
		s.Release()
	}
	return errors.Join(errs...)
}

// segmentFor returns the segment holding offset: the last whose base is <=
// offset. i is its position in segs.
func segmentFor(segs []*segment.Segment, offset int64) int {
	return sort.Search(len(segs), func(i int) bool { return segs[i].Base() > offset }) - 1
}
