package group

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa group against brokers.
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
		{[]string{"group", "seek", "g"}, "--to is required"},
		{[]string{"group", "seek", "g", "--to", "-3"}, "--to"},
		{[]string{"group", "seek", "g", "--to", "earliest", "-p", "0"}, "--partition needs exactly one topic"},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

// group seek moves the committed offsets of a group without members, of
// the topics it has offsets for or those named, and prints each move;
// --dry-run commits nothing.
func TestGroupSeek(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 2)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rs []*kgo.Record
	for i := range 8 { // 3 records in partition 0, 5 in partition 1
		rs = append(rs, &kgo.Record{Partition: int32(min(i/3, 1)), Value: []byte("v")})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := clitest.AdminClient(t, addr)
	group := clitest.NewTopic(t) + "-g"
	offs := kadm.Offsets{}
	offs.AddOffset(topic, 0, 1, -1)
	offs.AddOffset(topic, 1, 2, -1)
	if err := adm.CommitAllOffsets(ctx, group, offs); err != nil {
		t.Fatal(err)
	}
	committed := func() (int64, int64) {
		t.Helper()
		got, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		o0, _ := got.Lookup(topic, 0)
		o1, _ := got.Lookup(topic, 1)
		return o0.At, o1.At
	}

	out := c.OK(t, "", "group", "seek", group, "--to", "earliest", "--dry-run")
	if !clitest.HasRow(out, "TOPIC", "PARTITION", "PREVIOUS-OFFSET", "NEW-OFFSET") ||
		!clitest.HasRow(out, topic, "0", "1", "0") || !clitest.HasRow(out, topic, "1", "2", "0") {
		t.Errorf("seek --to earliest --dry-run printed:\n%s", out)
	}
	if o0, o1 := committed(); o0 != 1 || o1 != 2 {
		t.Errorf("after --dry-run, committed %d and %d, want 1 and 2 unchanged", o0, o1)
	}

	out = c.OK(t, "", "group", "seek", group, "--to", "latest")
	if !clitest.HasRow(out, topic, "0", "1", "3") || !clitest.HasRow(out, topic, "1", "2", "5") {
		t.Errorf("seek --to latest printed:\n%s", out)
	}
	if o0, o1 := committed(); o0 != 3 || o1 != 5 {
		t.Errorf("after seek --to latest, committed %d and %d, want 3 and 5", o0, o1)
	}

	// One partition of a topic named; offsets are clamped to the log.
	out = c.OK(t, "", "group", "seek", group, "--to", "offset:4", "--topics", topic, "-p", "0")
	if !clitest.HasRow(out, topic, "0", "3", "3") || len(clitest.Rows(out)) != 2 {
		t.Errorf("seek --to offset:4 -p 0 printed:\n%s", out)
	}
	out = c.OK(t, "", "group", "seek", group, "--to", "offset:4", "--topics", topic, "-p", "1")
	if !clitest.HasRow(out, topic, "1", "5", "4") {
		t.Errorf("seek --to offset:4 -p 1 printed:\n%s", out)
	}
	if o0, o1 := committed(); o0 != 3 || o1 != 4 {
		t.Errorf("committed %d and %d, want 3 and 4", o0, o1)
	}

	// A group with members is refused.
	member, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	for {
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if len(dg[group].Members) > 0 {
			break
		}
		member.PollFetches(ctx) // joins the group
	}
	_, errOut, code := c.Run(t, "", "group", "seek", group, "--to", "earliest")
	if code != 1 || !strings.Contains(errOut, "has 1 members") {
		t.Errorf("seek of a group with a member: exit %d, stderr %q", code, errOut)
	}
}
