package itest

// Consumer groups against the real broker: the classic rebalance protocol
// through franz-go (range, cooperative-sticky, static members), sarama,
// kafka-python, confluent-kafka and kcat -G; committed offsets across
// restarts and crashes; __consumer_offsets and its compaction; the samsa
// group commands. Session timeouts are a few seconds and the initial
// rebalance delay is off (startGroupBroker) so that the suite stays short.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startGroupBroker starts a broker for group tests: no initial rebalance
// delay, session timeouts down to 500 ms, a small __consumer_offsets.
func startGroupBroker(t testing.TB, overrides ...string) *broker {
	t.Helper()
	return startBroker(t, append([]string{
		"group.initial.rebalance.delay.ms=0",
		"group.min.session.timeout.ms=500",
		"offsets.topic.num.partitions=5",
	}, overrides...)...)
}

// groupClient returns a franz-go group consumer of topic with short
// timeouts; opts come last and win.
func (b *broker) groupClient(t testing.TB, group, topic string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return b.client(t, append([]kgo.Opt{
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(3 * time.Second),
		kgo.HeartbeatInterval(250 * time.Millisecond),
		kgo.RebalanceTimeout(5 * time.Second),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}, opts...)...)
}

// assignment is a group's partitions of one topic by member id.
type assignment map[string][]int32

// describeAssignment returns the group's state and its members'
// partitions of topic, through kadm's DescribeGroups.
func describeAssignment(t testing.TB, adm *kadm.Client, group, topic string) (string, assignment) {
	t.Helper()
	dg, err := adm.DescribeGroups(ctx(t), group)
	if err != nil {
		t.Fatalf("describe %s: %v", group, err)
	}
	g := dg[group]
	if g.Err != nil {
		t.Fatalf("describe %s: %v", group, g.Err)
	}
	out := assignment{}
	for _, m := range g.Members {
		ca, ok := m.Assigned.AsConsumer()
		if !ok {
			out[m.MemberID] = nil
			continue
		}
		var ps []int32
		for _, at := range ca.Topics {
			if at.Topic == topic {
				ps = append(ps, at.Partitions...)
			}
		}
		slices.Sort(ps)
		out[m.MemberID] = ps
	}
	return g.State, out
}

// splits reports whether the members split partitions 0..n-1 with no
// overlap and no gap, every member getting some when there are enough.
func (a assignment) splits(n int32, members int) bool {
	if len(a) != members {
		return false
	}
	seen := map[int32]bool{}
	for _, ps := range a {
		if len(ps) == 0 && int(n) >= members {
			return false
		}
		for _, p := range ps {
			if seen[p] || p < 0 || p >= n {
				return false
			}
			seen[p] = true
		}
	}
	return len(seen) == int(n)
}

