package kafkaapi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
)

func stopReplicaRequest(brokerEpoch int64, ctlEpoch int32, topic string, partition, leaderEpoch int32, del bool) *kmsg.StopReplicaRequest {
	req := kmsg.NewPtrStopReplicaRequest()
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, ctlEpoch, brokerEpoch
	rt := kmsg.NewStopReplicaRequestTopic()
	rt.Topic = topic
	rt.PartitionStates = []kmsg.StopReplicaRequestTopicPartitionState{{Partition: partition, LeaderEpoch: leaderEpoch, Delete: del}}
	req.Topics = append(req.Topics, rt)
	return req
}

func updateMetadataRequest(brokerEpoch int64, ctlEpoch int32) *kmsg.UpdateMetadataRequest {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, ctlEpoch, brokerEpoch
	for _, id := range []int32{0, 1} {
		br := kmsg.NewUpdateMetadataRequestLiveBroker()
		br.ID = id
		br.Endpoints = []kmsg.UpdateMetadataRequestLiveBrokerEndpoint{{Port: 9092 + id, Host: "broker", ListenerName: "PLAINTEXT", SecurityProtocol: 0}}
		req.LiveBrokers = append(req.LiveBrokers, br)
	}
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic = "t"
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Topic, ps.Partition, ps.Leader, ps.LeaderEpoch, ps.Replicas, ps.ISR = "t", 0, 1, 3, []int32{1, 0}, []int32{1, 0}
	ts.PartitionStates = append(ts.PartitionStates, ps)
	req.TopicStates = append(req.TopicStates, ts)
	return req
}

func electLeadersRequest(electionType int8, topic string, partitions ...int32) *kmsg.ElectLeadersRequest {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = electionType
	req.Topics = []kmsg.ElectLeadersRequestTopic{{Topic: topic, Partitions: partitions}}
	return req
}

// TestControllerAPIsStandalone: a standalone broker is its own controller
// and leads everything: it refuses every request of the controller or for
// it with CLUSTER_AUTHORIZATION_FAILED, top-level and per partition.
func TestControllerAPIsStandalone(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	want := kerr.ClusterAuthorizationFailed

	lai := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(-1, "t", 0, 1, 9, []int32{1}, []int32{1}))
	wantCode(t, "LeaderAndIsr", lai.ErrorCode, want)
	wantCode(t, "LeaderAndIsr partition", lai.Topics[0].Partitions[0].ErrorCode, want)
	lai4 := do[*kmsg.LeaderAndISRResponse](b, 4, leaderAndIsrRequest(-1, "t", 0, 1, 9, []int32{1}, []int32{1}))
	wantCode(t, "LeaderAndIsr v4 partition", lai4.Partitions[0].ErrorCode, want)

	sr := do[*kmsg.StopReplicaResponse](b, 3, stopReplicaRequest(-1, 1, "t", 0, -2, true))
	wantCode(t, "StopReplica", sr.ErrorCode, want)
	wantCode(t, "StopReplica partition", sr.Partitions[0].ErrorCode, want)
	wantCode(t, "UpdateMetadata", do[*kmsg.UpdateMetadataResponse](b, 7, updateMetadataRequest(-1, 1)).ErrorCode, want)
	cs := kmsg.NewPtrControlledShutdownRequest()
	wantCode(t, "ControlledShutdown", do[*kmsg.ControlledShutdownResponse](b, 3, cs).ErrorCode, want)
	wantCode(t, "AlterPartition", do[*kmsg.AlterPartitionResponse](b, 1, kmsg.NewPtrAlterPartitionRequest()).ErrorCode, want)
	el := do[*kmsg.ElectLeadersResponse](b, 2, electLeadersRequest(0, "t", 0))
	wantCode(t, "ElectLeaders", el.ErrorCode, want)
	wantCode(t, "ElectLeaders partition", el.Topics[0].Partitions[0].ErrorCode, want)
	el0 := do[*kmsg.ElectLeadersResponse](b, 0, electLeadersRequest(0, "t", 0))
	wantCode(t, "ElectLeaders v0 partition", el0.Topics[0].Partitions[0].ErrorCode, want)
	wantCode(t, "AlterPartitionReassignments", do[*kmsg.AlterPartitionAssignmentsResponse](b, 0, kmsg.NewPtrAlterPartitionAssignmentsRequest()).ErrorCode, want)
	wantCode(t, "ListPartitionReassignments", do[*kmsg.ListPartitionReassignmentsResponse](b, 0, kmsg.NewPtrListPartitionReassignmentsRequest()).ErrorCode, want)

	// Nothing changed: this broker still leads t-0 at epoch 0.
	if p := b.rm.Partition("t", 0); p == nil || !p.IsLeader() || p.LeaderEpoch() != 0 {
		t.Errorf("t-0 after the refused requests: %+v", p)
	}
}

