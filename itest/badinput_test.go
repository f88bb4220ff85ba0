package itest

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Limits of the bad-input broker: small enough to exceed cheaply.
const (
	badRequestMax = 1024 // socket.request.max.bytes
	badMessageMax = 512  // message.max.bytes
)

// frame prefixes payload with its size.
func frame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// header is a request header v1: key, version, correlation id, client id.
func header(key, version int16, corr int32) []byte {
	h := binary.BigEndian.AppendUint16(nil, uint16(key))
	h = binary.BigEndian.AppendUint16(h, uint16(version))
	h = binary.BigEndian.AppendUint32(h, uint32(corr))
	return append(h, 0, 5, 'i', 't', 'e', 's', 't')
}

// healthCheck proves the broker still serves after a bad input: a new
// connection produces a record and reads the whole topic back, which must
// be exactly what was acknowledged so far (nothing lost, nothing of the
// bad input appended).
type healthCheck struct {
	b     *broker
	topic string
	want  []string
}

// resync takes the topic's current content as what it should hold.
func (h *healthCheck) resync(t *testing.T) {
	t.Helper()
	h.want = nil
	for _, r := range h.b.consumeAll(t, h.topic) {
		h.want = append(h.want, string(r.Value))
	}
}

func (h *healthCheck) check(t *testing.T, label string) {
	t.Helper()
	v := "after " + label
	produceSync(t, h.b.client(t), &kgo.Record{Topic: h.topic, Value: []byte(v)})
	h.want = append(h.want, v)
	var got []string
	for _, r := range h.b.consumeAll(t, h.topic) {
		got = append(got, string(r.Value))
	}
	if !slices.Equal(got, h.want) {
		t.Fatalf("after %s the topic holds\n %q\nwant\n %q", label, got, h.want)
	}
}

