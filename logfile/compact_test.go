package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/compact"
	"samsa/logfile/vfs"
	"samsa/record"
	"samsa/record/codec"
)

// kv is one record of a test batch; tomb makes a null value.
type kv struct {
	key, value string
	tomb       bool
}

// kvBatch builds an uncompressed batch of keyed records with timestamp ts,
// as producer pid (-1: none) with base sequence seq.
func kvBatch(ts, pid int64, seq int32, recs ...kv) []byte {
	b := record.NewBuilder(ts)
	if pid >= 0 {
		b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	}
	for _, r := range recs {
		key, value := []byte(r.key), []byte(r.value)
		if r.key == "\x00nil" {
			key = nil
		}
		if r.tomb {
			value = nil
		}
		b.Add(ts, key, value)
	}
	out, _ := b.AppendTo(nil)
	return out
}

// gzipBatch compresses a kvBatch's records with gzip.
func gzipBatch(t testing.TB, b []byte) []byte {
	t.Helper()
	body, _ := codec.Compress(codec.Gzip, nil, b[record.HeaderSize:])
	nb := append(append([]byte(nil), b[:record.HeaderSize]...), body...)
	record.SetCodec(nb, int(codec.Gzip))
	record.SetLength(nb, int32(len(nb)-record.LogOverhead))
	record.SetCRC(nb)
	return nb
}

// logRecord is a record as read back.
type logRecord struct {
	offset int64
	key    string
	value  string
	tomb   bool
}

// readRecords reads every record of the log through Read, decompressing
// gzip batches, checking CRCs and that offsets increase.
func readRecords(t testing.TB, l *Log) []logRecord {
	t.Helper()
	var out []logRecord
	off, last := l.StartOffset(), int64(-1)
	for off < l.EndOffset() {
		r, err := l.Read(off, 1<<20, l.EndOffset())
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if r.Len == 0 {
			break
		}
		b, err := r.Bytes()
		r.Release()
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := record.ParseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := record.CheckCRC(b, &h); err != nil {
				t.Fatal(err)
			}
			recs, err := record.Inflate(b, &h, nil, 256<<20)
			if err != nil {
				t.Fatalf("batch at %d: %v", h.BaseOffset, err)
			}
			n := 0
			it := record.NewIter(recs, h.RecordCount)
			for ; it.Next(); n++ {
				rv := it.Record()
				if rv.Offset(&h) <= last {
					t.Fatalf("offset %d after %d", rv.Offset(&h), last)
				}
				last = rv.Offset(&h)
				lr := logRecord{offset: last, key: string(rv.Key), tomb: rv.Value == nil}
				if !lr.tomb {
					lr.value = string(rv.Value)
				}
				out = append(out, lr)
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if int32(n) != h.RecordCount {
				t.Fatalf("batch at %d: %d records, header says %d", h.BaseOffset, n, h.RecordCount)
			}
			off = h.NextOffset()
			b = b[h.Size():]
		}
	}
	return out
}

// latest returns the last value (or tombstone) written for every key.
func latestOf(recs []logRecord) map[string]logRecord {
	m := map[string]logRecord{}
	for _, r := range recs {
		m[r.key] = r
	}
	return m
}

func compactConfig() Config {
	c := smallConfig()
	c.SegmentBytes = 4096
	c.Compact, c.NoDelete = true, true
	c.DeleteRetentionMs = 60_000
	return c
}

// fill writes rounds of updates to keys k0..k(keys-1), one record per
// batch, with values "r<round>-k<i>".
func fill(t testing.TB, l *Log, clk *clock, rounds, keys int) {
	t.Helper()
	for r := range rounds {
		for k := range keys {
			mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: fmt.Sprintf("k%d", k), value: fmt.Sprintf("r%d-k%d", r, k)}))
		}
	}
}

