package server

// Tests of the admin APIs (CreateTopics, DeleteTopics, DeleteRecords,
// DescribeConfigs, AlterConfigs, DescribeLogDirs, CreatePartitions,
// IncrementalAlterConfigs, DescribeCluster) against a broker in this
// process, through franz-go over loopback TCP: kadm where it has the call,
// raw kmsg requests pinned to each version otherwise.

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/metadata"
)

func sp(s string) *string { return &s }

func newCreatable(name string, partitions int32, rf int16, configs map[string]string) kmsg.CreateTopicsRequestTopic {
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	keys := make([]string, 0, len(configs))
	for k := range configs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, sp(configs[k])
		t.Configs = append(t.Configs, c)
	}
	return t
}

func assigned(name string, replicas map[int32][]int32) kmsg.CreateTopicsRequestTopic {
	t := newCreatable(name, -1, -1, nil)
	for p := range int32(len(replicas) + 2) {
		if r, ok := replicas[p]; ok {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition, a.Replicas = p, r
			t.ReplicaAssignment = append(t.ReplicaAssignment, a)
		}
	}
	return t
}

func createTopics(tb *testBroker, v int16, validateOnly bool, topics ...kmsg.CreateTopicsRequestTopic) *kmsg.CreateTopicsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics, req.ValidateOnly = topics, validateOnly
	return tb.request(v, req).(*kmsg.CreateTopicsResponse)
}

// mustCreate creates a topic through kadm.
func mustCreate(tb *testBroker, name string, partitions int32, configs map[string]string) {
	tb.t.Helper()
	cs := map[string]*string{}
	for k, v := range configs {
		cs[k] = sp(v)
	}
	r, err := tb.adm.CreateTopic(tb.ctx(), partitions, 1, cs, name)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		tb.t.Fatalf("create %s: %v (%s)", name, err, r.ErrMessage)
	}
}

// produce appends n one-record batches to a partition, with a client of its
// own so that it sees partitions added since the last metadata refresh.
func produce(tb *testBroker, topic string, partition int32, n int) {
	tb.t.Helper()
	cl := tb.client(kgo.DisableIdempotentWrite(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte("v" + strconv.Itoa(i))}
		if err := cl.ProduceSync(tb.ctx(), r).FirstErr(); err != nil {
			tb.t.Fatalf("produce to %s-%d: %v", topic, partition, err)
		}
	}
}

