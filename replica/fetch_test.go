package replica

// The leader's answers to Fetch (Kafka's ReplicaManager.fetchMessages and
// readFromLog): KIP-320 epoch fencing, what consumers, followers and other
// replica ids may read, KIP-595 diverging epochs, and the byte limits.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/metadata"
)

func TestFetchErrors(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		cache := metadata.NewCache("cluster")
		cache.Update(func(e *metadata.Edit) {
			e.PutTopic(&metadata.TopicInfo{Name: "elsewhere", Partitions: []metadata.PartitionState{{Leader: 9}}})
		})
		m := c.broker(1, func(o *Options) { o.Cache = cache })
		p, _ := leaderAndIsr(t, m, state(1, 5, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p, 3)
		leaderAndIsrOf(t, m, 1, state(2, 5, 0, []int32{1, 2}, []int32{2}), nil)

		for _, tc := range []struct {
			name   string
			topic  string
			part   int32
			offset int64
			epoch  int32
			code   int16
		}{
			{"no epoch", testTopic, 0, 0, -1, 0},
			{"current epoch", testTopic, 0, 0, 5, 0},
			{"older epoch", testTopic, 0, 0, 4, kerr.FencedLeaderEpoch.Code},
			{"newer epoch", testTopic, 0, 0, 6, kerr.UnknownLeaderEpoch.Code},
			{"follower's partition", testTopic, 1, 0, 5, kerr.NotLeaderForPartition.Code},
			{"follower's partition, older epoch", testTopic, 1, 0, 4, kerr.FencedLeaderEpoch.Code},
			{"partition not hosted", testTopic, 7, 0, -1, kerr.UnknownTopicOrPartition.Code},
			{"hosted elsewhere", "elsewhere", 0, 0, -1, kerr.NotLeaderForPartition.Code},
			{"past the log end", testTopic, 0, 4, -1, kerr.OffsetOutOfRange.Code},
			{"negative offset", testTopic, 0, -1, -1, kerr.OffsetOutOfRange.Code},
		} {
			req := of(tc.part, fetchReq(-1, tc.offset, -1, tc.epoch))
			req.Topics[0].Topic = tc.topic
			topics, _, anyErr := m.ReadFetch(12, req)
			fp := topics[0].Parts[0]
			ReleaseFetch(topics)
			if fp.ErrCode != tc.code || anyErr != (tc.code != 0) {
				t.Errorf("%s: error %d (any %v), want %d", tc.name, fp.ErrCode, anyErr, tc.code)
			}
			if tc.code == kerr.FencedLeaderEpoch.Code && tc.part == 0 && (fp.HW != 3 || fp.LogStart != 0) {
				t.Errorf("%s: high watermark %d, log start %d: still reported with the error", tc.name, fp.HW, fp.LogStart)
			}
		}
	})
}

// TestFetchReadLimits: consumers read up to the high watermark, follower
// replicas up to the log end; a replica id that is not one of the
// partition's replicas reads as a consumer and moves nothing.
func TestFetchReadLimits(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 2)
		followerFetch(t, m, p, 2, 2)
		mustProduce(t, m, p, 3) // offsets 2-4: above the high watermark 2
		last := func(recs []byte) int64 {
			if len(recs) == 0 {
				return -1
			}
			_, hs := splitBatches(t, recs)
			return hs[len(hs)-1].LastOffset()
		}
		if _, recs := fetch(t, m, fetchReq(-1, 0, -1, -1)); last(recs) != 1 {
			t.Errorf("consumer read up to %d, want 1 (the high watermark is 2)", last(recs))
		}
		if fp, recs := fetch(t, m, fetchReq(9, 0, -1, -1)); last(recs) != 1 || fp.ErrCode != 0 {
			t.Errorf("non-replica 9 read up to %d (error %d), want 1", last(recs), fp.ErrCode)
		}
		if fp, recs := fetch(t, m, fetchReq(9, 5, -1, -1)); len(recs) != 0 || fp.ErrCode != 0 {
			t.Errorf("non-replica 9 at the log end: %d bytes, error %d", len(recs), fp.ErrCode)
		}
		wantHW(t, p, 2) // 9's fetch at 5 moved nothing
		if _, recs := fetch(t, m, fetchReq(2, 2, -1, 1)); last(recs) != 4 {
			t.Errorf("follower read up to %d, want the log end 4", last(recs))
		}
		if _, recs := fetch(t, m, fetchReq(1, 0, -1, -1)); last(recs) != 1 {
			t.Errorf("the leader's own id read up to %d, want 1: it is not a follower", last(recs))
		}
	})
}

