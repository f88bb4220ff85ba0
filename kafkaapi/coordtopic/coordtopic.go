package coordtopic

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/admin"
	"samsa/config"
	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/internal/apierr"
	"samsa/metadata"
	"samsa/replica"
)

// The coordinators' internal topics.
const (
	Offsets = "__consumer_offsets"
	Txn     = txn.Topic
)

// Topics gives the coordinators their internal topics' partitions.
type Topics struct {
	Config  *config.Config
	Cache   *metadata.Cache
	RM      *replica.Manager
	Admin   *admin.Manager
	Groups  *group.Coordinator
	Txns    *txn.Coordinator
	Cluster bool // ZooKeeper mode: topics are created by the controller
}

// offsetsLog is one partition of __consumer_offsets as the group
// coordinator writes and replays it.
type offsetsLog struct {
	rm *replica.Manager
	p  *replica.Partition
}

func (o offsetsLog) Append(batch []byte) error {
	return o.rm.AppendInternal(context.Background(), o.p, batch)
}

func (o offsetsLog) AppendTxn(batch []byte, guard uint64) error {
	return o.rm.AppendInternalTxn(context.Background(), o.p, batch, guard)
}

func (o offsetsLog) Replay(fn func(batches []byte) error) error {
	return o.p.Log.ReadChunks(1<<20, fn)
}

// txnLog is one partition of __transaction_state as the transaction
// coordinator writes and replays it, at the leader epoch it loaded it at
// (invariant 2).
type txnLog struct {
	rm     *replica.Manager
	p      *replica.Partition
	epoch  int32
	buffer int // transaction.state.log.load.buffer.size
}

func (l txnLog) Append(batch []byte) error {
	st := l.p.State()
	if !st.IsLeader || st.LeaderEpoch != l.epoch {
		return apierr.Errorf(kerr.NotLeaderForPartition, "the leadership of %s-%d at epoch %d is over", Txn, l.p.Index, l.epoch)
	}
	minISR := 0
	if ts := l.rm.Topic(Txn); ts != nil && l.rm.Replicated() {
		minISR = int(ts.Config.MinInSyncReplicas)
	}
	if len(st.ISR) < minISR {
		return apierr.Errorf(kerr.NotEnoughReplicas, "%s-%d has %d in-sync replicas, min.insync.replicas is %d", Txn, l.p.Index, len(st.ISR), minISR)
	}
	return l.rm.AppendInternalMinISR(context.Background(), l.p, batch, minISR)
}

func (l txnLog) Replay(fn func(batches []byte) error) error {
	return l.p.Log.ReadChunks(int64(max(l.buffer, 1<<16)), fn)
}

// Load hands the coordinators the partitions of their topics this broker
// leads (at start); they replay them in the background.
func (t *Topics) Load() {
	for _, name := range []string{Offsets, Txn} {
		if ts := t.RM.Topic(name); ts != nil {
			t.load(name, ts)
		}
	}
}

func (t *Topics) load(name string, ts *replica.Topic) {
	for i, p := range ts.Parts {
		if p == nil {
			continue
		}
		if st := p.State(); st.IsLeader {
			t.LeadershipChanged(name, int32(i), true, st.LeaderEpoch)
		}
	}
}

// LeadershipChanged follows a partition this broker comes to lead, at
// leader epoch epoch (its coordinator loads it; requests for its groups or
// transactional ids get COORDINATOR_LOAD_IN_PROGRESS meanwhile), or stops
// leading (they are dropped: NOT_COORDINATOR). Other topics are ignored.
func (t *Topics) LeadershipChanged(topic string, partition int32, leader bool, epoch int32) {
	switch {
	case topic == Offsets && partition < t.Groups.Partitions():
		if !leader {
			t.Groups.Unload(partition)
		} else if p := t.RM.Partition(topic, partition); p != nil {
			t.Groups.Load(partition, offsetsLog{t.RM, p})
		}
	case topic == Txn && partition < t.Txns.Partitions():
		if !leader {
			t.Txns.Unload(partition)
		} else if p := t.RM.Partition(topic, partition); p != nil {
			t.Txns.Load(partition, epoch, txnLog{rm: t.RM, p: p, epoch: epoch, buffer: t.Config.Txn.LoadBufferSize})
		}
	}
}