// checkErr compares a response's error code and message with the wanted
// error and a substring of its message ("" for any).
func checkErr(t *testing.T, what string, code int16, msg *string, want *kerr.Error, wantMsg string) {
	t.Helper()
	if got := kerr.ErrorForCode(code); !errors.Is(got, want) && !(want == nil && got == nil) {
		t.Errorf("%s: error %v, want %v (message %q)", what, got, want, deref(msg))
		return
	}
	if wantMsg != "" && !strings.Contains(deref(msg), wantMsg) {
		t.Errorf("%s: message %q, want it to contain %q", what, deref(msg), wantMsg)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func overrides(tb *testBroker, topic string) map[string]string {
	tb.t.Helper()
	ts := tb.topic(topic)
	if ts == nil {
		tb.t.Fatalf("topic %s does not exist", topic)
	}
	return ts.Meta.Configs
}

func logConfig(tb *testBroker, topic string, p int32) (retentionMs, segmentBytes, segmentMs int64) {
	tb.t.Helper()
	c := tb.topic(topic).Parts[p].Log.Config()
	return c.RetentionMs, c.SegmentBytes, c.SegmentMs
}

// TestAdminAPIVersionsAdvertised: the broker serves the administrative
// APIs at their versions, and those of kafkaapi's sub-packages (adminapi,
// groupapi: each registers its keys when server links it).
func TestAdminAPIVersionsAdvertised(t *testing.T) {
	tb := startTestBroker(t, nil)
	vs, err := tb.adm.ApiVersions(tb.ctx())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int16][2]int16{19: {0, 7}, 20: {0, 6}, 21: {0, 2}, 32: {0, 4}, 33: {0, 2}, 35: {0, 4}, 37: {0, 3}, 44: {0, 1}, 60: {0, 1},
		29: {0, 3}, 30: {0, 3}, 31: {0, 3}, 43: {0, 2}, 45: {0, 0}, 46: {0, 0},
		11: {0, 9}, 12: {0, 4}, 13: {0, 5}, 14: {0, 5}, 15: {0, 5}, 16: {0, 5}, 42: {0, 2}, 47: {0, 0}}
	for _, v := range vs {
		if v.Err != nil {
			t.Fatal(v.Err)
		}
		for key, r := range want {
			min, max, ok := v.KeyVersions(key)
			if !ok || min != r[0] || max != r[1] {
				t.Errorf("%s: advertised %d-%d (%v), want %d-%d", kmsg.NameForKey(key), min, max, ok, r[0], r[1])
			}
		}
	}
}

func TestCreateTopics(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"num.partitions": "3", "log.retention.bytes": "1000000"})
	ctx := tb.ctx()

	// Defaults (-1, -1, KIP-464) and configs, through kadm.
	rs, err := tb.adm.CreateTopics(ctx, -1, -1, nil, "defaults")
	if err != nil || rs["defaults"].Err != nil {
		t.Fatalf("create defaults: %v %v", err, rs["defaults"].Err)
	}
	if r := rs["defaults"]; r.NumPartitions != 3 || r.ReplicationFactor != 1 || r.ID == (kadm.TopicID{}) {
		t.Errorf("defaults: %d partitions, rf %d, id %v", r.NumPartitions, r.ReplicationFactor, r.ID)
	}
	if n := len(tb.topic("defaults").Parts); n != 3 {
		t.Errorf("defaults has %d partitions, want num.partitions 3", n)
	}
	r, err := tb.adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": sp("1000"), "cleanup.policy": sp("compact")}, "configured")
	if err != nil || r.Err != nil {
		t.Fatalf("create configured: %v %v", err, r.Err)
	}
	if ms, _, _ := logConfig(tb, "configured", 1); ms != 1000 {
		t.Errorf("configured: log retention.ms %d, want 1000", ms)
	}
	if got := tb.topic("configured").Config.CleanupPolicy.String(); got != "compact" {
		t.Errorf("configured: cleanup.policy %q", got)
	}
	md, err := tb.adm.Metadata(ctx, "configured")
	if err != nil {
		t.Fatal(err)
	}
	if id := md.Topics["configured"].ID; id != r.ID {
		t.Errorf("metadata topic id %v, CreateTopics said %v", id, r.ID)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "configured-1")); err != nil {
		t.Errorf("partition directory: %v", err)
	}

	// v5+ returns counts and every config with its source; v7 the topic ID.
	resp := createTopics(tb, 7, false, newCreatable("sourced", 1, 1, map[string]string{"retention.ms": "5000"}))
	st := resp.Topics[0]
	checkErr(t, "sourced", st.ErrorCode, st.ErrorMessage, nil, "")
	if st.NumPartitions != 1 || st.ReplicationFactor != 1 || st.TopicID != tb.topic("sourced").Meta.ID {
		t.Errorf("sourced: %d partitions, rf %d, id %x", st.NumPartitions, st.ReplicationFactor, st.TopicID)
	}
	if len(st.Configs) != len(config.TopicDefs) {
		t.Errorf("sourced: %d configs, want %d", len(st.Configs), len(config.TopicDefs))
	}
	wantSrc := map[string]struct {
		v   string
		src int8
	}{
		"retention.ms":    {"5000", 1},
		"retention.bytes": {"1000000", 4},
		"segment.bytes":   {"1073741824", 5},
		"preallocate":     {"false", 5},
	}
	for _, c := range st.Configs {
		if w, ok := wantSrc[c.Name]; ok && (deref(c.Value) != w.v || c.Source != w.src || c.ReadOnly || c.IsSensitive) {
			t.Errorf("sourced: config %s = %s source %d read-only %v, want %s source %d", c.Name, deref(c.Value), c.Source, c.ReadOnly, w.v, w.src)
		}
	}

	// Explicit assignment.
	resp = createTopics(tb, 7, false, assigned("assigned", map[int32][]int32{0: {0}, 1: {0}}))
	checkErr(t, "assigned", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
	if ts := tb.topic("assigned"); ts == nil || len(ts.Parts) != 2 {
		t.Errorf("assigned: not created with 2 partitions")
	}

	mustCreate(tb, "a_b", 1, nil)
	withNull := newCreatable("nullcfg", 1, 1, map[string]string{"retention.ms": "1"})
	withNull.Configs[0].Value = nil
	both := assigned("both", map[int32][]int32{0: {0}})
	both.NumPartitions = 1
	for _, c := range []struct {
		name  string
		topic kmsg.CreateTopicsRequestTopic
		want  *kerr.Error
		msg   string
	}{
		{"exists", newCreatable("defaults", 1, 1, nil), kerr.TopicAlreadyExists, "Topic 'defaults' already exists."},
		{"space in name", newCreatable("bad name", 1, 1, nil), kerr.InvalidTopicException, ""},
		{"dot", newCreatable(".", 1, 1, nil), kerr.InvalidTopicException, ""},
		{"empty name", newCreatable("", 1, 1, nil), kerr.InvalidTopicException, ""},
		{"too long", newCreatable(strings.Repeat("x", 250), 1, 1, nil), kerr.InvalidTopicException, ""},
		{"collides", newCreatable("a.b", 1, 1, nil), kerr.InvalidTopicException, "collides with existing topics: a_b"},
		{"zero partitions", newCreatable("p0", 0, 1, nil), kerr.InvalidPartitions, "Number of partitions must be larger than 0."},
		{"negative partitions", newCreatable("pneg", -2, 1, nil), kerr.InvalidPartitions, ""},
		{"zero rf", newCreatable("rf0", 1, 0, nil), kerr.InvalidReplicationFactor, "Replication factor must be larger than 0."},
		{"rf above brokers", newCreatable("rf2", 1, 2, nil), kerr.InvalidReplicationFactor, "larger than available brokers: 1"},
		{"unknown broker", assigned("asg7", map[int32][]int32{0: {7}}), kerr.InvalidReplicaAssignment, ""},
		{"gap in partitions", assigned("asggap", map[int32][]int32{0: {0}, 2: {0}}), kerr.InvalidReplicaAssignment, "consecutive 0-based"},
		{"uneven replicas", assigned("asguneven", map[int32][]int32{0: {0}, 1: {0, 0}}), kerr.InvalidReplicaAssignment, "same number of replicas"},
		{"duplicate replicas", assigned("asgdup", map[int32][]int32{0: {0, 0}}), kerr.InvalidReplicaAssignment, "Duplicate replica assignment"},
		{"assignment and count", both, kerr.InvalidRequest, "Both cannot be used at the same time."},
		{"unknown config", newCreatable("badcfg", 1, 1, map[string]string{"no.such": "1"}), kerr.InvalidConfig, "Unknown topic config name: no.such"},
		{"bad value", newCreatable("badval", 1, 1, map[string]string{"retention.ms": "soon"}), kerr.InvalidConfig, "retention.ms"},
		{"out of range", newCreatable("badrange", 1, 1, map[string]string{"segment.bytes": "10"}), kerr.InvalidConfig, "segment.bytes"},
		{"null value", withNull, kerr.InvalidConfig, "Null value not supported for topic configs: retention.ms"},
	} {
		resp := createTopics(tb, 7, false, c.topic)
		st := resp.Topics[0]
		checkErr(t, c.name, st.ErrorCode, st.ErrorMessage, c.want, c.msg)
		if st.NumPartitions != -1 || st.ReplicationFactor != -1 || st.TopicID != [16]byte{} {
			t.Errorf("%s: failed topic has %d partitions, rf %d, id %x", c.name, st.NumPartitions, st.ReplicationFactor, st.TopicID)
		}
		if c.want != kerr.TopicAlreadyExists && c.topic.Topic != "" && tb.topic(c.topic.Topic) != nil {
			t.Errorf("%s: topic %q was created", c.name, c.topic.Topic)
		}
	}

	// A name twice in one request: INVALID_REQUEST at both entries.
	resp = createTopics(tb, 7, false, newCreatable("dup", 1, 1, nil), newCreatable("dup", 2, 1, nil), newCreatable("single", 1, 1, nil))
	if len(resp.Topics) != 3 {
		t.Fatalf("duplicates: %d answers, want 3", len(resp.Topics))
	}
	for _, st := range resp.Topics[:2] {
		checkErr(t, "duplicate", st.ErrorCode, st.ErrorMessage, kerr.InvalidRequest, "multiple entries")
	}
	checkErr(t, "beside a duplicate", resp.Topics[2].ErrorCode, resp.Topics[2].ErrorMessage, nil, "")
	if tb.topic("dup") != nil {
		t.Error("duplicated topic was created")
	}

	// validate_only: the full answer, nothing created.
	resp = createTopics(tb, 7, true, newCreatable("dry", 4, 1, map[string]string{"retention.ms": "1"}))
	st = resp.Topics[0]
	checkErr(t, "validate only", st.ErrorCode, st.ErrorMessage, nil, "")
	if st.NumPartitions != 4 || st.TopicID != [16]byte{} || len(st.Configs) == 0 {
		t.Errorf("validate only: %d partitions, id %x, %d configs", st.NumPartitions, st.TopicID, len(st.Configs))
	}
	resp = createTopics(tb, 7, true, newCreatable("dry2", 0, 1, nil))
	checkErr(t, "validate only, invalid", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, kerr.InvalidPartitions, "")
	vrs, err := tb.adm.ValidateCreateTopics(ctx, 2, 1, nil, "dry3")
	if err != nil || vrs["dry3"].Err != nil {
		t.Errorf("kadm validate: %v %v", err, vrs["dry3"].Err)
	}
	for _, n := range []string{"dry", "dry2", "dry3"} {
		if tb.topic(n) != nil {
			t.Errorf("validate only created %s", n)
		}
		if _, err := os.Stat(filepath.Join(tb.dir, n+"-0")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("validate only made a directory for %s: %v", n, err)
		}
	}

	// Every version.
	for v := int16(0); v <= 7; v++ {
		name := "v" + strconv.Itoa(int(v))
		resp := createTopics(tb, v, false, newCreatable(name, 2, 1, nil))
		checkErr(t, name, resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
		if ts := tb.topic(name); ts == nil || len(ts.Parts) != 2 {
			t.Errorf("v%d: topic not created with 2 partitions", v)
		}
		resp = createTopics(tb, v, false, newCreatable(name, 2, 1, nil))
		st := resp.Topics[0]
		checkErr(t, name+" again", st.ErrorCode, st.ErrorMessage, kerr.TopicAlreadyExists, "")
		if (st.ErrorMessage != nil) != (v >= 1) {
			t.Errorf("v%d: error message %q", v, deref(st.ErrorMessage))
		}
		if v >= 1 {
			resp = createTopics(tb, v, true, newCreatable(name+"-dry", 1, 1, nil))
			checkErr(t, name+" validate only", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
			if tb.topic(name+"-dry") != nil {
				t.Errorf("v%d: validate only created the topic", v)
			}
		}
		if v >= 4 {
			resp = createTopics(tb, v, false, newCreatable(name+"-defaults", -1, -1, nil))
			checkErr(t, name+" defaults", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
			if ts := tb.topic(name + "-defaults"); ts == nil || len(ts.Parts) != 3 {
				t.Errorf("v%d: -1 partitions did not take num.partitions", v)
			}
		}
	}
}

func deleteTopicsAt(tb *testBroker, v int16, topics ...kmsg.DeleteTopicsRequestTopic) *kmsg.DeleteTopicsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrDeleteTopicsRequest()
	if v >= 6 {
		req.Topics = topics
	} else {
		for _, t := range topics {
			req.TopicNames = append(req.TopicNames, *t.Topic)
		}
	}
	return tb.request(v, req).(*kmsg.DeleteTopicsResponse)
}

func byName(name string) kmsg.DeleteTopicsRequestTopic {
	t := kmsg.NewDeleteTopicsRequestTopic()
	t.Topic = sp(name)
	return t
}

func byID(id metadata.TopicID) kmsg.DeleteTopicsRequestTopic {
	t := kmsg.NewDeleteTopicsRequestTopic()
	t.TopicID = id
	return t
}

func TestDeleteTopics(t *testing.T) {
	tb := startTestBroker(t, nil)
	ctx := tb.ctx()
	for _, n := range []string{"a", "b", "c", "__consumer_offsets"} {
		mustCreate(tb, n, 2, nil)
	}
	produce(tb, "a", 0, 3)

	rs, err := tb.adm.DeleteTopics(ctx, "a", "nope")
	if err != nil {
		t.Fatal(err)
	}
	if rs["a"].Err != nil {
		t.Errorf("delete a: %v", rs["a"].Err)
	}
	if !errors.Is(rs["nope"].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("delete unknown: %v", rs["nope"].Err)
	}
	if tb.topic("a") != nil {
		t.Error("a still served")
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "a-0")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a-0 still on disk: %v", err)
	}
	if _, ok := tb.meta.Topic("a"); ok {
		t.Error("a still in the metadata")
	}
	md, err := tb.adm.Metadata(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(md.Topics["a"].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("metadata of a deleted topic: %v", md.Topics["a"].Err)
	}

	// A deleted name can be created again, with a new ID.
	mustCreate(tb, "a", 1, nil)
	if n := tb.topic("a").Parts[0].Log.EndOffset(); n != 0 {
		t.Errorf("re-created topic has end offset %d", n)
	}

	// By ID (v6).
	bID := tb.topic("b").Meta.ID
	resp := deleteTopicsAt(tb, 6, byID(bID), byID(metadata.NewTopicID()))
	if st := resp.Topics[0]; st.ErrorCode != 0 || deref(st.Topic) != "b" || st.TopicID != bID {
		t.Errorf("delete by id: code %d name %s id %x", st.ErrorCode, deref(st.Topic), st.TopicID)
	}
	checkErr(t, "unknown id", resp.Topics[1].ErrorCode, resp.Topics[1].ErrorMessage, kerr.UnknownTopicID, "")
	if tb.topic("b") != nil {
		t.Error("b still served")
	}

	// Name and ID in one entry fail the whole request.
	bad := byName("c")
	bad.TopicID = tb.topic("c").Meta.ID
	resp = deleteTopicsAt(tb, 6, byName("a"), bad)
	for _, st := range resp.Topics {
		checkErr(t, "name and id", st.ErrorCode, st.ErrorMessage, kerr.InvalidRequest, "can not both be specified")
	}
	if tb.topic("a") == nil || tb.topic("c") == nil {
		t.Error("a request with name and ID deleted something")
	}

	// A name twice is deleted once; both entries succeed.
	resp = deleteTopicsAt(tb, 5, byName("c"), byName("c"))
	for _, st := range resp.Topics {
		checkErr(t, "twice", st.ErrorCode, st.ErrorMessage, nil, "")
	}

	// Kafka's broker deletes internal topics (its CLI refuses).
	resp = deleteTopicsAt(tb, 6, byName("__consumer_offsets"))
	checkErr(t, "internal", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")

	for v := int16(0); v <= 6; v++ {
		name := "del-v" + strconv.Itoa(int(v))
		mustCreate(tb, name, 1, nil)
		resp := deleteTopicsAt(tb, v, byName(name), byName("nope"))
		checkErr(t, name, resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
		checkErr(t, name+" unknown", resp.Topics[1].ErrorCode, resp.Topics[1].ErrorMessage, kerr.UnknownTopicOrPartition, "")
		if (resp.Topics[1].ErrorMessage != nil) != (v >= 5) {
			t.Errorf("v%d: error message %q", v, deref(resp.Topics[1].ErrorMessage))
		}
		if tb.topic(name) != nil {
			t.Errorf("v%d: topic not deleted", v)
		}
	}
}

func TestDeleteTopicsDisabled(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"delete.topic.enable": "false"})
	mustCreate(tb, "keep", 1, nil)
	for v := int16(0); v <= 6; v++ {
		want := kerr.TopicDeletionDisabled
		if v < 3 {
			want = kerr.InvalidRequest
		}
		resp := deleteTopicsAt(tb, v, byName("keep"), byName("nope"))
		for _, st := range resp.Topics {
			checkErr(t, "v"+strconv.Itoa(int(v)), st.ErrorCode, st.ErrorMessage, want, "")
		}
	}
	if tb.topic("keep") == nil {
		t.Error("topic deleted with delete.topic.enable=false")
	}
}

func createPartitionsAt(tb *testBroker, v int16, validateOnly bool, topics ...kmsg.CreatePartitionsRequestTopic) *kmsg.CreatePartitionsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.Topics, req.ValidateOnly = topics, validateOnly
	return tb.request(v, req).(*kmsg.CreatePartitionsResponse)
}

func growTo(name string, count int32, assignment ...[]int32) kmsg.CreatePartitionsRequestTopic {
	t := kmsg.NewCreatePartitionsRequestTopic()
	t.Topic, t.Count = name, count
	for _, r := range assignment {
		a := kmsg.NewCreatePartitionsRequestTopicAssignment()
		a.Replicas = r
		t.Assignment = append(t.Assignment, a)
	}
	return t
}

func TestCreatePartitions(t *testing.T) {
	tb := startTestBroker(t, nil)
	ctx := tb.ctx()
	mustCreate(tb, "grow", 1, nil)

	rs, err := tb.adm.CreatePartitions(ctx, 2, "grow")
	if err != nil || rs["grow"].Err != nil {
		t.Fatalf("add 2: %v %v", err, rs["grow"].Err)
	}
	if n := len(tb.topic("grow").Parts); n != 3 {
		t.Fatalf("grow has %d partitions, want 3", n)
	}
	if n := len(tb.topic("grow").Meta.Replicas); n != 3 {
		t.Fatalf("metadata has %d partitions, want 3", n)
	}
	produce(tb, "grow", 2, 2)
	if hw := tb.topic("grow").Parts[2].Log.HighWatermark(); hw != 2 {
		t.Errorf("new partition high watermark %d, want 2", hw)
	}
	if _, err := tb.adm.ValidateCreatePartitions(ctx, 5, "grow"); err != nil {
		t.Fatal(err)
	}
	if n := len(tb.topic("grow").Parts); n != 3 {
		t.Errorf("validate only grew the topic to %d", n)
	}

	for _, c := range []struct {
		name  string
		topic kmsg.CreatePartitionsRequestTopic
		want  *kerr.Error
		msg   string
	}{
		{"unknown topic", growTo("nope", 2), kerr.UnknownTopicOrPartition, "The topic 'nope' does not exist."},
		{"fewer", growTo("grow", 2), kerr.InvalidPartitions, "Topic currently has 3 partitions, which is higher than the requested 2."},
		{"same", growTo("grow", 3), kerr.InvalidPartitions, "Topic already has 3 partitions."},
		{"unknown broker", growTo("grow", 4, []int32{5}), kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: 5."},
		{"assignment count", growTo("grow", 5, []int32{0}), kerr.InvalidReplicaAssignment, "Increasing the number of partitions by 2 but 1 assignments provided."},
		{"two replicas", growTo("grow", 4, []int32{0, 0}), kerr.InvalidReplicaAssignment, ""},
		{"too many", growTo("grow", 100001), kerr.InvalidPartitions, ""},
	} {
		resp := createPartitionsAt(tb, 3, false, c.topic)
		checkErr(t, c.name, resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, c.want, c.msg)
	}
	resp := createPartitionsAt(tb, 3, false, growTo("grow", 4), growTo("grow", 5))
	if len(resp.Topics) != 1 {
		t.Errorf("duplicate topic answered %d times, want once", len(resp.Topics))
	}
	checkErr(t, "duplicate", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, kerr.InvalidRequest, "Duplicate topic in request.")
	if n := len(tb.topic("grow").Parts); n != 3 {
		t.Fatalf("failed requests grew the topic to %d", n)
	}

	for v := int16(0); v <= 3; v++ {
		want := int32(4 + v)
		topic := growTo("grow", want)
		if v%2 == 0 {
			topic = growTo("grow", want, []int32{0})
		}
		resp := createPartitionsAt(tb, v, true, topic)
		checkErr(t, "validate v"+strconv.Itoa(int(v)), resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
		resp = createPartitionsAt(tb, v, false, topic)
		checkErr(t, "v"+strconv.Itoa(int(v)), resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil, "")
		if n := int32(len(tb.topic("grow").Parts)); n != want {
			t.Errorf("v%d: %d partitions, want %d", v, n, want)
		}
	}
}

func deleteRecordsAt(tb *testBroker, v int16, topic string, offsets map[int32]int64) *kmsg.DeleteRecordsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	for p, o := range offsets {
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = p, o
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return tb.request(v, req).(*kmsg.DeleteRecordsResponse)
}

func TestDeleteRecords(t *testing.T) {
	tb := startTestBroker(t, nil)
	ctx := tb.ctx()
	mustCreate(tb, "recs", 2, map[string]string{"segment.bytes": "200"}) // a batch or two per segment
	mustCreate(tb, "compacted", 1, map[string]string{"cleanup.policy": "compact"})
	mustCreate(tb, "__consumer_offsets", 1, nil)
	produce(tb, "recs", 0, 10)
	l := tb.topic("recs").Parts[0].Log
	segs := l.NumSegments()

	offs := kadm.OffsetsList{{Topic: "recs", Partition: 0, At: 4}}.Offsets()
	rs, err := tb.adm.DeleteRecords(ctx, offs)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rs.Lookup("recs", 0); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete before 4: low watermark %d, %v", r.LowWatermark, r.Err)
	}
	starts, err := tb.adm.ListStartOffsets(ctx, "recs")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("recs", 0); o.Offset != 4 {
		t.Errorf("ListOffsets earliest %d after deleting before 4", o.Offset)
	}
	if n := l.NumSegments(); n >= segs {
		t.Errorf("%d segments before, %d after: none deleted", segs, n)
	}
	// Checkpointed before the answer, not at the next periodic checkpoint:
	// a crash cannot bring the records back.
	ck, err := logfile.ReadCheckpoint(vfs.OS, filepath.Join(tb.dir, logfile.LogStartOffsetCheckpoint))
	if err != nil {
		t.Fatal(err)
	}
	if s := ck[logfile.TopicPartition{Topic: "recs", Partition: 0}]; s != 4 {
		t.Errorf("log-start-offset-checkpoint has %d for recs-0, want 4", s)
	}

	for _, c := range []struct {
		name    string
		topic   string
		p       int32
		off     int64
		want    *kerr.Error
		wantLow int64
	}{
		{"below the start", "recs", 0, 2, nil, 4},
		{"at the start", "recs", 0, 4, nil, 4},
		{"past the high watermark", "recs", 0, 11, kerr.OffsetOutOfRange, -1},
		{"empty partition", "recs", 1, 1, kerr.OffsetOutOfRange, -1},
		{"negative", "recs", 0, -2, kerr.OffsetOutOfRange, -1},
		{"unknown partition", "recs", 9, 0, kerr.UnknownTopicOrPartition, -1},
		{"unknown topic", "nope", 0, 0, kerr.UnknownTopicOrPartition, -1},
		{"compacted", "compacted", 0, -1, kerr.PolicyViolation, -1},
		{"internal", "__consumer_offsets", 0, -1, kerr.InvalidTopicException, -1},
		{"high watermark", "recs", 0, -1, nil, 10},
	} {
		resp := deleteRecordsAt(tb, 2, c.topic, map[int32]int64{c.p: c.off})
		rp := resp.Topics[0].Partitions[0]
		checkErr(t, c.name, rp.ErrorCode, nil, c.want, "")
		if rp.LowWatermark != c.wantLow {
			t.Errorf("%s: low watermark %d, want %d", c.name, rp.LowWatermark, c.wantLow)
		}
	}
	if s := l.StartOffset(); s != 10 {
		t.Errorf("start offset %d, want 10", s)
	}

	for v := int16(0); v <= 2; v++ {
		produce(tb, "recs", 1, 2)
		resp := deleteRecordsAt(tb, v, "recs", map[int32]int64{1: int64(2*v + 1)})
		rp := resp.Topics[0].Partitions[0]
		checkErr(t, "v"+strconv.Itoa(int(v)), rp.ErrorCode, nil, nil, "")
		if rp.LowWatermark != int64(2*v+1) {
			t.Errorf("v%d: low watermark %d, want %d", v, rp.LowWatermark, 2*v+1)
		}
	}

	// The new start offsets survive a restart.
	tb.restart()
	starts, err = tb.adm.ListStartOffsets(tb.ctx(), "recs")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 10, 1: 5} {
		if o, _ := starts.Lookup("recs", p); o.Offset != want {
			t.Errorf("after restart: partition %d starts at %d, want %d", p, o.Offset, want)
		}
	}
}

func describeConfigsAt(tb *testBroker, v int16, synonyms, docs bool, rs ...kmsg.DescribeConfigsRequestResource) *kmsg.DescribeConfigsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Resources, req.IncludeSynonyms, req.IncludeDocumentation = rs, synonyms, docs
	return tb.request(v, req).(*kmsg.DescribeConfigsResponse)
}

