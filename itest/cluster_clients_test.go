package itest

// Every client library against a three-broker cluster, each given one
// broker only: its partitioner picks the partitions (a hash of the key, at
// random for null keys), so its records go to partitions led by all three
// brokers, found through Metadata; it reads everything back itself.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

// partitionedRecords are n records of a client, half keyed (keys cycle
// over 16, so each key has several records, in order) and half with a null
// key, interleaved. Partition -1: the client's partitioner chooses. Values
// are unique and name the record.
func partitionedRecords(client string, n int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{Partition: -1, Offset: -1, Value: strp(fmt.Sprintf("%s #%03d", client, i))}
		if i%2 == 0 {
			out[i].Key = strp(fmt.Sprintf("key-%02d", (i/2)%16))
		}
	}
	return out
}

// clusterClient is one library's producer with its partitioner and its
// consumer; hash is where its partitioner puts a key among n partitions.
type clusterClient struct {
	name    string
	produce func(t testing.TB, seed, topic string, recs []rec) []rec // delivery reports or nil
	consume func(t testing.TB, seed, topic string, parts int32, n int) []rec
	hash    func(topic string, key []byte, n int) int32
}

func javaHash(_ string, key []byte, n int) int32 { return murmur2Partition(key, n) }

var clusterClients = []clusterClient{
	{"kcat", kcatProducePartitioned, viaBroker(kcatConsume), javaHash},
	{"confluent", viaBrokerProduce(pyProduce("ck", "CK_PARTITIONER=murmur2_random")), viaBroker(pyConsume("ck")), javaHash},
	{"kafka-python", viaBrokerProduce(pyProduce("kp")), viaBroker(pyConsume("kp")), javaHash},
	{"sarama", saramaProducePartitioned, viaBroker(saramaConsume), saramaHash},
	{"franz-go", kgoProducePartitioned, viaBroker(kgoConsume), javaHash},
	{"kafka-go", kafkaGoProducePartitioned, kafkaGoConsumeAll, javaHash},
}

// viaBroker adapts a consumer of the single-broker tests to a seed address.
func viaBroker(f func(t testing.TB, b *broker, topic string, parts int32, n int) []rec) func(t testing.TB, seed, topic string, parts int32, n int) []rec {
	return func(t testing.TB, seed, topic string, parts int32, n int) []rec {
		return f(t, &broker{addr: seed}, topic, parts, n)
	}
}

func viaBrokerProduce(f func(t testing.TB, b *broker, topic string, recs []rec) []rec) func(t testing.TB, seed, topic string, recs []rec) []rec {
	return func(t testing.TB, seed, topic string, recs []rec) []rec {
		return f(t, &broker{addr: seed}, topic, recs)
	}
}

// kcatProducePartitioned runs kcat twice: keyed records with librdkafka's
// murmur2_random partitioner, then the others with its random one.
func kcatProducePartitioned(t testing.TB, seed, topic string, recs []rec) []rec {
	t.Helper()
	kcat := needKcat(t)
	var keyed, unkeyed bytes.Buffer
	for _, r := range recs {
		if r.Key != nil {
			fmt.Fprintf(&keyed, "%s\t%s\n", *r.Key, *r.Value)
		} else {
			fmt.Fprintf(&unkeyed, "%s\n", *r.Value)
		}
	}
	common := []string{"-P", "-b", seed, "-t", topic, "-X", "enable.idempotence=false", "-X", "acks=all"}
	runCmd(t, keyed.Bytes(), kcat, append(common, "-K", "\t", "-X", "topic.partitioner=murmur2_random")...)
	// Without sticky partitioning, which keeps null keys on one partition
	// for a linger period.
	runCmd(t, unkeyed.Bytes(), kcat, append(common, "-X", "topic.partitioner=random", "-X", "sticky.partitioning.linger.ms=0")...)
	return nil
}

// saramaHash is sarama's default hash partitioner's choice.
func saramaHash(topic string, key []byte, n int) int32 {
	p, err := sarama.NewHashPartitioner(topic).Partition(&sarama.ProducerMessage{Key: sarama.ByteEncoder(key)}, int32(n))
	if err != nil {
		panic(err)
	}
	return p
}

// saramaProducePartitioned sends with sarama's hash partitioner (random
// for null keys), one message at a time.
func saramaProducePartitioned(t testing.TB, seed, topic string, recs []rec) []rec {
	t.Helper()
	cfg := saramaConfig()
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	p, err := sarama.NewSyncProducer([]string{seed}, cfg)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}
	defer p.Close()
	reports := make([]rec, len(recs))
	for i, r := range recs {
		m := &sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(*r.Value)}
		if r.Key != nil {
			m.Key = sarama.StringEncoder(*r.Key)
		}
		part, off, err := p.SendMessage(m)
		if err != nil {
			t.Fatalf("sarama produce %d: %v", i, err)
		}
		reports[i] = rec{Partition: part, Offset: off}
	}
	return reports
}

// kgoProducePartitioned sends with franz-go's Kafka-compatible key hash
// (its sticky key partitioner) and a random partition for null keys.
func kgoProducePartitioned(t testing.TB, seed, topic string, recs []rec) []rec {
	t.Helper()
	hash := kgo.StickyKeyPartitioner(nil)
	cl := (&broker{addr: seed}).client(t, kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(topic string) func(*kgo.Record, int) int {
		byKey := hash.ForTopic(topic)
		return func(r *kgo.Record, n int) int {
			if r.Key == nil {
				return rand.IntN(n)
			}
			return byKey.Partition(r, n)
		}
	})))
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Topic: topic, Value: []byte(*r.Value)}
		if r.Key != nil {
			krs[i].Key = []byte(*r.Key)
		}
	}
	produceSync(t, cl, krs...)
	reports := make([]rec, len(krs))
	for i, kr := range krs {
		reports[i] = rec{Partition: kr.Partition, Offset: kr.Offset}
	}
	return reports
}

