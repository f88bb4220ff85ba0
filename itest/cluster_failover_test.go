package itest

// Failures under a three-broker cluster, RF = 1: the controller or a
// broker killed, a broker paused past its ZooKeeper session, ZooKeeper
// restarted, a rolling restart. A ledger of acknowledged records checks
// that none is lost.

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
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

// check reads the topic from the start through every running broker and
// compares each partition with the ledger, record for record.
func (l ledger) check(t testing.TB, c *kcluster, topic string, parts int32) {
	t.Helper()
	offs := map[int32]kgo.Offset{}
	total := 0
	for p := range parts {
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
	for p := range parts {
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

// TestClusterBrokerFailure: SIGKILL of a broker that is not the
// controller. Its partitions (RF = 1) go offline: every survivor's
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
	l.check(t, c, topic, parts)
}
