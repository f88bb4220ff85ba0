package replica

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"samsa/config"
	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/metadata"
)

// BenchmarkProduceAppend measures the produce path below the handler: a
// partition's record set validated (header, CRC, every record), stamped
// with the leader epoch, offsets assigned, written and indexed
// (Manager.Append), for a few batch shapes. raw-write is the baseline in
// the same run: the same bytes written with pwrite to a plain file, so the
// ratio of the two is what the broker adds to the write itself.
func BenchmarkProduceAppend(b *testing.B) {
	shapes := []struct {
		name string
		spec testbatch.Spec
	}{
		{"1x1KiB", testbatch.Spec{Records: 1, ValueSize: 1024}},
		{"16x1KiB", testbatch.Spec{Records: 16, ValueSize: 1024}},
		{"100x100B", testbatch.Spec{Records: 100, ValueSize: 100}},
	}
	for _, s := range shapes {
		s.spec.Timestamp = time.Now().UnixMilli()
		batch := testbatch.Make(s.spec)
		b.Run(s.name+"/raw-write", func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "raw.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			var pos int64
			for b.Loop() {
				if _, err := f.WriteAt(batch, pos); err != nil {
					b.Fatal(err)
				}
				if pos += int64(len(batch)); pos > 256<<20 {
					pos = 0
				}
			}
		})
		b.Run(s.name+"/append", func(b *testing.B) {
			m, ts := benchManager(b)
			p := ts.Parts[0]
			// Append validates and stamps in place: each iteration gets a
			// fresh copy, as each request brings its own buffer.
			buf := make([]byte, len(batch))
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, batch)
				if _, err := m.Append(ts, p, 9, buf, s.spec.Timestamp, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchManager is a standalone broker's manager with one single-partition
// topic whose segments roll at 64 MiB and are deleted past 256 MiB, so a
// long run does not fill the disk.
func benchManager(b *testing.B) (*Manager, *Topic) {
	b.Helper()
	cfg, err := config.New(map[string]string{"log.segment.bytes": "67108864", "log.retention.bytes": "268435456"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	dir, err := logfile.OpenDir(b.TempDir(), logfile.DirOptions{Logger: quiet, RetentionCheckInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dir.Close() })
	m := NewManager(dir, Options{BrokerID: 1, Defaults: cfg.TopicDefaults, Logger: quiet})
	b.Cleanup(m.Close)
	ts, err := m.OpenTopic(metadata.Topic{Name: "bench", ID: metadata.NewTopicID(), Replicas: [][]int32{{1}}})
	if err != nil {
		b.Fatal(err)
	}
	return m, ts
}
