package itest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchPart is one partition of a hand-made Fetch request.
type fetchPart struct {
	partition int32
	offset    int64
	maxBytes  int32
}

// fetchRequest builds a Fetch request at version v for one topic.
func fetchRequest(v int16, topic string, maxWait, minBytes, maxBytes int32, parts ...fetchPart) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(v)
	req.ReplicaID = -1
	req.MaxWaitMillis = maxWait
	req.MinBytes = minBytes
	req.MaxBytes = maxBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p.partition
		rp.FetchOffset = p.offset
		rp.PartitionMaxBytes = p.maxBytes
		rp.CurrentLeaderEpoch = -1
		rp.LogStartOffset = -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchedBatch is one record batch of a fetch response.
type fetchedBatch struct {
	raw   []byte
	batch kmsg.RecordBatch
	recs  []kmsg.Record
}

// splitBatches splits a partition's record bytes into whole v2 batches,
// failing on a partial batch: the broker sends whole batches only.
func splitBatches(t *testing.T, b []byte) []fetchedBatch {
	t.Helper()
	var out []fetchedBatch
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("%d trailing bytes, not a batch", len(b))
		}
		n := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if n > len(b) || n < 61 {
			t.Fatalf("batch of %d bytes with %d left: partial batch", n, len(b))
		}
		var fb fetchedBatch
		fb.raw = b[:n]
		if err := fb.batch.ReadFrom(fb.raw); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if fb.batch.Magic != 2 || fb.batch.Attributes&7 != 0 {
			t.Fatalf("batch magic %d attributes %x", fb.batch.Magic, fb.batch.Attributes)
		}
		rb := fb.batch.Records
		for i := int32(0); i < fb.batch.NumRecords; i++ {
			var r kmsg.Record
			length, s := binary.Varint(rb)
			if s <= 0 || int(length)+s > len(rb) {
				t.Fatalf("record %d framing", i)
			}
			if err := r.ReadFrom(rb[:s+int(length)]); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			fb.recs = append(fb.recs, r)
			rb = rb[s+int(length):]
		}
		if len(rb) != 0 {
			t.Fatalf("%d bytes after the batch's records", len(rb))
		}
		out = append(out, fb)
		b = b[n:]
	}
	return out
}

func fetchOne(t *testing.T, conn *rawConn, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	t.Helper()
	resp := conn.roundTrip(t, req).(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch: top-level error %d", resp.ErrorCode)
	}
	return resp
}

// TestFetchVersions reads a topic at every Fetch version and checks the
// response exactly: it decodes with kmsg and re-encodes to the same bytes
// (rawConn.recv), the batches are whole, offsets run in order, and the
// high watermark, last stable offset and log start offset are right.
func TestFetchVersions(t *testing.T) {
	b := startBroker(t)
	const topic = "fetch.versions"
	b.newTopic(t, topic, 1, nil)
	cl := b.client(t)
	for i := range 5 { // five produce calls: at least five batches
		var recs []*kgo.Record
		for j := range 4 {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i*4 + j)), Value: []byte(strings.Repeat("v", 100*j)),
				Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}})
		}
		produceSync(t, cl, recs...)
	}
	conn := b.dial(t)
	for v := int16(4); v <= 12; v++ {
		t.Run("v"+strconv.Itoa(int(v)), func(t *testing.T) {
			next := int64(0)
			for range 30 {
				if next == 20 {
					break
				}
				resp := fetchOne(t, conn, fetchRequest(v, topic, 0, 1, 1<<20, fetchPart{0, next, 300}))
				p := resp.Topics[0].Partitions[0]
				if p.ErrorCode != 0 || p.HighWatermark != 20 {
					t.Fatalf("offset %d: error %d high watermark %d", next, p.ErrorCode, p.HighWatermark)
				}
				if v >= 4 && p.LastStableOffset != 20 {
					t.Errorf("last stable offset %d, want 20", p.LastStableOffset)
				}
				if v >= 5 && p.LogStartOffset != 0 {
					t.Errorf("log start offset %d, want 0", p.LogStartOffset)
				}
				batches := splitBatches(t, p.RecordBatches)
				if len(batches) == 0 {
					t.Fatalf("offset %d: no batches", next)
				}
				for _, fb := range batches {
					for _, r := range fb.recs {
						off := fb.batch.FirstOffset + int64(r.OffsetDelta)
						if off < next {
							continue // the batch holding next starts before it
						}
						if off != next || string(r.Key) != strconv.Itoa(int(off)) {
							t.Fatalf("record at %d has key %q, want offset %d", off, r.Key, next)
						}
						next++
					}
				}
			}
			if next != 20 {
				t.Fatalf("read up to offset %d, want 20", next)
			}
		})
	}
}

