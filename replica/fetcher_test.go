package replica

// The follower's side (Kafka's ReplicaFetcherThread and
// AbstractFetcherThreadTest): real fetchers of one broker fetching from
// another broker's Manager in the same process (loopback), on synctest's
// clock.

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// both applies one LeaderAndIsr to every broker given.
func both(t *testing.T, st State, ms ...*Manager) []*Partition {
	t.Helper()
	var ps []*Partition
	for _, m := range ms {
		p, answer := leaderAndIsr(t, m, st, nil)
		if answer != 0 {
			t.Fatalf("broker %d refused LeaderAndIsr: %d", m.id, answer)
		}
		ps = append(ps, p)
	}
	return ps
}

// idempotentBatch is a batch of n records from producer pid at epoch 0,
// sequence seq on.
func idempotentBatch(pid int64, seq int32, n int) []byte {
	ts := time.Now().UnixMilli()
	b := record.NewBuilder(ts)
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	for range n {
		b.Add(ts, nil, []byte("value"))
	}
	out, _ := b.AppendTo(nil)
	return out
}

// TestFollowerReplicatesFromLeader: what the follower appends keeps the
// leader's offsets and leader epochs, byte for byte; its fetches move the
// leader's high watermark, completing an acks=all produce at once; the
// leader's high watermark reaches the follower with its next answer.
func TestFollowerReplicatesFromLeader(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		leader, follower := c.broker(1), c.broker(2)
		ps := both(t, state(1, 4, 0, []int32{1, 2}, []int32{1, 2}), leader, follower)
		lp, fp := ps[0], ps[1]
		mustProduce(t, leader, lp, 3)
		res, err := produce(leader, lp, 2, -1)
		if err != nil {
			t.Fatal(err)
		}
		a := await(t.Context(), leader, lp, res.LastOffset, 2, 30*time.Second)
		if !a.finished() || a.waits[0].Err != nil || a.took != 0 {
			t.Fatalf("acks=all with a live follower: finished %v, err %v, after %v", a.finished(), a.waits[0].Err, a.took)
		}
		sameLogs(t, lp.Log, fp.Log)
		_, hs := batches(t, fp.Log)
		if len(hs) != 2 || hs[0].LeaderEpoch != 4 || hs[1].BaseOffset != 3 {
			t.Fatalf("follower batches %+v", hs)
		}
		wantHW(t, lp, 5)
		advance(500 * time.Millisecond) // replica.fetch.wait.max.ms: the parked fetch answers
		synctest.Wait()
		wantHW(t, fp, 5)
		if fp.IsLeader() || fp.LeaderEpoch() != 4 {
			t.Fatal("the follower's state changed")
		}
	})
}

// TestFollowerJoinsISR: a follower that starts empty catches up with the
// leader's log and is proposed into the ISR.
func TestFollowerJoinsISR(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		leader := c.broker(1)
		lp, _ := leaderAndIsr(t, leader, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		for range 4 {
			mustProduce(t, leader, lp, 3)
		}
		follower := c.broker(2)
		fp, _ := leaderAndIsr(t, follower, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		synctest.Wait()
		sameLogs(t, lp.Log, fp.Log)
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1, 2}})
		wantISR(t, lp, []int32{1, 2}, 1)
	})
}

// TestFollowerKeepsProducerState: the follower rebuilds the idempotent
// producers' state from the batches it fetches, so that once it leads, a
// producer's retry is recognised as a duplicate.
func TestFollowerKeepsProducerState(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1, b2 := c.broker(1), c.broker(2)
		ps := both(t, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), b1, b2)
		ts := b1.Topic(testTopic)
		if _, err := b1.Append(ts, ps[0], 9, idempotentBatch(7, 0, 2), time.Now().UnixMilli(), -1); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ps = both(t, state(2, 2, 1, []int32{1, 2}, []int32{2}), b2)
		a, err := b2.Append(b2.Topic(testTopic), ps[0], 9, idempotentBatch(7, 0, 2), time.Now().UnixMilli(), 1)
		if err != nil || a.BaseOffset != 0 || a.LastOffset != 1 {
			t.Fatalf("a retried batch on the new leader: %+v %v (want the first offsets back)", a, err)
		}
		if end := ps[0].Log.EndOffset(); end != 2 {
			t.Fatalf("the retry was written again: log end %d", end)
		}
	})
}