// TestControllerRequestFencing: the broker epoch (KIP-380) and the
// controller epoch fence LeaderAndIsr, StopReplica and UpdateMetadata: a
// request meant for an earlier incarnation of this broker is
// STALE_BROKER_EPOCH (-1, unknown, passes; a newer one passes too, as in
// Kafka), one from a controller older than one already heard
// STALE_CONTROLLER_EPOCH; per partition, a leader epoch already applied is
// STALE_CONTROLLER_EPOCH and StopReplica of an older one FENCED_LEADER_EPOCH.
func TestControllerRequestFencing(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 1}
	b := newClusterBroker(t, cl, nil)

	for i, c := range []struct {
		name        string
		brokerEpoch int64
		want        *kerr.Error
	}{
		{"an older broker epoch", 99, kerr.StaleBrokerEpoch},
		{"an unknown broker epoch", -1, nil},
		{"the broker epoch", 100, nil},
		{"a newer broker epoch", 101, nil},
	} {
		// A leader epoch newer at each step, so that the partition applies.
		epoch := int32(i + 1)
		lai := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(c.brokerEpoch, "t", 0, 0, epoch, []int32{0}, []int32{0}))
		wantCode(t, "LeaderAndIsr, "+c.name, lai.ErrorCode, c.want)
		um := do[*kmsg.UpdateMetadataResponse](b, 7, updateMetadataRequest(c.brokerEpoch, controllerEpoch))
		wantCode(t, "UpdateMetadata, "+c.name, um.ErrorCode, c.want)
		sr := do[*kmsg.StopReplicaResponse](b, 3, stopReplicaRequest(c.brokerEpoch, controllerEpoch, "other", 0, -1, false))
		wantCode(t, "StopReplica, "+c.name, sr.ErrorCode, c.want)
		if c.want != nil && (len(lai.Topics) != 1 || lai.Topics[0].Partitions[0].ErrorCode != c.want.Code) {
			t.Errorf("%s: LeaderAndIsr partitions %+v", c.name, lai.Topics)
		}
	}
	p := b.rm.Partition("t", 0)
	if p == nil || !p.IsLeader() || p.LeaderEpoch() != 4 {
		t.Fatalf("t-0 after the accepted LeaderAndIsr requests: %+v", p)
	}
	// UpdateMetadata replaced the cache's brokers and controller.
	if snap := b.cache.Load(); len(snap.Brokers) != 2 || snap.ControllerID != 1 {
		t.Errorf("cache after UpdateMetadata: brokers %+v, controller %d", snap.Brokers, snap.ControllerID)
	}

	// The same leader epoch again changes nothing.
	lai := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(100, "t", 0, 1, p.LeaderEpoch(), []int32{1, 0}, []int32{1, 0}))
	wantCode(t, "LeaderAndIsr", lai.ErrorCode, nil)
	wantCode(t, "a leader epoch already applied", lai.Topics[0].Partitions[0].ErrorCode, kerr.StaleControllerEpoch)
	if !p.IsLeader() {
		t.Error("a stale LeaderAndIsr made this broker a follower")
	}

	// A newer controller, then one older than it.
	newer := leaderAndIsrRequest(100, "u", 0, 0, 1, []int32{0}, []int32{0})
	newer.ControllerEpoch = 5
	wantCode(t, "LeaderAndIsr of controller epoch 5", do[*kmsg.LeaderAndISRResponse](b, 6, newer).ErrorCode, nil)
	older := leaderAndIsrRequest(100, "u", 0, 0, 2, []int32{0}, []int32{0})
	older.ControllerEpoch = 4
	wantCode(t, "LeaderAndIsr of an older controller", do[*kmsg.LeaderAndISRResponse](b, 6, older).ErrorCode, kerr.StaleControllerEpoch)
	wantCode(t, "UpdateMetadata of an older controller", do[*kmsg.UpdateMetadataResponse](b, 7, updateMetadataRequest(100, 4)).ErrorCode, kerr.StaleControllerEpoch)
	sr := do[*kmsg.StopReplicaResponse](b, 3, stopReplicaRequest(100, 4, "u", 0, -2, true))
	wantCode(t, "StopReplica of an older controller", sr.ErrorCode, kerr.StaleControllerEpoch)
	if b.rm.Partition("u", 0) == nil {
		t.Error("u-0 stopped by an older controller")
	}

	// StopReplica of an older leader epoch is fenced; -2 (deletion) never.
	sr = do[*kmsg.StopReplicaResponse](b, 3, stopReplicaRequest(100, 5, "t", 0, p.LeaderEpoch()-1, false))
	wantCode(t, "StopReplica", sr.ErrorCode, nil)
	wantCode(t, "StopReplica of an older leader epoch", sr.Partitions[0].ErrorCode, kerr.FencedLeaderEpoch)
	if b.rm.Partition("t", 0) == nil {
		t.Fatal("t-0 stopped by a fenced StopReplica")
	}
	sr = do[*kmsg.StopReplicaResponse](b, 3, stopReplicaRequest(100, 5, "t", 0, -2, true))
	wantCode(t, "StopReplica for deletion", sr.Partitions[0].ErrorCode, nil)
	if b.rm.Partition("t", 0) != nil {
		t.Error("t-0 still hosted after StopReplica with delete")
	}
	// The topic is still in the cluster's metadata: a produce is sent to
	// the wrong broker.
	wantCode(t, "produce to a stopped replica", b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 1})).ErrorCode, kerr.NotLeaderForPartition)
}

