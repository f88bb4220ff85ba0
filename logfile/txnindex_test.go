package logfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"samsa/record"
	"samsa/txnindex"
)

// txnBatch is a transactional batch of n records of producer pid.
func txnBatch(pid int64, seq int32, n int) []byte {
	b := record.NewBuilder(1000)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	for range n {
		b.Add(1000, []byte("k"), bytes.Repeat([]byte{'v'}, 100))
	}
	out, _ := b.AppendTo(nil)
	return out
}

func markerBatch(pid int64, commit bool) []byte {
	typ := record.ControlAbort
	if commit {
		typ = record.ControlCommit
	}
	return record.AppendEndTxnMarker(nil, pid, 0, record.EndTxnMarker{Type: typ}, 1000)
}

// txnTracker is the producer state's part that the index needs, for the
// tests of this package: the first offset of each producer's open
// transaction.
type txnTracker struct{ open map[int64]int64 }

func (tr *txnTracker) plan(bs *record.Batches) ([]AbortedTxn, error) {
	var out []AbortedTxn
	open := map[int64]int64{}
	for k, v := range tr.open {
		open[k] = v
	}
	for h, b := range bs.All() {
		if a, ok := applyTxn(open, h, b); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

func applyTxn(open map[int64]int64, h *record.Header, b []byte) (AbortedTxn, bool) {
	if !h.IsTransactional() {
		return AbortedTxn{}, false
	}
	first, isOpen := open[h.ProducerID]
	if !h.IsControl() {
		if !isOpen {
			open[h.ProducerID] = h.BaseOffset
		}
		return AbortedTxn{}, false
	}
	delete(open, h.ProducerID)
	m, _, _ := record.ParseEndTxnMarker(b, h)
	if !isOpen || m.Commit() {
		return AbortedTxn{}, false
	}
	lso := h.BaseOffset + 1
	for _, f := range open {
		lso = min(lso, f)
	}
	return AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: lso}, true
}

// appendTxn appends one batch through the plan and applies it.
func (tr *txnTracker) appendTxn(t *testing.T, l *Log, b []byte) int64 {
	t.Helper()
	bs, err := record.ValidateProduce(b, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	info, err := l.AppendValidatedTxn(&bs, tr.plan)
	if err != nil {
		t.Fatal(err)
	}
	for h, b := range bs.All() {
		applyTxn(tr.open, h, b)
	}
	return info.FirstOffset
}

// TestTxnIndexAppendCollect: an ABORT marker of a transaction with data
// adds its entry to the index of the marker's segment, on disk in Kafka's
// bytes; commits and aborts without data add none; AbortedTxns finds the
// transactions overlapping a range across segments and stops at the first
// entry whose last stable offset reaches the range's end.
func TestTxnIndexAppendCollect(t *testing.T) {
	dir := partDir(t)
	cfg := smallConfig()
	cfg.SegmentBytes = 2000
	l := openLog(t, dir, cfg, Options{})
	defer l.Close()
	tr := &txnTracker{open: map[int64]int64{}}
	a1 := tr.appendTxn(t, l, txnBatch(1, 0, 3))     // 0-2
	tr.appendTxn(t, l, txnBatch(2, 0, 3))           // 3-5, producer 2 stays open
	tr.appendTxn(t, l, txnBatch(1, 3, 3))           // 6-8
	m1 := tr.appendTxn(t, l, markerBatch(1, false)) // 9: abort of producer 1
	tr.appendTxn(t, l, markerBatch(3, false))       // 10: abort without data
	tr.appendTxn(t, l, txnBatch(4, 0, 2))           // 11-12
	tr.appendTxn(t, l, markerBatch(4, true))        // 13: commit
	m2 := tr.appendTxn(t, l, markerBatch(2, false)) // 14: abort of producer 2
	for i := range 10 {
		tr.appendTxn(t, l, txnBatch(5, int32(3*i), 3))
	}
	m3 := tr.appendTxn(t, l, markerBatch(5, false))
	want := []AbortedTxn{
		{ProducerID: 1, FirstOffset: a1, LastOffset: m1, LastStableOffset: 3}, // producer 2 still open at 3
		{ProducerID: 2, FirstOffset: 3, LastOffset: m2, LastStableOffset: m2 + 1},
		{ProducerID: 5, FirstOffset: m2 + 1, LastOffset: m3, LastStableOffset: m3 + 1},
	}
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments: the test needs the markers in different segments", l.NumSegments())
	}
	var all []AbortedTxn
	var onDisk []byte
	for _, base := range l.SegmentBases() {
		es := l.SegmentTxns(base)
		all = append(all, es...)
		for _, a := range es {
			s := segmentFor(*l.segs.Load(), a.LastOffset)
			if (*l.segs.Load())[s].base != base {
				t.Errorf("entry %+v in the index of segment %d, its marker is in %d", a, base, (*l.segs.Load())[s].base)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, SegmentName(base, TxnIndexSuffix)))
		if err != nil && len(es) > 0 {
			t.Fatalf("segment %d: %v", base, err)
		}
		onDisk = append(onDisk, b...)
	}
	if !slices.Equal(all, want) {
		t.Fatalf("entries %+v\nwant %+v", all, want)
	}
	var wantBytes []byte
	for _, a := range want {
		wantBytes = txnindex.AppendEntry(wantBytes, a)
	}
	mustEqual(t, onDisk, wantBytes)

	for _, c := range []struct {
		from, upTo int64
		want       []AbortedTxn
	}{
		{0, 3, want[:1]},           // producer 1's; its LSO 3 ends the search
		{0, 15, want[:2]},          // both; producer 2's LSO 15 ends it
		{9, 10, want[:2]},          // the marker itself is in range
		{10, 14, want[1:2]},        // producer 1 ended at 9
		{m2 + 1, m3 + 1, want[2:]}, // in a later segment
		{m3 + 1, m3 + 1, nil},
	} {
		if got := l.AbortedTxns(c.from, c.upTo); !slices.Equal(got, c.want) {
			t.Errorf("AbortedTxns(%d, %d) = %+v, want %+v", c.from, c.upTo, got, c.want)
		}
	}
}

// TestTxnIndexTruncate: truncating below a marker drops its entry, in
// memory and on disk; truncating the whole log drops every index file.
func TestTxnIndexTruncate(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	tr := &txnTracker{open: map[int64]int64{}}
	tr.appendTxn(t, l, txnBatch(1, 0, 2))
	m1 := tr.appendTxn(t, l, markerBatch(1, false))
	tr.appendTxn(t, l, txnBatch(2, 0, 2))
	m2 := tr.appendTxn(t, l, markerBatch(2, false))
	if got := l.AbortedTxns(0, m2+1); len(got) != 2 {
		t.Fatalf("before truncation: %+v", got)
	}
	if err := l.TruncateTo(m2); err != nil {
		t.Fatal(err)
	}
	got := l.AbortedTxns(0, m2+1)
	if len(got) != 1 || got[0].LastOffset != m1 {
		t.Fatalf("after truncation to %d: %+v", m2, got)
	}
	b, err := os.ReadFile(filepath.Join(dir, SegmentName(0, TxnIndexSuffix)))
	if err != nil || len(b) != txnindex.EntrySize {
		t.Fatalf("index file after truncation: %d bytes, %v", len(b), err)
	}
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if got := l.AbortedTxns(0, 200); got != nil {
		t.Fatalf("after full truncation: %+v", got)
	}
	l.Close()
	// The removed index goes with its segment (deleted at the next open).
	r := openLog(t, dir, smallConfig(), Options{Clean: true})
	defer r.Close()
	if _, err := os.Stat(filepath.Join(dir, SegmentName(0, TxnIndexSuffix))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("index of a truncated segment: %v", err)
	}
}

// TestTxnIndexRetention: a segment deleted by the log start offset takes
// its transaction index with it.
func TestTxnIndexRetention(t *testing.T) {
	dir := partDir(t)
	cfg := smallConfig()
	cfg.SegmentBytes = 1500
	l := openLog(t, dir, cfg, Options{})
	tr := &txnTracker{open: map[int64]int64{}}
	tr.appendTxn(t, l, txnBatch(1, 0, 2))
	tr.appendTxn(t, l, markerBatch(1, false))
	for i := range 6 {
		tr.appendTxn(t, l, txnBatch(2, int32(2*i), 2))
	}
	first := l.SegmentBases()[0]
	if len(l.SegmentTxns(first)) != 1 || l.NumSegments() < 2 {
		t.Fatalf("setup: %d segments, first index %+v", l.NumSegments(), l.SegmentTxns(first))
	}
	if _, err := l.DeleteRecordsBefore(l.SegmentBases()[1]); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, SegmentName(first, TxnIndexSuffix))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("index of a deleted segment: %v", err)
	}
}

