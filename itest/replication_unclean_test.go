package itest

// Elections when the last in-sync replica dies. The followers die first
// (the ISR shrinks to the leader, which goes on acknowledging with
// min.insync.replicas=1), then the leader; the followers come back.
//
//   - unclean.leader.election.enable=false (the default): no replica out
//     of sync may lead; the partition stays offline (leader -1,
//     LEADER_NOT_AVAILABLE) until the last in-sync replica returns, and
//     then nothing acknowledged is lost.
//   - true (a topic config): the first live replica leads although it
//     lacks what the old leader acknowledged alone; those records are
//     lost, and every other replica, the old leader included, truncates
//     to the new leader's log (Kafka's behaviour). A franz-go consumer
//     that had read the lost records is told of the data loss (KIP-320:
//     it asks the new leader OffsetForLeaderEpoch) and resumes at the new
//     leader's log end.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceN produces n records PREFIX-0..n-1 to partition 0 with a fresh
// idempotent acks=all franz-go producer and returns the ledger.
func (c *replCluster) produceN(topic, prefix string, n int) *replLedger {
	c.t.Helper()
	l := newReplLedger(prefix)
	cl := c.client(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for i := range n {
		v := prefix + "-" + strconv.Itoa(i)
		l.noteSent(v)
		recs = append(recs, &kgo.Record{Value: []byte(v), Partition: 0})
	}
	ctx, cancel := context.WithTimeout(context.Background(), replWait)
	defer cancel()
	for _, r := range cl.ProduceSync(ctx, recs...) {
		if r.Err != nil {
			c.t.Fatalf("produce %s: %v", r.Record.Value, r.Err)
		}
		l.noteAck(string(r.Record.Value), r.Record.Partition, r.Record.Offset)
	}
	cl.Close()
	return l
}

func TestReplicationUncleanElection(t *testing.T) {
	c := replStartCluster(t, 3)
	for _, unclean := range []bool{false, true} {
		t.Run("unclean="+strconv.FormatBool(unclean), func(t *testing.T) {
			c := c.in(t)
			c.heal()
			testUnclean(t, c, unclean)
		})
	}
}

func testUnclean(t *testing.T, c *replCluster, unclean bool) {
	topic := "unclean-" + strconv.FormatBool(unclean)
	c.createTopic(topic, 1, -1, map[string]string{
		"min.insync.replicas":            "1",
		"unclean.leader.election.enable": strconv.FormatBool(unclean),
	}, map[int32][]int32{0: {1, 2, 3}})
	c.waitInSync(topic)
	l, f1, f2 := c.node(1), c.node(2), c.node(3)

	// A: written while all three are in sync.
	a := c.produceN(topic, "a", 300)
	// B: written by the leader alone, once its followers are dead.
	f1.sigkill()
	f2.sigkill()
	c.waitISR(topic, 0, l.id)
	b := c.produceN(topic, "b", 100)
	// A consumer reads all of it.
	cons := c.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond))
	seen := 0
	ctx, cancel := context.WithTimeout(context.Background(), replWait)
	defer cancel()
	for seen < 400 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("the consumer read %d of 400 records", seen)
		}
		seen += fs.NumRecords()
	}

	// The last in-sync replica dies; the stale ones return.
	l.sigkill()
	c.waitFor(fmt.Sprintf("broker %d deregistered", l.id), replWait, func() (bool, string) {
		ids := c.registered()
		return len(ids) == 0, fmt.Sprintf("registered %v", ids)
	})
	before, _ := c.state(topic, 0)
	if unclean {
		c.restart(f1)
	} else {
		c.restart(f1)
		c.restart(f2)
	}

	if !unclean {
		c.waitFor("the partition offline", replWait, func() (bool, string) {
			st, _ := c.state(topic, 0)
			return c.controller() > 0 && st.Leader == -1, fmt.Sprintf("controller %d, state %+v", c.controller(), st)
		})
		// Offline it stays: no stale replica leads, later either.
		time.Sleep(replSession / 2)
		st, _ := c.state(topic, 0)
		if st.Leader != -1 || len(st.ISR) != 1 || st.ISR[0] != l.id {
			t.Errorf("with unclean election off, the partition's state became %+v, want leader -1 and ISR [%d]", st, l.id)
		}
		for _, n := range []*replNode{f1, f2} {
			md, err := n.metadata(topic)
			if err != nil {
				t.Fatal(err)
			}
			mp := md.Topics[0].Partitions[0]
			if mp.Leader != -1 || mp.ErrorCode != kerr.LeaderNotAvailable.Code {
				t.Errorf("broker %d's metadata: leader %d, error %v; want -1 and LEADER_NOT_AVAILABLE", n.id, mp.Leader, kerr.ErrorForCode(mp.ErrorCode))
			}
		}
		// The last in-sync replica returns and leads, in a new epoch;
		// nothing is lost.
		c.restart(l)
		c.waitInSync(topic)
		if now, _ := c.state(topic, 0); now.Leader != l.id || now.LeaderEpoch <= st.LeaderEpoch {
			t.Errorf("after the last in-sync replica %d returned the state is %+v; want it leading in an epoch above %d", l.id, now, st.LeaderEpoch)
		}
		c.waitIdentical(topic)
		recs := c.readAll(topic)
		t.Log(replCheck(t, recs, a, b))
		return
	}

	// Unclean: the stale replica leads, in a new epoch.
	c.waitFor("the stale replica leading", replWait, func() (bool, string) {
		st, _ := c.state(topic, 0)
		return st.Leader == f1.id && st.LeaderEpoch > before.LeaderEpoch, fmt.Sprintf("%+v", st)
	})
	c.waitMetadata(topic, 1)
	cc := c.produceN(topic, "c", 100)
	// The consumer is told that what it read is gone, and goes on from
	// the new leader's log.
	var loss *kgo.ErrDataLoss
	var after []*kgo.Record
	for loss == nil || len(after) < 100 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("the consumer saw data loss %v and %d new records", loss, len(after))
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.As(err, &loss) {
				t.Logf("the consumer was told: %v", err)
			}
		})
		after = append(after, fs.Records()...)
	}
	if loss.ConsumedTo != 400 || loss.ResetTo != 300 {
		t.Errorf("data loss: consumed to %d, reset to %d; want 400 and 300", loss.ConsumedTo, loss.ResetTo)
	}
	if n := f1.metric(t, `samsa_requests_total{api="OffsetForLeaderEpoch"}`); n == 0 {
		t.Errorf("the new leader served no OffsetForLeaderEpoch")
	}
	for i, r := range after[:100] {
		if want := "c-" + strconv.Itoa(i); string(r.Value) != want || r.Offset != int64(300+i) {
			t.Errorf("after the reset the consumer read %s at %d, want %s at %d", r.Value, r.Offset, want, 300+i)
			break
		}
	}

	// The old leader and the other follower return and truncate to the
	// new leader's log.
	c.restart(l)
	c.restart(f2)
	c.waitInSync(topic)
	logs := c.waitIdentical(topic)
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, a, cc))
	for _, r := range recs[0] {
		if b.ack[string(r.Value)] != (replAck{}) {
			t.Errorf("%s, acknowledged by the old leader alone, survived the unclean election at %d", r.Value, r.Offset)
			break
		}
	}
	ep, _ := replEpochs(l.dir, topic, 0)
	np, _ := replEpochs(f1.dir, topic, 0)
	t.Logf("leader-epoch-checkpoint: old leader %v, new leader %v; %d bytes", ep, np, len(logs[0]))
}
