package itest

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errorCodes lists every non-zero ErrorCode field in a response, with its
// path, walking nested structs and slices.
func errorCodes(v any) []string {
	var out []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 && v.Field(i).Int() != 0 {
					out = append(out, fmt.Sprintf("%s.ErrorCode=%d", path, v.Field(i).Int()))
				}
				if f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() != reflect.Uint8 {
				for i := range v.Len() {
					walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return out
}

// apiCase is how TestEveryVersion exercises one API: a request to send at
// each version and the answer a standalone broker must give.
type apiCase struct {
	// req builds the request for version v; it may first send others over
	// the same connection (a group member to heartbeat as).
	req func(v int16) kmsg.Request
	// refused is the error every ErrorCode field of the answer must hold
	// (at least one); nil: no error anywhere.
	refused *kerr.Error
	// check, if set, checks more of an answer without errors.
	check func(v int16, resp kmsg.Response) error
}

// TestEveryVersion sends a valid request at every version of every API the
// broker advertises, and checks that the response decodes with kmsg at that
// version, re-encodes to exactly the bytes sent (no stray or missing
// fields), carries the right correlation id, and gives the expected answer:
// no error for what a client may ask, CLUSTER_AUTHORIZATION_FAILED for what
// only a controller sends or serves (LeaderAndIsr, StopReplica,
// UpdateMetadata, ControlledShutdown, ElectLeaders, the reassignment APIs,
// AlterPartition: a standalone broker has no cluster to act on).
// The admin requests act on topics of their own so that each version does
// real work: each CreateTopics version creates a topic that the same
// DeleteTopics version deletes, each CreatePartitions version adds one.
//
// An advertised API without a case here fails the test, naming it: whoever
// makes the broker serve an API adds its request and expected answer.
func TestEveryVersion(t *testing.T) {
	b := startBroker(t, "group.initial.rebalance.delay.ms=0")
	const topic = "ver.data"
	b.newTopic(t, topic, 1, nil)
	produceSync(t, b.client(t), simpleKgoRecords(topic, 3)...)
	versions := b.apiVersions(t)
	conn := b.dial(t)
	md := conn.roundTrip(t, metadataTopicRequest(12, topic, false)).(*kmsg.MetadataResponse)
	topicID := md.Topics[0].TopicID
	cpTopic, cpCount := "ver.grow", int32(1)
	b.newTopic(t, cpTopic, 1, nil)
	// The transactions EndTxn ends get their markers here, not in
	// ver.data, whose offsets are all records.
	const endTopic = "ver.txn"
	b.newTopic(t, endTopic, 1, nil)
	ctName := func(v int16) string { return "ver.created." + strconv.Itoa(int(v)) }

	// Group members to act as, joined and synced over conn.
	consumerMeta := kmsg.NewConsumerMemberMetadata()
	consumerMeta.Topics = []string{topic}
	memberMeta := consumerMeta.AppendTo(nil)
	joinReq := func(v int16, group, member string) *kmsg.JoinGroupRequest {
		req := kmsg.NewPtrJoinGroupRequest()
		req.SetVersion(v)
		req.Group, req.MemberID = group, member
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
		req.ProtocolType = "consumer"
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", memberMeta
		req.Protocols = append(req.Protocols, p)
		return req
	}
	join := func(group string) *kmsg.JoinGroupResponse {
		t.Helper()
		r := conn.roundTrip(t, joinReq(5, group, "")).(*kmsg.JoinGroupResponse)
		if r.ErrorCode != kerr.MemberIDRequired.Code {
			t.Fatalf("JoinGroup v5 of %s without a member id: %v", group, kerr.ErrorForCode(r.ErrorCode))
		}
		if r = conn.roundTrip(t, joinReq(5, group, r.MemberID)).(*kmsg.JoinGroupResponse); r.ErrorCode != 0 {
			t.Fatalf("JoinGroup v5 of %s: %v", group, kerr.ErrorForCode(r.ErrorCode))
		}
		return r
	}
	syncReq := func(v int16, group string, j *kmsg.JoinGroupResponse) *kmsg.SyncGroupRequest {
		req := kmsg.NewPtrSyncGroupRequest()
		req.SetVersion(v)
		req.Group, req.MemberID, req.Generation = group, j.MemberID, j.Generation
		req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID, a.MemberAssignment = j.MemberID, []byte("assigned")
		req.GroupAssignment = append(req.GroupAssignment, a)
		return req
	}
	// initTxn finds the coordinator of a transactional id (the first
	// lookup creates __transaction_state) and initializes it.
	initTxn := func(id string) (int64, int16) {
		t.Helper()
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.SetVersion(3)
		fc.CoordinatorType, fc.CoordinatorKey = 1, id
		waitFor(t, "the coordinator of "+id, 10*time.Second, func() bool {
			return conn.roundTrip(t, fc).(*kmsg.FindCoordinatorResponse).ErrorCode == 0
		})
		var r *kmsg.InitProducerIDResponse
		waitFor(t, "InitProducerId of "+id, 10*time.Second, func() bool {
			req := kmsg.NewPtrInitProducerIDRequest()
			req.SetVersion(4)
			req.TransactionalID, req.TransactionTimeoutMillis = kmsg.StringPtr(id), 60000
			r = conn.roundTrip(t, req).(*kmsg.InitProducerIDResponse)
			return r.ErrorCode != kerr.CoordinatorLoadInProgress.Code
		})
		if r.ErrorCode != 0 {
			t.Fatalf("InitProducerId of %s: %v", id, kerr.ErrorForCode(r.ErrorCode))
		}
		return r.ProducerID, r.ProducerEpoch
	}
	member := func(group string) *kmsg.JoinGroupResponse {
		t.Helper()
		j := join(group)
		if r := conn.roundTrip(t, syncReq(3, group, j)).(*kmsg.SyncGroupResponse); r.ErrorCode != 0 {
			t.Fatalf("SyncGroup v3 of %s: %v", group, kerr.ErrorForCode(r.ErrorCode))
		}
		return j
	}
	commitReq := func(group string, offset int64) *kmsg.OffsetCommitRequest {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation, req.RetentionTimeMillis = group, -1, -1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = 0, offset
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	// commit makes a group with committed offsets and no members.
	commit := func(group string) {
		t.Helper()
		req := commitReq(group, 1)
		req.SetVersion(8)
		if r := conn.roundTrip(t, req).(*kmsg.OffsetCommitResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("OffsetCommit to %s: %v", group, kerr.ErrorForCode(r.Topics[0].Partitions[0].ErrorCode))
		}
	}
	verGroup := func(what string, v int16) string { return fmt.Sprintf("ver.%s.%d", what, v) }
	logEnd := func() int64 {
		t.Helper()
		r := conn.roundTrip(t, listOffsetsRequest(7, topic, 0, -1)).(*kmsg.ListOffsetsResponse)
		return r.Topics[0].Partitions[0].Offset
	}

	cases := map[int16]apiCase{
		0: {req: func(v int16) kmsg.Request {
			return produceRequest(v, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "v"+strconv.Itoa(int(v)))}))
		}},
		1: {req: func(v int16) kmsg.Request {
			req := fetchRequest(v, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
			req.Topics[0].TopicID = topicID
			return req
		}},
		2: {req: func(v int16) kmsg.Request { return listOffsetsRequest(v, topic, 0, -1) }},
		3: {req: func(v int16) kmsg.Request { return metadataTopicRequest(v, topic, false) }},
		// The controller's requests (and those only a controller serves),
		// each one that would do harm if it were obeyed: another leader for
		// ver.data, its deletion, a cluster without this broker, this
		// broker's leaderships moved away, an unclean election, a
		// reassignment away from this broker, an ISR with a stranger.
		4: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrLeaderAndISRRequest()
			req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, 1, -1
			ts := kmsg.NewLeaderAndISRRequestTopicState()
			ts.Topic, ts.TopicID = topic, topicID
			ps := kmsg.NewLeaderAndISRRequestTopicPartition()
			ps.Partition, ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = 0, 1, 1, 9
			ps.ISR, ps.Replicas, ps.ZKVersion = []int32{1}, []int32{0, 1}, 1
			ts.PartitionStates = append(ts.PartitionStates, ps)
			req.TopicStates = append(req.TopicStates, ts)
			ll := kmsg.NewLeaderAndISRRequestLiveLeader()
			ll.BrokerID, ll.Host, ll.Port = 1, "127.0.0.1", 1
			req.LiveLeaders = append(req.LiveLeaders, ll)
			return req
		}},
		5: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrStopReplicaRequest()
			req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, 1, -1
			req.DeletePartitions = true
			rt := kmsg.NewStopReplicaRequestTopic()
			rt.Topic, rt.Partitions = topic, []int32{0}
			ps := kmsg.NewStopReplicaRequestTopicPartitionState()
			ps.Partition, ps.LeaderEpoch, ps.Delete = 0, -2, true
			rt.PartitionStates = append(rt.PartitionStates, ps)
			req.Topics = append(req.Topics, rt)
			return req
		}},
		6: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrUpdateMetadataRequest()
			req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, 1, -1
			ts := kmsg.NewUpdateMetadataRequestTopicState()
			ts.Topic, ts.TopicID = topic, topicID
			ps := kmsg.NewUpdateMetadataRequestTopicPartition()
			ps.Partition, ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = 0, 1, 1, 9
			ps.ISR, ps.Replicas, ps.ZKVersion = []int32{1}, []int32{1}, 1
			ts.PartitionStates = append(ts.PartitionStates, ps)
			req.TopicStates = append(req.TopicStates, ts)
			lb := kmsg.NewUpdateMetadataRequestLiveBroker()
			lb.ID = 1
			ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
			ep.Host, ep.Port, ep.ListenerName = "127.0.0.1", 1, "PLAINTEXT"
			lb.Endpoints = append(lb.Endpoints, ep)
			req.LiveBrokers = append(req.LiveBrokers, lb)
			return req
		}},
		7: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrControlledShutdownRequest()
			req.BrokerID, req.BrokerEpoch = 0, -1
			return req
		}},
		8: {req: func(v int16) kmsg.Request { return commitReq("ver.commit", int64(v)) }},
		9: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrOffsetFetchRequest()
			req.Group = "ver.commit"
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic, rt.Partitions = topic, []int32{0}
			req.Topics = append(req.Topics, rt)
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = "ver.commit"
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.Partitions = topic, []int32{0}
			rg.Topics = append(rg.Topics, gt)
			req.Groups = append(req.Groups, rg)
			return req
		}},
		10: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKey, req.CoordinatorKeys = "ver.commit", []string{"ver.commit"}
			return req
		}},
		11: {req: func(v int16) kmsg.Request {
			group, id := verGroup("join", v), ""
			if v >= 4 { // KIP-394: the first join gets a member id to join with
				r := conn.roundTrip(t, joinReq(v, group, "")).(*kmsg.JoinGroupResponse)
				if r.ErrorCode != kerr.MemberIDRequired.Code {
					t.Fatalf("JoinGroup v%d without a member id: %v", v, kerr.ErrorForCode(r.ErrorCode))
				}
				id = r.MemberID
			}
			return joinReq(v, group, id)
		}},
		12: {req: func(v int16) kmsg.Request {
			group := verGroup("heartbeat", v)
			j := member(group)
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID, req.Generation = group, j.MemberID, j.Generation
			return req
		}},
		13: {req: func(v int16) kmsg.Request {
			group := verGroup("leave", v)
			j := member(group)
			req := kmsg.NewPtrLeaveGroupRequest()
			req.Group, req.MemberID = group, j.MemberID
			lm := kmsg.NewLeaveGroupRequestMember()
			lm.MemberID = j.MemberID
			req.Members = append(req.Members, lm)
			return req
		}},
		14: {req: func(v int16) kmsg.Request {
			group := verGroup("sync", v)
			return syncReq(v, group, join(group))
		}},
		15: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeGroupsRequest()
			req.Groups = []string{"ver.commit", verGroup("heartbeat", 0)}
			return req
		}},
		16: {req: func(v int16) kmsg.Request { return kmsg.NewPtrListGroupsRequest() }},
		18: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrApiVersionsRequest()
			req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-itest", "1.0"
			return req
		}},
		keyCreateTopics: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = ctName(v), 2, 1
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("3600000")
			rt.Configs = append(rt.Configs, c)
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		}},
		keyDeleteTopics: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.TopicNames = []string{ctName(v)}
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = kmsg.StringPtr(ctName(v))
			req.Topics = append(req.Topics, dt)
			req.TimeoutMillis = 10000
			return req
		}},
		keyDeleteRecords: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = 0, 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		}},
		keyInitProducerID: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrInitProducerIDRequest() // no transactional ID
			req.TransactionTimeoutMillis = 60000
			req.ProducerID, req.ProducerEpoch = -1, -1
			return req
		}},
		keyDescribeConfigs: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeConfigsRequest()
			r := kmsg.NewDescribeConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			req.Resources = append(req.Resources, r)
			req.IncludeSynonyms, req.IncludeDocumentation = true, true
			b := kmsg.NewDescribeConfigsRequestResource()
			b.ResourceType, b.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
			req.Resources = append(req.Resources, b)
			return req
		}},
		keyAlterConfigs: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAlterConfigsRequest()
			r := kmsg.NewAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr(strconv.Itoa(3600000+int(v)))
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return req
		}},
		keyDescribeLogDirs: {req: func(v int16) kmsg.Request {
			return kmsg.NewPtrDescribeLogDirsRequest() // null topics: all
		}},
		keyCreatePartitions: {req: func(v int16) kmsg.Request {
			cpCount++
			req := kmsg.NewPtrCreatePartitionsRequest()
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = cpTopic, cpCount
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		}},
		23: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrOffsetForLeaderEpochRequest()
			req.ReplicaID = -1 // a consumer
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = 0, 0, 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}, check: func(v int16, resp kmsg.Response) error {
			// A standalone broker leads at epoch 0 from the start: the
			// epoch ends at the log end.
			p := resp.(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]
			end := logEnd()
			if (v >= 1 && p.LeaderEpoch != 0) || p.EndOffset != end {
				return fmt.Errorf("epoch %d ends at %d, want epoch 0 ending at the log end %d", p.LeaderEpoch, p.EndOffset, end)
			}
			return nil
		}},
		42: {req: func(v int16) kmsg.Request {
			group := verGroup("delete", v)
			commit(group)
			req := kmsg.NewPtrDeleteGroupsRequest()
			req.Groups = []string{group}
			return req
		}},
		43: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrElectLeadersRequest()
			req.ElectionType, req.TimeoutMillis = 1, 10000 // unclean
			rt := kmsg.NewElectLeadersRequestTopic()
			rt.Topic, rt.Partitions = topic, []int32{0}
			req.Topics = append(req.Topics, rt)
			return req
		}},
		keyIncrementalAlterConfigs: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrIncrementalAlterConfigsRequest()
			r := kmsg.NewIncrementalAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Op, c.Value = "segment.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(strconv.Itoa(3600000+int(v)))
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return req
		}},
		47: {req: func(v int16) kmsg.Request {
			group := verGroup("offsetdelete", v)
			commit(group)
			req := kmsg.NewPtrOffsetDeleteRequest()
			req.Group = group
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewOffsetDeleteRequestTopicPartition()
			rp.Partition = 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}},
		45: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
			req.TimeoutMillis = 10000
			rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition, rp.Replicas = 0, []int32{1}
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}},
		46: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrListPartitionReassignmentsRequest()
			req.TimeoutMillis = 10000
			return req
		}},
		56: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAlterPartitionRequest()
			req.BrokerID, req.BrokerEpoch = 0, -1
			rt := kmsg.NewAlterPartitionRequestTopic()
			rt.Topic, rt.TopicID = topic, topicID
			rp := kmsg.NewAlterPartitionRequestTopicPartition()
			rp.Partition, rp.NewISR = 0, []int32{0, 1}
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}},
		keyDescribeCluster: {req: func(v int16) kmsg.Request { return kmsg.NewPtrDescribeClusterRequest() }},

		// Transactions: each version's own transactional id, initialized
		// first, as a producer does.
		keyAddPartitionsToTxn: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAddPartitionsToTxnRequest()
			if v < 4 {
				req.TransactionalID = "ver.txn.add." + strconv.Itoa(int(v))
				req.ProducerID, req.ProducerEpoch = initTxn(req.TransactionalID)
				req.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
				return req
			}
			// A broker's verification of a partition in the transaction.
			id := "ver.txn.verify." + strconv.Itoa(int(v))
			tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tx.TransactionalID, tx.VerifyOnly = id, true
			tx.ProducerID, tx.ProducerEpoch = initTxn(id)
			add := kmsg.NewPtrAddPartitionsToTxnRequest()
			add.SetVersion(3)
			add.TransactionalID, add.ProducerID, add.ProducerEpoch = id, tx.ProducerID, tx.ProducerEpoch
			add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
			if errs := errorCodes(conn.roundTrip(t, add)); len(errs) > 0 {
				t.Fatalf("AddPartitionsToTxn v3 of %s: %v", id, errs)
			}
			tx.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: topic, Partitions: []int32{0}}}
			req.Transactions = append(req.Transactions, tx)
			return req
		}},
		keyAddOffsetsToTxn: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAddOffsetsToTxnRequest()
			req.TransactionalID, req.Group = "ver.txn.offsets."+strconv.Itoa(int(v)), "ver.commit"
			req.ProducerID, req.ProducerEpoch = initTxn(req.TransactionalID)
			return req
		}},
		keyEndTxn: {req: func(v int16) kmsg.Request {
			id := "ver.txn.end." + strconv.Itoa(int(v))
			pid, epoch := initTxn(id)
			add := kmsg.NewPtrAddPartitionsToTxnRequest()
			add.SetVersion(3)
			add.TransactionalID, add.ProducerID, add.ProducerEpoch = id, pid, epoch
			add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: endTopic, Partitions: []int32{0}}}
			if errs := errorCodes(conn.roundTrip(t, add)); len(errs) > 0 {
				t.Fatalf("AddPartitionsToTxn v3 of %s: %v", id, errs)
			}
			req := kmsg.NewPtrEndTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, false
			return req
		}},
		keyTxnOffsetCommit: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrTxnOffsetCommitRequest()
			req.TransactionalID, req.Group = "ver.txn.commit."+strconv.Itoa(int(v)), "ver.txn.commit"
			req.ProducerID, req.ProducerEpoch = initTxn(req.TransactionalID)
			// The group's offsets join the transaction first, as
			// producers do (KIP-890 verifies that they did).
			add := kmsg.NewPtrAddOffsetsToTxnRequest()
			add.SetVersion(3)
			add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group
			if r := conn.roundTrip(t, add).(*kmsg.AddOffsetsToTxnResponse); r.ErrorCode != 0 {
				t.Fatalf("AddOffsetsToTxn of %s: %v", req.TransactionalID, kerr.ErrorForCode(r.ErrorCode))
			}
			req.Generation = -1
			rt := kmsg.NewTxnOffsetCommitRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			rp.Offset = 1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}},
		// Markers come from transaction coordinators, which on a standalone
		// broker is the broker itself, in process: never a client.
		27: {refused: kerr.ClusterAuthorizationFailed, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrWriteTxnMarkersRequest()
			m := kmsg.NewWriteTxnMarkersRequestMarker()
			m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = 1, 0, true, 0
			mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			mt.Topic, mt.Partitions = topic, []int32{0}
			m.Topics = append(m.Topics, mt)
			req.Markers = append(req.Markers, m)
			return req
		}},
		// Without authorizer.class.name the ACL APIs answer
		// SECURITY_DISABLED, as Kafka does.
		29: {refused: kerr.SecurityDisabled, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeLiteral
			req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			return req
		}},
		30: {refused: kerr.SecurityDisabled, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrCreateACLsRequest()
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, topic, kmsg.ACLResourcePatternTypeLiteral
			c.Principal, c.Host = "User:bob", "*"
			c.Operation, c.PermissionType = kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
			req.Creations = append(req.Creations, c)
			return req
		}},
		31: {refused: kerr.SecurityDisabled, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDeleteACLsRequest()
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, f.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.ACLResourcePatternTypeLiteral
			f.ResourceName = kmsg.StringPtr(topic)
			f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			req.Filters = append(req.Filters, f)
			return req
		}},
		// A PLAINTEXT listener has no SASL exchange: Kafka's KafkaApis
		// answers both SASL requests ILLEGAL_SASL_STATE there.
		17: {refused: kerr.IllegalSaslState, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrSASLHandshakeRequest()
			req.Mechanism = "PLAIN"
			return req
		}},
		36: {refused: kerr.IllegalSaslState, req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrSASLAuthenticateRequest()
			req.SASLAuthBytes = []byte("\x00alice\x00secret")
			return req
		}},
		// SCRAM users (KIP-554): each version of the alter makes one; the
		// describe makes its own, then finds it.
		51: {req: func(v int16) kmsg.Request {
			return scramUpsert("ver-user-" + strconv.Itoa(int(v)))
		}},
		50: {req: func(v int16) kmsg.Request {
			alter := scramUpsert("ver-described")
			alter.SetVersion(0)
			if errs := errorCodes(conn.roundTrip(t, alter)); len(errs) > 0 {
				t.Fatalf("AlterUserSCRAMCredentials: %v", errs)
			}
			req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
			u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
			u.Name = "ver-described"
			req.Users = append(req.Users, u)
			return req
		}, check: func(v int16, resp kmsg.Response) error {
			r := resp.(*kmsg.DescribeUserSCRAMCredentialsResponse)
			if len(r.Results) != 1 || r.Results[0].User != "ver-described" || len(r.Results[0].CredentialInfos) != 1 ||
				r.Results[0].CredentialInfos[0].Mechanism != 1 || r.Results[0].CredentialInfos[0].Iterations != 4096 {
				return fmt.Errorf("ver-described described as %+v, want SCRAM-SHA-256 with 4096 iterations", r.Results)
			}
			return nil
		}},
		keyDescribeProducers: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeProducersRequest()
			req.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: topic, Partitions: []int32{0}}}
			return req
		}},
		keyDescribeTransactions: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeTransactionsRequest()
			req.TransactionalIDs = []string{"ver.txn.describe"}
			initTxn(req.TransactionalIDs[0])
			return req
		}},
		keyListTransactions: {req: func(v int16) kmsg.Request {
			req := kmsg.NewPtrListTransactionsRequest()
			req.StateFilters, req.DurationFilterMillis = []string{"Empty", "Ongoing"}, -1
			return req
		}},
	}

	// As clients do: find the coordinator first, which makes
	// __consumer_offsets; group requests before that are NOT_COORDINATOR.
	waitFor(t, "the group coordinator is available", 10*time.Second, func() bool {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(3)
		req.CoordinatorKey = "ver.commit"
		return conn.roundTrip(t, req).(*kmsg.FindCoordinatorResponse).ErrorCode == 0
	})

	keys := make([]int16, 0, len(versions))
	for k := range versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for k := range cases {
		if _, ok := versions[k]; !ok {
			t.Errorf("TestEveryVersion has a case for %s (key %d), which the broker does not advertise", kmsg.NameForKey(k), k)
		}
	}
	for _, key := range keys {
		name := kmsg.NameForKey(key)
		t.Run(name, func(t *testing.T) {
			c, ok := cases[key]
			if !ok {
				t.Fatalf("the broker advertises %s (key %d) v%d-v%d, and this test has no case for it: add its request and the answer a standalone broker must give",
					name, key, versions[key][0], versions[key][1])
			}
			for v := versions[key][0]; v <= versions[key][1]; v++ {
				req := c.req(v)
				req.SetVersion(v)
				resp := conn.roundTrip(t, req)
				errs := errorCodes(resp)
				if c.refused == nil {
					if len(errs) > 0 {
						t.Errorf("%s v%d: %v", name, v, errs)
					} else if c.check != nil {
						if err := c.check(v, resp); err != nil {
							t.Errorf("%s v%d: %v", name, v, err)
						}
					}
					continue
				}
				want := fmt.Sprintf("=%d", c.refused.Code)
				if len(errs) == 0 {
					t.Errorf("%s v%d: no error, want %s", name, v, c.refused)
				}
				for _, e := range errs {
					if !strings.HasSuffix(e, want) {
						t.Errorf("%s v%d: %s, want %s", name, v, e, c.refused)
					}
				}
			}
		})
	}
	if n := b.partitionCount(t, cpTopic); n != cpCount {
		t.Errorf("%s has %d partitions after one CreatePartitions per version, want %d", cpTopic, n, cpCount)
	}
	// The refused controller requests changed nothing: this broker still
	// leads ver.data, is the whole cluster, and serves the records.
	md = conn.roundTrip(t, metadataTopicRequest(12, topic, false)).(*kmsg.MetadataResponse)
	if len(md.Brokers) != 1 || md.Brokers[0].NodeID != 0 || md.ControllerID != 0 {
		t.Errorf("after refused controller requests: brokers %+v, controller %d", md.Brokers, md.ControllerID)
	}
	if p := md.Topics[0].Partitions; len(p) != 1 || p[0].Leader != 0 || p[0].ErrorCode != 0 {
		t.Errorf("after refused controller requests: %s partitions %+v", topic, p)
	}
	if got := b.consumeAll(t, topic); len(got) == 0 {
		t.Errorf("%s holds no records after refused controller requests", topic)
	}
}

