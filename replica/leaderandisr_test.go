package replica

// LeaderAndIsr and StopReplica as a broker applies them (Kafka's
// ReplicaManager.becomeLeaderOrFollower and stopReplicas): epoch fencing
// and the transitions between leader and follower.

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/metadata"
)

// TestLeaderAndIsrEpochFencing: a partition's state is replaced only by a
// newer leader epoch, or a newer partition epoch within the same leader
// epoch; anything else is answered STALE_CONTROLLER_EPOCH and changes
// nothing.
func TestLeaderAndIsrEpochFencing(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, answer := leaderAndIsr(t, m, state(1, 3, 2, []int32{1, 2, 3}, []int32{1, 2, 3}), nil)
		if answer != 0 {
			t.Fatalf("first LeaderAndIsr answered %d", answer)
		}
		mustProduce(t, m, p, 4)
		stale := kerr.StaleControllerEpoch.Code
		for _, tc := range []struct {
			name           string
			st             State
			code           int16
			leaderEpoch    int32
			partitionEpoch int32
			isr            []int32
		}{
			{"repeated", state(1, 3, 2, []int32{1, 2, 3}, []int32{1, 2}), stale, 3, 2, []int32{1, 2, 3}},
			{"older leader epoch", state(1, 2, 7, []int32{1, 2, 3}, []int32{1}), stale, 3, 2, []int32{1, 2, 3}},
			{"older partition epoch", state(1, 3, 1, []int32{1, 2, 3}, []int32{1}), stale, 3, 2, []int32{1, 2, 3}},
			{"newer partition epoch", state(1, 3, 3, []int32{1, 2, 3}, []int32{1, 3}), 0, 3, 3, []int32{1, 3}},
			{"newer leader epoch, older partition epoch", state(1, 4, 0, []int32{1, 2, 3}, []int32{1, 2}), 0, 4, 0, []int32{1, 2}},
		} {
			_, got := leaderAndIsr(t, m, tc.st, nil)
			st := p.State()
			if got != tc.code || st.LeaderEpoch != tc.leaderEpoch || st.PartitionEpoch != tc.partitionEpoch || !slices.Equal(st.ISR, tc.isr) {
				t.Errorf("%s: answered %d, state epoch %d/%d ISR %v; want %d, %d/%d %v", tc.name, got,
					st.LeaderEpoch, st.PartitionEpoch, st.ISR, tc.code, tc.leaderEpoch, tc.partitionEpoch, tc.isr)
			}
		}
		// Only the new leader epoch began an entry of the epoch cache.
		want := []logfile.EpochEntry{{Epoch: 3, StartOffset: 0}, {Epoch: 4, StartOffset: 4}}
		if got := p.Log.Epochs(); !slices.Equal(got, want) {
			t.Errorf("epoch cache %v, want %v", got, want)
		}
	})
}

// TestStaleControllerRefused: requests of a controller epoch older than one
// seen are refused whole (a zombie controller), whichever request carried
// the newer epoch.
func TestStaleControllerRefused(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		up := []PartitionUpdate{{Topic: testTopic, TopicID: topicID, State: state(1, 1, 0, []int32{1}, []int32{1})}}
		if _, _, err := m.ApplyLeaderAndIsr(5, up, nil, lookup(nil)); err != nil {
			t.Fatal(err)
		}
		newer := []PartitionUpdate{{Topic: testTopic, TopicID: topicID, State: state(1, 2, 0, []int32{1}, []int32{1})}}
		if _, _, err := m.ApplyLeaderAndIsr(4, newer, nil, lookup(nil)); !errors.Is(err, ErrStaleController) {
			t.Fatalf("LeaderAndIsr of controller epoch 4 after 5: %v", err)
		}
		if e := m.Partition(testTopic, 0).LeaderEpoch(); e != 1 {
			t.Fatalf("a stale controller's LeaderAndIsr applied: leader epoch %d", e)
		}
		if _, err := m.ApplyStopReplica(4, []StopReplica{{Topic: testTopic, LeaderEpoch: -1, Delete: true}}); !errors.Is(err, ErrStaleController) {
			t.Fatalf("StopReplica of controller epoch 4 after 5: %v", err)
		}
		if m.Partition(testTopic, 0) == nil {
			t.Fatal("a stale controller's StopReplica applied")
		}
		if err := m.ObserveControllerEpoch(4); !errors.Is(err, ErrStaleController) {
			t.Fatalf("UpdateMetadata of controller epoch 4 after 5: %v", err)
		}
		if err := m.ObserveControllerEpoch(6); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.ApplyLeaderAndIsr(5, newer, nil, lookup(nil)); !errors.Is(err, ErrStaleController) {
			t.Fatalf("LeaderAndIsr of controller epoch 5 after UpdateMetadata of 6: %v", err)
		}
		if _, _, err := m.ApplyLeaderAndIsr(6, newer, nil, lookup(nil)); err != nil {
			t.Fatalf("LeaderAndIsr of the newest controller epoch: %v", err)
		}
	})
}

