package itest

// What replication shows to clients, on one three-broker cluster:
//
//   - OffsetForLeaderEpoch (KIP-320) answered from the leader's epoch
//     cache, as Kafka's endOffsetFor: each epoch's end is where the next
//     begins, the latest's the log end, unknown newer ones -1; requests
//     with an old or a future current_leader_epoch fenced; a follower
//     refuses consumers.
//   - A franz-go consumer reading live while its partition's leader moves
//     (controlled shutdown, then SIGKILL) validates its position with
//     OffsetForLeaderEpoch and reads every record once, in order, with no
//     data loss reported.
//   - ListOffsets on a new leader whose high watermark has not reached the
//     start of its epoch: OFFSET_NOT_AVAILABLE until it does.
//   - CreateTopics with a replication factor above the live brokers:
//     INVALID_REPLICATION_FACTOR.
//   - __consumer_offsets replicated (offsets.topic.replication.factor=3):
//     a group's committed offsets survive the loss of its coordinator's
//     broker, served by the new coordinator.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReplicationClients(t *testing.T) {
	// 4 s sessions: the longest ZooKeeper grants, for the window in which
	// a paused follower still counts as in sync (ListOffsets below).
	c := replStartCluster(t, 3, "zookeeper.session.timeout.ms=4000")
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, c *replCluster)
	}{
		{"OffsetForLeaderEpoch", testOffsetForLeaderEpoch},
		{"LiveConsumerAcrossLeaderChanges", testLiveConsumer},
		{"ListOffsetsWhileHighWatermarkLags", testListOffsetsHWLags},
		{"ReplicationFactorAboveLiveBrokers", testReplicationFactor},
		{"CommittedOffsetsSurviveCoordinatorLoss", testCommittedOffsets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c.in(t)
			c.heal()
			tc.fn(t, c)
		})
	}
}

// offsetForLeaderEpoch asks broker n for the end of epoch of the
// partition, as a consumer (replica_id -1), fencing with current.
func (n *replNode) offsetForLeaderEpoch(t testing.TB, topic string, p, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.SetVersion(4)
	req.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = p, current, epoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := n.request(req)
	if err != nil {
		t.Fatalf("OffsetForLeaderEpoch to broker %d: %v", n.id, err)
	}
	return resp.(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]
}

