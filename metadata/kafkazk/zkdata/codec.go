package zkdata

// Encoders and decoders of the znodes' bytes. Each decoder takes bytes a
// Kafka broker (ZooKeeper mode, 3.x) or Samsa wrote and returns the value or
// an error saying what is wrong; it never panics. Each encoder writes the
// shape Kafka 3.8 writes (key order aside: JSON objects are unordered).
// Fields a decoder does not know are ignored, as Kafka ignores them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// decodeJSON decodes one JSON object into v and rejects anything else
// (null, arrays, scalars) and trailing bytes.
func decodeJSON(data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are encoded
	}
	return b
}

// msString is a millisecond timestamp written as a JSON string ("1700000000000");
// a JSON number is accepted too.
type msString int64

func (m msString) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatInt(int64(m), 10))
}

func (m *msString) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is not an integer", b)
	}
	*m = msString(v)
	return nil
}

// ---- /brokers/ids/<id> ----

// Security protocols Kafka knows; a listener without an entry in
// listener_security_protocol_map must be named after one of them.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// Endpoint is one advertised listener.
type Endpoint struct {
	Listener         string // listener name, e.g. "PLAINTEXT", "INTERNAL"
	SecurityProtocol string // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
	Host             string
	Port             int32
}

// String is Kafka's EndPoint.connectionString: "LISTENER://host:port",
// IPv6 hosts in brackets.
func (e Endpoint) String() string {
	return e.Listener + "://" + net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// FeatureRange is a supported feature's version range (KIP-584).
type FeatureRange struct {
	MinVersion int16
	MaxVersion int16
}

// BrokerInfo is a broker's registration, /brokers/ids/<id>.
type BrokerInfo struct {
	ID        int32      // from the path, not the JSON
	Endpoints []Endpoint // advertised listeners, in order
	Rack      string     // "" when the broker has none
	JMXPort   int32      // -1 when JMX is off
	Timestamp int64      // registration time, Unix ms
	// Features are the broker's supported features; nil when none.
	Features map[string]FeatureRange
}

type brokerJSON struct {
	Version     int                         `json:"version"`
	Host        *string                     `json:"host"`
	Port        int32                       `json:"port"`
	Endpoints   []string                    `json:"endpoints"`
	ListenerMap map[string]string           `json:"listener_security_protocol_map"`
	JMXPort     int32                       `json:"jmx_port"`
	Timestamp   msString                    `json:"timestamp"`
	Rack        *string                     `json:"rack,omitempty"`
	Features    map[string]map[string]int16 `json:"features"`
}

// brokerJSONIn has pointers where a field may be absent or null.
type brokerJSONIn struct {
	Version     *int                        `json:"version"`
	Host        *string                     `json:"host"`
	Port        *int32                      `json:"port"`
	Endpoints   *[]string                   `json:"endpoints"`
	ListenerMap map[string]string           `json:"listener_security_protocol_map"`
	JMXPort     *int32                      `json:"jmx_port"`
	Timestamp   *msString                   `json:"timestamp"`
	Rack        *string                     `json:"rack"`
	Features    map[string]map[string]int64 `json:"features"`
}

// EncodeBroker writes registration version 5. The top-level host and port
// are the first PLAINTEXT endpoint's (null and -1 when there is none), for
// clients older than multiple listeners.
func EncodeBroker(b BrokerInfo) []byte {
	j := brokerJSON{
		Version:     5,
		Port:        -1,
		Endpoints:   make([]string, len(b.Endpoints)),
		ListenerMap: make(map[string]string, len(b.Endpoints)),
		JMXPort:     b.JMXPort,
		Timestamp:   msString(b.Timestamp),
		Features:    make(map[string]map[string]int16, len(b.Features)),
	}
	for i, e := range b.Endpoints {
		j.Endpoints[i] = e.String()
		j.ListenerMap[e.Listener] = e.SecurityProtocol
		if j.Host == nil && e.SecurityProtocol == "PLAINTEXT" {
			h := e.Host
			j.Host, j.Port = &h, e.Port
		}
	}
	if b.Rack != "" {
		r := b.Rack
		j.Rack = &r
	}
	for name, r := range b.Features {
		j.Features[name] = map[string]int16{"min_version": r.MinVersion, "max_version": r.MaxVersion}
	}
	return mustJSON(j)
}

func DecodeBroker(id int32, data []byte) (BrokerInfo, error) {
	var j brokerJSONIn
	if err := decodeJSON(data, &j); err != nil {
		return BrokerInfo{}, err
	}
	b := BrokerInfo{ID: id}
	if j.Version == nil {
		return b, errors.New("no version")
	}
	if *j.Version < 1 {
		return b, fmt.Errorf("unsupported registration version %d", *j.Version)
	}
	if j.JMXPort == nil {
		return b, errors.New("no jmx_port")
	}
	b.JMXPort = *j.JMXPort
	if j.Timestamp != nil {
		b.Timestamp = int64(*j.Timestamp)
	}
	if j.Rack != nil {
		b.Rack = *j.Rack
	}
	if *j.Version == 1 {
		if j.Host == nil || j.Port == nil {
			return b, errors.New("version 1 registration without host and port")
		}
		e := Endpoint{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: *j.Host, Port: *j.Port}
		if err := CheckEndpoint(e); err != nil {
			return b, err
		}
		b.Endpoints = []Endpoint{e}
	} else {
		if j.Endpoints == nil {
			return b, errors.New("no endpoints")
		}
		for _, s := range *j.Endpoints {
			e, err := parseEndpoint(s, j.ListenerMap)
			if err != nil {
				return b, err
			}
			for _, prev := range b.Endpoints {
				if prev.Listener == e.Listener {
					return b, fmt.Errorf("listener %s registered twice", e.Listener)
				}
			}
			b.Endpoints = append(b.Endpoints, e)
		}
	}
	for name, r := range j.Features {
		min, okMin := r["min_version"]
		max, okMax := r["max_version"]
		if !okMin || !okMax {
			return b, fmt.Errorf("feature %q without min_version and max_version", name)
		}
		if min < math.MinInt16 || min > math.MaxInt16 || max < math.MinInt16 || max > math.MaxInt16 {
			return b, fmt.Errorf("feature %q: version out of range", name)
		}
		if b.Features == nil {
			b.Features = make(map[string]FeatureRange)
		}
		b.Features[name] = FeatureRange{MinVersion: int16(min), MaxVersion: int16(max)}
	}
	return b, nil
}

// parseEndpoint parses "LISTENER://host:port" ("[v6]:port" for IPv6), the
// security protocol coming from the listener map, or from the listener's own
// name when the map is absent (registrations older than version 4).
func parseEndpoint(s string, protocols map[string]string) (Endpoint, error) {
	listener, hostport, ok := strings.Cut(s, "://")
	if !ok || listener == "" {
		return Endpoint{}, fmt.Errorf("endpoint %q is not LISTENER://host:port", s)
	}
	var host, port string
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 || !strings.HasPrefix(hostport[end+1:], ":") {
			return Endpoint{}, fmt.Errorf("endpoint %q: bad bracketed host", s)
		}
		host, port = hostport[1:end], hostport[end+2:]
		if !strings.Contains(host, ":") {
			return Endpoint{}, fmt.Errorf("endpoint %q: brackets around a host that is not IPv6", s)
		}
	} else {
		i := strings.LastIndexByte(hostport, ':')
		if i < 0 {
			return Endpoint{}, fmt.Errorf("endpoint %q has no port", s)
		}
		host, port = hostport[:i], hostport[i+1:]
		if strings.Contains(host, ":") {
			return Endpoint{}, fmt.Errorf("endpoint %q: IPv6 host without brackets", s)
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: bad port", s)
	}
	e := Endpoint{Listener: listener, Host: host, Port: int32(p)}
	if protocols != nil {
		e.SecurityProtocol, ok = protocols[listener]
		if !ok {
			return Endpoint{}, fmt.Errorf("endpoint %q: no security protocol for listener %s", s, listener)
		}
	} else {
		e.SecurityProtocol = listener
	}
	return e, CheckEndpoint(e)
}

// CheckEndpoint holds an endpoint to what survives String and parseEndpoint:
// host characters as in Kafka's endpoint pattern, a port, a known protocol.
func CheckEndpoint(e Endpoint) error {
	if e.Listener == "" || strings.Contains(e.Listener, "://") {
		return fmt.Errorf("bad listener name %q", e.Listener)
	}
	for i := 0; i < len(e.Host); i++ {
		c := e.Host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '%' || c == '.' || c == '_' || c == ':') {
			return fmt.Errorf("listener %s: bad host %q", e.Listener, e.Host)
		}
	}
	if e.Port < 0 || e.Port > 65535 {
		return fmt.Errorf("listener %s: bad port %d", e.Listener, e.Port)
	}
	if !slices.Contains(securityProtocols, e.SecurityProtocol) {
		return fmt.Errorf("listener %s: unknown security protocol %q", e.Listener, e.SecurityProtocol)
	}
	return nil
}

