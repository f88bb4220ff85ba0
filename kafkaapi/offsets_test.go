package kafkaapi

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// listOffset asks for one partition's offset at timestamp and returns its
// answer.
func (b *testBroker) listOffset(version int16, topic string, partition int32, timestamp int64, leaderEpoch int32) kmsg.ListOffsetsResponseTopicPartition {
	b.t.Helper()
	resp := do[*kmsg.ListOffsetsResponse](b, version, listOffsetsRequest(topic, partition, timestamp, leaderEpoch))
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		b.t.Fatalf("ListOffsets answered %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

// TestListOffsets: the special timestamps, a search by timestamp, v0's
// offset list, and errors with offset and timestamp -1.
func TestListOffsets(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	base := time.Now().Add(-time.Minute).UnixMilli()
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 3, timestamp: base}))      // offsets 0-2, base..base+2
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 2, timestamp: base + 10})) // offsets 3-4

	for _, c := range []struct {
		name        string
		version     int16
		topic       string
		part        int32
		timestamp   int64
		leaderEpoch int32
		want        *kerr.Error
		offset      int64
		ts          int64
	}{
		{"latest", 7, "t", 0, -1, -1, nil, 5, -1},
		{"earliest", 7, "t", 0, -2, -1, nil, 0, -1},
		{"max timestamp (KIP-734)", 7, "t", 0, -3, -1, nil, 4, base + 11},
		{"a timestamp inside the first batch", 7, "t", 0, base + 1, -1, nil, 1, base + 1},
		{"a timestamp between batches", 7, "t", 0, base + 5, -1, nil, 3, base + 10},
		{"a timestamp past every record", 7, "t", 0, base + 100, -1, nil, -1, -1},
		{"latest, v1", 1, "t", 0, -1, -1, nil, 5, -1},
		{"the current leader epoch", 7, "t", 0, -1, 0, nil, 5, -1},
		{"a newer leader epoch", 7, "t", 0, -1, 1, kerr.UnknownLeaderEpoch, -1, -1},
		{"unknown topic", 7, "nope", 0, -1, -1, kerr.UnknownTopicOrPartition, -1, -1},
		{"unknown partition", 7, "t", 1, -1, -1, kerr.UnknownTopicOrPartition, -1, -1},
		{"unknown topic, v0", 0, "nope", 0, -1, -1, kerr.UnknownTopicOrPartition, -1, -1},
	} {
		p := b.listOffset(c.version, c.topic, c.part, c.timestamp, c.leaderEpoch)
		wantCode(t, c.name, p.ErrorCode, c.want)
		if c.version == 0 {
			continue
		}
		if p.Offset != c.offset || p.Timestamp != c.ts {
			t.Errorf("%s: offset %d timestamp %d, want %d %d", c.name, p.Offset, p.Timestamp, c.offset, c.ts)
		}
	}

	// v0: the old offsets list, newest first, at most max_num_offsets.
	for _, c := range []struct {
		timestamp int64
		max       int32
		want      []int64
	}{
		{-1, 10, []int64{5, 0}},
		{-1, 1, []int64{5}},
		{-2, 10, []int64{0}},
	} {
		req := listOffsetsRequest("t", 0, c.timestamp, -1)
		req.Topics[0].Partitions[0].MaxNumOffsets = c.max
		resp := do[*kmsg.ListOffsetsResponse](b, 0, req)
		if got := resp.Topics[0].Partitions[0].OldStyleOffsets; !slices.Equal(got, c.want) {
			t.Errorf("v0 timestamp %d max %d: %v, want %v", c.timestamp, c.max, got, c.want)
		}
	}
}

// TestDeleteRecords: the log start moves up to the offset (-1: the high
// watermark), never down; Kafka's errors per partition, the low watermark
// -1 on error.
func TestDeleteRecords(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	b.createTopic("compacted", 1, map[string]string{"cleanup.policy": "compact"})
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 5}))
	wantCode(t, "FindCoordinator", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)

	for _, c := range []struct {
		name   string
		topic  string
		part   int32
		offset int64
		want   *kerr.Error
		low    int64
	}{
		{"past the high watermark", "t", 0, 6, kerr.OffsetOutOfRange, -1},
		{"a negative offset", "t", 0, -2, kerr.OffsetOutOfRange, -1},
		{"unknown topic", "nope", 0, 1, kerr.UnknownTopicOrPartition, -1},
		{"unknown partition", "t", 1, 1, kerr.UnknownTopicOrPartition, -1},
		{"an internal topic", "__consumer_offsets", 0, 0, kerr.InvalidTopicException, -1},
		{"cleanup.policy without delete", "compacted", 0, 0, kerr.PolicyViolation, -1},
		{"to offset 2", "t", 0, 2, nil, 2},
		{"below the start: nothing moves", "t", 0, 1, nil, 2},
		{"to the high watermark", "t", 0, -1, nil, 5},
	} {
		for _, v := range []int16{0, 2} {
			if c.want == nil && v == 0 {
				continue // one success each
			}
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = c.topic
			rt.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{{Partition: c.part, Offset: c.offset}}
			req.Topics = append(req.Topics, rt)
			resp := do[*kmsg.DeleteRecordsResponse](b, v, req)
			p := resp.Topics[0].Partitions[0]
			wantCode(t, c.name, p.ErrorCode, c.want)
			if p.LowWatermark != c.low {
				t.Errorf("%s v%d: low watermark %d, want %d", c.name, v, p.LowWatermark, c.low)
			}
		}
	}
	if p := b.listOffset(7, "t", 0, -2, -1); p.Offset != 5 {
		t.Errorf("log start after DeleteRecords: %d, want 5", p.Offset)
	}
}