// waitSplit polls DescribeGroups until the group is Stable with members
// members splitting the topic's n partitions, and returns the assignment.
func waitSplit(t testing.TB, adm *kadm.Client, group, topic string, n int32, members int, within time.Duration) assignment {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state, a := describeAssignment(t, adm, group, topic)
		if state == "Stable" && a.splits(n, members) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: after %v state %s, assignment %v; want %d members splitting %d partitions", group, within, state, a, members, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEmpty polls DescribeGroups until the group is Empty, with no
// members.
func waitEmpty(t testing.TB, adm *kadm.Client, group, topic string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state, members := describeAssignment(t, adm, group, topic)
		if state == "Empty" && len(members) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s after %v: state %s, members %v; want Empty", group, within, state, members)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// produceSpread produces n records round-robin over parts partitions,
// value "<prefix>-<i>", and returns the values by partition.
func produceSpread(t testing.TB, b *broker, topic string, parts int32, n int, prefix string) map[int32][]string {
	t.Helper()
	cl := b.client(t)
	out := map[int32][]string{}
	var recs []*kgo.Record
	for i := range n {
		p := int32(i) % parts
		v := fmt.Sprintf("%s-%d", prefix, i)
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
		out[p] = append(out[p], v)
	}
	produceSync(t, cl, recs...)
	return out
}

// consumed is what one member read.
type consumed struct {
	mu   sync.Mutex
	recs []*kgo.Record
}

// pollMembers polls every client until want records arrived in total,
// failing after 30 s; it returns each member's records.
func pollMembers(t testing.TB, cls []*kgo.Client, want int) []*consumed {
	t.Helper()
	out := make([]*consumed, len(cls))
	var total sync.WaitGroup
	var mu sync.Mutex
	got := 0
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, cl := range cls {
		out[i] = &consumed{}
		total.Add(1)
		go func() {
			defer total.Done()
			for c.Err() == nil {
				fs := cl.PollFetches(c)
				recs := fs.Records()
				out[i].mu.Lock()
				out[i].recs = append(out[i].recs, recs...)
				out[i].mu.Unlock()
				mu.Lock()
				got += len(recs)
				if got >= want {
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	total.Wait()
	if got < want {
		t.Fatalf("members consumed %d of %d records in 30s", got, want)
	}
	return out
}

// checkOnce checks that the members together read every produced record
// exactly once, each from the partitions assigned to it.
func checkOnce(t testing.TB, produced map[int32][]string, members []*consumed, assigned [][]int32) {
	t.Helper()
	seen := map[string]int{}
	for i, m := range members {
		for _, r := range m.recs {
			seen[string(r.Value)]++
			if assigned != nil && !slices.Contains(assigned[i], r.Partition) {
				t.Errorf("member %d read partition %d, assigned %v", i, r.Partition, assigned[i])
			}
		}
	}
	n := 0
	for _, vs := range produced {
		for _, v := range vs {
			n++
			if seen[v] != 1 {
				t.Errorf("record %s read %d times, want once", v, seen[v])
			}
		}
	}
	if len(seen) != n {
		t.Errorf("read %d distinct records, produced %d", len(seen), n)
	}
}

// memberPartitions returns, for each client, the partitions of topic
// the group assigned to it (from DescribeGroups, by the client's member id).
func memberPartitions(t testing.TB, cls []*kgo.Client, a assignment) [][]int32 {
	t.Helper()
	out := make([][]int32, len(cls))
	for i, cl := range cls {
		id, _ := cl.GroupMetadata()
		ps, ok := a[id]
		if !ok {
			t.Fatalf("client %d's member id %q is not in the group: %v", i, id, a)
		}
		out[i] = ps
	}
	return out
}

// TestGroupFranzGoSplit: two and three franz-go members, with the range
// and the cooperative-sticky balancer, split a topic's partitions with no
// overlap and no gap, and read every record once.
func TestGroupFranzGoSplit(t *testing.T) {
	b := startGroupBroker(t)
	const parts = 6
	for _, bal := range []struct {
		name string
		opt  kgo.GroupBalancer
	}{{"range", kgo.RangeBalancer()}, {"cooperative-sticky", kgo.CooperativeStickyBalancer()}} {
		for _, members := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d", bal.name, members), func(t *testing.T) {
				topic := fmt.Sprintf("split-%s-%d", bal.name, members)
				group := "g-" + topic
				b.newTopic(t, topic, parts, nil)
				var cls []*kgo.Client
				for range members {
					cls = append(cls, b.groupClient(t, group, topic, kgo.Balancers(bal.opt)))
				}
				// Joining happens in PollFetches: poll until the group settles.
				c, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for _, cl := range cls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for c.Err() == nil {
							cl.PollFetches(c)
						}
					}()
				}
				a := waitSplit(t, b.admin(t), group, topic, parts, members, 20*time.Second)
				cancel()
				wg.Wait()
				assigned := memberPartitions(t, cls, a)
				produced := produceSpread(t, b, topic, parts, 300, topic)
				got := pollMembers(t, cls, 300)
				checkOnce(t, produced, got, assigned)
				if state, again := describeAssignment(t, b.admin(t), group, topic); state != "Stable" || fmt.Sprint(again) != fmt.Sprint(a) {
					t.Fatalf("after consuming: state %s, assignment %v; want Stable and %v", state, again, a)
				}
			})
		}
	}
}

// pollUntil keeps clients polling (which is how franz-go members join and
// heartbeat) in the background until the returned stop is called.
func pollUntil(cls ...*kgo.Client) (stop func()) {
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, cl := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.Err() == nil {
				cl.PollFetches(c)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// startKcatMember runs kcat as a balanced consumer (-G) of topic in group
// with a short session timeout; the process is killed at the end of the
// test.
func startKcatMember(t *testing.T, b *broker, group, topic string) *exec.Cmd {
	t.Helper()
	kcat := needKcat(t)
	cmd := exec.Command(kcat, "-b", b.addr, "-G", group, "-q",
		"-X", "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=300",
		"-X", "partition.assignment.strategy=range", "-X", "auto.offset.reset=earliest", topic)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestGroupMemberLeavesOrDies: a member that leaves has its partitions
// reassigned at once; one whose process is killed (kcat -G, SIGKILL) has
// them reassigned once its session timeout (3 s) ends.
func TestGroupMemberLeavesOrDies(t *testing.T) {
	b := startGroupBroker(t)
	const topic, parts = "leave-die", 4
	b.newTopic(t, topic, parts, nil)
	adm := b.admin(t)

	survivor := b.groupClient(t, "g-leave", topic, kgo.Balancers(kgo.RangeBalancer()))
	leaver := b.groupClient(t, "g-leave", topic, kgo.Balancers(kgo.RangeBalancer()))
	stop := pollUntil(survivor, leaver)
	waitSplit(t, adm, "g-leave", topic, parts, 2, 20*time.Second)
	stop()
	stop = pollUntil(survivor)
	left := time.Now()
	leaver.Close() // LeaveGroup
	waitSplit(t, adm, "g-leave", topic, parts, 1, 10*time.Second)
	if el := time.Since(left); el > 2*time.Second {
		t.Errorf("partitions of a member that left reassigned after %v; want well within the 3s session timeout", el)
	}
	stop()

	alive := b.groupClient(t, "g-die", topic, kgo.Balancers(kgo.RangeBalancer()))
	stop = pollUntil(alive)
	defer stop()
	kc := startKcatMember(t, b, "g-die", topic)
	a := waitSplit(t, adm, "g-die", topic, parts, 2, 20*time.Second)
	id, _ := alive.GroupMetadata()
	if len(a[id]) == parts {
		t.Fatalf("franz-go member has every partition while kcat is in the group: %v", a)
	}
	var kcatID string
	for m := range a {
		if m != id {
			kcatID = m
		}
	}
	killed := time.Now()
	kc.Process.Kill()
	a = waitSplit(t, adm, "g-die", topic, parts, 1, 15*time.Second)
	el := time.Since(killed)
	if len(a[id]) != parts {
		t.Fatalf("after kcat died: %v; want the franz-go member %s to have all %d partitions", a, id, parts)
	}
	if el > 8*time.Second {
		t.Errorf("partitions of the killed member reassigned after %v; want about its 3s session timeout", el)
	}
	// Causality, not timing (a loaded machine delays kcat's heartbeats
	// before the kill as much as anything after it): the member went
	// because its session expired, not because its connection closed.
	expired := false
	for _, line := range strings.Split(b.log.String(), "\n") {
		if strings.Contains(line, "member session expired") && strings.Contains(line, kcatID) {
			expired = true
		}
	}
	if !expired {
		t.Errorf("the broker log does not show member %s's session expiring", kcatID)
	}
}

// TestGroupStaticRestart: a static member (group.instance.id) that
// restarts within its session timeout gets its partitions back without a
// rebalance: the other member's generation and partitions do not change.
func TestGroupStaticRestart(t *testing.T) {
	b := startGroupBroker(t)
	const topic, parts = "static", 4
	b.newTopic(t, topic, parts, nil)
	adm := b.admin(t)
	var revokes sync.Map
	static := func(inst string) *kgo.Client {
		return b.groupClient(t, "g-static", topic, kgo.InstanceID(inst), kgo.SessionTimeout(10*time.Second),
			kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {
				n, _ := revokes.LoadOrStore(inst, new(int))
				*n.(*int)++
			}))
	}
	a, other := static("a"), static("b")
	stopOther := pollUntil(other)
	defer stopOther()
	stopA := pollUntil(a)
	before := waitSplit(t, adm, "g-static", topic, parts, 2, 20*time.Second)
	stopA()
	aID, gen := a.GroupMetadata()
	oID, ogen := other.GroupMetadata()
	if gen != ogen {
		t.Fatalf("members disagree on the generation: %d and %d", gen, ogen)
	}
	a.Close() // a static member does not leave the group on close
	if state, now := describeAssignment(t, adm, "g-static", topic); state != "Stable" || len(now) != 2 {
		t.Fatalf("after the static member closed: %s %v; want it still in the group", state, now)
	}
	revokes.Delete("b")
	restarted := static("a")
	stopR := pollUntil(restarted)
	defer stopR()
	deadline := time.Now().Add(10 * time.Second)
	var after assignment
	for {
		var state string
		state, after = describeAssignment(t, adm, "g-static", topic)
		rID, _ := restarted.GroupMetadata()
		if state == "Stable" && rID != "" && rID != aID && len(after[rID]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted static member not back in 10s: %s %v", state, after)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rID, rgen := restarted.GroupMetadata()
	if rgen != gen {
		t.Errorf("restarted member has generation %d, want %d: a rebalance happened", rgen, gen)
	}
	if _, g := other.GroupMetadata(); g != gen {
		t.Errorf("the other member moved to generation %d from %d: a rebalance happened", g, gen)
	}
	if fmt.Sprint(after[rID]) != fmt.Sprint(before[aID]) || fmt.Sprint(after[oID]) != fmt.Sprint(before[oID]) {
		t.Errorf("assignment changed across the static restart: before %v, after %v", before, after)
	}
	if n, ok := revokes.Load("b"); ok {
		t.Errorf("the other member had partitions revoked %d times during the static restart", *n.(*int))
	}
}

// commitAt commits offsets for topic as a member of its group.
func commitAt(t testing.TB, cl *kgo.Client, topic string, offsets map[int32]int64) {
	t.Helper()
	m := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, o := range offsets {
		m[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var err error
	cl.CommitOffsetsSync(ctx(t), m, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, e error) {
		err = e
		if e == nil {
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if rp.ErrorCode != 0 {
						err = kerr.ErrorForCode(rp.ErrorCode)
					}
				}
			}
		}
	})
	if err != nil {
		t.Fatalf("commit %v: %v", offsets, err)
	}
}

// fetchCommitted returns a group's committed offsets of topic via kadm.
func fetchCommitted(t testing.TB, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := adm.FetchOffsets(ctx(t), group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Fatalf("fetch offsets of %s: %s/%d: %v", group, o.Topic, o.Partition, o.Err)
		}
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// firstOffsets consumes with a new member of group until every partition
// gave a record, and returns the first offset read of each.
func firstOffsets(t testing.TB, b *broker, group, topic string, parts int32) map[int32]int64 {
	t.Helper()
	cl := b.groupClient(t, group, topic, kgo.DisableAutoCommit())
	defer cl.Close()
	out := map[int32]int64{}
	c := ctx(t)
	for int32(len(out)) < parts {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("first offsets: only %v before the deadline", out)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if _, ok := out[r.Partition]; !ok {
				out[r.Partition] = r.Offset
			}
		})
	}
	return out
}

// TestGroupOffsetsSurviveRestart: committed offsets survive a clean
// restart and a SIGKILL of the broker; a consumer resumes exactly after
// the last commit; a member that was in the group when the broker died
// carries on in its generation.
func TestGroupOffsetsSurviveRestart(t *testing.T) {
	b := startGroupBroker(t)
	const topic, parts = "durable", 3
	b.newTopic(t, topic, parts, nil)
	produceSpread(t, b, topic, parts, 90, "d")
	adm := b.admin(t)

	m := b.groupClient(t, "g-durable", topic, kgo.DisableAutoCommit())
	stop := pollUntil(m)
	waitSplit(t, adm, "g-durable", topic, parts, 1, 20*time.Second)
	stop()
	want := map[int32]int64{0: 10, 1: 11, 2: 12}
	commitAt(t, m, topic, want)
	m.Close()

	b.stop()
	b.restart()
	if got := fetchCommitted(t, b.admin(t), "g-durable", topic); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("offsets after a clean restart: %v, want %v", got, want)
	}
	if got := firstOffsets(t, b, "g-durable", topic, parts); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed at %v after a clean restart, want %v", got, want)
	}

	m = b.groupClient(t, "g-durable", topic, kgo.DisableAutoCommit())
	stop = pollUntil(m)
	waitSplit(t, b.admin(t), "g-durable", topic, parts, 1, 20*time.Second)
	stop()
	memberID, gen := m.GroupMetadata()
	want = map[int32]int64{0: 20, 1: 21, 2: 22}
	commitAt(t, m, topic, want)
	b.kill()
	b.restart()
	if got := fetchCommitted(t, b.admin(t), "g-durable", topic); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("offsets after SIGKILL: %v, want %v", got, want)
	}
	// The member reconnects and its generation is still the group's.
	stop = pollUntil(m)
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, a := describeAssignment(t, b.admin(t), "g-durable", topic)
		if id, g := m.GroupMetadata(); state == "Stable" && id == memberID && g == gen && len(a[memberID]) == parts {
			break
		}
		if time.Now().After(deadline) {
			id, g := m.GroupMetadata()
			t.Fatalf("member after the broker restarted: %s gen %d (was %s gen %d), group %s %v", id, g, memberID, gen, state, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	m.Close()
	if got := firstOffsets(t, b, "g-durable", topic, parts); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed at %v after SIGKILL, want %v", got, want)
	}
	// Deleting the topic deletes the group's offsets of it, as in Kafka.
	if resps, err := b.admin(t).DeleteTopics(ctx(t), topic); err != nil || resps.Error() != nil {
		t.Fatalf("delete %s: %v %v", topic, err, resps.Error())
	}
	if got := fetchCommitted(t, b.admin(t), "g-durable", topic); len(got) != 0 {
		t.Fatalf("offsets of a deleted topic: %v", got)
	}
}

// pyGroupResult is testdata/pygroup.py's output.
type pyGroupResult struct {
	Members []struct {
		Assigned []int32 `json:"assigned"`
		Records  [][]any `json:"records"`
	} `json:"members"`
}

// runPyGroup runs testdata/pygroup.py: members Python consumers (client
// "kp" kafka-python, "ck" confluent-kafka) in group; once they split the
// partitions, ready runs (to produce), then they read total records,
// commit and exit.
func runPyGroup(t *testing.T, b *broker, client, group, topic string, members int, parts int32, total int, ready func()) pyGroupResult {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, python, filepath.Join("testdata", "pygroup.py"), client, b.addr, group, topic,
		strconv.Itoa(members), strconv.Itoa(int(parts)), strconv.Itoa(total))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	if !sc.Scan() || sc.Text() != "ready" {
		cmd.Wait()
		t.Fatalf("pygroup %s: no ready line (%q)\nstderr:\n%s", client, sc.Text(), stderr.String())
	}
	if ready != nil {
		ready()
	}
	var res pyGroupResult
	if !sc.Scan() {
		cmd.Wait()
		t.Fatalf("pygroup %s: no result\nstderr:\n%s", client, stderr.String())
	}
	if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
		t.Fatalf("pygroup %s: %v: %s", client, err, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pygroup %s: %v\nstderr:\n%s", client, err, stderr.String())
	}
	return res
}

