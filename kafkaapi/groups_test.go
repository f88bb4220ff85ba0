package kafkaapi

import (
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
)

// TestFindCoordinator: every version, v4's batched keys, and Kafka's
// errors per key type; the first group lookup creates __consumer_offsets
// (transaction keys: TestFindCoordinatorTransaction).
func TestFindCoordinator(t *testing.T) {
	b := newTestBroker(t, nil)
	for v := int16(0); v <= 3; v++ {
		resp := do[*kmsg.FindCoordinatorResponse](b, v, findCoordinatorRequest(0, "g"))
		wantCode(t, "group key", resp.ErrorCode, nil)
		if resp.NodeID != b.cfg.BrokerID || resp.Host != "127.0.0.1" || resp.Port != 9092 {
			t.Errorf("v%d: coordinator %d at %s:%d", v, resp.NodeID, resp.Host, resp.Port)
		}
	}
	if ts := b.rm.Topic(offsetsTopic); ts == nil || len(ts.Parts) != 1 || !ts.Meta.Internal {
		t.Fatalf("%s not created as offsets.topic.num.partitions says", offsetsTopic)
	}
	if owned, _ := b.groups.Owns(0); !owned {
		t.Error("the coordinator does not own the partition of __consumer_offsets")
	}

	resp := do[*kmsg.FindCoordinatorResponse](b, 4, findCoordinatorRequest(0, "g1", "g2", ""))
	if len(resp.Coordinators) != 3 {
		t.Fatalf("v4: %+v", resp.Coordinators)
	}
	for i, c := range resp.Coordinators {
		if c.Key != []string{"g1", "g2", ""}[i] || c.ErrorCode != 0 || c.NodeID != b.cfg.BrokerID {
			t.Errorf("v4 key %d: %+v", i, c)
		}
	}

	for _, c := range []struct {
		name    string
		version int16
		keyType int8
		want    *kerr.Error
	}{
		{"unknown key type", 3, 2, kerr.InvalidRequest},
		{"unknown key type, v4", 4, 7, kerr.InvalidRequest},
	} {
		resp := do[*kmsg.FindCoordinatorResponse](b, c.version, findCoordinatorRequest(c.keyType, "k"))
		code, node, msg := resp.ErrorCode, resp.NodeID, resp.ErrorMessage
		if c.version >= 4 {
			code, node, msg = resp.Coordinators[0].ErrorCode, resp.Coordinators[0].NodeID, resp.Coordinators[0].ErrorMessage
		}
		wantCode(t, c.name, code, c.want)
		if node != -1 || msg == nil {
			t.Errorf("%s: node %d, message %v", c.name, node, msg)
		}
	}
}

// TestFindCoordinatorCluster: in ZooKeeper mode the first lookup asks for
// __consumer_offsets (stored for the controller to create) and answers
// COORDINATOR_NOT_AVAILABLE, as Kafka does; so does one with fewer live
// brokers than offsets.topic.replication.factor. Once the partition's
// leader is known, the coordinator is that broker.
func TestFindCoordinatorCluster(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 1}
	b := newClusterBroker(t, cl, nil) // offsets.topic.replication.factor 3, one live broker
	wantCode(t, "too few brokers", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, kerr.CoordinatorNotAvailable)
	if _, ok := b.store.Topic(offsetsTopic); ok {
		t.Fatalf("%s stored without enough brokers", offsetsTopic)
	}

	b = newClusterBroker(t, cl, map[string]string{"offsets.topic.replication.factor": "1"})
	wantCode(t, "first lookup", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, kerr.CoordinatorNotAvailable)
	if _, ok := b.store.Topic(offsetsTopic); !ok {
		t.Fatalf("%s not stored", offsetsTopic)
	}
	// The controller made it, led by broker 1.
	b.cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: 0, Host: "h0", Port: 1}, {ID: 1, Host: "h1", Port: 2}})
	})
	b.setPartition(offsetsTopic, 0, metadataState(1, 0, 1))
	resp := do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g"))
	wantCode(t, "led elsewhere", resp.ErrorCode, nil)
	if resp.NodeID != 1 || resp.Host != "h1" || resp.Port != 2 {
		t.Errorf("coordinator %d at %s:%d, want broker 1 at h1:2", resp.NodeID, resp.Host, resp.Port)
	}
	// Its leader gone: not available.
	b.setPartition(offsetsTopic, 0, metadata.PartitionState{Leader: -1, Replicas: []int32{1}})
	wantCode(t, "no leader", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, kerr.CoordinatorNotAvailable)
}

func joinRequest(group, member string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.MemberID, req.ProtocolType = group, member, "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
	return req
}