func configResource(typ kmsg.ConfigResourceType, name string, keys ...string) kmsg.DescribeConfigsRequestResource {
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName, r.ConfigNames = typ, name, keys
	return r
}

func configsByName(cs []kmsg.DescribeConfigsResponseResourceConfig) map[string]kmsg.DescribeConfigsResponseResourceConfig {
	m := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

type synonym struct {
	name, value string
	src         kmsg.ConfigSource
}

func synonymsOf(c kmsg.DescribeConfigsResponseResourceConfig) []synonym {
	var out []synonym
	for _, s := range c.ConfigSynonyms {
		out = append(out, synonym{s.Name, deref(s.Value), s.Source})
	}
	return out
}

// topicConfigIs checks a topic config's value and source through
// DescribeConfigs v4.
func topicConfigIs(t *testing.T, tb *testBroker, topic, key, value string, src kmsg.ConfigSource) {
	t.Helper()
	resp := describeConfigsAt(tb, 4, false, false, configResource(kmsg.ConfigResourceTypeTopic, topic, key))
	r := resp.Resources[0]
	if r.ErrorCode != 0 || len(r.Configs) != 1 {
		t.Fatalf("describe %s %s: error %d, %d configs", topic, key, r.ErrorCode, len(r.Configs))
	}
	if c := r.Configs[0]; deref(c.Value) != value || c.Source != src {
		t.Errorf("%s %s = %s (source %s), want %s (%s)", topic, key, deref(c.Value), c.Source, value, src)
	}
}

func TestDescribeTopicConfigs(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"log.retention.bytes": "123456789"})
	ctx := tb.ctx()
	mustCreate(tb, "cfg", 1, map[string]string{"retention.ms": "3600000"})

	rcs, err := tb.adm.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("cfg", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe cfg: %v %v", err, rc.Err)
	}
	if len(rc.Configs) != len(config.TopicDefs) {
		t.Errorf("%d configs, want %d", len(rc.Configs), len(config.TopicDefs))
	}
	got := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for _, c := range []struct {
		key, value string
		src        kmsg.ConfigSource
		synonyms   []string
	}{
		{"retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig, []string{"retention.ms", "log.retention.ms"}},
		{"retention.bytes", "123456789", kmsg.ConfigSourceStaticBrokerConfig, []string{"log.retention.bytes", "log.retention.bytes"}},
		{"segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig, []string{"log.segment.bytes"}},
		{"preallocate", "false", kmsg.ConfigSourceDefaultConfig, nil},
	} {
		g := got[c.key]
		var syns []string
		for _, s := range g.Synonyms {
			syns = append(syns, s.Key)
		}
		if g.MaybeValue() != c.value || g.Source != c.src || !slices.Equal(syns, c.synonyms) {
			t.Errorf("%s = %s (%s, synonyms %v), want %s (%s, synonyms %v)", c.key, g.MaybeValue(), g.Source, syns, c.value, c.src, c.synonyms)
		}
	}

	// Synonyms in order, names filter, types and documentation (v3+).
	resp := describeConfigsAt(tb, 4, true, true, configResource(kmsg.ConfigResourceTypeTopic, "cfg", "retention.ms", "retention.bytes", "cleanup.policy", "no.such"))
	cs := configsByName(resp.Resources[0].Configs)
	if len(cs) != 3 {
		t.Errorf("filtered describe: %d configs, want 3", len(cs))
	}
	wantSyn := map[string][]synonym{
		"retention.ms":    {{"retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig}, {"log.retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig}},
		"retention.bytes": {{"log.retention.bytes", "123456789", kmsg.ConfigSourceStaticBrokerConfig}, {"log.retention.bytes", "-1", kmsg.ConfigSourceDefaultConfig}},
		"cleanup.policy":  {{"log.cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig}},
	}
	wantType := map[string]kmsg.ConfigType{"retention.ms": kmsg.ConfigTypeLong, "retention.bytes": kmsg.ConfigTypeLong, "cleanup.policy": kmsg.ConfigTypeList}
	for k, want := range wantSyn {
		c := cs[k]
		if got := synonymsOf(c); !slices.Equal(got, want) {
			t.Errorf("%s synonyms %v, want %v", k, got, want)
		}
		if c.ConfigType != wantType[k] || c.Documentation == nil || *c.Documentation == "" || c.ReadOnly || c.IsSensitive {
			t.Errorf("%s: type %s, documentation %q, read-only %v, sensitive %v", k, c.ConfigType, deref(c.Documentation), c.ReadOnly, c.IsSensitive)
		}
	}
	resp = describeConfigsAt(tb, 4, false, false, configResource(kmsg.ConfigResourceTypeTopic, "cfg", "retention.ms"))
	if c := resp.Resources[0].Configs[0]; c.Documentation != nil || len(c.ConfigSynonyms) != 0 {
		t.Errorf("unasked for: documentation %q, %d synonyms", deref(c.Documentation), len(c.ConfigSynonyms))
	}
	// An empty list asks for all, as a null one does.
	resp = describeConfigsAt(tb, 4, false, false, configResource(kmsg.ConfigResourceTypeTopic, "cfg", []string{}...))
	if n := len(resp.Resources[0].Configs); n != len(config.TopicDefs) {
		t.Errorf("empty names list: %d configs", n)
	}

	for _, c := range []struct {
		name string
		r    kmsg.DescribeConfigsRequestResource
		want *kerr.Error
		msg  string
	}{
		{"unknown topic", configResource(kmsg.ConfigResourceTypeTopic, "nope"), kerr.UnknownTopicOrPartition, ""},
		{"bad topic name", configResource(kmsg.ConfigResourceTypeTopic, "bad name"), kerr.InvalidTopicException, ""},
		{"empty topic name", configResource(kmsg.ConfigResourceTypeTopic, ""), kerr.InvalidTopicException, ""},
		{"other broker", configResource(kmsg.ConfigResourceTypeBroker, "7"), kerr.InvalidRequest, "Unexpected broker id, expected 0 or empty string, but received 7"},
		{"broker name", configResource(kmsg.ConfigResourceTypeBroker, "x"), kerr.InvalidRequest, "Broker id must be an integer, but it is: x"},
		{"broker logger", configResource(kmsg.ConfigResourceTypeBrokerLogger, "0"), kerr.InvalidRequest, "Unsupported resource type"},
		{"unknown type", configResource(1, "x"), kerr.InvalidRequest, ""},
	} {
		resp := describeConfigsAt(tb, 4, false, false, c.r, configResource(kmsg.ConfigResourceTypeTopic, "cfg", "retention.ms"))
		r := resp.Resources[0]
		checkErr(t, c.name, r.ErrorCode, r.ErrorMessage, c.want, c.msg)
		if len(r.Configs) != 0 || r.ResourceName != c.r.ResourceName || r.ResourceType != c.r.ResourceType {
			t.Errorf("%s: %d configs for %s %q", c.name, len(r.Configs), r.ResourceType, r.ResourceName)
		}
		if c.want == kerr.UnknownTopicOrPartition && r.ErrorMessage != nil {
			t.Errorf("%s: message %q, Kafka sends none", c.name, *r.ErrorMessage)
		}
		if r := resp.Resources[1]; r.ErrorCode != 0 || len(r.Configs) != 1 {
			t.Errorf("%s: the next resource failed too", c.name)
		}
	}

	for v := int16(0); v <= 4; v++ {
		resp := describeConfigsAt(tb, v, v >= 1, v >= 3, configResource(kmsg.ConfigResourceTypeTopic, "cfg", "retention.ms", "segment.bytes"))
		cs := configsByName(resp.Resources[0].Configs)
		rm, sb := cs["retention.ms"], cs["segment.bytes"]
		if deref(rm.Value) != "3600000" || deref(sb.Value) != "1073741824" {
			t.Errorf("v%d: values %s, %s", v, deref(rm.Value), deref(sb.Value))
		}
		if v == 0 && (rm.IsDefault || !sb.IsDefault) {
			t.Errorf("v0: is_default %v for an override, %v for a default", rm.IsDefault, sb.IsDefault)
		}
		if v >= 1 && (rm.Source != kmsg.ConfigSourceDynamicTopicConfig || sb.Source != kmsg.ConfigSourceDefaultConfig || len(rm.ConfigSynonyms) != 2) {
			t.Errorf("v%d: sources %s, %s; %d synonyms", v, rm.Source, sb.Source, len(rm.ConfigSynonyms))
		}
		if v >= 3 && (rm.ConfigType != kmsg.ConfigTypeLong || sb.ConfigType != kmsg.ConfigTypeInt || rm.Documentation == nil) {
			t.Errorf("v%d: types %s, %s; documentation %q", v, rm.ConfigType, sb.ConfigType, deref(rm.Documentation))
		}
	}
}

func TestDescribeBrokerConfigs(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"num.partitions": "2", "log.retention.bytes": "123456789", "log.retention.hours": "24", "log.roll.hours": "168"})
	rcs, err := tb.adm.DescribeBrokerConfigs(tb.ctx(), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("0", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe broker 0: %v %v", err, rc.Err)
	}
	got := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for _, k := range config.Keys() {
		if _, ok := got[k]; !ok {
			t.Errorf("server key %s not described", k)
		}
	}
	for _, c := range []struct {
		key, value string
		src        kmsg.ConfigSource
	}{
		{"broker.id", "0", kmsg.ConfigSourceDefaultConfig},
		{"num.partitions", "2", kmsg.ConfigSourceStaticBrokerConfig},
		{"log.dirs", tb.dir, kmsg.ConfigSourceStaticBrokerConfig},
		{"advertised.listeners", "PLAINTEXT://" + tb.Addr().String(), kmsg.ConfigSourceStaticBrokerConfig},
		{"log.retention.bytes", "123456789", kmsg.ConfigSourceStaticBrokerConfig},
		{"log.retention.hours", "24", kmsg.ConfigSourceStaticBrokerConfig},
		{"log.retention.ms", "86400000", kmsg.ConfigSourceStaticBrokerConfig},
		{"log.segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig},
		{"log.roll.hours", "168", kmsg.ConfigSourceStaticBrokerConfig}, // set, at Kafka's default
		{"delete.topic.enable", "true", kmsg.ConfigSourceDefaultConfig},
		{"log.cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig},
	} {
		if g := got[c.key]; g.MaybeValue() != c.value || g.Source != c.src {
			t.Errorf("%s = %s (%s), want %s (%s)", c.key, g.MaybeValue(), g.Source, c.value, c.src)
		}
	}
	// listeners shows what was configured (port 0); advertised.listeners,
	// above, the port bound.
	if g := got["listeners"]; g.MaybeValue() != "PLAINTEXT://127.0.0.1:0" || g.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Errorf("listeners = %s (%s), want PLAINTEXT://127.0.0.1:0", g.MaybeValue(), g.Source)
	}
	if g := got["zookeeper.connect"]; g.Value != nil {
		t.Errorf("zookeeper.connect = %q, want null", *g.Value)
	}

	for v := int16(0); v <= 4; v++ {
		resp := describeConfigsAt(tb, v, v >= 1, v >= 3, configResource(kmsg.ConfigResourceTypeBroker, "0", "num.partitions", "log.retention.check.interval.ms"))
		cs := configsByName(resp.Resources[0].Configs)
		np := cs["num.partitions"]
		if len(cs) != 2 || deref(np.Value) != "2" || !np.ReadOnly || cs["log.retention.check.interval.ms"].Value == nil {
			t.Errorf("v%d: %d configs, num.partitions %s read-only %v", v, len(cs), deref(np.Value), np.ReadOnly)
		}
		if v >= 1 && (np.Source != kmsg.ConfigSourceStaticBrokerConfig || !slices.Equal(synonymsOf(np), []synonym{
			{"num.partitions", "2", kmsg.ConfigSourceStaticBrokerConfig}, {"num.partitions", "1", kmsg.ConfigSourceDefaultConfig}})) {
			t.Errorf("v%d: num.partitions source %s synonyms %v", v, np.Source, synonymsOf(np))
		}
		if v >= 3 && (np.ConfigType != kmsg.ConfigTypeInt || np.Documentation == nil) {
			t.Errorf("v%d: num.partitions type %s documentation %q", v, np.ConfigType, deref(np.Documentation))
		}
	}

	// The cluster-wide dynamic defaults: none.
	resp := describeConfigsAt(tb, 4, true, false, configResource(kmsg.ConfigResourceTypeBroker, ""))
	if r := resp.Resources[0]; r.ErrorCode != 0 || len(r.Configs) != 0 {
		t.Errorf("cluster defaults: error %d, %d configs", r.ErrorCode, len(r.Configs))
	}
}

func alterConfigsAt(tb *testBroker, v int16, validateOnly bool, rs ...kmsg.AlterConfigsRequestResource) *kmsg.AlterConfigsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrAlterConfigsRequest()
	req.Resources, req.ValidateOnly = rs, validateOnly
	return tb.request(v, req).(*kmsg.AlterConfigsResponse)
}

// alterResource builds a resource from name, value pairs; a value "<nil>"
// is null.
func alterResource(typ kmsg.ConfigResourceType, name string, kv ...string) kmsg.AlterConfigsRequestResource {
	r := kmsg.NewAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = typ, name
	for i := 0; i+1 < len(kv); i += 2 {
		c := kmsg.NewAlterConfigsRequestResourceConfig()
		c.Name = kv[i]
		if kv[i+1] != "<nil>" {
			c.Value = sp(kv[i+1])
		}
		r.Configs = append(r.Configs, c)
	}
	return r
}

func TestAlterConfigs(t *testing.T) {
	tb := startTestBroker(t, nil)
	ctx := tb.ctx()
	mustCreate(tb, "alt", 2, map[string]string{"retention.ms": "1000", "segment.bytes": "1048576"})

	// The legacy form replaces the whole override set.
	rs, err := tb.adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: sp("2000")}}, "alt")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter: %v %v", err, rs[0].Err)
	}
	if got := overrides(tb, "alt"); len(got) != 1 || got["retention.ms"] != "2000" {
		t.Errorf("overrides %v, want only retention.ms=2000", got)
	}
	for p := range int32(2) {
		if ms, sb, _ := logConfig(tb, "alt", p); ms != 2000 || sb != 1073741824 {
			t.Errorf("partition %d log: retention.ms %d segment.bytes %d", p, ms, sb)
		}
	}
	topicConfigIs(t, tb, "alt", "retention.ms", "2000", kmsg.ConfigSourceDynamicTopicConfig)
	topicConfigIs(t, tb, "alt", "segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig)

	if rs, err := tb.adm.ValidateAlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: sp("3000")}}, "alt"); err != nil || rs[0].Err != nil {
		t.Fatalf("validate: %v %v", err, rs[0].Err)
	}
	if ms, _, _ := logConfig(tb, "alt", 0); ms != 2000 {
		t.Errorf("validate only changed retention.ms to %d", ms)
	}

	for _, c := range []struct {
		name string
		rs   []kmsg.AlterConfigsRequestResource
		want *kerr.Error
		msg  string
	}{
		{"unknown topic", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "nope", "retention.ms", "1")}, kerr.UnknownTopicOrPartition, "The topic 'nope' does not exist."},
		{"bad value", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "soon")}, kerr.InvalidConfig, "retention.ms"},
		{"out of range", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "-5")}, kerr.InvalidConfig, "retention.ms"},
		{"bad policy", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "cleanup.policy", "shred")}, kerr.InvalidConfig, "cleanup.policy"},
		{"unknown key", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "no.such", "1")}, kerr.InvalidConfig, "Unknown topic config name: no.such"},
		{"null", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "<nil>")}, kerr.InvalidRequest, "Null value not supported for : retention.ms"},
		{"key twice", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "1", "retention.ms", "2")}, kerr.InvalidRequest, "Error due to duplicate config keys"},
		{"this broker", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeBroker, "0", "log.retention.ms", "1")}, kerr.InvalidRequest, "dynamic broker configs are not supported"},
		{"cluster default", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeBroker, "", "log.retention.ms", "1")}, kerr.InvalidRequest, "dynamic broker configs are not supported"},
		{"other broker", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeBroker, "7", "log.retention.ms", "1")}, kerr.InvalidRequest, "Unexpected broker id"},
		{"broker logger", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeBrokerLogger, "0", "kafka", "DEBUG")}, kerr.InvalidRequest, "Unknown resource type 8"},
		{"resource twice", []kmsg.AlterConfigsRequestResource{
			alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "1"),
			alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", "2"),
		}, kerr.InvalidRequest, "Each resource must appear at most once."},
	} {
		for _, validate := range []bool{false, true} {
			resp := alterConfigsAt(tb, 2, validate, c.rs...)
			if len(resp.Resources) != len(c.rs) {
				t.Fatalf("%s: %d answers for %d resources", c.name, len(resp.Resources), len(c.rs))
			}
			for i, r := range resp.Resources {
				checkErr(t, c.name, r.ErrorCode, r.ErrorMessage, c.want, c.msg)
				if r.ResourceName != c.rs[i].ResourceName || r.ResourceType != c.rs[i].ResourceType {
					t.Errorf("%s: answer for %s %q", c.name, r.ResourceType, r.ResourceName)
				}
			}
		}
	}
	if got := overrides(tb, "alt"); len(got) != 1 || got["retention.ms"] != "2000" {
		t.Errorf("failed alters changed the overrides to %v", got)
	}

	for v := int16(0); v <= 2; v++ {
		ms := strconv.Itoa(10000 + int(v))
		resp := alterConfigsAt(tb, v, false, alterResource(kmsg.ConfigResourceTypeTopic, "alt", "retention.ms", ms, "segment.ms", "60000"))
		checkErr(t, "v"+strconv.Itoa(int(v)), resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil, "")
		if gotMs, _, segMs := logConfig(tb, "alt", 1); strconv.FormatInt(gotMs, 10) != ms || segMs != 60000 {
			t.Errorf("v%d: log retention.ms %d segment.ms %d", v, gotMs, segMs)
		}
	}
}