// TestFetchLongPoll: a fetch waiting with max_wait 5 s at the end of the
// log is answered by a record produced once it is parked, after that
// produce and well before the 5 s; with nothing produced it waits about
// max_wait.
func TestFetchLongPoll(t *testing.T) {
	b := startBroker(t)
	const topic = "fetch.longpoll"
	b.newTopic(t, topic, 1, nil)
	cl := b.client(t)
	produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("first")})

	t.Run("woken", func(t *testing.T) {
		conn := b.dial(t)
		req := fetchRequest(12, topic, 5000, 1, 1<<20, fetchPart{0, 1, 1 << 20})
		start := time.Now()
		corr := conn.send(t, req)
		b.waitParked(t, 1)
		sent := time.Now()
		if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("second")}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		resp := conn.recv(t, req, corr).(*kmsg.FetchResponse)
		answered := time.Now()
		p := resp.Topics[0].Partitions[0]
		batches := splitBatches(t, p.RecordBatches)
		if p.ErrorCode != 0 || len(batches) != 1 || string(batches[0].recs[0].Value) != "second" {
			t.Fatalf("long poll answered with error %d and %d batches, want the record produced", p.ErrorCode, len(batches))
		}
		if d := answered.Sub(sent); d > 2500*time.Millisecond {
			t.Fatalf("answered %v after the produce: the append did not wake it (parked after %v)", d, sent.Sub(start))
		}
		if v := b.metric(t, "samsa_fetch_purgatory_size"); v != 0 {
			t.Errorf("%v fetches still parked after the answer", v)
		}
		t.Logf("parked after %v, answered %v after the produce", sent.Sub(start), answered.Sub(sent))
	})

	t.Run("timeout", func(t *testing.T) {
		conn := b.dial(t)
		start := time.Now()
		resp := fetchOne(t, conn, fetchRequest(12, topic, 300, 1, 1<<20, fetchPart{0, 2, 1 << 20}))
		d := time.Since(start)
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 2 {
			t.Fatalf("empty long poll: error %d, %d bytes, high watermark %d", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
		}
		if d < 280*time.Millisecond || d > 3*time.Second {
			t.Fatalf("empty long poll with max_wait 300ms answered after %v", d)
		}
	})

	t.Run("topic deleted", func(t *testing.T) {
		b.needAPIs(t, keyDeleteTopics)
		const gone = "fetch.longpoll.gone"
		b.newTopic(t, gone, 1, nil)
		conn := b.dial(t)
		req := fetchRequest(12, gone, 10000, 1, 1<<20, fetchPart{0, 0, 1 << 20})
		start := time.Now()
		corr := conn.send(t, req)
		b.waitParked(t, 1) // so that the delete must wake it
		adm := b.admin(t)
		if r, err := adm.DeleteTopic(ctx(t), gone); err != nil || r.Err != nil {
			t.Fatalf("delete: %v %v", err, r.Err)
		}
		resp := conn.recv(t, req, corr).(*kmsg.FetchResponse)
		d := time.Since(start)
		if v := b.metric(t, "samsa_fetch_purgatory_size"); v != 0 {
			t.Errorf("%v fetches still parked after the answer", v)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != kerr.UnknownTopicOrPartition.Code && p.ErrorCode != kerr.NotLeaderForPartition.Code {
			t.Errorf("long poll on a deleted topic: error %d, want UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER", p.ErrorCode)
		}
		if d > 5*time.Second {
			t.Errorf("long poll on a deleted topic answered after %v of its 10 s", d)
		}
	})

	t.Run("min_bytes", func(t *testing.T) {
		// min_bytes larger than what is there: the broker waits for more
		// (until max_wait), and answers with what it has.
		conn := b.dial(t)
		start := time.Now()
		resp := fetchOne(t, conn, fetchRequest(12, topic, 300, 1<<20, 1<<20, fetchPart{0, 0, 1 << 20}))
		d := time.Since(start)
		p := resp.Topics[0].Partitions[0]
		if n := len(splitBatches(t, p.RecordBatches)); n != 2 {
			t.Fatalf("min_bytes fetch: %d batches, want 2", n)
		}
		if d < 280*time.Millisecond {
			t.Fatalf("min_bytes 1 MiB with 2 small batches answered after %v, before max_wait", d)
		}
	})
}

// TestFetchMaxBytes: KIP-74. A batch larger than max_bytes and
// partition_max_bytes still comes, whole; later partitions stop at the
// limits; clients configured with tiny limits still make progress.
func TestFetchMaxBytes(t *testing.T) {
	b := startBroker(t)
	const topic = "fetch.maxbytes"
	b.newTopic(t, topic, 2, nil)
	cl := b.client(t)
	big := bytes.Repeat([]byte("B"), 200<<10)
	produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: big})
	for i := range 10 { // ten batches of ~1 KiB in partition 1
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 1, Value: bytes.Repeat([]byte{byte('a' + i)}, 1000)})
	}
	conn := b.dial(t)

	t.Run("oversized first batch", func(t *testing.T) {
		resp := fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 1024, fetchPart{0, 0, 1024}))
		p := resp.Topics[0].Partitions[0]
		batches := splitBatches(t, p.RecordBatches)
		if len(batches) != 1 || !bytes.Equal(batches[0].recs[0].Value, big) {
			t.Fatalf("max_bytes 1024: %d batches, want the whole 200 KiB batch", len(batches))
		}
	})

	t.Run("partition max bytes", func(t *testing.T) {
		resp := fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{1, 0, 2500}))
		p := resp.Topics[0].Partitions[0]
		batches := splitBatches(t, p.RecordBatches)
		if len(batches) != 2 || len(p.RecordBatches) > 2500 {
			t.Fatalf("partition_max_bytes 2500: %d batches in %d bytes, want 2 (~1.1 KiB each)", len(batches), len(p.RecordBatches))
		}
	})

	t.Run("max bytes across partitions", func(t *testing.T) {
		// Partition 0's 200 KiB batch comes first and exhausts max_bytes:
		// partition 1 gets nothing.
		resp := fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 4096, fetchPart{0, 0, 1 << 20}, fetchPart{1, 0, 1 << 20}))
		ps := resp.Topics[0].Partitions
		if len(splitBatches(t, ps[0].RecordBatches)) != 1 || len(ps[1].RecordBatches) != 0 {
			t.Fatalf("max_bytes 4096: partition 0 %d bytes, partition 1 %d bytes; want the big batch and nothing", len(ps[0].RecordBatches), len(ps[1].RecordBatches))
		}
		// Partition 1 first: its batches up to max_bytes, then nothing
		// from partition 0, whose batch does not fit.
		resp = fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 4096, fetchPart{1, 0, 1 << 20}, fetchPart{0, 0, 1 << 20}))
		ps = resp.Topics[0].Partitions
		total := len(ps[0].RecordBatches) + len(ps[1].RecordBatches)
		if n := len(splitBatches(t, ps[0].RecordBatches)); n != 3 || len(ps[1].RecordBatches) != 0 || total > 4096 {
			t.Fatalf("max_bytes 4096, partition 1 first: %d batches, %d bytes from partition 0; want 3 and 0", n, len(ps[1].RecordBatches))
		}
	})

	t.Run("franz-go with tiny limits", func(t *testing.T) {
		got := b.consumeAll(t, topic, kgo.FetchMaxBytes(1024), kgo.FetchMaxPartitionBytes(512))
		if len(got) != 11 || !bytes.Equal(got[0].Value, big) {
			t.Fatalf("consumed %d records, want 11 with the big one first", len(got))
		}
	})
}

