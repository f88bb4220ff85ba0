package consume

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa consume against brokers.
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
		{[]string{"consume", "t", "--from", "yesterday"}, "--from"},
		{[]string{"consume", "t", "-o", "5:3"}, "--from"},
		{[]string{"consume", "t", "--format", "%q"}, "unknown verb"},
		{[]string{"consume", "t", "--partitions", "0,x"}, "--partition"},
		{[]string{"consume", "t", "-g", "g", "-p", "0"}, "do not go together"},
		{[]string{"consume", "t", "-g", "g", "-o", ":5"}, "does not go with --group"},
		{[]string{"consume", "t", "--isolation", "serializable"}, "--isolation"},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

// produceTo writes the values as records to partition p of topic.
func produceTo(t *testing.T, addr, topic string, p int32, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rs []*kgo.Record
	for _, v := range values {
		rs = append(rs, &kgo.Record{Partition: p, Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// produceTimed writes n records v0..v(n-1) with timestamps 1000, 2000, ...
// to partition 0 of topic.
func produceTimed(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Value: fmt.Appendf(nil, "v%d", i), Timestamp: time.UnixMilli(int64(1000 * (i + 1)))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestConsumeFrom(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)
	produceTimed(t, addr, topic, 10)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "beginning", "-n", "3"}, "0 v0 1000\n1 v1 2000\n2 v2 3000\n"},
		{[]string{"--from", "offset:7", "-e"}, "7 v7 8000\n8 v8 9000\n9 v9 10000\n"},
		{[]string{"--from", "offset:100", "-e"}, ""},
		{[]string{"--from", "time:8500", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"--from", "time:9000", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"--from", "time:99000", "-e"}, ""},
		{[]string{"--from", "end", "-e"}, ""},
		{[]string{"--partitions", "0", "--from", "offset:8", "-n", "1"}, "8 v8 9000\n"},
		// -n larger than what is there: -e still ends it.
		{[]string{"--from", "offset:9", "-n", "5", "-e"}, "9 v9 10000\n"},
		// kcat's and rpk's spellings, and --offset for --from.
		{[]string{"-o", "7", "-e"}, "7 v7 8000\n8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "-2", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "-20", "-n", "1"}, "0 v0 1000\n"},
		{[]string{"-o", "+8", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "s@8500", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "@9000", "-e"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "@1970-01-01T00:00:09.5Z", "-e"}, "9 v9 10000\n"},
		{[]string{"-o", "start", "-n", "1"}, "0 v0 1000\n"},
		{[]string{"-o", "earliest", "-n", "1"}, "0 v0 1000\n"},
		{[]string{"--offset", "latest", "-e"}, ""},
		// Ranges with an end stop by themselves.
		{[]string{"-o", ":2"}, "0 v0 1000\n1 v1 2000\n"},
		{[]string{"-o", "3:5"}, "3 v3 4000\n4 v4 5000\n"},
		{[]string{"-o", "8:end"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", "8:100"}, "8 v8 9000\n9 v9 10000\n"},
		{[]string{"-o", ":end", "-n", "2"}, "0 v0 1000\n1 v1 2000\n"},
	} {
		out := c.OK(t, "", append([]string{"consume", topic, "--format", `%o %v %T\n`}, tc.args...)...)
		if out != tc.want {
			t.Errorf("consume %s printed %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}

	_, errOut, code := c.Run(t, "", "consume", topic, "--partitions", "0,3", "-e")
	if code != 1 || !strings.Contains(errOut, "no partition 3") {
		t.Errorf("consume of a missing partition: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = c.Run(t, "", "consume", topic+"-missing", "-e")
	if code != 1 || !strings.Contains(errOut, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("consume of a missing topic: exit %d, stderr %q", code, errOut)
	}
}

// -e ends at once on empty partitions and reads every partition that has
// records to its end.
func TestConsumeExitAtEnd(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 5)

	if out := c.OK(t, "", "consume", topic, "-e"); out != "" {
		t.Errorf("consume -e of an empty topic printed %q", out)
	}
	// Records in partitions 1 and 3 only.
	produceTo(t, addr, topic, 1, "a", "b", "c")
	produceTo(t, addr, topic, 3, "d", "e")
	out := c.OK(t, "", "consume", topic, "-e", "--format", `%p:%o:%v\n`)
	got := clitest.Rows(strings.ReplaceAll(out, "\n", " \n"))
	want := map[string]bool{"1:0:a": true, "1:1:b": true, "1:2:c": true, "3:0:d": true, "3:1:e": true}
	if len(got) != len(want) {
		t.Fatalf("consume -e printed %q", out)
	}
	for _, r := range got {
		if !want[r[0]] {
			t.Errorf("unexpected record %q in %q", r[0], out)
		}
	}
	if out := c.OK(t, "", "consume", topic, "-e", "--partitions", "3,4", "--format", `%v`); out != "de" {
		t.Errorf("consume -e --partitions 3,4 printed %q", out)
	}
}

// --from end reads only records produced after the consumer started; -n 1
// ends it at the first.
func TestConsumeFromEndWaitsForNewRecords(t *testing.T) {
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)
	produceTimed(t, addr, topic, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut string
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, errOut, code = newCLI(addr).Run(t, "", "consume", topic, "--from", "end", "-n", "1", "--format", `%o %v\n`)
	}()

	// The consumer's start is not observable from outside, so keep
	// producing until it has seen a record and exited.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("new")}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			continue
		}
		break
	}
	if code != 0 {
		t.Fatalf("consume: exit %d\n%s", code, errOut)
	}
	f := strings.Fields(out)
	if len(f) != 2 || f[1] != "new" {
		t.Fatalf("consume --from end -n 1 printed %q, want one new record", out)
	}
	if off, _ := strconv.Atoi(f[0]); off < 3 {
		t.Errorf("consume --from end printed offset %d, before the end at start (3)", off)
	}
}

// txnProduce writes the values to partition 0 of topic in one transaction
// of id, committed, aborted or left open (end nil); an open one's client
// is returned for the caller to close.
func txnProduce(t *testing.T, addr, topic, id string, end *kgo.TransactionEndTry, values ...string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.TransactionalID(id),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for _, v := range values {
		rs = append(rs, &kgo.Record{Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if end == nil {
		return cl
	}
	if err := cl.EndTransaction(ctx, *end); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	return nil
}

// --isolation read_committed prints the records of committed transactions
// and those written outside transactions, not those of aborted ones, and
// stops at an open transaction (the last stable offset); read_uncommitted
// prints them all. Markers are never printed, and -e ends at them.
func TestConsumeIsolation(t *testing.T) {
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)
	commit, abort := kgo.TryCommit, kgo.TryAbort
	txnProduce(t, addr, topic, topic+"-1", &commit, "c1", "c2")
	txnProduce(t, addr, topic, topic+"-2", &abort, "a1")
	produceTo(t, addr, topic, 0, "plain")
	txnProduce(t, addr, topic, topic+"-3", &commit, "c3")
	c := newCLI(addr)
	if got, want := c.OK(t, "", "consume", topic, "-e", "--isolation", "read_committed"), "c1\nc2\nplain\nc3\n"; got != want {
		t.Errorf("read_committed: %q, want %q", got, want)
	}
	if got, want := c.OK(t, "", "consume", topic, "-e"), "c1\nc2\na1\nplain\nc3\n"; got != want {
		t.Errorf("read_uncommitted: %q, want %q", got, want)
	}
	open := txnProduce(t, addr, topic, topic+"-4", nil, "o1")
	defer open.Close()
	produceTo(t, addr, topic, 0, "after")
	if got, want := c.OK(t, "", "consume", topic, "-e", "--isolation", "read_committed"), "c1\nc2\nplain\nc3\n"; got != want {
		t.Errorf("read_committed with a transaction open: %q, want %q", got, want)
	}
	if got, want := c.OK(t, "", "consume", topic, "-e"), "c1\nc2\na1\nplain\nc3\no1\nafter\n"; got != want {
		t.Errorf("read_uncommitted with a transaction open: %q, want %q", got, want)
	}
}
