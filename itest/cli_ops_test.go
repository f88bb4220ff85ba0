package itest

// samsa's operator commands against the real broker: topic add-partitions,
// delete-records, offsets and describe; cluster describe, config and
// log-dirs; and produce's auto topic creation.

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// hasFields reports whether some line of out has exactly the fields want.
func hasFields(out string, want ...string) bool {
	return slices.ContainsFunc(fields(out), func(f []string) bool { return slices.Equal(f, want) })
}

// TestCLIProduceAutoCreates: samsa produce to a topic that does not exist
// gets it created, as kcat and kafka-python get on the same broker; consume
// does not create one.
func TestCLIProduceAutoCreates(t *testing.T) {
	b := startBroker(t, "num.partitions=2")
	if n := b.partitionCount(t, "auto.cli"); n != -1 {
		t.Fatalf("auto.cli exists before the test (%d partitions)", n)
	}
	b.samsa(t, "a\nb\nc\n", "produce", "auto.cli")
	if n := b.partitionCount(t, "auto.cli"); n != 2 {
		t.Fatalf("after samsa produce, auto.cli has %d partitions, want the broker's num.partitions, 2", n)
	}
	if got := b.consumeAll(t, "auto.cli"); len(got) != 3 {
		t.Fatalf("auto.cli holds %d records, want 3", len(got))
	}
	_, errOut, err := tryCmd(t, nil, samsaBin, "consume", "auto.none", "-e", "--brokers", b.addr)
	if err == nil || !strings.Contains(string(errOut), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Fatalf("consume of a missing topic: %v, stderr %q", err, errOut)
	}
	if n := b.partitionCount(t, "auto.none"); n != -1 {
		t.Fatalf("consume created auto.none")
	}
}

// TestCLITopicAdmin: add-partitions to a total and by an increase;
// delete-records moves the log start offset; offsets by end and by time;
// describe shows leader epoch and offline replicas, and no CONFIGS section
// for a topic without overrides.
func TestCLITopicAdmin(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics, keyCreatePartitions, keyDeleteRecords, keyDescribeConfigs)
	const topic = "ops.topic"
	b.newTopic(t, topic, 1, nil)

	out := b.samsa(t, "", "topic", "describe", topic)
	if strings.Contains(out, "CONFIGS") {
		t.Errorf("describe of a topic without overrides prints a CONFIGS section:\n%s", out)
	}
	if !hasFields(out, "PARTITION", "LEADER", "LEADER-EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK") ||
		!slices.ContainsFunc(fields(out), func(f []string) bool { return len(f) == 8 && f[0] == "0" && f[3] == "["+f[1]+"]" && f[5] == "[]" }) {
		t.Errorf("describe partitions:\n%s", out)
	}

	out = b.samsa(t, "", "topic", "add-partitions", topic, "-p", "3")
	if !hasFields(out, topic, "OK") || b.partitionCount(t, topic) != 3 {
		t.Fatalf("add-partitions -p 3: %d partitions\n%s", b.partitionCount(t, topic), out)
	}
	out = b.samsa(t, "", "topic", "add-partitions", topic, "--num", "2")
	if !hasFields(out, topic, "OK") || b.partitionCount(t, topic) != 5 {
		t.Fatalf("add-partitions --num 2: %d partitions\n%s", b.partitionCount(t, topic), out)
	}
	o, _, err := tryCmd(t, nil, samsaBin, "topic", "add-partitions", topic, "-p", "2", "--brokers", b.addr)
	if err == nil || !strings.Contains(string(o), "INVALID_PARTITIONS") {
		t.Fatalf("shrinking with add-partitions: %v\n%s", err, o)
	}

	// Ten records in partition 0, a second apart, ending a minute ago
	// (older ones would fall to retention).
	base := time.Now().Add(-time.Hour).UnixMilli()
	cl := b.client(t)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "v%d", i), Timestamp: time.UnixMilli(base + int64(1000*(i+1)))})
	}
	produceSync(t, cl, recs...)

	out = b.samsa(t, "", "topic", "offsets", topic, "-p", "0")
	if !hasFields(out, topic, "0", "10", "-", "0") {
		t.Errorf("offsets (latest) of partition 0:\n%s", out)
	}
	out = b.samsa(t, "", "topic", "offsets", topic, "--time", strconv.FormatInt(base+4500, 10))
	if !hasFields(out, topic, "0", "4", strconv.FormatInt(base+5000, 10), "0") || !hasFields(out, topic, "4", "0", "-", "0") {
		t.Errorf("offsets --time 4500:\n%s", out)
	}

	out = b.samsa(t, "", "topic", "delete-records", topic, "-p", "0", "--offset", "6")
	if !hasFields(out, "0", "6", "OK") {
		t.Fatalf("delete-records --offset 6:\n%s", out)
	}
	out = b.samsa(t, "", "topic", "offsets", topic, "--time", "earliest", "-p", "0,1")
	if !hasFields(out, topic, "0", "6", "-", "0") || !hasFields(out, topic, "1", "0", "-", "0") {
		t.Errorf("offsets --time earliest after delete-records:\n%s", out)
	}
	out = b.samsa(t, "", "topic", "delete-records", topic, "--offset", "end")
	for p := range 5 {
		want := "0"
		if p == 0 {
			want = "10"
		}
		if !hasFields(out, strconv.Itoa(p), want, "OK") {
			t.Errorf("delete-records --offset end: no row for partition %d at %s:\n%s", p, want, out)
		}
	}
	o, _, err = tryCmd(t, nil, samsaBin, "topic", "delete-records", topic, "-p", "0", "-o", "99", "--brokers", b.addr)
	if err == nil || !strings.Contains(string(o), "OFFSET_OUT_OF_RANGE") {
		t.Errorf("delete-records past the end: %v\n%s", err, o)
	}
}