// TestLeaderFollowerTransitions: a leader that becomes follower refuses
// produces and consumer fetches and starts fetching from the new leader;
// a follower that becomes leader stops fetching, starts a leader epoch at
// its log end and stamps it on what it appends.
func TestLeaderFollowerTransitions(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p, 3)
		if _, _, ok := fetchedFrom(m, p); ok {
			t.Fatal("a leader fetches its own partition")
		}

		leaderAndIsr(t, m, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		if p.IsLeader() {
			t.Fatal("still leader after LeaderAndIsr named broker 2")
		}
		if leader, epoch, ok := fetchedFrom(m, p); !ok || leader != 2 || epoch != 2 {
			t.Fatalf("follower fetches from %d at epoch %d (%v), want 2 at 2", leader, epoch, ok)
		}
		if _, err := produce(m, p, 1, 1); code(err) != kerr.NotLeaderForPartition.Code {
			t.Fatalf("produce to a follower: %v", err)
		}
		if fp, _ := fetch(t, m, fetchReq(-1, 0, -1, -1)); fp.ErrCode != kerr.NotLeaderForPartition.Code {
			t.Fatalf("consumer fetch from a follower answered %d", fp.ErrCode)
		}
		if err := checkEpoch(2, p.LeaderEpoch()); err != nil {
			t.Fatalf("a follower fences epochs without leading: %v", err)
		}

		leaderAndIsr(t, m, state(1, 3, 2, []int32{1, 2}, []int32{1}), nil)
		if !p.IsLeader() {
			t.Fatal("not leader after LeaderAndIsr named this broker")
		}
		if _, _, ok := fetchedFrom(m, p); ok {
			t.Fatal("the new leader still fetches")
		}
		mustProduce(t, m, p, 2)
		_, hs := batches(t, p.Log)
		if len(hs) != 2 || hs[0].LeaderEpoch != 1 || hs[1].LeaderEpoch != 3 || hs[1].BaseOffset != 3 {
			t.Fatalf("batches %+v: want epoch 1 at 0, epoch 3 at 3", hs)
		}
		want := []logfile.EpochEntry{{Epoch: 1, StartOffset: 0}, {Epoch: 3, StartOffset: 3}}
		if got := p.Log.Epochs(); !slices.Equal(got, want) {
			t.Fatalf("epoch cache %v, want %v", got, want)
		}
		// A leader with no leader at all (none live) neither leads nor fetches.
		leaderAndIsr(t, m, state(-1, 4, 3, []int32{1, 2}, []int32{1}), nil)
		if _, _, ok := fetchedFrom(m, p); ok || p.IsLeader() {
			t.Fatal("a partition without a leader is fetched or led")
		}
	})
}

// TestLeaderAndIsrHostsNewPartition: a partition not hosted yet is created
// with the topic's ID on disk; a topic ID other than the store's is
// refused for that partition alone.
func TestLeaderAndIsrHostsNewPartition(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		other := metadata.TopicID{9}
		errs, changes, err := m.ApplyLeaderAndIsr(1, []PartitionUpdate{
			{Topic: testTopic, TopicID: topicID, Partition: 1, State: state(1, 0, 0, []int32{1}, []int32{1}), IsNew: true},
			{Topic: "u", TopicID: other, Partition: 0, State: state(1, 0, 0, []int32{1}, []int32{1})},
		}, nil, lookup(map[string]string{"min.insync.replicas": "1", "retention.ms": "1000"}))
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != 0 || errs[1] != kerr.KafkaStorageError.Code {
			t.Fatalf("answers %v: want 0 for the new partition, KAFKA_STORAGE_ERROR for the ID mismatch", errs)
		}
		if len(changes) != 1 || changes[0] != (Change{Topic: testTopic, Partition: 1, Leader: true, Epoch: 0}) {
			t.Fatalf("changes %+v", changes)
		}
		ts := m.Topic(testTopic)
		if len(ts.Parts) != 2 || ts.Parts[0] != nil || ts.Parts[1] == nil {
			t.Fatalf("hosted partitions %v: want only partition 1", ts.Parts)
		}
		if ts.Config.RetentionMs != 1000 {
			t.Errorf("retention.ms %d: the stored override was not applied", ts.Config.RetentionMs)
		}
		data, err := os.ReadFile(filepath.Join(ts.Parts[1].Log.Dir(), "partition.metadata"))
		if err != nil || string(data) != "version: 0\ntopic_id: "+topicID.String()+"\n" {
			t.Errorf("partition.metadata %q (%v)", data, err)
		}
		if m.Topic("u") != nil {
			t.Error("the refused partition's topic is hosted")
		}
		if _, _, err := m.Lookup(testTopic, 0); code(err) != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("lookup of a partition not hosted: %v", err)
		}
	})
}

