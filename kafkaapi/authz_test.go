package kafkaapi

// Authorization of each API, as Kafka's AuthorizerIntegrationTest checks
// it (its requestKeysToErrorCode and requestKeysToAcls tables): every
// request is sent by User:alice without an ACL and must be refused with
// Kafka's code at Kafka's place; then with the ACLs Kafka requires, and
// must no longer be refused.

import (
	"fmt"
	"math"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
	"samsa/security/acl"
)

var (
	alice     = acl.Principal{Type: acl.UserType, Name: "alice"}
	superUser = acl.Principal{Type: acl.UserType, Name: "admin"}
)

// authzProps turn the authorizer on, with User:admin a super user.
var authzProps = map[string]string{"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer", "super.users": "User:admin"}

// as makes the broker's connections authenticated as p.
func (b *testBroker) as(p acl.Principal) { b.who.Store(&p) }

// grant allows alice ops on a resource named literally.
func (b *testBroker) grant(t acl.ResourceType, name string, ops ...acl.Operation) {
	b.t.Helper()
	var bs []acl.Binding
	for _, op := range ops {
		bs = append(bs, acl.Binding{Pattern: acl.Pattern{Type: t, Name: name, PatternType: acl.PatternLiteral},
			Entry: acl.Entry{Principal: alice.String(), Host: acl.Wildcard, Operation: op, Permission: acl.PermissionAllow}})
	}
	for _, err := range b.authz.CreateACLs(bs) {
		if err != nil {
			b.t.Fatal(err)
		}
	}
}

type grant struct {
	t    acl.ResourceType
	name string
	ops  []acl.Operation
}

func onTopic(ops ...acl.Operation) grant   { return grant{acl.ResourceTopic, "t", ops} }
func onGroup(ops ...acl.Operation) grant   { return grant{acl.ResourceGroup, "g", ops} }
func onCluster(ops ...acl.Operation) grant { return grant{acl.ResourceCluster, acl.ClusterName, ops} }

// authzCase is one API's check: send returns the error code where Kafka
// puts the refusal (the topic's, the partition's, the top level's).
type authzCase struct {
	name    string
	cluster bool    // in ZooKeeper mode with a fake controller
	pre     []grant // granted before the refusal is checked
	grants  []grant
	send    func(b *testBroker) int16
	denied  *kerr.Error
}

func firstPartitionCode[T any](topics []T, parts func(*T) []int16) int16 {
	if len(topics) == 0 {
		return -1
	}
	ps := parts(&topics[0])
	if len(ps) == 0 {
		return -1
	}
	return ps[0]
}

