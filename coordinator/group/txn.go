package group

// Offsets committed in transactions (KIP-98, KIP-447; Kafka's
// GroupCoordinator.handleTxnCommitOffsets, GroupMetadata's
// pendingTransactionalOffsetCommits): written to __consumer_offsets in a
// transactional batch of the producer, pending until the transaction's
// marker reaches the partition (CompleteTxn, from the WriteTxnMarkers
// handler), then committed or dropped.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// TxnOffset is one offset a transactional producer commits.
type TxnOffset struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32   // -1: none
	Metadata    *string // nil: none
}

// TxnCommit is the group side of a TxnOffsetCommit request.
type TxnCommit struct {
	Group         string
	ProducerID    int64
	ProducerEpoch int16
	// Generation, MemberID and InstanceID name the committing member
	// (v3+, KIP-447); generation -1 without a member is not checked, as
	// Kafka does not for transactional commits.
	Generation int32
	MemberID   string
	InstanceID *string
	Offsets    []TxnOffset
}

// CommitTxnOffsets serves the group side of TxnOffsetCommit (after
// AddOffsetsToTxn added the group's partition to the transaction): the
// offsets are in the log, in a transactional batch of the producer (base
// sequence 0, as Kafka's storeOffsets), before the answer, and stay
// pending, not visible to OffsetFetch, until CompleteTxn. The group is
// created if unknown; a member id, instance id or generation is checked as
// OffsetCommit checks them. It returns an answer per offset, in order (nil:
// written): UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE, or the
// group's (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
// COORDINATOR_NOT_AVAILABLE). The producer's epoch is checked by the
// producer state of the partition of __consumer_offsets.
func (c *Coordinator) CommitTxnOffsets(tc TxnCommit) []*kerr.Error {
	codes := make([]*kerr.Error, len(tc.Offsets))
	for i, o := range tc.Offsets {
		switch {
		case !c.cfg.PartitionExists(o.Topic, o.Partition):
			codes[i] = kerr.UnknownTopicOrPartition
		case o.Metadata != nil && len(*o.Metadata) > c.cfg.MaxMetadataSize:
			codes[i] = kerr.OffsetMetadataTooLarge
		}
	}
	if e := c.txnCommit(tc, codes); e != nil {
		for i := range codes {
			if codes[i] == nil {
				codes[i] = e
			}
		}
	}
	return codes
}

func (c *Coordinator) txnCommit(tc TxnCommit, codes []*kerr.Error) *kerr.Error {
	p, perr := c.partitionOf(tc.Group)
	if perr != nil {
		return perr
	}
	g := p.getOrCreate(tc.Group)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	if tc.Generation >= 0 || tc.MemberID != "" || tc.InstanceID != nil {
		if e := g.validateMember(tc.MemberID, tc.InstanceID); e != nil {
			return e
		}
		if tc.Generation != g.generation {
			return kerr.IllegalGeneration
		}
	}
	now := c.now().UnixMilli()
	b := record.NewBuilder(now)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = tc.ProducerID, tc.ProducerEpoch, 0
	todo := map[topicPartition]offset{}
	for i, to := range tc.Offsets {
		if codes[i] != nil {
			continue
		}
		o := offset{offset: to.Offset, leaderEpoch: to.LeaderEpoch, commitMs: now, expireMs: -1}
		if to.Metadata != nil {
			o.metadata = *to.Metadata
		}
		tp := topicPartition{to.Topic, to.Partition}
		b.Add(now, offsetKey(g.name, tp.topic, tp.partition), offsetValue(o))
		todo[tp] = o
	}
	if len(todo) == 0 {
		return nil
	}
	batch, _ := b.AppendTo(nil) // uncompressed: no error
	if err := p.log.Append(batch); err != nil {
		g.c.log.Warn("writing transactional offsets failed", "group", g.name, "producer.id", tc.ProducerID, "err", err)
		return storeError(err)
	}
	pending := g.pendingTxn[tc.ProducerID]
	if pending == nil {
		pending = map[topicPartition]offset{}
		g.pendingTxn[tc.ProducerID] = pending
	}
	maps.Copy(pending, todo)
	return nil
}

// CompleteTxn ends producer pid's transaction on the partitions of
// __consumer_offsets named, after its marker was written there (Kafka's
// handleTxnCompletion): on commit its pending offsets become the groups'
// committed offsets, on abort they are dropped. The marker is in the log:
// replaying it does the same. Partitions not owned are skipped.
func (c *Coordinator) CompleteTxn(pid int64, partitions []int32, commit bool) {
	c.mu.RLock()
	var parts []*partition
	for _, id := range partitions {
		if p := c.parts[id]; p != nil {
			parts = append(parts, p)
		}
	}
	c.mu.RUnlock()
	for _, part := range parts {
		part.mu.Lock()
		if part.loading {
			// The replay may have read the log before the marker: apply
			// it once loaded.
			part.lateTxns = append(part.lateTxns, lateTxn{pid, commit})
			part.mu.Unlock()
			continue
		}
		part.mu.Unlock()
		for _, g := range part.groupsSnapshot() {
			g.mu.Lock()
			g.completeTxn(pid, commit)
			g.mu.Unlock()
		}
	}
}

// lateTxn is a transaction that ended while its partition loaded.
type lateTxn struct {
	pid    int64
	commit bool
}

// completeTxn moves or drops producer pid's pending offsets; g.mu is held
// (or the group is not published yet, while replaying).
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