// TestStopReplica: a stopped partition is no longer served, its log kept
// or deleted as asked; a request older than the partition's leader epoch
// leaves it alone, unless the topic is being deleted (epoch -2).
func TestStopReplica(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p0, _ := leaderAndIsrOf(t, m, 0, state(1, 5, 0, []int32{1, 2}, []int32{1}), nil)
		p1, _ := leaderAndIsrOf(t, m, 1, state(2, 5, 0, []int32{1, 2}, []int32{1, 2}), nil)
		p2, _ := leaderAndIsrOf(t, m, 2, state(1, 5, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p0, 2)

		errs, err := m.ApplyStopReplica(1, []StopReplica{
			{Topic: testTopic, Partition: 0, LeaderEpoch: 4},
			{Topic: testTopic, Partition: 1, LeaderEpoch: 5},
			{Topic: testTopic, Partition: 2, LeaderEpoch: 6, Delete: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != kerr.FencedLeaderEpoch.Code || errs[1] != 0 || errs[2] != 0 {
			t.Fatalf("answers %v: want FENCED_LEADER_EPOCH, 0, 0", errs)
		}
		if m.Partition(testTopic, 0) != p0 || !p0.IsLeader() {
			t.Fatal("a StopReplica of an older leader epoch stopped the partition")
		}
		if m.Partition(testTopic, 1) != nil || p1.IsLeader() {
			t.Fatal("partition 1 still served")
		}
		if _, _, ok := fetchedFrom(m, p1); ok {
			t.Fatal("a stopped follower still fetches")
		}
		tp := func(i int32) logfile.TopicPartition { return logfile.TopicPartition{Topic: testTopic, Partition: i} }
		if m.Dir().Get(tp(1)) == nil {
			t.Fatal("StopReplica without delete deleted the log")
		}
		if m.Dir().Get(tp(2)) != nil {
			t.Fatal("StopReplica with delete kept the log")
		}
		if _, err := os.Stat(p2.Log.Dir()); !os.IsNotExist(err) {
			t.Fatalf("deleted partition's directory: %v", err)
		}

		// Topic deletion (-2) stops whatever the leader epoch; the topic
		// goes once no partition of it is hosted.
		if errs, err := m.ApplyStopReplica(1, []StopReplica{{Topic: testTopic, Partition: 0, LeaderEpoch: -2, Delete: true}}); err != nil || errs[0] != 0 {
			t.Fatalf("StopReplica for deletion: %v %v", errs, err)
		}
		if m.Topic(testTopic) != nil {
			t.Fatal("the topic is still served with none of its partitions")
		}
		if p0.IsLeader() {
			t.Fatal("a partition stopped for deletion still leads")
		}
		if _, _, err := m.Lookup(testTopic, 0); code(err) != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("lookup of a deleted topic: %v", err)
		}
	})
}

// TestLeaderAndIsrUpdates: both layouts of the request (partition states
// at the top before v2... v4, per topic with IDs from v5) flatten to the
// same updates.
func TestLeaderAndIsrUpdates(t *testing.T) {
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Partition, ps.Leader, ps.LeaderEpoch, ps.ZKVersion, ps.ControllerEpoch = testTopic, 2, 1, 7, 9, 3
	ps.Replicas, ps.ISR, ps.IsNew = []int32{1, 2}, []int32{1}, true
	old := kmsg.NewPtrLeaderAndISRRequest()
	old.PartitionStates = []kmsg.LeaderAndISRRequestTopicPartition{ps}
	v5 := kmsg.NewPtrLeaderAndISRRequest()
	tst := kmsg.NewLeaderAndISRRequestTopicState()
	tst.Topic, tst.TopicID = testTopic, topicID
	tst.PartitionStates = []kmsg.LeaderAndISRRequestTopicPartition{ps}
	v5.TopicStates = []kmsg.LeaderAndISRRequestTopicState{tst}

	want := PartitionUpdate{Topic: testTopic, Partition: 2, IsNew: true,
		State: State{Leader: 1, LeaderEpoch: 7, PartitionEpoch: 9, ControllerEpoch: 3, Replicas: []int32{1, 2}, ISR: []int32{1}}}
	same := func(a, b PartitionUpdate) bool {
		return a.Topic == b.Topic && a.TopicID == b.TopicID && a.Partition == b.Partition && a.IsNew == b.IsNew &&
			a.State.Leader == b.State.Leader && a.State.LeaderEpoch == b.State.LeaderEpoch &&
			a.State.PartitionEpoch == b.State.PartitionEpoch && a.State.ControllerEpoch == b.State.ControllerEpoch &&
			slices.Equal(a.State.Replicas, b.State.Replicas) && slices.Equal(a.State.ISR, b.State.ISR)
	}
	if got := LeaderAndIsrUpdates(old); len(got) != 1 || !same(got[0], want) {
		t.Errorf("v0-v4 layout: %+v, want %+v", got, want)
	}
	want.TopicID = topicID
	if got := LeaderAndIsrUpdates(v5); len(got) != 1 || !same(got[0], want) {
		t.Errorf("v5 layout: %+v, want %+v", got, want)
	}
}

// TestLeaderAndIsrStorageError: a partition whose log cannot be created
// (the disk is full) is answered KAFKA_STORAGE_ERROR and left unhosted,
// while the others of the request are hosted; once the disk has room, a
// later LeaderAndIsr hosts it (Kafka's ReplicaManager answers so, and the
// controller takes the replica offline until then).
func TestLeaderAndIsrStorageError(t *testing.T) {
	fsys := vfs.NewFaulty(vfs.OS)
	dir, err := logfile.OpenDir(t.TempDir(), logfile.DirOptions{FS: fsys, ManualHighWatermark: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(dir, Options{BrokerID: 1, Logger: quiet, Defaults: config.DefaultTopicConfig(), FetchSessionSlots: 10})
	t.Cleanup(func() { m.Close(); dir.Close() })
	// The directory and the segment file are made, the index is not:
	// the second attempt finds a partial directory.
	full := func(path string) bool {
		return strings.Contains(path, testTopic+"-1") && strings.HasSuffix(path, ".index")
	}
	fsys.Fail(vfs.OpWrite, full, syscall.ENOSPC)
	ups := []PartitionUpdate{
		{Topic: testTopic, TopicID: topicID, Partition: 0, State: state(1, 0, 0, []int32{1}, []int32{1}), IsNew: true},
		{Topic: testTopic, TopicID: topicID, Partition: 1, State: state(1, 0, 0, []int32{1}, []int32{1}), IsNew: true},
	}
	errs, changes, err := m.ApplyLeaderAndIsr(1, ups, nil, lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != 0 || errs[1] != kerr.KafkaStorageError.Code {
		t.Fatalf("answers %v: want 0 for partition 0, KAFKA_STORAGE_ERROR for partition 1", errs)
	}
	if len(changes) != 1 || m.Partition(testTopic, 0) == nil || m.Partition(testTopic, 1) != nil {
		t.Fatalf("changes %+v; hosted 0: %v, 1: %v", changes, m.Partition(testTopic, 0) != nil, m.Partition(testTopic, 1) != nil)
	}
	fsys.Heal()
	ups[1].State.LeaderEpoch = 1
	errs, _, err = m.ApplyLeaderAndIsr(1, ups[1:], nil, lookup(nil))
	if err != nil || errs[0] != 0 {
		t.Fatalf("with room on the disk: %v %v", errs, err)
	}
	p := m.Partition(testTopic, 1)
	if p == nil || !p.IsLeader() {
		t.Fatal("partition 1 is not hosted once the disk has room")
	}
	if _, err := m.Append(m.Topic(testTopic), p, 9, batch(2), time.Now().UnixMilli(), 1); err != nil {
		t.Fatalf("append to the partition created at the second attempt: %v", err)
	}
}
