package admin

import (
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/metadata"
	"samsa/replica"
)

// TopicSpec is a topic to create.
type TopicSpec struct {
	Name        string
	Partitions  int32     // -1: num.partitions
	Replication int16     // -1: default.replication.factor
	Assignment  [][]int32 // explicit replicas per partition, or nil
	Configs     map[string]string
}

// Manager changes topics.
type Manager struct {
	cfg     *config.Config
	log     *slog.Logger
	meta    metadata.Store
	cache   *metadata.Cache
	rm      *replica.Manager
	cluster bool // ZooKeeper mode
	// deleted is told a deleted topic's name (the group coordinator drops
	// its offsets, as Kafka does, so a new topic of the name has none).
	deleted func(topic string)

	// mu serializes topic creation, deletion and changes.
	mu sync.Mutex
}

// Deps are what a Manager works with.
type Deps struct {
	Config   *config.Config
	Logger   *slog.Logger
	Store    metadata.Store
	Cache    *metadata.Cache
	Replicas *replica.Manager
	Cluster  bool
	Deleted  func(topic string)
}

// New returns a Manager.
func New(d Deps) *Manager {
	if d.Deleted == nil {
		d.Deleted = func(string) {}
	}
	return &Manager{cfg: d.Config, log: d.Logger, meta: d.Store, cache: d.Cache, rm: d.Replicas, cluster: d.Cluster, deleted: d.Deleted}
}

func errf(code *kerr.Error, format string, args ...any) *apierr.Error {
	return apierr.Errorf(code, format, args...)
}

// CreateTopic validates spec and, unless validateOnly, creates the topic:
// metadata first (durable), then the partitions' logs.
func (h *Manager) CreateTopic(spec TopicSpec, validateOnly bool) (metadata.Topic, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := metadata.ValidTopicName(spec.Name); err != nil {
		return metadata.Topic{}, errf(kerr.InvalidTopicException, "%v", err)
	}
	if h.TopicExists(spec.Name) {
		return metadata.Topic{}, errf(kerr.TopicAlreadyExists, "Topic '%s' already exists.", spec.Name)
	}
	// Kafka refuses names that differ only in '.' versus '_' (metric names collide).
	norm := strings.ReplaceAll(spec.Name, ".", "_")
	for _, n := range h.cache.Load().TopicNames() {
		if strings.ReplaceAll(n, ".", "_") == norm {
			return metadata.Topic{}, errf(kerr.InvalidTopicException, "Topic '%s' collides with existing topics: %s", spec.Name, n)
		}
	}
	replicas, err := h.assign(spec)
	if err != nil {
		return metadata.Topic{}, err
	}
	if _, err := h.cfg.TopicDefaults.With(spec.Configs); err != nil {
		return metadata.Topic{}, errf(kerr.InvalidConfig, "%v", err)
	}
	t := metadata.Topic{Name: spec.Name, ID: metadata.NewTopicID(), Replicas: replicas, Configs: maps.Clone(spec.Configs), Internal: metadata.IsInternal(spec.Name)}
	if t.Configs == nil {
		t.Configs = map[string]string{}
	}
	if validateOnly {
		return t, nil
	}
	if err := h.meta.CreateTopic(t); err != nil {
		if errors.Is(err, metadata.ErrTopicExists) {
			return metadata.Topic{}, errf(kerr.TopicAlreadyExists, "Topic '%s' already exists.", spec.Name)
		}
		return metadata.Topic{}, err
	}
	if h.cluster {
		// The controller makes the partitions: brokers learn them with
		// LeaderAndIsr and UpdateMetadata.
		h.log.Info("topic created", "topic", t.Name, "partitions", len(t.Replicas), "id", t.ID.String())
		return t, nil
	}
	ts, err := h.rm.OpenTopic(t)
	if err != nil {
		h.log.Error("creating topic logs failed; rolling back", "topic", t.Name, "err", err)
		h.rm.DropTopic(t.Name)
		h.meta.DeleteTopic(t.Name)
		return metadata.Topic{}, errf(kerr.KafkaStorageError, "%v", err)
	}
	h.publish(ts)
	h.log.Info("topic created", "topic", t.Name, "partitions", len(t.Replicas), "id", t.ID.String())
	return t, nil
}

// assign returns the replica assignment for a new topic: this broker for
// every partition, or the explicit assignment if it is valid.
func (h *Manager) assign(spec TopicSpec) ([][]int32, error) {
	if h.cluster {
		return h.assignCluster(spec)
	}
	if spec.Assignment != nil {
		if spec.Partitions != -1 || spec.Replication != -1 {
			return nil, errf(kerr.InvalidRequest, "both a replica assignment and partitions or replication factor were given")
		}
		for i, r := range spec.Assignment {
			if len(r) == 0 || len(r) > 1 || r[0] != h.cfg.BrokerID {
				return nil, errf(kerr.InvalidReplicaAssignment, "partition %d: replicas %v: the only broker is %d", i, r, h.cfg.BrokerID)
			}
		}
		if len(spec.Assignment) == 0 {
			return nil, errf(kerr.InvalidPartitions, "empty replica assignment")
		}
		return spec.Assignment, nil
	}
	n, rf, err := h.counts(spec)
	if err != nil {
		return nil, err
	}
	if rf > 1 {
		return nil, errf(kerr.InvalidReplicationFactor, "Replication factor: %d larger than available brokers: 1.", rf)
	}
	out := make([][]int32, n)
	for i := range out {
		out[i] = []int32{h.cfg.BrokerID}
	}
	return out, nil
}