// TestCompactKeepsLatest: after compaction every key of the cleaned
// segments appears once, with its latest value and offset; the active
// segment is untouched; offsets and the log end do not move; the result
// survives clean and unclean reopens and appends continue.
func TestCompactKeepsLatest(t *testing.T) {
	dir := partDir(t)
	clk := newClock(1_000_000)
	cfg := compactConfig()
	l := openLog(t, dir, cfg, Options{Now: clk.Now})
	fill(t, l, clk, 40, 10)
	before := readRecords(t, l)
	want := latestOf(before)
	end, segsBefore := l.EndOffset(), l.NumSegments()
	if segsBefore < 5 {
		t.Fatalf("%d segments; want several", segsBefore)
	}
	active := l.SegmentBases()[segsBefore-1]

	res, err := l.Compact(compact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsRemoved == 0 || res.BytesAfter >= res.BytesBefore || res.CleanedTo != active {
		t.Fatalf("compaction result %+v; want records removed, fewer bytes, cleaned to %d", res, active)
	}
	check := func(l *Log, what string) {
		t.Helper()
		after := readRecords(t, l)
		if l.EndOffset() != end {
			t.Fatalf("%s: log end %d, want %d", what, l.EndOffset(), end)
		}
		if got := latestOf(after); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: latest values differ:\n got %v\nwant %v", what, got, want)
		}
		seen := map[string]int{}
		for _, r := range after {
			if r.offset < active {
				seen[r.key]++
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("%s: key %s appears %d times below the active segment", what, k, n)
			}
		}
		// The active segment's records are all still there.
		var act, actBefore int
		for _, r := range after {
			if r.offset >= active {
				act++
			}
		}
		for _, r := range before {
			if r.offset >= active {
				actBefore++
			}
		}
		if act != actBefore {
			t.Fatalf("%s: %d records in the active segment, want %d", what, act, actBefore)
		}
	}
	check(l, "after compaction")
	// Segments shrunk by the first pass merge in the next.
	if _, err := l.Compact(compact.Options{}); err != nil {
		t.Fatal(err)
	}
	check(l, "after a second compaction")
	if l.NumSegments() >= segsBefore {
		t.Fatalf("%d segments after compaction, %d before: want them merged", l.NumSegments(), segsBefore)
	}
	// Reading at an offset removed by compaction gives the next record.
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil || r.Len == 0 {
		t.Fatalf("Read(0) after compaction: %v, %d bytes", err, r.Len)
	}
	r.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, Options{Now: clk.Now, Clean: true})
	check(l, "after a clean reopen")
	l.Close()
	l = openLog(t, dir, cfg, Options{Now: clk.Now, Clean: false})
	check(l, "after an unclean reopen")
	info := mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k0", value: "new"}))
	if info.first != end {
		t.Fatalf("append after compaction at %d, want %d", info.first, end)
	}
	l.Close()
	matches, _ := filepath.Glob(filepath.Join(dir, "*"+CleanedSuffix))
	swaps, _ := filepath.Glob(filepath.Join(dir, "*"+SwapSuffix))
	if len(matches)+len(swaps) > 0 {
		t.Fatalf("leftover files: %v %v", matches, swaps)
	}
}

// TestCompactTombstones: a tombstone hides its key's older values at once
// and is itself removed once older than delete.retention.ms; null-key
// records go.
func TestCompactTombstones(t *testing.T) {
	dir := partDir(t)
	clk := newClock(1_000_000)
	cfg := compactConfig()
	l := openLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	fill(t, l, clk, 20, 4)
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k1", tomb: true}, kv{key: "\x00nil", value: "no key"}))
	fill(t, l, clk, 20, 1) // more k0 to push the tombstone out of the active segment
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Compact(compact.Options{}); err != nil {
		t.Fatal(err)
	}
	got := latestOf(readRecords(t, l))
	if r, ok := got["k1"]; !ok || !r.tomb {
		t.Fatalf("k1 after compaction: %+v, want its tombstone kept for delete.retention.ms", r)
	}
	if _, ok := got[""]; ok {
		t.Fatal("a null-key record survived compaction")
	}
	n := 0
	for _, r := range readRecords(t, l) {
		if r.key == "k1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("k1 appears %d times; want only its tombstone", n)
	}
	clk.Advance(2 * time.Minute)
	if _, err := l.Compact(compact.Options{}); err != nil {
		t.Fatal(err)
	}
	got = latestOf(readRecords(t, l))
	if r, ok := got["k1"]; ok {
		t.Fatalf("k1 after delete.retention.ms: %+v, want gone", r)
	}
	if got["k0"].value != "r19-k0" || got["k2"].value != "r19-k2" {
		t.Fatalf("other keys lost: %v", got)
	}
}

