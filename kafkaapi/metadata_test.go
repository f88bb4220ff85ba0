package kafkaapi

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
	"samsa/security"
)

// TestMetadataTopics: known topics with their partitions and IDs (v10+),
// unknown ones with Kafka's errors, and every topic for a null list (v1+)
// or an empty one (v0).
func TestMetadataTopics(t *testing.T) {
	b := newTestBroker(t, map[string]string{"auto.create.topics.enable": "false"})
	b.createTopic("a", 2, nil)
	b.createTopic("b", 1, nil)
	id := b.cache.Load().Topic("a").ID

	resp := do[*kmsg.MetadataResponse](b, 12, metadataRequest("a", "nope", "bad/name"))
	if resp.ClusterID == nil || *resp.ClusterID != b.store.ClusterID() || resp.ControllerID != b.cfg.BrokerID {
		t.Errorf("cluster %v controller %d", resp.ClusterID, resp.ControllerID)
	}
	if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != b.cfg.BrokerID || resp.Brokers[0].Host != "127.0.0.1" || resp.Brokers[0].Port != 9092 {
		t.Errorf("brokers %+v", resp.Brokers)
	}
	if len(resp.Topics) != 3 {
		t.Fatalf("topics %+v", resp.Topics)
	}
	a := resp.Topics[0]
	wantCode(t, "a", a.ErrorCode, nil)
	if *a.Topic != "a" || a.TopicID != id || len(a.Partitions) != 2 || a.IsInternal {
		t.Errorf("a: %+v", a)
	}
	for i, p := range a.Partitions {
		if p.Partition != int32(i) || p.Leader != b.cfg.BrokerID || p.LeaderEpoch != 0 || len(p.Replicas) != 1 || len(p.ISR) != 1 || p.ErrorCode != 0 {
			t.Errorf("a-%d: %+v", i, p)
		}
	}
	wantCode(t, "unknown topic, auto-creation off", resp.Topics[1].ErrorCode, kerr.UnknownTopicOrPartition)
	wantCode(t, "an invalid name", resp.Topics[2].ErrorCode, kerr.InvalidTopicException)
	if b.cache.Load().Topic("nope") != nil {
		t.Error("created with auto.create.topics.enable=false")
	}

	for _, c := range []struct {
		name    string
		version int16
		topics  []kmsg.MetadataRequestTopic
		want    int
	}{
		{"null list, v1", 1, nil, 2},
		{"null list, v12", 12, nil, 2},
		{"empty list, v0: all", 0, []kmsg.MetadataRequestTopic{}, 2},
		{"empty list, v1: none", 1, []kmsg.MetadataRequestTopic{}, 0},
	} {
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = c.topics
		if resp := do[*kmsg.MetadataResponse](b, c.version, req); len(resp.Topics) != c.want {
			t.Errorf("%s: %d topics, want %d", c.name, len(resp.Topics), c.want)
		}
	}
}

// TestMetadataTopicIDs: v12 names topics by ID (KIP-516): a known ID is
// answered with its name, an unknown one with UNKNOWN_TOPIC_ID.
func TestMetadataTopicIDs(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("a", 1, nil)
	id := b.cache.Load().Topic("a").ID
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: id}, {TopicID: metadata.NewTopicID()}}
	resp := do[*kmsg.MetadataResponse](b, 12, req)
	if len(resp.Topics) != 2 {
		t.Fatalf("topics %+v", resp.Topics)
	}
	if got := resp.Topics[0]; got.ErrorCode != 0 || got.Topic == nil || *got.Topic != "a" || got.TopicID != id || len(got.Partitions) != 1 {
		t.Errorf("by known ID: %+v", got)
	}
	wantCode(t, "unknown topic ID", resp.Topics[1].ErrorCode, kerr.UnknownTopicID)
	if resp.Topics[1].Topic != nil {
		t.Errorf("unknown topic ID answered with name %q", *resp.Topics[1].Topic)
	}
}