// TestGroupPython: two kafka-python and two confluent-kafka members (with
// group_id) split a topic's partitions and read every record once; their
// commits hold, and a consumer of the group started later reads exactly
// the records produced after them.
func TestGroupPython(t *testing.T) {
	b := startGroupBroker(t)
	const parts = 4
	for _, client := range []struct{ name, module, pkg string }{
		{"kp", "kafka", "python3-kafka"}, {"ck", "confluent_kafka", "python3-confluent-kafka"},
	} {
		t.Run(client.name, func(t *testing.T) {
			needPython(t, client.module, client.pkg)
			topic, group := "py-"+client.name, "g-py-"+client.name
			b.newTopic(t, topic, parts, nil)
			var produced map[int32][]string
			res := runPyGroup(t, b, client.name, group, topic, 2, parts, 200, func() {
				produced = produceSpread(t, b, topic, parts, 200, topic)
			})
			var members []*consumed
			var assigned [][]int32
			seen := map[int32]bool{}
			for i, m := range res.Members {
				for _, p := range m.Assigned {
					if seen[p] {
						t.Fatalf("partition %d assigned twice: %+v", p, res.Members)
					}
					seen[p] = true
				}
				if len(m.Assigned) == 0 {
					t.Fatalf("member %d has no partition: %+v", i, res.Members)
				}
				assigned = append(assigned, m.Assigned)
				c := &consumed{}
				for _, r := range m.Records {
					c.recs = append(c.recs, &kgo.Record{Partition: int32(r[0].(float64)), Offset: int64(r[1].(float64)), Value: []byte(r[2].(string))})
				}
				members = append(members, c)
			}
			if len(seen) != parts {
				t.Fatalf("members were assigned %d of %d partitions", len(seen), parts)
			}
			checkOnce(t, produced, members, assigned)
			got := fetchCommitted(t, b.admin(t), group, topic)
			for p := range int32(parts) {
				if got[p] != int64(len(produced[p])) {
					t.Fatalf("committed offsets %v; want each partition's end, %d", got, len(produced[p]))
				}
			}
			// A later consumer of the group resumes after the commits.
			later := produceSpread(t, b, topic, parts, 20, "later")
			res = runPyGroup(t, b, client.name, group, topic, 0, parts, 20, nil)
			c := &consumed{}
			for _, r := range res.Members[0].Records {
				c.recs = append(c.recs, &kgo.Record{Partition: int32(r[0].(float64)), Value: []byte(r[2].(string))})
			}
			checkOnce(t, later, []*consumed{c}, nil)
		})
	}
}

