package compact

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
	"samsa/record"
	"samsa/txnindex"
)

// memLog is a Log in memory: segments of whole batches, the last one
// active, for tests of the decisions without files.
type memLog struct {
	t      *testing.T
	name   checkpoint.TopicPartition
	cfg    Config
	segs   []*memSeg // ascending bases; the last is active
	lso    int64     // last stable offset; math.MaxInt64: none below the end
	holds  int       // holds taken and not released
	closed bool
	// raceAt makes the swap of the group based there fail with ErrRaced;
	// createErr makes Create fail.
	raceAt    int64
	createErr error
	swapped   []int64 // bases of the groups swapped in
}

type memSeg struct {
	base    int64
	batches [][]byte
}

func newMemLog(t *testing.T, cfg Config) *memLog {
	return &memLog{t: t, name: checkpoint.TopicPartition{Topic: "t", Partition: 0}, cfg: cfg, lso: math.MaxInt64, raceAt: -1}
}

// roll starts a segment at the log end and appends one batch per kv to
// it, each at timestamp ts.
func (l *memLog) roll(ts int64, recs ...kv) {
	s := &memSeg{base: l.end()}
	l.segs = append(l.segs, s)
	for _, r := range recs {
		s.batches = append(s.batches, kvBatch(l.end(), ts, -1, -1, r))
	}
}

func (l *memLog) end() int64 {
	if len(l.segs) == 0 {
		return 0
	}
	return l.segs[len(l.segs)-1].next()
}

func header(b []byte) record.Header {
	h, err := record.ParseHeader(b)
	if err != nil {
		panic(err)
	}
	return h
}

func (s *memSeg) next() int64 {
	if len(s.batches) == 0 {
		return s.base
	}
	h := header(s.batches[len(s.batches)-1])
	return h.NextOffset()
}

// records returns the log's records as "offset:key=value".
func (l *memLog) records() []string {
	var out []string
	for _, s := range l.segs {
		for _, b := range s.batches {
			h := header(b)
			it := record.NewIter(b[record.HeaderSize:], h.RecordCount)
			for it.Next() {
				r := it.Record()
				out = append(out, fmt.Sprintf("%d:%s=%s", r.Offset(&h), r.Key, r.Value))
			}
		}
	}
	return out
}

func (l *memLog) Name() checkpoint.TopicPartition { return l.name }
func (l *memLog) String() string                  { return l.name.String() }
func (l *memLog) Config() Config                  { return l.cfg }
func (l *memLog) Closed() bool                    { return l.closed }

func (l *memLog) AbortedTxns(from, upTo int64) []txnindex.AbortedTxn { return nil }

func (l *memLog) Cleanable() ([]Segment, int64) {
	var out []Segment
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.next() > l.lso {
			break
		}
		l.holds++
		out = append(out, &heldSeg{memSeg: s, l: l})
	}
	if len(out) == 0 {
		return nil, 0
	}
	return out, l.segs[len(out)].base
}

func (l *memLog) Create(base int64) (Cleaned, error) {
	if l.createErr != nil {
		return nil, l.createErr
	}
	return &memCleaned{}, nil
}

func (l *memLog) Swap(group []Segment, cleaned Cleaned, txns []txnindex.AbortedTxn) error {
	base := group[0].Base()
	if base == l.raceAt {
		return ErrRaced
	}
	i := slices.IndexFunc(l.segs, func(s *memSeg) bool { return s.base == base })
	ns := &memSeg{base: base}
	for b := cleaned.(*memCleaned).buf; len(b) > 0; {
		h := header(b)
		ns.batches = append(ns.batches, b[:h.Size()])
		b = b[h.Size():]
	}
	l.segs = slices.Replace(l.segs, i, i+len(group), ns)
	l.swapped = append(l.swapped, base)
	return nil
}

// heldSeg is a memSeg held by a pass.
type heldSeg struct {
	*memSeg
	l        *memLog
	released bool
}

func (s *heldSeg) Base() int64 { return s.base }
func (s *heldSeg) Next() int64 { return s.next() }

func (s *heldSeg) Size() int64 {
	var n int64
	for _, b := range s.batches {
		n += int64(len(b))
	}
	return n
}

func (s *heldSeg) MaxTimestamp() int64 {
	ts := int64(-1)
	for _, b := range s.batches {
		ts = max(ts, header(b).MaxTimestamp)
	}
	return ts
}

func (s *heldSeg) FirstTimestamp() int64 {
	if len(s.batches) == 0 {
		return -1
	}
	return header(s.batches[0]).FirstTimestamp
}