// TestCompactLagAndActive: segments younger than min.compaction.lag.ms and
// the active segment are not cleaned.
func TestCompactLagAndActive(t *testing.T) {
	dir := partDir(t)
	clk := newClock(1_000_000)
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 60_000
	l := openLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	fill(t, l, clk, 20, 4)
	res, err := l.Compact(compact.Options{})
	if err != nil || res.Segments != 0 || res.RecordsRemoved != 0 {
		t.Fatalf("compaction within the lag: %+v, %v; want nothing done", res, err)
	}
	clk.Advance(2 * time.Minute)
	res, err = l.Compact(compact.Options{})
	if err != nil || res.RecordsRemoved == 0 {
		t.Fatalf("compaction after the lag: %+v, %v; want records removed", res, err)
	}
	one := openLog(t, partDir(t), compactConfig(), Options{Now: clk.Now})
	defer one.Close()
	fill(t, one, clk, 3, 1) // one segment: the active one
	if res, err := one.Compact(compact.Options{}); err != nil || res.Segments != 0 {
		t.Fatalf("compacting a log of one active segment: %+v, %v", res, err)
	}
	if n := len(readRecords(t, one)); n != 3 {
		t.Fatalf("%d records in the active segment, want 3", n)
	}
}

// TestCompactCompressed: gzip batches are decompressed, filtered and
// recompressed with a Codec; without one they stay whole and tombstones
// stay too.
func TestCompactCompressed(t *testing.T) {
	for _, withCodec := range []bool{true, false} {
		t.Run(fmt.Sprint("codec=", withCodec), func(t *testing.T) {
			clk := newClock(1_000_000)
			cfg := compactConfig()
			l := openLog(t, partDir(t), cfg, Options{Now: clk.Now})
			defer l.Close()
			for r := range 30 {
				var recs []kv
				for k := range 5 {
					recs = append(recs, kv{key: fmt.Sprintf("k%d", k), value: fmt.Sprintf("r%d-k%d-%s", r, k, strings.Repeat("x", 50))})
				}
				mustAppend(t, l, gzipBatch(t, kvBatch(clk.Now().UnixMilli(), -1, -1, recs...)))
				mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "plain", value: fmt.Sprint(r)}))
			}
			mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "plain", tomb: true}))
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			clk.Advance(2 * time.Minute)
			want := latestOf(readRecords(t, l))
			res, err := l.Compact(compact.Options{KeepCompressed: !withCodec})
			if err != nil {
				t.Fatal(err)
			}
			got := readRecords(t, l)
			latest := latestOf(got)
			for k, w := range want {
				if k == "plain" {
					continue
				}
				if latest[k] != w {
					t.Fatalf("key %s: %+v, want %+v", k, latest[k], w)
				}
			}
			_, plain := latest["plain"]
			if withCodec {
				if len(got) != 5 || plain {
					t.Fatalf("with a codec: %d records (plain kept: %v), want the 5 latest and the old tombstone gone", len(got), plain)
				}
			} else {
				if !plain || !latest["plain"].tomb || res.RecordsRemoved == 0 {
					t.Fatalf("without a codec: plain %+v, %d removed; want the tombstone kept and older plain values removed", latest["plain"], res.RecordsRemoved)
				}
			}
		})
	}
}

