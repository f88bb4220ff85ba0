package kafkaapi

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
)

// createTopicsEntry is one topic of a CreateTopics request.
func createTopicsEntry(name string, partitions int32, replication int16, configs ...string) kmsg.CreateTopicsRequestTopic {
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, replication
	for i := 0; i+1 < len(configs); i += 2 {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = configs[i], kmsg.StringPtr(configs[i+1])
		rt.Configs = append(rt.Configs, c)
	}
	return rt
}

// TestCreateTopicsErrors: Kafka's checks, each with its code and (v1+) a
// message; nothing is created by a refused entry.
func TestCreateTopicsErrors(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("exists", 1, nil)
	b.createTopic("a.b", 1, nil)

	nullConfig := createTopicsEntry("nullconfig", 1, 1)
	nullConfig.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "retention.ms"}}
	assigned := func(name string, partitions, replication int32, replicas ...[]int32) kmsg.CreateTopicsRequestTopic {
		rt := createTopicsEntry(name, partitions, int16(replication))
		for i, r := range replicas {
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: int32(i), Replicas: r})
		}
		return rt
	}
	for _, c := range []struct {
		name  string
		topic kmsg.CreateTopicsRequestTopic
		want  *kerr.Error
	}{
		{"exists", createTopicsEntry("exists", 1, 1), kerr.TopicAlreadyExists},
		{"zero partitions", createTopicsEntry("zero", 0, 1), kerr.InvalidPartitions},
		{"negative partitions", createTopicsEntry("neg", -2, 1), kerr.InvalidPartitions},
		{"zero replicas", createTopicsEntry("norf", 1, 0), kerr.InvalidReplicationFactor},
		{"more replicas than brokers", createTopicsEntry("rf2", 1, 2), kerr.InvalidReplicationFactor},
		{"unknown config", createTopicsEntry("unknowncfg", 1, 1, "no.such.config", "1"), kerr.InvalidConfig},
		{"bad config value", createTopicsEntry("badcfg", 1, 1, "retention.ms", "soon"), kerr.InvalidConfig},
		{"bad cleanup.policy", createTopicsEntry("badpolicy", 1, 1, "cleanup.policy", "shred"), kerr.InvalidConfig},
		{"null config value", nullConfig, kerr.InvalidConfig},
		{"a slash in the name", createTopicsEntry("bad/name", 1, 1), kerr.InvalidTopicException},
		{"name '..'", createTopicsEntry("..", 1, 1), kerr.InvalidTopicException},
		{"empty name", createTopicsEntry("", 1, 1), kerr.InvalidTopicException},
		{"name too long", createTopicsEntry(strings.Repeat("x", 250), 1, 1), kerr.InvalidTopicException},
		{"collides with a.b", createTopicsEntry("a_b", 1, 1), kerr.InvalidTopicException},
		{"assignment and a partition count", assigned("assigned1", 1, -1, []int32{0}), kerr.InvalidRequest},
		{"assignment to another broker", assigned("assigned2", -1, -1, []int32{7}), kerr.InvalidReplicaAssignment},
		{"assignment with a duplicate replica", assigned("assigned3", -1, -1, []int32{0, 0}), kerr.InvalidReplicaAssignment},
	} {
		for _, v := range []int16{0, 7} {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.Topics = append(req.Topics, c.topic)
			resp := do[*kmsg.CreateTopicsResponse](b, v, req)
			st := resp.Topics[0]
			wantCode(t, c.name, st.ErrorCode, c.want)
			if v >= 1 && (st.ErrorMessage == nil || *st.ErrorMessage == "") {
				t.Errorf("%s v%d: no message", c.name, v)
			}
			if v == 7 && (st.TopicID != [16]byte{} || st.NumPartitions != -1 || st.ReplicationFactor != -1) {
				t.Errorf("%s: refused with ID %x, %d partitions, rf %d", c.name, st.TopicID, st.NumPartitions, st.ReplicationFactor)
			}
		}
		if c.want != kerr.TopicAlreadyExists && b.cache.Load().Topic(c.topic.Topic) != nil {
			t.Errorf("%s: created", c.name)
		}
	}

	// A name twice in one request fails at both entries.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics = []kmsg.CreateTopicsRequestTopic{createTopicsEntry("twice", 1, 1), createTopicsEntry("twice", 2, 1), createTopicsEntry("once", 1, 1)}
	resp := do[*kmsg.CreateTopicsResponse](b, 7, req)
	wantCode(t, "first of a name twice", resp.Topics[0].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "second of a name twice", resp.Topics[1].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "the other topic", resp.Topics[2].ErrorCode, nil)
}

