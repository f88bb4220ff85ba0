package itest

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// allAdminAPIs are the API keys the admin tests drive.
var allAdminAPIs = []int16{keyCreateTopics, keyDeleteTopics, keyDeleteRecords, keyDescribeConfigs,
	keyAlterConfigs, keyDescribeLogDirs, keyCreatePartitions, keyIncrementalAlterConfigs, keyDescribeCluster}

// configValue returns a topic's config value and source as DescribeConfigs
// reports them.
func configValue(t *testing.T, adm *kadm.Client, topic, key string) (string, kmsg.ConfigSource) {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctx(t), topic)
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe configs of %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			if c.Value == nil {
				return "<null>", c.Source
			}
			return *c.Value, c.Source
		}
	}
	t.Fatalf("describe configs of %s: no %s", topic, key)
	return "", 0
}

// clusterID reads the cluster ID the broker wrote to meta.properties.
func clusterID(t *testing.T, b *broker) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "cluster.id="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no cluster.id in meta.properties:\n%s", data)
	return ""
}

// segmentBytes sums the .log files of a partition directory.
func segmentBytes(t *testing.T, b *broker, topic string, partition int32) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(b.dir, topic+"-"+strconv.Itoa(int(partition)), "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segments for %s-%d: %v", topic, partition, err)
	}
	var n int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // retention deleted it after the glob listed it
		}
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// liveDirs lists a topic's partition directories, leaving out those
// renamed for deletion (Kafka's "<topic>-<partition>.<id>-delete", removed
// after file.delete.delay.ms).
func liveDirs(t *testing.T, b *broker, topic string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(b.dir, topic+"-*"))
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, d := range dirs {
		if !strings.HasSuffix(d, "-delete") {
			live = append(live, d)
		}
	}
	return live
}