// TestGroupErrors: the group APIs' basic errors, as Kafka's
// GroupCoordinator answers them: NOT_COORDINATOR before this broker owns
// the group's partition, MEMBER_ID_REQUIRED for a first join (v4+),
// UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, and the group lifecycle errors of
// DeleteGroups.
func TestGroupErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		b.createTopic("t", 1, nil)
		hb := func(member string, generation int32) int16 {
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID, req.Generation = "g", member, generation
			return do[*kmsg.HeartbeatResponse](b, 4, req).ErrorCode
		}
		// Before any FindCoordinator, __consumer_offsets does not exist.
		wantCode(t, "heartbeat before the coordinator exists", hb("m", 1), kerr.NotCoordinator)
		wantCode(t, "FindCoordinator", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
		synctest.Wait() // the partition of __consumer_offsets is loaded

		wantCode(t, "heartbeat to an unknown group", hb("m", 1), kerr.UnknownMemberID)

		first := do[*kmsg.JoinGroupResponse](b, 9, joinRequest("g", ""))
		wantCode(t, "first join", first.ErrorCode, kerr.MemberIDRequired)
		if first.MemberID == "" {
			t.Fatal("MEMBER_ID_REQUIRED without a member id")
		}
		join := do[*kmsg.JoinGroupResponse](b, 9, joinRequest("g", first.MemberID))
		wantCode(t, "join", join.ErrorCode, nil)
		if join.Generation != 1 || join.LeaderID != first.MemberID || len(join.Members) != 1 {
			t.Fatalf("join: %+v", join)
		}
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group, sync.MemberID, sync.Generation = "g", first.MemberID, join.Generation
		sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
		sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: first.MemberID, MemberAssignment: []byte{9}}}
		if r := do[*kmsg.SyncGroupResponse](b, 5, sync); r.ErrorCode != 0 || len(r.MemberAssignment) != 1 {
			t.Fatalf("sync: %+v", r)
		}

		wantCode(t, "heartbeat", hb(first.MemberID, 1), nil)
		wantCode(t, "heartbeat of an unknown member", hb("stranger", 1), kerr.UnknownMemberID)
		wantCode(t, "heartbeat of an old generation", hb(first.MemberID, 0), kerr.IllegalGeneration)

		sync.MemberID = "stranger"
		wantCode(t, "sync of an unknown member", do[*kmsg.SyncGroupResponse](b, 5, sync).ErrorCode, kerr.UnknownMemberID)
		sync.MemberID, sync.Generation = first.MemberID, 7
		wantCode(t, "sync of another generation", do[*kmsg.SyncGroupResponse](b, 5, sync).ErrorCode, kerr.IllegalGeneration)

		commit := kmsg.NewPtrOffsetCommitRequest()
		commit.Group, commit.MemberID, commit.Generation = "g", first.MemberID, 1
		commit.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 5}, {Partition: 3, Offset: 1}}}}
		cr := do[*kmsg.OffsetCommitResponse](b, 8, commit)
		wantCode(t, "commit", cr.Topics[0].Partitions[0].ErrorCode, nil)
		wantCode(t, "commit to an unknown partition", cr.Topics[0].Partitions[1].ErrorCode, kerr.UnknownTopicOrPartition)
		commit.Generation = 2
		wantCode(t, "commit of another generation", do[*kmsg.OffsetCommitResponse](b, 8, commit).Topics[0].Partitions[0].ErrorCode, kerr.IllegalGeneration)
		commit.Generation, commit.MemberID = 1, "stranger"
		wantCode(t, "commit of an unknown member", do[*kmsg.OffsetCommitResponse](b, 8, commit).Topics[0].Partitions[0].ErrorCode, kerr.UnknownMemberID)

		fetch := kmsg.NewPtrOffsetFetchRequest()
		fetch.Group = "g"
		fetch.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
		of := do[*kmsg.OffsetFetchResponse](b, 7, fetch)
		if p := of.Topics[0].Partitions[0]; of.ErrorCode != 0 || p.ErrorCode != 0 || p.Offset != 5 {
			t.Errorf("offset fetch: %+v", of)
		}

		del := kmsg.NewPtrDeleteGroupsRequest()
		del.Groups = []string{"g", "nope"}
		dr := do[*kmsg.DeleteGroupsResponse](b, 2, del)
		wantCode(t, "delete a group with members", dr.Groups[0].ErrorCode, kerr.NonEmptyGroup)
		wantCode(t, "delete an unknown group", dr.Groups[1].ErrorCode, kerr.GroupIDNotFound)

		leave := kmsg.NewPtrLeaveGroupRequest()
		leave.Group = "g"
		leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: first.MemberID}, {MemberID: "stranger"}}
		lr := do[*kmsg.LeaveGroupResponse](b, 5, leave)
		wantCode(t, "leave", lr.ErrorCode, nil)
		wantCode(t, "leave of a member", lr.Members[0].ErrorCode, nil)
		wantCode(t, "leave of an unknown member", lr.Members[1].ErrorCode, kerr.UnknownMemberID)

		dr = do[*kmsg.DeleteGroupsResponse](b, 2, del)
		wantCode(t, "delete the empty group", dr.Groups[0].ErrorCode, nil)
		desc := kmsg.NewPtrDescribeGroupsRequest()
		desc.Groups = []string{"g"}
		if g := do[*kmsg.DescribeGroupsResponse](b, 5, desc).Groups[0]; g.ErrorCode != 0 || g.State != "Dead" {
			t.Errorf("a deleted group: %+v", g)
		}
	})
}