// TestMetadataAutoCreate: with auto.create.topics.enable, an unknown topic
// is created and answered LEADER_NOT_AVAILABLE with no partitions (clients
// retry), when the request allows it (v4+; always before); a topic that
// cannot be created has the error that refused it.
func TestMetadataAutoCreate(t *testing.T) {
	b := newTestBroker(t, map[string]string{"num.partitions": "3"})
	for _, c := range []struct {
		name    string
		version int16
		topic   string
		allow   bool
		want    *kerr.Error
		created bool
	}{
		{"allowed", 12, "auto1", true, kerr.LeaderNotAvailable, true},
		{"not allowed", 12, "auto2", false, kerr.UnknownTopicOrPartition, false},
		{"v3 always allows", 3, "auto3", false, kerr.LeaderNotAvailable, true},
		{"invalid name", 12, "bad name", true, kerr.InvalidTopicException, false},
		{"name too long", 12, strings.Repeat("a", 250), true, kerr.InvalidTopicException, false},
	} {
		req := metadataRequest(c.topic)
		req.AllowAutoTopicCreation = c.allow
		resp := do[*kmsg.MetadataResponse](b, c.version, req)
		mt := resp.Topics[0]
		wantCode(t, c.name, mt.ErrorCode, c.want)
		if len(mt.Partitions) != 0 {
			t.Errorf("%s: partitions %+v", c.name, mt.Partitions)
		}
		if created := b.cache.Load().Topic(c.topic) != nil; created != c.created {
			t.Errorf("%s: created %v, want %v", c.name, created, c.created)
		}
	}
	// The next request sees the topic, with num.partitions partitions.
	resp := do[*kmsg.MetadataResponse](b, 12, metadataRequest("auto1"))
	if mt := resp.Topics[0]; mt.ErrorCode != 0 || len(mt.Partitions) != 3 {
		t.Errorf("auto1 after creation: %+v", mt)
	}
	// Asking again for a topic a request just created is no error.
	req := metadataRequest("auto1")
	req.AllowAutoTopicCreation = true
	wantCode(t, "auto1 again", do[*kmsg.MetadataResponse](b, 12, req).Topics[0].ErrorCode, nil)

	// default.replication.factor larger than the cluster: the creation's
	// error, as Kafka's hasEnoughLiveBrokers check gives it.
	b = newTestBroker(t, map[string]string{"default.replication.factor": "2"})
	req = metadataRequest("auto")
	req.AllowAutoTopicCreation = true
	wantCode(t, "replication factor 2 on one broker", do[*kmsg.MetadataResponse](b, 12, req).Topics[0].ErrorCode, kerr.InvalidReplicationFactor)
}

// TestMetadataCluster: in ZooKeeper mode the brokers, the controller and
// the partitions' states are the metadata cache's (UpdateMetadata), and a
// partition without a leader is LEADER_NOT_AVAILABLE with its replicas.
func TestMetadataCluster(t *testing.T) {
	cl := &fakeCluster{epoch: 100, controllerID: 2}
	b := newClusterBroker(t, cl, nil)
	b.cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: 0, Host: "h0", Port: 1}, {ID: 1, Host: "h1", Port: 2}, {ID: 2, Host: "h2", Port: 3}})
		e.SetController(2)
	})
	b.setPartition("t", 0, metadataState(1, 4, 1, 0))
	b.setPartition("t", 1, metadata.PartitionState{Leader: -1, LeaderEpoch: 7, Replicas: []int32{2}, ISR: []int32{2}, Offline: []int32{2}})
	resp := do[*kmsg.MetadataResponse](b, 12, metadataRequest("t"))
	if resp.ControllerID != 2 || len(resp.Brokers) != 3 {
		t.Errorf("controller %d, brokers %+v", resp.ControllerID, resp.Brokers)
	}
	ps := resp.Topics[0].Partitions
	if len(ps) != 2 {
		t.Fatalf("partitions %+v", ps)
	}
	if p := ps[0]; p.ErrorCode != 0 || p.Leader != 1 || p.LeaderEpoch != 4 || len(p.Replicas) != 2 {
		t.Errorf("t-0: %+v", p)
	}
	if p := ps[1]; p.ErrorCode != kerr.LeaderNotAvailable.Code || p.Leader != -1 || p.LeaderEpoch != 7 || len(p.OfflineReplicas) != 1 {
		t.Errorf("t-1: %+v", p)
	}
}

// Kafka's AclOperation codes of the operations it defines per resource
// (AclEntry.supportedOperations); with no authorizer all are allowed.
const (
	opRead, opWrite, opCreate, opDelete, opAlter, opDescribe = 3, 4, 5, 6, 7, 8
	opClusterAction, opDescribeConfigs, opAlterConfigs       = 9, 10, 11
	opIdempotentWrite                                        = 12
)

var (
	clusterOps = int32(1<<opCreate | 1<<opAlter | 1<<opDescribe | 1<<opClusterAction | 1<<opDescribeConfigs | 1<<opAlterConfigs | 1<<opIdempotentWrite)
	topicOps   = int32(1<<opRead | 1<<opWrite | 1<<opCreate | 1<<opDelete | 1<<opAlter | 1<<opDescribe | 1<<opDescribeConfigs | 1<<opAlterConfigs)
)

