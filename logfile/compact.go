package logfile

// Log compaction (cleanup.policy=compact), as Kafka's log cleaner does it:
// of every key, keep the record with the highest offset; drop null-key
// records; drop tombstones (null values) once they are older than
// delete.retention.ms. Offsets never change: a rewritten batch keeps its
// base offset, its lastOffsetDelta and its producer fields, so fetches,
// producer state and offset lookups see the same offsets as before, with
// gaps. The active segment (and segments younger than
// min.compaction.lag.ms) are never cleaned.
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
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"samsa/record"
	"samsa/txnindex"
)

// File name suffixes of compaction. Part of the format: never change.
const (
	CleanedSuffix = ".cleaned"
	SwapSuffix    = ".swap"
	// CleanerCheckpoint is the file in log.dirs with each compacted log's
	// first dirty offset (Kafka's cleaner-offset-checkpoint).
	CleanerCheckpoint = "cleaner-offset-checkpoint"
)

// maxInflate bounds what one compressed batch may decompress to while it is
// cleaned: a batch past it fails the compaction (codec.ErrTooLarge).
const maxInflate = 256 << 20

// CompactOptions are the inputs of one compaction that are not topic
// configuration.
type CompactOptions struct {
	// KeepCompressed keeps compressed batches whole, unread, instead of
	// decompressing, filtering and recompressing them; then no tombstone
	// is removed (an older value of its key may hide in a batch the
	// cleaner did not read).
	KeepCompressed bool
	// Now defaults to the log's clock.
	Now time.Time
	// FirstDirty is where the last compaction's key map ended: the
	// records below it hold one record per key already (the clean
	// section), so the key map is built from here. 0 builds it from the
	// log start. A log truncated below it must be given 0.
	FirstDirty int64
	// MaxKeys bounds the key map (Kafka's log.cleaner.dedupe.buffer.size);
	// 0 leaves it unbounded. When it fills, this compaction cleans up to
	// the record where it stopped and the next one goes on from there.
	MaxKeys int
}

// CompactResult describes one compaction of a log.
type CompactResult struct {
	// CleanedTo is the end of the cleaned range, the next compaction's
	// FirstDirty: the base offset of the first segment not cleaned (the
	// active one, or one younger than min.compaction.lag.ms), or the
	// first record the key map had no room for. Zero if nothing was
	// cleanable.
	CleanedTo      int64
	Segments       int   // segments rewritten
	BytesBefore    int64 // bytes of the rewritten segments
	BytesAfter     int64
	RecordsRemoved int64
}

var errCompactRaced = errors.New("logfile: segments changed during compaction")

// batchRecords returns a batch's records region, decompressed if needed;
// ok is false for a compressed batch the options keep unread.
func batchRecords(batch []byte, h *record.Header, opts *CompactOptions) (recs []byte, ok bool, err error) {
	if h.Codec() != 0 && opts.KeepCompressed {
		return nil, false, nil
	}
	recs, err = record.Inflate(batch, h, nil, maxInflate)
	if err != nil {
		return nil, false, fmt.Errorf("logfile: decompress batch at offset %d: %w", h.BaseOffset, err)
	}
	return recs, true, nil
}

type keyHash [md5.Size]byte

// offsetMap is the latest offset of every key in the cleanable range, and
// what else the filter pass needs to know about the range.
type offsetMap struct {
	latest       map[keyHash]int64
	lastOfProd   map[int64]int64 // producer id -> base offset of its last batch
	opaque       bool            // a compressed batch could not be read
	tombstoneMax int64           // tombstones with a timestamp below go
	// txns follows the transactions of the filter pass (compact_txn.go);
	// nil: none are followed. nowMs and deleteRetentionMs set markers'
	// delete horizons.
	txns              *txnindex.Cleaned
	nowMs             int64
	deleteRetentionMs int64
	// end: the map holds the keys of [FirstDirty, end); records at or
	// past end are kept as they are, whatever their key.
	end int64
}