// TestControllerForwarding: ControlledShutdown, AlterPartition,
// ElectLeaders and the reassignment APIs go to this broker's active
// controller, whose errors are answered with their codes; a broker that is
// not the controller answers NOT_CONTROLLER.
func TestControllerForwarding(t *testing.T) {
	ctl := &fakeController{}
	cl := &fakeCluster{epoch: 100, controllerID: 0, ctl: ctl}
	b := newClusterBroker(t, cl, nil)

	// ControlledShutdown: the broker epoch from v2 on.
	ctl.shutdownRemaining = []kmsg.ControlledShutdownResponsePartitionsRemaining{{Topic: "t", Partition: 3}}
	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.BrokerID, cs.BrokerEpoch = 2, 77
	r := do[*kmsg.ControlledShutdownResponse](b, 3, cs)
	wantCode(t, "ControlledShutdown", r.ErrorCode, nil)
	if len(r.PartitionsRemaining) != 1 || r.PartitionsRemaining[0].Partition != 3 || ctl.shutdownEpoch != 77 {
		t.Errorf("ControlledShutdown: remaining %+v, epoch passed %d", r.PartitionsRemaining, ctl.shutdownEpoch)
	}
	do[*kmsg.ControlledShutdownResponse](b, 1, cs)
	if ctl.shutdownEpoch != -1 {
		t.Errorf("ControlledShutdown v1 passed broker epoch %d, want -1 (v1 has none)", ctl.shutdownEpoch)
	}

	// AlterPartition: the controller's answer as it is.
	ctl.alterPartition = kmsg.NewPtrAlterPartitionResponse()
	ctl.alterPartition.Topics = []kmsg.AlterPartitionResponseTopic{{Topic: "t", Partitions: []kmsg.AlterPartitionResponseTopicPartition{{Partition: 0, ErrorCode: kerr.FencedLeaderEpoch.Code}}}}
	ap := kmsg.NewPtrAlterPartitionRequest()
	ap.BrokerID, ap.BrokerEpoch = 2, 77
	apr := do[*kmsg.AlterPartitionResponse](b, 1, ap)
	if apr.ErrorCode != 0 || len(apr.Topics) != 1 || apr.Topics[0].Partitions[0].ErrorCode != kerr.FencedLeaderEpoch.Code {
		t.Errorf("AlterPartition: %+v", apr)
	}

	// ElectLeaders: the results sorted by topic and partition.
	ctl.elected = map[string]map[int32]int16{"b": {1: 0, 0: kerr.ElectionNotNeeded.Code}, "a": {0: 0}}
	req := electLeadersRequest(1, "a", 0)
	req.Topics = append(req.Topics, kmsg.ElectLeadersRequestTopic{Topic: "b", Partitions: []int32{1, 0}})
	el := do[*kmsg.ElectLeadersResponse](b, 2, req)
	wantCode(t, "ElectLeaders", el.ErrorCode, nil)
	var got []string
	for _, rt := range el.Topics {
		for _, p := range rt.Partitions {
			got = append(got, fmt.Sprintf("%s-%d:%d", rt.Topic, p.Partition, p.ErrorCode))
		}
	}
	if want := []string{"a-0:0", fmt.Sprintf("b-0:%d", kerr.ElectionNotNeeded.Code), "b-1:0"}; !slices.Equal(got, want) {
		t.Errorf("ElectLeaders answered %v, want %v", got, want)
	}
	if ctl.electType != 1 || !slices.Equal(ctl.electParts["b"], []int32{1, 0}) {
		t.Errorf("ElectLeaders passed type %d, partitions %v", ctl.electType, ctl.electParts)
	}
	// A null topic list asks for every partition.
	all := kmsg.NewPtrElectLeadersRequest()
	all.Topics = nil
	do[*kmsg.ElectLeadersResponse](b, 2, all)
	if ctl.electParts != nil {
		t.Errorf("a null topic list passed %v, want nil (all)", ctl.electParts)
	}
	bad := do[*kmsg.ElectLeadersResponse](b, 2, electLeadersRequest(2, "a", 0))
	wantCode(t, "ElectLeaders of an unknown type", bad.ErrorCode, kerr.InvalidRequest)
	wantCode(t, "ElectLeaders of an unknown type, partition", bad.Topics[0].Partitions[0].ErrorCode, kerr.InvalidRequest)

	wantCode(t, "AlterPartitionReassignments", do[*kmsg.AlterPartitionAssignmentsResponse](b, 0, kmsg.NewPtrAlterPartitionAssignmentsRequest()).ErrorCode, nil)
	wantCode(t, "ListPartitionReassignments", do[*kmsg.ListPartitionReassignmentsResponse](b, 0, kmsg.NewPtrListPartitionReassignmentsRequest()).ErrorCode, nil)

	// The controller's errors.
	ctl.err = apierr.Errorf(kerr.StaleBrokerEpoch, "broker 2 has epoch 78")
	wantCode(t, "ControlledShutdown refused", do[*kmsg.ControlledShutdownResponse](b, 3, cs).ErrorCode, kerr.StaleBrokerEpoch)
	wantCode(t, "AlterPartition refused", do[*kmsg.AlterPartitionResponse](b, 1, ap).ErrorCode, kerr.StaleBrokerEpoch)
	el = do[*kmsg.ElectLeadersResponse](b, 2, electLeadersRequest(0, "a", 0))
	wantCode(t, "ElectLeaders refused", el.ErrorCode, kerr.StaleBrokerEpoch)
	wantCode(t, "ElectLeaders refused, partition", el.Topics[0].Partitions[0].ErrorCode, kerr.StaleBrokerEpoch)
	apa := do[*kmsg.AlterPartitionAssignmentsResponse](b, 0, kmsg.NewPtrAlterPartitionAssignmentsRequest())
	wantCode(t, "AlterPartitionReassignments refused", apa.ErrorCode, kerr.StaleBrokerEpoch)
	if apa.ErrorMessage == nil || *apa.ErrorMessage != "broker 2 has epoch 78" {
		t.Errorf("AlterPartitionReassignments message %v", apa.ErrorMessage)
	}
	want := []string{"ControlledShutdown 2", "ControlledShutdown 2", "AlterPartition 2", "ElectLeaders", "ElectLeaders",
		"AlterPartitionReassignments", "ListPartitionReassignments",
		"ControlledShutdown 2", "AlterPartition 2", "ElectLeaders", "AlterPartitionReassignments"}
	if !slices.Equal(ctl.calls, want) {
		t.Errorf("the controller was asked %q, want %q", ctl.calls, want)
	}

	// Another broker is the controller.
	cl.mu.Lock()
	cl.ctl, cl.controllerID = nil, 1
	cl.mu.Unlock()
	want2 := kerr.NotController
	wantCode(t, "ControlledShutdown elsewhere", do[*kmsg.ControlledShutdownResponse](b, 3, cs).ErrorCode, want2)
	wantCode(t, "AlterPartition elsewhere", do[*kmsg.AlterPartitionResponse](b, 1, ap).ErrorCode, want2)
	el = do[*kmsg.ElectLeadersResponse](b, 2, electLeadersRequest(0, "a", 0))
	wantCode(t, "ElectLeaders elsewhere", el.ErrorCode, want2)
	wantCode(t, "ElectLeaders elsewhere, partition", el.Topics[0].Partitions[0].ErrorCode, want2)
	wantCode(t, "ListPartitionReassignments elsewhere", do[*kmsg.ListPartitionReassignmentsResponse](b, 0, kmsg.NewPtrListPartitionReassignmentsRequest()).ErrorCode, want2)
	if len(ctl.calls) != len(want) {
		t.Errorf("the former controller was asked %q", ctl.calls[len(want):])
	}
}
