package replica

// Offsets a leader answers: ListOffsets (Kafka's
// Partition.fetchOffsetForTimestamp), OffsetForLeaderEpoch's end offsets
// from the epoch cache, and DeleteRecords.

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/testbatch"
)

// TestListOffsetsUnavailableUntilHighWatermarkReachesEpochStart: a new
// leader whose high watermark is below the start of its epoch cannot tell
// what is committed: OFFSET_NOT_AVAILABLE, until its followers move the
// high watermark there.
func TestListOffsetsUnavailableUntilHighWatermarkReachesEpochStart(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 3)
		if off, _, err := OffsetFor(p, -1); err != nil || off != 3 {
			t.Fatalf("latest offset %d, %v; want the high watermark 3", off, err)
		}

		p, _ = leaderAndIsr(t, m, state(1, 2, 1, []int32{1, 2}, []int32{1, 2}), nil)
		for _, ts := range []int64{-1, -2, -3, time.Now().UnixMilli()} {
			if _, _, err := OffsetFor(p, ts); code(err) != kerr.OffsetNotAvailable.Code {
				t.Errorf("timestamp %d with the high watermark 3 below the epoch start 5: %v", ts, err)
			}
		}
		followerFetch(t, m, p, 2, 5)
		wantHW(t, p, 5)
		if off, _, err := OffsetFor(p, -1); err != nil || off != 5 {
			t.Fatalf("latest offset %d, %v; want 5", off, err)
		}
		if off, _, err := OffsetFor(p, -2); err != nil || off != 0 {
			t.Fatalf("earliest offset %d, %v; want 0", off, err)
		}
	})
}

// TestListOffsetsByTimestamp: the first record at or after a timestamp,
// the record of the largest timestamp (KIP-734), the log's bounds; never
// a record above the high watermark.
func TestListOffsetsByTimestamp(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		base := time.Now().UnixMilli()
		for _, ts := range []int64{base, base + 10, base + 20} { // offsets 0-2, 3-5, 6-8
			b := testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 5, Timestamp: ts})
			if _, err := m.Append(m.Topic(testTopic), p, 9, b, base, 1); err != nil {
				t.Fatal(err)
			}
		}
		followerFetch(t, m, p, 2, 6)
		type answer struct{ off, ts int64 }
		check := func(when string, cases map[int64]answer) {
			t.Helper()
			keys := make([]int64, 0, len(cases))
			for k := range cases {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, ts := range keys {
				off, gotTs, err := OffsetFor(p, ts)
				if want := cases[ts]; err != nil || off != want.off || gotTs != want.ts {
					t.Errorf("%s: timestamp %d answered (%d, %d) %v, want (%d, %d)", when, ts, off, gotTs, err, want.off, want.ts)
				}
			}
		}
		check("high watermark 6", map[int64]answer{
			-2: {0, -1}, -1: {6, -1},
			-3:        {-1, -1}, // the largest timestamp is above the high watermark
			base - 5:  {0, base},
			base + 1:  {1, base + 1},
			base + 11: {4, base + 11},
			base + 13: {-1, -1}, // the next record, offset 6, is above the high watermark
			base + 99: {-1, -1},
		})
		followerFetch(t, m, p, 2, 9)
		check("high watermark 9", map[int64]answer{
			-1: {9, -1}, -3: {8, base + 22}, base + 13: {6, base + 20},
		})
		if _, _, err := OffsetFor(p, -7); code(err) != kerr.InvalidRequest.Code {
			t.Errorf("timestamp -7: %v", err)
		}
		if got := OldStyleOffsets(p, -1, 10); !slices.Equal(got, []int64{9, 0}) {
			t.Errorf("v0 latest: %v", got)
		}
		if got := OldStyleOffsets(p, -1, 1); !slices.Equal(got, []int64{9}) {
			t.Errorf("v0 latest, at most 1: %v", got)
		}
		if got := OldStyleOffsets(p, -2, 10); !slices.Equal(got, []int64{0}) {
			t.Errorf("v0 earliest: %v", got)
		}
	})
}

// TestOffsetForLeaderEpochAnswers: the end offsets OffsetForLeaderEpoch
// reads from the epoch cache that leadership changes build: the largest
// epoch at or below the one asked and where it ended.
func TestOffsetForLeaderEpochAnswers(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		var p *Partition
		for i, e := range []int32{1, 3, 6} { // epoch 1 at 0, 3 at 3, 6 at 5
			p, _ = leaderAndIsr(t, m, state(1, e, int32(i), []int32{1}, []int32{1}), nil)
			mustProduce(t, m, p, []int{3, 2, 2}[i])
		}
		if end := p.Log.EndOffset(); end != 7 {
			t.Fatalf("log end %d", end)
		}
		for _, tc := range []struct {
			asked, epoch int32
			end          int64
		}{
			{-1, -1, -1}, {0, 0, 0}, {1, 1, 3}, {2, 1, 3}, {3, 3, 5}, {5, 3, 5}, {6, 6, 7}, {7, -1, -1},
		} {
			if e, end := p.Log.EpochEndOffset(tc.asked); e != tc.epoch || end != tc.end {
				t.Errorf("epoch %d: answered (%d, %d), want (%d, %d)", tc.asked, e, end, tc.epoch, tc.end)
			}
		}
	})
}

func TestDeleteRecords(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 3)
		if low, err := m.DeleteRecords(testTopic, 0, 2); err != nil || low != 2 {
			t.Fatalf("delete before 2: %d %v", low, err)
		}
		if _, err := m.DeleteRecords(testTopic, 0, 4); code(err) != kerr.OffsetOutOfRange.Code {
			t.Fatalf("delete past the high watermark: %v", err)
		}
		if low, err := m.DeleteRecords(testTopic, 0, -1); err != nil || low != 3 {
			t.Fatalf("delete up to the high watermark (-1): %d %v", low, err)
		}
		if _, err := m.DeleteRecords(testTopic, 0, -5); code(err) != kerr.OffsetOutOfRange.Code {
			t.Fatalf("delete before -5: %v", err)
		}
		if fp, _ := fetch(t, m, fetchReq(-1, 2, -1, -1)); fp.ErrCode != kerr.OffsetOutOfRange.Code || fp.LogStart != 3 {
			t.Fatalf("fetch below the new log start: error %d, log start %d", fp.ErrCode, fp.LogStart)
		}
		leaderAndIsr(t, m, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		if _, err := m.DeleteRecords(testTopic, 0, 3); code(err) != kerr.NotLeaderForPartition.Code {
			t.Fatalf("delete on a follower: %v", err)
		}
		if _, err := m.DeleteRecords("nope", 0, 3); code(err) != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("delete in an unknown topic: %v", err)
		}

		compacted := c.broker(3)
		if _, _, err := compacted.ApplyLeaderAndIsr(1, []PartitionUpdate{{Topic: "c", TopicID: topicID, State: state(3, 1, 0, []int32{3}, []int32{3})}},
			nil, lookup(map[string]string{"cleanup.policy": "compact"})); err != nil {
			t.Fatal(err)
		}
		if _, err := compacted.DeleteRecords("c", 0, 0); code(err) != kerr.PolicyViolation.Code {
			t.Fatalf("delete in a compacted topic: %v", err)
		}
	})
}
