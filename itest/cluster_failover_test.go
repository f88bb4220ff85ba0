package itest

// Failures under a three-broker cluster, RF = 1: the controller or a
// broker killed, a broker paused past its ZooKeeper session, ZooKeeper
// restarted, a rolling restart. A ledger of acknowledged records checks
// that none is lost.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
	"samsa/internal/zktest"
)

// ledger is what the cluster acknowledged, per partition in offset order.
type ledger map[int32][]string

// produceTo produces n records to each of the partitions named, acks=all,
// through a client seeded with every running broker; every record must be
// acknowledged. It adds them to l.
func (c *kcluster) produceTo(t testing.TB, l ledger, topic string, parts []int32, n int, tag string) {
	t.Helper()
	var seeds []string
	for _, b := range c.running() {
		if !b.paused {
			seeds = append(seeds, b.addr)
		}
	}
	cl := c.client(t, seeds)
	var recs []*kgo.Record
	for i := range n {
		for _, p := range parts {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%s p%d #%d", tag, p, i)})
		}
	}
	produceSync(t, cl, recs...)
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int { return int(a.Offset - b.Offset) })
	for _, r := range recs {
		l[r.Partition] = append(l[r.Partition], string(r.Value))
	}
	cl.Close()
}

// check reads the topic's partitions from the start through every running
// broker and compares each with the ledger, record for record.
func (l ledger) check(t testing.TB, c *kcluster, topic string, parts []int32) {
	t.Helper()
	offs := map[int32]kgo.Offset{}
	total := 0
	for _, p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
		total += len(l[p])
	}
	cl := c.client(t, c.addrs(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
	got := map[int32][]string{}
	for _, r := range pollN(t, cl, int64(total)) {
		if r.Offset != int64(len(got[r.Partition])) {
			t.Fatalf("%s/%d: record at offset %d after %d records", topic, r.Partition, r.Offset, len(got[r.Partition]))
		}
		got[r.Partition] = append(got[r.Partition], string(r.Value))
	}
	for _, p := range parts {
		if !slices.Equal(got[p], l[p]) {
			t.Fatalf("%s/%d: read %d records, acknowledged %d; first difference at %d", topic, p, len(got[p]), len(l[p]), firstDiff(got[p], l[p]))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func allParts(n int32) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// partsLedBy returns the partitions whose leader (in leaders) is id.
func partsLedBy(leaders []int32, id int32) []int32 {
	var out []int32
	for p, l := range leaders {
		if l == id {
			out = append(out, int32(p))
		}
	}
	return out
}

// partitionMeta returns a topic's partitions in a broker's metadata.
func partitionMeta(t testing.TB, b *broker, topic string) []kmsg.MetadataResponseTopicPartition {
	t.Helper()
	md, err := b.metadata(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 {
		t.Fatalf("metadata of %s from broker %d: %+v", topic, b.id, md.Topics)
	}
	ps := slices.Clone(md.Topics[0].Partitions)
	slices.SortFunc(ps, func(a, b kmsg.MetadataResponseTopicPartition) int { return int(a.Partition - b.Partition) })
	return ps
}

// TestClusterControllerFailover: SIGKILL of the controller; another broker
// is elected once the dead one's session expires (the time is logged),
// with the controller epoch one higher, and every survivor names it. The
// new controller does the controller's work: a new topic is spread over
// the live brokers only, and the dead broker's partitions of an older
// topic are offline. The killed broker returns as an ordinary broker and
// leads its partitions again.
func TestClusterControllerFailover(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	before := c.createTopic(c.broker(1), "before", 6, nil)
	old := c.waitConverged()
	epoch0, _ := c.get("/controller_epoch")

	start := time.Now()
	c.broker(old).kill()
	next := c.waitController(old)
	elected := time.Since(start)
	if got := c.waitConverged(); got != next {
		t.Fatalf("controller %d, then %d", next, got)
	}
	known := time.Since(start)
	t.Logf("controller %d SIGKILLed: broker %d elected after %v, named by every broker after %v (session timeout %v)",
		old, next, elected.Round(time.Millisecond), known.Round(time.Millisecond), c.session)
	if elected > 3*c.session {
		t.Errorf("election took %v, more than three session timeouts", elected)
	}
	epoch1, _ := c.get("/controller_epoch")
	if e0, _ := strconv.Atoi(string(epoch0)); strconv.Itoa(e0+1) != string(epoch1) {
		t.Errorf("controller epoch %s after %s, want one more", epoch1, epoch0)
	}

	after := c.createTopic(c.broker(next), "after", 6, nil)
	if got := ledBy(after); got[old] != 0 || len(got) != 2 || got[next] != 3 {
		t.Errorf("new topic led %v with broker %d dead: want three partitions per live broker", after, old)
	}
	c.waitLeaders("before", 6, func(p, l int32) bool {
		if before[p] == old {
			return l == -1
		}
		return l == before[p]
	})

	c.broker(old).restart()
	if got := c.waitConverged(); got != next {
		t.Errorf("controller %d after broker %d returned, want %d still", got, old, next)
	}
	if got := c.online("before", 6); !slices.Equal(got, before) {
		t.Errorf("leaders %v after broker %d returned, want %v", got, old, before)
	}
}

// TestClusterBrokerFailure: a broker that does not lead a partition
// answers Produce and Fetch for it with NOT_LEADER_OR_FOLLOWER. Then
// SIGKILL of a broker that is not the controller. Its partitions (RF = 1) go offline: every survivor's
// Metadata shows leader -1 with LEADER_NOT_AVAILABLE and the broker as an
// offline replica, the state znodes leader -1 at leader epoch 1 with the
// ISR keeping its last member, a survivor answers Produce for them with
// NOT_LEADER_OR_FOLLOWER; the other partitions keep taking records. When
// the broker restarts on its data, its partitions come back led by it at
// leader epoch 2, with every acknowledged record, and take more.
func TestClusterBrokerFailure(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	ctl := c.waitConverged()
	const topic, parts = "fail", 6
	leaders := c.createTopic(c.broker(ctl), topic, parts, nil)
	victim := c.other(ctl)
	mine := partsLedBy(leaders, victim.id)
	var theirs []int32
	for p := range int32(parts) {
		if !slices.Contains(mine, p) {
			theirs = append(theirs, p)
		}
	}
	l := ledger{}
	c.produceTo(t, l, topic, allParts(parts), 50, "before")
	// A broker that does not lead a partition serves none of it.
	notLeader := c.other(victim.id)
	if code, _ := notLeader.dial(t).produceCode(t, 9, topic, mine[0], testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 10})); code != kerr.NotLeaderForPartition.Code {
		t.Errorf("produce to partition %d (led by %d) through broker %d: %v, want NOT_LEADER_OR_FOLLOWER", mine[0], victim.id, notLeader.id, kerr.ErrorForCode(code))
	}
	if code, _ := fetchAt(t, notLeader, topic, mine[0], -1); code != kerr.NotLeaderForPartition.Code {
		t.Errorf("fetch of partition %d (led by %d) from broker %d: %v, want NOT_LEADER_OR_FOLLOWER", mine[0], victim.id, notLeader.id, kerr.ErrorForCode(code))
	}

	start := time.Now()
	victim.kill()
	c.waitLeaders(topic, parts, func(p, l int32) bool {
		if slices.Contains(mine, p) {
			return l == -1
		}
		return l == leaders[p]
	})
	t.Logf("broker %d SIGKILLed: its partitions %v offline everywhere after %v", victim.id, mine, time.Since(start).Round(time.Millisecond))
	survivor := c.other(victim.id)
	for _, mp := range partitionMeta(t, survivor, topic) {
		if !slices.Contains(mine, mp.Partition) {
			continue
		}
		if mp.ErrorCode != kerr.LeaderNotAvailable.Code || !slices.Equal(mp.OfflineReplicas, []int32{victim.id}) || mp.LeaderEpoch != 1 {
			t.Errorf("partition %d: error %d, offline replicas %v, leader epoch %d; want LEADER_NOT_AVAILABLE, [%d], 1",
				mp.Partition, mp.ErrorCode, mp.OfflineReplicas, mp.LeaderEpoch, victim.id)
		}
		c.shape(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, mp.Partition),
			fmt.Sprintf(`{"version":1,"leader":-1,"leader_epoch":1,"isr":[%d],"controller_epoch":1}`, victim.id))
	}
	code, _ := survivor.dial(t).produceCode(t, 9, topic, mine[0], testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 10}))
	if code != kerr.NotLeaderForPartition.Code {
		t.Errorf("produce to offline partition %d through broker %d: %v, want NOT_LEADER_OR_FOLLOWER", mine[0], survivor.id, kerr.ErrorForCode(code))
	}
	c.produceTo(t, l, topic, theirs, 20, "during")

	start = time.Now()
	victim.restart()
	if got := c.online(topic, parts); !slices.Equal(got, leaders) {
		t.Fatalf("leaders %v after the restart, want %v", got, leaders)
	}
	t.Logf("broker %d restarted: its partitions online again after %v", victim.id, time.Since(start).Round(time.Millisecond))
	for _, mp := range partitionMeta(t, victim, topic) {
		want := int32(0)
		if slices.Contains(mine, mp.Partition) {
			want = 2
		}
		if mp.LeaderEpoch != want {
			t.Errorf("partition %d at leader epoch %d, want %d", mp.Partition, mp.LeaderEpoch, want)
		}
	}
	c.produceTo(t, l, topic, allParts(parts), 20, "after")
	l.check(t, c, topic, allParts(parts))
}