// TestAdminFranzGo drives every admin API through kadm (and raw kmsg for
// DescribeCluster, which kadm does not wrap): topics created, refused,
// grown, trimmed, reconfigured, described, and deleted; configs and
// deletions survive a restart.
func TestAdminFranzGo(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, allAdminAPIs...)
	adm := b.admin(t)
	const topic = "adm.kadm"

	t.Run("CreateTopics", func(t *testing.T) {
		r, err := adm.CreateTopic(ctx(t), 3, 1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, topic)
		if err != nil || r.Err != nil {
			t.Fatalf("create: %v %v %s", err, r.Err, r.ErrMessage)
		}
		if r.NumPartitions != 3 || r.ReplicationFactor != 1 || r.ID == (kadm.TopicID{}) {
			t.Errorf("create answered %d partitions, replication %d, id %v", r.NumPartitions, r.ReplicationFactor, r.ID)
		}
		if n := b.partitionCount(t, topic); n != 3 {
			t.Fatalf("metadata lists %d partitions", n)
		}
		if v, src := configValue(t, adm, topic, "retention.ms"); v != "3600000" || src != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("retention.ms %s from %v, want 3600000 from DYNAMIC_TOPIC_CONFIG", v, src)
		}
	})

	t.Run("CreateTopics errors", func(t *testing.T) {
		cases := []struct {
			name       string
			partitions int32
			rf         int16
			configs    map[string]*string
			want       error
		}{
			{topic, 3, 1, nil, kerr.TopicAlreadyExists},
			{"bad/name", 1, 1, nil, kerr.InvalidTopicException},
			{"bad name", 1, 1, nil, kerr.InvalidTopicException},
			{"..", 1, 1, nil, kerr.InvalidTopicException},
			{strings.Repeat("x", 250), 1, 1, nil, kerr.InvalidTopicException},
			{strings.ReplaceAll(topic, ".", "_"), 1, 1, nil, kerr.InvalidTopicException}, // collides
			{"adm.rf3", 1, 3, nil, kerr.InvalidReplicationFactor},
			{"adm.rf0", 1, 0, nil, kerr.InvalidReplicationFactor},
			{"adm.p0", 0, 1, nil, kerr.InvalidPartitions},
			{"adm.badcfg", 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, kerr.InvalidConfig},
			{"adm.nocfg", 1, 1, map[string]*string{"no.such.config": kadm.StringPtr("1")}, kerr.InvalidConfig},
		}
		for _, c := range cases {
			r, err := adm.CreateTopic(ctx(t), c.partitions, c.rf, c.configs, c.name)
			if err != nil && r.Err == nil { // kadm returns the topic's error too
				t.Fatalf("create %q: %v", c.name, err)
			}
			if !errors.Is(r.Err, c.want) {
				t.Errorf("create %q (p=%d rf=%d %v): %v, want %v", c.name, c.partitions, c.rf, c.configs, r.Err, c.want)
			}
		}
		// validate_only creates nothing.
		rs, err := adm.ValidateCreateTopics(ctx(t), 2, 1, nil, "adm.validate")
		if err != nil || rs["adm.validate"].Err != nil {
			t.Fatalf("validate only: %v %v", err, rs["adm.validate"].Err)
		}
		assertTopics(t, b, topic)
	})

	t.Run("CreatePartitions", func(t *testing.T) {
		rs, err := adm.UpdatePartitions(ctx(t), 5, topic)
		if err != nil || rs[topic].Err != nil {
			t.Fatalf("grow to 5: %v %v", err, rs[topic].Err)
		}
		if n := b.partitionCount(t, topic); n != 5 {
			t.Fatalf("metadata lists %d partitions after growing to 5", n)
		}
		produceSync(t, b.client(t), &kgo.Record{Topic: topic, Partition: 4, Value: []byte("in the new partition")})
		rs, _ = adm.UpdatePartitions(ctx(t), 2, topic)
		if !errors.Is(rs[topic].Err, kerr.InvalidPartitions) {
			t.Errorf("shrink to 2: %v, want INVALID_PARTITIONS", rs[topic].Err)
		}
		rs, _ = adm.UpdatePartitions(ctx(t), 2, "adm.nope")
		if !errors.Is(rs["adm.nope"].Err, kerr.UnknownTopicOrPartition) {
			t.Errorf("grow a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", rs["adm.nope"].Err)
		}
	})

	t.Run("DeleteRecords", func(t *testing.T) {
		cl := b.client(t)
		for i := range 10 {
			produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(strconv.Itoa(i))})
		}
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 4})
		rs, err := adm.DeleteRecords(ctx(t), os)
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[topic][0]; r.Err != nil || r.LowWatermark != 4 {
			t.Fatalf("delete records below 4: low watermark %d, %v", r.LowWatermark, r.Err)
		}
		starts, err := adm.ListStartOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := starts.Lookup(topic, 0); s.Offset != 4 {
			t.Fatalf("log start offset %d after deleting below 4", s.Offset)
		}
		// Consuming from the start begins at 4.
		c := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
		got := pollN(t, c, 6)
		if got[0].Offset != 4 || string(got[0].Value) != "4" || got[5].Offset != 9 {
			t.Fatalf("consumed from the start: offsets %d..%d, first value %q", got[0].Offset, got[5].Offset, got[0].Value)
		}
		// Fetch reports the new log start, and below it is out of range.
		conn := b.dial(t)
		p := fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 4, 1 << 20})).Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.LogStartOffset != 4 || p.HighWatermark != 10 {
			t.Errorf("fetch at 4: error %d log start %d high watermark %d", p.ErrorCode, p.LogStartOffset, p.HighWatermark)
		}
		p = fetchOne(t, conn, fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 2, 1 << 20})).Topics[0].Partitions[0]
		if p.ErrorCode != kerr.OffsetOutOfRange.Code || p.LogStartOffset != 4 {
			t.Errorf("fetch at 2: error %d log start %d, want OFFSET_OUT_OF_RANGE and 4", p.ErrorCode, p.LogStartOffset)
		}
		// Past the high watermark is out of range; -1 means the high watermark.
		os = nil
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 11})
		rs, _ = adm.DeleteRecords(ctx(t), os)
		if r := rs[topic][0]; !errors.Is(r.Err, kerr.OffsetOutOfRange) {
			t.Errorf("delete records below 11 (high watermark 10): %v, want OFFSET_OUT_OF_RANGE", r.Err)
		}
		os = nil
		os.Add(kadm.Offset{Topic: topic, Partition: 1, At: -1})
		rs, _ = adm.DeleteRecords(ctx(t), os)
		if r := rs[topic][1]; r.Err != nil || r.LowWatermark != 0 {
			t.Errorf("delete records of empty partition 1 to -1: %d, %v", r.LowWatermark, r.Err)
		}
	})

	t.Run("DescribeConfigs", func(t *testing.T) {
		if v, src := configValue(t, adm, topic, "segment.bytes"); v != "1073741824" || src != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("segment.bytes %s from %v, want the default 1073741824", v, src)
		}
		rcs, err := adm.DescribeBrokerConfigs(ctx(t), 0)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On("0", nil)
		if err != nil || rc.Err != nil {
			t.Fatalf("broker configs: %v %v", err, rc.Err)
		}
		found := map[string]string{}
		for _, c := range rc.Configs {
			if c.Value != nil {
				found[c.Key] = *c.Value
			}
		}
		if found["log.dirs"] != b.dir || found["listeners"] != "PLAINTEXT://"+b.addr {
			t.Errorf("broker configs: log.dirs %q listeners %q, want %q and %q", found["log.dirs"], found["listeners"], b.dir, "PLAINTEXT://"+b.addr)
		}
		rcs, err = adm.DescribeTopicConfigs(ctx(t), "adm.nope")
		if err == nil {
			if rc, _ := rcs.On("adm.nope", nil); !errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
				t.Errorf("describe configs of a missing topic: %v", rc.Err)
			}
		}
	})

	t.Run("AlterConfigs", func(t *testing.T) {
		// The legacy form replaces every override.
		rs, err := adm.AlterTopicConfigsState(ctx(t), []kadm.AlterConfig{{Name: "segment.ms", Value: kadm.StringPtr("3600000")}}, topic)
		if err != nil || rs[0].Err != nil {
			t.Fatalf("alter configs: %v %v", err, rs)
		}
		if v, src := configValue(t, adm, topic, "segment.ms"); v != "3600000" || src != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("segment.ms %s from %v", v, src)
		}
		if v, src := configValue(t, adm, topic, "retention.ms"); v != "604800000" || src != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("retention.ms %s from %v after a legacy alter without it: want the default", v, src)
		}
		rs, _ = adm.AlterTopicConfigsState(ctx(t), []kadm.AlterConfig{{Name: "segment.ms", Value: kadm.StringPtr("-5")}}, topic)
		if len(rs) != 1 || !errors.Is(rs[0].Err, kerr.InvalidConfig) {
			t.Errorf("alter to segment.ms=-5: %v, want INVALID_CONFIG", rs)
		}
	})

	t.Run("IncrementalAlterConfigs", func(t *testing.T) {
		rs, err := adm.AlterTopicConfigs(ctx(t), []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")},
			{Op: kadm.DeleteConfig, Name: "segment.ms"},
			{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact")},
		}, topic)
		if err != nil || rs[0].Err != nil {
			t.Fatalf("incremental alter: %v %v", err, rs)
		}
		for _, c := range []struct{ key, value string }{
			{"retention.ms", "7200000"}, {"segment.ms", "604800000"}, {"cleanup.policy", "delete,compact"},
		} {
			if v, _ := configValue(t, adm, topic, c.key); v != c.value {
				t.Errorf("%s = %s, want %s", c.key, v, c.value)
			}
		}
		rs, _ = adm.AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("big")}}, topic)
		if len(rs) != 1 || !errors.Is(rs[0].Err, kerr.InvalidConfig) {
			t.Errorf("set max.message.bytes=big: %v, want INVALID_CONFIG", rs)
		}
		rs, _ = adm.AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1")}}, "adm.nope")
		if len(rs) != 1 || !errors.Is(rs[0].Err, kerr.UnknownTopicOrPartition) {
			t.Errorf("alter a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", rs)
		}
	})

	t.Run("DescribeCluster", func(t *testing.T) {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = true
		resp, err := req.RequestWith(ctx(t), b.client(t))
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(b.addr)
		if resp.ErrorCode != 0 || resp.ClusterID != clusterID(t, b) || resp.ControllerID != 0 || len(resp.Brokers) != 1 ||
			resp.Brokers[0].NodeID != 0 || resp.Brokers[0].Host != host || strconv.Itoa(int(resp.Brokers[0].Port)) != port {
			t.Fatalf("describe cluster: %+v, want cluster %s with broker 0 at %s", resp, clusterID(t, b), b.addr)
		}
	})

	t.Run("DescribeLogDirs", func(t *testing.T) {
		all, err := adm.DescribeAllLogDirs(ctx(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		dirs := all[0]
		if len(all) != 1 || len(dirs) != 1 {
			t.Fatalf("log dirs: %+v, want one broker with one directory", all)
		}
		d, ok := dirs[b.dir]
		if !ok || d.Err != nil {
			t.Fatalf("log dirs %v, want %s", all, b.dir)
		}
		parts := d.Topics[topic]
		if len(parts) != 5 {
			t.Fatalf("log dir lists %d partitions of %s, want 5", len(parts), topic)
		}
		for p, dp := range parts {
			if want := segmentBytes(t, b, topic, p); dp.Size != want {
				t.Errorf("partition %d: size %d, want %d (its .log files)", p, dp.Size, want)
			}
		}
		if parts[0].Size == 0 {
			t.Error("partition 0 holds records but has size 0")
		}
	})

	t.Run("restart keeps configs and deletions", func(t *testing.T) {
		b.stop()
		b.restart()
		adm := b.admin(t)
		if v, _ := configValue(t, adm, topic, "retention.ms"); v != "7200000" {
			t.Errorf("retention.ms %s after restart, want 7200000", v)
		}
		if v, _ := configValue(t, adm, topic, "cleanup.policy"); v != "delete,compact" {
			t.Errorf("cleanup.policy %s after restart", v)
		}
		if n := b.partitionCount(t, topic); n != 5 {
			t.Errorf("%d partitions after restart, want 5", n)
		}
		starts, err := adm.ListStartOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := starts.Lookup(topic, 0); s.Offset != 4 {
			t.Errorf("log start offset %d after restart, want 4", s.Offset)
		}
	})

	t.Run("DeleteTopics", func(t *testing.T) {
		adm := b.admin(t)
		r, err := adm.DeleteTopic(ctx(t), topic)
		if err != nil || r.Err != nil {
			t.Fatalf("delete: %v %v", err, r.Err)
		}
		if n := b.partitionCount(t, topic); n != -1 {
			t.Fatalf("deleted topic still has %d partitions", n)
		}
		if dirs := liveDirs(t, b, topic); len(dirs) != 0 {
			t.Errorf("partition directories left: %v", dirs)
		}
		r, _ = adm.DeleteTopic(ctx(t), topic)
		if !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			t.Errorf("delete again: %v, want UNKNOWN_TOPIC_OR_PARTITION", r.Err)
		}
		// The name can be used again, for an empty topic.
		b.newTopic(t, topic, 1, nil)
		ends, err := adm.ListEndOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := ends.Lookup(topic, 0); e.Offset != 0 {
			t.Errorf("recreated topic's end offset %d, want 0", e.Offset)
		}
	})
}

