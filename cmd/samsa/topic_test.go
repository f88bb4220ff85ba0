package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTopicRoundTrip(t *testing.T) {
	addr := startCluster(t)
	c := samsaCLI{brokers: addr}
	topic, other := newTopic(t), newTopic(t)+"-b"

	out := c.ok(t, "", "topic", "create", topic, other, "-p", "3", "-r", "1", "-c", "cleanup.policy=compact")
	if !hasRow(out, "TOPIC", "STATUS") || !hasRow(out, topic, "OK") || !hasRow(out, other, "OK") {
		t.Fatalf("create output:\n%s", out)
	}
	out, _, code := c.run(t, "", "topic", "create", topic, "-p", "3")
	if code != 1 || !strings.Contains(out, "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating an existing topic: exit %d, output:\n%s", code, out)
	}

	out = c.ok(t, "", "topic", "list")
	if !hasRow(out, "NAME", "PARTITIONS", "REPLICAS") || !hasRow(out, topic, "3", "1") || !hasRow(out, other, "3", "1") {
		t.Fatalf("list output:\n%s", out)
	}

	// Two records in partition 1 make its high watermark 2.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 1, Key: []byte("a"), Value: []byte("x")},
		&kgo.Record{Partition: 1, Key: []byte("b"), Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	out = c.ok(t, "", "topic", "describe", topic)
	for _, want := range [][]string{
		{"NAME", topic},
		{"PARTITIONS", "3"},
		{"REPLICAS", "1"},
		{"cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG"},
		{"PARTITION", "LEADER", "LEADER-EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"},
	} {
		if !hasRow(out, want...) {
			t.Errorf("describe: no row %q in:\n%s", want, out)
		}
	}
	partRows := 0
	for _, r := range rows(out[strings.Index(out, "LOG-START-OFFSET"):]) {
		if len(r) != 8 || r[0] == "PARTITION" {
			continue
		}
		partRows++
		// Leader in the replicas and the ISR, none offline; start 0; end 2
		// for partition 1.
		if r[3] != "["+r[1]+"]" || r[4] != r[3] || r[5] != "[]" || r[6] != "0" {
			t.Errorf("describe: partition row %q", r)
		}
		wantEnd := "0"
		if r[0] == "1" {
			wantEnd = "2"
		}
		if r[7] != wantEnd {
			t.Errorf("describe: partition %s high watermark %s, want %s", r[0], r[7], wantEnd)
		}
	}
	if partRows != 3 {
		t.Errorf("describe: %d partition rows, want 3:\n%s", partRows, out)
	}

	out = c.ok(t, "", "topic", "alter-config", topic, "--set", "retention.ms=1234", "--delete", "cleanup.policy")
	if !hasRow(out, topic, "OK") {
		t.Fatalf("alter-config output:\n%s", out)
	}
	out = c.ok(t, "", "topic", "describe", topic)
	if !hasRow(out, "retention.ms", "1234", "DYNAMIC_TOPIC_CONFIG") || strings.Contains(out, "cleanup.policy") {
		t.Errorf("describe after alter-config: want retention.ms overridden and cleanup.policy back to its default (hidden):\n%s", out)
	}
	out = c.ok(t, "", "topic", "describe", topic, "--all-configs")
	if !hasRow(out, "retention.ms", "1234", "DYNAMIC_TOPIC_CONFIG") || !strings.Contains(out, "cleanup.policy") {
		t.Errorf("describe --all-configs: want the defaults too:\n%s", out)
	}

	out = c.ok(t, "", "topic", "delete", topic, other)
	if !hasRow(out, topic, "OK") || !hasRow(out, other, "OK") {
		t.Fatalf("delete output:\n%s", out)
	}
	out = c.ok(t, "", "topic", "list")
	if strings.Contains(out, topic) {
		t.Errorf("list after delete still shows %s:\n%s", topic, out)
	}
	out, _, code = c.run(t, "", "topic", "describe", topic)
	if code != 1 || !strings.Contains(out, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("describe of a deleted topic: exit %d, output:\n%s", code, out)
	}
	out, _, code = c.run(t, "", "topic", "delete", topic)
	if code != 1 || !strings.Contains(out, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("delete of a deleted topic: exit %d, output:\n%s", code, out)
	}
}