// TestCompactKeepsProducerLastBatch: a batch of an idempotent producer
// that loses all its records stays, empty, when it is the producer's last
// batch, with its offsets and sequence.
func TestCompactKeepsProducerLastBatch(t *testing.T) {
	clk := newClock(1_000_000)
	l := openLog(t, partDir(t), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	a := mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), 7, 0, kv{key: "a", value: "1"}, kv{key: "b", value: "1"}))
	b := mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), 7, 2, kv{key: "a", value: "2"}, kv{key: "b", value: "2"}))
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "a", value: "3"}, kv{key: "b", value: "3"}))
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Compact(compact.Options{}); err != nil {
		t.Fatal(err)
	}
	var headers []record.Header
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	r.Headers(func(h *record.Header) bool { headers = append(headers, *h); return true })
	r.Release()
	if len(headers) != 2 {
		t.Fatalf("%d batches after compaction, want producer 7's last (empty) and the latest", len(headers))
	}
	h := headers[0]
	if h.BaseOffset != b.first || h.LastOffset() != b.last || h.RecordCount != 0 || h.ProducerID != 7 || h.BaseSequence != 2 {
		t.Fatalf("kept batch %+v; want producer 7's batch at [%d, %d] with no records", h, b.first, b.last)
	}
	_ = a
}

// TestCompactFinishesSwap: a crash after the swap file was committed is
// completed at open, whatever step it stopped at; a crash before it leaves
// the old segments.
func TestCompactFinishesSwap(t *testing.T) {
	clk := newClock(1_000_000)
	cfg := compactConfig()
	orig := partDir(t)
	l := openLog(t, orig, cfg, Options{Now: clk.Now})
	fill(t, l, clk, 40, 10)
	l.Close()
	snapshot := func() map[string][]byte {
		m := map[string][]byte{}
		ents, _ := os.ReadDir(orig)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(orig, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m[e.Name()] = b
		}
		return m
	}
	before := snapshot()
	l = openLog(t, orig, cfg, Options{Now: clk.Now, Clean: true})
	want := readRecords(t, l)
	bases := l.SegmentBases()
	// Compact only the first two segments: one group [b0, b2).
	cfg2 := cfg
	cfg2.SegmentBytes = 2 * 4096
	l.SetConfig(cfg2)
	res, err := l.Compact(compact.Options{})
	if err != nil || res.Segments == 0 {
		t.Fatalf("compact: %+v %v", res, err)
	}
	var compacted []logRecord // the first group cleaned, the rest as before
	for _, r := range readRecords(t, l) {
		if r.offset < bases[2] {
			compacted = append(compacted, r)
		}
	}
	for _, r := range want {
		if r.offset >= bases[2] {
			compacted = append(compacted, r)
		}
	}
	l.Close()
	after := snapshot()
	cleanedB0 := after[SegmentName(bases[0], LogSuffix)]
	next := bases[2]
	if _, ok := after[SegmentName(bases[1], LogSuffix)]; ok {
		t.Fatalf("segment %d still there after a two-segment group was compacted", bases[1])
	}

	write := func(files map[string][]byte) string {
		d := partDir(t)
		os.MkdirAll(d, 0o755)
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(d, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		edit  func(m map[string][]byte)
		want  []logRecord
		clean bool
	}{
		{"cleaned file only", func(m map[string][]byte) {
			m[SegmentName(bases[0], LogSuffix+CleanedSuffix)] = cleanedB0[:len(cleanedB0)/2]
		}, want, true},
		{"swap committed", func(m map[string][]byte) {
			m[swapName(bases[0], next)] = cleanedB0
		}, compacted, true},
		{"old segments half renamed", func(m map[string][]byte) {
			m[swapName(bases[0], next)] = cleanedB0
			for _, suf := range []string{LogSuffix, IndexSuffix, TimeIndexSuffix} {
				n := SegmentName(bases[0], suf)
				m[n+DeletedSuffix] = m[n]
				delete(m, n)
			}
		}, compacted, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for n, b := range before {
				files[n] = b
			}
			tc.edit(files)
			d := write(files)
			l := openLog(t, d, cfg, Options{Now: clk.Now, Clean: tc.clean})
			defer l.Close()
			got := readRecords(t, l)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("after reopen: %d records, want %d", len(got), len(tc.want))
			}
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), SwapSuffix) || strings.HasSuffix(e.Name(), CleanedSuffix) || strings.HasSuffix(e.Name(), DeletedSuffix) {
					t.Fatalf("leftover %s after reopen", e.Name())
				}
			}
		})
	}
}

