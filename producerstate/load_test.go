package producerstate

import (
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"samsa/logfile"
	"samsa/record"
)

func openTestLog(t *testing.T, dir string, opts logfile.Options) *logfile.Log {
	t.Helper()
	cfg := logfile.DefaultConfig()
	cfg.SegmentBytes = 1200
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := logfile.Open(dir, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func txnData(pid int64, seq int32, n int) []byte {
	b := record.NewBuilder(1)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	for range n {
		b.Add(1, []byte("key"), make([]byte, 60))
	}
	out, _ := b.AppendTo(nil)
	return out
}

// appendAs appends a batch as the leader does: the plan writes the
// index entries, the state applies the batch after.
func appendAs(t *testing.T, l *logfile.Log, p *Producers, b []byte) int64 {
	t.Helper()
	bs, err := record.ValidateProduce(b, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	info, err := l.AppendValidatedTxn(&bs, p.State.PlanAborts)
	if err != nil {
		t.Fatal(err)
	}
	for h, b := range bs.All() {
		if _, _, err := p.State.Apply(h, b, 1); err != nil {
			t.Fatal(err)
		}
	}
	p.Publish(l.HighWatermark())
	return info.FirstOffset
}

// TestLoadAfterCrashWithOpenTransactions: after an unclean shutdown with
// transactions open and aborted across segments, Load rebuilds the open
// transactions (so the last stable offset is where it was) and the
// transaction index entries of the scanned segments, from a snapshot at
// or below the first of them: a newer snapshot, which knows nothing of
// what came before it, is passed over.
func TestLoadAfterCrashWithOpenTransactions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTestLog(t, dir, logfile.Options{})
	p, err := Load(l)
	if err != nil {
		t.Fatal(err)
	}
	l.SetLastStableFunc(p.LastStable)
	first1 := appendAs(t, l, p, txnData(1, 0, 3))
	first2 := appendAs(t, l, p, txnData(2, 0, 3)) // stays open
	seq := int32(3)
	for range 6 {
		appendAs(t, l, p, txnData(1, seq, 3))
		seq += 3
	}
	abort1 := appendAs(t, l, p, record.AppendEndTxnMarker(nil, 1, 0, record.EndTxnMarker{Type: record.ControlAbort}, 1))
	for range 4 {
		appendAs(t, l, p, txnData(3, seq-18, 3))
		seq += 3
	}
	abort3 := appendAs(t, l, p, record.AppendEndTxnMarker(nil, 3, 0, record.EndTxnMarker{Type: record.ControlAbort}, 1))
	want := []logfile.AbortedTxn{
		{ProducerID: 1, FirstOffset: first1, LastOffset: abort1, LastStableOffset: first2},
		{ProducerID: 3, FirstOffset: abort1 + 1, LastOffset: abort3, LastStableOffset: first2},
	}
	if got := l.AbortedTxns(0, l.EndOffset()); !slices.Equal(got, want) {
		t.Fatalf("index before the crash %+v\nwant %+v", got, want)
	}
	if lso := l.LastStableOffset(); lso != first2 {
		t.Fatalf("last stable offset %d, want %d (producer 2's open transaction)", lso, first2)
	}
	bases := l.SegmentBases()
	if len(bases) < 3 || segmentOf(bases, abort1) == segmentOf(bases, abort3) {
		t.Fatalf("segments %v: the markers must be in different segments", bases)
	}
	// A snapshot at the log end, newer than the recovery point.
	if err := p.Snapshot(l.EndOffset()); err != nil {
		t.Fatal(err)
	}
	end := l.EndOffset()
	l.Close()

	// Crash: everything from the segment of the first abort is scanned.
	rp := bases[segmentOf(bases, abort1)]
	r := openTestLog(t, dir, logfile.Options{RecoveryPoint: rp})
	defer r.Close()
	if r.TxnIndexRebuildFrom() != rp {
		t.Fatalf("rebuild from %d, want %d", r.TxnIndexRebuildFrom(), rp)
	}
	q, err := Load(r)
	if err != nil {
		t.Fatal(err)
	}
	r.SetLastStableFunc(q.LastStable)
	if got := r.AbortedTxns(0, end); !slices.Equal(got, want) {
		t.Fatalf("index after recovery %+v\nwant %+v", got, want)
	}
	if r.TxnIndexRebuildFrom() != -1 || r.RecoveryPoint() != end {
		t.Fatalf("after Load: rebuild from %d, recovery point %d of %d", r.TxnIndexRebuildFrom(), r.RecoveryPoint(), end)
	}
	if !slices.Equal(q.State.OpenTxns(), []TxnSpan{{2, first2, -1}}) {
		t.Fatalf("open transactions after recovery: %+v", q.State.OpenTxns())
	}
	if lso := r.LastStableOffset(); lso != first2 {
		t.Fatalf("last stable offset after recovery %d, want %d", lso, first2)
	}
	// Producer 1 goes on where it was.
	if _, err := q.State.Check(txnHeader(1, 0, 21, 1)); err != nil {
		t.Fatalf("producer 1's next batch: %v", err)
	}
}

func segmentOf(bases []int64, off int64) int {
	i := 0
	for i+1 < len(bases) && bases[i+1] <= off {
		i++
	}
	return i
}
