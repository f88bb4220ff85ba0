package server

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
)

// frame encodes a request with its size prefix and header, as a client
// sends it.
func frame(req kmsg.Request, v int16) []byte {
	req.SetVersion(v)
	b := make([]byte, 4, 256)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(v))
	b = binary.BigEndian.AppendUint32(b, 1) // correlation id
	b = binary.BigEndian.AppendUint16(b, 5)
	b = append(b, "bench"...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// BenchmarkHotPath measures one produce (acks=1, a batch of 10 records of
// 100 bytes) and one fetch (up to 64 KiB from offset 0, no wait) request
// through the whole broker over loopback TCP, pipelined one at a time:
// frame in, handler, response out. The request frames are encoded once
// and responses read into one buffer, so allocs/op are the broker's.
// Compare revisions with benchstat (e.g. before and after a change to the
// request metrics: their cost must not show, nor any allocation).
func BenchmarkHotPath(b *testing.B) {
	tb := startTestBroker(b, nil)
	mustCreate(tb, "hot", 1, nil)
	batch := testbatch.Make(testbatch.Spec{Records: 10, ValueSize: 100, Fill: 'x', Timestamp: 1})

	preq := kmsg.NewPtrProduceRequest()
	preq.Acks, preq.TimeoutMillis = 1, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "hot"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = batch
	pt.Partitions = append(pt.Partitions, pp)
	preq.Topics = append(preq.Topics, pt)
	produceFrame := frame(preq, 9)

	freq := kmsg.NewPtrFetchRequest()
	freq.ReplicaID, freq.MaxWaitMillis, freq.MinBytes, freq.MaxBytes = -1, 0, 1, 1<<20
	freq.SessionEpoch = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "hot"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.LogStartOffset, fp.CurrentLeaderEpoch = 64<<10, -1, -1
	ft.Partitions = append(ft.Partitions, fp)
	freq.Topics = append(freq.Topics, ft)
	fetchFrame := frame(freq, 11)

	conn, err := net.Dial("tcp", tb.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 1<<20)
	roundTrip := func(f []byte) int {
		if _, err := conn.Write(f); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf[:4]); err != nil {
			b.Fatal(err)
		}
		n := int(binary.BigEndian.Uint32(buf))
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for range 100 { // data for the fetches
		roundTrip(produceFrame)
	}
	for _, c := range []struct {
		name  string
		frame []byte
		// check decodes a response body and returns the first
		// partition's error code, which must stay 0.
		check func(body []byte) int16
	}{
		{"produce", produceFrame, func(body []byte) int16 {
			r := kmsg.NewPtrProduceResponse()
			r.SetVersion(9)
			if err := r.ReadFrom(body[5:]); err != nil || len(r.Topics) != 1 {
				b.Fatalf("produce response: %v", err)
			}
			return r.Topics[0].Partitions[0].ErrorCode
		}},
		{"fetch", fetchFrame, func(body []byte) int16 {
			r := kmsg.NewPtrFetchResponse()
			r.SetVersion(11)
			if err := r.ReadFrom(body[4:]); err != nil || len(r.Topics) != 1 || len(r.Topics[0].Partitions[0].RecordBatches) == 0 {
				b.Fatalf("fetch response: %v", err)
			}
			return r.Topics[0].Partitions[0].ErrorCode
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := roundTrip(c.frame)
			if code := c.check(buf[:n]); code != 0 {
				b.Fatalf("%s answered error %d", c.name, code)
			}
			b.SetBytes(int64(len(c.frame)) + int64(n))
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(c.frame)
			}
		})
	}
}