func incAlterAt(tb *testBroker, v int16, validateOnly bool, rs ...kmsg.IncrementalAlterConfigsRequestResource) *kmsg.IncrementalAlterConfigsResponse {
	tb.t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.Resources, req.ValidateOnly = rs, validateOnly
	return tb.request(v, req).(*kmsg.IncrementalAlterConfigsResponse)
}

type op struct {
	op          kmsg.IncrementalAlterConfigOp
	name, value string // value "<nil>" is null
}

func incResource(typ kmsg.ConfigResourceType, name string, ops ...op) kmsg.IncrementalAlterConfigsRequestResource {
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = typ, name
	for _, o := range ops {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op = o.name, o.op
		if o.value != "<nil>" {
			c.Value = sp(o.value)
		}
		r.Configs = append(r.Configs, c)
	}
	return r
}

func TestIncrementalAlterConfigs(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"log.cleanup.policy": "delete"})
	ctx := tb.ctx()
	mustCreate(tb, "inc", 2, map[string]string{"retention.ms": "1000"})
	const (
		set      = kmsg.IncrementalAlterConfigOpSet
		del      = kmsg.IncrementalAlterConfigOpDelete
		appendOp = kmsg.IncrementalAlterConfigOpAppend
		subtract = kmsg.IncrementalAlterConfigOpSubtract
	)

	// Steps applied in order to the same topic; a failed step changes nothing.
	for _, s := range []struct {
		name string
		ops  []op
		want *kerr.Error
		msg  string
		then map[string]string // the overrides after the step
	}{
		{"set", []op{{set, "segment.ms", "60000"}}, nil, "", map[string]string{"retention.ms": "1000", "segment.ms": "60000"}},
		{"delete", []op{{del, "retention.ms", "<nil>"}}, nil, "", map[string]string{"segment.ms": "60000"}},
		{"delete absent", []op{{del, "max.message.bytes", ""}}, nil, "", map[string]string{"segment.ms": "60000"}},
		{"append", []op{{appendOp, "cleanup.policy", "compact"}}, nil, "", map[string]string{"segment.ms": "60000", "cleanup.policy": "delete,compact"}},
		{"append present", []op{{appendOp, "cleanup.policy", "compact,delete"}}, nil, "", map[string]string{"segment.ms": "60000", "cleanup.policy": "delete,compact"}},
		{"subtract", []op{{subtract, "cleanup.policy", "delete"}}, nil, "", map[string]string{"segment.ms": "60000", "cleanup.policy": "compact"}},
		{"append to a long", []op{{appendOp, "retention.ms", "5"}}, kerr.InvalidRequest, "Config value append is not allowed for config key: retention.ms", nil},
		{"subtract from a long", []op{{subtract, "segment.ms", "5"}}, kerr.InvalidRequest, "Config value subtract is not allowed for config key: segment.ms", nil},
		{"append unknown", []op{{appendOp, "no.such", "x"}}, kerr.InvalidConfig, "Unknown topic config name: no.such", nil},
		{"set unknown", []op{{set, "no.such", "x"}}, kerr.InvalidConfig, "Unknown topic config name: no.such", nil},
		{"set bad value", []op{{set, "retention.ms", "abc"}}, kerr.InvalidConfig, "retention.ms", nil},
		{"bad list item", []op{{appendOp, "cleanup.policy", "shred"}}, kerr.InvalidConfig, "cleanup.policy", nil},
		{"compaction lags crossed", []op{{set, "min.compaction.lag.ms", "5000"}, {set, "max.compaction.lag.ms", "1000"}}, kerr.InvalidConfig, "exceeds max.compaction.lag.ms", nil},
		{"set null", []op{{set, "retention.ms", "<nil>"}}, kerr.InvalidRequest, "Null value not supported for : retention.ms", nil},
		{"unknown op", []op{{9, "retention.ms", "1"}}, kerr.InvalidRequest, "", nil},
		{"key twice", []op{{set, "retention.ms", "1"}, {del, "retention.ms", ""}}, kerr.InvalidRequest, "Error due to duplicate config keys", nil},
		{"one bad of two", []op{{set, "retention.ms", "7"}, {set, "segment.bytes", "bad"}}, kerr.InvalidConfig, "segment.bytes", nil},
		{"several", []op{
			{set, "compression.type", "gzip"}, {set, "message.timestamp.type", "LogAppendTime"}, {set, "max.message.bytes", "2048"},
			{set, "retention.bytes", "4096"}, {set, "segment.bytes", "65536"}, {del, "cleanup.policy", ""},
		}, nil, "", map[string]string{
			"segment.ms": "60000", "compression.type": "gzip", "message.timestamp.type": "LogAppendTime",
			"max.message.bytes": "2048", "retention.bytes": "4096", "segment.bytes": "65536",
		}},
	} {
		before := overrides(tb, "inc")
		resp := incAlterAt(tb, 1, false, incResource(kmsg.ConfigResourceTypeTopic, "inc", s.ops...))
		r := resp.Resources[0]
		checkErr(t, s.name, r.ErrorCode, r.ErrorMessage, s.want, s.msg)
		want := s.then
		if s.want != nil {
			want = before
		}
		if got := overrides(tb, "inc"); !mapsEqual(got, want) {
			t.Errorf("%s: overrides %v, want %v", s.name, got, want)
		}
	}
	l := tb.topic("inc").Parts[1].Log.Config()
	if l.RetentionMs != 604800000 || l.SegmentMs != 60000 || l.SegmentBytes != 65536 || l.MaxMessageBytes != 2048 || l.RetentionBytes != 4096 {
		t.Errorf("log config %+v", l)
	}
	if ts := tb.topic("inc"); ts.Config.MessageTimestampType != config.LogAppendTime || ts.Config.CompressionType.String() != "gzip" || ts.Config.CleanupPolicy.String() != "delete" {
		t.Errorf("topic config %v", ts.Config)
	}
	topicConfigIs(t, tb, "inc", "segment.ms", "60000", kmsg.ConfigSourceDynamicTopicConfig)
	topicConfigIs(t, tb, "inc", "retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig)
	topicConfigIs(t, tb, "inc", "cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig)

	// kadm, and validate_only.
	if rs, err := tb.adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: sp("5")}}, "inc"); err != nil || rs[0].Err != nil {
		t.Fatalf("validate: %v %v", err, rs[0].Err)
	}
	if _, ok := overrides(tb, "inc")["retention.ms"]; ok {
		t.Error("validate only set retention.ms")
	}
	if rs, err := tb.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: sp("5")}}, "inc"); err != nil || rs[0].Err != nil {
		t.Fatalf("alter: %v %v", err, rs[0].Err)
	}
	if ms, _, _ := logConfig(tb, "inc", 0); ms != 5 {
		t.Errorf("log retention.ms %d, want 5", ms)
	}

	for _, c := range []struct {
		name string
		rs   []kmsg.IncrementalAlterConfigsRequestResource
		want *kerr.Error
		msg  string
	}{
		{"unknown topic", []kmsg.IncrementalAlterConfigsRequestResource{incResource(kmsg.ConfigResourceTypeTopic, "nope", op{set, "retention.ms", "1"})}, kerr.UnknownTopicOrPartition, "The topic 'nope' does not exist."},
		{"default topic", []kmsg.IncrementalAlterConfigsRequestResource{incResource(kmsg.ConfigResourceTypeTopic, "", op{set, "retention.ms", "1"})}, kerr.InvalidRequest, "Default topic resources are not allowed."},
		{"this broker", []kmsg.IncrementalAlterConfigsRequestResource{incResource(kmsg.ConfigResourceTypeBroker, "0", op{set, "log.retention.ms", "1"})}, kerr.InvalidRequest, "dynamic broker configs are not supported"},
		{"cluster default", []kmsg.IncrementalAlterConfigsRequestResource{incResource(kmsg.ConfigResourceTypeBroker, "", op{del, "log.retention.ms", ""})}, kerr.InvalidRequest, "dynamic broker configs are not supported"},
		{"other broker", []kmsg.IncrementalAlterConfigsRequestResource{incResource(kmsg.ConfigResourceTypeBroker, "3", op{set, "log.retention.ms", "1"})}, kerr.InvalidRequest, "Unexpected broker id"},
		{"resource twice", []kmsg.IncrementalAlterConfigsRequestResource{
			incResource(kmsg.ConfigResourceTypeTopic, "inc", op{set, "retention.ms", "1"}),
			incResource(kmsg.ConfigResourceTypeTopic, "inc", op{set, "segment.ms", "2"}),
		}, kerr.InvalidRequest, "Each resource must appear at most once."},
	} {
		resp := incAlterAt(tb, 1, false, c.rs...)
		for _, r := range resp.Resources {
			checkErr(t, c.name, r.ErrorCode, r.ErrorMessage, c.want, c.msg)
		}
	}
	if ms, _, _ := logConfig(tb, "inc", 0); ms != 5 {
		t.Errorf("failed alters changed retention.ms to %d", ms)
	}

	for v := int16(0); v <= 1; v++ {
		ms := strconv.Itoa(20000 + int(v))
		resp := incAlterAt(tb, v, true, incResource(kmsg.ConfigResourceTypeTopic, "inc", op{set, "retention.ms", "1"}))
		checkErr(t, "validate v"+strconv.Itoa(int(v)), resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil, "")
		resp = incAlterAt(tb, v, false, incResource(kmsg.ConfigResourceTypeTopic, "inc", op{set, "retention.ms", ms}))
		checkErr(t, "v"+strconv.Itoa(int(v)), resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil, "")
		if got, _, _ := logConfig(tb, "inc", 0); strconv.FormatInt(got, 10) != ms {
			t.Errorf("v%d: log retention.ms %d, want %s", v, got, ms)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDescribeCluster(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"broker.id": "3"})
	for v := int16(0); v <= 1; v++ {
		for _, ops := range []bool{false, true} {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.IncludeClusterAuthorizedOperations = ops
			resp := tb.request(v, req).(*kmsg.DescribeClusterResponse)
			if resp.ErrorCode != 0 || resp.ClusterID != tb.meta.ClusterID() || resp.ControllerID != 3 || len(resp.Brokers) != 1 {
				t.Fatalf("v%d: error %d cluster %q controller %d brokers %d", v, resp.ErrorCode, resp.ClusterID, resp.ControllerID, len(resp.Brokers))
			}
			b := resp.Brokers[0]
			if addr := b.Host + ":" + strconv.Itoa(int(b.Port)); b.NodeID != 3 || addr != tb.Addr().String() || b.Rack != nil {
				t.Errorf("v%d: broker %d at %s rack %v", v, b.NodeID, addr, b.Rack)
			}
			wantOps := int32(math.MinInt32)
			if ops {
				wantOps = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 // KIP-430: every cluster operation Kafka defines
			}
			if resp.ClusterAuthorizedOperations != wantOps {
				t.Errorf("v%d: authorized operations %#x, want %#x", v, resp.ClusterAuthorizedOperations, wantOps)
			}
			if v >= 1 && resp.EndpointType != 1 {
				t.Errorf("v%d: endpoint type %d", v, resp.EndpointType)
			}
		}
	}
	for _, c := range []struct {
		typ  int8
		want *kerr.Error
	}{{2, kerr.MismatchedEndpointType}, {7, kerr.UnsupportedVersion}} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.EndpointType = c.typ
		resp := tb.request(1, req).(*kmsg.DescribeClusterResponse)
		checkErr(t, "endpoint type "+strconv.Itoa(int(c.typ)), resp.ErrorCode, resp.ErrorMessage, c.want, "")
		if len(resp.Brokers) != 0 {
			t.Errorf("endpoint type %d: %d brokers", c.typ, len(resp.Brokers))
		}
	}
}

