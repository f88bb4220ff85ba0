package bench

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"samsa/logfile"
)

// diskUse sums what the files under root hold: the disk blocks allocated
// to them (stat st_blocks, what du counts) and their apparent sizes.
func diskUse(b *testing.B, root string) (blocks, apparent int64) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		blocks += fi.Sys().(*syscall.Stat_t).Blocks * 512
		apparent += fi.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return blocks, apparent
}

// BenchmarkEmptyPartitionsDisk: the disk that N empty partitions hold,
// created in one log directory with the broker's default topic config
// (10 MiB index maximum), while the directory is open (the running broker)
// and after a clean close; and how long creating them took. The baseline
// in the same run is the empty directory itself (meta files, checkpoints).
// Run it with -benchtime 1x: an iteration creates N partitions.
func BenchmarkEmptyPartitionsDisk(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run("partitions="+strconv.Itoa(n), func(b *testing.B) {
			var open, closed, apparent, base int64
			var took time.Duration
			iters := 0
			for b.Loop() {
				path := filepath.Join(b.TempDir(), "data")
				d, err := logfile.OpenDir(path, logfile.DirOptions{Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				empty, _ := diskUse(b, path)
				t0 := time.Now()
				for i := range n {
					if _, err := d.Create(logfile.TopicPartition{Topic: "empty", Partition: int32(i)}, logfile.DefaultConfig()); err != nil {
						b.Fatal(err)
					}
				}
				took += time.Since(t0)
				blk, app := diskUse(b, path)
				if err := d.Close(); err != nil {
					b.Fatal(err)
				}
				after, _ := diskUse(b, path)
				base += empty
				open += blk - empty
				apparent += app
				closed += after - empty
				iters++
			}
			per := func(v int64) float64 { return float64(v) / float64(iters) / float64(n) / 1024 }
			b.ReportMetric(per(open), "open-KiB/partition")
			b.ReportMetric(per(apparent), "apparent-KiB/partition")
			b.ReportMetric(per(closed), "closed-KiB/partition")
			b.ReportMetric(float64(open)/float64(iters)/(1<<20), "open-MiB")
			b.ReportMetric(float64(base)/float64(iters)/1024, "empty-dir-KiB")
			b.ReportMetric(float64(took.Microseconds())/float64(iters)/float64(n), "create-us/partition")
		})
	}
}
