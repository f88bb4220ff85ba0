package replica

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkReadFetchIsolation measures one partition's read of a fetch
// (ReadFetch: leadership, the offsets, the index lookup and the region,
// no copy of the records) at both isolation levels over the same log: 1,000
// batches of 16 records in transactions of 10 batches, one in ten of them
// aborted. read_committed adds the last stable offset and the aborted
// transactions of the region, from memory; the ratio of the two is its
// cost on the fetch path, where the records still go out with sendfile.
func BenchmarkReadFetchIsolation(b *testing.B) {
	m, ts := benchManager(b)
	p := ts.Parts[0]
	seq := map[int64]int32{}
	for txn := range 100 {
		pid := int64(1 + txn%5)
		for range 10 {
			if _, err := txnProduce(m, p, pid, 0, seq[pid], 16); err != nil {
				b.Fatal(err)
			}
			seq[pid] += 16
		}
		if _, err := m.WriteTxnMarker(p, Marker{ProducerID: pid, Commit: txn%10 != 0}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		isolation int8
	}{{"read_uncommitted", 0}, {"read_committed", 1}} {
		b.Run(c.name, func(b *testing.B) {
			req := kmsg.NewPtrFetchRequest()
			req.ReplicaID, req.MaxBytes, req.SessionEpoch, req.IsolationLevel = -1, 1<<20, -1, c.isolation
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = "bench"
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.CurrentLeaderEpoch, rp.PartitionMaxBytes = -1, 256<<10
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			end := p.Log.EndOffset()
			var off int64
			b.ReportAllocs()
			for b.Loop() {
				req.Topics[0].Partitions[0].FetchOffset = off
				topics, n, _ := m.ReadFetch(12, req)
				if n == 0 {
					b.Fatal("nothing read")
				}
				next := topics[0].Parts[0].Region.NextOffset
				ReleaseFetch(topics)
				if off = next; off >= end-200 {
					off = 0
				}
			}
		})
	}
}
