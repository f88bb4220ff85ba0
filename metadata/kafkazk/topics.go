package kafkazk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// checkAssignment holds an assignment to what Kafka's AdminZkClient accepts:
// partitions 0..n-1, each with replicas, none twice.
func checkAssignment(a zkdata.TopicAssignment) error {
	if err := validTopic(a.Topic); err != nil {
		return err
	}
	if len(a.Partitions) == 0 {
		return fmt.Errorf("kafkazk: topic %s: no partitions", a.Topic)
	}
	for p := int32(0); p < int32(len(a.Partitions)); p++ {
		pa, ok := a.Partitions[p]
		if !ok {
			return fmt.Errorf("kafkazk: topic %s: partitions are not numbered 0..%d", a.Topic, len(a.Partitions)-1)
		}
		if err := checkReplicas(pa.Replicas); err != nil {
			return fmt.Errorf("kafkazk: topic %s partition %d: %v", a.Topic, p, err)
		}
	}
	return nil
}

func checkReplicas(r []int32) error {
	if len(r) == 0 {
		return errors.New("no replicas")
	}
	for i, b := range r {
		if b < 0 {
			return fmt.Errorf("replica %d is not a broker id", b)
		}
		if slices.Contains(r[:i], b) {
			return fmt.Errorf("replica %d listed twice", b)
		}
	}
	return nil
}

// CreateTopic creates a topic as Kafka's AdminZkClient does: first its
// config overrides (/config/topics/<t>, so that whoever sees the topic finds
// its config), then /brokers/topics/<t> with the assignment. A zero TopicID
// is replaced by a random one; the assignment written is returned.
// ErrExists if the topic exists.
func (c *Client) CreateTopic(ctx context.Context, a zkdata.TopicAssignment, config map[string]string) (zkdata.TopicAssignment, error) {
	if err := checkAssignment(a); err != nil {
		return a, err
	}
	if a.TopicID.IsZero() {
		a.TopicID = zkdata.RandomUuid()
	}
	path := zkdata.TopicPath(a.Topic)
	if ok, err := c.exists(ctx, path); err != nil {
		return a, err
	} else if ok {
		return a, pathErr(path, ErrExists)
	}
	if err := c.setOrCreate(ctx, zkdata.TopicConfigPath(a.Topic), zkdata.EncodeConfig(config)); err != nil {
		return a, err
	}
	if err := c.create(ctx, path, zkdata.EncodeTopic(a)); err != nil {
		return a, err
	}
	return a, nil
}

// Topics lists the topics, sorted.
func (c *Client) Topics(ctx context.Context) ([]string, error) {
	kids, err := c.children(ctx, zkdata.TopicsPath)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	sort.Strings(kids)
	return kids, err
}

// TopicAssignment reads /brokers/topics/<topic>. ErrNotFound if there is no
// such topic.
func (c *Client) TopicAssignment(ctx context.Context, topic string) (zkdata.TopicAssignment, error) {
	a, _, err := c.topicAssignment(ctx, topic)
	return a, err
}

func (c *Client) topicAssignment(ctx context.Context, topic string) (zkdata.TopicAssignment, Stat, error) {
	if err := validTopic(topic); err != nil {
		return zkdata.TopicAssignment{}, Stat{}, err
	}
	path := zkdata.TopicPath(topic)
	data, st, err := c.get(ctx, path)
	if err != nil {
		return zkdata.TopicAssignment{}, Stat{}, err
	}
	a, err := zkdata.DecodeTopic(topic, data)
	if err != nil {
		return zkdata.TopicAssignment{}, Stat{}, corrupt(path, data, err)
	}
	return a, st, nil
}