// brokerEpoch returns a broker's epoch: the czxid of its registration, -1
// if it is not registered.
func (c *kcluster) brokerEpoch(id int32) int64 {
	c.t.Helper()
	_, st, err := c.raw.Get(fmt.Sprintf("%s/brokers/ids/%d", c.chroot, id))
	if err != nil {
		return -1
	}
	return st.Czxid
}

// fetchAt fetches one partition from the broker at Fetch v12 with the
// leader epoch the client believes current (KIP-320), and returns the
// partition's error code and its batches.
func fetchAt(t *testing.T, b *broker, topic string, p int32, currentEpoch int32) (int16, []fetchedBatch) {
	t.Helper()
	req := fetchRequest(12, topic, 0, 0, 1<<20, fetchPart{partition: p, maxBytes: 1 << 20})
	req.Topics[0].Partitions[0].CurrentLeaderEpoch = currentEpoch
	resp := fetchOne(t, b.dial(t), req)
	rp := resp.Topics[0].Partitions[0]
	if rp.ErrorCode != 0 {
		return rp.ErrorCode, nil
	}
	return 0, splitBatches(t, rp.RecordBatches)
}

// TestClusterPausedController: the controller is paused with SIGSTOP past
// its ZooKeeper session timeout. Another broker becomes controller, and
// the paused broker's partitions go offline while the others keep taking
// records. Resumed, the broker learns that its session expired: it
// registers again with a new broker epoch and stays an ordinary broker
// (one controller, the new one); the controller gives it its partitions
// back at leader epoch 2, and it knows it: a fetch naming leader epoch 0
// is FENCED_LEADER_EPOCH, and new batches carry epoch 2. Every broker
// converges on the same metadata, and every acknowledged record is there.
func TestClusterPausedController(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const topic, parts = "paused", 6
	leaders := c.createTopic(c.broker(1), topic, parts, nil)
	old := c.waitConverged()
	victim := c.broker(old)
	mine := partsLedBy(leaders, old)
	var theirs []int32
	for p := range int32(parts) {
		if !slices.Contains(mine, p) {
			theirs = append(theirs, p)
		}
	}
	l := ledger{}
	c.produceTo(t, l, topic, allParts(parts), 30, "before")
	epoch0 := c.brokerEpoch(old)

	start := time.Now()
	victim.pause()
	next := c.waitController(old)
	t.Logf("controller %d paused: broker %d elected after %v", old, next, time.Since(start).Round(time.Millisecond))
	c.waitLeaders(topic, parts, func(p, l int32) bool {
		if slices.Contains(mine, p) {
			return l == -1
		}
		return l == leaders[p]
	})
	c.produceTo(t, l, topic, theirs, 10, "paused")

	start = time.Now()
	victim.resume()
	if got := c.waitConverged(); got != next {
		t.Fatalf("controller %d after broker %d resumed, want %d", got, old, next)
	}
	if got := c.online(topic, parts); !slices.Equal(got, leaders) {
		t.Fatalf("leaders %v after broker %d resumed, want %v", got, old, leaders)
	}
	t.Logf("broker %d resumed: registered again and leading its partitions after %v", old, time.Since(start).Round(time.Millisecond))
	if epoch1 := c.brokerEpoch(old); epoch1 <= epoch0 {
		t.Errorf("broker epoch %d after the session expired, %d before: want a newer one", epoch1, epoch0)
	}
	if !strings.Contains(victim.log.String(), "resigning as controller") {
		t.Errorf("broker %d never logged that it resigned as controller", old)
	}
	// The metadata of every broker agrees, epochs included.
	want := partitionMeta(t, c.broker(next), topic)
	for _, b := range c.brokers {
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d's metadata of %s", b.id, topic), func() error {
			md, err := b.metadata(topic)
			if err != nil {
				return err
			}
			for _, mp := range md.Topics[0].Partitions {
				w := want[mp.Partition]
				if mp.Leader != w.Leader || mp.LeaderEpoch != w.LeaderEpoch || mp.ErrorCode != 0 {
					return fmt.Errorf("partition %d: leader %d epoch %d error %d; broker %d says %d, %d", mp.Partition,
						mp.Leader, mp.LeaderEpoch, mp.ErrorCode, next, w.Leader, w.LeaderEpoch)
				}
			}
			return nil
		})
	}
	p := mine[0]
	if want[p].LeaderEpoch != 2 {
		t.Errorf("partition %d at leader epoch %d, want 2 (offline, then online)", p, want[p].LeaderEpoch)
	}
	if code, _ := fetchAt(t, victim, topic, p, 0); code != kerr.FencedLeaderEpoch.Code {
		t.Errorf("fetch of partition %d naming leader epoch 0: %v, want FENCED_LEADER_EPOCH", p, kerr.ErrorForCode(code))
	}
	c.produceTo(t, l, topic, allParts(parts), 10, "after")
	code, batches := fetchAt(t, victim, topic, p, 2)
	if code != 0 || len(batches) == 0 {
		t.Fatalf("fetch of partition %d at leader epoch 2: %v, %d batches", p, kerr.ErrorForCode(code), len(batches))
	}
	if last := batches[len(batches)-1].batch; last.PartitionLeaderEpoch != 2 {
		t.Errorf("batch produced at leader epoch 2 stamped with epoch %d", last.PartitionLeaderEpoch)
	}
	if first := batches[0].batch; first.PartitionLeaderEpoch != 0 {
		t.Errorf("batch produced at leader epoch 0 stamped with epoch %d", first.PartitionLeaderEpoch)
	}
	l.check(t, c, topic, allParts(parts))
}

