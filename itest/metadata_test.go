package itest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicView is what a client reports about one topic and the cluster.
type topicView struct {
	Partitions []int32          `json:"partitions"`
	Leaders    map[string]int32 `json:"leaders"` // partition -> leader id
	Brokers    []brokerView     `json:"brokers"`
}

type brokerView struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// TestMetadataClients checks that every client sees the topic's partitions,
// their leader and the one broker at its advertised address.
func TestMetadataClients(t *testing.T) {
	const brokerID, parts = 7, 4
	b := startBroker(t, "broker.id="+strconv.Itoa(brokerID), "num.partitions="+strconv.Itoa(parts))
	topic := "meta.clients"
	b.newTopic(t, topic, parts, nil)
	host, portStr, _ := net.SplitHostPort(b.addr)
	port, _ := strconv.Atoi(portStr)
	want := topicView{Partitions: []int32{0, 1, 2, 3}, Leaders: map[string]int32{}, Brokers: []brokerView{{brokerID, host, int32(port)}}}
	for p := range int32(parts) {
		want.Leaders[strconv.Itoa(int(p))] = brokerID
	}

	views := map[string]func(t *testing.T) topicView{
		"franz-go": func(t *testing.T) topicView {
			md, err := b.admin(t).Metadata(ctx(t), topic)
			if err != nil {
				t.Fatal(err)
			}
			td := md.Topics[topic]
			if td.Err != nil {
				t.Fatalf("topic error %v", td.Err)
			}
			v := topicView{Leaders: map[string]int32{}}
			for _, p := range td.Partitions.Sorted() {
				v.Partitions = append(v.Partitions, p.Partition)
				v.Leaders[strconv.Itoa(int(p.Partition))] = p.Leader
				if !slices.Equal(p.Replicas, []int32{brokerID}) || !slices.Equal(p.ISR, []int32{brokerID}) {
					t.Errorf("partition %d: replicas %v isr %v, want [%d]", p.Partition, p.Replicas, p.ISR, brokerID)
				}
			}
			for _, br := range md.Brokers {
				v.Brokers = append(v.Brokers, brokerView{br.NodeID, br.Host, br.Port})
			}
			if md.Controller != brokerID {
				t.Errorf("controller %d, want %d", md.Controller, brokerID)
			}
			if md.Cluster == "" {
				t.Error("no cluster id")
			}
			return v
		},
		"sarama": func(t *testing.T) topicView {
			cl, err := sarama.NewClient([]string{b.addr}, saramaConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ps, err := cl.Partitions(topic)
			if err != nil {
				t.Fatal(err)
			}
			v := topicView{Partitions: ps, Leaders: map[string]int32{}}
			for _, p := range ps {
				l, err := cl.Leader(topic, p)
				if err != nil {
					t.Fatalf("leader of %d: %v", p, err)
				}
				v.Leaders[strconv.Itoa(int(p))] = l.ID()
			}
			for _, br := range cl.Brokers() {
				h, ps, _ := net.SplitHostPort(br.Addr())
				pn, _ := strconv.Atoi(ps)
				v.Brokers = append(v.Brokers, brokerView{br.ID(), h, int32(pn)})
			}
			return v
		},
		"kafka-python": func(t *testing.T) topicView { return pyMetadata(t, b, "kp", topic) },
		"confluent":    func(t *testing.T) topicView { return pyMetadata(t, b, "ck", topic) },
		"kcat": func(t *testing.T) topicView {
			kcat := needKcat(t)
			var md struct {
				Brokers []struct {
					ID   int32  `json:"id"`
					Name string `json:"name"`
				} `json:"brokers"`
				Topics []struct {
					Topic      string `json:"topic"`
					Partitions []struct {
						Partition int32 `json:"partition"`
						Leader    int32 `json:"leader"`
					} `json:"partitions"`
				} `json:"topics"`
			}
			out := runCmd(t, nil, kcat, "-L", "-J", "-b", b.addr, "-t", topic)
			if err := json.Unmarshal(out, &md); err != nil {
				t.Fatalf("kcat -L -J: %v\n%s", err, out)
			}
			v := topicView{Leaders: map[string]int32{}}
			for _, br := range md.Brokers {
				h, ps, _ := net.SplitHostPort(br.Name)
				pn, _ := strconv.Atoi(ps)
				v.Brokers = append(v.Brokers, brokerView{br.ID, h, int32(pn)})
			}
			if len(md.Topics) != 1 || md.Topics[0].Topic != topic {
				t.Fatalf("kcat -L lists %+v", md.Topics)
			}
			for _, p := range md.Topics[0].Partitions {
				v.Partitions = append(v.Partitions, p.Partition)
				v.Leaders[strconv.Itoa(int(p.Partition))] = p.Leader
			}
			return v
		},
	}
	for _, name := range []string{"franz-go", "sarama", "kafka-python", "confluent", "kcat"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := views[name](t)
			slices.Sort(got.Partitions)
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Fatalf("%s sees\n %s\nwant\n %s", name, gj, wj)
			}
		})
	}
}