func authzCases() []authzCase {
	return []authzCase{
		{"Produce", false, nil, []grant{onTopic(acl.OpWrite)}, func(b *testBroker) int16 {
			return b.produce(9, -1, "t", 0, testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 4, Fill: 'x', Timestamp: 1})).ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"Fetch", false, nil, []grant{onTopic(acl.OpRead)}, func(b *testBroker) int16 {
			return do[*kmsg.FetchResponse](b, 12, fetchRequest("t", 0, 0)).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"Fetch of a follower", false, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			req := fetchRequest("t", 0, 0)
			req.ReplicaID = 1
			return do[*kmsg.FetchResponse](b, 12, req).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"ListOffsets", false, nil, []grant{onTopic(acl.OpDescribe)}, func(b *testBroker) int16 {
			return do[*kmsg.ListOffsetsResponse](b, 7, listOffsetsRequest("t", 0, -1, -1)).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"Metadata", false, nil, []grant{onTopic(acl.OpRead)}, func(b *testBroker) int16 { // Read implies Describe
			return do[*kmsg.MetadataResponse](b, 12, metadataRequest("t")).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"Metadata auto-creating", false, nil, []grant{{acl.ResourceTopic, "new", []acl.Operation{acl.OpDescribe, acl.OpCreate}}}, func(b *testBroker) int16 {
			req := metadataRequest("new")
			req.AllowAutoTopicCreation = true
			return do[*kmsg.MetadataResponse](b, 12, req).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"OffsetForLeaderEpoch", false, nil, []grant{onTopic(acl.OpDescribe)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrOffsetForLeaderEpochRequest()
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.CurrentLeaderEpoch, rp.LeaderEpoch = -1, 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.OffsetForLeaderEpochResponse](b, 4, req).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"CreateTopics", false, nil, []grant{{acl.ResourceTopic, "new", []acl.Operation{acl.OpCreate}}}, func(b *testBroker) int16 {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "new", 1, 1
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.CreateTopicsResponse](b, 7, req).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"CreateTopics with Create on the cluster", false, nil, []grant{onCluster(acl.OpCreate)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "new", 1, 1
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.CreateTopicsResponse](b, 7, req).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DeleteTopics", false, nil, []grant{onTopic(acl.OpDelete)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDeleteTopicsRequest()
			rt := kmsg.NewDeleteTopicsRequestTopic()
			rt.Topic = kmsg.StringPtr("t")
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.DeleteTopicsResponse](b, 6, req).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"CreatePartitions", false, nil, []grant{onTopic(acl.OpAlter)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrCreatePartitionsRequest()
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = "t", 2
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.CreatePartitionsResponse](b, 3, req).Topics[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DeleteRecords", false, nil, []grant{onTopic(acl.OpDelete)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Offset = 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return do[*kmsg.DeleteRecordsResponse](b, 2, req).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DescribeConfigs of a topic", false, nil, []grant{onTopic(acl.OpAlterConfigs)}, func(b *testBroker) int16 { // implies DescribeConfigs
			req := kmsg.NewPtrDescribeConfigsRequest()
			r := kmsg.NewDescribeConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			req.Resources = append(req.Resources, r)
			return do[*kmsg.DescribeConfigsResponse](b, 4, req).Resources[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DescribeConfigs of a broker", false, nil, []grant{onCluster(acl.OpDescribeConfigs)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDescribeConfigsRequest()
			r := kmsg.NewDescribeConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
			req.Resources = append(req.Resources, r)
			return do[*kmsg.DescribeConfigsResponse](b, 4, req).Resources[0].ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"AlterConfigs", false, nil, []grant{onTopic(acl.OpAlterConfigs)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrAlterConfigsRequest()
			r := kmsg.NewAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("1000")
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return do[*kmsg.AlterConfigsResponse](b, 2, req).Resources[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"IncrementalAlterConfigs", false, nil, []grant{onTopic(acl.OpAlterConfigs)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrIncrementalAlterConfigsRequest()
			r := kmsg.NewIncrementalAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("1000")
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return do[*kmsg.IncrementalAlterConfigsResponse](b, 1, req).Resources[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DescribeLogDirs", false, nil, []grant{onCluster(acl.OpDescribe)}, func(b *testBroker) int16 {
			return do[*kmsg.DescribeLogDirsResponse](b, 4, kmsg.NewPtrDescribeLogDirsRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"InitProducerId with IdempotentWrite", false, nil, []grant{onCluster(acl.OpIdempotentWrite)}, func(b *testBroker) int16 {
			return do[*kmsg.InitProducerIDResponse](b, 4, kmsg.NewPtrInitProducerIDRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"InitProducerId with Write on a topic", false, nil, []grant{onTopic(acl.OpWrite)}, func(b *testBroker) int16 {
			return do[*kmsg.InitProducerIDResponse](b, 4, kmsg.NewPtrInitProducerIDRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"FindCoordinator", false, nil, []grant{onGroup(acl.OpDescribe)}, func(b *testBroker) int16 {
			return do[*kmsg.FindCoordinatorResponse](b, 4, findCoordinatorRequest(0, "g")).Coordinators[0].ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"FindCoordinator v3", false, nil, []grant{onGroup(acl.OpRead)}, func(b *testBroker) int16 {
			return do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"JoinGroup", false, nil, []grant{onGroup(acl.OpRead)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrJoinGroupRequest()
			req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = "g", 10000, 10000, "consumer"
			p := kmsg.NewJoinGroupRequestProtocol()
			p.Name = "range"
			req.Protocols = append(req.Protocols, p)
			return do[*kmsg.JoinGroupResponse](b, 9, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"Heartbeat", false, nil, []grant{onGroup(acl.OpRead)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID = "g", "m"
			return do[*kmsg.HeartbeatResponse](b, 4, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"SyncGroup", false, nil, []grant{onGroup(acl.OpRead)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrSyncGroupRequest()
			req.Group, req.MemberID = "g", "m"
			req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range") // mandatory at v5
			return do[*kmsg.SyncGroupResponse](b, 5, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"LeaveGroup", false, nil, []grant{onGroup(acl.OpRead)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrLeaveGroupRequest()
			req.Group = "g"
			m := kmsg.NewLeaveGroupRequestMember()
			m.MemberID = "m"
			req.Members = append(req.Members, m)
			return do[*kmsg.LeaveGroupResponse](b, 5, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"OffsetCommit of the group", false, nil, []grant{onGroup(acl.OpRead), {acl.ResourceTopic, "u", []acl.Operation{acl.OpRead}}}, func(b *testBroker) int16 {
			return commitCode(b, "u")
		}, kerr.GroupAuthorizationFailed},
		{"OffsetCommit of a topic", false, []grant{onGroup(acl.OpRead)}, []grant{onTopic(acl.OpRead)}, func(b *testBroker) int16 {
			return commitCode(b, "t")
		}, kerr.TopicAuthorizationFailed},
		{"OffsetFetch v7", false, nil, []grant{onGroup(acl.OpDescribe)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrOffsetFetchRequest()
			req.Group = "g"
			return do[*kmsg.OffsetFetchResponse](b, 7, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"OffsetFetch v8 of the group", false, nil, []grant{onGroup(acl.OpDescribe)}, func(b *testBroker) int16 {
			return offsetFetchV8(b).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"OffsetFetch v8 of a topic", false, []grant{onGroup(acl.OpDescribe)}, []grant{onTopic(acl.OpDescribe)}, func(b *testBroker) int16 {
			return offsetFetchV8(b).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"DescribeGroups", false, nil, []grant{onGroup(acl.OpDescribe)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDescribeGroupsRequest()
			req.Groups = []string{"g"}
			return do[*kmsg.DescribeGroupsResponse](b, 5, req).Groups[0].ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"DeleteGroups", false, nil, []grant{onGroup(acl.OpDelete)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDeleteGroupsRequest()
			req.Groups = []string{"g"}
			return do[*kmsg.DeleteGroupsResponse](b, 2, req).Groups[0].ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"OffsetDelete", false, nil, []grant{onGroup(acl.OpDelete)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrOffsetDeleteRequest()
			req.Group = "g"
			return do[*kmsg.OffsetDeleteResponse](b, 0, req).ErrorCode
		}, kerr.GroupAuthorizationFailed},
		{"CreateAcls", false, nil, []grant{onCluster(acl.OpAlter)}, func(b *testBroker) int16 {
			return do[*kmsg.CreateACLsResponse](b, 3, createACLsRequest("t", "User:bob")).Results[0].ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"DescribeAcls", false, nil, []grant{onCluster(acl.OpDescribe)}, func(b *testBroker) int16 {
			return do[*kmsg.DescribeACLsResponse](b, 3, describeAllACLs()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"DeleteAcls", false, nil, []grant{onCluster(acl.OpAlter)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrDeleteACLsRequest()
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, f.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
			f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			req.Filters = append(req.Filters, f)
			return do[*kmsg.DeleteACLsResponse](b, 3, req).Results[0].ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"ElectLeaders", true, nil, []grant{onCluster(acl.OpAlter)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrElectLeadersRequest()
			return do[*kmsg.ElectLeadersResponse](b, 2, req).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"AlterPartitionReassignments", true, nil, []grant{onCluster(acl.OpAlter)}, func(b *testBroker) int16 {
			return do[*kmsg.AlterPartitionAssignmentsResponse](b, 0, kmsg.NewPtrAlterPartitionAssignmentsRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"ListPartitionReassignments", true, nil, []grant{onCluster(acl.OpDescribe)}, func(b *testBroker) int16 {
			return do[*kmsg.ListPartitionReassignmentsResponse](b, 0, kmsg.NewPtrListPartitionReassignmentsRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"LeaderAndIsr", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			return do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(b.cluster.BrokerEpoch(), "t", 0, 0, 1, []int32{0}, []int32{0})).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"UpdateMetadata", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrUpdateMetadataRequest()
			req.ControllerEpoch, req.BrokerEpoch = controllerEpoch, b.cluster.BrokerEpoch()
			return do[*kmsg.UpdateMetadataResponse](b, 7, req).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"StopReplica", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrStopReplicaRequest()
			req.ControllerEpoch, req.BrokerEpoch = controllerEpoch, b.cluster.BrokerEpoch()
			return do[*kmsg.StopReplicaResponse](b, 3, req).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"ControlledShutdown", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			req := kmsg.NewPtrControlledShutdownRequest()
			req.BrokerID, req.BrokerEpoch = 0, b.cluster.BrokerEpoch()
			return do[*kmsg.ControlledShutdownResponse](b, 3, req).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"AlterPartition", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			return do[*kmsg.AlterPartitionResponse](b, 1, kmsg.NewPtrAlterPartitionRequest()).ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"WriteTxnMarkers", true, nil, []grant{onCluster(acl.OpClusterAction)}, func(b *testBroker) int16 {
			return markerCodes(do[*kmsg.WriteTxnMarkersResponse](b, 1, markers(5, 0, 0, true, "t", 0)))["t-0"]
		}, kerr.ClusterAuthorizationFailed},
		{"WriteTxnMarkers with Alter on the cluster", true, nil, []grant{onCluster(acl.OpAlter)}, func(b *testBroker) int16 {
			return markerCodes(do[*kmsg.WriteTxnMarkersResponse](b, 1, markers(5, 0, 0, true, "t", 0)))["t-0"]
		}, kerr.ClusterAuthorizationFailed},
		{"Produce transactional", false, []grant{onTopic(acl.OpWrite)}, []grant{{acl.ResourceTransactionalID, "txn", []acl.Operation{acl.OpWrite}}}, func(b *testBroker) int16 {
			return b.txnProduce("t", 0, txnBatch(5, 0, 0, 1)).ErrorCode
		}, kerr.TransactionalIDAuthorizationFailed},
	}
}

// servedCodes are the answers of the requests once allowed, where not
// NONE: what the broker answers them without an authorizer.
var servedCodes = map[string]int16{
	"Metadata auto-creating": kerr.LeaderNotAvailable.Code, // being created
	"JoinGroup":              kerr.MemberIDRequired.Code,
	"Heartbeat":              kerr.UnknownMemberID.Code,
	"SyncGroup":              kerr.UnknownMemberID.Code,
	"DeleteGroups":           kerr.GroupIDNotFound.Code,
	"OffsetDelete":           kerr.GroupIDNotFound.Code,
	// The fake cluster's broker hosts no partition.
	"WriteTxnMarkers": kerr.UnknownTopicOrPartition.Code,
	"WriteTxnMarkers with Alter on the cluster": kerr.UnknownTopicOrPartition.Code,
}

func offsetFetchV8(b *testBroker) kmsg.OffsetFetchResponseGroup {
	req := kmsg.NewPtrOffsetFetchRequest()
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = "g"
	gt := kmsg.NewOffsetFetchRequestGroupTopic()
	gt.Topic, gt.Partitions = "t", []int32{0}
	g.Topics = append(g.Topics, gt)
	req.Groups = append(req.Groups, g)
	return do[*kmsg.OffsetFetchResponse](b, 8, req).Groups[0]
}

func commitCode(b *testBroker, topic string) int16 {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = "g", -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := do[*kmsg.OffsetCommitResponse](b, 8, req)
	return resp.Topics[0].Partitions[0].ErrorCode
}

func createACLsRequest(topic, principal string) *kmsg.CreateACLsRequest {
	req := kmsg.NewPtrCreateACLsRequest()
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, topic, kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host, c.Operation, c.PermissionType = principal, "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
	req.Creations = append(req.Creations, c)
	return req
}

func describeAllACLs() *kmsg.DescribeACLsRequest {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	return req
}

// TestAuthorizationTable: each API refused to a principal without the
// ACLs Kafka requires, with Kafka's code where Kafka puts it, and no
// longer refused once they are granted.
func TestAuthorizationTable(t *testing.T) {
	for _, c := range authzCases() {
		t.Run(c.name, func(t *testing.T) { synctest.Test(t, c.run) })
	}
}

// run checks the case in a new broker, as in TestAuthorizationTable.
func (c authzCase) run(t *testing.T) {
	var b *testBroker
	if c.cluster {
		cl := &fakeCluster{epoch: 5, controllerID: 0, ctl: &fakeController{alterPartition: kmsg.NewPtrAlterPartitionResponse()}}
		b = newClusterBroker(t, cl, authzProps)
	} else {
		b = newTestBroker(t, authzProps)
		b.as(superUser)
		b.createTopic("t", 1, nil)
		b.createTopic("u", 1, nil)
		if p := b.produce(9, -1, "t", 0, testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 4, Fill: 'a', Timestamp: 1})); p.ErrorCode != 0 {
			t.Fatalf("produce as admin: %d", p.ErrorCode)
		}
		wantCode(t, "FindCoordinator as admin", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
		synctest.Wait() // __consumer_offsets loaded: the group APIs answer for real
	}
	b.as(alice)
	for _, g := range c.pre {
		b.grant(g.t, g.name, g.ops...)
	}
	wantCode(t, "without ACLs", c.send(b), c.denied)
	for _, g := range c.grants {
		b.grant(g.t, g.name, g.ops...)
	}
	got := c.send(b)
	if got == c.denied.Code {
		t.Errorf("with %v: still %s", c.grants, c.denied.Message)
	}
	if want := servedCodes[c.name]; got != want {
		t.Errorf("with %v: code %d, want %d: the request was not served as it is without an authorizer", c.grants, got, want)
	}
}

// TestAuthorizationNone: without authorizer.class.name nothing is
// refused, and the ACL APIs answer SECURITY_DISABLED.
func TestAuthorizationNone(t *testing.T) {
	b := newTestBroker(t, nil)
	b.as(alice)
	b.createTopic("t", 1, nil)
	wantCode(t, "produce", b.produce(9, -1, "t", 0, testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 4, Fill: 'a', Timestamp: 1})).ErrorCode, nil)
	wantCode(t, "DescribeAcls", do[*kmsg.DescribeACLsResponse](b, 3, describeAllACLs()).ErrorCode, kerr.SecurityDisabled)
	wantCode(t, "CreateAcls", do[*kmsg.CreateACLsResponse](b, 3, createACLsRequest("t", "User:bob")).Results[0].ErrorCode, kerr.SecurityDisabled)
	md := do[*kmsg.MetadataResponse](b, 8, func() *kmsg.MetadataRequest {
		r := metadataRequest("t")
		r.IncludeTopicAuthorizedOperations, r.IncludeClusterAuthorizedOperations = true, true
		return r
	}())
	wantOps := int32(1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11)
	if md.Topics[0].AuthorizedOperations != wantOps || md.AuthorizedOperations != 1<<5|1<<7|1<<8|1<<9|1<<10|1<<11|1<<12 {
		t.Errorf("authorized operations without an authorizer: topic %b, cluster %b", md.Topics[0].AuthorizedOperations, md.AuthorizedOperations)
	}
}

// TestMetadataAuthorization: the topics a principal may not describe are
// left out of "all topics" and refused by name without saying whether they
// exist; KIP-430 operations come from the ACLs.
func TestMetadataAuthorization(t *testing.T) {
	b := newTestBroker(t, authzProps)
	b.as(superUser)
	b.createTopic("t", 1, nil)
	b.createTopic("hidden", 1, nil)
	b.as(alice)
	b.grant(acl.ResourceTopic, "t", acl.OpRead)
	all := kmsg.NewPtrMetadataRequest()
	all.IncludeTopicAuthorizedOperations, all.IncludeClusterAuthorizedOperations = true, true
	md := do[*kmsg.MetadataResponse](b, 10, all)
	if len(md.Topics) != 1 || *md.Topics[0].Topic != "t" {
		t.Fatalf("all topics: %+v", md.Topics)
	}
	if got, want := md.Topics[0].AuthorizedOperations, int32(1<<acl.OpRead|1<<acl.OpDescribe); got != want {
		t.Errorf("topic operations %b, want %b", got, want)
	}
	if md.AuthorizedOperations != 0 {
		t.Errorf("cluster operations without Describe on the cluster: %b, want 0", md.AuthorizedOperations)
	}
	named := do[*kmsg.MetadataResponse](b, 12, metadataRequest("hidden", "absent"))
	for _, mt := range named.Topics {
		wantCode(t, *mt.Topic, mt.ErrorCode, kerr.TopicAuthorizationFailed)
		if mt.TopicID != [16]byte{} || len(mt.Partitions) != 0 {
			t.Errorf("%s: a refused topic discloses %+v", *mt.Topic, mt)
		}
	}
	plain := do[*kmsg.MetadataResponse](b, 12, metadataRequest("t"))
	if plain.Topics[0].AuthorizedOperations != math.MinInt32 {
		t.Errorf("operations not asked for: %d", plain.Topics[0].AuthorizedOperations)
	}
	b.grant(acl.ResourceCluster, acl.ClusterName, acl.OpAlter)
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.IncludeClusterAuthorizedOperations = true
	if got := do[*kmsg.DescribeClusterResponse](b, 0, dc).ClusterAuthorizedOperations; got != 1<<acl.OpAlter|1<<acl.OpDescribe {
		t.Errorf("DescribeCluster operations %b, want Alter and the Describe it implies", got)
	}
}

// TestFetchAuthorization: a fetch of two topics reads the allowed one and
// refuses the other, without waiting on it.
func TestFetchAuthorization(t *testing.T) {
	b := newTestBroker(t, authzProps)
	b.as(superUser)
	b.createTopic("t", 1, nil)
	b.createTopic("u", 1, nil)
	b.produce(9, -1, "t", 0, testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 4, Fill: 'a', Timestamp: 1}))
	b.as(alice)
	b.grant(acl.ResourceTopic, "t", acl.OpRead)
	req := fetchRequest("t", 0, 0)
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "u"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append([]kmsg.FetchRequestTopic{rt}, req.Topics...)
	resp := do[*kmsg.FetchResponse](b, 12, req)
	if len(resp.Topics) != 2 || resp.Topics[0].Topic != "u" || resp.Topics[1].Topic != "t" {
		t.Fatalf("topics %+v", resp.Topics)
	}
	wantCode(t, "u", resp.Topics[0].Partitions[0].ErrorCode, kerr.TopicAuthorizationFailed)
	if p := resp.Topics[1].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
		t.Errorf("t: code %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
}

// TestGroupAuthorization: offsets of topics the principal may not describe
// are refused by name and left out of "all"; groups it may not describe
// are left out of ListGroups.
func TestGroupAuthorization(t *testing.T) {
	synctest.Test(t, testGroupAuthorization)
}

func testGroupAuthorization(t *testing.T) {
	b := newTestBroker(t, authzProps)
	b.as(superUser)
	b.createTopic("t", 1, nil)
	b.createTopic("u", 1, nil)
	wantCode(t, "FindCoordinator", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
	synctest.Wait() // the partition of __consumer_offsets is loaded
	for _, topic := range []string{"t", "u"} {
		if code := commitCode(b, topic); code != 0 {
			t.Fatalf("commit to %s as admin: %d", topic, code)
		}
	}
	b.as(alice)
	b.grant(acl.ResourceGroup, "g", acl.OpDescribe)
	b.grant(acl.ResourceTopic, "t", acl.OpDescribe)
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = "g"
	all := do[*kmsg.OffsetFetchResponse](b, 7, req)
	if all.ErrorCode != 0 || len(all.Topics) != 1 || all.Topics[0].Topic != "t" {
		t.Errorf("all offsets: %+v, want t's only", all)
	}
	for _, name := range []string{"t", "u"} {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = name, []int32{0}
		req.Topics = append(req.Topics, rt)
	}
	named := do[*kmsg.OffsetFetchResponse](b, 7, req)
	codes := map[string]int16{}
	for _, rt := range named.Topics {
		codes[rt.Topic] = rt.Partitions[0].ErrorCode
	}
	if codes["t"] != 0 || codes["u"] != kerr.TopicAuthorizationFailed.Code || len(codes) != 2 {
		t.Errorf("named offsets: %v", codes)
	}
	v1 := do[*kmsg.OffsetFetchResponse](b, 1, func() *kmsg.OffsetFetchRequest { r := *req; r.Group = "other"; return &r }())
	for _, rt := range v1.Topics {
		wantCode(t, "v1, group refused, "+rt.Topic, rt.Partitions[0].ErrorCode, kerr.GroupAuthorizationFailed)
	}
	lg := do[*kmsg.ListGroupsResponse](b, 4, kmsg.NewPtrListGroupsRequest())
	if len(lg.Groups) != 1 || lg.Groups[0].Group != "g" {
		t.Errorf("listed %+v", lg.Groups)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups, dg.IncludeAuthorizedOperations = []string{"g"}, true
	if got := do[*kmsg.DescribeGroupsResponse](b, 5, dg).Groups[0].AuthorizedOperations; got != 1<<acl.OpDescribe {
		t.Errorf("group operations %b, want Describe", got)
	}
}

// TestACLAPIs: CreateAcls, DescribeAcls and DeleteAcls at every version,
// as kafka-acls.sh and kadm use them: created ACLs are described by
// filters (exact, ANY, MATCH), invalid ones refused one by one, requests
// Kafka's parser refuses close the connection, and a delete reports what
// each filter removed.
func TestACLAPIs(t *testing.T) {
	b := newTestBroker(t, authzProps)
	b.as(superUser)
	for v := int16(0); v <= 3; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			req := createACLsRequest("orders", "User:bob")
			if v >= 1 {
				c := req.Creations[0]
				c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeGroup, "app-", kmsg.ACLResourcePatternTypePrefixed
				c.Operation, c.PermissionType, c.Host = kmsg.ACLOperationAll, kmsg.ACLPermissionTypeDeny, "10.0.0.1"
				req.Creations = append(req.Creations, c)
			}
			bad := req.Creations[0]
			bad.ResourceType, bad.ResourceName = kmsg.ACLResourceTypeCluster, "not-kafka-cluster"
			req.Creations = append(req.Creations, bad)
			created := do[*kmsg.CreateACLsResponse](b, v, req)
			for i, r := range created.Results[:len(created.Results)-1] {
				wantCode(t, fmt.Sprintf("creation %d", i), r.ErrorCode, nil)
			}
			wantCode(t, "a cluster not named kafka-cluster", created.Results[len(created.Results)-1].ErrorCode, kerr.InvalidRequest)

			described := do[*kmsg.DescribeACLsResponse](b, v, describeAllACLs())
			wantCode(t, "describe", described.ErrorCode, nil)
			want := 1
			if v >= 1 {
				want = 2
			}
			if len(described.Resources) != want {
				t.Fatalf("described %+v, want %d resources", described.Resources, want)
			}
			if r := described.Resources[0]; r.ResourceName != "orders" || r.ACLs[0].Principal != "User:bob" || r.ACLs[0].Operation != kmsg.ACLOperationRead {
				t.Errorf("described %+v", r)
			}
			if v >= 1 {
				match := describeAllACLs()
				match.ResourceType, match.ResourceName, match.ResourcePatternType = kmsg.ACLResourceTypeGroup, kmsg.StringPtr("app-1"), kmsg.ACLResourcePatternTypeMatch
				if got := do[*kmsg.DescribeACLsResponse](b, v, match).Resources; len(got) != 1 || got[0].ResourceName != "app-" {
					t.Errorf("MATCH app-1: %+v", got)
				}
			}

			del := kmsg.NewPtrDeleteACLsRequest()
			for _, name := range []string{"orders", "app-"} {
				f := kmsg.NewDeleteACLsRequestFilter()
				f.ResourceType, f.ResourceName, f.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.StringPtr(name), kmsg.ACLResourcePatternTypeAny
				f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
				if v == 0 {
					f.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
				}
				del.Filters = append(del.Filters, f)
			}
			deleted := do[*kmsg.DeleteACLsResponse](b, v, del)
			if len(deleted.Results[0].MatchingACLs) != 1 || deleted.Results[0].MatchingACLs[0].ResourceName != "orders" {
				t.Errorf("deleted by the first filter: %+v", deleted.Results[0])
			}
			if n := len(deleted.Results[1].MatchingACLs); n != want-1 {
				t.Errorf("deleted by the second filter: %d, want %d", n, want-1)
			}
			if left := do[*kmsg.DescribeACLsResponse](b, v, describeAllACLs()).Resources; len(left) != 0 {
				t.Errorf("left after the delete: %+v", left)
			}
		})
	}
	// Requests Kafka's parser refuses close the connection.
	unknown := createACLsRequest("t", "User:bob")
	unknown.Creations[0].Operation = 0
	if !b.closes(3, unknown) {
		t.Error("a creation with an UNKNOWN operation was answered")
	}
	noType := describeAllACLs()
	noType.ResourceType = 0
	if !b.closes(2, noType) {
		t.Error("a DescribeAcls filter of UNKNOWN type was answered")
	}
	// Creations refused one by one, with INVALID_REQUEST.
	invalid := createACLsRequest("a/b", "User:bob")
	for _, edit := range []func(c *kmsg.CreateACLsRequestCreation){
		func(c *kmsg.CreateACLsRequestCreation) { c.ResourceName = "" },
		func(c *kmsg.CreateACLsRequestCreation) { c.Principal = "bob" },
		func(c *kmsg.CreateACLsRequestCreation) { c.Operation = kmsg.ACLOperationAny },
		func(c *kmsg.CreateACLsRequestCreation) { c.ResourcePatternType = kmsg.ACLResourcePatternTypeMatch },
		func(c *kmsg.CreateACLsRequestCreation) { c.ResourceType = 42 },
	} {
		c := createACLsRequest("t", "User:bob").Creations[0]
		edit(&c)
		invalid.Creations = append(invalid.Creations, c)
	}
	for i, r := range do[*kmsg.CreateACLsResponse](b, 3, invalid).Results {
		wantCode(t, fmt.Sprintf("invalid creation %d", i), r.ErrorCode, kerr.InvalidRequest)
	}
	if left := b.authz.ACLs(acl.MatchAll); len(left) != 0 {
		t.Errorf("invalid creations stored %v", left)
	}
}
