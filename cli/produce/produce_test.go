package produce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa produce against brokers.
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
		{[]string{"produce"}, "want exactly one TOPIC"},
		{[]string{"produce", "t", "--acks", "2"}, "--acks"},
		{[]string{"produce", "t", "-a", "2"}, "--acks"}, // -a: the old spelling, out of the help
		{[]string{"produce", "t", "-p", "x"}, `invalid argument "x" for "-p, --partition" flag`},
		{[]string{"produce", "t", "--partitioner", "manual"}, "needs --partition"},
		{[]string{"produce", "t", "--partitioner", "hash", "--partition", "1"}, "--partition needs --partitioner manual"},
		{[]string{"produce", "t", "--compression", "brotli"}, "--compression"},
		{[]string{"produce", "t", "--idempotent", "--acks", "1"}, "--idempotent needs --acks all"},
		{[]string{"produce", "t", "-H", "x"}, "want key=value"},
		{[]string{"produce", "t", "--transactional-id", "x", "--acks", "1"}, "--transactional-id needs --acks all"},
		{[]string{"produce", "t", "--transactional-id", "x", "--idempotent=false"}, "--transactional-id needs idempotent writes"},
		{[]string{"produce", "t", "--txn-records", "3"}, "need --transactional-id"},
		{[]string{"produce", "t", "--transactional-id", "x", "--txn-records", "-1"}, "--txn-records -1"},
		{[]string{"produce", "t", "--transactional-id", "x", "--transaction-timeout", "1h"}, "--transaction-timeout 1h0m0s"},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

// pflag parses flags anywhere among the arguments; "--" ends them, unless
// it is the value of a flag.
func TestInterspersedFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		pos     []string
		sep     string
		verbose bool
	}{
		{[]string{"a", "-k", ":", "b"}, []string{"a", "b"}, ":", false},
		{[]string{"-v", "a", "--key-separator=x"}, []string{"a"}, "x", true},
		{[]string{"a", "--", "-v", "b"}, []string{"a", "-v", "b"}, "", false},
		{[]string{"a", "-k", "--", "b"}, []string{"a", "b"}, "--", false},
		{[]string{"-k", "--", "--", "-v"}, []string{"-v"}, "--", false},
		{[]string{"-v", "--", "-k"}, []string{"-k"}, "", true},
		{[]string{"a", "-vk", ":"}, []string{"a"}, ":", true},
	} {
		c := NewCommand(command.NewClientFlags())
		if err := c.ParseFlags(tc.args); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		sep, _ := c.Flags().GetString("key-separator")
		verbose, _ := c.Flags().GetBool("verbose")
		if pos := c.Flags().Args(); !slices.Equal(pos, tc.pos) || sep != tc.sep || verbose != tc.verbose {
			t.Errorf("%q: positional %q, -k %q, -v %v; want %q, %q, %v", tc.args, pos, sep, verbose, tc.pos, tc.sep, tc.verbose)
		}
	}
}

func TestProduceFailures(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 2)

	// A partition the topic does not have: the record fails, exit 1.
	_, errOut, code := c.Run(t, "x\n", "produce", topic, "--partition", "7", "--timeout", "3s")
	if code != 1 || !strings.Contains(errOut, "1 failed; first error") {
		t.Errorf("produce to a missing partition: exit %d, stderr %q", code, errOut)
	}

	// A line over --max-message-bytes stops the producer, after delivering
	// the lines before it.
	_, errOut, code = c.Run(t, "short\n"+strings.Repeat("x", 100)+"\nnever\n", "produce", topic, "--max-message-bytes", "50")
	if code != 1 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "produced 1 records") {
		t.Errorf("produce of an over-long line: exit %d, stderr %q", code, errOut)
	}
	if ends := clitest.EndOffsets(t, addr, topic); ends[0]+ends[1] != 1 {
		t.Errorf("end offsets %v after one delivered record", ends)
	}
}

// murmur2 is Kafka's Utils.murmur2, transcribed from the Java.
func murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := n &^ 3
	switch n % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// javaPartition is the Java producer's partition of a keyed record:
// toPositive(murmur2(key)) % numPartitions.
func javaPartition(key string, n int) int {
	return int(murmur2([]byte(key))&0x7fffffff) % n
}

func TestMurmur2MatchesKafka(t *testing.T) {
	// From Kafka's UtilsTest.testMurmur2.
	for key, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := murmur2([]byte(key)); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", key, got, want)
		}
	}
}

