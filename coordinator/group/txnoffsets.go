package group

// Offsets committed in transactions (KIP-98, KIP-447; Kafka's
// GroupCoordinator.handleTxnCommitOffsets, GroupMetadata's
// pendingTransactionalOffsetCommits): written to __consumer_offsets in a
// transactional batch of the producer, pending until the transaction's
// marker reaches the partition (CompleteTxn), then committed or dropped.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// TxnOffsetCommit serves TxnOffsetCommit (v0-v4): a transactional
// producer commits a group's offsets in its transaction (after
// AddOffsetsToTxn added the group's partition to it). They are in the log,
// in a transactional batch of the producer, before the answer, and stay
// pending, not visible to OffsetFetch, until CompleteTxn. The group is
// created if unknown; a member id, instance id or generation (v3+, KIP-447)
// is checked as OffsetCommit checks them; without them any producer may
// commit, members or not. Partitions the cluster does not have are
// UNKNOWN_TOPIC_OR_PARTITION, metadata over offset.metadata.max.bytes
// OFFSET_METADATA_TOO_LARGE; an empty group id is INVALID_GROUP_ID. The
// producer's epoch is checked by the producer state of the partition of
// __consumer_offsets (the partition side of transactions).
func (c *Coordinator) TxnOffsetCommit(req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	resp.SetVersion(req.Version)
	codes := make([][]*kerr.Error, len(req.Topics))
	for i, t := range req.Topics {
		codes[i] = make([]*kerr.Error, len(t.Partitions))
		for j, p := range t.Partitions {
			switch {
			case !c.cfg.PartitionExists(t.Topic, p.Partition):
				codes[i][j] = kerr.UnknownTopicOrPartition
			case p.Metadata != nil && len(*p.Metadata) > c.cfg.MaxMetadataSize:
				codes[i][j] = kerr.OffsetMetadataTooLarge
			}
		}
	}
	if e := c.txnCommit(req, codes); e != nil {
		for i := range codes {
			for j := range codes[i] {
				if codes[i][j] == nil {
					codes[i][j] = e
				}
			}
		}
	}
	for i, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code(codes[i][j])
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) txnCommit(req *kmsg.TxnOffsetCommitRequest, codes [][]*kerr.Error) *kerr.Error {
	if req.Group == "" {
		return kerr.InvalidGroupID
	}
	p, perr := c.partitionOf(req.Group)
	if perr != nil {
		return perr
	}
	g := p.getOrCreate(req.Group)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if e := g.validateMember(req.MemberID, req.InstanceID); e != nil {
			return e
		}
		if req.Generation != g.generation {
			return kerr.IllegalGeneration
		}
	}
	now := c.now().UnixMilli()
	b := record.NewBuilder(now)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = req.ProducerID, req.ProducerEpoch, 0
	todo := map[topicPartition]offset{}
	for i, t := range req.Topics {
		for j, rp := range t.Partitions {
			if codes[i][j] != nil {
				continue
			}
			o := offset{offset: rp.Offset, leaderEpoch: -1, commitMs: now, expireMs: -1}
			if req.Version >= 2 {
				o.leaderEpoch = rp.LeaderEpoch
			}
			if rp.Metadata != nil {
				o.metadata = *rp.Metadata
			}
			tp := topicPartition{t.Topic, rp.Partition}
			b.Add(now, offsetKey(g.name, tp.topic, tp.partition), offsetValue(o))
			todo[tp] = o
		}
	}
	if len(todo) == 0 {
		return nil
	}
	batch, _ := b.AppendTo(nil) // uncompressed: no error
	if err := p.log.Append(batch); err != nil {
		g.c.log.Warn("writing transactional offsets failed", "group", g.name, "producer.id", req.ProducerID, "err", err)
		return storeError(err)
	}
	pending := g.pendingTxn[req.ProducerID]
	if pending == nil {
		pending = map[topicPartition]offset{}
		g.pendingTxn[req.ProducerID] = pending
	}
	maps.Copy(pending, todo)
	return nil
}

// CompleteTxn applies the marker of producerID's transaction written to
// partition p of __consumer_offsets (Kafka's handleTxnCompletion): the
// offsets the producer committed in it become the groups' committed
// offsets, or, aborted, are dropped. The marker is in the log: replaying
// it does the same.
func (c *Coordinator) CompleteTxn(p int32, producerID int64, commit bool) {
	c.mu.RLock()
	part := c.parts[p]
	c.mu.RUnlock()
	if part == nil {
		return
	}
	for _, g := range part.groupsSnapshot() {
		g.mu.Lock()
		g.completeTxn(producerID, commit)
		g.mu.Unlock()
	}
}

func (g *group) completeTxn(producerID int64, commit bool) {
	pending := g.pendingTxn[producerID]
	if pending == nil {
		return
	}
	delete(g.pendingTxn, producerID)
	if commit {
		maps.Copy(g.offsets, pending)
	}
}

// HasPendingTxn reports whether a group has transactional offsets not yet
// committed or aborted for a partition (OffsetFetch's require_stable:
// UNSTABLE_OFFSET_COMMIT, KIP-447).
func (c *Coordinator) HasPendingTxn(group, topic string, partition int32) bool {
	p, perr := c.partitionOf(group)
	if perr != nil {
		return false
	}
	g := p.get(group)
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, pending := range g.pendingTxn {
		if _, ok := pending[topicPartition{topic, partition}]; ok {
			return true
		}
	}
	return false
}

// txnReplay follows transactional offsets while a partition replays: by
// producer id, the groups holding its pending offsets, until a marker.
type txnReplay map[int64]map[*group]bool

// offset replays a record of a transactional batch: a pending offset.
func (tr txnReplay) offset(pid int64, key, value []byte, get func(string) *group) error {
	if len(key) < 2 || binary.BigEndian.Uint16(key) > 1 {
		return errors.New("a transactional record that is not an offset commit")
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("offset commit key: %w", err)
	}
	g := get(k.Group)
	pending := g.pendingTxn[pid]
	if pending == nil {
		pending = map[topicPartition]offset{}
		g.pendingTxn[pid] = pending
	}
	tp := topicPartition{k.Topic, k.Partition}
	if value == nil {
		delete(pending, tp)
		return nil
	}
	var val kmsg.OffsetCommitValue
	if err := val.ReadFrom(value); err != nil {
		return fmt.Errorf("offset commit value: %w", err)
	}
	o := offset{offset: val.Offset, leaderEpoch: -1, metadata: val.Metadata, commitMs: val.CommitTimestamp, expireMs: -1}
	if val.Version >= 3 {
		o.leaderEpoch = val.LeaderEpoch
	}
	pending[tp] = o
	if tr[pid] == nil {
		tr[pid] = map[*group]bool{}
	}
	tr[pid][g] = true
	return nil
}

// marker replays a control record: Kafka's EndTransactionMarker key is
// int16 version 0, int16 type (0 abort, 1 commit).
func (tr txnReplay) marker(pid int64, key []byte) error {
	if len(key) < 4 || binary.BigEndian.Uint16(key) != 0 {
		return errors.New("unreadable control record key")
	}
	typ := binary.BigEndian.Uint16(key[2:])
	if typ > 1 {
		return nil // not a transaction marker
	}
	for g := range tr[pid] {
		g.completeTxn(pid, typ == 1)
	}
	delete(tr, pid)
	return nil
}