// ---- /controller, /controller_epoch ----

// ControllerInfo is /controller: who the controller is.
type ControllerInfo struct {
	BrokerID  int32
	Timestamp int64 // election time, Unix ms
	// KRaftControllerEpoch is -1 for a ZooKeeper-mode controller (the only
	// kind Samsa runs); a KRaft controller migrating a cluster sets it.
	KRaftControllerEpoch int32
}

type controllerJSON struct {
	Version              int      `json:"version"`
	BrokerID             int32    `json:"brokerid"`
	Timestamp            msString `json:"timestamp"`
	KRaftControllerEpoch int32    `json:"kraftControllerEpoch"`
}

type controllerJSONIn struct {
	BrokerID             *int32    `json:"brokerid"`
	Timestamp            *msString `json:"timestamp"`
	KRaftControllerEpoch *int32    `json:"kraftControllerEpoch"`
}

func EncodeController(c ControllerInfo) []byte {
	return mustJSON(controllerJSON{Version: 2, BrokerID: c.BrokerID, Timestamp: msString(c.Timestamp), KRaftControllerEpoch: c.KRaftControllerEpoch})
}

func DecodeController(data []byte) (ControllerInfo, error) {
	var j controllerJSONIn
	if err := decodeJSON(data, &j); err != nil {
		return ControllerInfo{}, err
	}
	if j.BrokerID == nil {
		return ControllerInfo{}, errors.New("no brokerid")
	}
	c := ControllerInfo{BrokerID: *j.BrokerID, KRaftControllerEpoch: -1}
	if j.Timestamp != nil {
		c.Timestamp = int64(*j.Timestamp)
	}
	if j.KRaftControllerEpoch != nil {
		c.KRaftControllerEpoch = *j.KRaftControllerEpoch
	}
	return c, nil
}