func testOffsetForLeaderEpoch(t *testing.T, c *replCluster) {
	const topic = "ofle"
	c.createTopic(topic, 1, 3, map[string]string{"min.insync.replicas": "2"}, nil)
	c.waitInSync(topic)
	// Three leaderships with records in each: the leader moves by
	// controlled shutdown and its broker returns.
	for i := range 3 {
		c.produceN(topic, "ofle"+strconv.Itoa(i), 10)
		if i == 2 {
			break
		}
		l := c.leader(topic, 0)
		l.sigterm()
		c.restart(l)
		c.waitInSync(topic)
		c.waitMetadata(topic, 1)
	}
	st, _ := c.state(topic, 0)
	l := c.node(st.Leader)
	epochs, err := replEpochs(l.dir, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := replLogBytes(l.dir, topic, 0)
	bs, _ := replBatches(log)
	leo := bs[len(bs)-1].Last + 1
	t.Logf("leader %d, epoch %d, log end %d, leader-epoch-checkpoint %v", l.id, st.LeaderEpoch, leo, epochs)
	if len(epochs) < 3 {
		t.Fatalf("the leader's epoch cache has %d entries after three leaderships with records", len(epochs))
	}
	want := func(q int32) (int32, int64) { // Kafka's LeaderEpochFileCache.endOffsetFor
		last := epochs[len(epochs)-1]
		switch {
		case int64(q) == last[0]:
			return q, leo
		case int64(q) > last[0]:
			return -1, -1
		}
		for i, e := range epochs {
			if e[0] > int64(q) {
				if i == 0 {
					return q, e[1]
				}
				return int32(epochs[i-1][0]), e[1]
			}
		}
		return -1, -1
	}
	for q := int32(0); q <= st.LeaderEpoch+1; q++ {
		r := l.offsetForLeaderEpoch(t, topic, 0, st.LeaderEpoch, q)
		we, wo := want(q)
		if r.ErrorCode != 0 || r.LeaderEpoch != we || r.EndOffset != wo {
			t.Errorf("epoch %d: %v epoch %d end %d, want epoch %d end %d", q, kerr.ErrorForCode(r.ErrorCode), r.LeaderEpoch, r.EndOffset, we, wo)
		}
	}
	if r := l.offsetForLeaderEpoch(t, topic, 0, st.LeaderEpoch-1, 0); r.ErrorCode != kerr.FencedLeaderEpoch.Code {
		t.Errorf("current_leader_epoch older than the leader's: %v, want FENCED_LEADER_EPOCH", kerr.ErrorForCode(r.ErrorCode))
	}
	if r := l.offsetForLeaderEpoch(t, topic, 0, st.LeaderEpoch+1, 0); r.ErrorCode != kerr.UnknownLeaderEpoch.Code {
		t.Errorf("current_leader_epoch newer than the leader's: %v, want UNKNOWN_LEADER_EPOCH", kerr.ErrorForCode(r.ErrorCode))
	}
	for _, n := range c.nodes {
		if n.id == l.id {
			continue
		}
		if r := n.offsetForLeaderEpoch(t, topic, 0, st.LeaderEpoch, 0); r.ErrorCode != kerr.NotLeaderForPartition.Code {
			t.Errorf("follower %d answered a consumer's OffsetForLeaderEpoch with %v, want NOT_LEADER_OR_FOLLOWER", n.id, kerr.ErrorForCode(r.ErrorCode))
		}
	}
}

func testLiveConsumer(t *testing.T, c *replCluster) {
	const topic = "live"
	c.createTopic(topic, 1, 3, map[string]string{"min.insync.replicas": "2"}, nil)
	c.waitInSync(topic)
	prod := c.produce(topic, "live", 300)
	var ofle replOFLECounter
	cons := c.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.WithHooks(&ofle))
	var next atomic.Int64 // written by the consumer's goroutine, read by the wait
	var errs []error      // read once the goroutine is done
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cons.PollFetches(ctx)
			fs.EachError(func(_ string, _ int32, err error) {
				if !errors.Is(err, context.Canceled) {
					errs = append(errs, err)
				}
			})
			fs.EachRecord(func(r *kgo.Record) {
				if want := next.Load(); r.Offset != want {
					errs = append(errs, fmt.Errorf("read offset %d, want %d", r.Offset, want))
				}
				next.Store(r.Offset + 1)
			})
		}
	}()
	c.waitAcks(prod, 300, "before the leader moves")
	first := c.leader(topic, 0)
	first.sigterm()
	c.waitAcks(prod, 300, "after a controlled shutdown of the leader")
	c.restart(first)
	c.waitInSync(topic)
	second := c.leader(topic, 0)
	second.sigkill()
	c.waitAcks(prod, 300, "after the leader was killed")
	c.restart(second)
	c.waitInSync(topic)
	prod.finish(t)
	_, acked, _ := prod.ledger.counts()
	c.waitFor("the live consumer caught up", replWait, func() (bool, string) {
		return prodEnd(c, topic) == next.Load(), fmt.Sprintf("read to %d, acked %d", next.Load(), acked)
	})
	cancel()
	<-done
	for _, err := range errs {
		t.Errorf("live consumer: %v", err)
	}
	t.Logf("the consumer read %d records across two leader changes; OffsetForLeaderEpoch answered: %d", next.Load(), ofle.ok.Load())
	if ofle.ok.Load() == 0 {
		t.Errorf("no OffsetForLeaderEpoch answered: the consumer did not validate its position after the leader changed")
	}
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, prod.ledger))
}

// replOFLECounter counts the OffsetForLeaderEpoch requests a franz-go
// client had answered.
type replOFLECounter struct{ ok atomic.Int64 }

func (h *replOFLECounter) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key == 23 && e2e.Err() == nil {
		h.ok.Add(1)
	}
}

// prodEnd is the partition's high watermark, -1 while unknown.
func prodEnd(c *replCluster, topic string) int64 {
	ends, err := c.admin().ListEndOffsets(context.Background(), topic)
	if err != nil || ends.Error() != nil {
		return -1
	}
	o, _ := ends.Lookup(topic, 0)
	return o.Offset
}

