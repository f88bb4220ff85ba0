package itest

// Followers that stop answering (SIGSTOP: a long GC pause, a frozen VM)
// leave the ISR once they have not caught up for replica.lag.time.max.ms:
// the leader proposes the smaller ISR to the controller with
// AlterPartition. With one of two followers out, min.insync.replicas=2
// still holds and acks=all writes go on; with both out, acks=all produces
// are refused with NOT_ENOUGH_REPLICAS and nothing refused is ever
// written. Records appended while a paused follower still counts in the
// ISR are not served to consumers (the high watermark waits for it). On
// SIGCONT the followers catch up, rejoin the ISR, and every replica ends
// byte-identical. The leader's samsa_isr_shrinks_total and
// samsa_isr_expands_total count the changes.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// waitISR waits until the partition's ISR is want in ZooKeeper and in the
// leader's metadata (what clients are told).
func (c *replCluster) waitISR(topic string, p int32, want ...int32) {
	c.t.Helper()
	slices.Sort(want)
	c.waitFor(fmt.Sprintf("ISR of %s-%d %v", topic, p, want), replWait, func() (bool, string) {
		st, ok := c.state(topic, p)
		if !ok || !slices.Equal(st.ISR, want) {
			return false, fmt.Sprintf("ZooKeeper: %+v", st)
		}
		md, err := c.node(st.Leader).metadata(topic)
		if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) <= int(p) {
			return false, fmt.Sprintf("leader %d metadata: %v", st.Leader, err)
		}
		mp := md.Topics[0].Partitions[p]
		isr := slices.Sorted(slices.Values(mp.ISR))
		return slices.Equal(isr, want) && mp.Leader == st.Leader, fmt.Sprintf("leader %d metadata: leader %d isr %v", st.Leader, mp.Leader, isr)
	})
}