// TestAdminKafkaPython drives kafka-python's KafkaAdminClient: it has no
// DeleteRecords, DescribeLogDirs or incremental alter, and describes the
// cluster through Metadata.
func TestAdminKafkaPython(t *testing.T) {
	needPython(t, "kafka", "python3-kafka")
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics, keyDeleteTopics, keyCreatePartitions, keyDescribeConfigs, keyAlterConfigs)
	const topic = "adm.kp"
	ops := []map[string]any{
		{"op": "create", "name": topic, "partitions": 2, "rf": 1, "configs": map[string]string{"retention.ms": "3600000"}},
		{"op": "create", "name": topic, "partitions": 2, "rf": 1},
		{"op": "create", "name": "bad/name", "partitions": 1, "rf": 1},
		{"op": "create", "name": "adm.kp.rf3", "partitions": 1, "rf": 3},
		{"op": "create", "name": "adm.kp.validate", "partitions": 1, "rf": 1, "validate_only": true},
		{"op": "create_partitions", "name": topic, "count": 4},
		{"op": "create_partitions", "name": topic, "count": 2},
		{"op": "describe_topics", "names": []string{topic}},
		{"op": "describe_configs", "name": topic, "keys": []string{"retention.ms"}},
		{"op": "alter_configs", "name": topic, "configs": map[string]string{"retention.ms": "86400000"}},
		{"op": "describe_configs", "name": topic, "keys": []string{"retention.ms", "segment.bytes"}},
		{"op": "describe_configs", "name": "0", "broker": true, "keys": []string{"num.partitions"}},
		{"op": "describe_cluster"},
		{"op": "list"},
		{"op": "delete", "name": topic},
		{"op": "delete", "name": topic},
		{"op": "list"},
	}
	in, _ := json.Marshal(ops)
	var res []map[string]any
	out := runPy(t, in, "kp-admin", b.addr)
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(ops) {
		t.Fatalf("kp-admin: %v\n%s", err, out)
	}
	host, port, _ := net.SplitHostPort(b.addr)
	want := []string{
		`{"error":null}`,
		`{"error":"TopicAlreadyExistsError"}`,
		`{"error":"InvalidTopicError"}`,
		`{"error":"InvalidReplicationFactorError"}`,
		`{"error":null}`,
		`{"error":null}`,
		`{"error":"InvalidPartitionsError"}`,
		`{"error":null,"topics":[{"error_code":0,"partitions":[0,1,2,3],"topic":"adm.kp"}]}`,
		`{"configs":{"retention.ms":"3600000"},"error":null,"error_code":0}`,
		`{"error":null,"error_codes":[0]}`,
		`{"configs":{"retention.ms":"86400000","segment.bytes":"1073741824"},"error":null,"error_code":0}`,
		`{"configs":{"num.partitions":"1"},"error":null,"error_code":0}`,
		`{"brokers":[{"host":"` + host + `","id":0,"port":` + port + `}],"cluster_id":"` + clusterID(t, b) + `","controller_id":0,"error":null}`,
		`{"error":null,"topics":["adm.kp"]}`,
		`{"error":null}`,
		`{"error":"UnknownTopicOrPartitionError"}`,
		`{"error":null,"topics":[]}`,
	}
	for i, r := range res {
		delete(r, "message")
		got, _ := json.Marshal(r)
		if string(got) != want[i] {
			t.Errorf("op %d %v:\n got %s\nwant %s", i, ops[i], got, want[i])
		}
	}
}