func (s *heldSeg) Batches(fn func(h *record.Header, batch []byte) error) error {
	for _, b := range s.batches {
		h := header(b)
		if err := fn(&h, b); err != nil {
			return err
		}
	}
	return nil
}

func (s *heldSeg) Release() {
	if s.released {
		s.l.t.Fatalf("segment %d released twice", s.base)
	}
	s.released = true
	s.l.holds--
}

type memCleaned struct{ buf []byte }

func (c *memCleaned) Write(p []byte) (int, error) { c.buf = append(c.buf, p...); return len(p), nil }
func (c *memCleaned) Discard()                    {}

func memConfig() Config {
	return Config{Compact: true, SegmentBytes: 1 << 20, DeleteRetentionMs: 60_000, MinCleanableRatio: 0.5, MaxCompactionLagMs: math.MaxInt64}
}

// TestRunKeepsLatestOfEachKey: a pass cleans every segment but the active
// one into one (they fit in segment.bytes): of each key the latest record
// stays at its offset, superseded records and null keys go, the active
// segment keeps everything, and every hold is released.
func TestRunKeepsLatestOfEachKey(t *testing.T) {
	l := newMemLog(t, memConfig())
	l.roll(1, kv{key: "k1", value: "a0"}, kv{key: "k2", value: "b0"}, kv{key: "k1", value: "a1"})
	l.roll(1, kv{key: "k2", value: "b1"}, kv{key: "k3", value: "c0"}, kv{key: "\x00nil", value: "x"})
	l.roll(1, kv{key: "k1", value: "a2"}, kv{key: "k1", value: "a3"})
	active := l.segs[2].base
	res, err := Run(l, Options{Now: time.UnixMilli(10)})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{CleanedTo: active, Segments: 2, RecordsRemoved: 3}
	if res.CleanedTo != want.CleanedTo || res.Segments != want.Segments || res.RecordsRemoved != want.RecordsRemoved || res.BytesAfter >= res.BytesBefore {
		t.Fatalf("result %+v, want %+v with fewer bytes after", res, want)
	}
	if got, want := fmt.Sprint(l.records()), "[2:k1=a1 3:k2=b1 4:k3=c0 6:k1=a2 7:k1=a3]"; got != want {
		t.Fatalf("records after the pass %s, want %s", got, want)
	}
	if len(l.segs) != 2 || !slices.Equal(l.swapped, []int64{0}) {
		t.Fatalf("%d segments, swapped at %v; want the two cleaned into one at 0", len(l.segs), l.swapped)
	}
	if l.holds != 0 {
		t.Fatalf("%d holds left", l.holds)
	}
}

