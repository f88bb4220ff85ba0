package topic

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa topic against brokers.
func newCLI(brokers string) clitest.CLI {
	return clitest.CLI{Brokers: brokers, New: func() *cobra.Command { return NewCommand(command.NewClientFlags()) }}
}

// Usage errors exit 2 before any connection is made, with one line naming
// the problem and a hint to read --help.
func TestUsageErrors(t *testing.T) {
	c := newCLI("127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"topic", "create"}, "no topic named"},
		{[]string{"topic", "create", "a", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"topic", "create", "a", "-p", "0"}, "--partitions 0"},
		{[]string{"topic", "create", "a", "-p", "many"}, `invalid argument "many"`},
		{[]string{"topic", "create", "a", "-c", "novalue"}, "want key=value"},
		{[]string{"topic", "alter-config", "a"}, "nothing to do"},
		{[]string{"topic", "describe"}, "no topic named"},
		{[]string{"topic", "add-partitions", "a"}, "give --partitions TOTAL or --num ADD"},
		{[]string{"topic", "add-partitions", "a", "-p", "3", "-n", "1"}, "do not go together"},
		{[]string{"topic", "delete-records", "a"}, "--offset is required"},
		{[]string{"topic", "delete-records", "a", "-o", "x"}, "--offset"},
		{[]string{"topic", "offsets", "a", "--time", "yesterday"}, "--time"},
		{[]string{"topic", "list", "--timeout", "0s"}, "--timeout must be positive"},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
	if out, code := clitest.Combined(t, newCLI("").New, "topic"); code != 2 || !strings.Contains(out, "missing command: one of add-partitions, alter-config, create") {
		t.Errorf("samsa topic: exit %d, output %q", code, out)
	}
}

func TestTopicRoundTrip(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic, other := clitest.NewTopic(t), clitest.NewTopic(t)+"-b"

	out := c.OK(t, "", "topic", "create", topic, other, "-p", "3", "-r", "1", "-c", "cleanup.policy=compact")
	if !clitest.HasRow(out, "TOPIC", "STATUS") || !clitest.HasRow(out, topic, "OK") || !clitest.HasRow(out, other, "OK") {
		t.Fatalf("create output:\n%s", out)
	}
	out, _, code := c.Run(t, "", "topic", "create", topic, "-p", "3")
	if code != 1 || !strings.Contains(out, "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating an existing topic: exit %d, output:\n%s", code, out)
	}

	out = c.OK(t, "", "topic", "list")
	if !clitest.HasRow(out, "NAME", "PARTITIONS", "REPLICAS") || !clitest.HasRow(out, topic, "3", "1") || !clitest.HasRow(out, other, "3", "1") {
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

	out = c.OK(t, "", "topic", "describe", topic)
	for _, want := range [][]string{
		{"NAME", topic},
		{"PARTITIONS", "3"},
		{"REPLICAS", "1"},
		{"cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG"},
		{"PARTITION", "LEADER", "LEADER-EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"},
	} {
		if !clitest.HasRow(out, want...) {
			t.Errorf("describe: no row %q in:\n%s", want, out)
		}
	}
	partRows := 0
	for _, r := range clitest.Rows(out[strings.Index(out, "LOG-START-OFFSET"):]) {
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

	out = c.OK(t, "", "topic", "alter-config", topic, "--set", "retention.ms=1234", "--delete", "cleanup.policy")
	if !clitest.HasRow(out, topic, "OK") {
		t.Fatalf("alter-config output:\n%s", out)
	}
	out = c.OK(t, "", "topic", "describe", topic)
	if !clitest.HasRow(out, "retention.ms", "1234", "DYNAMIC_TOPIC_CONFIG") || strings.Contains(out, "cleanup.policy") {
		t.Errorf("describe after alter-config: want retention.ms overridden and cleanup.policy back to its default (hidden):\n%s", out)
	}
	out = c.OK(t, "", "topic", "describe", topic, "--all-configs")
	if !clitest.HasRow(out, "retention.ms", "1234", "DYNAMIC_TOPIC_CONFIG") || !strings.Contains(out, "cleanup.policy") {
		t.Errorf("describe --all-configs: want the defaults too:\n%s", out)
	}

	out = c.OK(t, "", "topic", "delete", topic, other)
	if !clitest.HasRow(out, topic, "OK") || !clitest.HasRow(out, other, "OK") {
		t.Fatalf("delete output:\n%s", out)
	}
	out = c.OK(t, "", "topic", "list")
	if strings.Contains(out, topic) {
		t.Errorf("list after delete still shows %s:\n%s", topic, out)
	}
	out, _, code = c.Run(t, "", "topic", "describe", topic)
	if code != 1 || !strings.Contains(out, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("describe of a deleted topic: exit %d, output:\n%s", code, out)
	}
	out, _, code = c.Run(t, "", "topic", "delete", topic)
	if code != 1 || !strings.Contains(out, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("delete of a deleted topic: exit %d, output:\n%s", code, out)
	}
}