// TestAuthorizedOperations: KIP-430's bitfields are Kafka's operations of
// the resource, when asked for (otherwise Kafka's "not asked" value,
// -2^31).
func TestAuthorizedOperations(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.IncludeClusterAuthorizedOperations = true
	if got := do[*kmsg.DescribeClusterResponse](b, 1, dc).ClusterAuthorizedOperations; got != clusterOps {
		t.Errorf("DescribeCluster: cluster operations %b, want %b", got, clusterOps)
	}
	md := metadataRequest("t")
	md.IncludeClusterAuthorizedOperations, md.IncludeTopicAuthorizedOperations = true, true
	resp := do[*kmsg.MetadataResponse](b, 8, md)
	if resp.AuthorizedOperations != clusterOps || resp.Topics[0].AuthorizedOperations != topicOps {
		t.Errorf("Metadata v8: cluster operations %b, topic operations %b; want %b, %b", resp.AuthorizedOperations, resp.Topics[0].AuthorizedOperations, clusterOps, topicOps)
	}
	resp = do[*kmsg.MetadataResponse](b, 8, metadataRequest("t"))
	if resp.AuthorizedOperations != -1<<31 || resp.Topics[0].AuthorizedOperations != -1<<31 {
		t.Errorf("Metadata v8 not asked: %d, %d", resp.AuthorizedOperations, resp.Topics[0].AuthorizedOperations)
	}
}

// TestDescribeCluster: this broker's view of the cluster; v1 (KIP-919)
// refuses to describe controllers.
func TestDescribeCluster(t *testing.T) {
	b := newTestBroker(t, nil)
	for _, c := range []struct {
		version      int16
		endpointType int8
		want         *kerr.Error
	}{
		{0, 1, nil},
		{1, 1, nil},
		{1, 2, kerr.MismatchedEndpointType},
		{1, 3, kerr.UnsupportedVersion},
	} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.EndpointType = c.endpointType
		req.IncludeClusterAuthorizedOperations = true
		resp := do[*kmsg.DescribeClusterResponse](b, c.version, req)
		wantCode(t, "DescribeCluster", resp.ErrorCode, c.want)
		if c.want != nil {
			continue
		}
		if resp.ClusterID != b.store.ClusterID() || resp.ControllerID != b.cfg.BrokerID || len(resp.Brokers) != 1 || resp.ClusterAuthorizedOperations <= 0 {
			t.Errorf("v%d: %+v", c.version, resp)
		}
	}
}

// TestApiVersions: the versions served, exactly the handlers registered;
// a version above those served gets a v0 answer with UNSUPPORTED_VERSION
// and the list (KIP-511); v3 checks the client's software name.
func TestApiVersions(t *testing.T) {
	b := newTestBroker(t, nil)
	resp := do[*kmsg.ApiVersionsResponse](b, 3, apiVersionsRequest())
	wantCode(t, "ApiVersions v3", resp.ErrorCode, nil)
	checkAPIList(t, resp.ApiKeys)
	for v := int16(0); v <= 2; v++ {
		checkAPIList(t, do[*kmsg.ApiVersionsResponse](b, v, kmsg.NewPtrApiVersionsRequest()).ApiKeys)
	}

	// A version this broker does not speak: the body is not parsed.
	frame := binary.BigEndian.AppendUint16(nil, apiVersionsKey)
	frame = binary.BigEndian.AppendUint16(frame, 99)
	frame = binary.BigEndian.AppendUint32(frame, 42)
	frame = binary.BigEndian.AppendUint16(frame, 1)
	frame = append(frame, 'c', 0xde, 0xad)
	answer, closed := b.exchange(sized(frame))
	if closed {
		t.Fatal("ApiVersions v99 closed the connection")
	}
	if corr := binary.BigEndian.Uint32(answer); corr != 42 {
		t.Fatalf("correlation id %d", corr)
	}
	r, err := decodeResponse(answer, apiVersionsKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	v0 := r.(*kmsg.ApiVersionsResponse)
	wantCode(t, "ApiVersions v99", v0.ErrorCode, kerr.UnsupportedVersion)
	checkAPIList(t, v0.ApiKeys)

	for _, c := range []struct{ name, version string }{
		{"", "1.0"},
		{"-bad", "1.0"},
		{"ok", "bad version!"},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = c.name, c.version
		resp := do[*kmsg.ApiVersionsResponse](b, 3, req)
		wantCode(t, "client software "+c.name+" "+c.version, resp.ErrorCode, kerr.InvalidRequest)
	}
}

// checkAPIList: the advertised list is the registry, sorted by key, and
// holds what clients rely on.
func checkAPIList(t *testing.T, keys []kmsg.ApiVersionsResponseApiKey) {
	t.Helper()
	if len(keys) != len(apis) {
		t.Errorf("%d APIs advertised, %d served", len(keys), len(apis))
	}
	for i, k := range keys {
		if i > 0 && keys[i-1].ApiKey >= k.ApiKey {
			t.Errorf("keys not sorted at %d", k.ApiKey)
		}
		h, ok := apis[k.ApiKey]
		if !ok || h.min != k.MinVersion || h.max != k.MaxVersion {
			t.Errorf("%s advertised %d-%d", kmsg.NameForKey(k.ApiKey), k.MinVersion, k.MaxVersion)
		}
	}
	if _, ok := apis[22]; !ok {
		t.Error("InitProducerId not served")
	}
	// The transaction coordinator's APIs, at Kafka 3.8's versions.
	for key, max := range map[int16]int16{10: 5, 22: 5, 24: 5, 25: 4, 26: 4, 28: 4, 61: 0, 65: 0, 66: 1} {
		if h, ok := apis[key]; !ok || h.min != 0 || h.max != max {
			t.Errorf("%s served %d-%d, want 0-%d", kmsg.NameForKey(key), h.min, h.max, max)
		}
	}
}

// TestUnservedRequestsCloseTheConnection: an unknown key, an unsupported
// version of an API other than ApiVersions, and a body that does not parse
// close the connection, as Kafka does.
func TestUnservedRequestsCloseTheConnection(t *testing.T) {
	b := newTestBroker(t, nil)
	raw := func(key, version int16, body ...byte) []byte {
		f := binary.BigEndian.AppendUint16(nil, uint16(key))
		f = binary.BigEndian.AppendUint16(f, uint16(version))
		f = binary.BigEndian.AppendUint32(f, 1)
		f = binary.BigEndian.AppendUint16(f, 0xffff) // null client id
		return sized(append(f, body...))
	}
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"unknown key", raw(999, 0)},
		{"Fetch v3 (below those served)", raw(1, 3)},
		{"Metadata v13", raw(3, 13)},
		{"a Metadata v1 body cut short", raw(3, 1, 0, 0, 0, 5)},
		{"a header cut short", sized([]byte{0, 3, 0})},
	} {
		if _, closed := b.exchange(c.frame); !closed {
			t.Errorf("%s: answered", c.name)
		}
	}
	// The broker still serves new connections.
	wantCode(t, "ApiVersions after", do[*kmsg.ApiVersionsResponse](b, 3, apiVersionsRequest()).ErrorCode, nil)
}