// TestRunBoundedKeyMap: a key map that fills ends the cleaned range at the
// first record it could not hold; records from there on stay whatever
// their key, and the next pass goes on from there.
func TestRunBoundedKeyMap(t *testing.T) {
	l := newMemLog(t, memConfig())
	l.roll(1, kv{key: "a", value: "0"}, kv{key: "b", value: "0"}, kv{key: "a", value: "1"}, kv{key: "c", value: "0"}, kv{key: "a", value: "2"})
	l.roll(1, kv{key: "z", value: "active"})
	res, err := Run(l, Options{Now: time.UnixMilli(10), MaxKeys: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.CleanedTo != 3 {
		t.Fatalf("cleaned to %d, want 3, the offset of the first key the map had no room for", res.CleanedTo)
	}
	if got, want := fmt.Sprint(l.records()), "[1:b=0 2:a=1 3:c=0 4:a=2 5:z=active]"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	res, err = Run(l, Options{Now: time.UnixMilli(10), MaxKeys: 2, FirstDirty: res.CleanedTo})
	if err != nil || res.CleanedTo != 5 {
		t.Fatalf("second pass: %+v, %v; want it cleaned to the active segment at 5", res, err)
	}
	if got, want := fmt.Sprint(l.records()), "[1:b=0 3:c=0 4:a=2 5:z=active]"; got != want {
		t.Fatalf("records after the second pass %s, want %s", got, want)
	}
}

// TestRunRaced: when the log's segments change under a pass, the swap
// that finds them changed gives up, the pass stops there without an error,
// and the cleaned range ends at that group; groups swapped before stay.
func TestRunRaced(t *testing.T) {
	cfg := memConfig()
	l := newMemLog(t, cfg)
	l.roll(1, kv{key: "a", value: "0"}, kv{key: "a", value: "1"})
	l.roll(1, kv{key: "b", value: "0"}, kv{key: "b", value: "1"})
	l.roll(1, kv{key: "c", value: "0"}, kv{key: "c", value: "1"})
	l.roll(1, kv{key: "z", value: "active"})
	size := (&heldSeg{memSeg: l.segs[0]}).Size()
	l.cfg.SegmentBytes = size // one segment per group
	l.raceAt = l.segs[1].base
	res, err := Run(l, Options{Now: time.UnixMilli(10)})
	if err != nil {
		t.Fatal(err)
	}
	if res.CleanedTo != l.raceAt || !slices.Equal(l.swapped, []int64{0}) {
		t.Fatalf("cleaned to %d, swapped %v; want cleaned to %d with the first group swapped", res.CleanedTo, l.swapped, l.raceAt)
	}
	if got, want := fmt.Sprint(l.records()), "[1:a=1 2:b=0 3:b=1 4:c=0 5:c=1 6:z=active]"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	if l.holds != 0 {
		t.Fatalf("%d holds left", l.holds)
	}
}

// TestRunNeverCleaned: no segment reaching the last stable offset, and none
// from the first younger than min.compaction.lag.ms on, is cleaned
// (invariant 3); a log of its active segment alone has nothing to clean.
func TestRunNeverCleaned(t *testing.T) {
	build := func(cfg Config) *memLog {
		l := newMemLog(t, cfg)
		l.roll(1_000, kv{key: "a", value: "0"}, kv{key: "a", value: "1"})
		l.roll(50_000, kv{key: "a", value: "2"}, kv{key: "a", value: "3"})
		l.roll(1_000, kv{key: "a", value: "4"}, kv{key: "a", value: "5"})
		l.roll(1_000, kv{key: "z", value: "active"})
		return l
	}
	lagged := memConfig()
	lagged.MinCompactionLagMs = 20_000
	l := build(lagged)
	res, err := Run(l, Options{Now: time.UnixMilli(60_000)})
	if err != nil || res.CleanedTo != 2 {
		t.Fatalf("with a segment inside min.compaction.lag.ms: %+v, %v; want cleaned to 2", res, err)
	}
	if got, want := fmt.Sprint(l.records()), "[1:a=1 2:a=2 3:a=3 4:a=4 5:a=5 6:z=active]"; got != want {
		t.Fatalf("records %s, want %s: only the segment before the young one cleaned, by the keys it holds", got, want)
	}

	l = build(memConfig())
	l.lso = 3 // an open transaction from offset 3 on
	if res, err := Run(l, Options{Now: time.UnixMilli(60_000)}); err != nil || res.CleanedTo != 2 {
		t.Fatalf("below a last stable offset of 3: %+v, %v; want cleaned to 2", res, err)
	}

	l = newMemLog(t, memConfig())
	l.roll(1, kv{key: "a", value: "0"}, kv{key: "a", value: "1"})
	if res, err := Run(l, Options{}); err != nil || res != (Result{}) || len(l.records()) != 2 {
		t.Fatalf("a log of one active segment: %+v, %v, %d records", res, err, len(l.records()))
	}
	if l.holds != 0 {
		t.Fatalf("%d holds left", l.holds)
	}
}

// TestGroupSegments: adjacent segments join a group while their sizes fit
// in one segment and its offsets in relative offsets.
func TestGroupSegments(t *testing.T) {
	seg := func(base, next int64, size int) span {
		s := &memSeg{base: base}
		if size > 0 {
			b := kvBatch(next-1, 1, -1, -1, kv{key: "k", value: string(make([]byte, size))})
			s.batches = [][]byte{b}
		}
		return span{Segment: &heldSeg{memSeg: s}, end: next}
	}
	one := int64(len(kvBatch(0, 1, -1, -1, kv{key: "k", value: string(make([]byte, 100))})))
	groups := func(segs []span, maxBytes int64) string {
		var out [][]int64
		for _, g := range groupSegments(segs, maxBytes) {
			var bases []int64
			for _, s := range g {
				bases = append(bases, s.Base())
			}
			out = append(out, bases)
		}
		return fmt.Sprint(out)
	}
	bySize := []span{seg(0, 10, 100), seg(10, 20, 100), seg(20, 30, 100), seg(30, 40, 100), seg(40, 50, 100)}
	if got, want := groups(bySize, 2*one), "[[0 10] [20 30] [40]]"; got != want {
		t.Fatalf("groups %s, want %s: two segments' bytes each", got, want)
	}
	byOffsets := []span{seg(0, 10, 100), seg(10, math.MaxInt32, 100), seg(math.MaxInt32, math.MaxInt32+1, 100)}
	if got, want := groups(byOffsets, 1<<30), "[[0 10] [2147483647]]"; got != want {
		t.Fatalf("groups %s, want %s: no group past a relative int32", got, want)
	}
}

// TestDue: a log is due for a pass when its dirty bytes reach
// min.cleanable.dirty.ratio of its cleanable bytes, or when the first
// cleanable segment with dirty records began longer ago than
// max.compaction.lag.ms.
func TestDue(t *testing.T) {
	cfg := memConfig()
	l := newMemLog(t, cfg)
	l.roll(1_000, kv{key: "a", value: "0"})
	l.roll(1_000, kv{key: "a", value: "1"})
	l.roll(5_000, kv{key: "a", value: "2"})
	l.roll(9_000, kv{key: "z", value: "active"})
	now := time.UnixMilli(10_000)
	for _, tc := range []struct {
		firstDirty int64
		ratio      float64
		lagMs      int64
		want       bool
	}{
		{0, 0.5, math.MaxInt64, true},  // all dirty
		{1, 0.5, math.MaxInt64, true},  // 2 of 3 dirty
		{2, 0.5, math.MaxInt64, false}, // 1 of 3
		{2, 0.3, math.MaxInt64, true},  // 1 of 3 reaches 0.3
		{2, 0.5, 6_000, false},         // the dirty segment began at 5,000: 5 s ago
		{2, 0.5, 4_000, true},          // older than the lag
		{3, 0.5, 1, false},             // nothing cleanable is dirty
		{3, 0, math.MaxInt64, true},    // a ratio of 0 is always reached
	} {
		cfg := cfg
		cfg.MinCleanableRatio, cfg.MaxCompactionLagMs = tc.ratio, tc.lagMs
		if got := due(l, &cfg, tc.firstDirty, now); got != tc.want {
			t.Errorf("first dirty %d, ratio %v, lag %d: due %v, want %v", tc.firstDirty, tc.ratio, tc.lagMs, got, tc.want)
		}
	}
	if l.holds != 0 {
		t.Fatalf("%d holds left", l.holds)
	}
}

// TestCleanerPass: RunOnce cleans the compacted logs that are due, skips
// the others, reports the error of an open log but not of one closed
// under it, and checkpoints the first dirty offsets of the logs still
// there.
func TestCleanerPass(t *testing.T) {
	dir := t.TempDir()
	mk := func(topic string, compacted bool) *memLog {
		cfg := memConfig()
		cfg.Compact = compacted
		l := newMemLog(t, cfg)
		l.name = checkpoint.TopicPartition{Topic: topic, Partition: 0}
		l.roll(1, kv{key: "a", value: "0"}, kv{key: "a", value: "1"})
		l.roll(1, kv{key: "z", value: "active"})
		return l
	}
	good, plain, failing, closed := mk("good", true), mk("plain", false), mk("failing", true), mk("closed", true)
	failing.createErr = errors.New("disk on fire")
	closed.createErr, closed.closed = errors.New("log closed"), true
	logs := []Log{good, plain, failing, closed}
	if err := checkpoint.Write(vfs.OS, filepath.Join(dir, CheckpointFile), map[checkpoint.TopicPartition]int64{{Topic: "gone", Partition: 0}: 7}); err != nil {
		t.Fatal(err)
	}
	c, err := NewCleaner(CleanerOptions{FS: vfs.OS, Dir: dir, Logs: func() []Log { return logs }, Now: func() time.Time { return time.UnixMilli(10) },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstDirty(checkpoint.TopicPartition{Topic: "gone", Partition: 0}) != 7 {
		t.Fatal("the cleaner did not read its checkpoint")
	}
	st, err := c.RunOnce(false)
	if err == nil || !errors.Is(err, failing.createErr) || errors.Is(err, closed.createErr) {
		t.Fatalf("pass error %v; want the failing log's and not the closed one's", err)
	}
	if st.Logs != 1 || st.RecordsRemoved != 1 || len(plain.swapped) != 0 {
		t.Fatalf("stats %+v, plain swapped %v; want the one compacted log cleaned", st, plain.swapped)
	}
	ck, err := checkpoint.Read(vfs.OS, filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[checkpoint.TopicPartition]int64{{Topic: "good", Partition: 0}: 2}; fmt.Sprint(ck) != fmt.Sprint(want) {
		t.Fatalf("checkpoint %v, want %v: the cleaned log's first dirty offset, the gone log dropped", ck, want)
	}
	// Nothing dirty now: not due, unless forced.
	if st, _ := c.RunOnce(false); st.Logs != 0 || len(good.swapped) != 1 {
		t.Fatalf("second pass: %+v, swaps %v; want nothing done", st, good.swapped)
	}
}