// TestOffsetForLeaderEpoch: the end of each leader epoch from the leader's
// epoch cache, and KIP-320 fencing.
func TestOffsetForLeaderEpoch(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 1}
	b := newClusterBroker(t, cl, nil)
	b.leaderAndIsr("t", 0, 0, 1, []int32{0}, []int32{0})
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 3})) // epoch 1: offsets 0-2
	b.leaderAndIsr("t", 0, 0, 3, []int32{0}, []int32{0})
	b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 2})) // epoch 3: offsets 3-4
	b.leaderAndIsr("followed", 0, 1, 2, []int32{1, 0}, []int32{1, 0})
	b.setPartition("elsewhere", 0, metadataState(1, 2, 1))

	for _, c := range []struct {
		name         string
		version      int16
		replicaID    int32
		topic        string
		currentEpoch int32
		epoch        int32
		want         *kerr.Error
		endEpoch     int32
		endOffset    int64
	}{
		{"the first epoch", 4, -1, "t", -1, 1, nil, 1, 3},
		{"an epoch between", 4, -1, "t", -1, 2, nil, 1, 3},
		{"the current epoch", 4, -1, "t", 3, 3, nil, 3, 5},
		{"an epoch newer than any", 4, -1, "t", -1, 4, nil, -1, -1},
		{"the first epoch, v0", 0, -1, "t", -1, 1, nil, -1, 3}, // v0 has no leader epoch in the answer
		{"an older current epoch", 4, -1, "t", 2, 3, kerr.FencedLeaderEpoch, -1, -1},
		{"a newer current epoch", 4, -1, "t", 4, 3, kerr.UnknownLeaderEpoch, -1, -1},
		{"a consumer at a follower", 4, -1, "followed", -1, 1, kerr.NotLeaderForPartition, -1, -1},
		{"a broker at a follower", 4, 2, "followed", -1, 1, kerr.NotLeaderForPartition, -1, -1},
		{"a partition hosted elsewhere", 4, -1, "elsewhere", -1, 1, kerr.NotLeaderForPartition, -1, -1},
		{"unknown topic", 4, -1, "nope", -1, 1, kerr.UnknownTopicOrPartition, -1, -1},
	} {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.ReplicaID = c.replicaID
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = c.topic
		rt.Partitions = []kmsg.OffsetForLeaderEpochRequestTopicPartition{{Partition: 0, CurrentLeaderEpoch: c.currentEpoch, LeaderEpoch: c.epoch}}
		req.Topics = append(req.Topics, rt)
		resp := do[*kmsg.OffsetForLeaderEpochResponse](b, c.version, req)
		p := resp.Topics[0].Partitions[0]
		wantCode(t, c.name, p.ErrorCode, c.want)
		if p.LeaderEpoch != c.endEpoch || p.EndOffset != c.endOffset {
			t.Errorf("%s: epoch %d end offset %d, want %d %d", c.name, p.LeaderEpoch, p.EndOffset, c.endEpoch, c.endOffset)
		}
	}
}

