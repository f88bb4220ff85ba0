package logfile

import (
	"os"
	"path/filepath"
	"testing"

	"samsa/record"
)

// TestTornWrite cuts the last segment at every byte inside its last batch:
// recovery keeps exactly the whole batches before it, and appends continue.
func TestTornWrite(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src-0")
	l := openLog(t, src, smallConfig(), Options{})
	var all []appended
	for i := range 40 {
		all = append(all, mustAppend(t, l, batch(1+i%3, 150, byte(i), int64(i))))
	}
	l.Close()
	bases := l.SegmentBases()
	lastBase := bases[len(bases)-1]
	logPath := filepath.Join(src, SegmentName(lastBase, LogSuffix))
	full, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lastLen := int64(len(all[len(all)-1].data))
	keepBatches := all[:len(all)-1]
	if lastLen > int64(len(full)) {
		t.Fatal("last batch not in the last segment")
	}
	for cut := int64(len(full)) - lastLen; cut < int64(len(full)); cut++ {
		dst := filepath.Join(root, "torn-"+itoa(cut))
		copyDir(t, src, dst)
		if err := os.Truncate(filepath.Join(dst, SegmentName(lastBase, LogSuffix)), cut); err != nil {
			t.Fatal(err)
		}
		// Unclean: recovery point at the start of the last segment.
		r := openLog(t, dst, smallConfig(), Options{RecoveryPoint: lastBase})
		if want := keepBatches[len(keepBatches)-1].last + 1; r.EndOffset() != want {
			t.Fatalf("cut at %d: end %d, want %d", cut, r.EndOffset(), want)
		}
		mustEqual(t, readAll(t, r, 1<<20), concat(keepBatches))
		a := mustAppend(t, r, batch(1, 10, 0xaa, 99))
		if a.first != r.EndOffset()-1 {
			t.Fatalf("append after recovery at %d", a.first)
		}
		r.Close()
		os.RemoveAll(dst)
	}
}

// TestRecoveryCutsAndDeletesLaterSegments: garbage in a middle segment cuts
// the log there and removes every later segment.
func TestRecoveryCutsAndDeletesLaterSegments(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	var all []appended
	for i := range 200 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
	}
	l.Close()
	bases := l.SegmentBases()
	if len(bases) < 4 {
		t.Fatalf("need several segments, have %d", len(bases))
	}
	mid := bases[1]
	// Corrupt the CRC-covered bytes of the third batch of the second segment.
	seg := filepath.Join(dir, SegmentName(mid, LogSuffix))
	data, _ := os.ReadFile(seg)
	pos := int64(0)
	for range 2 {
		h, _ := record.ParseHeader(data[pos:])
		pos += h.Size()
	}
	data[pos+70] ^= 0xff
	os.WriteFile(seg, data, 0o644)

	r := openLog(t, dir, smallConfig(), Options{RecoveryPoint: 0})
	defer r.Close()
	if r.NumSegments() != 2 {
		t.Fatalf("%d segments after the cut, want 2", r.NumSegments())
	}
	if r.EndOffset() != mid+4 {
		t.Fatalf("end %d, want %d", r.EndOffset(), mid+4)
	}
	var keep []appended
	for _, a := range all {
		if a.last < mid+4 {
			keep = append(keep, a)
		}
	}
	mustEqual(t, readAll(t, r, 1<<20), concat(keep))
	for _, b := range bases[2:] {
		if _, err := os.Stat(filepath.Join(dir, SegmentName(b, LogSuffix))); !os.IsNotExist(err) {
			t.Fatalf("segment %d should be deleted: %v", b, err)
		}
	}
}