// AddPartitions adds partitions to a topic (CreatePartitions), as Kafka's
// AdminZkClient does: it rewrites /brokers/topics/<t>, and the controller,
// watching it, creates the new partitions' states. add must number the new
// partitions on from the existing ones. The write is conditional on the
// znode version read, so concurrent changes are not lost (it re-reads and
// tries again).
func (c *Client) AddPartitions(ctx context.Context, topic string, add map[int32][]int32) error {
	for attempt := 0; ; attempt++ {
		a, st, err := c.topicAssignment(ctx, topic)
		if err != nil {
			return err
		}
		n := int32(len(a.Partitions))
		for p, r := range add {
			if p < n || p >= n+int32(len(add)) {
				return fmt.Errorf("kafkazk: topic %s has %d partitions: new partitions are %d..%d, not %d", topic, n, n, n+int32(len(add))-1, p)
			}
			if err := checkReplicas(r); err != nil {
				return fmt.Errorf("kafkazk: topic %s partition %d: %v", topic, p, err)
			}
		}
		merged := a
		merged.Partitions = maps.Clone(a.Partitions)
		for p, r := range add {
			merged.Partitions[p] = zkdata.PartitionAssignment{Replicas: r}
		}
		data := zkdata.EncodeTopic(merged)
		err = c.retry(ctx, func(lost bool) error {
			if lost {
				d, s, err := c.conn.Get(c.abs(zkdata.TopicPath(topic)))
				if err == nil && bytes.Equal(d, data) && s.Version == st.Version+1 {
					return nil
				}
			}
			_, err := c.conn.Set(c.abs(zkdata.TopicPath(topic)), data, st.Version)
			return err
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrBadVersion) && attempt < 10:
			continue // changed under us: read again
		case errors.Is(err, zk.ErrNoNode):
			return pathErr(zkdata.TopicPath(topic), ErrNotFound)
		}
		return fmt.Errorf("kafkazk: add partitions to %s: %w", topic, err)
	}
}

// SetTopicAssignment rewrites /brokers/topics/<t> behind the controller
// epoch check: the controller's write during a reassignment (adding and
// removing replicas) or when it gives a legacy topic an ID.
func (c *Client) SetTopicAssignment(ctx context.Context, token ControllerEpoch, a zkdata.TopicAssignment) error {
	if err := validTopic(a.Topic); err != nil {
		return err
	}
	_, err := c.fencedOne(ctx, token, op{kind: opSet, path: zkdata.TopicPath(a.Topic), data: zkdata.EncodeTopic(a), version: -1})
	return err
}

// PartitionResult is one partition's outcome of a state write: the state as
// written (with its new PartitionEpoch), or Err: ErrBadVersion (the
// partition epoch moved: re-read and decide again), ErrNotFound (the topic or
// the state is gone), ErrExists (creating a state that exists), or
// ErrControllerMoved.
type PartitionResult struct {
	State zkdata.LeaderAndISR
	Err   error
}

// CreatePartitionStates creates the state znodes of new partitions (and the
// partitions/<p> znodes above them) behind the controller epoch check, many
// per multi. Each state's ControllerEpoch is set to token.Epoch; its
// PartitionEpoch comes back 0. The error is ErrControllerMoved (resign) or a
// failure of ZooKeeper; per-partition outcomes are in the map.
func (c *Client) CreatePartitionStates(ctx context.Context, token ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]PartitionResult, error) {
	tps := sortedTPs(states)
	out := make(map[zkdata.TopicPartition]PartitionResult, len(tps))
	// The parents: /brokers/topics/<t>/partitions and .../<p>, where missing.
	var parents []op
	byTopic := map[string][]zkdata.TopicPartition{}
	for _, tp := range tps {
		byTopic[tp.Topic] = append(byTopic[tp.Topic], tp)
	}
	for _, topic := range slices.Sorted(maps.Keys(byTopic)) {
		if err := validTopic(topic); err != nil {
			return nil, err
		}
		have, err := c.children(ctx, zkdata.PartitionsPath(topic))
		if errors.Is(err, ErrNotFound) {
			parents = append(parents, op{kind: opCreate, path: zkdata.PartitionsPath(topic)})
		} else if err != nil {
			return nil, err
		}
		for _, tp := range byTopic[topic] {
			if !slices.Contains(have, fmt.Sprint(tp.Partition)) {
				parents = append(parents, op{kind: opCreate, path: zkdata.PartitionPath(tp)})
			}
		}
	}
	if len(parents) > 0 {
		res, err := c.fenced(ctx, token, parents)
		if err != nil {
			return nil, err
		}
		for i, r := range res {
			if r.err != nil && !errors.Is(r.err, ErrExists) && !errors.Is(r.err, ErrNotFound) {
				return nil, fmt.Errorf("kafkazk: create %s: %w", parents[i].path, r.err)
			}
		}
	}
	ops := make([]op, len(tps))
	for i, tp := range tps {
		s := states[tp]
		s.ControllerEpoch = token.Epoch
		ops[i] = op{kind: opCreate, path: zkdata.PartitionStatePath(tp), data: zkdata.EncodeState(s)}
	}
	res, err := c.fenced(ctx, token, ops)
	for i, tp := range tps {
		if res == nil {
			break
		}
		s := states[tp]
		s.ControllerEpoch, s.PartitionEpoch = token.Epoch, 0
		out[tp] = PartitionResult{State: s, Err: res[i].err}
	}
	return out, err
}