// TestCreateTopics: what a created topic is answered with (v5+: counts
// and configs with their sources, v7: the topic ID), -1 defaults, explicit
// assignments, and validate_only creating nothing.
func TestCreateTopics(t *testing.T) {
	b := newTestBroker(t, map[string]string{"num.partitions": "2", "log.retention.hours": "1"})
	req := kmsg.NewPtrCreateTopicsRequest()
	explicit := createTopicsEntry("explicit", -1, -1)
	explicit.ReplicaAssignment = []kmsg.CreateTopicsRequestTopicReplicaAssignment{{Partition: 1, Replicas: []int32{0}}, {Partition: 0, Replicas: []int32{0}}}
	req.Topics = []kmsg.CreateTopicsRequestTopic{
		createTopicsEntry("t", 3, 1, "retention.ms", "1000"),
		createTopicsEntry("defaults", -1, -1),
		explicit,
	}
	resp := do[*kmsg.CreateTopicsResponse](b, 7, req)
	for i, want := range []int32{3, 2, 2} {
		st := resp.Topics[i]
		wantCode(t, st.Topic, st.ErrorCode, nil)
		info := b.cache.Load().Topic(st.Topic)
		if info == nil || st.TopicID != info.ID || st.NumPartitions != want || st.ReplicationFactor != 1 || len(info.Partitions) != int(want) {
			t.Errorf("%s: %+v, cache %+v", st.Topic, st, info)
		}
	}
	sources := map[string]kmsg.ConfigSource{}
	values := map[string]string{}
	for _, c := range resp.Topics[0].Configs {
		sources[c.Name], values[c.Name] = kmsg.ConfigSource(c.Source), *c.Value
	}
	if sources["retention.ms"] != kmsg.ConfigSourceDynamicTopicConfig || values["retention.ms"] != "1000" {
		t.Errorf("retention.ms: %v %q", sources["retention.ms"], values["retention.ms"])
	}
	if sources["cleanup.policy"] != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("cleanup.policy source %v", sources["cleanup.policy"])
	}
	for _, c := range resp.Topics[1].Configs {
		if c.Name == "retention.ms" && (kmsg.ConfigSource(c.Source) != kmsg.ConfigSourceStaticBrokerConfig || *c.Value != "3600000") {
			t.Errorf("defaults' retention.ms: %v %q", c.Source, *c.Value)
		}
	}

	req = kmsg.NewPtrCreateTopicsRequest()
	req.ValidateOnly = true
	req.Topics = []kmsg.CreateTopicsRequestTopic{createTopicsEntry("v", 4, 1), createTopicsEntry("t", 1, 1)}
	resp = do[*kmsg.CreateTopicsResponse](b, 7, req)
	if st := resp.Topics[0]; st.ErrorCode != 0 || st.NumPartitions != 4 || st.TopicID != [16]byte{} || len(st.Configs) == 0 {
		t.Errorf("validate_only: %+v", st)
	}
	wantCode(t, "validate_only of an existing topic", resp.Topics[1].ErrorCode, kerr.TopicAlreadyExists)
	if b.cache.Load().Topic("v") != nil || b.rm.Topic("v") != nil {
		t.Error("validate_only created the topic")
	}
	if _, ok := b.store.Topic("v"); ok {
		t.Error("validate_only stored the topic")
	}
}

