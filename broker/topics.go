package broker

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
	"samsa/metadata"
)

// apiError is a Kafka error code with a message for the client.
type apiError struct {
	code *kerr.Error
	msg  string
}

func (e *apiError) Error() string { return e.code.Message + ": " + e.msg }

func errf(code *kerr.Error, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// codeOf maps an error to a Kafka error code; unknown errors are
// UNKNOWN_SERVER_ERROR.
func codeOf(err error) int16 {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code.Code
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	if err == nil {
		return 0
	}
	return kerr.UnknownServerError.Code
}

func msgOf(err error) *string {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return strptr(ae.msg)
	}
	return strptr(err.Error())
}

// topicSpec is a topic to create.
type topicSpec struct {
	name        string
	partitions  int32     // -1: num.partitions
	replication int16     // -1: default.replication.factor
	assignment  [][]int32 // explicit replicas per partition, or nil
	configs     map[string]string
}

// createTopic validates spec and, unless validateOnly, creates the topic:
// metadata first (durable), then the partitions' logs.
func (b *Broker) createTopic(spec topicSpec, validateOnly bool) (metadata.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	if err := validTopicName(spec.name); err != nil {
		return metadata.Topic{}, errf(kerr.InvalidTopicException, "%v", err)
	}
	if b.topic(spec.name) != nil {
		return metadata.Topic{}, errf(kerr.TopicAlreadyExists, "Topic '%s' already exists.", spec.name)
	}
	// Kafka refuses names that differ only in '.' versus '_' (metric names collide).
	norm := strings.ReplaceAll(spec.name, ".", "_")
	for _, n := range b.topicNames() {
		if strings.ReplaceAll(n, ".", "_") == norm {
			return metadata.Topic{}, errf(kerr.InvalidTopicException, "Topic '%s' collides with existing topics: %s", spec.name, n)
		}
	}
	replicas, err := b.assign(spec)
	if err != nil {
		return metadata.Topic{}, err
	}
	if _, err := b.cfg.TopicDefaults.With(spec.configs); err != nil {
		return metadata.Topic{}, errf(kerr.InvalidConfig, "%v", err)
	}
	t := metadata.Topic{Name: spec.name, ID: metadata.NewTopicID(), Replicas: replicas, Configs: maps.Clone(spec.configs), Internal: isInternal(spec.name)}
	if t.Configs == nil {
		t.Configs = map[string]string{}
	}
	if validateOnly {
		return t, nil
	}
	if err := b.meta.CreateTopic(t); err != nil {
		return metadata.Topic{}, err
	}
	ts, err := b.openTopic(t)
	if err != nil {
		b.log.Error("creating topic logs failed; rolling back", "topic", t.Name, "err", err)
		for i := range t.Replicas {
			b.dir.Delete(logfile.TopicPartition{Topic: t.Name, Partition: int32(i)})
		}
		b.meta.DeleteTopic(t.Name)
		return metadata.Topic{}, errf(kerr.KafkaStorageError, "%v", err)
	}
	b.mu.Lock()
	b.topics[t.Name] = ts
	b.mu.Unlock()
	b.log.Info("topic created", "topic", t.Name, "partitions", len(t.Replicas), "id", t.ID.String())
	return t, nil
}

