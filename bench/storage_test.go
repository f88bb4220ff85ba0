package bench

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/mmapindex"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// 1 KiB records in 16 KiB batches.
func kib16Batch() []byte {
	return testbatch.Make(testbatch.Spec{Records: 16, ValueSize: 1000, Fill: 'v', Timestamp: time.Now().UnixMilli()})
}

const rotateBytes = 256 << 20 // both sides start a new file every 256 MiB and unlink the old one

// rawWriter appends with os.File.Write, rotating files like segments.
// With syncOnRotate it fsyncs each full file in the background before
// unlinking it, the durability work the log does when a segment rolls;
// without it the kernel may drop a file's dirty pages unwritten.
type rawWriter struct {
	dir          string
	syncOnRotate bool
	f            *os.File
	n            int64
	gen          int
	prev         string
	wg           sync.WaitGroup
}

func (w *rawWriter) write(b []byte) error {
	if w.f == nil || w.n+int64(len(b)) > rotateBytes {
		if f, name := w.f, w.prev; f != nil {
			if w.syncOnRotate {
				w.wg.Wait()
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					f.Sync()
					f.Close()
					os.Remove(name)
				}()
			} else {
				f.Close()
				os.Remove(name)
			}
		}
		w.gen++
		w.prev = filepath.Join(w.dir, fmt.Sprintf("raw-%d", w.gen))
		f, err := os.Create(w.prev)
		if err != nil {
			return err
		}
		w.f, w.n = f, 0
	}
	_, err := w.f.Write(b)
	w.n += int64(len(b))
	return err
}

func benchLog(b *testing.B, cfg logfile.Config) *logfile.Log {
	b.Helper()
	l, err := logfile.Open(filepath.Join(b.TempDir(), "bench-0"), cfg, logfile.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

func appendConfig() logfile.Config {
	cfg := logfile.DefaultConfig()
	cfg.SegmentBytes = rotateBytes
	cfg.RetentionBytes = 0 // keep only the active segment, like the raw side
	return cfg
}

// BenchmarkAppend16KiB measures Log.Append of 16 KiB batches (1 KiB records)
// alone and beside a raw os.File.Write of the same bytes.
func BenchmarkAppend16KiB(b *testing.B) {
	batch := kib16Batch()
	for _, sync := range []bool{false, true} {
		name := "raw-write"
		if sync {
			name = "raw-write-fsync-on-rotate"
		}
		b.Run(name, func(b *testing.B) {
			w := &rawWriter{dir: b.TempDir(), syncOnRotate: sync}
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.write(batch); err != nil {
					b.Fatal(err)
				}
			}
			w.wg.Wait()
		})
	}
	b.Run("log-append", func(b *testing.B) {
		l := benchLog(b, appendConfig())
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, err := l.Append(batch); err != nil {
				b.Fatal(err)
			}
			if n++; n%(rotateBytes/len(batch)) == 0 {
				l.DeleteOldSegments()
			}
		}
	})
	// Interleaved: one raw write and one append per iteration, each timed,
	// so both see the same machine state; reports the throughput ratio.
	b.Run("interleaved", func(b *testing.B) {
		w := &rawWriter{dir: b.TempDir(), syncOnRotate: true}
		l := benchLog(b, appendConfig())
		var raw, lg time.Duration
		n := 0
		b.SetBytes(int64(2 * len(batch)))
		for b.Loop() {
			t0 := time.Now()
			if err := w.write(batch); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := l.Append(batch); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			raw += t1.Sub(t0)
			lg += t2.Sub(t1)
			if n++; n%(rotateBytes/len(batch)) == 0 {
				l.DeleteOldSegments()
			}
		}
		mb := float64(n*len(batch)) / (1 << 20)
		b.ReportMetric(mb/raw.Seconds(), "raw-MiB/s")
		b.ReportMetric(mb/lg.Seconds(), "log-MiB/s")
		b.ReportMetric(raw.Seconds()/lg.Seconds(), "log/raw")
		w.wg.Wait()
	})
}

