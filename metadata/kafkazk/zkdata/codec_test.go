package zkdata

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Bytes as a Kafka 3.x broker writes them (key orders vary: Jackson over
// Scala maps), and what they decode to.
func TestDecodeKafkaWritten(t *testing.T) {
	b, err := DecodeBroker(1, []byte(`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","SSL":"SSL"},"endpoints":["PLAINTEXT://kafka-1:9092","SSL://[::1]:9093"],"jmx_port":-1,"port":9092,"host":"kafka-1","version":5,"timestamp":"1700000000000","rack":"r1"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := BrokerInfo{ID: 1, JMXPort: -1, Timestamp: 1700000000000, Rack: "r1", Endpoints: []Endpoint{
		{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "kafka-1", Port: 9092},
		{Listener: "SSL", SecurityProtocol: "SSL", Host: "::1", Port: 9093},
	}}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("broker:\n got %+v\nwant %+v", b, want)
	}
	// Version 1: host and port only.
	b, err = DecodeBroker(2, []byte(`{"version":1,"host":"h","port":9092,"jmx_port":9999,"timestamp":"1"}`))
	if err != nil || len(b.Endpoints) != 1 || b.Endpoints[0] != (Endpoint{"PLAINTEXT", "PLAINTEXT", "h", 9092}) {
		t.Fatalf("v1 broker: %+v, %v", b, err)
	}
	// Version 2 has no listener map: the listener names its protocol.
	b, err = DecodeBroker(3, []byte(`{"version":2,"host":"h","port":9092,"jmx_port":-1,"endpoints":["SASL_SSL://h:9094"]}`))
	if err != nil || b.Endpoints[0].SecurityProtocol != "SASL_SSL" {
		t.Fatalf("v2 broker: %+v, %v", b, err)
	}

	s, err := DecodeState([]byte(`{"controller_epoch":3,"leader":1,"version":1,"leader_epoch":4,"isr":[1,2]}`), 7)
	if err != nil || !reflect.DeepEqual(s, LeaderAndISR{Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 2}, ControllerEpoch: 3, PartitionEpoch: 7}) {
		t.Fatalf("state: %+v, %v", s, err)
	}
	a, err := DecodeTopic("t", []byte(`{"partitions":{"0":[1,2],"1":[2,3]},"topic_id":"zQqFd6yqTaOcjHI7cGD8RQ","adding_replicas":{"1":[3]},"removing_replicas":{},"version":3}`))
	if err != nil || a.TopicID.String() != "zQqFd6yqTaOcjHI7cGD8RQ" || !reflect.DeepEqual(a.Partitions[1], PartitionAssignment{Replicas: []int32{2, 3}, AddingReplicas: []int32{3}}) {
		t.Fatalf("topic: %+v, %v", a, err)
	}
	// Topics older than topic IDs.
	if a, err := DecodeTopic("old", []byte(`{"version":1,"partitions":{"0":[1]}}`)); err != nil || !a.TopicID.IsZero() {
		t.Fatalf("old topic: %+v, %v", a, err)
	}
	c, err := DecodeController([]byte(`{"version":1,"brokerid":2,"timestamp":"1700000000000"}`))
	if err != nil || c != (ControllerInfo{BrokerID: 2, Timestamp: 1700000000000, KRaftControllerEpoch: -1}) {
		t.Fatalf("controller: %+v, %v", c, err)
	}
	pb, err := DecodeProducerIDBlock([]byte(`{"version":1,"broker":0,"block_start":"1000","block_end":"1999"}`))
	if err != nil || pb != (ProducerIDBlock{0, 1000, 1999}) || pb.Size() != 1000 {
		t.Fatalf("producer id block: %+v, %v", pb, err)
	}
	e, err := DecodeConfigChange([]byte(`{"version":1,"entity_type":"topics","entity_name":"t"}`))
	if err != nil || e != "topics/t" {
		t.Fatalf("v1 config change: %q, %v", e, err)
	}
}

// Encoders write Kafka's shapes: compared as JSON values.
func TestEncodeShapes(t *testing.T) {
	id, _ := ParseUuid("zQqFd6yqTaOcjHI7cGD8RQ")
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"broker", EncodeBroker(BrokerInfo{ID: 1, JMXPort: -1, Timestamp: 5, Endpoints: []Endpoint{{"PLAINTEXT", "PLAINTEXT", "h", 9092}}}),
			`{"version":5,"host":"h","port":9092,"endpoints":["PLAINTEXT://h:9092"],"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"jmx_port":-1,"timestamp":"5","features":{}}`},
		{"broker without plaintext", EncodeBroker(BrokerInfo{ID: 1, JMXPort: -1, Timestamp: 5, Rack: "r", Endpoints: []Endpoint{{"INTERNAL", "SSL", "::1", 1}}}),
			`{"version":5,"host":null,"port":-1,"endpoints":["INTERNAL://[::1]:1"],"listener_security_protocol_map":{"INTERNAL":"SSL"},"jmx_port":-1,"timestamp":"5","rack":"r","features":{}}`},
		{"controller", EncodeController(ControllerInfo{BrokerID: 3, Timestamp: 7, KRaftControllerEpoch: -1}),
			`{"version":2,"brokerid":3,"timestamp":"7","kraftControllerEpoch":-1}`},
		{"controller epoch", EncodeControllerEpoch(12), `12`},
		{"topic", EncodeTopic(TopicAssignment{TopicID: id, Partitions: map[int32]PartitionAssignment{0: {Replicas: []int32{1, 2}}, 1: {Replicas: []int32{2, 3, 1}, AddingReplicas: []int32{1}, RemovingReplicas: []int32{3}}}}),
			`{"version":3,"partitions":{"0":[1,2],"1":[2,3,1]},"adding_replicas":{"1":[1]},"removing_replicas":{"1":[3]},"topic_id":"zQqFd6yqTaOcjHI7cGD8RQ"}`},
		{"state", EncodeState(LeaderAndISR{Leader: -1, LeaderEpoch: 4, ISR: nil, ControllerEpoch: 3, PartitionEpoch: 9}),
			`{"version":1,"leader":-1,"leader_epoch":4,"isr":[],"controller_epoch":3}`},
		{"recovering state", EncodeState(LeaderAndISR{Leader: 1, ISR: []int32{1}, LeaderRecoveryState: LeaderRecovering, ControllerEpoch: 1}),
			`{"version":1,"leader":1,"leader_epoch":0,"isr":[1],"controller_epoch":1,"leader_recovery_state":1}`},
		{"config", EncodeConfig(map[string]string{"retention.ms": "1000"}), `{"version":1,"config":{"retention.ms":"1000"}}`},
		{"empty config", EncodeConfig(nil), `{"version":1,"config":{}}`},
		{"config change", EncodeConfigChange("topics/t"), `{"version":2,"entity_path":"topics/t"}`},
		{"reassignment", EncodeReassignment(map[TopicPartition][]int32{{"b", 0}: {1}, {"a", 1}: {2, 3}}),
			`{"version":1,"partitions":[{"topic":"a","partition":1,"replicas":[2,3]},{"topic":"b","partition":0,"replicas":[1]}]}`},
		{"producer id block", EncodeProducerIDBlock(ProducerIDBlock{BrokerID: 2, FirstID: 0, LastID: 999}),
			`{"version":1,"broker":2,"block_start":"0","block_end":"999"}`},
		{"cluster id", EncodeClusterID("abc"), `{"version":"1","id":"abc"}`},
	} {
		if !sameJSON(t, tc.got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
}

func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// Garbage decodes to an error, never a value and never a panic.
func TestDecodeGarbage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		data   string
		want   string // in the error
	}{
		{"broker empty", brokerDec, ``, "not a JSON object"},
		{"broker null", brokerDec, `null`, "not a JSON object"},
		{"broker array", brokerDec, `[1]`, "not a JSON object"},
		{"broker trailing", brokerDec, `{"version":5,"jmx_port":-1,"endpoints":[]} x`, "trailing"},
		{"broker no version", brokerDec, `{"jmx_port":-1,"endpoints":[]}`, "no version"},
		{"broker version 0", brokerDec, `{"version":0,"jmx_port":-1}`, "unsupported"},
		{"broker no jmx", brokerDec, `{"version":5,"endpoints":[]}`, "jmx_port"},
		{"broker bad endpoint", brokerDec, `{"version":5,"jmx_port":-1,"endpoints":["PLAINTEXT:/h:1"],"listener_security_protocol_map":{}}`, "LISTENER://"},
		{"broker bad port", brokerDec, `{"version":5,"jmx_port":-1,"endpoints":["PLAINTEXT://h:99999"],"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"}}`, "bad port"},
		{"broker unmapped listener", brokerDec, `{"version":5,"jmx_port":-1,"endpoints":["X://h:1"],"listener_security_protocol_map":{}}`, "no security protocol"},
		{"broker unknown protocol", brokerDec, `{"version":2,"jmx_port":-1,"endpoints":["X://h:1"]}`, "unknown security protocol"},
		{"broker port overflow", brokerDec, `{"version":5,"jmx_port":1e20,"endpoints":[]}`, "jmx_port"},
		{"broker timestamp", brokerDec, `{"version":5,"jmx_port":-1,"endpoints":[],"timestamp":"soon"}`, "timestamp"},
		{"state float", stateDec, `{"leader":1.5,"leader_epoch":0,"isr":[],"controller_epoch":1}`, "leader"},
		{"state missing isr", stateDec, `{"leader":1,"leader_epoch":0,"controller_epoch":1}`, "required"},
		{"state null isr", stateDec, `{"leader":1,"leader_epoch":0,"isr":null,"controller_epoch":1}`, "required"},
		{"state recovery", stateDec, `{"leader":1,"leader_epoch":0,"isr":[1],"controller_epoch":1,"leader_recovery_state":7}`, "leader_recovery_state"},
		{"topic key", topicDec, `{"partitions":{"x":[1]}}`, "not a partition number"},
		{"topic negative", topicDec, `{"partitions":{"-1":[1]}}`, "not a partition number"},
		{"topic leading zero", topicDec, `{"partitions":{"01":[1]}}`, "not a partition number"},
		{"topic null replicas", topicDec, `{"partitions":{"0":null}}`, "null"},
		{"topic id", topicDec, `{"partitions":{},"topic_id":"short"}`, "topic_id"},
		{"topic strings", topicDec, `{"partitions":{"0":["1"]}}`, "int32"},
		{"controller", controllerDec, `{"version":2}`, "brokerid"},
		{"controller epoch text", epochDec, `one`, "not an int32"},
		{"controller epoch space", epochDec, `1 `, "not an int32"},
		{"controller epoch negative", epochDec, `-1`, "negative"},
		{"config value", configDec, `{"config":{"a":1}}`, "string"},
		{"change version", changeDec, `{"version":3,"entity_path":"topics/t"}`, "version 3"},
		{"change path", changeDec, `{"version":2,"entity_path":"t"}`, "type/name"},
		{"reassignment none", reassignDec, `{"version":1}`, "no partitions"},
		{"reassignment replicas", reassignDec, `{"version":1,"partitions":[{"topic":"t","partition":0}]}`, "required"},
		{"pid numbers", pidDec, `{"version":1,"broker":0,"block_start":0,"block_end":999}`, "string"},
		{"pid order", pidDec, `{"version":1,"broker":0,"block_start":"10","block_end":"9"}`, "bad block"},
		{"pid huge", pidDec, `{"version":1,"broker":0,"block_start":"0","block_end":"9223372036854775807"}`, "bad block"},
		{"pid text", pidDec, `{"version":1,"broker":0,"block_start":"x","block_end":"9"}`, "not an int64"},
		{"cluster id", clusterDec, `{"version":"1"}`, "no id"},
		{"cluster id number", clusterDec, `{"version":"1","id":5}`, "string"},
	} {
		err := tc.decode([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q: err = %v, want one mentioning %q", tc.name, tc.data, err, tc.want)
		}
	}
}

func brokerDec(b []byte) error     { _, err := DecodeBroker(1, b); return err }
func stateDec(b []byte) error      { _, err := DecodeState(b, 0); return err }
func topicDec(b []byte) error      { _, err := DecodeTopic("t", b); return err }
func controllerDec(b []byte) error { _, err := DecodeController(b); return err }
func epochDec(b []byte) error      { _, err := DecodeControllerEpoch(b); return err }
func configDec(b []byte) error     { _, err := DecodeConfig(b); return err }
func changeDec(b []byte) error     { _, err := DecodeConfigChange(b); return err }
func reassignDec(b []byte) error   { _, err := DecodeReassignment(b); return err }
func pidDec(b []byte) error        { _, err := DecodeProducerIDBlock(b); return err }
func clusterDec(b []byte) error    { _, err := DecodeClusterID(b); return err }

func TestUuid(t *testing.T) {
	u, err := ParseUuid("zQqFd6yqTaOcjHI7cGD8RQ")
	if err != nil || u.String() != "zQqFd6yqTaOcjHI7cGD8RQ" {
		t.Fatalf("%v %v", u, err)
	}
	if p, err := ParseUuid("zQqFd6yqTaOcjHI7cGD8RQ=="); err != nil || p != u {
		t.Fatalf("padded: %v %v", p, err)
	}
	for _, bad := range []string{"", "abc", "zQqFd6yqTaOcjHI7cGD8RQzQqFd6", "zQqFd6yqTaOcjHI7cGD8R+", "zQqFd6yqTaOcjHI7cGD8RQAA"} {
		if _, err := ParseUuid(bad); err == nil {
			t.Errorf("ParseUuid(%q) accepted", bad)
		}
	}
	seen := map[Uuid]bool{}
	for i := 0; i < 1000; i++ {
		r := RandomUuid()
		if s := r.String(); len(s) != 22 || s[0] == '-' || seen[r] || r.IsZero() {
			t.Fatalf("RandomUuid gave %q", s)
		}
		seen[r] = true
	}
}