func simpleKgoRecords(topic string, n int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		out[i] = &kgo.Record{Topic: topic, Value: []byte("r" + strconv.Itoa(i))}
	}
	return out
}

// TestPipelining writes several requests in one go, an acks=0 produce
// among them (which gets no response), and checks the responses come back
// in order with their correlation ids, each request seeing the effects of
// the ones before it.
func TestPipelining(t *testing.T) {
	b := startBroker(t)
	const topic = "pipeline"
	b.newTopic(t, topic, 1, nil)
	conn := b.dial(t)

	apiv := kmsg.NewPtrApiVersionsRequest()
	apiv.SetVersion(3)
	p0 := produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "acks0")}))
	p0.Acks = 0
	md := metadataTopicRequest(12, topic, false)
	p1 := produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "acks1")}))
	p1.Acks = 1
	fetch := fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
	lo := listOffsetsRequest(7, topic, 0, -1)
	reqs := []kmsg.Request{apiv, p0, md, p1, fetch, lo}
	var all []byte
	for i, r := range reqs {
		// AppendRequest writes the size at the start of its dst: one each.
		all = append(all, conn.fmt.AppendRequest(nil, r, int32(100+i))...)
	}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(all); err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if r == p0 {
			continue // acks=0: no response
		}
		resp := conn.recv(t, r, int32(100+i))
		switch resp := resp.(type) {
		case *kmsg.ProduceResponse:
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 1 {
				t.Errorf("acks=1 produce after an acks=0 one: error %d base offset %d, want 0 and 1", p.ErrorCode, p.BaseOffset)
			}
		case *kmsg.FetchResponse:
			p := resp.Topics[0].Partitions[0]
			var vals []string
			for _, fb := range splitBatches(t, p.RecordBatches) {
				for _, r := range fb.recs {
					vals = append(vals, string(r.Value))
				}
			}
			if !slices.Equal(vals, []string{"acks0-v0", "acks1-v0"}) {
				t.Errorf("fetch in the pipeline sees %q", vals)
			}
		case *kmsg.ListOffsetsResponse:
			if p := resp.Topics[0].Partitions[0]; p.Offset != 2 {
				t.Errorf("latest offset %d, want 2", p.Offset)
			}
		}
	}
}

