package controller

// Topic deletion (Kafka's TopicDeletionManager, ControllerChannelManagerTest
// testUpdateMetadataRequestDuringTopicDeletion,
// testStopReplicaRequestsWhileTopicDeletionStarted): brokers learn the
// topic is going (leader -2), every replica is stopped and deleted, and
// the znodes go only once every replica has acknowledged.

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk/zkdata"
)

func (h *harness) topicZnodes(topic string) []string {
	var out []string
	for _, p := range []string{zkdata.TopicPath(topic), zkdata.TopicConfigPath(topic), zkdata.DeleteTopicPath(topic)} {
		out = append(out, h.store.paths(p)...)
	}
	return out
}

// TestTopicDeletion: UpdateMetadata with leader -2 to every broker,
// StopReplica with deletion to every replica; a replica that answers an
// error holds the znodes until it is asked again (when it restarts) and
// succeeds.
func TestTopicDeletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.topic("t", 4, []int32{1, 2}, []int32{2, 3})
		h.net.handle(3, func(_ context.Context, req kmsg.Request) (kmsg.Response, error) {
			return answer(req, kerr.KafkaStorageError.Code), nil
		})
		h.store.markForDeletion("t")
		synctest.Wait()
		um := "UpdateMetadata ce=1 live[1,2,3,4] t-0:L-2/e0/[1,2]/v0 r[1,2] t-1:L-2/e0/[2,3]/v0 r[2,3]"
		wantRequests(t, "deletion", byBroker(h.net.take(t, 4)), map[int32][]string{
			1: {um, "StopReplica ce=1 delete t-[0]"},
			2: {um, "StopReplica ce=1 delete t-[0,1]"},
			3: {um, "StopReplica ce=1 delete t-[1]"},
			4: {um},
		})
		if len(h.topicZnodes("t")) == 0 {
			t.Fatal("the topic's znodes are gone though broker 3 failed to delete its replica")
		}

		h.net.handle(3, nil)
		h.bounce(3)
		synctest.Wait()
		got := byBroker(h.net.take(t, 4))
		if !slices.Contains(got[3], "StopReplica ce=1 delete t-[1]") {
			t.Errorf("the restarted broker got %q, want StopReplica of t-1 again", got[3])
		}
		if slices.ContainsFunc(got[3], func(s string) bool { return s[:12] == "LeaderAndIsr" }) {
			t.Errorf("the restarted broker was told to host the topic being deleted: %q", got[3])
		}
		if z := h.topicZnodes("t"); len(z) != 0 {
			t.Errorf("znodes left after every replica was deleted: %v", z)
		}
		res, err := h.ctls[4].ElectLeaders(context.Background(), 0, map[string][]int32{"t": {0}})
		if err != nil || res["t"][0] != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("the controller still knows the deleted topic: %v, %v", res, err)
		}
	})
}

// TestTopicDeletionWaitsForDeadReplica: a replica on a dead broker is
// deleted when the broker returns; until then the znodes stay.
func TestTopicDeletionWaitsForDeadReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.topic("t", 4, []int32{1, 3})
		h.kill(3)
		synctest.Wait()
		h.net.take(t, 4)
		h.store.markForDeletion("t")
		synctest.Wait()
		wantRequests(t, "deletion", only("StopReplica", byBroker(h.net.take(t, 4))), map[int32][]string{
			1: {"StopReplica ce=1 delete t-[0]"},
		})
		if len(h.topicZnodes("t")) == 0 {
			t.Fatal("the znodes are gone while a replica is on a dead broker")
		}
		h.register(3)
		synctest.Wait()
		wantRequests(t, "broker back", only("StopReplica", byBroker(h.net.take(t, 4))), map[int32][]string{
			3: {"StopReplica ce=1 delete t-[0]"},
		})
		if z := h.topicZnodes("t"); len(z) != 0 {
			t.Errorf("znodes left: %v", z)
		}
	})
}

// TestTopicDeletionDisabled: with delete.topic.enable=false the marker is
// removed and the topic stays.
func TestTopicDeletionDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.DeleteTopicEnable = false })
		h.boot(1, 2)
		h.topic("t", 1, []int32{1, 2})
		h.store.markForDeletion("t")
		synctest.Wait()
		if h.store.exists(zkdata.DeleteTopicPath("t")) {
			t.Error("the deletion marker stays")
		}
		if !h.store.exists(zkdata.TopicPath("t")) {
			t.Error("the topic was deleted")
		}
		wantRequests(t, "disabled deletion", byBroker(h.net.take(t, 1)), nil)
	})
}

// TestDeletionMarkerOfUnknownTopic: a marker naming no topic is removed.
func TestDeletionMarkerOfUnknownTopic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1)
		h.store.markForDeletion("ghost")
		synctest.Wait()
		if h.store.exists(zkdata.DeleteTopicPath("ghost")) {
			t.Error("the marker of an unknown topic stays")
		}
	})
}

// TestDeletionResumedByNewController: a new controller finds the marker
// and finishes the deletion.
func TestDeletionResumedByNewController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2)
		h.topic("t", 4, []int32{1, 2})
		h.kill(4)
		synctest.Wait()
		h.store.markForDeletion("t")
		h.startController(1)
		synctest.Wait()
		if z := h.topicZnodes("t"); len(z) != 0 {
			t.Errorf("znodes left: %v", z)
		}
	})
}

// TestTopicRecreatedAtOnce: a topic created again right after its deletion
// finished, before the controller's watch of /brokers/topics looked again,
// leaves the topic list as the watch last delivered it; the controller
// must still see the new topic and give it states.
func TestTopicRecreatedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2)
		h.topic("t", 1, []int32{1, 2})
		var once sync.Once
		h.store.afterDeleteTopic = func(topic string) {
			once.Do(func() { h.store.createTopicLocked(topic, nil, []int32{2, 1}) })
		}
		h.store.markForDeletion("t")
		synctest.Wait()
		h.wantState("t", 0, 2, 0, []int32{2, 1}, 0)
	})
}