// TestRecoveryStartsAtRecoveryPoint: segments below the recovery point are
// not scanned, so corruption there (which a scan would cut at) is left
// alone, while the tail is recovered.
func TestRecoveryStartsAtRecoveryPoint(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	for i := range 200 {
		mustAppend(t, l, batch(2, 200, byte(i), int64(i)))
	}
	l.Close()
	bases := l.SegmentBases()
	// Flip a record byte in the first segment: CRC-invalid, framing intact.
	first := filepath.Join(dir, SegmentName(bases[0], LogSuffix))
	data, _ := os.ReadFile(first)
	data[100] ^= 0xff
	os.WriteFile(first, data, 0o644)
	end := l.EndOffset()

	r := openLog(t, dir, smallConfig(), Options{RecoveryPoint: bases[len(bases)-2]})
	if r.EndOffset() != end || r.NumSegments() != len(bases) {
		t.Fatalf("recovery from the recovery point touched old segments: end %d/%d, segments %d/%d",
			r.EndOffset(), end, r.NumSegments(), len(bases))
	}
	r.Close()
	// A full scan (recovery point 0) finds it and cuts.
	r = openLog(t, dir, smallConfig(), Options{RecoveryPoint: 0})
	defer r.Close()
	if r.EndOffset() != 0 || r.NumSegments() != 1 {
		t.Fatalf("full recovery: end %d, %d segments", r.EndOffset(), r.NumSegments())
	}
}

// TestIndexRebuiltAfterCleanShutdown: corrupt, truncated, or missing index
// files are detected on a clean open and rebuilt.
func TestIndexRebuiltAfterCleanShutdown(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, dir string, base int64){
		"missing index": func(t *testing.T, dir string, base int64) {
			os.Remove(filepath.Join(dir, SegmentName(base, IndexSuffix)))
		},
		"missing time index": func(t *testing.T, dir string, base int64) {
			os.Remove(filepath.Join(dir, SegmentName(base, TimeIndexSuffix)))
		},
		"partial entry": func(t *testing.T, dir string, base int64) {
			p := filepath.Join(dir, SegmentName(base, IndexSuffix))
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-3)
		},
		"garbage entries": func(t *testing.T, dir string, base int64) {
			p := filepath.Join(dir, SegmentName(base, IndexSuffix))
			data, _ := os.ReadFile(p)
			for i := range data {
				data[i] = byte(i * 7)
			}
			os.WriteFile(p, data, 0o644)
		},
		"entry past the log": func(t *testing.T, dir string, base int64) {
			p := filepath.Join(dir, SegmentName(base, IndexSuffix))
			data, _ := os.ReadFile(p)
			n := len(data)
			data[n-4], data[n-3] = 0x7f, 0xff
			os.WriteFile(p, data, 0o644)
		},
		"time index past the segment": func(t *testing.T, dir string, base int64) {
			p := filepath.Join(dir, SegmentName(base, TimeIndexSuffix))
			data, _ := os.ReadFile(p)
			data = append(data, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0)
			os.WriteFile(p, data, 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := partDir(t)
			l := openLog(t, dir, smallConfig(), Options{})
			var all []appended
			for i := range 100 {
				all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
			}
			l.Close()
			bases := l.SegmentBases()
			for _, b := range bases[:2] {
				damage(t, dir, b)
			}
			r := openLog(t, dir, smallConfig(), Options{Clean: true})
			defer r.Close()
			mustEqual(t, readAll(t, r, 1000), concat(all))
			for _, b := range bases[:2] {
				if _, err := os.Stat(filepath.Join(dir, SegmentName(b, IndexSuffix))); err != nil {
					t.Fatal(err)
				}
			}
			if idx := (*r.segs.Load())[0].Index; idx.Len() == 0 {
				t.Fatal("rebuilt index has no entries")
			}
			if _, _, found, err := r.OffsetForTimestamp(50); !found || err != nil {
				t.Fatalf("time lookup after rebuild: %v %v", found, err)
			}
		})
	}
}

// TestLeftoversRemoved: .deleted and .tmp files and orphan indexes go on open.
func TestLeftoversRemoved(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	mustAppend(t, l, batch(1, 10, 1, 1))
	l.Close()
	for _, n := range []string{"00000000000000000005.log.deleted", "x.tmp", SegmentName(77, IndexSuffix)} {
		os.WriteFile(filepath.Join(dir, n), []byte("junk"), 0o644)
	}
	r := openLog(t, dir, smallConfig(), Options{Clean: true})
	defer r.Close()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files after open: %v", names)
	}
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	os.MkdirAll(dst, 0o755)
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(n int64) string { return SegmentName(n, "")[14:] }