// DeleteTopic removes a topic. Standalone it stops being served at once:
// its logs are deleted, then its cache entry and its metadata. In cluster
// mode it is marked for deletion, which the controller carries out.
func (h *Manager) DeleteTopic(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.TopicExists(name) {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	if h.cluster {
		// The controller deletes it: every replica stops and deletes its
		// log, then the znodes go.
		if err := h.meta.DeleteTopic(name); err != nil {
			return err
		}
		h.log.Info("topic marked for deletion", "topic", name)
		return nil
	}
	if !h.rm.DropTopic(name) {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	h.cache.Update(func(e *metadata.Edit) { e.DeleteTopic(name) })
	if err := h.meta.DeleteTopic(name); err != nil && !errors.Is(err, metadata.ErrUnknownTopic) {
		return err
	}
	h.deleted(name)
	h.log.Info("topic deleted", "topic", name)
	return nil
}

// AddPartitions grows a topic to count partitions.
func (h *Manager) AddPartitions(name string, count int32, assignment [][]int32, validateOnly bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	info := h.cache.Load().Topic(name)
	if info == nil {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	cur := int32(len(info.Partitions))
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
	if h.cluster {
		var err error
		if add, err = h.assignNewPartitions(info, count-cur, assignment); err != nil {
			return err
		}
		if validateOnly {
			return nil
		}
		if err := h.meta.AddPartitions(name, add); err != nil {
			return err
		}
		h.log.Info("partitions added", "topic", name, "from", cur, "to", count)
		return nil
	}
	if assignment != nil {
		// Kafka's order: unknown brokers, then the count, then each list.
		for _, r := range assignment {
			for _, id := range r {
				if id != h.cfg.BrokerID {
					return errf(kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: %d.", id)
				}
			}
		}
		if len(assignment) != len(add) {
			return errf(kerr.InvalidReplicaAssignment, "Increasing the number of partitions by %d but %d assignments provided.", len(add), len(assignment))
		}
		for i, r := range assignment {
			if len(r) != 1 {
				return errf(kerr.InvalidReplicaAssignment, "new partition %d: replicas %v: the only broker is %d", cur+int32(i), r, h.cfg.BrokerID)
			}
		}
	}
	for i := range add {
		add[i] = []int32{h.cfg.BrokerID}
	}
	if validateOnly {
		return nil
	}
	if err := h.meta.AddPartitions(name, add); err != nil {
		return err
	}
	t, _ := h.meta.Topic(name)
	if err := h.rm.AddPartitions(t); err != nil {
		return errf(kerr.KafkaStorageError, "%v", err)
	}
	h.publish(h.rm.Topic(name))
	h.log.Info("partitions added", "topic", name, "from", cur, "to", count)
	return nil
}

// SetTopicConfigs replaces a topic's config overrides and applies them to
// its logs.
func (h *Manager) SetTopicConfigs(name string, configs map[string]string, validateOnly bool) error {
	return h.UpdateTopicConfigs(name, func(map[string]string) (map[string]string, error) { return configs, nil }, validateOnly)
}

// UpdateTopicConfigs replaces a topic's config overrides with what edit
// makes of a copy of the current ones (nil if none), under the admin lock so
// that concurrent changes do not lose each other's updates.
func (h *Manager) UpdateTopicConfigs(name string, edit func(cur map[string]string) (map[string]string, error), validateOnly bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	stored, ok := h.meta.Topic(name)
	if !ok || !h.TopicExists(name) {
		return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	configs, err := edit(maps.Clone(stored.Configs))
	if err != nil {
		return err
	}
	cfg, err := h.cfg.TopicDefaults.With(configs)
	if err != nil {
		return errf(kerr.InvalidConfig, "%v", err)
	}
	if validateOnly {
		return nil
	}
	if err := h.meta.SetTopicConfigs(name, configs); err != nil {
		return err
	}
	t, _ := h.meta.Topic(name)
	if h.rm.Topic(name) != nil {
		// Other brokers apply it when ZooKeeper announces the change.
		if err := h.rm.SetTopicConfig(t, cfg); err != nil {
			return errf(kerr.InvalidConfig, "%v", err)
		}
	}
	h.log.Info("topic config changed", "topic", name, "configs", configs)
	return nil
}

// publish puts a topic this broker serves into the metadata cache, as the
// standalone broker's own controller: it leads every partition, and the
// in-sync replicas are the replicas.
func (h *Manager) publish(ts *replica.Topic) {
	h.cache.Update(func(e *metadata.Edit) { e.PutTopic(TopicInfo(ts)) })
}

// TopicInfo is a hosted topic as a standalone broker's metadata cache
// shows it.
func TopicInfo(ts *replica.Topic) *metadata.TopicInfo {
	t := &metadata.TopicInfo{Name: ts.Meta.Name, ID: ts.Meta.ID, Internal: ts.Meta.Internal}
	for i, p := range ts.Parts {
		r := ts.Meta.Replicas[i]
		st := metadata.PartitionState{Leader: -1, Replicas: r, ISR: r}
		if p != nil {
			s := p.State()
			st.Leader, st.LeaderEpoch = s.Leader, s.LeaderEpoch
		}
		t.Partitions = append(t.Partitions, st)
	}
	return t
}

// TopicExists: the cluster has the topic (the metadata cache; a standalone
// broker's cache shows every topic it serves).
func (h *Manager) TopicExists(name string) bool { return h.cache.Load().Topic(name) != nil }

// assignCluster is the replica assignment of a new topic in cluster mode:
// an explicit one is checked against the registered brokers; otherwise
// Kafka's rack-aware spread over the live brokers.
func (h *Manager) assignCluster(spec TopicSpec) ([][]int32, error) {
	snap := h.cache.Load()
	if spec.Assignment != nil {
		if len(spec.Assignment) == 0 {
			return nil, errf(kerr.InvalidPartitions, "empty replica assignment")
		}
		for i, r := range spec.Assignment {
			if len(r) == 0 {
				return nil, errf(kerr.InvalidReplicaAssignment, "partition %d has no replicas", i)
			}
			for _, id := range r {
				if !snap.Alive(id) {
					return nil, errf(kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: %d.", id)
				}
			}
		}
		return spec.Assignment, nil
	}
	n, rf, err := h.counts(spec)
	if err != nil {
		return nil, err
	}
	a, err := metadata.AssignReplicas(assignBrokers(snap), n, rf, -1, -1)
	if err != nil {
		if errors.Is(err, metadata.ErrNotEnoughBrokers) {
			return nil, errf(kerr.InvalidReplicationFactor, "Replication factor: %d larger than available brokers: %d.", rf, len(snap.Brokers))
		}
		return nil, errf(kerr.InvalidReplicaAssignment, "%v", err)
	}
	return a, nil
}

func assignBrokers(snap *metadata.Snapshot) []metadata.AssignBroker {
	out := make([]metadata.AssignBroker, 0, len(snap.Brokers))
	for _, b := range snap.Brokers {
		ab := metadata.AssignBroker{ID: b.ID}
		if b.Rack != nil {
			ab.Rack = *b.Rack
		}
		out = append(out, ab)
	}
	return out
}

// assignNewPartitions places n new partitions of a topic in cluster mode:
// an explicit assignment checked against the live brokers, or the spread
// of a new topic with the topic's replication factor.
func (h *Manager) assignNewPartitions(info *metadata.TopicInfo, n int32, assignment [][]int32) ([][]int32, error) {
	snap := h.cache.Load()
	rf := int16(len(info.Partitions[0].Replicas))
	if assignment != nil {
		for _, r := range assignment {
			for _, id := range r {
				if !snap.Alive(id) {
					return nil, errf(kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: %d.", id)
				}
			}
		}
		if int32(len(assignment)) != n {
			return nil, errf(kerr.InvalidReplicaAssignment, "Increasing the number of partitions by %d but %d assignments provided.", n, len(assignment))
		}
		for i, r := range assignment {
			if len(r) != int(rf) {
				return nil, errf(kerr.InvalidReplicaAssignment, "new partition %d: %d replicas, the topic has %d", i, len(r), rf)
			}
		}
		return assignment, nil
	}
	a, err := metadata.AssignReplicas(assignBrokers(snap), n, rf, -1, -1)
	if err != nil {
		return nil, errf(kerr.InvalidReplicationFactor, "%v", err)
	}
	return a, nil
}

// counts resolves a new topic's partition count and replication factor
// (-1: the broker's num.partitions and default.replication.factor) and
// checks them as Kafka does.
func (h *Manager) counts(spec TopicSpec) (int32, int16, error) {
	n, rf := spec.Partitions, spec.Replication
	if n == -1 {
		n = h.cfg.NumPartitions
	}
	if rf == -1 {
		rf = h.cfg.DefaultReplication
	}
	if n < 1 {
		return 0, 0, errf(kerr.InvalidPartitions, "Number of partitions must be larger than 0.")
	}
	if n > 100000 {
		return 0, 0, errf(kerr.InvalidPartitions, "number of partitions %d is more than this broker serves (100000)", n)
	}
	if rf < 1 {
		return 0, 0, errf(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0.")
	}
	return n, rf, nil
}