// TestTxnIndexRecovery: after an unclean shutdown a scanned segment that
// holds a marker awaits the rebuild of its index (its old entries are not
// trusted, the recovery point stays at or below it until the rebuild);
// one without markers loses a stray index. The rebuild writes the entries
// given for those segments only and lets the recovery point move on. A
// corrupt index found on a clean open awaits a rebuild too.
func TestTxnIndexRecovery(t *testing.T) {
	dir := partDir(t)
	cfg := smallConfig()
	cfg.SegmentBytes = 1500
	l := openLog(t, dir, cfg, Options{})
	tr := &txnTracker{open: map[int64]int64{}}
	tr.appendTxn(t, l, txnBatch(1, 0, 2))
	tr.appendTxn(t, l, markerBatch(1, false))
	for i := range 12 {
		tr.appendTxn(t, l, txnBatch(2, int32(2*i), 2))
	}
	m2 := tr.appendTxn(t, l, markerBatch(2, false))
	bases := l.SegmentBases()
	last := bases[len(bases)-1]
	if len(bases) < 3 {
		t.Fatalf("segments %v: the test needs one without markers between the two with", bases)
	}
	entries := l.AbortedTxns(0, l.EndOffset())
	if len(entries) != 2 || len(l.SegmentTxns(last)) != 1 {
		t.Fatalf("setup: %+v, last segment's %+v", entries, l.SegmentTxns(last))
	}
	l.Close()
	// A stray index beside a segment without markers.
	stray := filepath.Join(dir, SegmentName(bases[1], TxnIndexSuffix))
	os.WriteFile(stray, txnindex.AppendEntry(nil, AbortedTxn{ProducerID: 9, FirstOffset: bases[1], LastOffset: bases[1] + 1, LastStableOffset: bases[1] + 2}), 0o644)

	r := openLog(t, dir, cfg, Options{RecoveryPoint: bases[1]})
	if got := r.TxnIndexRebuildFrom(); got != last {
		t.Fatalf("TxnIndexRebuildFrom = %d, want %d (the scanned segment with a marker)", got, last)
	}
	if rp := r.RecoveryPoint(); rp > last {
		t.Fatalf("recovery point %d passed the segment awaiting its index, %d", rp, last)
	}
	if got := r.SegmentTxns(last); got != nil {
		t.Fatalf("entries trusted before the rebuild: %+v", got)
	}
	if got := r.SegmentTxns(bases[0]); len(got) != 1 {
		t.Fatalf("unscanned segment lost its entry: %+v", got)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stray index of a scanned segment without markers: %v", err)
	}
	// The replay's entries: one for the stale segment, one for an older
	// segment that must be left as it is.
	if err := r.RebuildTxnIndex([]AbortedTxn{{ProducerID: 9, FirstOffset: 0, LastOffset: 2, LastStableOffset: 3}, entries[1]}); err != nil {
		t.Fatal(err)
	}
	if got := r.AbortedTxns(0, r.EndOffset()); !slices.Equal(got, entries) {
		t.Fatalf("after rebuild: %+v, want %+v", got, entries)
	}
	if r.TxnIndexRebuildFrom() != -1 || r.RecoveryPoint() != r.EndOffset() {
		t.Fatalf("after rebuild: rebuild from %d, recovery point %d of %d", r.TxnIndexRebuildFrom(), r.RecoveryPoint(), r.EndOffset())
	}
	r.Close()

	// Clean open: a torn index awaits a rebuild.
	idx := filepath.Join(dir, SegmentName(last, TxnIndexSuffix))
	b, _ := os.ReadFile(idx)
	if len(b) != txnindex.EntrySize || m2 < last {
		t.Fatalf("index of the last segment: %d bytes", len(b))
	}
	os.WriteFile(idx, b[:txnindex.EntrySize-3], 0o644)
	r = openLog(t, dir, cfg, Options{Clean: true})
	defer r.Close()
	if r.TxnIndexRebuildFrom() != last || r.SegmentTxns(last) != nil {
		t.Fatalf("torn index on a clean open: rebuild from %d, entries %+v", r.TxnIndexRebuildFrom(), r.SegmentTxns(last))
	}
}
