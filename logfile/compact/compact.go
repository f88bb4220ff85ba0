package compact

import (
	"errors"
	"io"
	"math"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/record"
	"samsa/txnindex"
)

// Config is a log's compaction settings: its topic's configs.
type Config struct {
	Compact            bool    // cleanup.policy includes compact
	SegmentBytes       int64   // segment.bytes: a cleaned group fits in one segment
	DeleteRetentionMs  int64   // delete.retention.ms: tombstones and removable markers outlive a pass this long
	MinCleanableRatio  float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs int64   // min.compaction.lag.ms
	MaxCompactionLagMs int64   // max.compaction.lag.ms; math.MaxInt64: never
}

// Options are the inputs of one pass that are not topic configuration.
type Options struct {
	// KeepCompressed keeps compressed batches whole, unread, instead of
	// decompressing, filtering and recompressing them; then no tombstone
	// is removed (invariant 5).
	KeepCompressed bool
	// Now is the time the pass runs at; zero: time.Now().
	Now time.Time
	// FirstDirty is where the last pass's key map ended: the records
	// below it hold one record per key already (the clean section), so
	// the key map is built from here. 0 builds it from the log start. A
	// log truncated below it must be given 0.
	FirstDirty int64
	// MaxKeys bounds the key map (Kafka's log.cleaner.dedupe.buffer.size);
	// 0 leaves it unbounded. When it fills, this pass cleans up to the
	// record where it stopped and the next one goes on from there.
	MaxKeys int
}