// /controller_epoch is the epoch as decimal text, no JSON.
func EncodeControllerEpoch(epoch int32) []byte { return []byte(strconv.Itoa(int(epoch))) }

func DecodeControllerEpoch(data []byte) (int32, error) {
	v, err := strconv.ParseInt(string(data), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("controller epoch %q is not an int32", data)
	}
	if v < 0 {
		return 0, fmt.Errorf("negative controller epoch %d", v)
	}
	return int32(v), nil
}

// ---- /brokers/topics/<topic> ----

// PartitionAssignment is one partition's replicas. During a reassignment
// Replicas is the union of the old and the new set, AddingReplicas those
// being added and RemovingReplicas those leaving (KIP-455).
type PartitionAssignment struct {
	Replicas         []int32
	AddingReplicas   []int32 // nil when none
	RemovingReplicas []int32 // nil when none
}

// TopicAssignment is /brokers/topics/<topic>.
type TopicAssignment struct {
	Topic      string // from the path
	TopicID    Uuid   // zero for topics created before topic IDs
	Partitions map[int32]PartitionAssignment
}

type topicJSON struct {
	Version          int                `json:"version"`
	Partitions       map[string][]int32 `json:"partitions"`
	AddingReplicas   map[string][]int32 `json:"adding_replicas"`
	RemovingReplicas map[string][]int32 `json:"removing_replicas"`
	TopicID          string             `json:"topic_id,omitempty"`
}

type topicJSONIn struct {
	Partitions       map[string][]int32 `json:"partitions"`
	AddingReplicas   map[string][]int32 `json:"adding_replicas"`
	RemovingReplicas map[string][]int32 `json:"removing_replicas"`
	TopicID          *string            `json:"topic_id"`
}

