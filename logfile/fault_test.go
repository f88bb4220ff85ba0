package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"samsa/logfile/vfs"
)

// TestWriteFaults injects ENOSPC, EIO and short writes into appends: the
// append fails, nothing of it is visible, the log refuses appends until
// reopened, and the reopened log holds exactly the acknowledged batches.
func TestWriteFaults(t *testing.T) {
	for name, inject := range map[string]func(f *vfs.Faulty){
		"ENOSPC at once":   func(f *vfs.Faulty) { f.FailAfter(0, syscall.ENOSPC) },
		"short write":      func(f *vfs.Faulty) { f.FailAfter(100, syscall.ENOSPC) },
		"EIO mid-batch":    func(f *vfs.Faulty) { f.FailAfter(333, syscall.EIO) },
		"fsync EIO":        func(f *vfs.Faulty) { f.FailSync(syscall.EIO) },
		"ENOSPC past roll": func(f *vfs.Faulty) { f.FailAfter(20000, syscall.ENOSPC) },
	} {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewFaulty(vfs.OS)
			dir := partDir(t)
			cfg := smallConfig()
			cfg.FlushMessages = 1 // fsync every append, so sync faults surface
			l := openLog(t, dir, cfg, Options{FS: fsys})
			var acked []appended
			for i := range 20 {
				acked = append(acked, mustAppend(t, l, batch(2, 300, byte(i), int64(i))))
			}
			inject(fsys)
			var failed error
			for i := 0; i < 200 && failed == nil; i++ {
				b := batch(2, 300, byte(100+i), int64(100+i))
				info, err := l.Append(b)
				if err != nil {
					failed = err
					break
				}
				acked = append(acked, appended{info.FirstOffset, info.LastOffset, b})
			}
			if failed == nil {
				t.Fatal("no append failed")
			}
			end := l.EndOffset()
			if end != acked[len(acked)-1].last+1 {
				t.Fatalf("end %d after failure, last acked %d", end, acked[len(acked)-1].last)
			}
			// What readers see is exactly the acknowledged batches.
			mustEqual(t, readAll(t, l, 1<<20), concat(acked))
			fsys.Heal()
			if l.Err() != nil {
				// A failed write is sticky: no append until reopened.
				if _, err := l.Append(batch(1, 10, 1, 1)); err == nil {
					t.Fatal("append succeeded on a failed log")
				}
			} else {
				// Only a roll that could not create its segment fails
				// without poisoning the log; it works once space is back.
				if !errors.Is(failed, syscall.ENOSPC) || l.EndOffset() != end {
					t.Fatalf("write error %v not sticky", failed)
				}
				acked = append(acked, mustAppend(t, l, batch(1, 10, 0xdd, 1)))
				end = l.EndOffset()
			}
			l.Close()

			r := openLog(t, dir, cfg, Options{FS: fsys, RecoveryPoint: 0})
			defer r.Close()
			if r.EndOffset() < end {
				t.Fatalf("reopened end %d < acknowledged end %d", r.EndOffset(), end)
			}
			got := readAll(t, r, 1<<20)
			mustEqual(t, got[:len(concat(acked))], concat(acked))
			mustAppend(t, r, batch(1, 10, 0xcc, 1))
		})
	}
}

// TestRollFailureKeepsLog: a roll that cannot create the new segment (disk
// full while preallocating its index) fails the append but leaves the log
// whole and writable once space returns.
func TestRollFailureKeepsLog(t *testing.T) {
	fsys := vfs.NewFaulty(vfs.OS)
	dir := partDir(t)
	cfg := smallConfig()
	l := openLog(t, dir, cfg, Options{FS: fsys})
	defer l.Close()
	var acked []appended
	for l.NumSegments() == 1 {
		acked = append(acked, mustAppend(t, l, batch(2, 300, 1, 1)))
	}
	// Fill the active segment to just below the roll point.
	for l.active().Size()+int64(len(acked[0].data)) <= cfg.SegmentBytes {
		acked = append(acked, mustAppend(t, l, batch(2, 300, 2, 2)))
	}
	segs := l.NumSegments()
	fsys.FailAfter(0, syscall.ENOSPC)
	if _, err := l.Append(batch(2, 300, 3, 3)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append needing a roll on a full disk: %v", err)
	}
	if l.NumSegments() != segs {
		t.Fatal("failed roll left a segment behind")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() == SegmentName(l.EndOffset(), LogSuffix) {
			t.Fatal("failed roll left its file behind")
		}
	}
	fsys.Heal()
	acked = append(acked, mustAppend(t, l, batch(2, 300, 4, 4)))
	mustEqual(t, readAll(t, l, 1<<20), concat(acked))
}

// TestPartialTailTruncatedOnReopen: bytes of a failed append that reached the
// file are removed by the reopen.
func TestPartialTailTruncatedOnReopen(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	a := mustAppend(t, l, batch(3, 100, 1, 1))
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, SegmentName(0, LogSuffix)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write(batch(3, 100, 2, 2)[:150])
	f.Close()
	r := openLog(t, dir, smallConfig(), Options{Clean: true}) // sanity check catches it
	defer r.Close()
	mustEqual(t, readAll(t, r, 1<<20), a.data)
	if fi, _ := os.Stat(filepath.Join(dir, SegmentName(0, LogSuffix))); fi.Size() != int64(len(a.data)) {
		t.Fatalf("tail not truncated: %d bytes", fi.Size())
	}
}
