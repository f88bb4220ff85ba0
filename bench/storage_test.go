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

// fullOffsetIndex returns a full 10 MiB offset index (1,310,720 entries)
// whose entry i maps offset o(i) to position 1600i, where o grows by
// step(i) per entry: the number of records in ~4 KiB of batches.
func fullOffsetIndex(b *testing.B, step func(i int64) int64) *mmapindex.OffsetIndex {
	f, err := vfs.OS.OpenFile(filepath.Join(b.TempDir(), "x.index"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	x, err := mmapindex.OpenOffset(f, 0, 10<<20, true)
	if err != nil {
		b.Fatal(err)
	}
	off := int64(15)
	for i := int64(1); !x.Full(); i++ {
		off += step(i)
		if err := x.Append(off, 1600*i); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { x.Close() })
	return x
}

// binaryLookup is the plain binary search over the index's entries, the
// baseline for OffsetIndex.Lookup in the same run.
func binaryLookup(x *mmapindex.OffsetIndex, target int64) (offset, pos int64) {
	lo, hi := 0, x.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if o, _ := x.Entry(mid); o <= target {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return x.Base(), 0
	}
	return x.Entry(lo - 1)
}

// BenchmarkIndexLookup: offset lookups in a full 10 MiB index, for three
// shapes of index (16 records per entry throughout; 1 to 64 records per
// entry at random, as batch sizes vary; 4 per entry for the first half
// and 64 for the second, as when a producer changes its batching), with
// uniformly random targets and targets near the tail (what consumers that
// keep up ask for). Each runs the index's Lookup and, as the baseline, a
// plain binary search over the same mapping.
func BenchmarkIndexLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct {
		name string
		step func(i int64) int64
	}{
		{"linear", func(int64) int64 { return 16 }},
		{"varied", func(int64) int64 { return 1 + rng.Int64N(64) }},
		{"two-rates", func(i int64) int64 {
			if i < 655360 {
				return 4
			}
			return 64
		}},
	}
	for _, sh := range shapes {
		x := fullOffsetIndex(b, sh.step)
		last, _ := x.Last()
		targets := map[string][]int64{"random": make([]int64, 1<<16), "tail": make([]int64, 1<<16)}
		for i := range 1 << 16 {
			targets["random"][i] = rng.Int64N(last + 16)
			targets["tail"][i] = last - rng.Int64N(16*1024)
		}
		for _, where := range []string{"random", "tail"} {
			ts := targets[where]
			b.Run(sh.name+"/"+where+"/index", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					x.Lookup(ts[i&(len(ts)-1)])
					i++
				}
			})
			b.Run(sh.name+"/"+where+"/binary", func(b *testing.B) {
				i := 0
				for b.Loop() {
					binaryLookup(x, ts[i&(len(ts)-1)])
					i++
				}
			})
		}
	}
}

// BenchmarkTimeIndexLookup: timestamp lookups at random times in a full
// 10 MiB time index, for a steady producer (an entry every 10 ms) and a
// bursty one (entries 1 ms apart, with a pause of up to a minute before one
// entry in ten), beside a plain binary search over the same mapping.
func BenchmarkTimeIndexLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	shapes := []struct {
		name string
		gap  func() int64
	}{
		{"steady", func() int64 { return 10 }},
		{"bursty", func() int64 {
			if rng.IntN(10) == 0 {
				return 1 + rng.Int64N(60_000)
			}
			return 1
		}},
	}
	for _, sh := range shapes {
		f, err := vfs.OS.OpenFile(filepath.Join(b.TempDir(), "x.timeindex"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		x, err := mmapindex.OpenTime(f, 0, 10<<20, true)
		if err != nil {
			b.Fatal(err)
		}
		defer x.Close()
		ts := int64(1_700_000_000_000)
		for i := int64(1); !x.Full(); i++ {
			ts += sh.gap()
			if _, err := x.MaybeAppend(ts, 16*i); err != nil {
				b.Fatal(err)
			}
		}
		first, _ := x.Entry(0)
		targets := make([]int64, 1<<16)
		for i := range targets {
			targets[i] = first + rng.Int64N(ts-first+1)
		}
		b.Run(sh.name+"/index", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x.Lookup(targets[i&(len(targets)-1)])
				i++
			}
		})
		b.Run(sh.name+"/binary", func(b *testing.B) {
			i := 0
			for b.Loop() {
				lo, hi := 0, x.Len()
				for lo < hi {
					mid := int(uint(lo+hi) >> 1)
					if t, _ := x.Entry(mid); t <= targets[i&(len(targets)-1)] {
						lo = mid + 1
					} else {
						hi = mid
					}
				}
				sink += lo
				i++
			}
		})
	}
}

// sink keeps benchmark results alive.
var sink int

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
