package txn

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa txn against brokers.
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
		{[]string{"txn", "describe"}, "transactional id"},
		{[]string{"txn", "list", "x"}, "unexpected argument"},
		{[]string{"txn", "list", "--producer-ids", "7,x"}, "--producer-ids"},
		{[]string{"txn", "describe-producers"}, "topic"},
		{[]string{"txn", "describe-producers", "t", "-p", "x"}, "partition"},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

// list, describe and describe-producers show an open transaction as its
// coordinator and its partition's leader hold it, then the same
// transaction committed; an unknown id is said so, and describe exits 1.
func TestListDescribe(t *testing.T) {
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 2)
	id := topic + "-tx"
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.TransactionalID(id),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := newCLI(addr)

	out := c.OK(t, "", "txn", "list")
	var pid string
	for _, row := range clitest.Rows(out) {
		if len(row) == 4 && row[0] == id {
			pid = row[2]
			if row[3] != "Ongoing" {
				t.Errorf("list: %q, want Ongoing", row)
			}
		}
	}
	if pid == "" {
		t.Fatalf("list does not show %s:\n%s", id, out)
	}
	if out := c.OK(t, "", "txn", "list", "--states", "CompleteCommit"); strings.Contains(out, id) {
		t.Errorf("list --states CompleteCommit shows the open transaction:\n%s", out)
	}
	if out := c.OK(t, "", "txn", "list", "--producer-ids", pid); !strings.Contains(out, id) {
		t.Errorf("list --producer-ids %s does not show it:\n%s", pid, out)
	}

	out = c.OK(t, "", "txn", "describe", id)
	rows := clitest.Rows(out)
	if len(rows) != 2 || len(rows[1]) != 9 || rows[1][2] != pid || rows[1][4] != "Ongoing" || rows[1][8] != topic+"-1" || rows[1][6] == "-" {
		t.Errorf("describe:\n%s", out)
	}

	out = c.OK(t, "", "txn", "describe-producers", topic)
	var found bool
	for _, row := range clitest.Rows(out) {
		if len(row) == 7 && row[0] == "1" && row[1] == pid {
			found = row[6] == "0" // the open transaction starts at offset 0
		}
	}
	if !found {
		t.Errorf("describe-producers does not show the producer's open transaction at offset 0:\n%s", out)
	}

	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	out = c.OK(t, "", "txn", "describe", id)
	// CompleteCommit; kfake, which follows KIP-890 part 2, bumps the epoch
	// to Empty instead.
	if rows := clitest.Rows(out); len(rows) != 2 || (rows[1][4] != "CompleteCommit" && rows[1][4] != "Empty") || rows[1][6] != "-" {
		t.Errorf("describe after the commit:\n%s", out)
	}
	stdout, _, code := c.Run(t, "", "txn", "describe", id, "nope-"+strconv.Itoa(int(time.Now().UnixNano())))
	if code != 1 || !strings.Contains(stdout, "nope-") || !strings.Contains(stdout, id) {
		t.Errorf("describe of an unknown id: exit %d\n%s", code, stdout)
	}
}