// TestFollowerTruncatesOnDivergingEpoch: the old leader wrote records the
// new leader never had; following the new leader it learns from the
// diverging epoch where the logs part, truncates there and fetches the
// new leader's records in their place (KIP-595).
func TestFollowerTruncatesOnDivergingEpoch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1, b2 := c.broker(1), c.broker(2)
		ps := both(t, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), b1, b2)
		mustProduce(t, b1, ps[0], 3)
		synctest.Wait()
		sameLogs(t, ps[0].Log, ps[1].Log)

		// Broker 2 loses the leader; the fetch it has parked there ends.
		c.setDown(1, true)
		advance(500 * time.Millisecond)
		mustProduce(t, b1, ps[0], 2) // offsets 3 and 4, epoch 1: never replicated
		synctest.Wait()
		if end := ps[1].Log.EndOffset(); end != 3 {
			t.Fatalf("the cut-off follower's log ends at %d", end)
		}

		// Broker 2 is elected (epoch 2) and writes offsets 3-5 of its own.
		p2, _ := leaderAndIsr(t, b2, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		mustProduce(t, b2, p2, 3)
		p1, _ := leaderAndIsr(t, b1, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		synctest.Wait()
		sameLogs(t, p2.Log, p1.Log)
		_, hs := batches(t, p1.Log)
		if len(hs) != 2 || hs[1].BaseOffset != 3 || hs[1].LeaderEpoch != 2 {
			t.Fatalf("old leader's batches after truncation %+v: want epoch 2's at 3", hs)
		}
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 2, PartitionEpoch: 1, ISR: []int32{2, 1}})
	})
}

// TestFollowerTruncatesToUncleanLeader: the new leader (elected
// uncleanly) has no record of the follower's last epoch; the logs part at
// the new leader's first epoch, here its very start.
func TestFollowerTruncatesToUncleanLeader(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1, b2 := c.broker(1), c.broker(2)
		p1, _ := leaderAndIsr(t, b1, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, b1, p1, 4)
		p2, _ := leaderAndIsr(t, b2, state(2, 3, 1, []int32{1, 2}, []int32{2}), nil)
		mustProduce(t, b2, p2, 2)
		leaderAndIsr(t, b1, state(2, 3, 1, []int32{1, 2}, []int32{2}), nil)
		synctest.Wait()
		sameLogs(t, p2.Log, p1.Log)
		if end := p1.Log.EndOffset(); end != 2 {
			t.Fatalf("follower log end %d after truncation, want 2", end)
		}
	})
}

// TestFollowerStartsOverAtLeaderLogStart: a follower whose log ends below
// the leader's log start (DeleteRecords moved it, here into the middle of
// a batch) starts over there and replicates from it.
func TestFollowerStartsOverAtLeaderLogStart(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1 := c.broker(1)
		lp, _ := leaderAndIsr(t, b1, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, b1, lp, 5)
		mustProduce(t, b1, lp, 5)
		if start, err := b1.DeleteRecords(testTopic, 0, 7); err != nil || start != 7 {
			t.Fatalf("DeleteRecords: %d %v", start, err)
		}
		b2 := c.broker(2)
		fp, _ := leaderAndIsr(t, b2, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		synctest.Wait()
		mustProduce(t, b1, lp, 2)
		advance(500 * time.Millisecond)
		synctest.Wait()
		if fp.Log.EndOffset() != 12 || fp.Log.StartOffset() != 7 {
			t.Fatalf("follower log [%d, %d), want [7, 12)", fp.Log.StartOffset(), fp.Log.EndOffset())
		}
		_, lhs := batches(t, lp.Log)
		_, fhs := batches(t, fp.Log)
		if len(fhs) != 2 || fhs[0] != lhs[0] || fhs[1] != lhs[1] {
			t.Fatalf("follower batches %+v, leader %+v", fhs, lhs)
		}
		wantISR(t, lp, []int32{1, 2}, 1)
	})
}

