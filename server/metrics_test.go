package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
)

// gathered returns the value of each sample of a metric family, keyed by
// its labels' values joined with ",".
func gathered(t *testing.T, tb *testBroker, name string) map[string]float64 {
	t.Helper()
	mfs, err := tb.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetValue()
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestGroupMetrics: samsa_groups counts groups by state, and
// samsa_group_members and samsa_group_offsets follow a group's member and
// its commits, then its deletion.
func TestGroupMetrics(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	mustCreate(tb, "metered", 3, nil)
	produce(tb, "metered", 0, 3)
	if g := gathered(t, tb, "samsa_groups"); len(g) != 4 || g["Stable"] != 0 || g["Empty"] != 0 {
		t.Fatalf("samsa_groups before any group: %v, want the four live states at 0", g)
	}
	cl := tb.client(kgo.ConsumerGroup("metered-group"), kgo.ConsumeTopics("metered"), kgo.DisableAutoCommit())
	for got := 0; got < 3; {
		fs := cl.PollFetches(tb.ctx())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(tb.ctx()); err != nil {
		t.Fatal(err)
	}
	if g := gathered(t, tb, "samsa_groups"); g["Stable"] != 1 {
		t.Errorf("samsa_groups with one consuming member: %v, want Stable 1", g)
	}
	if m := gathered(t, tb, "samsa_group_members"); m[""] != 1 {
		t.Errorf("samsa_group_members = %v, want 1", m)
	}
	if o := gathered(t, tb, "samsa_group_offsets"); o[""] != 1 {
		t.Errorf("samsa_group_offsets = %v, want 1 (partition 0 committed)", o)
	}
	cl.Close() // leaves the group
	if _, err := kadm.NewClient(tb.cl).DeleteGroups(tb.ctx(), "metered-group"); err != nil {
		t.Fatal(err)
	}
	if g, m, o := gathered(t, tb, "samsa_groups"), gathered(t, tb, "samsa_group_members"), gathered(t, tb, "samsa_group_offsets"); g["Stable"]+g["Empty"] != 0 || m[""] != 0 || o[""] != 0 {
		t.Errorf("after the group is deleted: groups %v, members %v, offsets %v", g, m, o)
	}
}

// scrape returns the broker's /metrics text, as a Prometheus server reads
// it from the admin listener.
func scrape(t *testing.T, tb *testBroker) string {
	t.Helper()
	resp, err := http.Get("http://" + tb.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// samples returns the lines of a scrape for a metric name (no comments),
// each as "{labels} value" or " value", without those holding any of skip.
func samples(text, name string, skip ...string) []string {
	var out []string
lines:
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
			for _, s := range skip {
				if strings.Contains(rest, s) {
					continue lines
				}
			}
			out = append(out, rest)
		}
	}
	return out
}

func withAdmin() map[string]string { return map[string]string{"admin.listener": "127.0.0.1:0"} }

// TestRequestErrorMetrics: samsa_request_errors_total counts the error
// codes of responses by API and Kafka's error name: per partition for
// Produce (acks=1 and acks=0) and Fetch, per topic for Metadata and
// CreateTopics; requests without errors make no series. (franz-go's first
// ApiVersions asks for a version above the broker's, which is answered
// UNSUPPORTED_VERSION, KIP-511, and counted as Kafka counts it: that
// series is left out here.)
func TestRequestErrorMetrics(t *testing.T) {
	tb := startTestBroker(t, withAdmin())
	mustCreate(tb, "real", 1, nil)
	produce(tb, "real", 0, 2)
	const apiVersions = `api="ApiVersions"`
	if s := samples(scrape(t, tb), "samsa_request_errors_total", apiVersions); len(s) != 0 {
		t.Fatalf("errors after successful requests: %q", s)
	}

	batch := testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 4, Timestamp: 1})
	preq := kmsg.NewPtrProduceRequest()
	preq.Acks, preq.TimeoutMillis = 1, 5000
	for _, topic := range []string{"nope", "real"} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		for _, p := range []int32{0, 1} { // real-1 does not exist either
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition, rp.Records = p, batch
			rt.Partitions = append(rt.Partitions, rp)
		}
		preq.Topics = append(preq.Topics, rt)
	}
	tb.request(9, preq)
	// acks=0: no response carries the errors, the connection is closed;
	// the metric still sees them.
	preq.Acks = 0
	conn, err := net.Dial("tcp", tb.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(frame(preq, 9))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("acks=0 produce with errors: read %v, want the connection closed", err)
	}

	freq := kmsg.NewPtrFetchRequest()
	freq.ReplicaID, freq.MaxBytes, freq.SessionEpoch = -1, 1<<20, -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "real"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 1000, 1<<20, -1
	ft.Partitions = append(ft.Partitions, fp)
	freq.Topics = append(freq.Topics, ft)
	tb.request(11, freq)

	tb.request(12, metadataRequest("nope", false))
	if _, err := tb.adm.CreateTopic(tb.ctx(), 1, 1, nil, "real"); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("creating real again: %v", err)
	}

	got := samples(scrape(t, tb), "samsa_request_errors_total", apiVersions)
	want := []string{
		`{api="CreateTopics",error="TOPIC_ALREADY_EXISTS"} 1`,
		`{api="Fetch",error="OFFSET_OUT_OF_RANGE"} 1`,
		`{api="Metadata",error="UNKNOWN_TOPIC_OR_PARTITION"} 1`,
		`{api="Produce",error="UNKNOWN_TOPIC_OR_PARTITION"} 6`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("samsa_request_errors_total:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func metadataRequest(topic string, autoCreate bool) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = autoCreate
	return req
}

// TestGroupLagMetric: samsa_group_lag is the high watermark minus the
// committed offset per group and partition, follows appends and commits,
// and goes away with the group.
func TestGroupLagMetric(t *testing.T) {
	tb := startTestBroker(t, withAdmin())
	mustCreate(tb, "lagged", 2, nil)
	produce(tb, "lagged", 0, 5)
	produce(tb, "lagged", 1, 3)
	commit := func(offs map[int32]int64) {
		t.Helper()
		o := kadm.Offsets{}
		for p, off := range offs {
			o.AddOffset("lagged", p, off, -1)
		}
		resp, err := tb.adm.CommitOffsets(tb.ctx(), "laggards", o)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	lag := func() string { return strings.Join(samples(scrape(t, tb), "samsa_group_lag"), "\n") }
	if l := lag(); l != "" {
		t.Fatalf("lag before any commit: %s", l)
	}
	commit(map[int32]int64{0: 2, 1: 3})
	want := `{group="laggards",partition="0",topic="lagged"} 3` + "\n" + `{group="laggards",partition="1",topic="lagged"} 0`
	if l := lag(); l != want {
		t.Fatalf("lag:\n%s\nwant\n%s", l, want)
	}
	produce(tb, "lagged", 1, 4)
	commit(map[int32]int64{0: 5})
	want = `{group="laggards",partition="0",topic="lagged"} 0` + "\n" + `{group="laggards",partition="1",topic="lagged"} 4`
	if l := lag(); l != want {
		t.Fatalf("lag after more records and a commit:\n%s\nwant\n%s", l, want)
	}
	if _, err := tb.adm.DeleteGroups(tb.ctx(), "laggards"); err != nil {
		t.Fatal(err)
	}
	if l := lag(); l != "" {
		t.Fatalf("lag after the group is deleted: %s", l)
	}
}

// TestMetricsSkipUnusedInternalPartitions: the per-partition gauges leave
// out the partitions of __consumer_offsets that were never written (49 of
// its 50 with one group), while a user topic's empty partitions stay.
func TestMetricsSkipUnusedInternalPartitions(t *testing.T) {
	tb := startTestBroker(t, withAdmin())
	mustCreate(tb, "quiet", 3, nil)
	o := kadm.Offsets{}
	o.AddOffset("quiet", 0, 0, -1)
	if _, err := tb.adm.CommitOffsets(tb.ctx(), "one-group", o); err != nil {
		t.Fatal(err)
	}
	if tb.topic("__consumer_offsets") == nil || len(tb.topic("__consumer_offsets").Parts) != 50 {
		t.Fatal("no __consumer_offsets of 50 partitions")
	}
	text := scrape(t, tb)
	for _, name := range []string{"samsa_log_end_offset", "samsa_log_start_offset", "samsa_high_watermark", "samsa_log_size_bytes", "samsa_log_segments"} {
		var internal, user int
		for _, s := range samples(text, name) {
			switch {
			case strings.Contains(s, `topic="__consumer_offsets"`):
				internal++
			case strings.Contains(s, `topic="quiet"`):
				user++
			}
		}
		if internal != 1 || user != 3 {
			t.Errorf("%s: %d series for __consumer_offsets (want 1: the written partition), %d for quiet (want 3)", name, internal, user)
		}
	}
}