// Result describes one pass over a log.
type Result struct {
	// CleanedTo is the end of the cleaned range, the next pass's
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

// ErrRaced: the log's segments changed under a pass (invariant 6).
var ErrRaced = errors.New("compact: segments changed during compaction")

// Log is what compaction needs of a log; package logfile's Log provides
// it.
type Log interface {
	// Name is the log's partition: its key in the cleaner's checkpoint.
	Name() checkpoint.TopicPartition
	// String names the log in messages: its directory.
	String() string
	// Config returns the log's compaction settings now.
	Config() Config
	// Cleanable returns the segments a pass may rewrite as far as the
	// log is concerned, oldest first and adjacent, each held (its bytes
	// stay readable) until its Release: none active, none reaching the
	// last stable offset, and none at all while the log cannot be
	// cleaned (a segment went meanwhile, or its transaction index awaits
	// a rebuild). end is the base offset of the segment after the last.
	Cleanable() (segs []Segment, end int64)
	// AbortedTxns returns the aborted transactions with records in
	// [from, upTo), from the transaction indexes.
	AbortedTxns(from, upTo int64) []txnindex.AbortedTxn
	// Create starts the file the group of segments whose first base
	// offset is base is cleaned into.
	Create(base int64) (Cleaned, error)
	// Swap makes the cleaned file, written whole, the segment that
	// replaces group (adjacent segments Cleanable returned), with txns
	// its transaction index. If the log's segments changed since, it
	// changes nothing and returns ErrRaced. A failure after the swap's
	// commit point is the log's sticky write error.
	Swap(group []Segment, cleaned Cleaned, txns []txnindex.AbortedTxn) error
	// Closed reports whether the log was closed (deleted, during a pass).
	Closed() bool
}

// Segment is one segment of a log, held for a pass.
type Segment interface {
	Base() int64 // the first offset it may hold
	Next() int64 // the offset after its last batch
	Size() int64 // bytes
	// MaxTimestamp is its batches' largest maxTimestamp, -1 if none.
	MaxTimestamp() int64
	// FirstTimestamp is its first batch's firstTimestamp; -1 if it has
	// none or it does not read.
	FirstTimestamp() int64
	// Batches calls fn with each batch in order; the bytes are valid
	// during the call only.
	Batches(fn func(h *record.Header, batch []byte) error) error
	// Release ends the hold.
	Release()
}

// Cleaned is the file a group of segments is cleaned into, written in
// order. Discard removes it unless Swap took it.
type Cleaned interface {
	io.Writer
	Discard()
}

// span is a held segment and the end of its offsets: the base of the
// segment after it.
type span struct {
	Segment
	end int64
}

// Run compacts the log's cleanable segments once and reports what it did.
// It runs beside appends and reads; only the log's Swap of each group
// holds the log's lock. A concurrent change to the segments it works on
// makes it stop with no change to them (invariant 6); the next run tries
// again.
func Run(l Log, opts Options) (Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	cfg := l.Config()
	segs := cleanable(l, &cfg, opts.Now)
	if len(segs) == 0 {
		return Result{}, nil
	}
	defer func() {
		for _, s := range segs {
			s.Release()
		}
	}()
	res := Result{CleanedTo: segs[len(segs)-1].end}
	m := newOffsetMap(opts.Now.UnixMilli(), cfg.DeleteRetentionMs, res.CleanedTo)
	firstDirty := opts.FirstDirty
	if firstDirty < segs[0].Base() || firstDirty >= res.CleanedTo {
		firstDirty = 0 // unknown or stale: build the map from the start
	}
	err := m.build(l, segs, firstDirty, &opts)
	res.CleanedTo = m.end
	if err != nil {
		return res, err
	}
	clean := segs
	for len(clean) > 1 && clean[len(clean)-1].Base() >= m.end {
		clean = clean[:len(clean)-1] // wholly past the map: nothing to clean
	}
	m.txns = txnindex.NewCleaned()
	for _, grp := range groupSegments(clean, cfg.SegmentBytes) {
		n, err := compactGroup(l, grp, m, &opts)
		res.Segments += len(grp)
		res.BytesBefore += n.before
		res.BytesAfter += n.after
		res.RecordsRemoved += n.removed
		if errors.Is(err, ErrRaced) {
			// What is below this group is clean; it and the rest are not.
			res.CleanedTo = grp[0].Base()
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// cleanable returns the segments a pass may rewrite (invariant 3), held,
// each with the end of its offsets.
func cleanable(l Log, cfg *Config, now time.Time) []span {
	segs, end := l.Cleanable()
	out := make([]span, 0, len(segs))
	for i, s := range segs {
		if i > 0 {
			out[i-1].end = s.Base()
		}
		if cfg.MinCompactionLagMs > 0 && s.MaxTimestamp() > now.UnixMilli()-cfg.MinCompactionLagMs {
			for _, r := range segs[i:] {
				r.Release()
			}
			break
		}
		out = append(out, span{Segment: s, end: end})
	}
	return out
}

// groupSegments splits adjacent segments into groups that fit in one
// segment: at most maxBytes (by their current size) and an offset range
// that relative offsets can hold.
func groupSegments(segs []span, maxBytes int64) [][]span {
	var out [][]span
	for i := 0; i < len(segs); {
		j, size := i+1, segs[i].Size()
		for j < len(segs) && size+segs[j].Size() <= maxBytes && segs[j].Next()-segs[i].Base() <= math.MaxInt32 {
			size += segs[j].Size()
			j++
		}
		out = append(out, segs[i:j])
		i = j
	}
	return out
}

type groupStats struct{ before, after, removed int64 }

// compactGroup rewrites one group of segments and swaps it in. A single
// segment from which nothing would go is left alone.
func compactGroup(l Log, grp []span, m *offsetMap, opts *Options) (groupStats, error) {
	var st groupStats
	for _, s := range grp {
		st.before += s.Size()
	}
	cleaned, err := l.Create(grp[0].Base())
	if err != nil {
		return st, err
	}
	defer cleaned.Discard()
	var out []byte
	var pos int64
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		if _, err := cleaned.Write(out); err != nil {
			return err
		}
		pos += int64(len(out))
		out = out[:0]
		return nil
	}
	changed := false
	for _, s := range grp {
		if m.txns != nil {
			m.txns.Add(l.AbortedTxns(s.Base(), s.end))
		}
		err := s.Batches(func(h *record.Header, batch []byte) error {
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
	var txns []txnindex.AbortedTxn
	if m.txns != nil {
		txns = m.txns.TakeIndex()
	}
	if !changed && len(grp) == 1 {
		return groupStats{before: st.before, after: st.before}, nil
	}
	group := make([]Segment, len(grp))
	for i, s := range grp {
		group[i] = s.Segment
	}
	return st, l.Swap(group, cleaned, txns)
}