// TestCreateTopicsCluster: in ZooKeeper mode the answer waits until every
// partition has a leader in this broker's metadata, and is
// REQUEST_TIMED_OUT at the timeout (the topic is created all the same).
func TestCreateTopicsCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newClusterBroker(t, &fakeCluster{epoch: 100, controllerID: 1}, nil)
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 5000
		req.Topics = []kmsg.CreateTopicsRequestTopic{createTopicsEntry("late", 1, 1)}
		start := time.Now()
		resp := do[*kmsg.CreateTopicsResponse](b, 7, req)
		wantCode(t, "no controller made the partitions", resp.Topics[0].ErrorCode, kerr.RequestTimedOut)
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("answered after %v, want 5s", waited)
		}
		if _, ok := b.store.Topic("late"); !ok {
			t.Error("the topic is not in the store")
		}

		// The controller's UpdateMetadata wakes the request at once.
		req.Topics = []kmsg.CreateTopicsRequestTopic{createTopicsEntry("led", 2, 1)}
		answered := make(chan int16, 1)
		c := b.client()
		go func() {
			req.SetVersion(7)
			frame, closed := c.send(req, false)
			if closed {
				answered <- -1
				return
			}
			r, err := decodeResponse(frame, req.Key(), 7)
			if err != nil {
				answered <- -1
				return
			}
			answered <- r.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode
		}()
		synctest.Wait()
		start = time.Now()
		b.setPartition("led", 0, metadataState(0, 0, 0))
		synctest.Wait()
		select {
		case code := <-answered:
			t.Fatalf("answered with %d before every partition had a leader", code)
		default:
		}
		b.setPartition("led", 1, metadataState(0, 0, 0))
		wantCode(t, "led", <-answered, nil)
		if waited := time.Since(start); waited != 0 {
			t.Errorf("answered %v after the metadata update", waited)
		}
	})
}

// TestCreateTopicsOfflineReplicas: a topic whose replicas a broker could
// not host (the controller lists them offline) is answered
// KAFKA_STORAGE_ERROR, naming them, once every partition has a leader or
// no replica left to lead: it is created, but not fully hosted.
func TestCreateTopicsOfflineReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newClusterBroker(t, &fakeCluster{epoch: 100, controllerID: 1}, nil)
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 5000
		req.Topics = []kmsg.CreateTopicsRequestTopic{createTopicsEntry("half", 2, 1)}
		answered := make(chan *kmsg.CreateTopicsResponseTopic, 1)
		c := b.client()
		go func() {
			req.SetVersion(7)
			frame, closed := c.send(req, false)
			if closed {
				answered <- nil
				return
			}
			r, err := decodeResponse(frame, req.Key(), 7)
			if err != nil {
				answered <- nil
				return
			}
			answered <- &r.(*kmsg.CreateTopicsResponse).Topics[0]
		}()
		synctest.Wait()
		start := time.Now()
		led := metadataState(0, 1, 0, 2)
		led.ISR, led.Offline = []int32{0}, []int32{2}
		b.setPartition("half", 0, led)
		lost := metadata.PartitionState{Leader: -1, LeaderEpoch: 1, Replicas: []int32{2}, ISR: []int32{2}, Offline: []int32{2}}
		b.setPartition("half", 1, lost)
		got := <-answered
		if got == nil {
			t.Fatal("no answer")
		}
		wantCode(t, "half-hosted topic", got.ErrorCode, kerr.KafkaStorageError)
		if got.ErrorMessage == nil || !strings.Contains(*got.ErrorMessage, "half-0 on brokers [2]") {
			t.Errorf("message %v does not name the offline replica", got.ErrorMessage)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("answered %v after the metadata update", waited)
		}
		if _, ok := b.store.Topic("half"); !ok {
			t.Error("the topic is not in the store")
		}
	})
}

