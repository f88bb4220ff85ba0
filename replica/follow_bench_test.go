package replica

import (
	"os"
	"path/filepath"
	"testing"

	"samsa/metadata"
	"samsa/record"
	"samsa/replica/fetcher"
)

// BenchmarkFollowerAppend measures what a follower does with one
// partition's part of a fetch answer, as the fetcher calls it (under the
// partition's locks, Partition.Locked): the leader's batches checked
// (framing, CRC-32C, order) and written as they are, indexed, the producer
// state and the leader's offsets taken. The shapes are a fetch of 1 MiB (16
// batches of 64 KiB, 1 KiB records) and of one 16 KiB batch; raw-write is
// the baseline in the same run, the same bytes written with pwrite to a
// plain file. BenchmarkFollowerFetch (package fetcher) measures the fetch
// that brings the batches.
func BenchmarkFollowerAppend(b *testing.B) {
	for _, shape := range []struct {
		name             string
		batches, records int
	}{{"1MiB", 16, 64}, {"16KiB", 1, 16}} {
		var buf []byte
		var counts []int64
		for range shape.batches {
			bb := record.NewBuilder(0)
			for range shape.records {
				bb.Add(0, nil, make([]byte, 1000))
			}
			bb.Header.LeaderEpoch = 1
			buf, _ = bb.AppendTo(buf)
			counts = append(counts, int64(shape.records))
		}
		b.Run(shape.name+"/raw-write", func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "raw.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			var pos int64
			for b.Loop() {
				if _, err := f.WriteAt(buf, pos); err != nil {
					b.Fatal(err)
				}
				if pos += int64(len(buf)); pos > 256<<20 {
					pos = 0
				}
			}
		})
		b.Run(shape.name+"/append", func(b *testing.B) {
			m, _ := benchManager(b)
			ts, err := m.OpenTopic(metadata.Topic{Name: "followed", ID: metadata.NewTopicID(), Replicas: [][]int32{{2, 1}}})
			if err != nil {
				b.Fatal(err)
			}
			p := ts.Parts[0]
			p.setState(State{Leader: 2, LeaderEpoch: 1, Replicas: []int32{2, 1}, ISR: []int32{2, 1}})
			next := int64(0)
			apply := func(_ fetcher.Leadership, l fetcher.Log) error {
				if err := l.Append(buf); err != nil {
					return err
				}
				return l.TakeLeaderOffsets(next, 0)
			}
			fp := m.followed(p)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				for pos, i := 0, 0; pos < len(buf); i++ {
					record.SetBaseOffset(buf[pos:], next)
					next += counts[i]
					h, _ := record.ParseHeader(buf[pos:])
					pos += int(h.Size())
				}
				if err := fp.Locked(apply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
