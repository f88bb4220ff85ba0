package controller

import (
	"cmp"
	"slices"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// tpKey names a partition in the controller's maps.
type tpKey struct {
	topic string
	part  int32
}

func (k tpKey) zk() zkdata.TopicPartition {
	return zkdata.TopicPartition{Topic: k.topic, Partition: k.part}
}

func keyOf(tp zkdata.TopicPartition) tpKey { return tpKey{tp.Topic, tp.Partition} }

func cmpKey(a, b tpKey) int {
	if c := cmp.Compare(a.topic, b.topic); c != 0 {
		return c
	}
	return cmp.Compare(a.part, b.part)
}

// partCtx is a partition as the controller knows it (Kafka's
// ControllerContext): its assignment and its state znode.
type partCtx struct {
	replicas         []int32
	adding, removing []int32
	// state is nil while the partition is New (no state znode).
	state *zkdata.LeaderAndISR
}

type topicCtx struct {
	name  string
	id    zkdata.Uuid
	parts map[int32]*partCtx
	// unclean is the topic's unclean.leader.election.enable, nil if unset.
	unclean *bool
}

// clusterState is what the active controller knows, owned by its loop.
type clusterState struct {
	brokers      map[int32]kafkazk.RegisteredBroker
	shuttingDown map[int32]bool
	topics       map[string]*topicCtx
	// deleting holds the topics being deleted, with the brokers that have
	// not yet acknowledged StopReplica of all its partitions.
	deleting     map[string]bool
	pendingStops map[string]map[int32]bool
}

func newClusterState() *clusterState {
	return &clusterState{
		brokers:      map[int32]kafkazk.RegisteredBroker{},
		shuttingDown: map[int32]bool{},
		topics:       map[string]*topicCtx{},
		deleting:     map[string]bool{},
		pendingStops: map[string]map[int32]bool{},
	}
}

func (s *clusterState) alive(id int32) bool {
	_, ok := s.brokers[id]
	return ok
}

func (s *clusterState) liveIDs() []int32 {
	out := make([]int32, 0, len(s.brokers))
	for id := range s.brokers {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (s *clusterState) putTopic(a zkdata.TopicAssignment) *topicCtx {
	tc := &topicCtx{name: a.Topic, id: a.TopicID, parts: map[int32]*partCtx{}}
	for p, pa := range a.Partitions {
		tc.parts[p] = &partCtx{replicas: pa.Replicas, adding: pa.AddingReplicas, removing: pa.RemovingReplicas}
	}
	s.topics[a.Topic] = tc
	return tc
}

func (s *clusterState) part(k tpKey) *partCtx {
	if tc := s.topics[k.topic]; tc != nil {
		return tc.parts[k.part]
	}
	return nil
}

func (s *clusterState) deletingTopic(t string) bool { return s.deleting[t] }

func (s *clusterState) topicPartitions(t string) []tpKey {
	tc := s.topics[t]
	if tc == nil {
		return nil
	}
	out := make([]tpKey, 0, len(tc.parts))
	for p := range tc.parts {
		out = append(out, tpKey{t, p})
	}
	slices.SortFunc(out, cmpKey)
	return out
}

// allPartitions lists every partition, sorted.
func (s *clusterState) allPartitions() []tpKey {
	var out []tpKey
	for t := range s.topics {
		out = append(out, s.topicPartitions(t)...)
	}
	slices.SortFunc(out, cmpKey)
	return out
}