// saramaHandler is a sarama consumer group member that records what it
// reads and marks it for commit.
type saramaHandler struct {
	mu      sync.Mutex
	claims  []int32
	got     *consumed
	onRecvd func()
}

func (h *saramaHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.claims = nil
	for _, ps := range s.Claims() {
		h.claims = append(h.claims, ps...)
	}
	slices.Sort(h.claims)
	return nil
}

func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.got.mu.Lock()
		h.got.recs = append(h.got.recs, &kgo.Record{Partition: m.Partition, Offset: m.Offset, Value: m.Value})
		h.got.mu.Unlock()
		s.MarkMessage(m, "")
		h.onRecvd()
	}
	return nil
}

// TestGroupSarama: two sarama consumer group members split a topic's
// partitions, read every record once and commit them.
func TestGroupSarama(t *testing.T) {
	b := startGroupBroker(t)
	const topic, group, parts = "sarama-group", "g-sarama", 4
	b.newTopic(t, topic, parts, nil)
	cfg := saramaConfig()
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cfg.Consumer.Group.Session.Timeout = 3 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 5 * time.Second
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond

	var total sync.WaitGroup
	total.Add(200)
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handlers []*saramaHandler
	var wg sync.WaitGroup
	for range 2 {
		cg, err := sarama.NewConsumerGroup([]string{b.addr}, group, cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := &saramaHandler{got: &consumed{}, onRecvd: total.Done}
		handlers = append(handlers, h)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cg.Close()
			for c.Err() == nil {
				if err := cg.Consume(c, []string{topic}, h); err != nil && c.Err() == nil {
					t.Logf("sarama consume: %v", err)
				}
			}
		}()
	}
	a := waitSplit(t, b.admin(t), group, topic, parts, 2, 20*time.Second)
	produced := produceSpread(t, b, topic, parts, 200, topic)
	done := make(chan struct{})
	go func() { total.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("sarama members did not read 200 records in 30s")
	}
	var members []*consumed
	var claims [][]int32
	for _, h := range handlers {
		members = append(members, h.got)
		h.mu.Lock()
		claims = append(claims, h.claims)
		h.mu.Unlock()
	}
	checkOnce(t, produced, members, claims)
	if state, again := describeAssignment(t, b.admin(t), group, topic); state != "Stable" || fmt.Sprint(again) != fmt.Sprint(a) {
		t.Fatalf("after consuming: %s %v; want Stable %v", state, again, a)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fetchCommitted(t, b.admin(t), group, topic)
		if len(got) == parts && got[0] == 50 && got[1] == 50 && got[2] == 50 && got[3] == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sarama's commits: %v; want 50 for each partition", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

// TestGroupKcat: kcat -G (librdkafka's balanced consumer) reads a topic as
// a group member, commits on exit, and a second run reads only what came
// after.
func TestGroupKcat(t *testing.T) {
	kcat := needKcat(t)
	b := startGroupBroker(t)
	const topic, group, parts = "kcat-group", "g-kcat", 3
	b.newTopic(t, topic, parts, nil)
	run := func(n int) map[string]int {
		out := runCmd(t, nil, kcat, "-b", b.addr, "-G", group, "-q", "-e", "-f", "%s\n",
			"-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=300", topic)
		seen := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				seen[l]++
			}
		}
		if len(seen) != n {
			t.Fatalf("kcat -G read %d distinct records, want %d", len(seen), n)
		}
		return seen
	}
	produced := produceSpread(t, b, topic, parts, 60, "first")
	seen := run(60)
	for _, vs := range produced {
		for _, v := range vs {
			if seen[v] != 1 {
				t.Fatalf("record %s read %d times", v, seen[v])
			}
		}
	}
	if got := fetchCommitted(t, b.admin(t), group, topic); got[0] != 20 || got[1] != 20 || got[2] != 20 {
		t.Fatalf("kcat's commits: %v; want 20 per partition", got)
	}
	produceSpread(t, b, topic, parts, 9, "second")
	for v := range run(9) {
		if !strings.HasPrefix(v, "second-") {
			t.Fatalf("second kcat run read %s, produced before its group's commit", v)
		}
	}
}

// tryGroupCLI runs a samsa client command against the broker and returns
// its stdout, stderr and error without failing the test.
func (b *broker) trySamsa(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	o, e, err := tryCmd(t, nil, samsaBin, append(args, "--brokers", b.addr)...)
	return string(o), string(e), err
}

