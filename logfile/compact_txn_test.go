package logfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"samsa/record"
)

// txnKV is a transactional batch of producer pid with keyed records.
func txnKV(pid int64, seq int32, recs ...kv) []byte {
	b := record.NewBuilder(1000)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	for _, r := range recs {
		b.Add(1000, []byte(r.key), []byte(r.value))
	}
	out, _ := b.AppendTo(nil)
	return out
}

// batchesOf returns the headers of the log's batches, markers with their
// type (-1 for data).
func batchesOf(t *testing.T, l *Log) (hs []record.Header, types []int16) {
	t.Helper()
	err := l.ScanProducerBatches(l.StartOffset(), func(h *record.Header, control []byte) bool {
		hs = append(hs, *h)
		typ := int16(-1)
		if h.IsControl() {
			m, ok, _ := record.ParseEndTxnMarker(control, h)
			typ = -2 // emptied
			if ok {
				typ = m.Type
			}
		}
		types = append(types, typ)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs, types
}

// TestCompactTransactions: Kafka's cleaner rules for transactions.
// Aborted records never supersede committed ones and are dropped; an
// ABORT marker stays, with its transaction index entry in the cleaned
// segment, while records of its transaction remain; once they are gone
// the marker is stamped with a delete horizon (delete.retention.ms
// ahead) and its entry leaves the index; after the horizon it goes,
// unless it is its producer's last batch, which stays empty. A COMMIT
// marker stays while records of its transaction remain.
func TestCompactTransactions(t *testing.T) {
	dir := partDir(t)
	cfg := smallConfig()
	cfg.Compact, cfg.SegmentBytes, cfg.DeleteRetentionMs = true, 600, 60_000
	l := openLog(t, dir, cfg, Options{})
	defer l.Close()
	tr := &txnTracker{open: map[int64]int64{}}
	tr.appendTxn(t, l, kvBatch(1000, -1, 0, kv{key: "a", value: "committed"})) // 0
	tr.appendTxn(t, l, txnKV(1, 0, kv{key: "a", value: "aborted"}))            // 1
	abort1 := tr.appendTxn(t, l, markerBatch(1, false))                        // 2
	tr.appendTxn(t, l, txnKV(2, 0, kv{key: "b", value: "txn"}))                // 3
	commit2 := tr.appendTxn(t, l, markerBatch(2, true))                        // 4
	tr.appendTxn(t, l, txnKV(1, 1, kv{key: "c", value: "later"}))              // 5
	commit1 := tr.appendTxn(t, l, markerBatch(1, true))                        // 6
	tr.appendTxn(t, l, txnKV(3, 0, kv{key: "d", value: "aborted-last"}))       // 7
	abort3 := tr.appendTxn(t, l, markerBatch(3, false))                        // 8
	for i := range 8 {
		tr.appendTxn(t, l, kvBatch(1000, -1, 0, kv{key: "filler", value: string(rune('0' + i))}))
	}
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments: the markers must leave the active segment", l.NumSegments())
	}
	now := time.UnixMilli(1_000_000)
	compact := func() {
		t.Helper()
		if _, err := l.Compact(CompactOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
	}

	compact()
	latest := latestOf(readRecords(t, l))
	if latest["a"].value != "committed" || latest["b"].value != "txn" || latest["c"].value != "later" {
		t.Fatalf("after the first pass: %+v", latest)
	}
	if _, ok := latest["d"]; ok {
		t.Fatal("an aborted record survived")
	}
	for _, r := range readRecords(t, l) {
		if r.value == "aborted" || r.value == "aborted-last" {
			t.Fatalf("aborted record at %d kept", r.offset)
		}
	}
	hs, types := batchesOf(t, l)
	markerAt := func(off int64) (record.Header, int16, bool) {
		for i, h := range hs {
			if h.BaseOffset == off && h.IsControl() {
				return h, types[i], true
			}
		}
		return record.Header{}, 0, false
	}
	for _, off := range []int64{abort1, commit2, commit1, abort3} {
		if h, _, ok := markerAt(off); !ok || h.Attributes&attrDeleteHorizon != 0 {
			t.Fatalf("marker at %d after the first pass: kept %v, horizon %v", off, ok, h.Attributes&attrDeleteHorizon != 0)
		}
	}
	entries := l.AbortedTxns(0, l.EndOffset())
	if len(entries) != 2 || entries[0].LastOffset != abort1 || entries[1].LastOffset != abort3 {
		t.Fatalf("index after the first pass: %+v", entries)
	}

	// Second pass: the aborted records are gone, so both aborts guard
	// nothing: stamped, their entries leave the index. The commits still
	// guard records.
	compact()
	hs, types = batchesOf(t, l)
	for _, off := range []int64{abort1, abort3} {
		h, typ, ok := markerAt(off)
		if !ok || h.Attributes&attrDeleteHorizon == 0 || h.FirstTimestamp != now.UnixMilli()+cfg.DeleteRetentionMs || typ != record.ControlAbort {
			t.Fatalf("abort at %d after the second pass: kept %v, %+v", off, ok, h)
		}
	}
	for _, off := range []int64{commit2, commit1} {
		if h, _, ok := markerAt(off); !ok || h.Attributes&attrDeleteHorizon != 0 {
			t.Fatalf("commit at %d after the second pass: kept %v, %+v", off, ok, h)
		}
	}
	if got := l.AbortedTxns(0, l.EndOffset()); len(got) != 0 {
		t.Fatalf("index after the second pass: %+v", got)
	}
	for _, base := range l.SegmentBases() {
		if _, err := os.Stat(filepath.Join(dir, SegmentName(base, TxnIndexSuffix))); err == nil && len(l.SegmentTxns(base)) == 0 {
			t.Errorf("an empty transaction index file is left for segment %d", base)
		}
	}

	// Before the horizon nothing more goes; after it, producer 1's abort
	// goes (its later commit is its last batch) and producer 3's stays
	// empty (its last batch).
	now = now.Add(time.Duration(cfg.DeleteRetentionMs-1) * time.Millisecond)
	compact()
	if _, _, ok := markerAt(abort1); !ok {
		t.Fatal("abort removed before its delete horizon")
	}
	now = now.Add(time.Millisecond)
	compact()
	hs, types = batchesOf(t, l)
	if _, _, ok := markerAt(abort1); ok {
		t.Fatal("abort of producer 1 kept past its delete horizon")
	}
	h, typ, ok := markerAt(abort3)
	if !ok || h.RecordCount != 0 || typ != -2 {
		t.Fatalf("producer 3's last batch: kept %v, %d records, type %d", ok, h.RecordCount, typ)
	}
	latest = latestOf(readRecords(t, l))
	if latest["a"].value != "committed" || latest["b"].value != "txn" {
		t.Fatalf("after the last pass: %+v", latest)
	}
	if i := slices.IndexFunc(hs, func(h record.Header) bool { return h.BaseOffset == commit2 }); i < 0 {
		t.Fatal("the commit of a transaction whose record remains was removed")
	}
}