// TestFetchErrors: offsets out of range, unknown partitions and fenced
// epochs are per-partition errors; the watermarks come with them.
func TestFetchErrors(t *testing.T) {
	b := startBroker(t)
	const topic = "fetch.errors"
	b.newTopic(t, topic, 1, nil)
	cl := b.client(t)
	for i := range 5 {
		produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))})
	}
	conn := b.dial(t)
	cases := []struct {
		name   string
		part   int32
		offset int64
		code   int16
	}{
		{"past the end", 0, 15, kerr.OffsetOutOfRange.Code},
		{"one past the high watermark", 0, 6, kerr.OffsetOutOfRange.Code},
		{"negative", 0, -1, kerr.OffsetOutOfRange.Code},
		{"at the high watermark", 0, 5, 0},
		{"unknown partition", 3, 0, kerr.UnknownTopicOrPartition.Code},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// max_wait 5 s: an error must answer at once, not wait.
			wait := int32(5000)
			if c.code == 0 {
				wait = 100
			}
			start := time.Now()
			resp := fetchOne(t, conn, fetchRequest(12, topic, wait, 1, 1<<20, fetchPart{c.part, c.offset, 1 << 20}))
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != c.code {
				t.Fatalf("fetch p%d@%d: error %d, want %d", c.part, c.offset, p.ErrorCode, c.code)
			}
			if c.code == 0 {
				return // that one waits: nothing to read
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("error answered after %v", d)
			}
			if c.code == kerr.OffsetOutOfRange.Code && (p.HighWatermark != 5 || p.LogStartOffset != 0) {
				t.Errorf("out of range: high watermark %d log start %d, want 5 and 0", p.HighWatermark, p.LogStartOffset)
			}
		})
	}

	t.Run("unknown topic", func(t *testing.T) {
		resp := fetchOne(t, conn, fetchRequest(12, "fetch.nope", 0, 1, 1<<20, fetchPart{0, 0, 1 << 20}))
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("unknown topic: error %d", p.ErrorCode)
		}
	})

	t.Run("fenced leader epoch", func(t *testing.T) {
		req := fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
		req.Topics[0].Partitions[0].CurrentLeaderEpoch = 1000
		resp := fetchOne(t, conn, req)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnknownLeaderEpoch.Code {
			t.Fatalf("epoch 1000: error %d, want UNKNOWN_LEADER_EPOCH", p.ErrorCode)
		}
	})

	// KIP-227: a session epoch of 0 or -1 makes a full fetch, whatever
	// session id it names (Kafka closes that session, if any, and serves
	// the fetch; kafka-go's Client.Fetch sends id -1, epoch -1); epoch 0
	// also opens a session, whose id the response carries. Any other epoch
	// is an incremental fetch, in a session the broker never opened.
	for _, c := range []struct {
		id, epoch int32
		code      int16
	}{
		{0, -1, 0},
		{0, 0, 0},
		{-1, -1, 0},
		{12345, -1, 0},
		{12345, 0, 0},
		{12345, 1, kerr.FetchSessionIDNotFound.Code},
		{0, 1, kerr.FetchSessionIDNotFound.Code},
		{12345, -2, kerr.FetchSessionIDNotFound.Code},
	} {
		t.Run(fmt.Sprintf("session %d epoch %d", c.id, c.epoch), func(t *testing.T) {
			req := fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
			req.SessionID, req.SessionEpoch = c.id, c.epoch
			resp := conn.roundTrip(t, req).(*kmsg.FetchResponse)
			if opens := c.epoch == 0; resp.ErrorCode != c.code || (resp.SessionID != 0) != opens {
				t.Fatalf("error %d, session id %d; want error %d and a session opened: %v", resp.ErrorCode, resp.SessionID, c.code, opens)
			}
			if c.code != 0 {
				return
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("full fetch answered with %d topics, want the one asked for", len(resp.Topics))
			}
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != 0 || p.HighWatermark != 5 || len(splitBatches(t, p.RecordBatches)) == 0 {
				t.Fatalf("full fetch: error %d, high watermark %d, %d bytes of records", p.ErrorCode, p.HighWatermark, len(p.RecordBatches))
			}
		})
	}

	t.Run("franz-go resets an out-of-range offset", func(t *testing.T) {
		c := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(50)}}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		got := pollN(t, c, 5)
		if got[0].Offset != 0 || string(got[4].Value) != "4" {
			t.Fatalf("after reset: offsets %d..%d", got[0].Offset, got[4].Offset)
		}
	})
}