// committedEquals polls the group's commits until they equal want.
func committedEquals(t *testing.T, adm *kadm.Client, group, topic string, want map[int32]int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fetchCommitted(t, adm, group, topic)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s commits %v, want %v", group, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGroupCLI: samsa consume --group reads as a member and commits what it
// printed; samsa group list, describe (members, assignments, offsets,
// lag), seek (earliest, latest, offset, time) and delete, beside kadm.
func TestGroupCLI(t *testing.T) {
	b := startGroupBroker(t)
	const topic, group, parts = "cli-group", "cg", 3
	b.newTopic(t, topic, parts, nil)
	produced := produceSpread(t, b, topic, parts, 30, "v")
	adm := b.admin(t)

	parse := func(out string) (*consumed, map[int32]int64) {
		c := &consumed{}
		next := map[int32]int64{}
		for _, f := range fields(out) {
			if len(f) != 3 {
				t.Fatalf("consume output line %q", f)
			}
			p, _ := strconv.Atoi(f[0])
			o, _ := strconv.ParseInt(f[1], 10, 64)
			c.recs = append(c.recs, &kgo.Record{Partition: int32(p), Offset: o, Value: []byte(f[2])})
			next[int32(p)] = max(next[int32(p)], o+1)
		}
		return c, next
	}
	first, next := parse(b.samsa(t, "", "consume", topic, "--group", group, "-n", "12", "--format", `%p %o %v\n`))
	if len(first.recs) != 12 {
		t.Fatalf("consume -n 12 printed %d records", len(first.recs))
	}
	committedEquals(t, adm, group, topic, next)
	rest, _ := parse(b.samsa(t, "", "consume", topic, "--group", group, "-e", "--format", `%p %o %v\n`))
	checkOnce(t, produced, []*consumed{first, rest}, nil)
	committedEquals(t, adm, group, topic, map[int32]int64{0: 10, 1: 10, 2: 10})

	if out := b.samsa(t, "", "group", "list"); !slices.ContainsFunc(fields(out), func(f []string) bool {
		return slices.Equal(f, []string{group, "Empty", "consumer"})
	}) {
		t.Fatalf("group list:\n%s", out)
	}
	produceSpread(t, b, topic, parts, 6, "more")
	desc := b.samsa(t, "", "group", "describe", group)
	for _, want := range [][]string{{"STATE", "Empty"}, {"TOTAL-LAG", "6"}, {topic, "1", "10", "0", "12", "2", "-"}} {
		if !slices.ContainsFunc(fields(desc), func(f []string) bool { return slices.Equal(f, want) }) {
			t.Fatalf("group describe lacks %v:\n%s", want, desc)
		}
	}

	// With a member: describe shows it; delete and seek refuse.
	m := b.groupClient(t, group, topic)
	stop := pollUntil(m)
	waitSplit(t, adm, group, topic, parts, 1, 20*time.Second)
	id, _ := m.GroupMetadata()
	desc = b.samsa(t, "", "group", "describe", group)
	if !strings.Contains(desc, id) || !strings.Contains(desc, topic+":0,1,2") || !slices.ContainsFunc(fields(desc), func(f []string) bool { return slices.Equal(f, []string{"STATE", "Stable"}) }) {
		t.Fatalf("describe with a member %s:\n%s", id, desc)
	}
	if _, _, err := b.trySamsa(t, "group", "delete", group); err == nil {
		t.Fatal("group delete of a group with a member succeeded")
	}
	if _, _, err := b.trySamsa(t, "group", "seek", group, "--to", "earliest"); err == nil {
		t.Fatal("group seek of a group with a member succeeded")
	}
	dg, err := adm.DeleteGroup(ctx(t), group)
	if !errors.Is(dg.Err, kerr.NonEmptyGroup) {
		t.Fatalf("kadm delete of a group with a member: %v %v; want NON_EMPTY_GROUP", err, dg.Err)
	}
	stop()
	m.Close()

	b.samsa(t, "", "group", "seek", group, "--to", "earliest")
	committedEquals(t, adm, group, topic, map[int32]int64{0: 0, 1: 0, 2: 0})
	b.samsa(t, "", "group", "seek", group, "--to", "latest")
	committedEquals(t, adm, group, topic, map[int32]int64{0: 12, 1: 12, 2: 12})
	b.samsa(t, "", "group", "seek", group, "--to", "offset:5", "--topics", topic, "--partitions", "1")
	committedEquals(t, adm, group, topic, map[int32]int64{0: 12, 1: 5, 2: 12})
	b.samsa(t, "", "group", "seek", group, "--to", "time:0")
	committedEquals(t, adm, group, topic, map[int32]int64{0: 0, 1: 0, 2: 0})
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	out := b.samsa(t, "", "group", "seek", group, "--to", "time:"+future, "--dry-run")
	if !slices.ContainsFunc(fields(out), func(f []string) bool { return slices.Equal(f, []string{topic, "2", "0", "12"}) }) {
		t.Fatalf("seek --dry-run:\n%s", out)
	}
	committedEquals(t, adm, group, topic, map[int32]int64{0: 0, 1: 0, 2: 0})

	// kadm sees the same group; delete it with samsa, then it is gone.
	lg, err := adm.ListGroups(ctx(t))
	if err != nil || lg[group].State != "Empty" || lg[group].ProtocolType != "consumer" {
		t.Fatalf("kadm list: %v %+v", err, lg)
	}
	b.samsa(t, "", "group", "delete", group)
	if _, _, err := b.trySamsa(t, "group", "describe", group); err == nil {
		t.Fatal("describe of a deleted group succeeded")
	}
	if lg, _ := adm.ListGroups(ctx(t)); len(lg) != 0 {
		t.Fatalf("groups after delete: %+v", lg)
	}
	if got := fetchCommitted(t, adm, group, topic); len(got) != 0 {
		t.Fatalf("offsets of the deleted group: %v", got)
	}
}

// offsetsRecord is a record of __consumer_offsets, decoded with kmsg's
// schemas of Kafka's keys and values.
type offsetsRecord struct {
	partition int32
	offset    int64
	key       string // "group/topic/partition" or "group"
	group     string
	commit    *kmsg.OffsetCommitValue  // nil for group records and tombstones
	meta      *kmsg.GroupMetadataValue // nil for offset records and tombstones
	tombstone bool
}

// readOffsetsTopic reads every record of __consumer_offsets from the log
// start to the end, decoding keys and values as Kafka's tools do.
func readOffsetsTopic(t testing.TB, b *broker) []offsetsRecord {
	t.Helper()
	adm := b.admin(t)
	ends, err := adm.ListEndOffsets(ctx(t), "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx(t), "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int32]kgo.Offset{}
	todo := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		parts[o.Partition] = kgo.NewOffset().AtStart()
		if s, _ := starts.Lookup(o.Topic, o.Partition); o.Offset > s.Offset {
			todo[o.Partition] = o.Offset
		}
	})
	cl := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"__consumer_offsets": parts}))
	var out []offsetsRecord
	c := ctx(t)
	for len(todo) > 0 {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("reading __consumer_offsets: partitions %v not read to their end", todo)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= todo[r.Partition] {
				delete(todo, r.Partition)
			}
			or := offsetsRecord{partition: r.Partition, offset: r.Offset, tombstone: r.Value == nil}
			switch v := int16(binary.BigEndian.Uint16(r.Key)); v {
			case 0, 1:
				var k kmsg.OffsetCommitKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("offset key at %d/%d: %v", r.Partition, r.Offset, err)
				}
				or.group, or.key = k.Group, fmt.Sprintf("%s/%s/%d", k.Group, k.Topic, k.Partition)
				if r.Value != nil {
					or.commit = new(kmsg.OffsetCommitValue)
					if err := or.commit.ReadFrom(r.Value); err != nil {
						t.Fatalf("offset value at %d/%d: %v", r.Partition, r.Offset, err)
					}
				}
			case 2:
				var k kmsg.GroupMetadataKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("group key at %d/%d: %v", r.Partition, r.Offset, err)
				}
				or.group, or.key = k.Group, k.Group
				if r.Value != nil {
					or.meta = new(kmsg.GroupMetadataValue)
					if err := or.meta.ReadFrom(r.Value); err != nil {
						t.Fatalf("group value at %d/%d: %v", r.Partition, r.Offset, err)
					}
				}
			default:
				t.Fatalf("key version %d at %d/%d", v, r.Partition, r.Offset)
			}
			out = append(out, or)
		})
	}
	return out
}

// activeBases returns the base offset of each __consumer_offsets
// partition's active (last) segment, from the files in the data directory.
func activeBases(t testing.TB, b *broker) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	dirs, _ := filepath.Glob(filepath.Join(b.dir, "__consumer_offsets-*"))
	for _, d := range dirs {
		p, err := strconv.Atoi(d[strings.LastIndexByte(d, '-')+1:])
		if err != nil {
			continue
		}
		logs, _ := filepath.Glob(filepath.Join(d, "*.log"))
		for _, l := range logs {
			base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(l), ".log"), 10, 64)
			if err == nil && base >= out[int32(p)] {
				out[int32(p)] = base
			}
		}
	}
	return out
}