// TestDeleteTopics: by name or (v6) by ID, with Kafka's errors.
func TestDeleteTopics(t *testing.T) {
	b := newTestBroker(t, nil)
	for _, n := range []string{"a", "b", "c", "d"} {
		b.createTopic(n, 1, nil)
	}
	idB := b.cache.Load().Topic("b").ID
	byName := func(names ...string) *kmsg.DeleteTopicsRequest {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = names
		for _, n := range names {
			req.Topics = append(req.Topics, kmsg.DeleteTopicsRequestTopic{Topic: kmsg.StringPtr(n)})
		}
		return req
	}

	resp := do[*kmsg.DeleteTopicsResponse](b, 5, byName("a", "nope", "a"))
	wantCode(t, "a", resp.Topics[0].ErrorCode, nil)
	wantCode(t, "unknown topic", resp.Topics[1].ErrorCode, kerr.UnknownTopicOrPartition)
	wantCode(t, "a named twice", resp.Topics[2].ErrorCode, nil)
	if resp.Topics[1].ErrorMessage == nil {
		t.Error("v5 error without a message")
	}
	if b.cache.Load().Topic("a") != nil || b.rm.Topic("a") != nil {
		t.Error("a is still there")
	}

	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: idB}, {TopicID: metadata.NewTopicID()}}
	resp = do[*kmsg.DeleteTopicsResponse](b, 6, req)
	if st := resp.Topics[0]; st.ErrorCode != 0 || st.Topic == nil || *st.Topic != "b" || st.TopicID != idB {
		t.Errorf("by ID: %+v", st)
	}
	wantCode(t, "unknown topic ID", resp.Topics[1].ErrorCode, kerr.UnknownTopicID)

	// A name and an ID in one entry fail the whole request.
	req.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr("c"), TopicID: b.cache.Load().Topic("c").ID}, {Topic: kmsg.StringPtr("d")}}
	resp = do[*kmsg.DeleteTopicsResponse](b, 6, req)
	wantCode(t, "name and ID", resp.Topics[0].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "in the same request", resp.Topics[1].ErrorCode, kerr.InvalidRequest)
	if b.cache.Load().Topic("d") == nil {
		t.Error("d deleted by a refused request")
	}

	off := newTestBroker(t, map[string]string{"delete.topic.enable": "false"})
	off.createTopic("kept", 1, nil)
	wantCode(t, "deletion disabled, v3", do[*kmsg.DeleteTopicsResponse](off, 3, byName("kept")).Topics[0].ErrorCode, kerr.TopicDeletionDisabled)
	wantCode(t, "deletion disabled, v2", do[*kmsg.DeleteTopicsResponse](off, 2, byName("kept")).Topics[0].ErrorCode, kerr.InvalidRequest)
	if off.cache.Load().Topic("kept") == nil {
		t.Error("deleted with delete.topic.enable=false")
	}
}

// TestCreatePartitions: growing a topic, Kafka's errors, and
// validate_only.
func TestCreatePartitions(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	b.createTopic("u", 2, nil)
	entry := func(name string, count int32, assignment ...[]int32) kmsg.CreatePartitionsRequestTopic {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, count
		for _, r := range assignment {
			rt.Assignment = append(rt.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: r})
		}
		return rt
	}
	for _, c := range []struct {
		name         string
		topic        kmsg.CreatePartitionsRequestTopic
		validateOnly bool
		want         *kerr.Error
		count        int
	}{
		{"the same count", entry("t", 1), false, kerr.InvalidPartitions, 1},
		{"fewer", entry("u", 1), false, kerr.InvalidPartitions, 2},
		{"unknown topic", entry("nope", 3), false, kerr.UnknownTopicOrPartition, 0},
		{"an unknown broker", entry("t", 2, []int32{5}), false, kerr.InvalidReplicaAssignment, 1},
		{"fewer assignments than partitions added", entry("t", 3, []int32{0}), false, kerr.InvalidReplicaAssignment, 1},
		{"validate only", entry("t", 3), true, nil, 1},
		{"grow", entry("t", 3), false, nil, 3},
		{"grow with an assignment", entry("u", 3, []int32{0}), false, nil, 3},
	} {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.ValidateOnly = c.validateOnly
		req.Topics = append(req.Topics, c.topic)
		resp := do[*kmsg.CreatePartitionsResponse](b, 3, req)
		wantCode(t, c.name, resp.Topics[0].ErrorCode, c.want)
		if c.want != nil && resp.Topics[0].ErrorMessage == nil {
			t.Errorf("%s: no message", c.name)
		}
		n := 0
		if info := b.cache.Load().Topic(c.topic.Topic); info != nil {
			n = len(info.Partitions)
		}
		if n != c.count {
			t.Errorf("%s: %d partitions, want %d", c.name, n, c.count)
		}
	}
	// New partitions take produces.
	wantCode(t, "produce to t-2", b.produce(9, 1, "t", 2, makeBatch(batchSpec{records: 1})).ErrorCode, nil)

	// A topic named twice is answered once, with INVALID_REQUEST.
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.Topics = []kmsg.CreatePartitionsRequestTopic{entry("t", 5), entry("t", 6)}
	resp := do[*kmsg.CreatePartitionsResponse](b, 3, req)
	if len(resp.Topics) != 1 {
		t.Fatalf("answers %+v", resp.Topics)
	}
	wantCode(t, "named twice", resp.Topics[0].ErrorCode, kerr.InvalidRequest)
}