// fullOffsetIndex returns a full 10 MiB offset index: entry i maps offset
// 16i+15 to position 4200i.
func fullOffsetIndex(b *testing.B) *mmapindex.OffsetIndex {
	f, err := vfs.OS.OpenFile(filepath.Join(b.TempDir(), "x.index"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	x, err := mmapindex.OpenOffset(f, 0, 10<<20, true)
	if err != nil {
		b.Fatal(err)
	}
	for i := int64(1); !x.Full(); i++ {
		if err := x.Append(16*i+15, 1600*i); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { x.Close() })
	return x
}

// BenchmarkIndexLookup: offset lookups in a full 10 MiB index (1,310,720
// entries): uniformly random targets, and targets near the tail (recent
// offsets, what consumers that keep up ask for).
func BenchmarkIndexLookup(b *testing.B) {
	x := fullOffsetIndex(b)
	last, _ := x.Last()
	rng := rand.New(rand.NewPCG(1, 1))
	targets := make([]int64, 1<<16)
	b.Run("random", func(b *testing.B) {
		for i := range targets {
			targets[i] = rng.Int64N(last + 16)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			x.Lookup(targets[i&(len(targets)-1)])
			i++
		}
	})
	b.Run("tail", func(b *testing.B) {
		for i := range targets {
			targets[i] = last - rng.Int64N(16*1024)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			x.Lookup(targets[i&(len(targets)-1)])
			i++
		}
	})
}

// BenchmarkTimeIndexLookup: timestamp lookups in a full 10 MiB time index.
func BenchmarkTimeIndexLookup(b *testing.B) {
	f, err := vfs.OS.OpenFile(filepath.Join(b.TempDir(), "x.timeindex"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	x, err := mmapindex.OpenTime(f, 0, 10<<20, true)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for i := int64(1); !x.Full(); i++ {
		x.MaybeAppend(1_700_000_000_000+10*i, 16*i)
	}
	n := int64(x.Len())
	rng := rand.New(rand.NewPCG(2, 2))
	targets := make([]int64, 1<<16)
	for i := range targets {
		targets[i] = 1_700_000_000_000 + rng.Int64N(10*n)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Lookup(targets[i&(len(targets)-1)])
		i++
	}
}

// BenchmarkReadRegion: Log.Read of up to 1 MiB at a random offset of a
// 256 MiB log (index lookup, header scan to the batch, boundary search).
func BenchmarkReadRegion(b *testing.B) {
	cfg := logfile.DefaultConfig()
	cfg.SegmentBytes = 64 << 20
	l := benchLog(b, cfg)
	batch := kib16Batch()
	for l.Size() < 256<<20 {
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	rng := rand.New(rand.NewPCG(3, 3))
	targets := make([]int64, 1<<16)
	for i := range targets {
		targets[i] = rng.Int64N(end)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r, err := l.Read(targets[i&(len(targets)-1)], 1<<20, end)
		if err != nil || r.Len == 0 {
			b.Fatal(err)
		}
		r.Release()
		i++
	}
}

// BenchmarkReopen1000Segments: opening a log of 1,000 segments (64 KiB each)
// after a clean shutdown, after a crash (recovery point at the last
// segment: the unflushed tail is scanned), and with a recovery point of 0
// (every segment scanned) for contrast.
func BenchmarkReopen1000Segments(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "reopen-0")
	cfg := logfile.DefaultConfig()
	cfg.SegmentBytes = 64 << 10
	l, err := logfile.Open(dir, cfg, logfile.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	batch := testbatch.Make(testbatch.Spec{Records: 4, ValueSize: 1000, Fill: 'r', Timestamp: 1})
	for l.NumSegments() < 1000 {
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	bases := l.SegmentBases()
	lastBase := bases[len(bases)-1]
	l.Close()
	for _, tc := range []struct {
		name string
		opts logfile.Options
	}{
		{"clean", logfile.Options{Clean: true}},
		{"crash-tail", logfile.Options{RecoveryPoint: lastBase}},
		{"crash-full-scan", logfile.Options{RecoveryPoint: 0}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			opts := tc.opts
			opts.Logger = quiet
			for b.Loop() {
				l, err := logfile.Open(dir, cfg, opts)
				if err != nil {
					b.Fatal(err)
				}
				if l.NumSegments() != 1000 {
					b.Fatalf("%d segments", l.NumSegments())
				}
				l.Close()
			}
		})
	}
}