// kafkaGoProducePartitioned writes with kafka-go's Murmur2Balancer (random
// for null keys), all messages in one call.
func kafkaGoProducePartitioned(t testing.TB, seed, topic string, recs []rec) []rec {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(seed),
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
		Transport:    kafkaGoTransport(t),
		ErrorLogger:  kafkaGoLog(t),
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Value: []byte(*r.Value)}
		if r.Key != nil {
			msgs[i].Key = []byte(*r.Key)
		}
	}
	if err := w.WriteMessages(ctx(t), msgs...); err != nil {
		t.Fatalf("kafka-go write: %v", err)
	}
	return nil
}

// kafkaGoConsumeAll reads every partition with a kafka-go Reader each, as
// many records as its end offset says.
func kafkaGoConsumeAll(t testing.TB, seed, topic string, parts int32, n int) []rec {
	t.Helper()
	ends, err := (&broker{addr: seed}).admin(t).ListEndOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []rec
	for p := range parts {
		end, _ := ends.Lookup(topic, p)
		for _, r := range readPartitionKafkaGo(t, &broker{addr: seed}, topic, p, int(end.Offset)) {
			g := rec{Partition: r.Partition, Offset: r.Offset, Value: strp(string(r.Value))}
			if r.Key != nil {
				g.Key = strp(string(r.Key))
			}
			out = append(out, g)
		}
	}
	if len(out) != n {
		t.Fatalf("kafka-go read %d records, want %d", len(out), n)
	}
	return out
}

// checkPartitioned checks what a client read back against what it sent:
// every record once, keyed ones in the partition hash gives and each key's
// in the order sent, null-keyed ones over at least four partitions, each
// partition's offsets dense from 0, and the delivery reports (if any)
// where the records are.
func checkPartitioned(t testing.TB, c clusterClient, topic string, parts int32, sent, reports, got []rec) {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("%s read %d records, sent %d", c.name, len(got), len(sent))
	}
	byValue := map[string]rec{}
	perPart := map[int32][]int64{}
	for _, g := range got {
		if g.Value == nil {
			t.Fatalf("%s read a null value at p%d@%d", c.name, g.Partition, g.Offset)
		}
		if _, dup := byValue[*g.Value]; dup {
			t.Fatalf("%s read %q twice", c.name, *g.Value)
		}
		byValue[*g.Value] = g
		perPart[g.Partition] = append(perPart[g.Partition], g.Offset)
	}
	last := map[string]int64{}
	random := map[int32]bool{}
	for i, s := range sent {
		g, ok := byValue[*s.Value]
		if !ok {
			t.Fatalf("%s: %q not read back", c.name, *s.Value)
		}
		if (g.Key == nil) != (s.Key == nil) || (s.Key != nil && *g.Key != *s.Key) {
			t.Fatalf("%s: %q read with key %v, sent %v", c.name, *s.Value, g.Key, s.Key)
		}
		if s.Key == nil {
			random[g.Partition] = true
		} else {
			if want := c.hash(topic, []byte(*s.Key), int(parts)); g.Partition != want {
				t.Fatalf("%s: %q (key %s) in partition %d, the partitioner's is %d", c.name, *s.Value, *s.Key, g.Partition, want)
			}
			if prev, ok := last[*s.Key]; ok && g.Offset <= prev {
				t.Fatalf("%s: key %s out of order: %q at %d after %d", c.name, *s.Key, *s.Value, g.Offset, prev)
			}
			last[*s.Key] = g.Offset
		}
		if reports != nil && (reports[i].Partition != g.Partition || reports[i].Offset != g.Offset) {
			t.Fatalf("%s: %q reported at p%d@%d, read at p%d@%d", c.name, *s.Value, reports[i].Partition, reports[i].Offset, g.Partition, g.Offset)
		}
	}
	if len(random) < 4 {
		t.Fatalf("%s: null-keyed records only in partitions %v", c.name, random)
	}
	for p := range parts {
		offs := perPart[p]
		slices.Sort(offs)
		for i, o := range offs {
			if o != int64(i) {
				t.Fatalf("%s: partition %d offsets %v, want 0..%d", c.name, p, offs, len(offs)-1)
			}
		}
		if len(offs) == 0 {
			t.Fatalf("%s: partition %d got nothing", c.name, p)
		}
	}
}

// TestClusterClients: kcat, confluent-kafka, kafka-python, sarama,
// franz-go and kafka-go, each given one broker of three as bootstrap,
// produce keyed records with their hash partitioners and null-keyed ones
// at random to a topic of six partitions led two per broker, acks=all,
// and read everything back: each record in the partition its client's
// partitioner chose (the delivery reports agree), each key's in order,
// every partition dense from offset 0.
func TestClusterClients(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const parts, n = 6, 96
	for i, cc := range clusterClients {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			c := c.in(t)
			seed := c.brokers[i%len(c.brokers)]
			topic := "clients." + cc.name
			leaders := c.createTopic(c.broker(3-int32(i%3)), topic, parts, nil)
			if got := ledBy(leaders); len(got) != 3 {
				t.Fatalf("leaders %v: not spread over the three brokers", leaders)
			}
			sent := partitionedRecords(cc.name, n)
			reports := cc.produce(t, seed.addr, topic, sent)
			got := cc.consume(t, seed.addr, topic, parts, n)
			checkPartitioned(t, cc, topic, parts, sent, reports, got)
			t.Logf("%s via broker %d: %d records over leaders %v", cc.name, seed.id, n, leaders)
		})
	}
}