// TestCleaner: RunOnce compacts only logs with cleanup.policy=compact whose
// dirty ratio reaches min.cleanable.dirty.ratio, and checkpoints the first
// dirty offset; a compact-only log keeps expired segments.
func TestCleaner(t *testing.T) {
	clk := newClock(1_000_000)
	path := t.TempDir()
	cfgs := map[string]Config{}
	d, err := OpenDir(path, DirOptions{Logger: quiet, Now: clk.Now, ConfigFor: func(topic string) Config { return cfgs[topic] }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	compacted, plain := compactConfig(), compactConfig()
	compacted.RetentionMs = 1
	plain.Compact, plain.NoDelete = false, false
	plain.RetentionMs = -1
	cfgs["c"], cfgs["p"] = compacted, plain
	lc, err := d.Create(TopicPartition{Topic: "c", Partition: 0}, compacted)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := d.Create(TopicPartition{Topic: "p", Partition: 0}, plain)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, lc, clk, 30, 5)
	fill(t, lp, clk, 30, 5)
	clk.Advance(time.Hour)
	if n, err := lc.DeleteOldSegments(); n != 0 || err != nil {
		t.Fatalf("retention deleted %d segments of a compact-only log (%v)", n, err)
	}
	c, err := d.NewCleaner(0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.RunOnce(false)
	if err != nil || st.Logs != 1 || st.RecordsRemoved == 0 {
		t.Fatalf("first pass: %+v, %v; want the compacted log cleaned", st, err)
	}
	if n := len(readRecords(t, lp)); n != 150 {
		t.Fatalf("the delete-policy log has %d records, want all 150", n)
	}
	ck, err := checkpoint.Read(vfs.OS, filepath.Join(path, compact.CheckpointFile))
	if err != nil || ck[TopicPartition{Topic: "c", Partition: 0}] == 0 {
		t.Fatalf("cleaner checkpoint %v, %v; want the first dirty offset of c-0", ck, err)
	}
	// Nothing dirty: the next pass does nothing; a little new data is
	// below the ratio; forced, it runs.
	if st, _ := c.RunOnce(false); st.Logs != 0 {
		t.Fatalf("second pass compacted %d logs, want 0", st.Logs)
	}
	fill(t, lc, clk, 1, 5)
	lc.Roll()
	strict := compacted
	strict.MinCleanableRatio = 1 // any clean bytes keep the ratio below
	lc.SetConfig(strict)
	if st, _ := c.RunOnce(false); st.Logs != 0 {
		t.Fatalf("a pass below the dirty ratio compacted %d logs", st.Logs)
	}
	c2, err := d.NewCleaner(0)
	if err != nil {
		t.Fatal(err)
	}
	if tp := (TopicPartition{Topic: "c", Partition: 0}); c2.FirstDirty(tp) != ck[tp] {
		t.Fatalf("a new cleaner did not read the checkpoint: first dirty offset %d, want %d", c2.FirstDirty(tp), ck[tp])
	}
	if st, err := c.RunOnce(true); err != nil || st.Logs != 1 {
		t.Fatalf("forced pass: %+v, %v", st, err)
	}
}

// TestCleanerMaxCompactionLag: with max.compaction.lag.ms a compacted log
// whose dirty records are below min.cleanable.dirty.ratio is still cleaned
// once its oldest dirty record is older than the lag, and its active
// segment rolls after the lag rather than segment.ms.
func TestCleanerMaxCompactionLag(t *testing.T) {
	clk := newClock(1_000_000)
	cfg := compactConfig()
	cfg.MinCleanableRatio = 1 // never by ratio once anything is clean
	cfg.MaxCompactionLagMs = 60_000
	d, err := OpenDir(t.TempDir(), DirOptions{Logger: quiet, Now: clk.Now, ConfigFor: func(string) Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	l, err := d.Create(TopicPartition{Topic: "lagged", Partition: 0}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.NewCleaner(0)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, clk, 20, 5)
	if st, err := c.RunOnce(true); err != nil || st.Logs != 1 {
		t.Fatalf("first, forced pass: %+v, %v", st, err)
	}
	// New updates: dirty, but below the ratio of 1 and younger than the lag.
	segs := l.NumSegments()
	fill(t, l, clk, 20, 5)
	if l.NumSegments() <= segs {
		t.Fatal("no segment rolled by size; the test needs dirty segments")
	}
	if st, _ := c.RunOnce(false); st.Logs != 0 {
		t.Fatalf("cleaned %d logs before max.compaction.lag.ms", st.Logs)
	}
	clk.Advance(61 * time.Second)
	if st, err := c.RunOnce(false); err != nil || st.Logs != 1 || st.RecordsRemoved == 0 {
		t.Fatalf("after max.compaction.lag.ms: %+v, %v; want the log cleaned", st, err)
	}
	// The active segment rolls once it is older than the lag (segment.ms
	// is 7 days), so that its records can be cleaned in time.
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k0", value: "a"}))
	segs = l.NumSegments()
	clk.Advance(61 * time.Second)
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k0", value: "b"}))
	if l.NumSegments() != segs+1 {
		t.Fatalf("%d segments after an append past max.compaction.lag.ms, want %d", l.NumSegments(), segs+1)
	}
}

// TestCompactBoundedKeyMap: with a key map of 7 keys, each compaction
// cleans up to where its map filled (holding at most 7 distinct keys of
// the dirty range) and the next goes on from there. After every pass each
// key's latest value is intact and a deleted key never shows an older
// value; when the passes reach the active segment, every key below it
// appears once.
func TestCompactBoundedKeyMap(t *testing.T) {
	dir := partDir(t)
	clk := newClock(1_000_000)
	cfg := compactConfig()
	l := openLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "gone", value: "old"}))
	fill(t, l, clk, 15, 20)
	mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "gone", tomb: true}))
	fill(t, l, clk, 15, 20)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute) // the tombstone may go
	before := readRecords(t, l)
	want := latestOf(before)
	delete(want, "gone")
	bases := l.SegmentBases()
	active := bases[len(bases)-1]

	const maxKeys = 7
	firstDirty := int64(0)
	for pass := 0; firstDirty < active; pass++ {
		if pass > len(before) {
			t.Fatalf("no end to compaction after %d passes (cleaned to %d of %d)", pass, firstDirty, active)
		}
		res, err := l.Compact(compact.Options{FirstDirty: firstDirty, MaxKeys: maxKeys})
		if err != nil {
			t.Fatal(err)
		}
		if res.CleanedTo <= firstDirty {
			t.Fatalf("pass %d: cleaned to %d from %d: no progress", pass, res.CleanedTo, firstDirty)
		}
		keys := map[string]bool{}
		for _, r := range before {
			if r.offset >= firstDirty && r.offset < res.CleanedTo {
				keys[r.key] = true
			}
		}
		if len(keys) > maxKeys {
			t.Fatalf("pass %d: map covered %d keys in [%d, %d), bound %d", pass, len(keys), firstDirty, res.CleanedTo, maxKeys)
		}
		got := latestOf(readRecords(t, l))
		if g, ok := got["gone"]; ok && !g.tomb {
			t.Fatalf("pass %d: the deleted key shows %q again", pass, g.value)
		}
		delete(got, "gone")
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pass %d: latest values differ:\n got %v\nwant %v", pass, got, want)
		}
		firstDirty = res.CleanedTo
	}
	seen := map[string]int{}
	for _, r := range readRecords(t, l) {
		if r.offset < active {
			seen[r.key]++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %s appears %d times below the active segment after the passes", k, n)
		}
	}
}