func pyMetadata(t *testing.T, b *broker, prefix, topic string) topicView {
	needPyClient(t, prefix)
	var v topicView
	out := runPy(t, nil, prefix+"-metadata", b.addr, topic)
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s-metadata: %v\n%s", prefix, err, out)
	}
	return v
}

// metadataTopicRequest is a Metadata request at version v for one topic.
func metadataTopicRequest(v int16, topic string, autoCreate bool) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(v)
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, mt)
	req.AllowAutoTopicCreation = autoCreate
	return req
}

// TestAutoCreateTopics: with auto.create.topics.enable (the default) a
// producer's metadata request creates a missing topic with num.partitions
// partitions, unless the request says not to (v4+); the creating request
// is answered LEADER_NOT_AVAILABLE, as Kafka answers it.
func TestAutoCreateTopics(t *testing.T) {
	b := startBroker(t, "num.partitions=2")

	// franz-go asks for auto-creation when told to.
	cl := b.client(t, kgo.AllowAutoTopicCreation())
	produceSync(t, cl, &kgo.Record{Topic: "auto.kgo", Partition: 1, Value: []byte("x")})
	if n := b.partitionCount(t, "auto.kgo"); n != 2 {
		t.Fatalf("auto.kgo has %d partitions, want 2 (num.partitions)", n)
	}

	// kcat (librdkafka) producers ask for it too.
	kcat := needKcat(t)
	runCmd(t, []byte("hello\n"), kcat, "-P", "-b", b.addr, "-t", "auto.kcat", "-p", "0")
	got := b.consumeAll(t, "auto.kcat")
	if len(got) != 1 || string(got[0].Value) != "hello" {
		t.Fatalf("auto.kcat holds %d records", len(got))
	}

	conn := b.dial(t)
	// v4+ with allow_auto_topic_creation=false: no creation.
	resp := conn.roundTrip(t, metadataTopicRequest(12, "auto.not", false)).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata v12 without auto-creation: %+v", resp.Topics)
	}
	// v0-v3 always ask for creation. As in Kafka, the request that creates
	// a topic is answered LEADER_NOT_AVAILABLE with no partitions (creation
	// is asynchronous there); the next one sees the partitions.
	for _, v := range []int16{1, 12} {
		topic := fmt.Sprintf("auto.v%d", v)
		resp = conn.roundTrip(t, metadataTopicRequest(v, topic, v >= 4)).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code || len(resp.Topics[0].Partitions) != 0 ||
			*resp.Topics[0].Topic != topic {
			t.Fatalf("metadata v%d creating %s: %+v", v, topic, resp.Topics)
		}
		resp = conn.roundTrip(t, metadataTopicRequest(v, topic, v >= 4)).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != 2 {
			t.Fatalf("metadata v%d after creating %s: %+v", v, topic, resp.Topics)
		}
	}
	// An invalid name is not created.
	resp = conn.roundTrip(t, metadataTopicRequest(12, "bad/name", true)).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("metadata for bad/name: %+v", resp.Topics)
	}
	if n := b.partitionCount(t, "auto.not"); n != -1 {
		t.Fatalf("auto.not exists with %d partitions", n)
	}
	assertTopics(t, b, "auto.kcat", "auto.kgo", "auto.v1", "auto.v12")
}

// assertTopics checks the full topic list of a Metadata request.
func assertTopics(t *testing.T, b *broker, want ...string) {
	t.Helper()
	conn := b.dial(t)
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	req.Topics = nil // all
	resp := conn.roundTrip(t, req).(*kmsg.MetadataResponse)
	var names []string
	for _, tp := range resp.Topics {
		names = append(names, *tp.Topic)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("topics %q, want %q", names, want)
	}
}