func TestReplicationPausedFollowers(t *testing.T) {
	// The followers' ZooKeeper sessions (4 s) outlast replica.lag.time.max.ms
	// (1.5 s): the leader, not the controller, takes them out of the ISR.
	c := replStartCluster(t, 3, "replica.lag.time.max.ms=1500", "zookeeper.session.timeout.ms=4000")
	const topic = "paused"
	// The controller leads, so that pausing the followers leaves it free
	// to commit the leader's ISR changes.
	ctl := c.controller()
	var f []int32
	for id := int32(1); id <= 3; id++ {
		if id != ctl {
			f = append(f, id)
		}
	}
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "2"}, map[int32][]int32{0: {ctl, f[0], f[1]}})
	c.waitInSync(topic)
	leader := c.node(ctl)
	shrinks0, expands0 := leader.metric(t, "samsa_isr_shrinks_total"), leader.metric(t, "samsa_isr_expands_total")

	// A producer that tries once, its metadata loaded now, while every
	// broker answers (a metadata request to a paused broker would hang).
	refused := newReplLedger("refused")
	once := c.client(kgo.DefaultProduceTopic(topic), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0),
		kgo.MetadataMinAge(5*time.Minute), kgo.MetadataMaxAge(5*time.Minute))
	refused.noteSent("refused-warmup")
	if r, err := once.ProduceSync(context.Background(), &kgo.Record{Value: []byte("refused-warmup"), Partition: 0}).First(); err != nil {
		t.Fatalf("produce with the ISR whole: %v", err)
	} else {
		refused.noteAck("refused-warmup", r.Partition, r.Offset)
	}
	prod := c.produce(topic, "steady", 200)
	c.waitAcks(prod, 100, "at the start")

	// One follower paused: it leaves the ISR, and writes go on.
	c.node(f[0]).pause()
	c.waitISR(topic, 0, ctl, f[1])
	c.waitAcks(prod, 200, fmt.Sprintf("with broker %d out of the ISR", f[0]))

	// The second follower paused: until it leaves the ISR the high
	// watermark waits for it, and consumers see nothing past it.
	c.node(f[1]).pause()
	time.Sleep(300 * time.Millisecond) // let appends pile up past the high watermark
	hw, served := c.fetchHW(leader, topic, 0)
	_, ackedAtHW, _ := prod.ledger.counts()
	if served > hw {
		t.Errorf("a consumer's fetch returned records up to offset %d, past the high watermark %d", served, hw)
	}
	// The leader's log holds records past the high watermark: the check
	// above had something to hide.
	onDisk, _ := replLogBytes(leader.dir, topic, 0)
	bs, _ := replBatches(onDisk) // the last batch may be half written
	if len(bs) == 0 || bs[len(bs)-1].Last+1 <= hw {
		t.Errorf("the leader's log ends at or below the high watermark %d: nothing was appended past it", hw)
	}
	c.waitISR(topic, 0, ctl)
	sent, acked, _ := prod.ledger.counts()
	t.Logf("while broker %d lagged: high watermark %d, %d acked; now %d sent, %d acked", f[1], hw, ackedAtHW, sent, acked)

	// ISR [leader] < min.insync.replicas 2: acks=all is refused, nothing written.
	for i := range 20 {
		v := "refused-" + strconv.Itoa(i)
		refused.noteSent(v)
		r, err := once.ProduceSync(context.Background(), &kgo.Record{Value: []byte(v), Partition: 0}).First()
		switch {
		case errors.Is(err, kerr.NotEnoughReplicas):
			refused.noteFail(v, err.Error())
		case err == nil:
			t.Errorf("%s acknowledged at %d with the ISR below min.insync.replicas", v, r.Offset)
		default:
			t.Errorf("%s: %v, want NOT_ENOUGH_REPLICAS", v, err)
		}
	}
	if _, _, failed := refused.counts(); failed != 20 {
		t.Fatalf("%d of 20 produces refused with NOT_ENOUGH_REPLICAS", failed)
	}

	// Both resumed: they catch up and rejoin; the steady producer's
	// retries go through.
	c.node(f[0]).resume()
	c.node(f[1]).resume()
	c.waitISR(topic, 0, 1, 2, 3)
	c.waitAcks(prod, 200, "after the followers rejoined")
	prod.finish(t)
	c.waitIdentical(topic)
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, prod.ledger, refused))
	for _, r := range recs[0] {
		if refused.fail[string(r.Value)] != "" {
			t.Errorf("%s was refused with NOT_ENOUGH_REPLICAS but is at offset %d", r.Value, r.Offset)
		}
	}
	if _, _, failed := prod.ledger.counts(); failed > 0 {
		t.Errorf("the steady producer had %d records fail", failed)
	}

	shrinks, expands := leader.metric(t, "samsa_isr_shrinks_total")-shrinks0, leader.metric(t, "samsa_isr_expands_total")-expands0
	t.Logf("leader %d: %v ISR shrinks, %v expands", ctl, shrinks, expands)
	if shrinks < 2 || expands < 2 {
		t.Errorf("the leader counted %v ISR shrinks and %v expands, want at least 2 of each", shrinks, expands)
	}
}

// fetchHW fetches the partition from its leader as a consumer (from offset
// 0, one long poll) and returns the high watermark the response names and
// the offset after the last record it served.
func (c *replCluster) fetchHW(n *replNode, topic string, p int32) (hw, served int64) {
	c.t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxBytes = 64 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, 64<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := n.request(req)
	if err != nil {
		c.t.Fatalf("fetch from broker %d: %v", n.id, err)
	}
	fp := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
	if fp.ErrorCode != 0 {
		c.t.Fatalf("fetch from broker %d: %v", n.id, kerr.ErrorForCode(fp.ErrorCode))
	}
	bs, err := replBatches(fp.RecordBatches)
	if err != nil {
		c.t.Fatalf("fetch from broker %d: %v", n.id, err)
	}
	if len(bs) > 0 {
		served = bs[len(bs)-1].Last + 1
	}
	return fp.HighWatermark, served
}