func EncodeTopic(a TopicAssignment) []byte {
	j := topicJSON{
		Version:          3,
		Partitions:       make(map[string][]int32, len(a.Partitions)),
		AddingReplicas:   map[string][]int32{},
		RemovingReplicas: map[string][]int32{},
	}
	for p, pa := range a.Partitions {
		k := strconv.Itoa(int(p))
		j.Partitions[k] = nonNil(pa.Replicas)
		if len(pa.AddingReplicas) > 0 {
			j.AddingReplicas[k] = pa.AddingReplicas
		}
		if len(pa.RemovingReplicas) > 0 {
			j.RemovingReplicas[k] = pa.RemovingReplicas
		}
	}
	if !a.TopicID.IsZero() {
		j.TopicID = a.TopicID.String()
	}
	return mustJSON(j)
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func DecodeTopic(topic string, data []byte) (TopicAssignment, error) {
	var j topicJSONIn
	if err := decodeJSON(data, &j); err != nil {
		return TopicAssignment{}, err
	}
	a := TopicAssignment{Topic: topic, Partitions: make(map[int32]PartitionAssignment, len(j.Partitions))}
	if j.TopicID != nil {
		id, err := ParseUuid(*j.TopicID)
		if err != nil {
			return a, fmt.Errorf("topic_id: %v", err)
		}
		a.TopicID = id
	}
	for k, replicas := range j.Partitions {
		p, err := parsePartition(k)
		if err != nil {
			return a, err
		}
		if _, dup := a.Partitions[p]; dup {
			return a, fmt.Errorf("partition %d listed twice", p)
		}
		if replicas == nil {
			return a, fmt.Errorf("partition %d: replicas are null", p)
		}
		pa := PartitionAssignment{Replicas: replicas}
		if r := j.AddingReplicas[k]; len(r) > 0 {
			pa.AddingReplicas = r
		}
		if r := j.RemovingReplicas[k]; len(r) > 0 {
			pa.RemovingReplicas = r
		}
		a.Partitions[p] = pa
	}
	return a, nil
}

// parsePartition parses a partition number written as a JSON key: decimal,
// no sign, no leading zeros (so that it re-encodes to the same key).
func parsePartition(k string) (int32, error) {
	v, err := strconv.ParseInt(k, 10, 32)
	if err != nil || v < 0 || strconv.FormatInt(v, 10) != k {
		return 0, fmt.Errorf("partition key %q is not a partition number", k)
	}
	return int32(v), nil
}

// ---- /brokers/topics/<topic>/partitions/<p>/state ----

// Sentinel leaders.
const (
	NoLeader           = -1 // the partition has no leader
	LeaderDuringDelete = -2 // the topic is being deleted
)

// Leader recovery states (KIP-704).
const (
	LeaderRecovered  = 0
	LeaderRecovering = 1
)

// LeaderAndISR is a partition's state: what the controller writes to
// /brokers/topics/<t>/partitions/<p>/state and sends in LeaderAndIsr requests.
type LeaderAndISR struct {
	Leader              int32 // broker id, NoLeader or LeaderDuringDelete
	LeaderEpoch         int32 // grows with every leader change
	ISR                 []int32
	LeaderRecoveryState int8 // LeaderRecovered or LeaderRecovering
	// ControllerEpoch is the epoch of the controller that wrote the state.
	ControllerEpoch int32
	// PartitionEpoch is the state znode's version: it grows with every write
	// and is the condition of the next one. It is not in the JSON.
	PartitionEpoch int32
}

type stateJSON struct {
	Version             int     `json:"version"`
	Leader              int32   `json:"leader"`
	LeaderEpoch         int32   `json:"leader_epoch"`
	ISR                 []int32 `json:"isr"`
	ControllerEpoch     int32   `json:"controller_epoch"`
	LeaderRecoveryState int8    `json:"leader_recovery_state,omitempty"`
}

type stateJSONIn struct {
	Leader              *int32  `json:"leader"`
	LeaderEpoch         *int32  `json:"leader_epoch"`
	ISR                 []int32 `json:"isr"`
	ControllerEpoch     *int32  `json:"controller_epoch"`
	LeaderRecoveryState *int8   `json:"leader_recovery_state"`
}

func EncodeState(s LeaderAndISR) []byte {
	return mustJSON(stateJSON{Version: 1, Leader: s.Leader, LeaderEpoch: s.LeaderEpoch, ISR: nonNil(s.ISR),
		ControllerEpoch: s.ControllerEpoch, LeaderRecoveryState: s.LeaderRecoveryState})
}

// DecodeState decodes a state znode; version is the znode's version.
func DecodeState(data []byte, version int32) (LeaderAndISR, error) {
	var j stateJSONIn
	if err := decodeJSON(data, &j); err != nil {
		return LeaderAndISR{}, err
	}
	if j.Leader == nil || j.LeaderEpoch == nil || j.ControllerEpoch == nil || j.ISR == nil {
		return LeaderAndISR{}, errors.New("leader, leader_epoch, isr and controller_epoch are required")
	}
	s := LeaderAndISR{Leader: *j.Leader, LeaderEpoch: *j.LeaderEpoch, ISR: j.ISR, ControllerEpoch: *j.ControllerEpoch, PartitionEpoch: version}
	if j.LeaderRecoveryState != nil {
		s.LeaderRecoveryState = *j.LeaderRecoveryState
		if s.LeaderRecoveryState != LeaderRecovered && s.LeaderRecoveryState != LeaderRecovering {
			return s, fmt.Errorf("unknown leader_recovery_state %d", s.LeaderRecoveryState)
		}
	}
	return s, nil
}

// ---- /config/<type>/<name> ----

type configJSON struct {
	Version int               `json:"version"`
	Config  map[string]string `json:"config"`
}

func EncodeConfig(cfg map[string]string) []byte {
	if cfg == nil {
		cfg = map[string]string{}
	}
	return mustJSON(configJSON{Version: 1, Config: cfg})
}

// DecodeConfig returns the entity's overrides; an empty znode has none. The
// result is never nil.
func DecodeConfig(data []byte) (map[string]string, error) {
	cfg := map[string]string{}
	if len(data) == 0 {
		return cfg, nil
	}
	var j struct {
		Config map[string]string `json:"config"`
	}
	if err := decodeJSON(data, &j); err != nil {
		return nil, err
	}
	for k, v := range j.Config {
		cfg[k] = v
	}
	return cfg, nil
}

// ---- /config/changes/config_change_<seq> ----

type configChangeJSON struct {
	Version    int    `json:"version"`
	EntityPath string `json:"entity_path"`
}

func EncodeConfigChange(entityPath string) []byte {
	return mustJSON(configChangeJSON{Version: 2, EntityPath: entityPath})
}

// DecodeConfigChange reads version 2 ({"entity_path":...}) and version 1
// ({"entity_type":...,"entity_name":...}) notifications.
func DecodeConfigChange(data []byte) (string, error) {
	var j struct {
		Version    *int    `json:"version"`
		EntityPath *string `json:"entity_path"`
		EntityType *string `json:"entity_type"`
		EntityName *string `json:"entity_name"`
	}
	if err := decodeJSON(data, &j); err != nil {
		return "", err
	}
	if j.Version == nil {
		return "", errors.New("no version")
	}
	switch *j.Version {
	case 1:
		if j.EntityType == nil || j.EntityName == nil {
			return "", errors.New("version 1 change without entity_type and entity_name")
		}
		return *j.EntityType + "/" + *j.EntityName, nil
	case 2:
		if j.EntityPath == nil || !strings.Contains(*j.EntityPath, "/") {
			return "", errors.New("version 2 change without an entity_path of the form type/name")
		}
		return *j.EntityPath, nil
	}
	return "", fmt.Errorf("unknown change notification version %d", *j.Version)
}

// ParseSeq parses the 10-digit sequence suffix ZooKeeper gives a sequential
// znode.
func ParseSeq(name, prefix string) (int64, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok || len(s) < 10 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v >= 0
}

// ---- /admin/reassign_partitions ----

type reassignJSON struct {
	Version    int                  `json:"version"`
	Partitions []reassignPartitionJ `json:"partitions"`
}

type reassignPartitionJ struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

type reassignPartitionIn struct {
	Topic     *string `json:"topic"`
	Partition *int32  `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

func EncodeReassignment(r map[TopicPartition][]int32) []byte {
	j := reassignJSON{Version: 1, Partitions: make([]reassignPartitionJ, 0, len(r))}
	for tp, replicas := range r {
		j.Partitions = append(j.Partitions, reassignPartitionJ{Topic: tp.Topic, Partition: tp.Partition, Replicas: nonNil(replicas)})
	}
	sort.Slice(j.Partitions, func(a, b int) bool {
		pa, pb := j.Partitions[a], j.Partitions[b]
		if pa.Topic != pb.Topic {
			return pa.Topic < pb.Topic
		}
		return pa.Partition < pb.Partition
	})
	return mustJSON(j)
}

func DecodeReassignment(data []byte) (map[TopicPartition][]int32, error) {
	var j struct {
		Partitions *[]reassignPartitionIn `json:"partitions"`
	}
	if err := decodeJSON(data, &j); err != nil {
		return nil, err
	}
	if j.Partitions == nil {
		return nil, errors.New("no partitions")
	}
	r := make(map[TopicPartition][]int32, len(*j.Partitions))
	for i, p := range *j.Partitions {
		if p.Topic == nil || p.Partition == nil || p.Replicas == nil {
			return nil, fmt.Errorf("partitions[%d]: topic, partition and replicas are required", i)
		}
		r[TopicPartition{*p.Topic, *p.Partition}] = p.Replicas
	}
	return r, nil
}

// ---- /latest_producer_id_block ----

// ProducerIDBlock is a range of producer IDs owned by one broker:
// [FirstID, LastID].
type ProducerIDBlock struct {
	BrokerID int32
	FirstID  int64
	LastID   int64
}

// Size is the number of IDs in the block.
func (b ProducerIDBlock) Size() int64 { return b.LastID - b.FirstID + 1 }

type pidBlockJSON struct {
	Version    int    `json:"version"`
	Broker     int32  `json:"broker"`
	BlockStart string `json:"block_start"`
	BlockEnd   string `json:"block_end"`
}

type pidBlockJSONIn struct {
	Broker     *int32  `json:"broker"`
	BlockStart *string `json:"block_start"`
	BlockEnd   *string `json:"block_end"`
}

func EncodeProducerIDBlock(b ProducerIDBlock) []byte {
	return mustJSON(pidBlockJSON{Version: 1, Broker: b.BrokerID,
		BlockStart: strconv.FormatInt(b.FirstID, 10), BlockEnd: strconv.FormatInt(b.LastID, 10)})
}

// DecodeProducerIDBlock requires block_start and block_end as strings (Kafka
// writes them so, and reads nothing else), FirstID >= 0, and a size that fits
// an int32.
func DecodeProducerIDBlock(data []byte) (ProducerIDBlock, error) {
	var j pidBlockJSONIn
	if err := decodeJSON(data, &j); err != nil {
		return ProducerIDBlock{}, err
	}
	if j.Broker == nil || j.BlockStart == nil || j.BlockEnd == nil {
		return ProducerIDBlock{}, errors.New("broker, block_start and block_end are required")
	}
	b := ProducerIDBlock{BrokerID: *j.Broker}
	var err error
	if b.FirstID, err = strconv.ParseInt(*j.BlockStart, 10, 64); err != nil {
		return b, fmt.Errorf("block_start %q is not an int64", *j.BlockStart)
	}
	if b.LastID, err = strconv.ParseInt(*j.BlockEnd, 10, 64); err != nil {
		return b, fmt.Errorf("block_end %q is not an int64", *j.BlockEnd)
	}
	if b.FirstID < 0 || b.LastID < b.FirstID || b.LastID-b.FirstID >= math.MaxInt32 {
		return b, fmt.Errorf("bad block [%d, %d]", b.FirstID, b.LastID)
	}
	return b, nil
}

// ---- /cluster/id ----

type clusterIDJSON struct {
	Version string `json:"version"` // a string: "1"
	ID      string `json:"id"`
}

func EncodeClusterID(id string) []byte { return mustJSON(clusterIDJSON{Version: "1", ID: id}) }

func DecodeClusterID(data []byte) (string, error) {
	var j struct {
		ID *string `json:"id"`
	}
	if err := decodeJSON(data, &j); err != nil {
		return "", err
	}
	if j.ID == nil || *j.ID == "" {
		return "", errors.New("no id")
	}
	return *j.ID, nil
}
