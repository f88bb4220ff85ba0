package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"samsa/logfile"
)

// residentKiB returns the process's resident anonymous and file-backed
// memory (/proc/self/status RssAnon, RssFile). Index pages faulted in
// through a mapping count as RssFile.
func residentKiB(b *testing.B) (anon, file int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "RssAnon" && k != "RssFile") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		if k == "RssAnon" {
			anon = n
		} else {
			file = n
		}
	}
	return anon, file
}

func heapKiB() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc >> 10)
}

// openCost is what one OpenDir cost: its wall time and what it added to
// resident memory and to the Go heap while the directory is open.
type openCost struct {
	took                   time.Duration
	rssAnon, rssFile, heap int64
}

func (c *openCost) add(o openCost) {
	c.took += o.took
	c.rssAnon += o.rssAnon
	c.rssFile += o.rssFile
	c.heap += o.heap
}

// measureOpen opens path as a log directory with the broker's default topic
// configuration (10 MiB indexes), measures, and closes it again.
func measureOpen(b *testing.B, path string) (openCost, logfile.LoadStats) {
	runtime.GC()
	a0, f0 := residentKiB(b)
	h0 := heapKiB()
	t0 := time.Now()
	d, err := logfile.OpenDir(path, logfile.DirOptions{Logger: quiet})
	took := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	a1, f1 := residentKiB(b)
	c := openCost{took: took, rssAnon: a1 - a0, rssFile: f1 - f0, heap: heapKiB() - h0}
	st := d.LoadStats()
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	return c, st
}

// BenchmarkRestartEmptyPartitions: the clean restart of a directory of N
// empty partitions (a consumer-group user has 50 in __consumer_offsets),
// beside opening a fresh directory in the same loop. Each iteration opens
// a new empty directory (the baseline), then the N-partition one; both are
// closed cleanly, so every iteration is a clean restart. Reported per open:
// wall time, and the resident memory (RssFile holds faulted-in index pages)
// and Go heap that the open added while the directory is open; the ratio is
// restart time over fresh-open time. A restart that rebuilt segments fails
// the benchmark.
func BenchmarkRestartEmptyPartitions(b *testing.B) {
	for _, n := range []int{50, 200} {
		b.Run("partitions="+strconv.Itoa(n), func(b *testing.B) {
			root := b.TempDir()
			full := filepath.Join(root, "data")
			d, err := logfile.OpenDir(full, logfile.DirOptions{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if _, err := d.Create(logfile.TopicPartition{Topic: "__consumer_offsets", Partition: int32(i)}, logfile.DefaultConfig()); err != nil {
					b.Fatal(err)
				}
			}
			if err := d.Close(); err != nil {
				b.Fatal(err)
			}
			var fresh, restart openCost
			var stats logfile.LoadStats
			iters := 0
			for b.Loop() {
				dir, err := os.MkdirTemp(root, "fresh")
				if err != nil {
					b.Fatal(err)
				}
				c, _ := measureOpen(b, dir)
				fresh.add(c)
				os.RemoveAll(dir)
				c, st := measureOpen(b, full)
				restart.add(c)
				stats = stats.Add(st)
				iters++
			}
			if stats.Rebuilt != 0 || stats.Recovered != 0 {
				b.Fatalf("clean restarts rebuilt %d and recovered %d segments", stats.Rebuilt, stats.Recovered)
			}
			per := func(v int64) float64 { return float64(v) / float64(iters) }
			b.ReportMetric(float64(fresh.took.Nanoseconds())/float64(iters), "fresh-ns/open")
			b.ReportMetric(float64(restart.took.Nanoseconds())/float64(iters), "restart-ns/open")
			b.ReportMetric(restart.took.Seconds()/fresh.took.Seconds(), "restart/fresh")
			b.ReportMetric(per(fresh.rssFile), "fresh-RssFile-KiB")
			b.ReportMetric(per(restart.rssFile), "restart-RssFile-KiB")
			b.ReportMetric(per(fresh.rssAnon), "fresh-RssAnon-KiB")
			b.ReportMetric(per(restart.rssAnon), "restart-RssAnon-KiB")
			b.ReportMetric(per(fresh.heap), "fresh-heap-KiB")
			b.ReportMetric(per(restart.heap), "restart-heap-KiB")
		})
	}
}