func TestDescribeLogDirs(t *testing.T) {
	tb := startTestBroker(t, nil)
	mustCreate(tb, "ld1", 2, nil)
	mustCreate(tb, "ld2", 1, nil)
	produce(tb, "ld1", 1, 3)
	size := tb.topic("ld1").Parts[1].Log.Size()
	if size == 0 {
		t.Fatal("produced, but the log is empty")
	}

	all, err := tb.adm.DescribeAllLogDirs(tb.ctx(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := all[0]
	if len(dirs) != 1 {
		t.Fatalf("%d log dirs, want 1", len(dirs))
	}
	d, ok := dirs[tb.dir]
	if !ok || d.Err != nil {
		t.Fatalf("log dir %s not described (%v): %v", tb.dir, d.Err, dirs)
	}
	if p, ok := d.Topics.Lookup("ld1", 1); !ok || p.Size != size || p.OffsetLag != 0 || p.IsFuture {
		t.Errorf("ld1-1: %+v, want size %d", p, size)
	}
	if p, ok := d.Topics.Lookup("ld1", 0); !ok || p.Size != 0 {
		t.Errorf("ld1-0: %+v (%v)", p, ok)
	}
	if _, ok := d.Topics.Lookup("ld2", 0); !ok {
		t.Error("ld2-0 missing")
	}
	if d.TotalBytes <= 0 || d.UsableBytes < 0 || d.UsableBytes > d.TotalBytes {
		t.Errorf("volume: total %d usable %d", d.TotalBytes, d.UsableBytes)
	}

	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrDescribeLogDirsRequest()
		for _, x := range []struct {
			topic string
			ps    []int32
		}{{"ld1", []int32{1, 7}}, {"nope", []int32{0}}} {
			rt := kmsg.NewDescribeLogDirsRequestTopic()
			rt.Topic, rt.Partitions = x.topic, x.ps
			req.Topics = append(req.Topics, rt)
		}
		resp := tb.request(v, req).(*kmsg.DescribeLogDirsResponse)
		if resp.ErrorCode != 0 || len(resp.Dirs) != 1 {
			t.Fatalf("v%d: error %d, %d dirs", v, resp.ErrorCode, len(resp.Dirs))
		}
		d := resp.Dirs[0]
		if d.ErrorCode != 0 || d.Dir != tb.dir || len(d.Topics) != 1 || d.Topics[0].Topic != "ld1" ||
			len(d.Topics[0].Partitions) != 1 || d.Topics[0].Partitions[0].Partition != 1 || d.Topics[0].Partitions[0].Size != size {
			t.Errorf("v%d: %+v", v, d)
		}
		if (d.TotalBytes > 0) != (v >= 4) {
			t.Errorf("v%d: total bytes %d", v, d.TotalBytes)
		}
	}
}

// Everything the admin APIs change is in the metadata store or the
// checkpoints, and a restarted broker on the same directory serves it.
func TestAdminChangesSurviveRestart(t *testing.T) {
	tb := startTestBroker(t, nil)
	ctx := tb.ctx()
	mustCreate(tb, "kept", 1, map[string]string{"retention.ms": "1000", "segment.bytes": "1048576"})
	mustCreate(tb, "gone", 1, nil)
	id := tb.topic("kept").Meta.ID
	if _, err := tb.adm.CreatePartitions(ctx, 2, "kept"); err != nil {
		t.Fatal(err)
	}
	produce(tb, "kept", 2, 4)
	if rs, err := tb.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: sp("2500")},
		{Op: kadm.DeleteConfig, Name: "segment.bytes"},
		{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: sp("compact")},
	}, "kept"); err != nil || rs[0].Err != nil {
		t.Fatalf("alter: %v %v", err, rs[0].Err)
	}
	// "delete,compact" still allows DeleteRecords.
	resp := deleteRecordsAt(tb, 2, "kept", map[int32]int64{2: 3})
	checkErr(t, "delete records", resp.Topics[0].Partitions[0].ErrorCode, nil, nil, "")
	if _, err := tb.adm.DeleteTopics(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	tb.restart()
	ts := tb.topic("kept")
	if ts == nil || len(ts.Parts) != 3 || ts.Meta.ID != id {
		t.Fatalf("after restart: kept is %+v", ts)
	}
	if tb.topic("gone") != nil {
		t.Error("after restart: a deleted topic is back")
	}
	if got := overrides(tb, "kept"); !mapsEqual(got, map[string]string{"retention.ms": "2500", "cleanup.policy": "delete,compact"}) {
		t.Errorf("after restart: overrides %v", got)
	}
	for p := range int32(3) {
		if ms, sb, _ := logConfig(tb, "kept", p); ms != 2500 || sb != 1073741824 {
			t.Errorf("after restart: partition %d retention.ms %d segment.bytes %d", p, ms, sb)
		}
	}
	topicConfigIs(t, tb, "kept", "retention.ms", "2500", kmsg.ConfigSourceDynamicTopicConfig)
	if l := ts.Parts[2].Log; l.StartOffset() != 3 || l.EndOffset() != 4 {
		t.Errorf("after restart: partition 2 offsets %d-%d, want 3-4", l.StartOffset(), l.EndOffset())
	}
	dirs, err := tb.adm.DescribeAllLogDirs(tb.ctx(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dirs[0][tb.dir].Topics.Lookup("gone", 0); ok {
		t.Error("after restart: the deleted topic has a log")
	}
}
