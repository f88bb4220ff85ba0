package kafkaapi

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/netpoll"
	"samsa/replica"
)

// TestFetchResponseDecodesWithKmsg writes hand-framed Fetch responses at
// every served version through a real netpoll server (records by sendfile)
// and decodes them with kmsg: every field and the record bytes must match.
func TestFetchResponseDecodesWithKmsg(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := logfile.Open(filepath.Join(t.TempDir(), "t-0"), logfile.DefaultConfig(), logfile.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 5 {
		if _, err := l.Append(testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 100, Fill: byte('a' + i), Timestamp: int64(i)})); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := func() ([]byte, error) { r, _ := l.Read(0, 1<<20, l.EndOffset()); defer r.Release(); return r.Bytes() }()

	srv := netpoll.NewServer(netpoll.Config{Logger: quiet}, netpoll.HandlerFunc(func(c *netpoll.Conn, req []byte) *netpoll.Response {
		v := int16(binary.BigEndian.Uint16(req))
		committed := req[2] == 1
		r, err := l.Read(0, 1<<20, l.EndOffset())
		if err != nil {
			t.Error(err)
		}
		rc := &reqCtx{version: v, corr: 77, flexibleResp: v >= 12}
		return encodeFetch(rc, 0, 0, []replica.FetchTopic{
			{Name: "t", Parts: []replica.FetchPart{
				{Partition: 0, HW: 15, LSO: 15, LogStart: 3, Region: r, AbortedNull: !committed, Diverging: replica.Diverging{Epoch: -1, EndOffset: -1}},
				{Partition: 1, ErrCode: kerr.OffsetOutOfRange.Code, HW: 7, LSO: 7, LogStart: 0, AbortedNull: !committed, Diverging: replica.Diverging{Epoch: 3, EndOffset: 42}},
			}},
			{Name: "empty-topic", Parts: []replica.FetchPart{{Partition: 4, HW: 0, LSO: 0, AbortedNull: !committed, Diverging: replica.Diverging{Epoch: -1, EndOffset: -1}}}},
		})
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	for v := int16(4); v <= 12; v++ {
		for _, committed := range []byte{0, 1} {
			conn.Write([]byte{0, 0, 0, 3, 0, byte(v), committed})
			var size [4]byte
			if _, err := io.ReadFull(conn, size[:]); err != nil {
				t.Fatal(err)
			}
			frame := make([]byte, binary.BigEndian.Uint32(size[:]))
			if _, err := io.ReadFull(conn, frame); err != nil {
				t.Fatal(err)
			}
			if corr := binary.BigEndian.Uint32(frame); corr != 77 {
				t.Fatalf("v%d: correlation id %d", v, corr)
			}
			body := frame[4:]
			if v >= 12 {
				if body[0] != 0 {
					t.Fatalf("v%d: response header tags %d", v, body[0])
				}
				body = body[1:]
			}
			resp := kmsg.NewPtrFetchResponse()
			resp.SetVersion(v)
			if err := resp.ReadFrom(body); err != nil {
				t.Fatalf("v%d: kmsg cannot decode: %v", v, err)
			}
			if len(resp.Topics) != 2 || resp.Topics[0].Topic != "t" || len(resp.Topics[0].Partitions) != 2 {
				t.Fatalf("v%d: topics %+v", v, resp.Topics)
			}
			p0, p1 := resp.Topics[0].Partitions[0], resp.Topics[0].Partitions[1]
			if p0.HighWatermark != 15 || p0.LastStableOffset != 15 || p0.ErrorCode != 0 {
				t.Fatalf("v%d: partition 0 %+v", v, p0)
			}
			if v >= 5 && p0.LogStartOffset != 3 {
				t.Fatalf("v%d: log start %d", v, p0.LogStartOffset)
			}
			if v >= 11 && p0.PreferredReadReplica != -1 {
				t.Fatalf("v%d: preferred read replica %d", v, p0.PreferredReadReplica)
			}
			if (p0.AbortedTransactions == nil) != (committed == 0) {
				t.Fatalf("v%d committed=%d: aborted transactions %v", v, committed, p0.AbortedTransactions)
			}
			if !bytes.Equal(p0.RecordBatches, want) {
				t.Fatalf("v%d: records differ (%d bytes, want %d)", v, len(p0.RecordBatches), len(want))
			}
			if p1.ErrorCode != kerr.OffsetOutOfRange.Code || p1.HighWatermark != 7 || len(p1.RecordBatches) != 0 {
				t.Fatalf("v%d: partition 1 %+v", v, p1)
			}
			// diverging_epoch is a tagged field of v12+ (KIP-595).
			if v >= 12 && (p1.DivergingEpoch.Epoch != 3 || p1.DivergingEpoch.EndOffset != 42) {
				t.Fatalf("v%d: partition 1 diverging epoch %+v", v, p1.DivergingEpoch)
			}
			if p0.DivergingEpoch.Epoch != -1 || p0.DivergingEpoch.EndOffset != -1 {
				t.Fatalf("v%d: partition 0 diverging epoch %+v", v, p0.DivergingEpoch)
			}
			if e := resp.Topics[1]; e.Topic != "empty-topic" || e.Partitions[0].Partition != 4 || len(e.Partitions[0].RecordBatches) != 0 {
				t.Fatalf("v%d: empty topic %+v", v, e)
			}
			// The records decode as the batches that were appended.
			var rb kmsg.RecordBatch
			if err := rb.ReadFrom(p0.RecordBatches); err != nil || rb.NumRecords != 3 {
				t.Fatalf("v%d: first batch: %v", v, err)
			}
		}
	}
}