// TestCLICluster: cluster describe names the broker, its address and the
// controller as the broker's metadata does; config describe shows its
// configs; config alter prints the broker's refusal and exits 1; log-dirs
// shows partition sizes.
func TestCLICluster(t *testing.T) {
	b := startBroker(t, "num.partitions=2")
	b.needAPIs(t, keyDescribeCluster, keyDescribeConfigs, keyDescribeLogDirs, keyIncrementalAlterConfigs, keyCreateTopics)
	meta, err := b.admin(t).BrokerMetadata(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(int(meta.Controller))

	for _, args := range [][]string{{"cluster"}, {"cluster", "describe"}, {"cluster", "info"}} {
		out := b.samsa(t, "", args...)
		if !hasFields(out, "CLUSTER-ID", meta.Cluster) || !hasFields(out, "CONTROLLER", id) || !hasFields(out, id, b.addr, "-", "yes") {
			t.Errorf("samsa %s (cluster %s, controller %s at %s):\n%s", strings.Join(args, " "), meta.Cluster, id, b.addr, out)
		}
	}

	out := b.samsa(t, "", "cluster", "config", "describe")
	if !strings.HasPrefix(out, "broker "+id+"\n") || !hasFields(out, "log.dirs", b.dir, "STATIC_BROKER_CONFIG") {
		t.Errorf("cluster config describe:\n%s", out)
	}
	out = b.samsa(t, "", "cluster", "config", "describe", "--broker", id, "--all-configs")
	if !hasFields(out, "num.partitions", "2", "STATIC_BROKER_CONFIG") || !slices.ContainsFunc(fields(out), func(f []string) bool { return len(f) == 3 && f[2] == "DEFAULT_CONFIG" }) {
		t.Errorf("cluster config describe --all-configs:\n%s", out)
	}
	for _, args := range [][]string{{}, {"--broker", id}} {
		o, e, err := tryCmd(t, nil, samsaBin, append(append([]string{"cluster", "config", "alter", "--set", "log.cleaner.threads=2"}, args...), "--brokers", b.addr)...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(o), "INVALID_REQUEST") ||
			strings.Count(string(e), "\n") != 1 || strings.Contains(string(e), "shard") {
			t.Errorf("cluster config alter %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, o, e)
		}
	}

	b.samsa(t, strings.Repeat("record\n", 100), "produce", "logdirs.cli", "-p", "1")
	out = b.samsa(t, "", "cluster", "log-dirs", "logdirs.cli")
	sizes := map[string]int64{}
	for _, f := range fields(out) {
		if len(f) != 7 || f[0] == "BROKER" || f[6] == "-" {
			continue // headers and the directory table
		}
		if f[0] != id || f[2] != "logdirs.cli" || f[5] != "0" || f[6] != "false" {
			t.Errorf("log-dirs logdirs.cli: row %q", f)
		}
		sizes[f[3]], _ = strconv.ParseInt(f[4], 10, 64)
	}
	if len(sizes) != 2 || sizes["0"] != 0 || sizes["1"] < int64(100*len("record")) {
		t.Errorf("log-dirs: partition sizes %v, want 0 and at least %d:\n%s", sizes, 100*len("record"), out)
	}
}
