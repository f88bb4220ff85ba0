package itest

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errorCodes lists every non-zero ErrorCode field in a response, with its
// path, walking nested structs and slices.
func errorCodes(v any) []string {
	var out []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 && v.Field(i).Int() != 0 {
					out = append(out, fmt.Sprintf("%s.ErrorCode=%d", path, v.Field(i).Int()))
				}
				if f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() != reflect.Uint8 {
				for i := range v.Len() {
					walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return out
}

// TestEveryVersion sends a valid request at every version of every API the
// broker advertises, and checks that the response decodes with kmsg at that
// version, re-encodes to exactly the bytes sent (no stray or missing
// fields), carries the right correlation id, and reports no error. The
// admin requests act on topics of their own so that each version does
// real work: each CreateTopics version creates a topic that the same
// DeleteTopics version deletes, each CreatePartitions version adds one.
func TestEveryVersion(t *testing.T) {
	b := startBroker(t)
	const topic = "ver.data"
	b.newTopic(t, topic, 1, nil)
	produceSync(t, b.client(t), simpleKgoRecords(topic, 3)...)
	versions := b.apiVersions(t)
	var topicID [16]byte
	{
		conn := b.dial(t)
		md := conn.roundTrip(t, metadataTopicRequest(12, topic, false)).(*kmsg.MetadataResponse)
		topicID = md.Topics[0].TopicID
	}
	cpTopic, cpCount := "ver.grow", int32(1)
	if _, ok := versions[keyCreatePartitions]; ok {
		b.newTopic(t, cpTopic, 1, nil)
	}
	ctName := func(v int16) string { return "ver.created." + strconv.Itoa(int(v)) }

	builders := map[int16]func(v int16) kmsg.Request{
		0: func(v int16) kmsg.Request {
			return produceRequest(v, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "v"+strconv.Itoa(int(v)))}))
		},
		1: func(v int16) kmsg.Request {
			req := fetchRequest(v, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
			req.Topics[0].TopicID = topicID
			return req
		},
		2: func(v int16) kmsg.Request { return listOffsetsRequest(v, topic, 0, -1) },
		3: func(v int16) kmsg.Request { return metadataTopicRequest(v, topic, false) },
		18: func(v int16) kmsg.Request {
			req := kmsg.NewPtrApiVersionsRequest()
			req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-itest", "1.0"
			return req
		},
		keyCreateTopics: func(v int16) kmsg.Request {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = ctName(v), 2, 1
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("3600000")
			rt.Configs = append(rt.Configs, c)
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		},
		keyDeleteTopics: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.TopicNames = []string{ctName(v)}
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = kmsg.StringPtr(ctName(v))
			req.Topics = append(req.Topics, dt)
			req.TimeoutMillis = 10000
			return req
		},
		keyDeleteRecords: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = 0, 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		},
		keyDescribeConfigs: func(v int16) kmsg.Request {
			req := kmsg.NewPtrDescribeConfigsRequest()
			r := kmsg.NewDescribeConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			req.Resources = append(req.Resources, r)
			req.IncludeSynonyms, req.IncludeDocumentation = true, true
			b := kmsg.NewDescribeConfigsRequestResource()
			b.ResourceType, b.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
			req.Resources = append(req.Resources, b)
			return req
		},
		keyAlterConfigs: func(v int16) kmsg.Request {
			req := kmsg.NewPtrAlterConfigsRequest()
			r := kmsg.NewAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr(strconv.Itoa(3600000+int(v)))
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return req
		},
		keyDescribeLogDirs: func(v int16) kmsg.Request {
			return kmsg.NewPtrDescribeLogDirsRequest() // null topics: all
		},
		keyCreatePartitions: func(v int16) kmsg.Request {
			cpCount++
			req := kmsg.NewPtrCreatePartitionsRequest()
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = cpTopic, cpCount
			req.Topics = append(req.Topics, rt)
			req.TimeoutMillis = 10000
			return req
		},
		keyIncrementalAlterConfigs: func(v int16) kmsg.Request {
			req := kmsg.NewPtrIncrementalAlterConfigsRequest()
			r := kmsg.NewIncrementalAlterConfigsRequestResource()
			r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Op, c.Value = "segment.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(strconv.Itoa(3600000+int(v)))
			r.Configs = append(r.Configs, c)
			req.Resources = append(req.Resources, r)
			return req
		},
		keyDescribeCluster: func(v int16) kmsg.Request { return kmsg.NewPtrDescribeClusterRequest() },
		keyInitProducerID: func(v int16) kmsg.Request {
			req := kmsg.NewPtrInitProducerIDRequest() // no transactional ID
			req.TransactionTimeoutMillis = 60000
			req.ProducerID, req.ProducerEpoch = -1, -1
			return req
		},
	}

	keys := make([]int16, 0, len(versions))
	for k := range versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	conn := b.dial(t)
	for _, key := range keys {
		t.Run(kmsg.NameForKey(key), func(t *testing.T) {
			build, ok := builders[key]
			if !ok {
				t.Skipf("advertised API %d has no request in this test yet", key)
			}
			for v := versions[key][0]; v <= versions[key][1]; v++ {
				req := build(v)
				req.SetVersion(v)
				resp := conn.roundTrip(t, req)
				if errs := errorCodes(resp); len(errs) > 0 {
					t.Errorf("%s v%d: %v", kmsg.NameForKey(key), v, errs)
				}
			}
		})
	}
	if _, ok := versions[keyCreatePartitions]; ok {
		if n := b.partitionCount(t, cpTopic); n != cpCount {
			t.Errorf("%s has %d partitions after one CreatePartitions per version, want %d", cpTopic, n, cpCount)
		}
	}
}

