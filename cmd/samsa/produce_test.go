package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProduceConsumeRoundTrip(t *testing.T) {
	addr := startCluster(t)
	c := samsaCLI{brokers: addr}
	topic := newTopic(t)
	createTopic(t, addr, topic, 1)

	before := time.Now().UnixMilli()
	input := "k1:v1\nk2:v2:with:colons\nno key here\n:empty key\r\n\nlast:no newline"
	out, errOut, code := c.run(t, input, "produce", topic, "-k", ":", "-H", "h1=a", "--header", "h2=b=c", "-v")
	after := time.Now().UnixMilli()
	if code != 0 {
		t.Fatalf("produce: exit %d\n%s", code, errOut)
	}
	if want := "0@0\n0@1\n0@2\n0@3\n0@4\n0@5\n"; out != want {
		t.Errorf("produce -v printed %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "produced 6 records to "+topic) {
		t.Errorf("produce summary: %q", errOut)
	}

	out = c.ok(t, "", "consume", topic, "-e", "--format", `%t|%p|%o|%k|%v|%h\n`)
	want := "" +
		topic + "|0|0|k1|v1|h1=a,h2=b=c\n" +
		topic + "|0|1|k2|v2:with:colons|h1=a,h2=b=c\n" +
		topic + "|0|2||no key here|h1=a,h2=b=c\n" +
		topic + "|0|3||empty key|h1=a,h2=b=c\n" +
		topic + "|0|4|||h1=a,h2=b=c\n" +
		topic + "|0|5|last|no newline|h1=a,h2=b=c\n"
	if out != want {
		t.Errorf("consume printed\n%s\nwant\n%s", out, want)
	}

	// Default format, other escapes and %%, and timestamps within the run.
	out = c.ok(t, "", "consume", topic, "-n", "2")
	if out != "v1\nv2:with:colons\n" {
		t.Errorf("default format printed %q", out)
	}
	out = c.ok(t, "", "consume", topic, "-n", "1", "--format", `%o\t100%%\\%T\n`)
	off, rest, _ := strings.Cut(strings.TrimSuffix(out, "\n"), "\t100%\\")
	ts, err := strconv.ParseInt(rest, 10, 64)
	if off != "0" || err != nil || ts < before || ts > after {
		t.Errorf("format with escapes printed %q; want 0, a tab, 100%%\\ and a timestamp in [%d, %d]", out, before, after)
	}

	// --file, and a line without the separator while -k is set.
	file := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(file, []byte("fk=fv\nplain\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(t, "", "produce", topic, "--file", file, "--key-separator", "=")
	out = c.ok(t, "", "consume", topic, "--from", "offset:6", "-e", "--format", `%k/%v/%h\n`)
	if out != "fk/fv/\n/plain/\n" {
		t.Errorf("records from --file printed %q", out)
	}
}

func TestProduceFailures(t *testing.T) {
	addr := startCluster(t)
	c := samsaCLI{brokers: addr}
	topic := newTopic(t)
	createTopic(t, addr, topic, 2)

	// A partition the topic does not have: the record fails, exit 1.
	_, errOut, code := c.run(t, "x\n", "produce", topic, "--partition", "7", "--timeout", "3s")
	if code != 1 || !strings.Contains(errOut, "1 failed; first error") {
		t.Errorf("produce to a missing partition: exit %d, stderr %q", code, errOut)
	}

	// A line over --max-message-bytes stops the producer, after delivering
	// the lines before it.
	_, errOut, code = c.run(t, "short\n"+strings.Repeat("x", 100)+"\nnever\n", "produce", topic, "--max-message-bytes", "50")
	if code != 1 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "produced 1 records") {
		t.Errorf("produce of an over-long line: exit %d, stderr %q", code, errOut)
	}
	if ends := endOffsets(t, addr, topic); ends[0]+ends[1] != 1 {
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
	addr := startCluster(t)
	c := samsaCLI{brokers: addr}
	const parts = 7
	topic := newTopic(t)
	createTopic(t, addr, topic, parts)

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
	c.ok(t, in.String(), "produce", topic, "--key-separator", "\t")

	out := c.ok(t, "", "consume", topic, "-e", "--format", `%p %k\n`)
	got := make(map[string]int)
	for _, r := range rows(out) {
		p, _ := strconv.Atoi(r[0])
		got[r[1]]++
		if want := javaPartition(r[1], parts); p != want {
			t.Errorf("key %q in partition %d, the Java client puts it in %d", r[1], p, want)
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
	addr := startCluster(t)
	c := samsaCLI{brokers: addr}
	lines := func(n int) string { return strings.Repeat("v\n", n) }

	t.Run("round-robin", func(t *testing.T) {
		topic := newTopic(t)
		createTopic(t, addr, topic, 4)
		c.ok(t, lines(40), "produce", topic, "--partitioner", "round-robin")
		for p, end := range endOffsets(t, addr, topic) {
			if end != 10 {
				t.Errorf("partition %d has %d records, want 10", p, end)
			}
		}
	})
	t.Run("random", func(t *testing.T) {
		topic := newTopic(t)
		createTopic(t, addr, topic, 4)
		c.ok(t, lines(400), "produce", topic, "--partitioner", "random")
		total := int64(0)
		for p, end := range endOffsets(t, addr, topic) {
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
		topic := newTopic(t)
		createTopic(t, addr, topic, 4)
		c.ok(t, lines(20), "produce", topic, "--partitioner", "sticky", "--linger", "1s")
		ends := endOffsets(t, addr, topic)
		if ends[0]+ends[1]+ends[2]+ends[3] != 20 {
			t.Errorf("end offsets %v, want 20 records in total", ends)
		}
	})
	t.Run("manual", func(t *testing.T) {
		topic := newTopic(t)
		createTopic(t, addr, topic, 4)
		c.ok(t, lines(5), "produce", topic, "--partition", "2", "--acks", "1")
		c.ok(t, lines(5), "produce", topic, "--partitioner", "manual", "--partition", "3", "--acks", "0")
		ends := endOffsets(t, addr, topic)
		if ends[0] != 0 || ends[1] != 0 || ends[2] != 5 || ends[3] != 5 {
			t.Errorf("end offsets %v, want 5 records in partitions 2 and 3", ends)
		}
	})
}