// listLatest asks broker n for the partition's latest offset (ListOffsets
// v7, timestamp -1).
func (n *replNode) listLatest(t testing.TB, topic string, p int32) (int64, error) {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(7)
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.Timestamp = p, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := n.request(req)
	if err != nil {
		t.Fatalf("ListOffsets to broker %d: %v", n.id, err)
	}
	r := resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	if r.ErrorCode != 0 {
		return -1, kerr.ErrorForCode(r.ErrorCode)
	}
	return r.Offset, nil
}

func testListOffsetsHWLags(t *testing.T, c *replCluster) {
	const topic = "hw-lags"
	// The controller becomes the new leader; the paused follower is
	// neither, so that the controlled shutdown goes through.
	ctl := c.controller()
	var others []int32
	for id := int32(1); id <= 3; id++ {
		if id != ctl {
			others = append(others, id)
		}
	}
	l, nl, f := c.node(others[0]), c.node(ctl), c.node(others[1])
	// The steps from the pause to the check take well under
	// replica.lag.time.max.ms (3 s) and the session (4 s), so the paused
	// follower stays in the ISR meanwhile.
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "1"}, map[int32][]int32{0: {l.id, nl.id, f.id}})
	c.waitInSync(topic)
	// An acks=1 producer whose metadata is loaded before the pause (a
	// metadata request to a paused broker would hang).
	cl := c.client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MetadataMinAge(time.Minute), kgo.MetadataMaxAge(time.Minute))
	for i := range 50 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("committed-" + strconv.Itoa(i)), Partition: 0}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	c.waitFor("the high watermark at 50", replWait, func() (bool, string) {
		off, err := l.listLatest(t, topic, 0)
		return off == 50, fmt.Sprintf("offset %d, %v", off, err)
	})

	// The follower pauses: the leader's high watermark stops at 50 while
	// the next records reach the other follower.
	f.pause()
	paused := time.Now()
	for i := range 20 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("past-hw-" + strconv.Itoa(i)), Partition: 0}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	c.waitFor("the new leader holding the records past the high watermark", replWait, func() (bool, string) {
		b, _ := replLogBytes(nl.dir, topic, 0)
		bs, _ := replBatches(b)
		return len(bs) > 0 && bs[len(bs)-1].Last+1 == 70, fmt.Sprintf("%d batches", len(bs))
	})
	// The leader moves by controlled shutdown to the follower that holds
	// 70 records and knows a high watermark of 50.
	l.sigterm()
	c.waitFor("broker "+strconv.Itoa(int(nl.id))+" leading", replWait, func() (bool, string) {
		st, _ := c.state(topic, 0)
		return st.Leader == nl.id, fmt.Sprintf("%+v", st)
	})
	off, err := nl.listLatest(t, topic, 0)
	elapsed := time.Since(paused)
	if !errors.Is(err, kerr.OffsetNotAvailable) {
		t.Errorf("ListOffsets latest on the new leader %v after the pause: offset %d, %v; want OFFSET_NOT_AVAILABLE", elapsed.Round(time.Millisecond), off, err)
	} else {
		t.Logf("ListOffsets latest on the new leader %v after the pause: %v", elapsed.Round(time.Millisecond), err)
	}
	f.resume()
	c.waitFor("ListOffsets answering the log end", replWait, func() (bool, string) {
		off, err := nl.listLatest(t, topic, 0)
		return off == 70, fmt.Sprintf("offset %d, %v", off, err)
	})
	c.restart(l)
}

