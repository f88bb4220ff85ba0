package kafkaapi

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
	"samsa/record/codec"
)

// fetchOne fetches one partition at version and returns its answer.
func (b *testBroker) fetchOne(version int16, req *kmsg.FetchRequest) kmsg.FetchResponseTopicPartition {
	b.t.Helper()
	resp := do[*kmsg.FetchResponse](b, version, req)
	wantCode(b.t, "fetch", resp.ErrorCode, nil)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		b.t.Fatalf("fetch answered %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

// TestFetchErrors: a partition that cannot be read has Kafka's code and no
// records, and does not hold back the others.
func TestFetchErrors(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	batch := makeBatch(batchSpec{records: 2})
	b.produce(9, 1, "t", 0, batch)

	for _, c := range []struct {
		name        string
		version     int16
		topic       string
		part        int32
		offset      int64
		leaderEpoch int32
		want        *kerr.Error
	}{
		{"unknown topic", 12, "nope", 0, 0, -1, kerr.UnknownTopicOrPartition},
		{"unknown partition", 12, "t", 3, 0, -1, kerr.UnknownTopicOrPartition},
		{"offset past the end", 12, "t", 0, 3, -1, kerr.OffsetOutOfRange},
		{"negative offset", 12, "t", 0, -1, -1, kerr.OffsetOutOfRange},
		{"offset past the end, v4", 4, "t", 0, 3, -1, kerr.OffsetOutOfRange},
		{"a leader epoch newer than the broker's", 12, "t", 0, 0, 1, kerr.UnknownLeaderEpoch},
		{"the current leader epoch", 12, "t", 0, 0, 0, nil},
		{"at the end", 12, "t", 0, 2, -1, nil},
	} {
		req := fetchRequest(c.topic, c.part, c.offset)
		req.Topics[0].Partitions[0].CurrentLeaderEpoch = c.leaderEpoch
		// A good partition in the same request is answered all the same.
		good := kmsg.NewFetchRequestTopic()
		good.Topic = "t"
		good.Partitions = []kmsg.FetchRequestTopicPartition{{Partition: 0, FetchOffset: 0, PartitionMaxBytes: 1 << 20, CurrentLeaderEpoch: -1}}
		req.Topics = append(req.Topics, good)
		resp := do[*kmsg.FetchResponse](b, c.version, req)
		if len(resp.Topics) != 2 {
			t.Fatalf("%s: topics %+v", c.name, resp.Topics)
		}
		p := resp.Topics[0].Partitions[0]
		wantCode(t, c.name, p.ErrorCode, c.want)
		if c.want != nil && len(p.RecordBatches) != 0 {
			t.Errorf("%s: %d bytes of records with an error", c.name, len(p.RecordBatches))
		}
		if g := resp.Topics[1].Partitions[0]; g.ErrorCode != 0 || !bytes.Equal(g.RecordBatches[12:], batch[12:]) {
			t.Errorf("%s: the good partition: error %d, %d bytes", c.name, g.ErrorCode, len(g.RecordBatches))
		}
	}
}

// TestFetchRecords: what a fetch returns: whole batches as written (the
// base offset and leader epoch stamped), the high watermark and log start
// offset, and at least one batch even past the byte limits (KIP-74).
func TestFetchRecords(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	first := makeBatch(batchSpec{records: 2, valueSize: 1000})
	second := makeBatch(batchSpec{records: 3, valueSize: 10})
	b.produce(9, 1, "t", 0, first)
	b.produce(9, 1, "t", 0, second)

	req := fetchRequest("t", 0, 0)
	req.Topics[0].Partitions[0].PartitionMaxBytes = 100 // less than the first batch
	p := b.fetchOne(12, req)
	if p.HighWatermark != 5 || p.LastStableOffset != 5 || p.LogStartOffset != 0 {
		t.Errorf("high watermark %d, last stable %d, log start %d; want 5, 5, 0", p.HighWatermark, p.LastStableOffset, p.LogStartOffset)
	}
	if len(p.RecordBatches) != len(first) {
		t.Fatalf("%d bytes, want the first batch whole (%d)", len(p.RecordBatches), len(first))
	}
	h, err := record.ParseHeader(p.RecordBatches)
	if err != nil || h.BaseOffset != 0 || h.RecordCount != 2 {
		t.Fatalf("first batch %+v, %v", h, err)
	}

	// From an offset inside the second batch: the batch holding it.
	p = b.fetchOne(12, fetchRequest("t", 0, 3))
	if h, err := record.ParseHeader(p.RecordBatches); err != nil || h.BaseOffset != 2 || len(p.RecordBatches) != len(second) {
		t.Fatalf("from offset 3: %+v, %v, %d bytes", h, err, len(p.RecordBatches))
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(p.RecordBatches); err != nil || rb.NumRecords != 3 || rb.FirstOffset != 2 {
		t.Fatalf("kmsg reads %+v, %v", rb, err)
	}
}

// TestFetchZstdNeedsV10: a partition holding zstd batches is
// UNSUPPORTED_COMPRESSION_TYPE for fetches below v10 (KIP-110).
func TestFetchZstdNeedsV10(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	bl := record.NewBuilder(time.Now().UnixMilli())
	bl.Header.Attributes = int16(codec.Zstd)
	bl.Add(bl.Header.FirstTimestamp, []byte("k"), bytes.Repeat([]byte("v"), 100))
	zstd, err := bl.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "zstd produce v6", b.produce(6, 1, "t", 0, zstd).ErrorCode, kerr.UnsupportedCompressionType)
	wantCode(t, "zstd produce v7", b.produce(7, 1, "t", 0, zstd).ErrorCode, nil)
	wantCode(t, "fetch v9", b.fetchOne(9, fetchRequest("t", 0, 0)).ErrorCode, kerr.UnsupportedCompressionType)
	if p := b.fetchOne(10, fetchRequest("t", 0, 0)); p.ErrorCode != 0 || len(p.RecordBatches) != len(zstd) {
		t.Errorf("fetch v10: error %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
}

// TestFetchClusterErrors: leadership and KIP-320 leader epochs in
// ZooKeeper mode.
func TestFetchClusterErrors(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 1}
	b := newClusterBroker(t, cl, nil)
	b.leaderAndIsr("led", 0, 0, 5, []int32{0}, []int32{0})
	b.leaderAndIsr("followed", 0, 1, 5, []int32{1, 0}, []int32{1, 0})
	b.setPartition("elsewhere", 0, metadataState(1, 2, 1))
	for _, c := range []struct {
		name        string
		version     int16
		topic       string
		leaderEpoch int32
		want        *kerr.Error
	}{
		{"the current epoch", 12, "led", 5, nil},
		{"no epoch", 12, "led", -1, nil},
		{"an older epoch", 12, "led", 4, kerr.FencedLeaderEpoch},
		{"a newer epoch", 12, "led", 6, kerr.UnknownLeaderEpoch},
		{"a consumer at a follower (v10)", 10, "followed", -1, kerr.NotLeaderForPartition},
		{"an older epoch at a follower", 12, "followed", 4, kerr.FencedLeaderEpoch},
		{"a partition hosted elsewhere", 12, "elsewhere", -1, kerr.NotLeaderForPartition},
		{"a topic unknown to the cluster", 12, "nope", -1, kerr.UnknownTopicOrPartition},
	} {
		req := fetchRequest(c.topic, 0, 0)
		req.Topics[0].Partitions[0].CurrentLeaderEpoch = c.leaderEpoch
		wantCode(t, c.name, b.fetchOne(c.version, req).ErrorCode, c.want)
	}
}

// TestFetchSessions: KIP-227 from the client's side: a full fetch opens a
// session, incremental fetches carry its epoch and get only the partitions
// that changed; an unknown session is FETCH_SESSION_ID_NOT_FOUND, a wrong
// epoch INVALID_FETCH_SESSION_EPOCH, both top-level with no partitions.
func TestFetchSessions(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 2, nil)
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 1}))

	full := fetchRequest("t", 0, 0)
	full.Topics[0].Partitions = append(full.Topics[0].Partitions, kmsg.FetchRequestTopicPartition{Partition: 1, PartitionMaxBytes: 1 << 20, CurrentLeaderEpoch: -1})
	full.SessionID, full.SessionEpoch = 0, 0
	resp := do[*kmsg.FetchResponse](b, 12, full)
	wantCode(t, "full fetch", resp.ErrorCode, nil)
	if resp.SessionID == 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 {
		t.Fatalf("full fetch: session %d, topics %+v", resp.SessionID, resp.Topics)
	}
	id := resp.SessionID

	incremental := func(epoch int32) *kmsg.FetchResponse {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxBytes, req.SessionID, req.SessionEpoch = -1, 1<<20, id, epoch
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "t"
		rt.Partitions = []kmsg.FetchRequestTopicPartition{{Partition: 0, FetchOffset: 1, PartitionMaxBytes: 1 << 20, CurrentLeaderEpoch: -1}}
		req.Topics = append(req.Topics, rt)
		return do[*kmsg.FetchResponse](b, 12, req)
	}
	// Partition 0 moved its fetch offset past the record: nothing changed
	// since the last answer for either partition.
	resp = incremental(1)
	wantCode(t, "incremental fetch", resp.ErrorCode, nil)
	if resp.SessionID != id || len(resp.Topics) != 0 {
		t.Errorf("incremental fetch: session %d, topics %+v; want %d and none", resp.SessionID, resp.Topics, id)
	}
	// A new record in partition 1 is answered for partition 1 alone.
	b.produce(9, 1, "t", 1, makeBatch(batchSpec{records: 1}))
	resp = incremental(2)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].Partition != 1 {
		t.Errorf("after a produce to partition 1: %+v", resp.Topics)
	}

	for _, c := range []struct {
		name  string
		id    int32
		epoch int32
		want  *kerr.Error
	}{
		{"an epoch already used", id, 2, kerr.InvalidFetchSessionEpoch},
		{"an epoch ahead", id, 9, kerr.InvalidFetchSessionEpoch},
		{"an unknown session", id + 1, 1, kerr.FetchSessionIDNotFound},
	} {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.SessionID, req.SessionEpoch = -1, c.id, c.epoch
		resp := do[*kmsg.FetchResponse](b, 12, req)
		wantCode(t, c.name, resp.ErrorCode, c.want)
		if resp.SessionID != 0 || len(resp.Topics) != 0 {
			t.Errorf("%s: session %d, topics %+v", c.name, resp.SessionID, resp.Topics)
		}
	}
	// The failed requests did not move the session on.
	wantCode(t, "the session's next epoch", incremental(3).ErrorCode, nil)

	// Epoch -1 closes the session (and opens none).
	closing := fetchRequest("t", 0, 0)
	closing.SessionID, closing.SessionEpoch = id, -1
	resp = do[*kmsg.FetchResponse](b, 12, closing)
	if resp.ErrorCode != 0 || resp.SessionID != 0 || len(resp.Topics) != 1 {
		t.Errorf("closing fetch: error %d, session %d, topics %+v", resp.ErrorCode, resp.SessionID, resp.Topics)
	}
	wantCode(t, "a closed session", incremental(4).ErrorCode, kerr.FetchSessionIDNotFound)
}