// TestGroupOffsetsCompaction: after many commits __consumer_offsets is
// compacted to about one record per group, topic and partition (the
// active segment aside), in Kafka's key and value schemas; every group
// still fetches its latest offsets, after restarts too; deleting a group
// writes tombstones and it stays gone.
func TestGroupOffsetsCompaction(t *testing.T) {
	b := startGroupBroker(t, "offsets.topic.segment.bytes=4096", "log.cleaner.backoff.ms=200", "offsets.topic.num.partitions=2")
	const topic, parts, rounds = "compact-src", 4, 60
	b.newTopic(t, topic, parts, nil)
	adm := b.admin(t)
	groups := []string{"c0", "c1", "c2", "c3"}
	latest := map[string]map[int32]int64{}
	for r := range rounds {
		for _, g := range groups {
			off := kadm.Offsets{}
			latest[g] = map[int32]int64{}
			for p := range int32(parts) {
				o := int64(r*100) + int64(p)
				off.AddOffset(topic, p, o, -1)
				latest[g][p] = o
			}
			if resps, err := adm.CommitOffsets(ctx(t), g, off); err != nil || resps.Error() != nil {
				t.Fatalf("commit: %v %v", err, resps.Error())
			}
		}
	}
	// A member group: its group metadata records are compacted too.
	m := b.groupClient(t, "cm", topic, kgo.DisableAutoCommit())
	stop := pollUntil(m)
	waitSplit(t, adm, "cm", topic, parts, 1, 20*time.Second)
	stop()
	latest["cm"] = map[int32]int64{}
	for r := range rounds {
		offs := map[int32]int64{}
		for p := range int32(parts) {
			offs[p] = int64(r)
			latest["cm"][p] = int64(r)
		}
		commitAt(t, m, topic, offs)
	}
	written := rounds * parts * (len(groups) + 1)

	// Keys: one per group, topic and partition, plus cm's group record.
	keys := len(groups)*parts + parts + 1
	deadline := time.Now().Add(30 * time.Second)
	var recs []offsetsRecord
	for {
		recs = readOffsetsTopic(t, b)
		active := activeBases(t, b)
		below := map[string]int{}
		dups, inActive := 0, 0
		for _, r := range recs {
			if r.offset >= active[r.partition] {
				inActive++
				continue
			}
			if below[r.key]++; below[r.key] > 1 {
				dups++
			}
		}
		if dups == 0 && len(recs) <= keys+inActive && len(recs) < written/4 {
			t.Logf("__consumer_offsets: %d records after %d commits of %d keys (%d in active segments)", len(recs), written, keys, inActive)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("__consumer_offsets not compacted in 30s: %d records (%d in active segments, %d duplicate keys below them) for %d keys", len(recs), inActive, dups, keys)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The last record of every key holds the latest value.
	last := map[string]offsetsRecord{}
	for _, r := range recs {
		last[r.key] = r
	}
	for g, ps := range latest {
		for p, o := range ps {
			r, ok := last[fmt.Sprintf("%s/%s/%d", g, topic, p)]
			if !ok || r.commit == nil || r.commit.Offset != o || r.commit.Version != 3 {
				t.Fatalf("last record of %s/%d: %+v (commit %+v), want OffsetCommitValue v3 with offset %d", g, p, r, r.commit, o)
			}
		}
	}
	if r := last["cm"]; r.meta == nil || r.meta.Version != 3 || r.meta.ProtocolType != "consumer" || len(r.meta.Members) != 1 {
		t.Fatalf("cm's group record: %+v", r.meta)
	}
	check := func(what string) {
		t.Helper()
		adm := b.admin(t)
		for g, ps := range latest {
			if got := fetchCommitted(t, adm, g, topic); fmt.Sprint(got) != fmt.Sprint(ps) {
				t.Fatalf("%s: group %s fetches %v, want %v", what, g, got, ps)
			}
		}
	}
	check("after compaction")
	m.Close()
	b.stop()
	b.restart()
	check("after a clean restart")
	b.kill()
	b.restart()
	check("after SIGKILL")

	adm = b.admin(t)
	if dg, err := adm.DeleteGroup(ctx(t), "c3"); err != nil || dg.Err != nil {
		t.Fatalf("delete c3: %v %v", err, dg.Err)
	}
	tombs := map[string]bool{}
	for _, r := range readOffsetsTopic(t, b) {
		if r.group == "c3" && r.tombstone {
			tombs[r.key] = true
		}
	}
	if len(tombs) != parts+1 {
		t.Fatalf("tombstones of the deleted group: %v; want its %d offsets and its group key", tombs, parts)
	}
	delete(latest, "c3")
	b.stop()
	b.restart()
	check("after deleting c3 and restarting")
	if got := fetchCommitted(t, b.admin(t), "c3", topic); len(got) != 0 {
		t.Fatalf("deleted group's offsets after a restart: %v", got)
	}
	if lg, _ := b.admin(t).ListGroups(ctx(t)); len(lg) != len(latest) {
		t.Fatalf("groups after deleting c3: %v", lg)
	}
}

// rawJoin sends a JoinGroup at version v on its own connection (it may
// wait in a rebalance) and returns the response.
func rawJoin(t *testing.T, b *broker, v int16, group, member string, instance *string, session int32, meta []byte) *kmsg.JoinGroupResponse {
	t.Helper()
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(v)
	req.Group, req.MemberID, req.InstanceID = group, member, instance
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = session, 5000
	req.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", meta
	req.Protocols = append(req.Protocols, p)
	return b.dial(t).roundTrip(t, req).(*kmsg.JoinGroupResponse)
}

func wantErr(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var w int16
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// TestGroupProtocolVersions: every version of every group API, old and
// flexible, decodes as kmsg's schema exactly (raw requests, byte-exact
// responses), with Kafka's error codes for the cases clients rely on.
func TestGroupProtocolVersions(t *testing.T) {
	b := startGroupBroker(t)
	const topic = "raw-groups"
	b.newTopic(t, topic, 2, nil)
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{topic}
	md := meta.AppendTo(nil)
	conn := b.dial(t)
	host, port, _ := strings.Cut(b.addr, ":")

	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(v)
		req.CoordinatorKey = "raw"
		req.CoordinatorKeys = []string{"raw", "other"}
		resp := conn.roundTrip(t, req).(*kmsg.FindCoordinatorResponse)
		if v < 4 {
			if resp.ErrorCode != 0 || resp.Host != host || strconv.Itoa(int(resp.Port)) != port || resp.NodeID != 0 {
				t.Fatalf("FindCoordinator v%d: %+v", v, resp)
			}
		} else if len(resp.Coordinators) != 2 || resp.Coordinators[1].Key != "other" || resp.Coordinators[1].ErrorCode != 0 {
			t.Fatalf("FindCoordinator v4: %+v", resp.Coordinators)
		}
	}
	// Clients may not write __consumer_offsets.
	pr := b.client(t).ProduceSync(ctx(t), &kgo.Record{Topic: "__consumer_offsets", Value: []byte("x")})
	if err := pr.FirstErr(); !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("produce to __consumer_offsets: %v, want INVALID_TOPIC_EXCEPTION", err)
	}
	txn := kmsg.NewPtrFindCoordinatorRequest()
	txn.SetVersion(3)
	txn.CoordinatorType = 1
	// The first transaction key creates __transaction_state; until its
	// partition is loaded the answer is COORDINATOR_NOT_AVAILABLE, then
	// this broker.
	waitFor(t, "the transaction coordinator", 10*time.Second, func() bool {
		r := conn.roundTrip(t, txn).(*kmsg.FindCoordinatorResponse)
		switch {
		case r.ErrorCode == kerr.CoordinatorNotAvailable.Code:
			return false
		case r.ErrorCode != 0 || r.Host != host || strconv.Itoa(int(r.Port)) != port || r.NodeID != 0:
			t.Fatalf("FindCoordinator for a transactional id: %+v", r)
		}
		return true
	})

	for v := int16(0); v <= 9; v++ {
		group := fmt.Sprintf("raw-v%d", v)
		var inst *string
		if v >= 5 {
			inst = kmsg.StringPtr("i" + group)
		}
		wantErr(t, fmt.Sprintf("JoinGroup v%d with a 1ms session", v), rawJoin(t, b, v, group, "", nil, 1, md).ErrorCode, kerr.InvalidSessionTimeout)
		j := rawJoin(t, b, v, group, "", inst, 3000, md)
		if v >= 4 && inst == nil {
			wantErr(t, fmt.Sprintf("JoinGroup v%d without a member id", v), j.ErrorCode, kerr.MemberIDRequired)
			j = rawJoin(t, b, v, group, j.MemberID, nil, 3000, md)
		}
		if j.ErrorCode != 0 || j.Generation != 1 || j.LeaderID != j.MemberID || len(j.Members) != 1 || !bytes.Equal(j.Members[0].ProtocolMetadata, md) {
			t.Fatalf("JoinGroup v%d: %+v", v, j)
		}
		if v >= 7 && (j.ProtocolType == nil || *j.ProtocolType != "consumer") {
			t.Fatalf("JoinGroup v%d protocol type %v", v, j.ProtocolType)
		}
		sv := min(v, 5)
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.SetVersion(sv)
		sync.Group, sync.MemberID, sync.Generation, sync.InstanceID = group, j.MemberID, j.Generation, inst
		sa := kmsg.NewSyncGroupRequestGroupAssignment()
		sa.MemberID, sa.MemberAssignment = j.MemberID, []byte("assigned")
		sync.GroupAssignment = append(sync.GroupAssignment, sa)
		if sr := conn.roundTrip(t, sync).(*kmsg.SyncGroupResponse); sr.ErrorCode != 0 || string(sr.MemberAssignment) != "assigned" {
			t.Fatalf("SyncGroup v%d: %+v", sv, sr)
		}
		hv := min(v, 4)
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.SetVersion(hv)
		hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = group, j.MemberID, j.Generation, inst
		wantErr(t, fmt.Sprintf("Heartbeat v%d", hv), conn.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, nil)
		hb.Generation = 7
		wantErr(t, fmt.Sprintf("Heartbeat v%d of another generation", hv), conn.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.IllegalGeneration)
		hb.Generation, hb.MemberID = j.Generation, "stranger"
		want := kerr.UnknownMemberID
		if inst != nil {
			want = kerr.FencedInstanceID // the instance id belongs to another member id
		}
		wantErr(t, fmt.Sprintf("Heartbeat v%d of a stranger", hv), conn.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, want)

		cv := min(v, 8)
		oc := kmsg.NewPtrOffsetCommitRequest()
		oc.SetVersion(cv)
		oc.Group, oc.MemberID, oc.Generation, oc.InstanceID = group, j.MemberID, j.Generation, inst
		oc.RetentionTimeMillis = -1
		ot := kmsg.NewOffsetCommitRequestTopic()
		ot.Topic = topic
		op := kmsg.NewOffsetCommitRequestTopicPartition()
		op.Partition, op.Offset, op.Metadata = 1, int64(100+v), kmsg.StringPtr("md")
		ot.Partitions = append(ot.Partitions, op)
		oc.Topics = append(oc.Topics, ot)
		wantCode := int16(0)
		if cv == 0 {
			wantCode = kerr.UnknownMemberID.Code // v0 has no member fields: a simple commit to a group with members
		}
		if r := conn.roundTrip(t, oc).(*kmsg.OffsetCommitResponse); r.Topics[0].Partitions[0].ErrorCode != wantCode {
			t.Fatalf("OffsetCommit v%d: %v", cv, kerr.ErrorForCode(r.Topics[0].Partitions[0].ErrorCode))
		}

		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.SetVersion(min(v, 5))
		lv.Group, lv.MemberID = group, j.MemberID
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID, lm.InstanceID = j.MemberID, inst
		lv.Members = append(lv.Members, lm)
		if r := conn.roundTrip(t, lv).(*kmsg.LeaveGroupResponse); r.ErrorCode != 0 || (lv.Version >= 3 && (len(r.Members) != 1 || r.Members[0].ErrorCode != 0)) {
			t.Fatalf("LeaveGroup v%d: %+v", lv.Version, r)
		}
	}

	// OffsetFetch at every version reads back the commits made above.
	for v := int16(0); v <= 8; v++ {
		group := fmt.Sprintf("raw-v%d", max(v, 1))
		req := kmsg.NewPtrOffsetFetchRequest()
		req.SetVersion(v)
		req.Group = group
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0, 1}
		req.Topics = append(req.Topics, rt)
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = group
		rg2 := kmsg.NewOffsetFetchRequestGroup()
		rg2.Group = "raw-v9"
		req.Groups = append(req.Groups, rg, rg2)
		resp := conn.roundTrip(t, req).(*kmsg.OffsetFetchResponse)
		if v < 8 {
			ps := resp.Topics[0].Partitions
			if resp.ErrorCode != 0 || ps[0].Offset != -1 || ps[1].Offset != int64(100+max(v, 1)) {
				t.Fatalf("OffsetFetch v%d: %+v", v, resp)
			}
			continue
		}
		if len(resp.Groups) != 2 || resp.Groups[1].Topics[0].Partitions[0].Offset != 109 || resp.Groups[0].Topics[0].Partitions[0].Offset != 108 {
			t.Fatalf("OffsetFetch v8 (null topics: all): %+v", resp.Groups)
		}
	}

	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrListGroupsRequest()
		req.SetVersion(v)
		resp := conn.roundTrip(t, req).(*kmsg.ListGroupsResponse)
		if resp.ErrorCode != 0 || len(resp.Groups) != 10 {
			t.Fatalf("ListGroups v%d: %+v", v, resp)
		}
		if v >= 4 && resp.Groups[0].GroupState != "Empty" {
			t.Fatalf("ListGroups v%d: state %q", v, resp.Groups[0].GroupState)
		}
		dg := kmsg.NewPtrDescribeGroupsRequest()
		dg.SetVersion(v)
		dg.Groups = []string{"raw-v3", "nobody"}
		dr := conn.roundTrip(t, dg).(*kmsg.DescribeGroupsResponse)
		if dr.Groups[0].State != "Empty" || dr.Groups[0].ProtocolType != "consumer" || dr.Groups[1].State != "Dead" || dr.Groups[1].ErrorCode != 0 {
			t.Fatalf("DescribeGroups v%d: %+v", v, dr.Groups)
		}
	}
	filter := kmsg.NewPtrListGroupsRequest()
	filter.SetVersion(4)
	filter.StatesFilter = []string{"stable"}
	if r := conn.roundTrip(t, filter).(*kmsg.ListGroupsResponse); len(r.Groups) != 0 {
		t.Fatalf("ListGroups of stable groups: %+v", r.Groups)
	}

	// A stable group with a member: DeleteGroups refuses; OffsetDelete
	// keeps the subscribed topic; REBALANCE_IN_PROGRESS reaches the member
	// when another joins.
	j := rawJoin(t, b, 3, "busy", "", nil, 3000, md)
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.SetVersion(3)
	sync.Group, sync.MemberID, sync.Generation = "busy", j.MemberID, j.Generation
	conn.roundTrip(t, sync)
	for v := int16(0); v <= 2; v++ {
		dg := kmsg.NewPtrDeleteGroupsRequest()
		dg.SetVersion(v)
		dg.Groups = []string{"busy", "raw-v1", "nobody"}
		r := conn.roundTrip(t, dg).(*kmsg.DeleteGroupsResponse)
		wantDel := kerr.GroupIDNotFound
		if v == 0 {
			wantDel = nil
		}
		wantErr(t, "delete busy", r.Groups[0].ErrorCode, kerr.NonEmptyGroup)
		wantErr(t, fmt.Sprintf("DeleteGroups v%d of raw-v1", v), r.Groups[1].ErrorCode, wantDel)
		wantErr(t, "delete nobody", r.Groups[2].ErrorCode, kerr.GroupIDNotFound)
	}
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "busy"
	odt := kmsg.NewOffsetDeleteRequestTopic()
	odt.Topic = topic
	odt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
	od.Topics = append(od.Topics, odt)
	if r := conn.roundTrip(t, od).(*kmsg.OffsetDeleteResponse); r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("OffsetDelete of a subscribed topic: %+v", r)
	}
	other := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { other <- rawJoin(t, b, 3, "busy", "", nil, 3000, md) }()
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.SetVersion(2)
	hb.Group, hb.MemberID, hb.Generation = "busy", j.MemberID, j.Generation
	deadline := time.Now().Add(10 * time.Second)
	for conn.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode != kerr.RebalanceInProgress.Code {
		if time.Now().After(deadline) {
			t.Fatal("no REBALANCE_IN_PROGRESS for the member after another joined")
		}
		time.Sleep(20 * time.Millisecond)
	}
	again := rawJoin(t, b, 3, "busy", j.MemberID, nil, 3000, md)
	o := <-other
	if again.ErrorCode != 0 || o.ErrorCode != 0 || again.Generation != 2 || o.Generation != 2 {
		t.Fatalf("rejoin: %+v / %+v", again, o)
	}
	old := kmsg.NewPtrSyncGroupRequest()
	old.SetVersion(3)
	old.Group, old.MemberID, old.Generation = "busy", j.MemberID, 1
	wantErr(t, "SyncGroup of the old generation", conn.roundTrip(t, old).(*kmsg.SyncGroupResponse).ErrorCode, kerr.IllegalGeneration)
}