// TestClusterZooKeeperRestart: ZooKeeper stops under a running cluster
// for longer than a session timeout, then starts again on its data. While
// it is down the brokers keep serving the partitions they lead; once it
// is back the brokers are registered (their sessions survive a restart of
// the server, or they register again), one controller acts, and the
// watches work again: a new topic gets leaders on every broker, and a
// broker killed afterwards is noticed and its partitions go offline, then
// come back when it restarts. Every acknowledged record is there.
func TestClusterZooKeeperRestart(t *testing.T) {
	srv := zktest.Start(t)
	c := startCluster(t, 3, clusterOpts{zk: srv})
	const topic, parts = "zkrestart", 6
	leaders := c.createTopic(c.broker(1), topic, parts, nil)
	l := ledger{}
	c.produceTo(t, l, topic, allParts(parts), 20, "before")
	epochs := map[int32]int64{}
	for _, b := range c.brokers {
		epochs[b.id] = c.brokerEpoch(b.id)
	}

	srv.Stop()
	c.produceTo(t, l, topic, allParts(parts), 20, "zk-down")
	// The outage lasts past the brokers' session timeout: a fault's
	// duration, not a wait for a condition.
	time.Sleep(c.session + 500*time.Millisecond)
	c.produceTo(t, l, topic, allParts(parts), 20, "zk-down-longer")
	srv.Start()

	start := time.Now()
	ctl := c.waitConverged()
	t.Logf("ZooKeeper back: brokers registered with controller %d after %v", ctl, time.Since(start).Round(time.Millisecond))
	for _, b := range c.brokers {
		if e := c.brokerEpoch(b.id); e != epochs[b.id] {
			t.Logf("broker %d registered again: epoch %d, was %d", b.id, e, epochs[b.id])
		}
	}
	if got := c.online(topic, parts); !slices.Equal(got, leaders) {
		t.Errorf("leaders %v after ZooKeeper restarted, want %v", got, leaders)
	}
	if got := ledBy(c.createTopic(c.broker(2), "after-zk", parts, nil)); len(got) != 3 {
		t.Errorf("a topic created after ZooKeeper restarted is led %v", got)
	}
	victim := c.other(ctl)
	victim.kill()
	mine := partsLedBy(leaders, victim.id)
	c.waitLeaders(topic, parts, func(p, l int32) bool {
		if slices.Contains(mine, p) {
			return l == -1
		}
		return l == leaders[p]
	})
	victim.restart()
	c.waitConverged()
	c.online(topic, parts)
	c.produceTo(t, l, topic, allParts(parts), 10, "after")
	l.check(t, c, topic, allParts(parts))
}