// TestRequestHeaders: header forms real clients send: a null client id
// (length -1), and a flexible header (v2) carrying a tagged field the
// broker does not know, which it must skip (KIP-482).
func TestRequestHeaders(t *testing.T) {
	b := startBroker(t)
	const topic = "headers"
	b.newTopic(t, topic, 1, nil)

	t.Run("null client id", func(t *testing.T) {
		conn := b.dial(t)
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(1)
		p := binary.BigEndian.AppendUint16(nil, 3)
		p = binary.BigEndian.AppendUint16(p, 1)
		p = binary.BigEndian.AppendUint32(p, 7)
		p = append(p, 0xff, 0xff) // null client id
		p = req.AppendTo(p)
		if _, err := conn.Write(frame(p)); err != nil {
			t.Fatal(err)
		}
		resp := conn.recv(t, req, 7).(*kmsg.MetadataResponse)
		if len(resp.Brokers) != 1 {
			t.Fatalf("metadata with a null client id: %d brokers", len(resp.Brokers))
		}
	})

	t.Run("unknown header tag", func(t *testing.T) {
		conn := b.dial(t)
		req := metadataTopicRequest(12, topic, false)
		p := binary.BigEndian.AppendUint16(nil, 3)
		p = binary.BigEndian.AppendUint16(p, 12)
		p = binary.BigEndian.AppendUint32(p, 8)
		p = append(p, 0, 2, 'i', 't')
		p = append(p, 1, 9, 3, 'x', 'y', 'z') // one tagged field: tag 9, 3 bytes
		p = req.AppendTo(p)
		if _, err := conn.Write(frame(p)); err != nil {
			t.Fatal(err)
		}
		resp := conn.recv(t, req, 8).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
			t.Fatalf("metadata with an unknown header tag: %+v", resp.Topics)
		}
	})
}

// scramUpsert is an AlterUserScramCredentials request that makes user a
// SCRAM-SHA-256 credential of 4096 iterations.
func scramUpsert(user string) *kmsg.AlterUserSCRAMCredentialsRequest {
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	u.Name, u.Mechanism, u.Iterations = user, 1, 4096
	u.Salt, u.SaltedPassword = []byte("salt-salt-salt"), make([]byte, 32)
	req.Upsertions = append(req.Upsertions, u)
	return req
}
