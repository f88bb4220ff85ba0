package itest

// segmentio/kafka-go against the real broker: its Writer with every codec
// it offers and its hash balancer, read back by kafka-go's own Reader and
// by franz-go; a consumer group of kafka-go Readers (kafka-go runs the
// group protocol itself, with JoinGroup v1-v2, SyncGroup v0, OffsetCommit
// v2 and OffsetFetch v1) and a new Reader resuming after the group's
// commits; the admin calls of kafka.Conn and kafka.Client.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaGoLog collects what kafka-go's readers and writers log, printed if
// the test fails: the readers log from their own goroutines, which may
// outlive a t.Logf.
func kafkaGoLog(t testing.TB) kafka.Logger {
	buf := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kafka-go log:\n%s", buf.String())
		}
	})
	return kafka.LoggerFunc(func(format string, args ...any) {
		fmt.Fprintf(buf, format+"\n", args...)
	})
}

// kafkaGoTransport is a kafka-go Transport of the test's own, closed at
// its end. kafka-go serves Metadata from a per-transport cache refreshed
// every few seconds (MetadataTTL), and its DefaultTransport is shared by
// every Writer and Client of the process: a topic another client created
// a moment ago is unknown to it, and CreatePartitions does not show until
// the next refresh. A new transport loads the metadata on first use.
func kafkaGoTransport(t testing.TB) *kafka.Transport {
	tr := &kafka.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// toKafkaGo is a record as a kafka-go Message to write.
func toKafkaGo(r binRec) kafka.Message {
	m := kafka.Message{Key: r.Key, Value: r.Value}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	return m
}

func fromKafkaGo(m kafka.Message) binRec {
	r := binRec{Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}

// fetchPartitionKafkaGo reads n records of one partition from offset 0
// with kafka.Client's Fetch (the protocol package's Fetch, a sessionless
// full fetch: session id -1, epoch -1), one request after another.
func fetchPartitionKafkaGo(t testing.TB, cl *kafka.Client, topic string, partition int32, n int) []binRec {
	t.Helper()
	var out []binRec
	for rounds := 0; len(out) < n; rounds++ {
		if rounds == 100 {
			t.Fatalf("kafka-go Client.Fetch of %s/%d: %d of %d records after %d fetches", topic, partition, len(out), n, rounds)
		}
		resp, err := cl.Fetch(ctx(t), &kafka.FetchRequest{
			Topic: topic, Partition: int(partition), Offset: int64(len(out)),
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatalf("kafka-go Client.Fetch of %s/%d at %d: %v", topic, partition, len(out), err)
		}
		if resp.Error != nil {
			t.Fatalf("kafka-go Client.Fetch of %s/%d at %d: %v", topic, partition, len(out), resp.Error)
		}
		for {
			r, err := resp.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("kafka-go Client.Fetch of %s/%d: record: %v", topic, partition, err)
			}
			g := binRec{Partition: partition, Offset: r.Offset}
			if g.Key, err = readKafkaGoBytes(r.Key); err == nil {
				g.Value, err = readKafkaGoBytes(r.Value)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range r.Headers {
				g.Headers = append(g.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			if r.Offset >= int64(len(out)) {
				out = append(out, g)
			}
		}
	}
	return out
}

// readKafkaGoBytes reads a kafka-go record's key or value: nil is null.
func readKafkaGoBytes(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	return kafka.ReadAll(b)
}

// readPartitionKafkaGo reads n messages of one partition from offset 0
// with a kafka-go Reader outside any group.
func readPartitionKafkaGo(t testing.TB, b *broker, topic string, partition int32, n int) []binRec {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     []string{b.addr},
		Topic:       topic,
		Partition:   int(partition),
		MaxWait:     200 * time.Millisecond,
		MaxBytes:    1 << 20,
		ErrorLogger: kafkaGoLog(t),
	})
	defer r.Close()
	c := ctx(t)
	out := make([]binRec, 0, n)
	for len(out) < n {
		m, err := r.ReadMessage(c)
		if err != nil {
			t.Fatalf("kafka-go reader of %s/%d: %v after %d of %d messages", topic, partition, err, len(out), n)
		}
		out = append(out, fromKafkaGo(m))
	}
	return out
}

// TestKafkaGoWriterCodecs: a kafka-go Writer with the hash balancer
// produces keyed messages to a four-partition topic with each codec, in
// two calls; franz-go, kafka-go's Reader and kafka-go's Client.Fetch read
// back every key, value and header byte for byte (franz-go and Fetch tell
// a null value from an empty one, the Reader returns nil for both); every
// message of
// a key is in the partition kafka.Hash picks for it, in the order written;
// and the broker stored the batches with the writer's codec. The same with
// acks=0 (the Writer's default), and to a topic that the Writer's
// Metadata request creates.
func TestKafkaGoWriterCodecs(t *testing.T) {
	const parts, keys, perKey = 4, 12, 6
	b := startBroker(t, fmt.Sprintf("num.partitions=%d", parts))
	for _, cc := range []struct {
		name, codecName string
		codec           kafka.Compression
		acks            kafka.RequiredAcks
		autoCreate      bool
	}{
		{"none", "none", 0, kafka.RequireAll, false},
		{"gzip", "gzip", kafka.Gzip, kafka.RequireAll, false},
		{"snappy", "snappy", kafka.Snappy, kafka.RequireAll, false},
		{"lz4", "lz4", kafka.Lz4, kafka.RequireAll, false},
		{"zstd", "zstd", kafka.Zstd, kafka.RequireAll, false},
		// The Writer's default: acks=0, no response to wait for.
		{"zstd-acks0", "zstd", kafka.Zstd, kafka.RequireNone, false},
		// The topic made by the Writer's Metadata request.
		{"lz4-autocreate", "lz4", kafka.Lz4, kafka.RequireAll, true},
	} {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			topic := "kafkago.codec." + cc.name
			if !cc.autoCreate {
				b.newTopic(t, topic, parts, nil)
			}
			sent := keyedRecords(cc.name, keys, perKey)
			var msgs []kafka.Message
			for _, r := range sent {
				msgs = append(msgs, toKafkaGo(r))
			}
			w := &kafka.Writer{
				Addr:         kafka.TCP(b.addr),
				Transport:    kafkaGoTransport(t),
				Topic:        topic,
				Balancer:     &kafka.Hash{},
				Compression:  cc.codec,
				RequiredAcks: cc.acks,
				BatchTimeout: 5 * time.Millisecond,
				BatchSize:    len(msgs),
				ErrorLogger:  kafkaGoLog(t),

				AllowAutoTopicCreation: cc.autoCreate,
			}
			half := len(msgs) / 2
			for _, part := range [][]kafka.Message{msgs[:half], msgs[half:]} {
				err := w.WriteMessages(ctx(t), part...)
				if cc.autoCreate && errors.Is(err, kafka.LeaderNotAvailable) {
					// As against Kafka, the Metadata request that creates
					// the topic answers LEADER_NOT_AVAILABLE; kafka-go's
					// README has the caller retry ("Missing topic creation
					// before publication"), and the retry finds the topic.
					err = w.WriteMessages(ctx(t), part...)
				}
				if err != nil {
					t.Fatalf("kafka-go writer: %v", err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			if cc.acks == kafka.RequireNone {
				b.waitEnds(t, topic, int64(len(sent)))
			}
			got := b.consumeAll(t, topic)
			checkKeyed(t, got, sent, func(key []byte) int32 {
				return int32((&kafka.Hash{}).Balance(kafka.Message{Key: key}, 0, 1, 2, 3))
			})

			// kafka-go's own Reader and Client.Fetch see exactly what
			// franz-go saw.
			cl := &kafka.Client{Addr: kafka.TCP(b.addr), Transport: kafkaGoTransport(t)}
			for p := range int32(parts) {
				var want []binRec
				for _, r := range got {
					if r.Partition == p {
						want = append(want, binFromKgo(r))
					}
				}
				for i, m := range readPartitionKafkaGo(t, b, topic, p, len(want)) {
					// kafka-go's decoder returns nil for an empty value too.
					if m.Value == nil && want[i].Value != nil && len(want[i].Value) == 0 {
						m.Value = []byte{}
					}
					if !m.equal(want[i]) {
						t.Fatalf("kafka-go reader, partition %d record %d:\n got %v\nwant %v", p, i, m, want[i])
					}
				}
				for i, m := range fetchPartitionKafkaGo(t, cl, topic, p, len(want)) {
					if !m.equal(want[i]) {
						t.Fatalf("kafka-go Client.Fetch, partition %d record %d:\n got %v\nwant %v", p, i, m, want[i])
					}
				}
				for _, sb := range b.readBatches(t, topic, p) {
					if id := sb.codec(); id != codecIDs[cc.codecName] {
						t.Fatalf("partition %d: batch at offset %d stored with codec %d, want %s (%d)", p, sb.FirstOffset, id, cc.codecName, codecIDs[cc.codecName])
					}
				}
			}
		})
	}
}

// kafkaGoGroupReader is a kafka-go Reader in group with short timeouts and
// synchronous commits.
func kafkaGoGroupReader(t testing.TB, b *broker, group, topic string) *kafka.Reader {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           []string{b.addr},
		GroupID:           group,
		Topic:             topic,
		StartOffset:       kafka.FirstOffset,
		GroupBalancers:    []kafka.GroupBalancer{kafka.RangeGroupBalancer{}},
		HeartbeatInterval: 250 * time.Millisecond,
		SessionTimeout:    3 * time.Second,
		RebalanceTimeout:  5 * time.Second,
		JoinGroupBackoff:  100 * time.Millisecond,
		MaxWait:           200 * time.Millisecond,
		ReadBackoffMin:    50 * time.Millisecond,
		ReadBackoffMax:    200 * time.Millisecond,
		CommitInterval:    0,
		ErrorLogger:       kafkaGoLog(t),
	})
	t.Cleanup(func() { r.Close() })
	return r
}

// readCommitKafkaGo fetches and commits, one message at a time, with
// every reader in parallel until want messages arrived in total, and
// returns each reader's messages. A message fetched once want were in is
// one too many: the test fails.
func readCommitKafkaGo(t testing.TB, readers []*kafka.Reader, want int) [][]kafka.Message {
	t.Helper()
	out := make([][]kafka.Message, len(readers))
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var errs []error
	total := 0
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := r.FetchMessage(c)
				if err != nil {
					mu.Lock()
					if c.Err() == nil {
						errs = append(errs, fmt.Errorf("reader %d: fetch: %w", i, err))
						cancel()
					}
					mu.Unlock()
					return
				}
				err = r.CommitMessages(c, m)
				mu.Lock()
				out[i] = append(out[i], m)
				total++
				if err != nil && c.Err() == nil {
					errs = append(errs, fmt.Errorf("reader %d: commit: %w", i, err))
				}
				if total >= want || err != nil {
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("reading: %v", errors.Join(errs...))
	}
	if total != want {
		t.Fatalf("readers read %d messages, want %d", total, want)
	}
	return out
}

// TestKafkaGoGroup: two kafka-go Readers of one group split a six-partition
// topic with no overlap and no gap, as DescribeGroups reports, and read
// each record once, from their own partitions only, committing as they
// go; the commits are what OffsetFetch returns; once they have left, a new
// Reader of the group reads only what was produced after the commits.
func TestKafkaGoGroup(t *testing.T) {
	b := startGroupBroker(t)
	const topic, group, parts = "kafkago.group", "kafkago-group", 6
	b.newTopic(t, topic, parts, nil)
	adm := b.admin(t)

	readers := []*kafka.Reader{kafkaGoGroupReader(t, b, group, topic), kafkaGoGroupReader(t, b, group, topic)}
	a := waitSplit(t, adm, group, topic, parts, 2, 20*time.Second)
	var split [][]int32
	for _, ps := range a {
		split = append(split, ps)
	}

	produced := produceSpread(t, b, topic, parts, 300, "first")
	got := readCommitKafkaGo(t, readers, 300)
	seen := map[string]int{}
	for i, ms := range got {
		var ps []int32
		for _, m := range ms {
			seen[string(m.Value)]++
			if !slices.Contains(ps, int32(m.Partition)) {
				ps = append(ps, int32(m.Partition))
			}
		}
		slices.Sort(ps)
		// The reader's partitions are one member's assignment.
		if !slices.ContainsFunc(split, func(s []int32) bool { return slices.Equal(s, ps) }) {
			t.Errorf("reader %d read partitions %v; the group's assignment is %v", i, ps, a)
		}
	}
	for p, vs := range produced {
		for _, v := range vs {
			if seen[v] != 1 {
				t.Errorf("partition %d: %s read %d times, want once", p, v, seen[v])
			}
		}
	}
	if len(seen) != 300 {
		t.Errorf("read %d distinct records, produced 300", len(seen))
	}
	if t.Failed() {
		t.FailNow()
	}
	if state, again := describeAssignment(t, adm, group, topic); state != "Stable" || fmt.Sprint(again) != fmt.Sprint(a) {
		t.Fatalf("after reading: state %s, assignment %v; want Stable and %v", state, again, a)
	}
	committed := fetchCommitted(t, adm, group, topic)
	for p := range int32(parts) {
		if want := int64(len(produced[p])); committed[p] != want {
			t.Fatalf("committed offsets %v: partition %d at %d, want %d", committed, p, committed[p], want)
		}
	}

	for _, r := range readers {
		if err := r.Close(); err != nil {
			t.Fatalf("close reader: %v", err)
		}
	}
	// Closing left the group: it is empty before the 3 s session timeout
	// could have emptied it.
	waitEmpty(t, adm, group, topic, 2*time.Second)

	// A new reader resumes at the commits: the first messages it reads
	// are the new ones, each partition's at its committed offset.
	later := produceSpread(t, b, topic, parts, 60, "later")
	resumed := readCommitKafkaGo(t, []*kafka.Reader{kafkaGoGroupReader(t, b, group, topic)}, 60)[0]
	first := map[int]int64{}
	for _, m := range resumed {
		if !strings.HasPrefix(string(m.Value), "later-") {
			t.Fatalf("the resumed reader read %s at p%d@%d, committed before it started", m.Value, m.Partition, m.Offset)
		}
		if _, ok := first[m.Partition]; !ok {
			first[m.Partition] = m.Offset
		}
	}
	for p := range int32(parts) {
		if len(later[p]) > 0 && first[int(p)] != committed[p] {
			t.Errorf("partition %d: resumed at offset %d, committed %d", p, first[int(p)], committed[p])
		}
	}
}

// TestKafkaGoAdmin: the admin calls of kafka.Conn (CreateTopics on the
// controller, ReadPartitions, Brokers, WriteMessages to a leader,
// ReadFirstOffset, ReadLastOffset, ReadOffset by time, ReadBatch,
// DeleteTopics) and of kafka.Client (ApiVersions, CreateTopics with
// configs and its TopicAlreadyExists, Metadata, DescribeConfigs,
// CreatePartitions, ListOffsets, ListGroups, DescribeGroups, OffsetFetch,
// DeleteTopics).
func TestKafkaGoAdmin(t *testing.T) {
	b := startGroupBroker(t)

	t.Run("Conn", func(t *testing.T) {
		conn, err := kafka.Dial("tcp", b.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctrl, err := conn.Controller()
		if err != nil {
			t.Fatalf("controller: %v", err)
		}
		brokers, err := conn.Brokers()
		if err != nil {
			t.Fatalf("brokers: %v", err)
		}
		if len(brokers) != 1 || brokers[0].ID != ctrl.ID || fmt.Sprintf("%s:%d", brokers[0].Host, brokers[0].Port) != b.addr {
			t.Fatalf("brokers %+v, controller %+v; want the one broker at %s", brokers, ctrl, b.addr)
		}
		const topic = "kafkago.conn"
		if err := conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 3, ReplicationFactor: 1}); err != nil {
			t.Fatalf("create topic: %v", err)
		}
		ps, err := conn.ReadPartitions(topic)
		if err != nil {
			t.Fatalf("read partitions: %v", err)
		}
		if len(ps) != 3 {
			t.Fatalf("ReadPartitions: %+v, want 3 partitions", ps)
		}
		for _, p := range ps {
			if p.Topic != topic || p.Leader.ID != ctrl.ID || len(p.Replicas) != 1 || len(p.Isr) != 1 || p.Error != nil {
				t.Fatalf("partition %+v", p)
			}
		}
		all, err := conn.ReadPartitions()
		if err != nil {
			t.Fatalf("read all partitions: %v", err)
		}
		if n := len(slices.DeleteFunc(all, func(p kafka.Partition) bool { return p.Topic != topic })); n != 3 {
			t.Fatalf("ReadPartitions(): %d partitions of %s, want 3", n, topic)
		}

		leader, err := kafka.DialLeader(ctx(t), "tcp", b.addr, topic, 1)
		if err != nil {
			t.Fatalf("dial leader: %v", err)
		}
		defer leader.Close()
		first, err := leader.ReadFirstOffset()
		if err != nil || first != 0 {
			t.Fatalf("first offset of an empty partition: %d, %v", first, err)
		}
		before := time.Now().Add(-time.Second)
		var msgs []kafka.Message
		for i := range 10 {
			msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("conn %d", i))})
		}
		leader.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := leader.WriteMessages(msgs...); err != nil {
			t.Fatalf("conn write: %v", err)
		}
		first, last, err := leader.ReadOffsets()
		if err != nil || first != 0 || last != 10 {
			t.Fatalf("ReadOffsets: %d, %d, %v; want 0, 10", first, last, err)
		}
		if last, err := leader.ReadLastOffset(); err != nil || last != 10 {
			t.Fatalf("ReadLastOffset: %d, %v; want 10", last, err)
		}
		if off, err := leader.ReadOffset(before); err != nil || off != 0 {
			t.Fatalf("ReadOffset(a second before writing): %d, %v; want 0", off, err)
		}
		if off, err := leader.ReadOffset(time.Now().Add(time.Hour)); err != nil || off != -1 {
			t.Fatalf("ReadOffset(an hour ahead): %d, %v; want -1 (no such record)", off, err)
		}
		if _, err := leader.Seek(3, kafka.SeekAbsolute); err != nil {
			t.Fatal(err)
		}
		leader.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := leader.ReadBatch(1, 1<<20)
		for i := 3; i < 10; i++ {
			m, err := batch.ReadMessage()
			if err != nil {
				t.Fatalf("batch message %d: %v", i, err)
			}
			if m.Offset != int64(i) || string(m.Value) != fmt.Sprintf("conn %d", i) || string(m.Key) != fmt.Sprint(i) {
				t.Fatalf("batch message %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
			}
		}
		if err := batch.Close(); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if n := b.partitionCount(t, topic); n != 3 {
			t.Fatalf("franz-go sees %d partitions", n)
		}
		if err := conn.DeleteTopics(topic); err != nil {
			t.Fatalf("delete topic: %v", err)
		}
		if n := b.partitionCount(t, topic); n != -1 {
			t.Fatalf("deleted topic still has %d partitions", n)
		}
	})

	t.Run("Client", func(t *testing.T) {
		cl := &kafka.Client{Addr: kafka.TCP(b.addr), Timeout: 10 * time.Second, Transport: kafkaGoTransport(t)}
		av, err := cl.ApiVersions(ctx(t), &kafka.ApiVersionsRequest{})
		if err != nil || av.Error != nil {
			t.Fatalf("api versions: %v, %v", err, av)
		}
		if !slices.ContainsFunc(av.ApiKeys, func(k kafka.ApiVersionsResponseApiKey) bool { return k.ApiKey == 19 }) {
			t.Fatalf("ApiVersions lists no CreateTopics: %+v", av.ApiKeys)
		}

		const topic = "kafkago.client"
		create := &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
			Topic: topic, NumPartitions: 2, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}},
		}}}
		cr, err := cl.CreateTopics(ctx(t), create)
		if err != nil || cr.Errors[topic] != nil {
			t.Fatalf("create topic: %v, %v", err, cr.Errors)
		}
		cr, err = cl.CreateTopics(ctx(t), create)
		if err != nil || !errors.Is(cr.Errors[topic], kafka.TopicAlreadyExists) {
			t.Fatalf("create topic again: %v, %v; want TopicAlreadyExists", err, cr.Errors)
		}

		dc, err := cl.DescribeConfigs(ctx(t), &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"retention.ms"},
		}}})
		if err != nil || len(dc.Resources) != 1 || dc.Resources[0].Error != nil || len(dc.Resources[0].ConfigEntries) != 1 {
			t.Fatalf("describe configs: %v, %+v", err, dc)
		}
		if e := dc.Resources[0].ConfigEntries[0]; e.ConfigName != "retention.ms" || e.ConfigValue != "3600000" || e.IsDefault {
			t.Fatalf("retention.ms: %+v", e)
		}

		cp, err := cl.CreatePartitions(ctx(t), &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: 4}}})
		if err != nil || cp.Errors[topic] != nil {
			t.Fatalf("create partitions: %v, %v", err, cp.Errors)
		}
		// A new client: the first one's cached metadata predates the new partitions.
		md, err := (&kafka.Client{Addr: cl.Addr, Transport: kafkaGoTransport(t)}).Metadata(ctx(t), &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil {
			t.Fatalf("metadata: %v", err)
		}
		if len(md.Brokers) != 1 || md.Controller.ID != md.Brokers[0].ID || len(md.Topics) != 1 {
			t.Fatalf("metadata: %+v", md)
		}
		mt := md.Topics[0]
		if mt.Name != topic || mt.Error != nil || len(mt.Partitions) != 4 {
			t.Fatalf("metadata of %s: %+v", topic, mt)
		}
		for i, p := range mt.Partitions {
			if p.ID != i || p.Leader.ID != md.Brokers[0].ID || p.Error != nil {
				t.Fatalf("metadata partition %d: %+v", i, p)
			}
		}

		// Records in partitions 0 and 3, then a group reads and commits some.
		var recs []*kgo.Record
		for i := range 12 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i%2) * 3, Value: []byte(fmt.Sprint(i))})
		}
		produceSync(t, b.client(t), recs...)
		lo, err := cl.ListOffsets(ctx(t), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {
			kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.FirstOffsetOf(1), kafka.LastOffsetOf(1), kafka.LastOffsetOf(3),
		}}})
		if err != nil {
			t.Fatalf("list offsets: %v", err)
		}
		ends := map[int][2]int64{}
		for _, po := range lo.Topics[topic] {
			if po.Error != nil {
				t.Fatalf("list offsets of partition %d: %v", po.Partition, po.Error)
			}
			ends[po.Partition] = [2]int64{po.FirstOffset, po.LastOffset}
		}
		if want := map[int][2]int64{0: {0, 6}, 1: {0, 0}, 3: {-1, 6}}; fmt.Sprint(ends) != fmt.Sprint(want) {
			t.Fatalf("list offsets: %v, want %v (first, last; -1 for not asked)", ends, want)
		}

		const group = "kafkago-admin"
		r := kafkaGoGroupReader(t, b, group, topic)
		readCommitKafkaGo(t, []*kafka.Reader{r}, 12)
		lg, err := cl.ListGroups(ctx(t), &kafka.ListGroupsRequest{})
		if err != nil || lg.Error != nil {
			t.Fatalf("list groups: %v, %v", err, lg)
		}
		if !slices.ContainsFunc(lg.Groups, func(g kafka.ListGroupsResponseGroup) bool {
			return g.GroupID == group && g.ProtocolType == "consumer"
		}) {
			t.Fatalf("list groups: %+v, want %s (consumer)", lg.Groups, group)
		}
		dg, err := cl.DescribeGroups(ctx(t), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil || len(dg.Groups) != 1 {
			t.Fatalf("describe groups: %v, %+v", err, dg)
		}
		g := dg.Groups[0]
		if g.Error != nil || g.GroupID != group || g.GroupState != "Stable" || len(g.Members) != 1 {
			t.Fatalf("describe %s: %+v", group, g)
		}
		asg := g.Members[0].MemberAssignments.Topics
		if len(asg) != 1 || asg[0].Topic != topic || fmt.Sprint(asg[0].Partitions) != "[0 1 2 3]" {
			t.Fatalf("member assignment %+v, want %s [0 1 2 3]", asg, topic)
		}
		if md := g.Members[0].MemberMetadata; !slices.Equal(md.Topics, []string{topic}) {
			t.Fatalf("member metadata %+v", md)
		}
		of, err := cl.OffsetFetch(ctx(t), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 3}}})
		if err != nil || of.Error != nil {
			t.Fatalf("offset fetch: %v, %v", err, of)
		}
		committed := map[int]int64{}
		for _, p := range of.Topics[topic] {
			if p.Error != nil {
				t.Fatalf("offset fetch partition %d: %v", p.Partition, p.Error)
			}
			committed[p.Partition] = p.CommittedOffset
		}
		if want := map[int]int64{0: 6, 1: -1, 3: 6}; fmt.Sprint(committed) != fmt.Sprint(want) {
			t.Fatalf("committed %v, want %v", committed, want)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}

		dt, err := cl.DeleteTopics(ctx(t), &kafka.DeleteTopicsRequest{Topics: []string{topic, "kafkago.none"}})
		if err != nil {
			t.Fatalf("delete topics: %v", err)
		}
		if dt.Errors[topic] != nil || !errors.Is(dt.Errors["kafkago.none"], kafka.UnknownTopicOrPartition) {
			t.Fatalf("delete topics: %v; want %s deleted and kafkago.none unknown", dt.Errors, topic)
		}
		if n := b.partitionCount(t, topic); n != -1 {
			t.Fatalf("deleted topic still has %d partitions", n)
		}
	})
}