// TestCompactedTopic: a user topic with cleanup.policy=compact is
// compacted by the broker's cleaner like __consumer_offsets: franz-go and
// kcat read one record per key below the active segment, each key's
// latest value, with offsets unchanged.
func TestCompactedTopic(t *testing.T) {
	kcat := needKcat(t)
	b := startGroupBroker(t, "log.cleaner.backoff.ms=200")
	const topic = "compacted"
	b.newTopic(t, topic, 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact"), "segment.bytes": kmsg.StringPtr("2048")})
	cl := b.client(t)
	const keys, rounds = 10, 50
	latest := map[string]int64{}
	for r := range rounds {
		var recs []*kgo.Record
		for k := range keys {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", k)), Value: []byte(fmt.Sprintf("r%d", r))})
		}
		for _, rec := range produceSync(t, cl, recs...) {
			latest[string(rec.Key)] = rec.Offset
		}
	}
	end := int64(keys * rounds)
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs := b.consumeCompacted(t, topic, end)
		active := int64(0)
		logs, _ := filepath.Glob(filepath.Join(b.dir, topic+"-0", "*.log"))
		for _, l := range logs {
			if base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(l), ".log"), 10, 64); err == nil {
				active = max(active, base)
			}
		}
		seen, dups := map[string]bool{}, 0
		for _, r := range recs {
			if r.Offset < active {
				if seen[string(r.Key)] {
					dups++
				}
				seen[string(r.Key)] = true
			}
		}
		if dups == 0 && len(recs) < int(end)/2 {
			last := map[string]*kgo.Record{}
			for _, r := range recs {
				last[string(r.Key)] = r
			}
			for k, off := range latest {
				if r := last[k]; r == nil || r.Offset != off || string(r.Value) != fmt.Sprintf("r%d", rounds-1) {
					t.Fatalf("key %s: %+v, want offset %d value r%d", k, r, off, rounds-1)
				}
			}
			out := runCmd(t, nil, kcat, "-C", "-b", b.addr, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o %k %s\n")
			if rows := fields(string(out)); len(rows) != len(recs) || rows[len(rows)-1][0] != strconv.FormatInt(end-1, 10) {
				t.Fatalf("kcat read %d records (last %v), franz-go %d", len(rows), rows[len(rows)-1], len(recs))
			}
			needPython(t, "kafka", "python3-kafka")
			var py []map[string]any
			if err := json.Unmarshal(runPy(t, nil, "kp-consume", b.addr, topic, "1", strconv.Itoa(len(recs))), &py); err != nil {
				t.Fatal(err)
			}
			if len(py) != len(recs) || py[len(py)-1]["value"] != fmt.Sprintf("r%d", rounds-1) {
				t.Fatalf("kafka-python read %d records (want %d), last %v", len(py), len(recs), py[len(py)-1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic not compacted in 30s: %d records of %d, %d duplicate keys below the active segment at %d", len(recs), end, dups, active)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// consumeCompacted reads partition 0 of topic from the start until the
// record at end-1, with gaps allowed.
func (b *broker) consumeCompacted(t *testing.T, topic string, end int64) []*kgo.Record {
	t.Helper()
	cl := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	defer cl.Close()
	var out []*kgo.Record
	c := ctx(t)
	for len(out) == 0 || out[len(out)-1].Offset < end-1 {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("read %d records of compacted %s before the deadline", len(out), topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}