// TestBadInput sends what no well-behaved client sends, on raw TCP
// connections, and checks the broker's answer: a closed connection for
// bytes it cannot frame or parse, an error code for records it refuses.
// After each, another connection still produces and consumes, and the data
// written before is intact.
func TestBadInput(t *testing.T) {
	b := startBroker(t, "socket.request.max.bytes="+strconv.Itoa(badRequestMax), "message.max.bytes="+strconv.Itoa(badMessageMax))
	const topic = "bad.input"
	b.newTopic(t, topic, 1, nil)
	h := &healthCheck{b: b, topic: topic}
	h.check(t, "the start")
	// The clients above stay connected; no more than these may remain.
	baseline := b.metric(t, "samsa_connections")
	served := b.apiVersions(t)
	// versionRequest is a request at a version outside what the broker
	// serves, as read from its ApiVersions at run time.
	versionRequest := func(req kmsg.Request, key, version int16) []byte {
		return frame(append(header(key, version, 1), req.AppendTo(nil)...))
	}
	fetchBody := fetchRequest(4, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})

	// Inputs that close the connection without an answer.
	closers := []struct {
		name string
		send []byte
		// halfClose: shut our write side after sending (a client that
		// went away mid-request).
		halfClose bool
	}{
		{name: "HTTP request", send: []byte("GET / HTTP/1.1\r\nHost: samsa\r\n\r\n")},
		{name: "garbage in a frame", send: frame([]byte{0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8})},
		{name: "frame over socket.request.max.bytes", send: frame(make([]byte, badRequestMax+1))},
		{name: "1 GiB size prefix", send: []byte{0x40, 0, 0, 0, 0, 18, 0, 3}},
		{name: "negative size", send: []byte{0xff, 0xff, 0xff, 0xff, 0, 18, 0, 3, 0, 0, 0, 1}},
		{name: "zero size", send: []byte{0, 0, 0, 0}},
		{name: "frame shorter than a header", send: []byte{0, 0, 0, 3, 0, 18, 0}},
		{name: "truncated request", send: append([]byte{0, 0, 0, 100}, header(18, 3, 1)[:6]...), halfClose: true},
		{name: "unknown api key", send: func() []byte {
			p := append(header(999, 0, 1), 0, 0, 0, 0)
			return frame(p)
		}()},
		{name: "negative api key", send: func() []byte {
			p := append(header(-2, 0, 1), 0, 0, 0, 0)
			return frame(p)
		}()},
		{name: "Produce above the newest version served", send: versionRequest(
			produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "vmax")})), 0, served[0][1]+1)},
		{name: "Produce below the oldest version served", send: versionRequest(
			produceRequest(3, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "vmin")})), 0, served[0][0]-1)},
		{name: "Fetch below the oldest version served", send: versionRequest(fetchBody, 1, served[1][0]-1)},
		{name: "Fetch above the newest version served", send: versionRequest(fetchBody, 1, served[1][1]+1)},
		{name: "unparsable Metadata body", send: func() []byte {
			p := append(header(3, 4, 1), 0, 0, 0, 9, 'x') // 9 topics, one byte of them
			return frame(p)
		}()},
		{name: "Metadata v12 claiming 2^32-1 tagged fields", send: func() []byte {
			// kmsg alone would loop over the count for minutes after the
			// bytes run out; the broker must refuse it at once.
			p := append(header(3, 12, 1), 0)                              // flexible header: no tags
			p = append(p, 0x01, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f) // no topics, two bools, the count
			return frame(p)
		}()},
		{name: "client id longer than the frame", send: func() []byte {
			p := append(header(18, 0, 1)[:8], 0x7f, 0xff, 'x')
			return frame(p)
		}()},
	}
	for _, c := range closers {
		t.Run(c.name, func(t *testing.T) {
			conn := b.dial(t)
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(c.send); err != nil {
				t.Fatalf("write: %v", err)
			}
			if c.halfClose {
				conn.Conn.(interface{ CloseWrite() error }).CloseWrite()
			}
			conn.expectClosed(t)
			h.check(t, c.name)
		})
	}

	t.Run("ApiVersions v9 (KIP-511)", func(t *testing.T) {
		conn := b.dial(t)
		// A future version's body is unknown: the broker must not parse it.
		p := append(header(18, 9, 77), 0xff, 0xfe, 0xfd)
		if _, err := conn.Write(frame(p)); err != nil {
			t.Fatal(err)
		}
		raw, err := conn.readFrame(10 * time.Second)
		if err != nil {
			t.Fatalf("no answer to ApiVersions v9: %v", err)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(0) // answered at v0, header v0
		if err := decodeResponse(raw, 77, resp); err != nil {
			t.Fatalf("ApiVersions v9 answer is not a v0 response: %v (% x)", err, raw)
		}
		if resp.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("error %d, want UNSUPPORTED_VERSION (35)", resp.ErrorCode)
		}
		// The list is the one ApiVersions v3 gives.
		versions := map[int16][2]int16{}
		for _, k := range resp.ApiKeys {
			versions[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		if fmt.Sprint(versions) != fmt.Sprint(served) {
			t.Errorf("ApiVersions v9 lists %v, v3 lists %v", versions, served)
		}
		// The connection stays usable: the client retries at a version listed.
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(3)
		req.ClientSoftwareName, req.ClientSoftwareVersion = "itest", "1"
		if r := conn.roundTrip(t, req).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 || len(r.ApiKeys) != len(resp.ApiKeys) {
			t.Fatalf("ApiVersions v3 after v9: error %d, %d keys", r.ErrorCode, len(r.ApiKeys))
		}
		h.check(t, "ApiVersions v9")
	})

	// Records the broker refuses with an error code, keeping the connection.
	big := simpleRecords(1, "big")
	big[0].Value = make([]byte, badMessageMax)
	control := recordBatch(batchSpec{records: simpleRecords(1, "ctl")})
	control[22] |= 0x20 // attributes bit 5: control batch
	fixCRC(control)
	truncated := recordBatch(batchSpec{records: simpleRecords(3, "cut")})
	truncated = truncated[:len(truncated)-5]
	twoGood := append(recordBatch(batchSpec{records: simpleRecords(2, "ok")}), recordBatch(batchSpec{records: simpleRecords(2, "bad"), badCRC: true})...)
	refusals := []struct {
		name      string
		partition int32
		records   []byte
		acks      int16
		codes     []int16 // any of these
	}{
		{"CRC mismatch", 0, recordBatch(batchSpec{records: simpleRecords(3, "crc"), badCRC: true}), -1, []int16{kerr.CorruptMessage.Code}},
		{"record count one too many", 0, recordBatch(batchSpec{records: simpleRecords(3, "cnt"), countDelta: 1}), -1, []int16{kerr.InvalidRecord.Code, kerr.CorruptMessage.Code}},
		{"record count one too few", 0, recordBatch(batchSpec{records: simpleRecords(3, "cnt"), countDelta: -1}), -1, []int16{kerr.InvalidRecord.Code, kerr.CorruptMessage.Code}},
		{"batch over max.message.bytes", 0, recordBatch(batchSpec{records: big}), -1, []int16{kerr.MessageTooLarge.Code}},
		// Produce v3+ takes exactly one batch per partition, of magic 2
		// (Kafka's ProduceRequest.validateRecords): INVALID_RECORD for
		// anything else, before the batch's own checks.
		{"magic 1", 0, recordBatch(batchSpec{records: simpleRecords(1, "m1"), magic: 1}), -1, []int16{kerr.InvalidRecord.Code}},
		{"control batch from a client", 0, control, -1, []int16{kerr.InvalidRecord.Code}},
		{"truncated batch", 0, truncated, -1, []int16{kerr.CorruptMessage.Code}},
		{"good batch then a corrupt one", 0, twoGood, -1, []int16{kerr.InvalidRecord.Code}},
		{"two good batches in one partition", 0, append(recordBatch(batchSpec{records: simpleRecords(1, "two-a")}), recordBatch(batchSpec{records: simpleRecords(1, "two-b")})...), -1, []int16{kerr.InvalidRecord.Code}},
		{"empty record set", 0, []byte{}, -1, []int16{kerr.InvalidRecord.Code}},
		{"unknown partition", 7, recordBatch(batchSpec{records: simpleRecords(1, "p7")}), -1, []int16{kerr.UnknownTopicOrPartition.Code}},
		{"negative partition", -1, recordBatch(batchSpec{records: simpleRecords(1, "pm1")}), -1, []int16{kerr.UnknownTopicOrPartition.Code}},
		{"acks=2", 0, recordBatch(batchSpec{records: simpleRecords(1, "acks")}), 2, []int16{kerr.InvalidRequiredAcks.Code}},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			conn := b.dial(t)
			req := produceRequest(9, topic, c.partition, c.records)
			req.Acks = c.acks
			resp := conn.roundTrip(t, req).(*kmsg.ProduceResponse)
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode == 0 {
				// Accepted: what it appended is the topic's now, so that
				// the later checks test their own input only.
				h.resync(t)
			}
			if !slices.Contains(c.codes, p.ErrorCode) {
				t.Fatalf("error %d (%v), want one of %v", p.ErrorCode, kerr.ErrorForCode(p.ErrorCode), c.codes)
			}
			if p.BaseOffset != -1 {
				t.Errorf("refused produce answered base offset %d, want -1", p.BaseOffset)
			}
			// The same connection still works.
			good := recordBatch(batchSpec{records: simpleRecords(1, "same-conn")})
			if code, _ := conn.produceCode(t, 9, topic, 0, good); code != 0 {
				t.Fatalf("good produce on the same connection: error %d", code)
			}
			h.want = append(h.want, "same-conn-v0")
			h.check(t, c.name)
		})
	}

	// acks=0: no response to carry the error, so Kafka closes the
	// connection (KafkaApis.handleProduceRequest: "the server will close
	// socket server so that the producer client will know that some error
	// has happened and will refresh its metadata").
	for _, c := range []struct {
		name      string
		partition int32
		records   []byte
	}{
		{"acks=0 with a CRC mismatch", 0, recordBatch(batchSpec{records: simpleRecords(1, "a0crc"), badCRC: true})},
		{"acks=0 to an unknown partition", 9, recordBatch(batchSpec{records: simpleRecords(1, "a0p9")})},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := b.dial(t)
			req := produceRequest(9, topic, c.partition, c.records)
			req.Acks = 0
			conn.send(t, req)
			// A request after it must find the connection closed.
			apiv := kmsg.NewPtrApiVersionsRequest()
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			conn.Write(conn.fmt.AppendRequest(nil, apiv, 99))
			conn.expectClosed(t)
			h.check(t, c.name)
		})
	}

	t.Run("client-chosen base offset and epoch are overwritten", func(t *testing.T) {
		// A producer's batch says base offset 0 by convention; one saying
		// 999 (outside the CRC) is stored at the log's next offset.
		batch := recordBatch(batchSpec{records: simpleRecords(2, "based")})
		binary.BigEndian.PutUint64(batch[0:], 999)
		conn := b.dial(t)
		code, base := conn.produceCode(t, 9, topic, 0, batch)
		if code != 0 || base != int64(len(h.want)) {
			t.Fatalf("batch with base offset 999: error %d, base offset %d, want 0 and %d", code, base, len(h.want))
		}
		h.want = append(h.want, "based-v0", "based-v1")
		h.check(t, "a batch with base offset 999")
	})

	t.Run("CRC mismatch through franz-go", func(t *testing.T) {
		// The same refusal for a request sent by a real client's raw API.
		req := produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(2, "kgo-crc"), badCRC: true}))
		resp, err := req.RequestWith(ctx(t), b.client(t))
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.CorruptMessage.Code {
			t.Fatalf("error %d, want CORRUPT_MESSAGE", p.ErrorCode)
		}
		h.check(t, "CRC mismatch through franz-go")
	})

	t.Run("no connection leaked", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := b.metric(t, "samsa_connections")
			if n <= baseline {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v connections open 10s after the bad inputs, %v before them", n, baseline)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := b.metric(t, "samsa_handler_panics_total"); n != 0 {
			t.Fatalf("%v handler panics", n)
		}
	})
}

// fixCRC recomputes a batch's CRC after an edit.
func fixCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], crc32.MakeTable(crc32.Castagnoli)))
}