// TestFetchLongPoll: with less than min_bytes, a fetch waits max_wait_ms
// on the fake clock, and an append wakes it at once.
func TestFetchLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		b.createTopic("t", 1, nil)
		req := fetchRequest("t", 0, 0)
		req.MaxWaitMillis, req.MinBytes = 10_000, 1
		req.SetVersion(12)
		answered := make(chan kmsg.FetchResponseTopicPartition, 1)
		consumer := b.client()
		go func() {
			frame, closed := consumer.send(req, false)
			if closed {
				t.Error("the long poll closed the connection")
				close(answered)
				return
			}
			resp, err := decodeResponse(frame, 1, 12)
			if err != nil {
				t.Error(err)
				close(answered)
				return
			}
			answered <- resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
		}()
		synctest.Wait() // the fetch is parked
		start := time.Now()
		b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 1}))
		p, ok := <-answered
		if !ok {
			return
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the append woke the fetch after %v", waited)
		}
		if p.ErrorCode != 0 || p.HighWatermark != 1 || len(p.RecordBatches) == 0 {
			t.Errorf("woken fetch: %+v", p)
		}

		// Nothing more comes: the fetch answers empty at max_wait.
		req = fetchRequest("t", 0, 1)
		req.MaxWaitMillis, req.MinBytes = 10_000, 1
		start = time.Now()
		if p := b.fetchOne(12, req); p.ErrorCode != 0 || len(p.RecordBatches) != 0 {
			t.Errorf("empty long poll: %+v", p)
		}
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("the empty long poll answered after %v, want 10s", waited)
		}
	})
}
