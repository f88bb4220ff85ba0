package itest

// A leader cut off from ZooKeeper (SIGSTOP past its session: a GC pause, a
// frozen VM) loses its leadership to another in-sync replica while it
// sleeps. When it wakes it still believes it leads until the controller
// tells it otherwise: requests that were waiting in its sockets are
// served as by a leader. What it appends then was never replicated:
//
//   - acks=all: never acknowledged (the high watermark cannot pass records
//     no follower fetches); the producer is told an error;
//   - consumers: never served (they read up to the high watermark only);
//   - acks=1: acknowledged, and lost, as in Kafka;
//
// and once it follows the new leader it truncates them by leader epoch
// (the Fetch response's diverging epoch): its log and its
// leader-epoch-checkpoint end up as the new leader's.

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReplicationZombieLeader(t *testing.T) {
	c := replStartCluster(t, 3)
	// The zombie is a plain broker, or the controller as well: then a
	// new controller is elected too, and the woken one is fenced by the
	// controller epoch.
	for _, alsoController := range []bool{false, true} {
		name := "leader"
		if alsoController {
			name = "leader+controller"
		}
		t.Run(name, func(t *testing.T) {
			c := c.in(t)
			c.heal()
			testZombieLeader(t, c, "zombie-"+strings.ReplaceAll(name, "+", "-"), alsoController)
		})
	}
}

func testZombieLeader(t *testing.T, c *replCluster, topic string, alsoController bool) {
	ctl := c.controller()
	var order []int32
	for id := int32(1); id <= 3; id++ {
		if id != ctl {
			order = append(order, id)
		}
	}
	if alsoController {
		order = append([]int32{ctl}, order...)
	} else {
		order = append(order, ctl)
	}
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "2"}, map[int32][]int32{0: order})
	c.waitInSync(topic)
	z := c.node(order[0])
	before, _ := c.state(topic, 0)

	// Its requests to the sleeping leader time out in 5 s, not 20 s.
	prod := c.produce(topic, "steady", 200, kgo.ProduceRequestTimeout(3*time.Second), kgo.RequestTimeoutOverhead(2*time.Second))
	c.waitAcks(prod, 200, "before the pause")

	// Connections made before the pause: requests written to them while
	// the broker sleeps wait in its socket buffers.
	acks1, acksAll, fetchConn := z.dial(t), z.dial(t), z.dial(t)
	z.pause()
	c.waitFor("a new leader elected", replWait, func() (bool, string) {
		st, ok := c.state(topic, 0)
		return ok && st.Leader > 0 && st.Leader != z.id && st.LeaderEpoch > before.LeaderEpoch, fmt.Sprintf("%+v", st)
	})
	c.waitAcks(prod, 200, "to the new leader")
	newLeader := c.leader(topic, 0)
	if alsoController {
		c.waitFor("a new controller", replWait, func() (bool, string) {
			id := c.controller()
			return id > 0 && id != z.id, fmt.Sprintf("controller %d", id)
		})
	}

	p1 := produceRequest(8, topic, 0, recordBatch(batchSpec{records: simpleRecords(5, "zombie-acks1")}))
	p1.Acks = 1
	pAll := produceRequest(8, topic, 0, recordBatch(batchSpec{records: simpleRecords(5, "zombie-acksall")}))
	pAll.TimeoutMillis = 5000
	c1, cAll := acks1.send(t, p1), acksAll.send(t, pAll)
	z.resume()

	r1 := acks1.recv(t, p1, c1).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	t.Logf("acks=1 to the woken leader: %v at offset %d", kerr.ErrorForCode(r1.ErrorCode), r1.BaseOffset)
	// A consumer asking the woken broker right after the acks=1 append.
	f := c.fetchReq(topic, 0, 0)
	fr := fetchConn.roundTrip(t, f).(*kmsg.FetchResponse).Topics[0].Partitions[0]
	if bytes.Contains(fr.RecordBatches, []byte("zombie-")) {
		t.Errorf("the woken leader served its unreplicated records to a consumer (high watermark %d)", fr.HighWatermark)
	}
	rAll := acksAll.recv(t, pAll, cAll).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	t.Logf("acks=all to the woken leader: %v at offset %d", kerr.ErrorForCode(rAll.ErrorCode), rAll.BaseOffset)
	if rAll.ErrorCode == 0 {
		t.Errorf("acks=all produce to the deposed leader acknowledged at offset %d", rAll.BaseOffset)
	}

	c.waitInSync(topic)
	// Fenced: the woken broker took back neither the partition nor,
	// when it had it, the controller's role.
	if st, _ := c.state(topic, 0); st.Leader != newLeader.id {
		t.Errorf("after the old leader %d rejoined the partition's state is %+v; want %d still leading", z.id, st, newLeader.id)
	}
	if alsoController && c.controller() == z.id {
		t.Errorf("the woken broker %d is the controller again", z.id)
	}
	c.waitAcks(prod, 200, "after the old leader rejoined")
	prod.finish(t)
	logs := c.waitIdentical(topic)
	if bytes.Contains(logs[0], []byte("zombie-")) {
		t.Errorf("records the deposed leader took are in the replicated log")
	}
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, prod.ledger))
	if _, _, failed := prod.ledger.counts(); failed > 0 {
		t.Errorf("the steady producer had %d records fail", failed)
	}
	if r1.ErrorCode == 0 {
		// It did append them: they were truncated, and others took
		// their offsets.
		if bs, _ := replBatches(logs[0]); len(bs) == 0 || bs[len(bs)-1].Last < r1.BaseOffset {
			t.Errorf("the log ends before offset %d, where the deposed leader appended", r1.BaseOffset)
		}
	} else {
		t.Logf("the woken broker refused the acks=1 produce: it learned of the new leader first")
	}

	// The leader epoch checkpoints agree: the deposed leader's epoch was
	// cut back where the new leader's starts.
	ze, err := replEpochs(z.dir, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	le, err := replEpochs(newLeader.dir, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("leader-epoch-checkpoint: deposed leader %d %v; new leader %d %v", z.id, ze, newLeader.id, le)
	if !slices.Equal(ze, le) {
		t.Errorf("the deposed leader's epochs %v differ from the new leader's %v", ze, le)
	}
}

// fetchReq is a consumer's Fetch (v11: no diverging epoch) of one
// partition from offset, answering at once.
func (c *replCluster) fetchReq(topic string, p int32, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.ReplicaID = -1
	req.MaxBytes = 64 << 20
	req.MaxWaitMillis = 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, offset, 64<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}