// TestAdminSarama drives sarama's ClusterAdmin over every admin API it has.
func TestAdminSarama(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, allAdminAPIs...)
	adm, err := sarama.NewClusterAdmin([]string{b.addr}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	const topic = "adm.sarama"
	retention := "7200000"
	if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": &retention}}, false); err != nil {
		t.Fatalf("create: %v", err)
	}
	for _, c := range []struct {
		name   string
		detail sarama.TopicDetail
		want   sarama.KError
	}{
		{topic, sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, sarama.ErrTopicAlreadyExists},
		{"bad/name", sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, sarama.ErrInvalidTopic},
		{"adm.sarama.rf3", sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 3}, sarama.ErrInvalidReplicationFactor},
	} {
		err := adm.CreateTopic(c.name, &c.detail, false)
		if !errors.Is(err, c.want) {
			t.Errorf("create %q: %v, want %v", c.name, err, c.want)
		}
	}

	if err := adm.CreatePartitions(topic, 3, nil, false); err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	if err := adm.CreatePartitions(topic, 1, nil, false); !errors.Is(err, sarama.ErrInvalidPartitions) {
		t.Errorf("shrink: %v, want %v", err, sarama.ErrInvalidPartitions)
	}
	md, err := adm.DescribeTopics([]string{topic})
	if err != nil || len(md) != 1 || len(md[0].Partitions) != 3 {
		t.Fatalf("describe topics: %v %+v", err, md)
	}

	cl := b.client(t)
	for i := range 5 {
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(strconv.Itoa(i))})
	}
	if err := adm.DeleteRecords(topic, map[int32]int64{0: 2}); err != nil {
		t.Fatalf("delete records: %v", err)
	}
	starts, err := b.admin(t).ListStartOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup(topic, 0); s.Offset != 2 {
		t.Errorf("log start offset %d after deleting below 2", s.Offset)
	}

	describe := func(key string) string {
		t.Helper()
		entries, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{key}})
		if err != nil || len(entries) != 1 {
			t.Fatalf("describe %s: %v %+v", key, err, entries)
		}
		return entries[0].Value
	}
	if v := describe("retention.ms"); v != retention {
		t.Errorf("retention.ms %s, want %s", v, retention)
	}
	v := "1000"
	if err := adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"retention.ms": &v}, false); err != nil {
		t.Fatalf("alter configs: %v", err)
	}
	if v := describe("retention.ms"); v != "1000" {
		t.Errorf("retention.ms %s after alter, want 1000", v)
	}
	seg := "60000"
	if err := adm.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		"segment.ms":   {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &seg},
		"retention.ms": {Operation: sarama.IncrementalAlterConfigsOperationDelete},
	}, false); err != nil {
		t.Fatalf("incremental alter: %v", err)
	}
	if v := describe("segment.ms"); v != seg {
		t.Errorf("segment.ms %s, want %s", v, seg)
	}
	if v := describe("retention.ms"); v != "604800000" {
		t.Errorf("retention.ms %s after deleting the override, want the default", v)
	}

	brokers, controller, err := adm.DescribeCluster()
	if err != nil || len(brokers) != 1 || brokers[0].Addr() != b.addr || controller != 0 {
		t.Errorf("describe cluster: %v, controller %d, %v", brokers, controller, err)
	}
	dirs, err := adm.DescribeLogDirs([]int32{0})
	if err != nil || len(dirs[0]) != 1 || dirs[0][0].Path != b.dir {
		t.Fatalf("describe log dirs: %v %+v", err, dirs)
	}
	var size int64
	for _, tp := range dirs[0][0].Topics {
		if tp.Topic == topic {
			for _, p := range tp.Partitions {
				if p.PartitionID == 0 {
					size = p.Size
				}
			}
		}
	}
	if want := segmentBytes(t, b, topic, 0); size != want {
		t.Errorf("log dir size of partition 0: %d, want %d", size, want)
	}

	if err := adm.DeleteTopic(topic); err != nil {
		t.Fatalf("delete topic: %v", err)
	}
	if err := adm.DeleteTopic(topic); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		t.Errorf("delete again: %v, want %v", err, sarama.ErrUnknownTopicOrPartition)
	}
}