// window is a span of time.
type window struct{ from, to time.Time }

func (w window) holds(t time.Time) bool { return !t.Before(w.from) && !t.After(w.to) }

// controllerWatch records when /controller exists, from a ZooKeeper watch.
type controllerWatch struct {
	mu     sync.Mutex
	events []ctlEvent
}

type ctlEvent struct {
	at      time.Time
	present bool
	id      int32
}

// watchController follows /controller until stop is closed.
func (c *kcluster) watchController(stop <-chan struct{}) *controllerWatch {
	w := &controllerWatch{}
	go func() {
		for {
			data, _, ch, err := c.raw.GetW(c.chroot + "/controller")
			ev := ctlEvent{at: time.Now(), id: -1}
			if err == nil {
				ev.present = true
				var v struct {
					BrokerID int32 `json:"brokerid"`
				}
				if json.Unmarshal(data, &v) == nil {
					ev.id = v.BrokerID
				}
			} else if errors.Is(err, zk.ErrNoNode) {
				_, _, ch, err = c.raw.ExistsW(c.chroot + "/controller")
				if err != nil {
					return
				}
				ev.at = time.Now()
			} else {
				return
			}
			w.mu.Lock()
			w.events = append(w.events, ev)
			w.mu.Unlock()
			select {
			case <-ch:
			case <-stop:
				return
			}
		}
	}()
	return w
}

