package itest

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn is a plain TCP connection to the broker that speaks Kafka framing
// by hand: for requests no client would send and for reading exactly what
// the broker answers.
type rawConn struct {
	net.Conn
	corr int32
	fmt  *kmsg.RequestFormatter
}

func (b *broker) dial(t testing.TB) *rawConn {
	t.Helper()
	return b.dialFrom(t, "")
}

// dialFrom connects from a local address of 127.0.0.0/8 ("" for any).
func (b *broker) dialFrom(t testing.TB, src string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", b.addr)
	if err != nil {
		t.Fatalf("dial %s from %q: %v", b.addr, src, err)
	}
	if b.sec != nil && b.sec.cfg != nil {
		// A TLS listener (tls_test.go): the handshake first.
		cfg := b.sec.cfg.Clone()
		cfg.ServerName = "localhost"
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake with %s: %v", b.addr, err)
		}
		tc.SetDeadline(time.Time{})
		c = tc
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{Conn: c, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("samsa-itest"))}
	if b.sec != nil && b.sec.mech != "" {
		rc.authenticate(t, b.sec.mech, b.sec.user, b.sec.pass) // a SASL listener (sasl_test.go)
	}
	return rc
}

// send writes one request at its set version; it returns the correlation id.
func (c *rawConn) send(t testing.TB, req kmsg.Request) int32 {
	t.Helper()
	c.corr++
	frame := c.fmt.AppendRequest(nil, req, c.corr)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(frame); err != nil {
		t.Fatalf("write %s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return c.corr
}

// readFrame reads one size-prefixed response frame.
func (c *rawConn) readFrame(d time.Duration) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > 256<<20 {
		return nil, fmt.Errorf("response size %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// recv reads the response to req (sent with correlation id corr) and
// decodes it with kmsg at req's version.
func (c *rawConn) recv(t testing.TB, req kmsg.Request, corr int32) kmsg.Response {
	t.Helper()
	frame, err := c.readFrame(30 * time.Second)
	if err != nil {
		t.Fatalf("reading %s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := decodeResponse(frame, corr, resp); err != nil {
		t.Fatalf("%s v%d response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

// decodeResponse checks a response frame's correlation id, skips the
// header's tagged fields (flexible responses other than ApiVersions') and
// decodes the body, which must be consumed exactly.
func decodeResponse(frame []byte, corr int32, resp kmsg.Response) error {
	if len(frame) < 4 {
		return fmt.Errorf("frame of %d bytes", len(frame))
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		return fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	body := frame[4:]
	if resp.IsFlexible() && resp.Key() != 18 {
		if len(body) == 0 || body[0] != 0 {
			return fmt.Errorf("response header tags % x, want 00", body[:min(len(body), 4)])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return err
	}
	// kmsg ignores trailing bytes: re-encoding must give back the body
	// exactly, or the broker sent something kmsg could not account for.
	if again := resp.AppendTo(nil); !bytes.Equal(again, body) {
		i := 0
		for i < len(again) && i < len(body) && again[i] == body[i] {
			i++
		}
		return fmt.Errorf("body of %d bytes re-encodes to %d bytes, first difference at byte %d", len(body), len(again), i)
	}
	return nil
}

// roundTrip sends req and returns its decoded response.
func (c *rawConn) roundTrip(t testing.TB, req kmsg.Request) kmsg.Response {
	t.Helper()
	return c.recv(t, req, c.send(t, req))
}

// expectClosed checks that the broker closes the connection without
// sending anything more; any byte received fails at once.
func (c *rawConn) expectClosed(t testing.TB) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if n > 0 {
		t.Fatalf("broker answered % x... (%d bytes) instead of closing the connection", buf[:min(n, 32)], n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection still open 10s later")
	}
}

// batchSpec describes a hand-made record batch.
type batchSpec struct {
	records    []kmsg.Record
	countDelta int32 // added to the true record count in the header
	badCRC     bool  // flip one bit of the CRC
	magic      int8  // 0: 2
	// firstTS and maxTS set the header's timestamps (0: now); records'
	// own timestamps are firstTS plus their TimestampDelta64.
	firstTS, maxTS int64
}

// recordBatch encodes a v2 record batch the way producers do, optionally
// broken.
func recordBatch(s batchSpec) []byte {
	now := time.Now().UnixMilli()
	var recs []byte
	for i, r := range s.records {
		r.OffsetDelta = int32(i)
		r.Length = 0
		r.Length = int32(len(r.AppendTo(nil)) - 1) // everything after the length varint
		recs = r.AppendTo(recs)
	}
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(s.records) - 1),
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(s.records)) + s.countDelta,
		Records:              recs,
	}
	if s.magic != 0 {
		b.Magic = s.magic
	}
	if s.firstTS != 0 {
		b.FirstTimestamp = s.firstTS
	}
	if s.maxTS != 0 {
		b.MaxTimestamp = s.maxTS
	}
	out := b.AppendTo(nil)
	// Length and CRC as the format defines them: length counts the bytes
	// after it, the CRC covers attributes to the end.
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	crc := crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli))
	if s.badCRC {
		crc ^= 1
	}
	binary.BigEndian.PutUint32(out[17:], crc)
	return out
}

// simpleRecords returns n records with small keys and values.
func simpleRecords(n int, prefix string) []kmsg.Record {
	out := make([]kmsg.Record, n)
	for i := range out {
		out[i] = kmsg.NewRecord()
		out[i].Key = fmt.Appendf(nil, "%s-k%d", prefix, i)
		out[i].Value = fmt.Appendf(nil, "%s-v%d", prefix, i)
	}
	return out
}

// produceRequest is a Produce request at version v with one partition's
// record set, acks=-1.
func produceRequest(v int16, topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(v)
	req.Acks = -1
	req.TimeoutMillis = 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produceCode sends one raw Produce request and returns the partition's
// error code and base offset.
func (c *rawConn) produceCode(t testing.TB, v int16, topic string, partition int32, records []byte) (int16, int64) {
	t.Helper()
	resp := c.roundTrip(t, produceRequest(v, topic, partition, records)).(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response has %d topics, want 1 with 1 partition", len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	return p.ErrorCode, p.BaseOffset
}
