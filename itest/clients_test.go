package itest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// rec is one record as every client's wrapper reports it. Keys, values and
// header values are strings; nil is a null key or value.
type rec struct {
	Partition int32       `json:"partition"`
	Offset    int64       `json:"offset"`
	Key       *string     `json:"key"`
	Value     *string     `json:"value"`
	Headers   [][2]string `json:"headers"`
}

func (r rec) String() string {
	s := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return strconv.Quote(*p)
	}
	return fmt.Sprintf("p%d@%d key=%s value=%s headers=%q", r.Partition, r.Offset, s(r.Key), s(r.Value), r.Headers)
}

func strp(s string) *string { return &s }

// clientRecords are the records a client produces in the round trips: n
// keyed records spread over parts partitions in turn (so record i lands at
// offset i/parts of partition i%parts), with UTF-8 values, one in seven
// longer than a kilobyte, and headers that include a repeated key. The
// headers are the same for every record of a partition, because kcat sets
// headers per run.
func clientRecords(producer string, n int, parts int32) []rec {
	out := make([]rec, n)
	for i := range out {
		p := int32(i) % parts
		v := fmt.Sprintf("value %03d from %s: grüße, 日本, ✓", i, producer)
		if i%7 == 3 {
			v += strings.Repeat(fmt.Sprintf("-%d", i), 400)
		}
		out[i] = rec{
			Partition: p,
			Offset:    int64(i) / int64(parts),
			Key:       strp(fmt.Sprintf("key-%03d", i)),
			Value:     strp(v),
			Headers:   [][2]string{{"src", producer}, {"part", strconv.Itoa(int(p))}, {"dup", "1"}, {"dup", "2"}},
		}
	}
	return out
}