// TestAdminBrokerDefaults: server.properties values that are topic-config
// defaults show in DescribeConfigs with the source STATIC_BROKER_CONFIG,
// for topics and for the broker.
func TestAdminBrokerDefaults(t *testing.T) {
	b := startBroker(t, "log.retention.hours=2", "num.partitions=2", "log.segment.bytes=1048576")
	b.needAPIs(t, keyCreateTopics, keyDescribeConfigs)
	const topic = "adm.defaults"
	b.newTopic(t, topic, 2, nil)
	adm := b.admin(t)
	for key, want := range map[string]string{"retention.ms": "7200000", "segment.bytes": "1048576"} {
		if v, src := configValue(t, adm, topic, key); v != want || src != kmsg.ConfigSourceStaticBrokerConfig {
			t.Errorf("topic %s = %s from %v, want %s from STATIC_BROKER_CONFIG", key, v, src, want)
		}
	}
	if v, src := configValue(t, adm, topic, "cleanup.policy"); v != "delete" || src != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("topic cleanup.policy = %s from %v, want delete from DEFAULT_CONFIG", v, src)
	}
	rcs, err := adm.DescribeBrokerConfigs(ctx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("0", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("broker configs: %v %v", err, rc.Err)
	}
	got := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for key, want := range map[string]string{"num.partitions": "2", "log.segment.bytes": "1048576"} {
		c, ok := got[key]
		if !ok || c.Value == nil || *c.Value != want || c.Source != kmsg.ConfigSourceStaticBrokerConfig {
			t.Errorf("broker %s: %+v, want %s from STATIC_BROKER_CONFIG", key, c, want)
		}
	}
}