// The default partitioner puts a key where the Java client puts it.
func TestHashPartitioner(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	const parts = 7
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, parts)

	keys := []string{"21", "foobar", "abc", "a-little-bit-long-string", "user-1", "user-2", "order-42", "x"}
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("key-%d", i))
	}
	var in strings.Builder
	for round := range 2 { // every key twice: the same key, the same partition
		for _, k := range keys {
			fmt.Fprintf(&in, "%s\t%d\n", k, round)
		}
	}
	c.OK(t, in.String(), "produce", topic, "--key-separator", "\t")

	got := make(map[string]int)
	for _, r := range clitest.Records(t, addr, topic) {
		p, key := int(r.Partition), string(r.Key)
		got[key]++
		if want := javaPartition(key, parts); p != want {
			t.Errorf("key %q in partition %d, the Java client puts it in %d", key, p, want)
		}
	}
	if len(got) != len(keys) {
		t.Errorf("%d distinct keys consumed, want %d", len(got), len(keys))
	}
	for k, n := range got {
		if n != 2 {
			t.Errorf("key %q consumed %d times, want 2", k, n)
		}
	}
	// Known mappings, for a reader checking against the Java client by hand.
	if javaPartition("21", parts) != 3 || javaPartition("foobar", parts) != 0 {
		t.Errorf("javaPartition: 21 → %d, foobar → %d", javaPartition("21", parts), javaPartition("foobar", parts))
	}
}

func TestPartitioners(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	lines := func(n int) string { return strings.Repeat("v\n", n) }

	t.Run("round-robin", func(t *testing.T) {
		topic := clitest.NewTopic(t)
		clitest.CreateTopic(t, addr, topic, 4)
		c.OK(t, lines(40), "produce", topic, "--partitioner", "round-robin")
		for p, end := range clitest.EndOffsets(t, addr, topic) {
			if end != 10 {
				t.Errorf("partition %d has %d records, want 10", p, end)
			}
		}
	})
	t.Run("random", func(t *testing.T) {
		topic := clitest.NewTopic(t)
		clitest.CreateTopic(t, addr, topic, 4)
		c.OK(t, lines(400), "produce", topic, "--partitioner", "random")
		total := int64(0)
		for p, end := range clitest.EndOffsets(t, addr, topic) {
			total += end
			// Binomial(400, 1/4): mean 100, sd 8.7; 40 is 7 sd away.
			if end < 40 {
				t.Errorf("partition %d has %d of 400 records", p, end)
			}
		}
		if total != 400 {
			t.Errorf("%d records in total, want 400", total)
		}
	})
	t.Run("sticky", func(t *testing.T) {
		topic := clitest.NewTopic(t)
		clitest.CreateTopic(t, addr, topic, 4)
		c.OK(t, lines(20), "produce", topic, "--partitioner", "sticky", "--linger", "1s")
		ends := clitest.EndOffsets(t, addr, topic)
		if ends[0]+ends[1]+ends[2]+ends[3] != 20 {
			t.Errorf("end offsets %v, want 20 records in total", ends)
		}
	})
	t.Run("manual", func(t *testing.T) {
		topic := clitest.NewTopic(t)
		clitest.CreateTopic(t, addr, topic, 4)
		c.OK(t, lines(5), "produce", topic, "--partition", "2", "--acks", "1")
		c.OK(t, lines(5), "produce", topic, "--partitioner", "manual", "--partition", "3", "--acks", "0")
		ends := clitest.EndOffsets(t, addr, topic)
		if ends[0] != 0 || ends[1] != 0 || ends[2] != 5 || ends[3] != 5 {
			t.Errorf("end offsets %v, want 5 records in partitions 2 and 3", ends)
		}
	})
}

// --transactional-id produces in transactions: --txn-records N commits
// every N records, the last ones at the end of the input; a
// read_committed reader sees them all, and the summary counts them.
func TestTransactionalProduce(t *testing.T) {
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)
	c := newCLI(addr)
	_, stderr, code := c.Run(t, "a\nb\nc\nd\ne\n", "produce", topic, "--transactional-id", topic+"-tx", "--txn-records", "2")
	if code != 0 || !strings.Contains(stderr, "produced 5 records") || !strings.Contains(stderr, "(transactions: 3 committed, 0 aborted)") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// Five records and three markers.
	if end := clitest.EndOffsets(t, addr, topic)[0]; end != 8 {
		t.Errorf("end offset %d, want 8", end)
	}
	if got, want := readCommitted(t, addr, topic, 8), []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("committed records %q, want %q", got, want)
	}
}

// readCommitted reads partition 0 of topic as a read_committed consumer up
// to offset end (markers included), and returns the values.
func readCommitted(t *testing.T, addr, topic string, end int64) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for next := int64(0); next < end; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read up to %d of %d", next, end)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if !r.Attrs.IsControl() {
				got = append(got, string(r.Value))
			}
		})
	}
	return got
}
