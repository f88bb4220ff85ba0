package zkstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"samsa/metadata"
	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// Store is metadata.Store in ZooKeeper.
type Store struct {
	zk        *kafkazk.Client
	brokerID  int32
	clusterID string
	timeout   time.Duration
}

// New returns the store of broker brokerID in the cluster clusterID.
func New(zk *kafkazk.Client, brokerID int32, clusterID string, timeout time.Duration) *Store {
	return &Store{zk: zk, brokerID: brokerID, clusterID: clusterID, timeout: timeout}
}

var _ metadata.Store = (*Store)(nil)

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// ClusterID is /cluster/id's.
func (s *Store) ClusterID() string { return s.clusterID }

// Topics reads every topic.
func (s *Store) Topics() []metadata.Topic {
	ctx, cancel := s.ctx()
	defer cancel()
	names, err := s.zk.Topics(ctx)
	if err != nil {
		return nil
	}
	var out []metadata.Topic
	for _, n := range names {
		if t, ok := s.topic(ctx, n); ok {
			out = append(out, t)
		}
	}
	return out
}

// Topic reads a topic's assignment and config overrides.
func (s *Store) Topic(name string) (metadata.Topic, bool) {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.topic(ctx, name)
}

func (s *Store) topic(ctx context.Context, name string) (metadata.Topic, bool) {
	a, err := s.zk.TopicAssignment(ctx, name)
	if err != nil {
		return metadata.Topic{}, false
	}
	cfg, err := s.zk.TopicConfig(ctx, name)
	if err != nil && !errors.Is(err, kafkazk.ErrNotFound) {
		return metadata.Topic{}, false
	}
	return fromAssignment(a, cfg), true
}

func fromAssignment(a zkdata.TopicAssignment, cfg map[string]string) metadata.Topic {
	t := metadata.Topic{Name: a.Topic, ID: metadata.TopicID(a.TopicID), Configs: cfg, Internal: metadata.IsInternal(a.Topic)}
	ps := make([]int32, 0, len(a.Partitions))
	for p := range a.Partitions {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	for _, p := range ps {
		t.Replicas = append(t.Replicas, a.Partitions[p].Replicas)
	}
	if t.Configs == nil {
		t.Configs = map[string]string{}
	}
	return t
}

// CreateTopic writes the topic's config, then its assignment.
func (s *Store) CreateTopic(t metadata.Topic) error {
	ctx, cancel := s.ctx()
	defer cancel()
	a := zkdata.TopicAssignment{Topic: t.Name, TopicID: zkdata.Uuid(t.ID), Partitions: map[int32]zkdata.PartitionAssignment{}}
	for i, r := range t.Replicas {
		a.Partitions[int32(i)] = zkdata.PartitionAssignment{Replicas: r}
	}
	_, err := s.zk.CreateTopic(ctx, a, t.Configs)
	if errors.Is(err, kafkazk.ErrExists) {
		return metadata.ErrTopicExists
	}
	return err
}

// DeleteTopic marks the topic for deletion; the controller deletes it.
func (s *Store) DeleteTopic(name string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.zk.MarkTopicForDeletion(ctx, name)
}

// AddPartitions appends partitions to the topic's assignment.
func (s *Store) AddPartitions(name string, replicas [][]int32) error {
	ctx, cancel := s.ctx()
	defer cancel()
	a, err := s.zk.TopicAssignment(ctx, name)
	if err != nil {
		if errors.Is(err, kafkazk.ErrNotFound) {
			return metadata.ErrUnknownTopic
		}
		return err
	}
	add := map[int32][]int32{}
	for i, r := range replicas {
		add[int32(len(a.Partitions)+i)] = r
	}
	return s.zk.AddPartitions(ctx, name, add)
}

// SetTopicConfigs writes the overrides and announces the change.
func (s *Store) SetTopicConfigs(name string, configs map[string]string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	err := s.zk.SetTopicConfig(ctx, name, configs)
	if errors.Is(err, kafkazk.ErrNotFound) {
		return metadata.ErrUnknownTopic
	}
	return err
}

// NextProducerIDBlock reserves a cluster-wide block of producer IDs.
func (s *Store) NextProducerIDBlock(size int64) (int64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	b, err := s.zk.NextProducerIDBlock(ctx, s.brokerID, int32(size))
	if err != nil {
		return -1, err
	}
	if b.Size() != size {
		return -1, fmt.Errorf("zkstore: producer id block of %d, asked %d", b.Size(), size)
	}
	return b.FirstID, nil
}

// BrokerConfigs reads /config/brokers/<id>.
func (s *Store) BrokerConfigs(id int32) (map[string]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.zk.BrokerConfig(ctx, id)
}

// SetBrokerConfigs writes /config/brokers/<id> and announces the change.
func (s *Store) SetBrokerConfigs(id int32, configs map[string]string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.zk.SetBrokerConfig(ctx, id, configs)
}

// Close does nothing: the server closes the ZooKeeper client.
func (s *Store) Close() error { return nil }