// Compact compacts the log's cleanable segments once (see the file
// comment) and reports what it did. It runs beside appends and reads;
// only the final swap holds the log's lock. A concurrent change to the
// segments it works on (retention, truncation) makes it give up with no
// change; the next run tries again.
func (l *Log) Compact(opts CompactOptions) (CompactResult, error) {
	if opts.Now.IsZero() {
		opts.Now = l.opts.Now()
	}
	cfg := l.cfg.Load()
	if l.txnRebuild.Load() >= 0 {
		return CompactResult{}, nil // the transaction index is not whole yet
	}
	segs := l.cleanable(cfg, opts.Now)
	if len(segs) == 0 {
		return CompactResult{}, nil
	}
	held := 0
	defer func() {
		for _, s := range segs[:held] {
			s.release()
		}
	}()
	for _, s := range segs {
		if !s.acquire() {
			return CompactResult{}, nil // retention took it: next time
		}
		held++
	}
	res := CompactResult{CleanedTo: segs[len(segs)-1].nextNow()}
	if next := l.segmentAfter(segs[len(segs)-1]); next != nil {
		res.CleanedTo = next.base
	}
	m := &offsetMap{latest: map[keyHash]int64{}, lastOfProd: map[int64]int64{}, tombstoneMax: opts.Now.UnixMilli() - cfg.DeleteRetentionMs, end: res.CleanedTo,
		nowMs: opts.Now.UnixMilli(), deleteRetentionMs: cfg.DeleteRetentionMs}
	firstDirty := opts.FirstDirty
	if firstDirty < segs[0].base || firstDirty >= res.CleanedTo {
		firstDirty = 0 // unknown or stale: build the map from the start
	}
	full := false
	mapTxns := txnindex.NewCleaned()
	for _, s := range segs {
		mapTxns.Add(l.segmentTxns(s))
		if err := s.forEachBatch(func(h *record.Header, batch []byte) error {
			if h.ProducerID >= 0 {
				m.lastOfProd[h.ProducerID] = h.BaseOffset
			}
			if h.IsControl() {
				mapTxns.Control(h, batch)
				return nil
			}
			if mapTxns.Data(h) {
				return nil // aborted: its keys supersede nothing
			}
			if full || h.LastOffset() < firstDirty {
				return nil
			}
			recs, ok, err := batchRecords(batch, h, &opts)
			if err != nil {
				return err
			}
			if !ok {
				m.opaque = true
				return nil
			}
			it := record.NewIter(recs, h.RecordCount)
			for it.Next() {
				r := it.Record()
				off := r.Offset(h)
				if full || r.Key == nil || off < firstDirty {
					continue
				}
				k := md5.Sum(r.Key)
				if _, seen := m.latest[k]; !seen && opts.MaxKeys > 0 && len(m.latest) >= opts.MaxKeys {
					full, m.end, res.CleanedTo = true, off, off
					continue
				}
				m.latest[k] = off
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("logfile: batch at offset %d: %w", h.BaseOffset, err)
			}
			return nil
		}); err != nil {
			return res, err
		}
	}
	clean := segs
	for len(clean) > 1 && clean[len(clean)-1].base >= m.end {
		clean = clean[:len(clean)-1] // wholly past the map: nothing to clean
	}
	m.txns = txnindex.NewCleaned()
	for _, grp := range groupSegments(clean, cfg.SegmentBytes) {
		n, err := l.compactGroup(grp, m, cfg, &opts)
		res.Segments += len(grp)
		res.BytesBefore += n.before
		res.BytesAfter += n.after
		res.RecordsRemoved += n.removed
		if errors.Is(err, errCompactRaced) {
			// What is below this group is clean; it and the rest are not.
			res.CleanedTo = grp[0].base
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// cleanable returns the segments compaction may rewrite: not the active
// one, none at or past one younger than min.compaction.lag.ms, none above
// the last stable offset (so no open transaction is cleaned).
func (l *Log) cleanable(cfg *Config, now time.Time) []*segment {
	segs := *l.segs.Load()
	hw := l.LastStableOffset()
	var out []*segment
	for _, s := range segs[:len(segs)-1] {
		if s.nextNow() > hw {
			break
		}
		if cfg.MinCompactionLagMs > 0 && s.maxTs.Load() > now.UnixMilli()-cfg.MinCompactionLagMs {
			break
		}
		out = append(out, s)
	}
	return out
}

// segmentAfter returns the segment following s in the current list.
func (l *Log) segmentAfter(s *segment) *segment {
	segs := *l.segs.Load()
	for i, x := range segs {
		if x == s && i+1 < len(segs) {
			return segs[i+1]
		}
	}
	return nil
}

// groupSegments splits adjacent segments into groups that fit in one
// segment: at most maxBytes (by their current size) and an offset range
// that relative offsets can hold.
func groupSegments(segs []*segment, maxBytes int64) [][]*segment {
	var out [][]*segment
	for i := 0; i < len(segs); {
		j, size := i+1, segs[i].sizeNow()
		for j < len(segs) && size+segs[j].sizeNow() <= maxBytes && segs[j].nextNow()-segs[i].base <= math.MaxInt32 {
			size += segs[j].sizeNow()
			j++
		}
		out = append(out, segs[i:j])
		i = j
	}
	return out
}

// forEachBatch reads the segment's batches in order.
func (s *segment) forEachBatch(fn func(h *record.Header, batch []byte) error) error {
	sc := newScanner(s.log, 0, s.sizeNow())
	defer sc.free()
	for {
		h, batch, _, err := sc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.path(LogSuffix), err)
		}
		if err := fn(&h, batch); err != nil {
			return err
		}
	}
}

type groupStats struct{ before, after, removed int64 }

// compactGroup rewrites one group of segments and swaps it in. A single
// segment from which nothing would go is left alone.
func (l *Log) compactGroup(grp []*segment, m *offsetMap, cfg *Config, opts *CompactOptions) (groupStats, error) {
	var st groupStats
	for _, s := range grp {
		st.before += s.sizeNow()
	}
	base := grp[0].base
	cleaned := filepath.Join(l.dir, SegmentName(base, LogSuffix+CleanedSuffix))
	f, err := l.fs.OpenFile(cleaned, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return st, fmt.Errorf("logfile: compact %s: %w", l.dir, err)
	}
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
		// Gone already if the swap took it.
		_ = l.fs.Remove(cleaned)
	}()
	var out []byte
	var pos int64
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		if _, err := f.WriteAt(out, pos); err != nil {
			return fmt.Errorf("logfile: compact %s: %w", cleaned, err)
		}
		pos += int64(len(out))
		out = out[:0]
		return nil
	}
	changed := false
	for _, s := range grp {
		if m.txns != nil {
			m.txns.Add(l.segmentTxns(s))
		}
		err := s.forEachBatch(func(h *record.Header, batch []byte) error {
			nb, removed, err := filterBatch(batch, h, m, opts)
			if err != nil {
				return err
			}
			changed = changed || len(nb) == 0 || &nb[0] != &batch[0]
			st.removed += removed
			out = append(out, nb...)
			if len(out) >= 1<<20 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	st.after = pos
	var txns []AbortedTxn
	if m.txns != nil {
		txns = m.txns.TakeIndex()
	}
	if !changed && len(grp) == 1 {
		return groupStats{before: st.before, after: st.before}, nil
	}
	if err := f.Sync(); err != nil {
		return st, fmt.Errorf("logfile: compact %s: %w", cleaned, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return st, fmt.Errorf("logfile: compact %s: %w", cleaned, err)
	}
	return st, l.swapIn(grp, cleaned, cfg, txns)
}

// swapIn replaces the group's segments with the cleaned file (see the file
// comment). After the commit point a failure is sticky: the files on disk
// are consistent and the next open completes the swap.
func (l *Log) swapIn(grp []*segment, cleaned string, cfg *Config, txns []AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if err := l.Err(); err != nil {
		return err
	}
	segs := *l.segs.Load()
	i := segmentFor(segs, grp[0].base)
	if i < 0 || i+len(grp) >= len(segs) {
		return errCompactRaced
	}
	for k, s := range grp {
		if segs[i+k] != s {
			return errCompactRaced
		}
	}
	base, next := grp[0].base, segs[i+len(grp)].base
	swap := filepath.Join(l.dir, swapName(base, next))
	if err := l.fs.Rename(cleaned, swap); err != nil {
		return fmt.Errorf("logfile: compact %s: %w", l.dir, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	// Committed: from here the swap completes, now or at the next open.
	for _, s := range grp {
		if err := s.markDeleted(); err != nil {
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
	ns, _, err := openSegment(l.fs, l.dir, base, cfg, segRebuild)
	if err != nil {
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	minOffset := int64(0)
	if i > 0 {
		minOffset = segs[i-1].nextNow()
	}
	if cut, err := ns.recover(cfg, max(minOffset, base), l.opts.Logger); err != nil || cut {
		ns.close()
		if err == nil {
			err = fmt.Errorf("%w: cleaned segment %d does not scan", record.ErrCorrupt, base)
		}
		return l.fail(fmt.Errorf("logfile: compact %s: %w", l.dir, err))
	}
	ns.finish(l.opts.Logger)
	ns.synced.Store(ns.sizeNow())
	ns.rollStart = ns.firstTimestamp(l.opts.Now())
	rest := make([]*segment, 0, len(segs)-len(grp)+1)
	rest = append(append(append(rest, segs[:i]...), ns), segs[i+len(grp):]...)
	l.segs.Store(&rest)
	for _, s := range grp {
		s.release()
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

// filterBatch returns the batch with the records compaction keeps, and how
// many it removed. A batch that keeps everything comes back unchanged (the
// same slice); one that keeps nothing goes, unless it is its producer's
// last batch in the range (idempotent producers need its sequence: it
// stays, empty, as in Kafka). With m.txns, a batch of an aborted
// transaction keeps nothing and control batches follow compact_txn.go's
// rules; without, control batches stay whole. Unreadable compressed
// batches stay whole.
func filterBatch(batch []byte, h *record.Header, m *offsetMap, opts *CompactOptions) ([]byte, int64, error) {
	if h.IsControl() {
		if m.txns == nil {
			return batch, 0, nil
		}
		return filterControl(batch, h, m)
	}
	if m.txns != nil && m.txns.Data(h) {
		removed := int64(h.RecordCount)
		if h.ProducerID >= 0 && m.lastOfProd[h.ProducerID] == h.BaseOffset {
			b := record.Builder{Header: *h}
			nb, err := b.AppendTo(nil)
			return nb, removed, err
		}
		return nil, removed, nil
	}
	recs, ok, err := batchRecords(batch, h, opts)
	if err != nil || !ok {
		return batch, 0, err
	}
	// The rewritten batch keeps the header (offsets, producer, codec)
	// and the kept records' bytes.
	kept := record.Builder{Header: *h}
	var removed int64
	maxTs := int64(-1)
	it := record.NewIter(recs, h.RecordCount)
	for it.Next() {
		r := it.Record()
		off, ts := r.Offset(h), r.Timestamp(h)
		if off < m.end {
			keep := r.Key != nil && m.latest[md5.Sum(r.Key)] <= off
			if keep && r.Value == nil && !m.opaque && ts < m.tombstoneMax {
				keep = false
			}
			if !keep {
				removed++
				continue
			}
		}
		kept.AddEncoded(r.Raw, 1)
		maxTs = max(maxTs, ts)
	}
	if err := it.Err(); err != nil {
		return nil, 0, fmt.Errorf("logfile: batch at offset %d: %w", h.BaseOffset, err)
	}
	if removed == 0 {
		return batch, 0, nil
	}
	if kept.Len() == 0 && !(h.ProducerID >= 0 && m.lastOfProd[h.ProducerID] == h.BaseOffset) {
		return nil, removed, nil
	}
	if h.Attributes&record.AttrLogAppendTime == 0 && maxTs >= 0 {
		kept.Header.MaxTimestamp = maxTs
	}
	nb, err := kept.AppendTo(nil)
	if err != nil {
		return nil, 0, fmt.Errorf("logfile: recompress batch at offset %d: %w", h.BaseOffset, err)
	}
	return nb, removed, nil
}

// Cleaner compacts the logs of a Dir whose cleanup.policy includes
// compact, each once its dirty ratio (the bytes written since its last
// compaction over its cleanable bytes) reaches min.cleanable.dirty.ratio.
// It keeps each log's first dirty offset in CleanerCheckpoint.
type Cleaner struct {
	d       *Dir
	maxKeys int

	mu         sync.Mutex // one pass at a time; guards firstDirty
	firstDirty map[TopicPartition]int64
}

// NewCleaner returns a cleaner for d, reading its checkpoint. maxKeys
// bounds each compaction's key map (see CompactOptions.MaxKeys).
func NewCleaner(d *Dir, maxKeys int) (*Cleaner, error) {
	fd, err := ReadCheckpoint(d.fs, filepath.Join(d.path, CleanerCheckpoint))
	if err != nil {
		return nil, err
	}
	return &Cleaner{d: d, maxKeys: maxKeys, firstDirty: fd}, nil
}

// CleanStats sums one pass of the cleaner.
type CleanStats struct {
	Logs           int // logs compacted
	RecordsRemoved int64
	BytesBefore    int64
	BytesAfter     int64
}

// RunOnce compacts every compacted log that is dirty enough and writes the
// checkpoint. force ignores min.cleanable.dirty.ratio.
func (c *Cleaner) RunOnce(force bool) (CleanStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var st CleanStats
	var errs []error
	live := map[TopicPartition]bool{}
	for _, l := range c.d.Logs() {
		tp := TopicPartition{l.topic, l.partition}
		live[tp] = true
		cfg := l.Config()
		if !cfg.Compact {
			continue
		}
		now := l.opts.Now()
		if !force && l.dirtyRatio(c.firstDirty[tp], now) < cfg.MinCleanableRatio && !l.compactionOverdue(c.firstDirty[tp], now) {
			continue
		}
		res, err := l.Compact(CompactOptions{FirstDirty: c.firstDirty[tp], MaxKeys: c.maxKeys})
		if err != nil {
			if !errors.Is(err, ErrClosed) {
				errs = append(errs, fmt.Errorf("%s: %w", l.dir, err))
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
			l.opts.Logger.Info("compacted log", "dir", l.dir, "segments", res.Segments, "records_removed", res.RecordsRemoved,
				"bytes_before", res.BytesBefore, "bytes_after", res.BytesAfter)
		}
	}
	for tp := range c.firstDirty {
		if !live[tp] {
			delete(c.firstDirty, tp)
		}
	}
	if err := WriteCheckpoint(c.d.fs, filepath.Join(c.d.path, CleanerCheckpoint), c.firstDirty); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// compactionOverdue reports whether the first cleanable segment holding
// dirty records began longer than max.compaction.lag.ms ago.
func (l *Log) compactionOverdue(firstDirty int64, now time.Time) bool {
	cfg := l.cfg.Load()
	if cfg.MaxCompactionLagMs == math.MaxInt64 {
		return false
	}
	for _, s := range l.cleanable(cfg, now) {
		if s.nextNow() <= firstDirty {
			continue
		}
		h, err := s.headerAt(0, s.sizeNow())
		return err == nil && h.FirstTimestamp >= 0 && h.FirstTimestamp < now.UnixMilli()-cfg.MaxCompactionLagMs
	}
	return false
}

// dirtyRatio is the share of the cleanable bytes at or past firstDirty.
func (l *Log) dirtyRatio(firstDirty int64, now time.Time) float64 {
	var total, dirty int64
	for _, s := range l.cleanable(l.cfg.Load(), now) {
		size := s.sizeNow()
		total += size
		if s.base >= firstDirty {
			dirty += size
		}
	}
	if total == 0 {
		return 0
	}
	return float64(dirty) / float64(total)
}