// TestFetchSessions: a full fetch with epoch 0 opens a session (KIP-227);
// incremental fetches in it name only what changed and are answered with
// only the partitions that have news; forgotten partitions drop out; a
// wrong epoch or a closed session is refused with Kafka's codes.
func TestFetchSessions(t *testing.T) {
	b := startBroker(t)
	const topic = "fetch.sessions"
	b.newTopic(t, topic, 2, nil)
	cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range 5 {
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(strconv.Itoa(i))})
	}
	conn := b.dial(t)
	fetch := func(id, epoch, maxWait int32, parts []fetchPart, forget ...int32) *kmsg.FetchResponse {
		t.Helper()
		req := fetchRequest(12, topic, maxWait, 1, 1<<20, parts...)
		if len(parts) == 0 {
			req.Topics = nil
		}
		req.SessionID, req.SessionEpoch = id, epoch
		if len(forget) > 0 {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic, ft.Partitions = topic, forget
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		return conn.roundTrip(t, req).(*kmsg.FetchResponse)
	}
	// returned lists the partitions of a response with their record counts.
	returned := func(resp *kmsg.FetchResponse) map[int32]int {
		t.Helper()
		if resp.ErrorCode != 0 {
			t.Fatalf("fetch error %d", resp.ErrorCode)
		}
		out := map[int32]int{}
		for _, rt := range resp.Topics {
			for _, p := range rt.Partitions {
				n := 0
				for _, fb := range splitBatches(t, p.RecordBatches) {
					n += len(fb.recs)
				}
				out[p.Partition] = n
			}
		}
		return out
	}

	open := fetch(0, 0, 0, []fetchPart{{0, 0, 1 << 20}, {1, 0, 1 << 20}})
	id := open.SessionID
	if got := returned(open); id == 0 || fmt.Sprint(got) != "map[0:5 1:0]" {
		t.Fatalf("opening fetch: session %d, partitions %v; want a session and both partitions", id, got)
	}
	if n := b.metric(t, "samsa_fetch_sessions"); n != 1 {
		t.Errorf("samsa_fetch_sessions = %v, want 1", n)
	}
	// Partition 0's offset moves past what was read: nothing has news, so
	// the long poll runs out and the answer names no partition.
	start := time.Now()
	if got := returned(fetch(id, 1, 300, []fetchPart{{0, 5, 1 << 20}})); len(got) != 0 {
		t.Fatalf("incremental fetch with no news returned %v", got)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("incremental fetch with no news answered after %v, before its 300 ms wait", d)
	}
	// A record on partition 1: an incremental fetch that names nothing
	// gets that partition only, woken from its long poll.
	produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("p1")})
	if r := fetch(id, 2, 5000, nil); fmt.Sprint(returned(r)) != "map[1:1]" {
		t.Fatalf("after a record on partition 1: %v, want only partition 1 with 1 record (%+v)", returned(r), r.Topics)
	}
	// Wrong epochs and unknown sessions.
	if r := fetch(id, 9, 0, nil); r.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("epoch 9 of a session at 3: error %d, want INVALID_FETCH_SESSION_EPOCH", r.ErrorCode)
	}
	if r := fetch(id+1, 1, 0, nil); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("an unknown session: error %d, want FETCH_SESSION_ID_NOT_FOUND", r.ErrorCode)
	}
	// Forget partition 1 and move on from its record; a new record there
	// is then not returned, while one on partition 0 is.
	if got := returned(fetch(id, 3, 0, []fetchPart{{1, 1, 1 << 20}}, 1)); len(got) != 0 {
		t.Fatalf("forgetting partition 1: %v", got)
	}
	produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("p1 again")})
	produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("p0")})
	if got := returned(fetch(id, 4, 5000, nil)); fmt.Sprint(got) != "map[0:1]" {
		t.Fatalf("after forgetting partition 1: %v, want only partition 0 with its new record", got)
	}
	// Epoch -1 closes the session and is itself a full fetch.
	if got := returned(fetch(id, -1, 0, []fetchPart{{1, 0, 1 << 20}})); fmt.Sprint(got) != "map[1:2]" {
		t.Fatalf("closing full fetch: %v", got)
	}
	if r := fetch(id, 5, 0, nil); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("a closed session: error %d, want FETCH_SESSION_ID_NOT_FOUND", r.ErrorCode)
	}
	if n := b.metric(t, "samsa_fetch_sessions"); n != 0 {
		t.Errorf("samsa_fetch_sessions = %v after closing, want 0", n)
	}
	// franz-go fetches in a session and reads everything, then more as it
	// is produced (incremental fetches woken by appends).
	c := b.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if got := pollN(t, c, 8); len(got) != 8 {
		t.Fatalf("franz-go read %d records, want 8", len(got))
	}
	if n := b.metric(t, "samsa_fetch_sessions"); n != 1 {
		t.Errorf("samsa_fetch_sessions = %v with a franz-go consumer, want 1", n)
	}
	for i := range 4 {
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte("more")})
		if got := pollN(t, c, 1); string(got[0].Value) != "more" {
			t.Fatalf("franz-go read %q after record %d, want it", got[0].Value, i)
		}
	}
}