func testReplicationFactor(t *testing.T, c *replCluster) {
	create := func(name string, rf int16) kmsg.CreateTopicsResponseTopic {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 10000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, rf
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(context.Background(), c.client())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0]
	}
	msg := func(r kmsg.CreateTopicsResponseTopic) string {
		if r.ErrorMessage != nil {
			return *r.ErrorMessage
		}
		return ""
	}
	if r := create("rf4", 4); r.ErrorCode != kerr.InvalidReplicationFactor.Code {
		t.Errorf("replication factor 4 on 3 brokers: %v, want INVALID_REPLICATION_FACTOR", kerr.ErrorForCode(r.ErrorCode))
	} else {
		t.Logf("replication factor 4 on 3 brokers: %s", msg(r))
	}
	down := c.node(3)
	down.sigkill()
	c.waitFor("broker 3 deregistered", replWait, func() (bool, string) {
		return !slices.Contains(c.registered(), 3), fmt.Sprintf("registered %v", c.registered())
	})
	c.waitFor("every live broker knowing broker 3 is gone", replWait, func() (bool, string) {
		for _, n := range c.nodes[:2] {
			md, err := n.metadata("rf3")
			if err != nil || len(md.Brokers) != 2 {
				return false, fmt.Sprintf("broker %d: %v", n.id, err)
			}
		}
		return true, ""
	})
	if r := create("rf3", 3); r.ErrorCode != kerr.InvalidReplicationFactor.Code {
		t.Errorf("replication factor 3 with 2 live brokers: %v, want INVALID_REPLICATION_FACTOR", kerr.ErrorForCode(r.ErrorCode))
	} else {
		t.Logf("replication factor 3 with 2 live brokers: %s", msg(r))
	}
	if r := create("rf2", 2); r.ErrorCode != 0 {
		t.Errorf("replication factor 2 with 2 live brokers: %v %s", kerr.ErrorForCode(r.ErrorCode), msg(r))
	}
	c.restart(down)
}

// javaStringHash is Java's String.hashCode, which places a group in
// __consumer_offsets (Kafka: abs(hash) % partitions).
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		h = 31*h + int32(r)
	}
	return h
}

func testCommittedOffsets(t *testing.T, c *replCluster) {
	const topic, group = "committed", "survivors"
	c.createTopic(topic, 3, 3, nil, nil)
	adm := c.admin()
	offs := kadm.Offsets{}
	for p := int32(0); p < 3; p++ {
		offs.Add(kadm.Offset{Topic: topic, Partition: p, At: int64(100 + p), LeaderEpoch: -1, Metadata: "m" + strconv.Itoa(int(p))})
	}
	c.waitFor("the group's offsets committed", replWait, func() (bool, string) {
		err := adm.CommitAllOffsets(context.Background(), group, offs)
		return err == nil, fmt.Sprint(err)
	})
	op := (javaStringHash(group) & 0x7fffffff) % 3
	reps := c.replicas("__consumer_offsets")
	if len(reps[op]) != 3 {
		t.Fatalf("__consumer_offsets-%d has replicas %v, want 3 (offsets.topic.replication.factor)", op, reps[op])
	}
	c.waitInSync("__consumer_offsets")
	coord := c.leader("__consumer_offsets", op)
	fc := adm.FindGroupCoordinators(context.Background(), group).Sorted()
	if len(fc) != 1 || fc[0].Err != nil || fc[0].NodeID != coord.id {
		t.Fatalf("FindCoordinator: %+v; the leader of __consumer_offsets-%d is %d", fc, op, coord.id)
	}
	coord.sigkill()
	c.waitFor("a new leader of __consumer_offsets-"+strconv.Itoa(int(op)), replWait, func() (bool, string) {
		st, _ := c.state("__consumer_offsets", op)
		return st.Leader > 0 && st.Leader != coord.id, fmt.Sprintf("%+v", st)
	})
	var got kadm.OffsetResponses
	c.waitFor("the new coordinator serving the offsets", replWait, func() (bool, string) {
		var err error
		got, err = adm.FetchOffsets(context.Background(), group)
		if err == nil {
			err = got.Error()
		}
		return err == nil && len(got.Offsets().Sorted()) == 3, fmt.Sprintf("%v %v", got.Offsets().Sorted(), err)
	})
	for _, o := range got.Offsets().Sorted() {
		if want := int64(100 + o.Partition); o.At != want || o.Metadata != "m"+strconv.Itoa(int(o.Partition)) {
			t.Errorf("%s-%d: committed offset %d %q after the coordinator's loss, want %d", o.Topic, o.Partition, o.At, o.Metadata, want)
		}
	}
	fc = adm.FindGroupCoordinators(context.Background(), group).Sorted()
	t.Logf("coordinator %d killed; now %d", coord.id, fc[0].NodeID)
	c.restart(coord)
}