// sortRecs orders records by partition, then offset.
func sortRecs(rs []rec) {
	slices.SortFunc(rs, func(a, b rec) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
}

// compareRecs fails the test at the first difference between the records
// consumed and those expected (both sorted by partition and offset).
func compareRecs(t testing.TB, what string, got, want []rec) {
	t.Helper()
	sortRecs(got)
	sortRecs(want)
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.String() != w.String() {
			t.Fatalf("%s: record %d:\n got %v\nwant %v", what, i, g, w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
}

// client wraps one Kafka client library or tool. produce sends the records
// to their partitions in order and returns the delivery reports (partition
// and offset of each, in input order), or nil if the client reports none;
// consume reads n records from the start of partitions 0..parts-1,
// assigned directly (no group).
type client struct {
	name    string
	produce func(t testing.TB, b *broker, topic string, recs []rec) []rec
	consume func(t testing.TB, b *broker, topic string, parts int32, n int) []rec
}

var clients = map[string]client{
	"kcat":         {"kcat", kcatProduce, kcatConsume},
	"kafka-python": {"kafka-python", pyProduce("kp"), pyConsume("kp")},
	"confluent":    {"confluent", pyProduce("ck"), pyConsume("ck")},
	"sarama":       {"sarama", saramaProduce, saramaConsume},
	"franz-go":     {"franz-go", kgoProduce, kgoConsume},
}

// ---- kcat

// kcatProduce runs kcat -P once per partition: kcat sets headers and the
// partition per run, and reads "key<TAB>value" lines.
func kcatProduce(t testing.TB, b *broker, topic string, recs []rec) []rec {
	t.Helper()
	kcat := needKcat(t)
	byPart := map[int32][]rec{}
	var parts []int32
	for _, r := range recs {
		if _, ok := byPart[r.Partition]; !ok {
			parts = append(parts, r.Partition)
		}
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	for _, p := range parts {
		var in bytes.Buffer
		for _, r := range byPart[p] {
			fmt.Fprintf(&in, "%s\t%s\n", *r.Key, *r.Value)
		}
		args := []string{"-P", "-b", b.addr, "-t", topic, "-p", strconv.Itoa(int(p)), "-K", "\t",
			"-X", "enable.idempotence=false", "-X", "acks=all"}
		args = append(args, b.sec.kcatArgs()...)
		for _, h := range byPart[p][0].Headers {
			args = append(args, "-H", h[0]+"="+h[1])
		}
		runCmd(t, in.Bytes(), kcat, args...)
	}
	return nil
}

// kcatJSON is a record as kcat -J prints it.
type kcatJSON struct {
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Timestamp int64    `json:"ts"`
	Headers   []string `json:"headers"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func parseKcatJSON(t testing.TB, out []byte) []kcatJSON {
	t.Helper()
	var recs []kcatJSON
	for line := range bytes.Lines(out) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r kcatJSON
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("kcat -J line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func kcatConsume(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
	t.Helper()
	kcat := needKcat(t)
	out := runCmd(t, nil, kcat, append([]string{"-C", "-b", b.addr, "-t", topic, "-o", "beginning", "-e", "-J", "-q"}, b.sec.kcatArgs()...)...)
	var got []rec
	for _, r := range parseKcatJSON(t, out) {
		g := rec{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Payload}
		for i := 0; i+1 < len(r.Headers); i += 2 {
			g.Headers = append(g.Headers, [2]string{r.Headers[i], r.Headers[i+1]})
		}
		got = append(got, g)
	}
	if len(got) != n {
		t.Fatalf("kcat consumed %d records, want %d", len(got), n)
	}
	return got
}

// ---- Python clients (kafka-python: kp, confluent-kafka: ck)

func needPyClient(t testing.TB, prefix string) {
	t.Helper()
	if prefix == "kp" {
		needPython(t, "kafka", "python3-kafka")
	} else {
		needPython(t, "confluent_kafka", "python3-confluent-kafka")
	}
}

func pyProduce(prefix string, env ...string) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		t.Helper()
		needPyClient(t, prefix)
		in, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		var reports []rec
		if err := json.Unmarshal(runPyEnv(t, append(b.sec.pyEnv(), env...), in, prefix+"-produce", b.addr, topic), &reports); err != nil {
			t.Fatal(err)
		}
		return reports
	}
}

func pyConsume(prefix string, env ...string) func(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
	return func(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
		t.Helper()
		needPyClient(t, prefix)
		var got []rec
		out := runPyEnv(t, append(b.sec.pyEnv(), env...), nil, prefix+"-consume", b.addr, topic, strconv.Itoa(int(parts)), strconv.Itoa(n))
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s-consume output %q: %v", prefix, out, err)
		}
		return got
	}
}

// ---- sarama

func saramaConfig() *sarama.Config { return saramaConfigAt(sarama.V2_8_0_0) }

// saramaConfigAt is sarama's configuration at a protocol version: sarama
// picks its request versions from it.
func saramaConfigAt(v sarama.KafkaVersion) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "samsa-itest"
	cfg.Version = v
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Retry.Max = 0
	cfg.Net.MaxOpenRequests = 1
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	return cfg
}

func saramaProduce(t testing.TB, b *broker, topic string, recs []rec) []rec {
	t.Helper()
	return saramaProduceAt(sarama.V2_8_0_0)(t, b, topic, recs)
}

func saramaProduceAt(v sarama.KafkaVersion) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		return saramaProduceWith(t, b, saramaConfigAt(v), topic, recs)
	}
}

func saramaProduceWith(t testing.TB, b *broker, cfg *sarama.Config, topic string, recs []rec) []rec {
	t.Helper()
	b.sec.sarama(cfg)
	p, err := sarama.NewSyncProducer([]string{b.addr}, cfg)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		m := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition}
		if r.Key != nil {
			m.Key = sarama.StringEncoder(*r.Key)
		}
		if r.Value != nil {
			m.Value = sarama.StringEncoder(*r.Value)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		msgs[i] = m
	}
	// One at a time: SendMessages may reorder a partition's records.
	reports := make([]rec, len(msgs))
	for i, m := range msgs {
		part, off, err := p.SendMessage(m)
		if err != nil {
			t.Fatalf("sarama produce %d: %v", i, err)
		}
		reports[i] = rec{Partition: part, Offset: off}
	}
	return reports
}

func saramaConsume(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
	t.Helper()
	return saramaConsumeAt(sarama.V2_8_0_0)(t, b, topic, parts, n)
}

func saramaConsumeAt(v sarama.KafkaVersion) func(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
	return func(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
		return saramaConsumeWith(t, b, saramaConfigAt(v), topic, parts, n)
	}
}

func saramaConsumeWith(t testing.TB, b *broker, cfg *sarama.Config, topic string, parts int32, n int) []rec {
	t.Helper()
	b.sec.sarama(cfg)
	c, err := sarama.NewConsumer([]string{b.addr}, cfg)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer c.Close()
	msgs := make(chan *sarama.ConsumerMessage)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(done); wg.Wait() }()
	for p := range parts {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("sarama consume partition %d: %v", p, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.AsyncClose()
			for {
				select {
				case m := <-pc.Messages():
					select {
					case msgs <- m:
					case <-done:
						return
					}
				case <-done:
					return
				}
			}
		}()
	}
	var got []rec
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case m := <-msgs:
			g := rec{Partition: m.Partition, Offset: m.Offset}
			if m.Key != nil {
				g.Key = strp(string(m.Key))
			}
			if m.Value != nil {
				g.Value = strp(string(m.Value))
			}
			for _, h := range m.Headers {
				g.Headers = append(g.Headers, [2]string{string(h.Key), string(h.Value)})
			}
			got = append(got, g)
		case <-deadline:
			t.Fatalf("sarama consumed %d of %d records in 30s", len(got), n)
		}
	}
	return got
}

// ---- franz-go

func toKgo(topic string, r rec) *kgo.Record {
	kr := &kgo.Record{Topic: topic, Partition: r.Partition}
	if r.Key != nil {
		kr.Key = []byte(*r.Key)
	}
	if r.Value != nil {
		kr.Value = []byte(*r.Value)
	}
	for _, h := range r.Headers {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
	}
	return kr
}

func fromKgo(kr *kgo.Record) rec {
	g := rec{Partition: kr.Partition, Offset: kr.Offset}
	if kr.Key != nil {
		g.Key = strp(string(kr.Key))
	}
	if kr.Value != nil {
		g.Value = strp(string(kr.Value))
	}
	for _, h := range kr.Headers {
		g.Headers = append(g.Headers, [2]string{h.Key, string(h.Value)})
	}
	return g
}

func kgoProduce(t testing.TB, b *broker, topic string, recs []rec) []rec {
	t.Helper()
	cl := b.client(t)
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = toKgo(topic, r)
	}
	produceSync(t, cl, krs...)
	reports := make([]rec, len(krs))
	for i, kr := range krs {
		reports[i] = rec{Partition: kr.Partition, Offset: kr.Offset}
	}
	return reports
}

func kgoConsume(t testing.TB, b *broker, topic string, parts int32, n int) []rec {
	t.Helper()
	offs := map[int32]kgo.Offset{}
	for p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
	}
	cl := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
	var got []rec
	for _, kr := range pollN(t, cl, int64(n)) {
		got = append(got, fromKgo(kr))
	}
	return got
}

// roundTrip produces clientRecords with prod to a new topic and consumes
// them with cons, comparing everything and the delivery reports.
func roundTrip(t *testing.T, b *broker, topic string, prod, cons client) {
	t.Helper()
	const n, parts = 30, 3
	b.newTopic(t, topic, parts, nil)
	want := clientRecords(prod.name, n, parts)
	if reports := prod.produce(t, b, topic, want); reports != nil {
		if len(reports) != len(want) {
			t.Fatalf("%s: %d delivery reports for %d records", prod.name, len(reports), len(want))
		}
		for i, r := range reports {
			if r.Partition != want[i].Partition || r.Offset != want[i].Offset {
				t.Fatalf("%s delivery report %d: p%d@%d, want p%d@%d", prod.name, i, r.Partition, r.Offset, want[i].Partition, want[i].Offset)
			}
		}
	}
	got := cons.consume(t, b, topic, parts, n)
	compareRecs(t, cons.name+" consuming what "+prod.name+" produced", got, want)
}

// TestClientRoundTrip produces keyed records with headers to a
// three-partition topic with one client and consumes them with another
// (and with itself), comparing every partition, offset, key, value and
// header, and the producer's delivery reports.
func TestClientRoundTrip(t *testing.T) {
	b := startBroker(t, "num.partitions=3")
	pairs := [][2]string{
		{"kcat", "kcat"},
		{"kafka-python", "kafka-python"},
		{"confluent", "confluent"},
		{"sarama", "sarama"},
		{"franz-go", "franz-go"},
		{"kcat", "kafka-python"},
		{"kafka-python", "confluent"},
		{"confluent", "sarama"},
		{"sarama", "franz-go"},
		{"franz-go", "kcat"},
	}
	for _, pair := range pairs {
		prod, cons := clients[pair[0]], clients[pair[1]]
		t.Run(prod.name+"_to_"+cons.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, b, "roundtrip."+prod.name+"."+cons.name, prod, cons)
		})
	}
}

// TestClientProtocolVersions repeats the round trip with clients pinned to
// older and newer protocol versions: sarama picks its request versions
// from its configured Kafka version, kafka-python from api_version. The
// oldest pins use the lowest versions the broker serves (Produce v3,
// Fetch v4).
func TestClientProtocolVersions(t *testing.T) {
	b := startBroker(t, "num.partitions=3")
	var cases []client
	for _, v := range []sarama.KafkaVersion{sarama.V0_11_0_0, sarama.V1_0_0_0, sarama.V2_0_0_0, sarama.V2_4_0_0, sarama.V3_0_0_0, sarama.MaxVersion} {
		name := "sarama-" + v.String()
		cases = append(cases, client{name, saramaProduceAt(v), saramaConsumeAt(v)})
	}
	for _, v := range []string{"0.11.0", "1.0.0", "2.0.0", "2.4.0"} {
		env := "KP_API_VERSION=" + v
		cases = append(cases, client{"kafka-python-" + v, pyProduce("kp", env), pyConsume("kp", env)})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, b, "versions."+c.name, c, c)
		})
	}
}

// TestNullsAndBinary checks what only some clients can express: null keys,
// null values (tombstones), empty values, every byte value, and a header
// with an empty value, from franz-go to sarama and back.
func TestNullsAndBinary(t *testing.T) {
	b := startBroker(t)
	topic := "nulls"
	b.newTopic(t, topic, 1, nil)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	in := []*kgo.Record{
		{Topic: topic, Key: nil, Value: []byte("null key")},
		{Topic: topic, Key: []byte("tombstone"), Value: nil},
		{Topic: topic, Key: []byte{}, Value: []byte{}},
		{Topic: topic, Key: all, Value: bytes.Repeat(all, 64), Headers: []kgo.RecordHeader{{Key: "empty", Value: []byte{}}, {Key: "bin", Value: all}}},
	}
	produceSync(t, b.client(t), in...)

	c, err := sarama.NewConsumer([]string{b.addr}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for i, want := range in {
		select {
		case m := <-pc.Messages():
			if m.Offset != int64(i) {
				t.Fatalf("record %d at offset %d", i, m.Offset)
			}
			if (m.Key == nil) != (want.Key == nil) || !bytes.Equal(m.Key, want.Key) {
				t.Errorf("record %d key %q (nil %v), want %q (nil %v)", i, m.Key, m.Key == nil, want.Key, want.Key == nil)
			}
			if (m.Value == nil) != (want.Value == nil) || !bytes.Equal(m.Value, want.Value) {
				t.Errorf("record %d value of %d bytes (nil %v), want %d (nil %v)", i, len(m.Value), m.Value == nil, len(want.Value), want.Value == nil)
			}
			if len(m.Headers) != len(want.Headers) {
				t.Fatalf("record %d: %d headers, want %d", i, len(m.Headers), len(want.Headers))
			}
			for j, h := range m.Headers {
				if string(h.Key) != want.Headers[j].Key || !bytes.Equal(h.Value, want.Headers[j].Value) {
					t.Errorf("record %d header %d: %q=%q", i, j, h.Key, h.Value)
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("sarama: record %d not consumed in 30s", i)
		}
	}

	// And back: sarama produces the same, franz-go reads it.
	p, err := sarama.NewSyncProducer([]string{b.addr}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, r := range in {
		m := &sarama.ProducerMessage{Topic: topic, Partition: 0}
		if r.Key != nil {
			m.Key = sarama.ByteEncoder(r.Key)
		}
		if r.Value != nil {
			m.Value = sarama.ByteEncoder(r.Value)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		if _, off, err := p.SendMessage(m); err != nil || off != int64(len(in)+i) {
			t.Fatalf("sarama produce %d: offset %d, %v", i, off, err)
		}
	}
	got := b.consumeAll(t, topic)
	if len(got) != 2*len(in) {
		t.Fatalf("franz-go consumed %d records, want %d", len(got), 2*len(in))
	}
	for i, g := range got {
		want := in[i%len(in)]
		if (g.Key == nil) != (want.Key == nil) || !bytes.Equal(g.Key, want.Key) ||
			(g.Value == nil) != (want.Value == nil) || !bytes.Equal(g.Value, want.Value) ||
			len(g.Headers) != len(want.Headers) {
			t.Errorf("offset %d: key %q value of %d bytes (nil %v/%v), %d headers; want key %q value of %d bytes, %d headers",
				g.Offset, g.Key, len(g.Value), g.Key == nil, g.Value == nil, len(g.Headers), want.Key, len(want.Value), len(want.Headers))
		}
	}
}