// TestListOffsetsCluster: leadership in ZooKeeper mode: followers refuse,
// and a new leader whose high watermark has not reached the start of its
// epoch cannot tell the latest offset yet.
func TestListOffsetsCluster(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 1}
	b := newClusterBroker(t, cl, nil)
	b.leaderAndIsr("followed", 0, 1, 2, []int32{1, 0}, []int32{1, 0})
	b.setPartition("elsewhere", 0, metadataState(1, 2, 1))
	wantCode(t, "a follower", b.listOffset(7, "followed", 0, -1, -1).ErrorCode, kerr.NotLeaderForPartition)
	wantCode(t, "hosted elsewhere", b.listOffset(7, "elsewhere", 0, -1, -1).ErrorCode, kerr.NotLeaderForPartition)
	wantCode(t, "an older leader epoch", b.listOffset(7, "followed", 0, -1, 1).ErrorCode, kerr.FencedLeaderEpoch)

	// Led at epoch 1 with a follower in the ISR that never fetches: the
	// high watermark stays at 0 while the log grows to 3. At epoch 2 the
	// epoch starts at 3, past the high watermark.
	b.leaderAndIsr("new", 0, 0, 1, []int32{0, 1}, []int32{0, 1})
	b.produce(9, 1, "new", 0, makeBatch(batchSpec{records: 3}))
	b.leaderAndIsr("new", 0, 0, 2, []int32{0, 1}, []int32{0, 1})
	wantCode(t, "a new leader, v5+", b.listOffset(5, "new", 0, -1, -1).ErrorCode, kerr.OffsetNotAvailable)
	wantCode(t, "a new leader, v7", b.listOffset(7, "new", 0, -2, -1).ErrorCode, kerr.OffsetNotAvailable)
	// Before v5 Kafka answers LEADER_NOT_AVAILABLE: the clients of those
	// versions do not know OFFSET_NOT_AVAILABLE.
	wantCode(t, "a new leader, v4", b.listOffset(4, "new", 0, -1, -1).ErrorCode, kerr.LeaderNotAvailable)
	wantCode(t, "a new leader, v1", b.listOffset(1, "new", 0, -1, -1).ErrorCode, kerr.LeaderNotAvailable)
}

// TestListOffsetsDuplicatePartitions: a partition named twice in a v1+
// request fails at each entry with INVALID_REQUEST, as in Kafka; the
// others are answered.
func TestListOffsetsDuplicatePartitions(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 2, nil)
	req := listOffsetsRequest("t", 0, -1, -1)
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, req.Topics[0].Partitions[0], kmsg.ListOffsetsRequestTopicPartition{Partition: 1, Timestamp: -1, CurrentLeaderEpoch: -1})
	resp := do[*kmsg.ListOffsetsResponse](b, 7, req)
	ps := resp.Topics[0].Partitions
	if len(ps) != 3 {
		t.Fatalf("partitions %+v", ps)
	}
	wantCode(t, "first entry of partition 0", ps[0].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "second entry of partition 0", ps[1].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "partition 1", ps[2].ErrorCode, nil)
	if ps[0].Offset != -1 || ps[2].Offset != 0 {
		t.Errorf("offsets %d, %d; want -1, 0", ps[0].Offset, ps[2].Offset)
	}
}

// TestDeleteRecordsCluster: only the leader moves the log start.
func TestDeleteRecordsCluster(t *testing.T) {
	b := newClusterBroker(t, &fakeCluster{epoch: 100, controllerID: 1}, nil)
	b.leaderAndIsr("followed", 0, 1, 2, []int32{1, 0}, []int32{1, 0})
	b.setPartition("elsewhere", 0, metadataState(1, 2, 1))
	for _, topic := range []string{"followed", "elsewhere"} {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: topic, Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: -1}}}}
		p := do[*kmsg.DeleteRecordsResponse](b, 2, req).Topics[0].Partitions[0]
		wantCode(t, topic, p.ErrorCode, kerr.NotLeaderForPartition)
		if p.LowWatermark != -1 {
			t.Errorf("%s: low watermark %d", topic, p.LowWatermark)
		}
	}
}

// TestDescribeLogDirs: the one log directory, the partitions asked for
// (all for a null list) with their sizes; topics with no partition asked
// for are left out, partitions this broker does not have are absent.
func TestDescribeLogDirs(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("a", 2, nil)
	b.createTopic("b", 1, nil)
	batch := makeBatch(batchSpec{records: 2})
	b.produce(9, 1, "a", 1, batch)

	sizes := func(topics []kmsg.DescribeLogDirsRequestTopic) map[string]int64 {
		req := kmsg.NewPtrDescribeLogDirsRequest()
		req.Topics = topics
		resp := do[*kmsg.DescribeLogDirsResponse](b, 4, req)
		if len(resp.Dirs) != 1 || resp.Dirs[0].ErrorCode != 0 || resp.Dirs[0].Dir != b.dir.Path() || resp.Dirs[0].TotalBytes <= 0 || resp.Dirs[0].UsableBytes <= 0 {
			t.Fatalf("dirs %+v, want %s", resp.Dirs, b.dir.Path())
		}
		out := map[string]int64{}
		for _, dt := range resp.Dirs[0].Topics {
			for _, p := range dt.Partitions {
				out[fmt.Sprintf("%s-%d", dt.Topic, p.Partition)] = p.Size
			}
		}
		return out
	}
	all := sizes(nil)
	if len(all) != 3 || all["a-1"] != int64(len(batch)) || all["a-0"] != 0 {
		t.Errorf("all partitions: %v", all)
	}
	some := sizes([]kmsg.DescribeLogDirsRequestTopic{{Topic: "a", Partitions: []int32{1, 7}}, {Topic: "b"}, {Topic: "nope", Partitions: []int32{0}}})
	if len(some) != 1 || some["a-1"] != int64(len(batch)) {
		t.Errorf("a-1, a-7, b with no partition, nope-0: %v, want a-1 alone", some)
	}
}