// Ensure makes sure the internal topic of a coordinator key type (0
// groups, 1 transactions) exists, creating it the first time, and returns
// it with the partition of key. Standalone, the coordinator then owns
// every partition of it; in cluster mode the first call asks the
// controller for the topic and is COORDINATOR_NOT_AVAILABLE, as Kafka
// answers until the topic's leaders are known.
func (t *Topics) Ensure(keyType int8, key string) (topic string, partition int32, err error) {
	var spec func() (admin.TopicSpec, error)
	switch keyType {
	case 0:
		topic, partition, spec = Offsets, t.Groups.PartitionFor(key), t.offsetsSpec
	case 1:
		topic, partition, spec = Txn, t.Txns.PartitionFor(key), t.txnSpec
	default:
		return "", 0, apierr.Errorf(kerr.InvalidRequest, "unknown coordinator type %d", keyType)
	}
	if t.Cluster {
		if t.Admin.TopicExists(topic) {
			return topic, partition, nil
		}
		err = t.create(topic, spec)
		if err == nil {
			err = apierr.Errorf(kerr.CoordinatorNotAvailable, "%s is being created", topic)
		}
		return topic, partition, err
	}
	ts := t.RM.Topic(topic)
	if ts == nil {
		if err := t.create(topic, spec); err != nil {
			return topic, partition, err
		}
		if ts = t.RM.Topic(topic); ts == nil {
			return topic, partition, apierr.Errorf(kerr.CoordinatorNotAvailable, "%s is being created", topic)
		}
	}
	t.load(topic, ts)
	return topic, partition, nil
}

func (t *Topics) create(topic string, spec func() (admin.TopicSpec, error)) error {
	s, err := spec()
	if err != nil {
		return err
	}
	if _, err := t.Admin.CreateTopic(s, false); err != nil && apierr.Code(err) != kerr.TopicAlreadyExists.Code {
		return err
	}
	return nil
}

// offsetsSpec is __consumer_offsets as Kafka creates it:
// offsets.topic.num.partitions partitions, compacted,
// offsets.topic.segment.bytes segments, offsets.topic.replication.factor
// replicas (invariant 3).
func (t *Topics) offsetsSpec() (admin.TopicSpec, error) {
	rf, ok := t.Config.OffsetsTopicReplication(len(t.Cache.Load().Brokers))
	if !ok {
		return admin.TopicSpec{}, apierr.Errorf(kerr.CoordinatorNotAvailable, "%s needs %d live brokers (offsets.topic.replication.factor)", Offsets, rf)
	}
	return admin.TopicSpec{
		Name: Offsets, Partitions: t.Groups.Partitions(), Replication: rf,
		Configs: map[string]string{
			config.KeyCleanupPolicy:   "compact",
			config.KeySegmentBytes:    strconv.FormatInt(t.Config.Groups.OffsetsTopicSegmentBytes, 10),
			config.KeyCompressionType: "producer",
			// Kafka keeps the 10 MiB default; 1 MiB indexes a 100 MiB
			// segment many times over and reserves far less disk for 50
			// partitions.
			config.KeySegmentIndexBytes: "1048576",
		},
	}, nil
}

// txnSpec is __transaction_state as Kafka creates it
// (TransactionStateManager.transactionTopicConfigs): compacted,
// uncompressed, no unclean leader election, transaction.state.log.*
// partitions, replication factor, min ISR and segments (invariant 3).
func (t *Topics) txnSpec() (admin.TopicSpec, error) {
	rf, minISR, ok := t.Config.TransactionStateLogReplication(len(t.Cache.Load().Brokers))
	if !ok {
		return admin.TopicSpec{}, apierr.Errorf(kerr.CoordinatorNotAvailable, "%s needs %d live brokers (transaction.state.log.replication.factor)", Txn, rf)
	}
	return admin.TopicSpec{
		Name: Txn, Partitions: t.Txns.Partitions(), Replication: rf,
		Configs: map[string]string{
			config.KeyCleanupPolicy:               "compact",
			config.KeyCompressionType:             "uncompressed",
			config.KeyMinInSyncReplicas:           strconv.Itoa(int(minISR)),
			config.KeySegmentBytes:                strconv.FormatInt(t.Config.Txn.SegmentBytes, 10),
			config.KeyUncleanLeaderElectionEnable: "false",
			config.KeySegmentIndexBytes:           "1048576", // as for __consumer_offsets
		},
	}, nil
}