// UpdatePartitionStates writes new partition states behind the controller
// epoch check, each on condition that its znode is still at the state's
// PartitionEpoch (as Kafka's updateLeaderAndIsr), many per multi. Each
// state's ControllerEpoch is set to token.Epoch; a written state comes back
// with its new PartitionEpoch. A partition whose epoch moved gets
// ErrBadVersion: re-read it and decide again.
func (c *Client) UpdatePartitionStates(ctx context.Context, token ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]PartitionResult, error) {
	tps := sortedTPs(states)
	ops := make([]op, len(tps))
	for i, tp := range tps {
		if err := validTopic(tp.Topic); err != nil {
			return nil, err
		}
		s := states[tp]
		s.ControllerEpoch = token.Epoch
		ops[i] = op{kind: opSet, path: zkdata.PartitionStatePath(tp), data: zkdata.EncodeState(s), version: s.PartitionEpoch}
	}
	res, err := c.fenced(ctx, token, ops)
	out := make(map[zkdata.TopicPartition]PartitionResult, len(tps))
	for i, tp := range tps {
		if res == nil {
			break
		}
		s := states[tp]
		s.ControllerEpoch = token.Epoch
		r := PartitionResult{State: s, Err: res[i].err}
		if r.Err == nil {
			r.State.PartitionEpoch = res[i].stat.Version
		}
		out[tp] = r
	}
	return out, err
}

// PartitionStates reads the states of the given partitions; partitions
// without a state znode are left out, and so are those whose state cannot
// be read, with the error (ErrCorrupt, naming each) beside the others.
func (c *Client) PartitionStates(ctx context.Context, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]zkdata.LeaderAndISR, error) {
	out := make(map[zkdata.TopicPartition]zkdata.LeaderAndISR, len(tps))
	var bad []error
	for _, tp := range tps {
		if err := validTopic(tp.Topic); err != nil {
			return nil, err
		}
		path := zkdata.PartitionStatePath(tp)
		data, st, err := c.get(ctx, path)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s, err := zkdata.DecodeState(data, st.Version)
		if err != nil {
			bad = append(bad, corrupt(path, data, err))
			continue
		}
		out[tp] = s
	}
	return out, errors.Join(bad...)
}

func sortedTPs[V any](m map[zkdata.TopicPartition]V) []zkdata.TopicPartition {
	tps := slices.Collect(maps.Keys(m))
	slices.SortFunc(tps, func(a, b zkdata.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition) - int(b.Partition)
	})
	return tps
}

// validTopic reports whether a topic name is one Kafka accepts (and so one
// that is a single, harmless path element).
func validTopic(t string) error {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return fmt.Errorf("kafkazk: invalid topic name %q", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("kafkazk: invalid topic name %q", t)
		}
	}
	return nil
}