// assign returns the replica assignment for a new topic: this broker for
// every partition, or the explicit assignment if it is valid.
func (b *Broker) assign(spec topicSpec) ([][]int32, error) {
	if spec.assignment != nil {
		if spec.partitions != -1 || spec.replication != -1 {
			return nil, errf(kerr.InvalidRequest, "both a replica assignment and partitions or replication factor were given")
		}
		for i, r := range spec.assignment {
			if len(r) == 0 || len(r) > 1 || r[0] != b.cfg.BrokerID {
				return nil, errf(kerr.InvalidReplicaAssignment, "partition %d: replicas %v: the only broker is %d", i, r, b.cfg.BrokerID)
			}
		}
		if len(spec.assignment) == 0 {
			return nil, errf(kerr.InvalidPartitions, "empty replica assignment")
		}
		return spec.assignment, nil
	}
	n, rf := spec.partitions, spec.replication
	if n == -1 {
		n = b.cfg.NumPartitions
	}
	if rf == -1 {
		rf = b.cfg.DefaultReplication
	}
	if n < 1 {
		return nil, errf(kerr.InvalidPartitions, "Number of partitions must be larger than 0.")
	}
	if n > 100000 {
		return nil, errf(kerr.InvalidPartitions, "number of partitions %d is more than this broker serves (100000)", n)
	}
	if rf < 1 {
		return nil, errf(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0.")
	}
	if rf > 1 {
		return nil, errf(kerr.InvalidReplicationFactor, "Replication factor: %d larger than available brokers: 1.", rf)
	}
	out := make([][]int32, n)
	for i := range out {
		out[i] = []int32{b.cfg.BrokerID}
	}
	return out, nil
}

// deleteTopic removes a topic: it stops being served at once, its logs are
// deleted, then its metadata.
func (b *Broker) deleteTopic(name string) error {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	b.mu.Lock()
	ts := b.topics[name]
	delete(b.topics, name)
	b.mu.Unlock()
	if ts == nil {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	for _, p := range ts.parts {
		p.notify()
		if err := b.dir.Delete(logfile.TopicPartition{Topic: name, Partition: p.Index}); err != nil {
			b.log.Error("delete partition", "topic", name, "partition", p.Index, "err", err)
		}
	}
	if err := b.meta.DeleteTopic(name); err != nil && !errors.Is(err, metadata.ErrUnknownTopic) {
		return err
	}
	if b.groups != nil && name != offsetsTopic {
		b.groups.DeleteTopicOffsets(name) // as Kafka: no stale offsets for a new topic of the name
	}
	b.metrics.dropTopic(name)
	b.log.Info("topic deleted", "topic", name)
	return nil
}

// addPartitions grows a topic to count partitions.
func (b *Broker) addPartitions(name string, count int32, assignment [][]int32, validateOnly bool) error {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	ts := b.topic(name)
	if ts == nil {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	cur := int32(len(ts.parts))
	if count < cur {
		return errf(kerr.InvalidPartitions, "Topic currently has %d partitions, which is higher than the requested %d.", cur, count)
	}
	if count == cur {
		return errf(kerr.InvalidPartitions, "Topic already has %d partitions.", cur)
	}
	if count > 100000 {
		return errf(kerr.InvalidPartitions, "number of partitions %d is more than this broker serves (100000)", count)
	}
	add := make([][]int32, count-cur)
	if assignment != nil {
		// Kafka's order: unknown brokers, then the count, then each list.
		for _, r := range assignment {
			for _, id := range r {
				if id != b.cfg.BrokerID {
					return errf(kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: %d.", id)
				}
			}
		}
		if len(assignment) != len(add) {
			return errf(kerr.InvalidReplicaAssignment, "Increasing the number of partitions by %d but %d assignments provided.", len(add), len(assignment))
		}
		for i, r := range assignment {
			if len(r) != 1 {
				return errf(kerr.InvalidReplicaAssignment, "new partition %d: replicas %v: the only broker is %d", cur+int32(i), r, b.cfg.BrokerID)
			}
		}
	}
	for i := range add {
		add[i] = []int32{b.cfg.BrokerID}
	}
	if validateOnly {
		return nil
	}
	if err := b.meta.AddPartitions(name, add); err != nil {
		return err
	}
	t, _ := b.meta.Topic(name)
	next := &topicState{meta: t, cfg: ts.cfg, parts: append([]*Partition(nil), ts.parts...), m: ts.m}
	for i := cur; i < count; i++ {
		p, err := b.openPartition(t, i, ts.cfg)
		if err != nil {
			return errf(kerr.KafkaStorageError, "%v", err)
		}
		next.parts = append(next.parts, p)
	}
	b.mu.Lock()
	b.topics[name] = next
	b.mu.Unlock()
	b.log.Info("partitions added", "topic", name, "from", cur, "to", count)
	return nil
}

// setTopicConfigs replaces a topic's config overrides and applies them to
// its logs.
func (b *Broker) setTopicConfigs(name string, configs map[string]string, validateOnly bool) error {
	return b.updateTopicConfigs(name, func(map[string]string) (map[string]string, error) { return configs, nil }, validateOnly)
}

// updateTopicConfigs replaces a topic's config overrides with what edit
// makes of a copy of the current ones (nil if none), under the admin lock so
// that concurrent changes do not lose each other's updates.
func (b *Broker) updateTopicConfigs(name string, edit func(cur map[string]string) (map[string]string, error), validateOnly bool) error {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	ts := b.topic(name)
	if ts == nil {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	configs, err := edit(maps.Clone(ts.meta.Configs))
	if err != nil {
		return err
	}
	cfg, err := b.cfg.TopicDefaults.With(configs)
	if err != nil {
		return errf(kerr.InvalidConfig, "%v", err)
	}
	if validateOnly {
		return nil
	}
	if err := b.meta.SetTopicConfigs(name, configs); err != nil {
		return err
	}
	for _, p := range ts.parts {
		if err := p.Log.SetConfig(cfg.LogConfig()); err != nil {
			return errf(kerr.InvalidConfig, "%v", err)
		}
	}
	t, _ := b.meta.Topic(name)
	b.mu.Lock()
	b.topics[name] = &topicState{meta: t, cfg: cfg, parts: ts.parts, m: ts.m}
	b.mu.Unlock()
	b.log.Info("topic config changed", "topic", name, "configs", configs)
	return nil
}