// longestGap is the longest time /controller was absent, and the
// controllers in the order they held the role.
func (w *controllerWatch) longestGap(end time.Time) (time.Duration, []int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gap time.Duration
	var ids []int32
	var absent time.Time
	for _, e := range w.events {
		switch {
		case !e.present && absent.IsZero():
			absent = e.at
		case e.present:
			if !absent.IsZero() {
				gap = max(gap, e.at.Sub(absent))
				absent = time.Time{}
			}
			if len(ids) == 0 || ids[len(ids)-1] != e.id {
				ids = append(ids, e.id)
			}
		}
	}
	if !absent.IsZero() {
		gap = max(gap, end.Sub(absent))
	}
	return gap, ids
}

// TestClusterRollingRestart: each broker in turn gets SIGTERM (controlled
// shutdown, a clean exit) and is restarted, the controller among them,
// while a producer (idempotent, acks=all) writes to every partition and a
// consumer reads them. A monitor polls the metadata: a partition is
// offline only while the broker that leads it (RF = 1) is down, and is
// never led by another. The controller role moves when its broker stops,
// without a gap beyond the election itself (a ZooKeeper watch measures
// it), and never to a broker that is stopping. Every acknowledged record
// is in the log exactly once, in order, and the consumer read them all.
func TestClusterRollingRestart(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const topic, parts = "rolling", 6
	led := c.createTopic(c.broker(1), topic, parts, nil)
	stop := make(chan struct{})
	ctlw := c.watchController(stop)

	// Down windows, written by the test goroutine, read by the monitor.
	var mu sync.Mutex
	down := map[int32][]window{}
	type offline struct {
		at   time.Time
		part int32
		via  int32
	}
	var offlines []offline
	var wrong []string
	var monitor sync.WaitGroup
	monitor.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond): // sampling period
			}
			for _, b := range c.brokers {
				md, err := b.metadata(topic)
				if err != nil {
					continue // down, or stopping
				}
				now := time.Now()
				ls, _ := leaders(md, topic) // none: a broker just restarted may not know the topic yet
				mu.Lock()
				for p, l := range ls {
					switch {
					case l == -1:
						offlines = append(offlines, offline{now, int32(p), b.id})
					case l != led[p]:
						wrong = append(wrong, fmt.Sprintf("broker %d: partition %d led by %d", b.id, p, l))
					}
				}
				mu.Unlock()
			}
		}
	})

	// The producer: one record every few milliseconds, round the
	// partitions; acknowledgements go to the ledger.
	// Idempotent: franz-go's retries then never duplicate a record.
	prodIdem, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(60*time.Second), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prodIdem.Close()
	var ackMu sync.Mutex
	acked := map[int32][]int64{} // per partition: the sequence numbers acknowledged
	failed := 0
	var producer sync.WaitGroup
	producer.Go(func() {
		for i := int64(0); ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond): // the producer's pace
			}
			p := int32(i % parts)
			r := &kgo.Record{Topic: topic, Partition: p, Value: []byte(strconv.FormatInt(i, 10))}
			prodIdem.Produce(context.Background(), r, func(r *kgo.Record, err error) {
				ackMu.Lock()
				defer ackMu.Unlock()
				if err != nil {
					failed++
					return
				}
				n, _ := strconv.ParseInt(string(r.Value), 10, 64)
				acked[r.Partition] = append(acked[r.Partition], n)
			})
		}
	})
	// The consumer reads everything, from the start.
	offs := map[int32]kgo.Offset{}
	for p := range int32(parts) {
		offs[p] = kgo.NewOffset().AtStart()
	}
	cons := c.client(t, c.addrs(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}), kgo.FetchMaxWait(100*time.Millisecond))
	var conMu sync.Mutex
	consumed := map[int32][]*kgo.Record{}
	consCtx, consCancel := context.WithCancel(context.Background())
	defer consCancel()
	var consumer sync.WaitGroup
	consumer.Go(func() {
		for consCtx.Err() == nil {
			fs := cons.PollFetches(consCtx)
			conMu.Lock()
			fs.EachRecord(func(r *kgo.Record) { consumed[r.Partition] = append(consumed[r.Partition], r) })
			conMu.Unlock()
		}
	})

	ackedCount := func() int {
		ackMu.Lock()
		defer ackMu.Unlock()
		n := 0
		for _, a := range acked {
			n += len(a)
		}
		return n
	}
	var took []string
	for _, b := range c.brokers {
		before := ackedCount()
		waitUntil(t, clusterWait, "records acknowledged before the restart", func() error {
			if n := ackedCount(); n < before+60 {
				return fmt.Errorf("%d acknowledged", n)
			}
			return nil
		})
		wasController, _ := c.controllerID()
		start := time.Now()
		mu.Lock()
		down[b.id] = append(down[b.id], window{from: start})
		mu.Unlock()
		b.stop()
		stopped := time.Since(start)
		if id, _ := c.controllerID(); id == b.id {
			t.Errorf("broker %d stopped and is still controller", b.id)
		}
		b.restart()
		c.waitConverged()
		c.online(topic, parts)
		mu.Lock()
		down[b.id][len(down[b.id])-1].to = time.Now()
		mu.Unlock()
		took = append(took, fmt.Sprintf("broker %d (controller %v): stopped in %v, back in %v", b.id, wasController == b.id,
			stopped.Round(time.Millisecond), time.Since(start).Round(time.Millisecond)))
	}
	before := ackedCount()
	waitUntil(t, clusterWait, "records acknowledged after the last restart", func() error {
		if n := ackedCount(); n < before+60 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	close(stop)
	producer.Wait()
	monitor.Wait()
	if err := prodIdem.Flush(ctx(t)); err != nil {
		t.Fatalf("flush: %v", err)
	}
	gap, ctls := ctlw.longestGap(time.Now())
	for _, s := range took {
		t.Log(s)
	}
	t.Logf("controllers in turn %v; longest time without one %v; %d records acknowledged, %d failed", ctls, gap.Round(time.Millisecond), ackedCount(), failed)

	// Offline only while its leader was down, and never led by another.
	mu.Lock()
	seenOffline := map[int32]int{}
	for _, o := range offlines {
		seenOffline[o.part]++
		in := false
		for _, w := range down[led[o.part]] {
			in = in || w.holds(o.at)
		}
		if !in {
			t.Errorf("partition %d (leader %d) offline at %v according to broker %d, outside its leader's restarts %v",
				o.part, led[o.part], o.at.Format("15:04:05.000"), o.via, down[led[o.part]])
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}
	mu.Unlock()
	t.Logf("offline samples per partition %v (leaders %v, sampled every 25 ms)", seenOffline, led)
	if gap > time.Second {
		t.Errorf("no controller for %v", gap)
	}
	if len(ctls) < 2 {
		t.Errorf("controllers %v: the role never moved", ctls)
	}

	// Every acknowledged record once, in order; the consumer read them.
	var log map[int32][]int64
	{
		total := 0
		ackMu.Lock()
		for _, a := range acked {
			total += len(a)
		}
		ackMu.Unlock()
		offs := map[int32]kgo.Offset{}
		for p := range int32(parts) {
			offs[p] = kgo.NewOffset().AtStart()
		}
		ends, err := c.broker(1).admin(t).ListEndOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		cl := c.client(t, c.addrs(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
		log = map[int32][]int64{}
		for _, r := range pollN(t, cl, n) {
			v, _ := strconv.ParseInt(string(r.Value), 10, 64)
			log[r.Partition] = append(log[r.Partition], v)
		}
		if int(n) < total {
			t.Fatalf("the log holds %d records, %d were acknowledged", n, total)
		}
	}
	ackMu.Lock()
	for p := range int32(parts) {
		seen := map[int64]int{}
		for _, v := range log[p] {
			seen[v]++
		}
		for _, v := range acked[p] {
			if seen[v] != 1 {
				t.Errorf("partition %d: acknowledged record %d is in the log %d times", p, v, seen[v])
			}
		}
		if !slices.IsSorted(log[p]) {
			t.Errorf("partition %d: records out of the order produced", p)
		}
	}
	ackMu.Unlock()
	waitUntil(t, clusterWait, "the consumer to read every record", func() error {
		conMu.Lock()
		defer conMu.Unlock()
		for p := range int32(parts) {
			if len(consumed[p]) < len(log[p]) {
				return fmt.Errorf("partition %d: consumed %d of %d", p, len(consumed[p]), len(log[p]))
			}
		}
		return nil
	})
	consCancel()
	consumer.Wait()
	for p := range int32(parts) {
		for i, r := range consumed[p] {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: the consumer read offset %d as its record %d", p, r.Offset, i)
			}
		}
	}
}