// TestFollowerFencedEpochs: a follower behind the leader's epoch is
// fenced (FENCED_LEADER_EPOCH), one ahead of it is told
// UNKNOWN_LEADER_EPOCH; either backs off, appends nothing, and fetches
// once both agree.
func TestFollowerFencedEpochs(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1, b2 := c.broker(1), c.broker(2)
		lp, _ := leaderAndIsr(t, b1, state(1, 2, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, b1, lp, 3)
		if fp, _ := fetch(t, b1, fetchReq(2, 0, -1, 1)); fp.ErrCode != kerr.FencedLeaderEpoch.Code {
			t.Fatalf("fetch at epoch 1 from a leader at 2: %d", fp.ErrCode)
		}
		if fp, _ := fetch(t, b1, fetchReq(2, 0, -1, 3)); fp.ErrCode != kerr.UnknownLeaderEpoch.Code {
			t.Fatalf("fetch at epoch 3 from a leader at 2: %d", fp.ErrCode)
		}

		start := c.fetchCount()
		fp, _ := leaderAndIsr(t, b2, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		advance(3500 * time.Millisecond)
		synctest.Wait()
		if n := c.fetchCount() - start; n != 4 {
			t.Errorf("%d fetches in 3.5 s while fenced, want 4 (one per replica.fetch.backoff.ms)", n)
		}
		if end := fp.Log.EndOffset(); end != 0 {
			t.Fatalf("a fenced follower appended: log end %d", end)
		}
		leaderAndIsr(t, b2, state(1, 3, 1, []int32{1, 2}, []int32{1}), nil)
		advance(2750 * time.Millisecond)
		if end := fp.Log.EndOffset(); end != 0 {
			t.Fatalf("a follower ahead of the leader appended: log end %d", end)
		}
		leaderAndIsr(t, b1, state(1, 3, 1, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, b1, lp, 1)        // epoch 3 in the follower's epoch cache too
		advance(1500 * time.Millisecond) // past the end of the backoff
		synctest.Wait()
		sameLogs(t, lp.Log, fp.Log)
	})
}

// TestFollowerBacksOffWhileLeaderUnreachable: a failed fetch is retried
// every replica.fetch.backoff.ms, and replication resumes with the leader.
func TestFollowerBacksOffWhileLeaderUnreachable(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		b1, b2 := c.broker(1), c.broker(2, func(o *Options) { o.Fetcher.Backoff = 2 * time.Second })
		c.setDown(1, true)
		ps := both(t, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), b1, b2)
		mustProduce(t, b1, ps[0], 2)
		advance(5 * time.Second)
		synctest.Wait()
		if n := c.fetchCount(); n != 3 {
			t.Errorf("%d fetches in 5 s with a 2 s backoff, want 3", n)
		}
		c.setDown(1, false)
		advance(1500 * time.Millisecond) // past the next retry, at 6 s
		synctest.Wait()
		sameLogs(t, ps[0].Log, ps[1].Log)
	})
}

// TestFollowerAppendsOnlyUnderFetchedLeadership: a response is applied
// only while the partition still follows that leader at the epoch the
// fetch was sent at (invariant 2); the follower's high watermark is the
// leader's, bounded by its own log end.
func TestFollowerAppendsOnlyUnderFetchedLeadership(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(2)
		p, _ := leaderAndIsr(t, m, state(1, 5, 0, []int32{1, 2}, []int32{1, 2}), nil)
		m.fetchers.Remove(m.followed(p)) // the test plays the fetcher
		b := batch(3)
		record.SetLeaderEpoch(b, 5)
		record.SetCRC(b)
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.RecordBatches, rp.HighWatermark, rp.LogStartOffset = b, 100, 0
		fp := m.followed(p)
		// f and other apply answers from brokers 1 and 3.
		f := func(epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
			return m.fetchers.Apply(fp, 1, epoch, rp)
		}
		other := func(epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
			return m.fetchers.Apply(fp, 3, epoch, rp)
		}

		if err := f(4, &rp); err != nil || p.Log.EndOffset() != 0 {
			t.Fatalf("a response to a fetch at epoch 4 applied at epoch 5: end %d, %v", p.Log.EndOffset(), err)
		}
		if err := other(5, &rp); err != nil || p.Log.EndOffset() != 0 {
			t.Fatalf("a response from broker 3 applied while following 1: end %d, %v", p.Log.EndOffset(), err)
		}
		if err := f(5, &rp); err != nil || p.Log.EndOffset() != 3 {
			t.Fatalf("the response of the current leadership: end %d, %v", p.Log.EndOffset(), err)
		}
		wantHW(t, p, 3)
		if es := p.Log.Epochs(); len(es) != 1 || es[0].Epoch != 5 {
			t.Fatalf("epoch cache %v", es)
		}
		rp.RecordBatches, rp.HighWatermark = nil, 2
		if err := f(5, &rp); err != nil {
			t.Fatal(err)
		}
		wantHW(t, p, 2) // the leader's word, even lower
		rp.ErrorCode = kerr.NotLeaderForPartition.Code
		if err := f(5, &rp); !errors.Is(err, kerr.NotLeaderForPartition) {
			t.Fatalf("an error answer handled as %v", err)
		}
	})
}