func simpleKgoRecords(topic string, n int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		out[i] = &kgo.Record{Topic: topic, Value: []byte("r" + strconv.Itoa(i))}
	}
	return out
}

// TestPipelining writes several requests in one go, an acks=0 produce
// among them (which gets no response), and checks the responses come back
// in order with their correlation ids, each request seeing the effects of
// the ones before it.
func TestPipelining(t *testing.T) {
	b := startBroker(t)
	const topic = "pipeline"
	b.newTopic(t, topic, 1, nil)
	conn := b.dial(t)

	apiv := kmsg.NewPtrApiVersionsRequest()
	apiv.SetVersion(3)
	p0 := produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "acks0")}))
	p0.Acks = 0
	md := metadataTopicRequest(12, topic, false)
	p1 := produceRequest(9, topic, 0, recordBatch(batchSpec{records: simpleRecords(1, "acks1")}))
	p1.Acks = 1
	fetch := fetchRequest(12, topic, 0, 1, 1<<20, fetchPart{0, 0, 1 << 20})
	lo := listOffsetsRequest(7, topic, 0, -1)
	reqs := []kmsg.Request{apiv, p0, md, p1, fetch, lo}
	var all []byte
	for i, r := range reqs {
		// AppendRequest writes the size at the start of its dst: one each.
		all = append(all, conn.fmt.AppendRequest(nil, r, int32(100+i))...)
	}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(all); err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if r == p0 {
			continue // acks=0: no response
		}
		resp := conn.recv(t, r, int32(100+i))
		switch resp := resp.(type) {
		case *kmsg.ProduceResponse:
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 1 {
				t.Errorf("acks=1 produce after an acks=0 one: error %d base offset %d, want 0 and 1", p.ErrorCode, p.BaseOffset)
			}
		case *kmsg.FetchResponse:
			p := resp.Topics[0].Partitions[0]
			var vals []string
			for _, fb := range splitBatches(t, p.RecordBatches) {
				for _, r := range fb.recs {
					vals = append(vals, string(r.Value))
				}
			}
			if !slices.Equal(vals, []string{"acks0-v0", "acks1-v0"}) {
				t.Errorf("fetch in the pipeline sees %q", vals)
			}
		case *kmsg.ListOffsetsResponse:
			if p := resp.Topics[0].Partitions[0]; p.Offset != 2 {
				t.Errorf("latest offset %d, want 2", p.Offset)
			}
		}
	}
}

// TestRequestHeaders: header forms real clients send: a null client id
// (length -1), and a flexible header (v2) carrying a tagged field the
// broker does not know, which it must skip (KIP-482).
func TestRequestHeaders(t *testing.T) {
	b := startBroker(t)
	const topic = "headers"
	b.newTopic(t, topic, 1, nil)

	t.Run("null client id", func(t *testing.T) {
		conn := b.dial(t)
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(1)
		p := binary.BigEndian.AppendUint16(nil, 3)
		p = binary.BigEndian.AppendUint16(p, 1)
		p = binary.BigEndian.AppendUint32(p, 7)
		p = append(p, 0xff, 0xff) // null client id
		p = req.AppendTo(p)
		if _, err := conn.Write(frame(p)); err != nil {
			t.Fatal(err)
		}
		resp := conn.recv(t, req, 7).(*kmsg.MetadataResponse)
		if len(resp.Brokers) != 1 {
			t.Fatalf("metadata with a null client id: %d brokers", len(resp.Brokers))
		}
	})

	t.Run("unknown header tag", func(t *testing.T) {
		conn := b.dial(t)
		req := metadataTopicRequest(12, topic, false)
		p := binary.BigEndian.AppendUint16(nil, 3)
		p = binary.BigEndian.AppendUint16(p, 12)
		p = binary.BigEndian.AppendUint32(p, 8)
		p = append(p, 0, 2, 'i', 't')
		p = append(p, 1, 9, 3, 'x', 'y', 'z') // one tagged field: tag 9, 3 bytes
		p = req.AppendTo(p)
		if _, err := conn.Write(frame(p)); err != nil {
			t.Fatal(err)
		}
		resp := conn.recv(t, req, 8).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
			t.Fatalf("metadata with an unknown header tag: %+v", resp.Topics)
		}
	})
}