// TestMetadataPerListener: a client sees the brokers at their endpoints on
// its listener, those without it left out, and a partition led by one of
// those is LISTENER_NOT_FOUND (v6+) or LEADER_NOT_AVAILABLE (before), with
// no leader, as Kafka's MetadataCache answers.
func TestMetadataPerListener(t *testing.T) {
	b := newTestBroker(t, nil)
	b.cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{
			{ID: 0, Host: "10.0.0.1", Port: 9095, Epoch: -1, Endpoints: []metadata.Endpoint{
				{Listener: "PLAINTEXT", Protocol: security.Plaintext, Host: "b0.example", Port: 9092},
				{Listener: "INTERNAL", Protocol: security.SSL, Host: "10.0.0.1", Port: 9095}}},
			{ID: 1, Host: "10.0.0.2", Port: 9095, Epoch: -1, Endpoints: []metadata.Endpoint{
				{Listener: "INTERNAL", Protocol: security.SSL, Host: "10.0.0.2", Port: 9095}}},
		})
		e.PutTopic(&metadata.TopicInfo{Name: "split", Partitions: []metadata.PartitionState{
			{Leader: 0, Replicas: []int32{0, 1}, ISR: []int32{0, 1}},
			{Leader: 1, Replicas: []int32{1, 0}, ISR: []int32{1, 0}},
		}})
	})
	for _, c := range []struct {
		version int16
		code    *kerr.Error
	}{{12, kerr.ListenerNotFound}, {6, kerr.ListenerNotFound}, {5, kerr.LeaderNotAvailable}} {
		resp := do[*kmsg.MetadataResponse](b, c.version, metadataRequest("split"))
		if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 0 || resp.Brokers[0].Host != "b0.example" || resp.Brokers[0].Port != 9092 {
			t.Fatalf("v%d brokers %+v, want broker 0 at its PLAINTEXT endpoint only", c.version, resp.Brokers)
		}
		ps := resp.Topics[0].Partitions
		wantCode(t, "partition led on the listener", ps[0].ErrorCode, nil)
		wantCode(t, "partition led off the listener", ps[1].ErrorCode, c.code)
		if ps[0].Leader != 0 || ps[1].Leader != -1 {
			t.Fatalf("v%d leaders %d, %d; want 0, -1", c.version, ps[0].Leader, ps[1].Leader)
		}
	}
}