// TestAutoCreateDisabled: with auto.create.topics.enable=false, producing to
// a missing topic fails with UNKNOWN_TOPIC_OR_PARTITION and creates
// nothing, in the metadata or on disk.
func TestAutoCreateDisabled(t *testing.T) {
	b := startBroker(t, "auto.create.topics.enable=false")
	const topic = "missing"

	cl := b.client(t, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(1))
	err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("franz-go produce to a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}

	conn := b.dial(t)
	for _, v := range []int16{1, 4, 12} {
		resp := conn.roundTrip(t, metadataTopicRequest(v, topic, true)).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("metadata v%d with auto-creation asked: %+v", v, resp.Topics)
		}
	}
	code, _ := conn.produceCode(t, 9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "m")}))
	if code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("raw produce to a missing topic: error %d, want %d", code, kerr.UnknownTopicOrPartition.Code)
	}

	assertTopics(t, b)
	if _, err := os.Stat(filepath.Join(b.dir, topic+"-0")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partition directory %s-0: %v, want none", topic, err)
	}
}

// TestMetadataTopicLists: which topics a Metadata request lists: v0 reads
// an empty list as every topic; v1+ read null as every topic and an empty
// list as none; v10+ carry topic IDs, and v12 looks a topic up by ID alone
// (KIP-516), the ID CreateTopics v7 answered with.
func TestMetadataTopicLists(t *testing.T) {
	b := startBroker(t)
	b.newTopic(t, "lists.a", 1, nil)
	b.newTopic(t, "lists.b", 2, nil)
	conn := b.dial(t)
	names := func(resp *kmsg.MetadataResponse) []string {
		var out []string
		for _, tp := range resp.Topics {
			if tp.Topic != nil {
				out = append(out, *tp.Topic)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		v     int16
		null  bool
		empty bool
		want  []string
	}{
		{0, false, true, []string{"lists.a", "lists.b"}},
		{1, true, false, []string{"lists.a", "lists.b"}},
		{1, false, true, nil},
		{9, true, false, []string{"lists.a", "lists.b"}},
		{12, false, true, nil},
	} {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(c.v)
		if c.empty {
			req.Topics = []kmsg.MetadataRequestTopic{}
		}
		resp := conn.roundTrip(t, req).(*kmsg.MetadataResponse)
		if got := names(resp); !slices.Equal(got, c.want) {
			t.Errorf("v%d null=%v empty=%v: topics %q, want %q", c.v, c.null, c.empty, got, c.want)
		}
	}

	// Topic IDs: the same in Metadata v10+ and in a lookup by ID.
	resp := conn.roundTrip(t, metadataTopicRequest(12, "lists.b", false)).(*kmsg.MetadataResponse)
	id := resp.Topics[0].TopicID
	if id == [16]byte{} {
		t.Fatal("Metadata v12 gives lists.b no topic ID")
	}
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	mt := kmsg.NewMetadataRequestTopic()
	mt.TopicID = id
	req.Topics = append(req.Topics, mt)
	resp = conn.roundTrip(t, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "lists.b" || len(resp.Topics[0].Partitions) != 2 {
		t.Fatalf("lookup by ID: %+v", resp.Topics)
	}
	mt.TopicID = [16]byte{1, 2, 3}
	req.Topics = []kmsg.MetadataRequestTopic{mt}
	resp = conn.roundTrip(t, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("lookup by an unknown ID: %+v", resp.Topics)
	}
}

// TestClientsAutoCreate: kcat, kafka-python, confluent-kafka and sarama
// producers create a missing topic through their Metadata requests and
// write to it, although the creating request is answered
// LEADER_NOT_AVAILABLE with no partitions, as Kafka answers it: they
// retry and see the partitions next time. (franz-go, kafka-go and kafkajs
// do the same in TestAutoCreateTopics, TestKafkaGoWriterCodecs and
// TestKafkajsProduce.)
func TestClientsAutoCreate(t *testing.T) {
	const parts, n = 3, 12
	b := startBroker(t, fmt.Sprintf("num.partitions=%d", parts))
	for _, name := range []string{"kcat", "kafka-python", "confluent", "sarama"} {
		prod := clients[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			topic := "autocreate." + name
			want := clientRecords(name, n, parts)
			prod.produce(t, b, topic, want)
			if got := b.partitionCount(t, topic); got != parts {
				t.Fatalf("%s has %d partitions, want %d", topic, got, parts)
			}
			compareRecs(t, "franz-go consuming what "+name+" produced to an auto-created topic", kgoConsume(t, b, topic, parts, n), want)
		})
	}
}