// TestFetchDivergingEpoch: a follower whose last fetched epoch ends
// earlier in the leader's log than its fetch offset is told where
// (KIP-595) at once, with no records, and its fetch offset is not taken
// as its log end.
func TestFetchDivergingEpoch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p, 3)
		p, _ = leaderAndIsr(t, m, state(1, 3, 1, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p, 4) // epochs: 1 at 0, 3 at 3; log end 7
		for _, tc := range []struct {
			name      string
			offset    int64
			lastEpoch int32
			diverging Diverging
		}{
			{"agrees", 3, 1, Diverging{-1, -1}},
			{"no last epoch", 5, -1, Diverging{-1, -1}},
			{"agrees, current epoch", 6, 3, Diverging{-1, -1}},
			{"epoch 1 went on to 5 here", 5, 1, Diverging{1, 3}},
			{"epoch 2 never led here", 5, 2, Diverging{1, 3}},
		} {
			topics, _, anyErr := m.ReadFetch(12, fetchReq(2, tc.offset, tc.lastEpoch, 3))
			fp := topics[0].Parts[0]
			ReleaseFetch(topics)
			if fp.Diverging != tc.diverging || fp.ErrCode != 0 {
				t.Errorf("%s: diverging %+v error %d, want %+v", tc.name, fp.Diverging, fp.ErrCode, tc.diverging)
			}
			if diverged := tc.diverging.Epoch >= 0; diverged && (fp.Region.Len != 0 || !anyErr) {
				t.Errorf("%s: a diverging answer carried %d bytes (answer at once: %v)", tc.name, fp.Region.Len, anyErr)
			}
		}
		// Only the fetches that agreed were taken as follower 2's log end:
		// 6 was the last.
		if s := p.Stats(); s.FollowerLagMax != 1 {
			t.Errorf("follower lag %d, want 1 (log end 7, follower at 6)", s.FollowerLagMax)
		}
		// Pre-v12 fetches carry no last fetched epoch: no check.
		topics, _, _ := m.ReadFetch(11, fetchReq(2, 5, 1, 3))
		if fp := topics[0].Parts[0]; fp.Diverging.Epoch >= 0 {
			t.Errorf("a v11 fetch got a diverging epoch %+v", fp.Diverging)
		}
		ReleaseFetch(topics)
	})
}

// TestFetchByteLimits: whole batches only; the first partition with data
// gets one even past the limits (KIP-74), later ones stop at the
// response's max_bytes.
func TestFetchByteLimits(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p0, _ := leaderAndIsrOf(t, m, 0, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		p1, _ := leaderAndIsrOf(t, m, 1, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		for range 3 {
			mustProduce(t, m, p0, 2)
			mustProduce(t, m, p1, 2)
		}
		size := int32(len(batch(2)))
		req := fetchReq(-1, 0, -1, -1)
		rp := req.Topics[0].Partitions[0]
		rp.Partition = 1
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
		for _, tc := range []struct {
			name                  string
			maxBytes, partMax     int32
			want0, want1, wantAll int64
		}{
			{"room for all", 10 * size, 10 * size, int64(3 * size), int64(3 * size), int64(6 * size)},
			{"partition max 1.5 batches", 10 * size, size + size/2, int64(size), int64(size), int64(2 * size)},
			{"partition max below a batch", 10 * size, 10, int64(size), 0, int64(size)},
			{"response max 2 batches", 2 * size, 10 * size, int64(2 * size), 0, int64(2 * size)},
		} {
			req.MaxBytes = tc.maxBytes
			for i := range req.Topics[0].Partitions {
				req.Topics[0].Partitions[i].PartitionMaxBytes = tc.partMax
			}
			topics, n, _ := m.ReadFetch(12, req)
			got0, got1 := topics[0].Parts[0].Region.Len, topics[0].Parts[1].Region.Len
			ReleaseFetch(topics)
			if got0 != tc.want0 || got1 != tc.want1 || n != tc.wantAll {
				t.Errorf("%s: %d + %d = %d bytes, want %d + %d = %d", tc.name, got0, got1, n, tc.want0, tc.want1, tc.wantAll)
			}
		}
	})
}
