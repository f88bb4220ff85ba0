package reqcheck

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type benchCase struct {
	name         string
	key, version int16
	body         []byte
}

// benchCases are the hot path's requests: Produce v9 of 1 KiB batches and
// a consumer's Fetch v12.
func benchCases() []benchCase {
	var cases []benchCase
	for _, n := range [][2]int{{1, 1}, {4, 8}} {
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(9)
		req.Acks = -1
		req.TimeoutMillis = 30000
		for t := range n[0] {
			topic := kmsg.NewProduceRequestTopic()
			topic.Topic = fmt.Sprintf("orders-%d", t)
			for p := range n[1] {
				part := kmsg.NewProduceRequestTopicPartition()
				part.Partition = int32(p)
				part.Records = make([]byte, 1024)
				topic.Partitions = append(topic.Partitions, part)
			}
			req.Topics = append(req.Topics, topic)
		}
		cases = append(cases, benchCase{fmt.Sprintf("produce-v9/%dx%d", n[0], n[1]), 0, 9, req.AppendTo(nil)})
	}
	for _, n := range [][2]int{{1, 8}, {8, 32}} {
		req := kmsg.NewPtrFetchRequest()
		req.SetVersion(12)
		req.MaxWaitMillis = 500
		req.MinBytes = 1
		req.SessionEpoch = -1
		for t := range n[0] {
			topic := kmsg.NewFetchRequestTopic()
			topic.Topic = fmt.Sprintf("orders-%d", t)
			for p := range n[1] {
				part := kmsg.NewFetchRequestTopicPartition()
				part.Partition = int32(p)
				part.FetchOffset = 123456
				part.PartitionMaxBytes = 1 << 20
				topic.Partitions = append(topic.Partitions, part)
			}
			req.Topics = append(req.Topics, topic)
		}
		cases = append(cases, benchCase{fmt.Sprintf("fetch-v12/%dx%d", n[0], n[1]), 1, 12, req.AppendTo(nil)})
	}
	return cases
}

// BenchmarkCheck runs Check beside kmsg's decode of the same body, which the
// broker runs after it (unsafe: the hot APIs alias the frame).
func BenchmarkCheck(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name+"/check", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(c.key, c.version, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/kmsg", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				req := kmsg.RequestForKey(c.key)
				req.SetVersion(c.version)
				if err := req.(kmsg.UnsafeReadFrom).UnsafeReadFrom(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
