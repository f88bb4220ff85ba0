package group

// Transactional offset commits (KIP-98, KIP-447; Kafka's
// GroupMetadata.pendingTransactionalOffsetCommits): a transactional
// producer commits a group's offsets inside its transaction
// (TxnOffsetCommit, served by the transaction coordinator's handler
// through CommitTxnOffsets). The records go to __consumer_offsets in a
// transactional batch of the producer; the offsets stay pending, unseen
// by OffsetFetch, until the transaction's marker lands on that partition
// (CompleteTxn, from the WriteTxnMarkers handler): a commit makes them the
// group's committed offsets, an abort drops them. Meanwhile an OffsetFetch
// with require_stable answers UNSTABLE_OFFSET_COMMIT for them. Replaying
// the log does the same with the batches and markers it reads.

import (
	"encoding/binary"
	"errors"
	"fmt"

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
	// (v3+, KIP-447): generation -1 with no member is not checked, as in
	// Kafka for transactional commits.
	Generation int32
	MemberID   string
	InstanceID *string
	Offsets    []TxnOffset
	// Verified says the handler verified, with the transaction
	// coordinator, that the group's partition of __consumer_offsets is in
	// the producer's transaction (KIP-890 part 1), and Guard is that
	// verification's: the batch goes to Log.AppendTxn with it, so that a
	// marker written meanwhile refuses it. Unverified batches go to
	// Log.Append unchecked.
	Verified bool
	Guard    uint64
}

// CommitTxnOffsets writes offsets a transactional producer commits and
// keeps them pending until its transaction ends (CompleteTxn). It returns
// one answer per offset, in order (nil: written): UNKNOWN_TOPIC_OR_PARTITION,
// OFFSET_METADATA_TOO_LARGE, or the group's error (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE, or the log's:
// INVALID_PRODUCER_EPOCH for a fenced producer, INVALID_TXN_STATE for a
// verification a marker voided).
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
	if e := c.commitTxn(tc, codes); e != nil {
		for i := range codes {
			if codes[i] == nil {
				codes[i] = e
			}
		}
	}
	return codes
}

func (c *Coordinator) commitTxn(tc TxnCommit, codes []*kerr.Error) *kerr.Error {
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
	var recs []rec
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
		recs = append(recs, rec{key: offsetKey(g.name, tp.topic, tp.partition), value: offsetValue(o)})
		todo[tp] = o
	}
	if len(recs) == 0 {
		return nil
	}
	batch := encodeTxnBatch(recs, now, tc.ProducerID, tc.ProducerEpoch)
	var err error
	if tc.Verified {
		err = p.log.AppendTxn(batch, tc.Guard)
	} else {
		err = p.log.Append(batch)
	}
	if err != nil {
		g.c.log.Warn("writing transactional offsets failed", "group", g.name, "producer", tc.ProducerID, "err", err)
		switch {
		case errors.Is(err, kerr.InvalidProducerEpoch):
			return kerr.InvalidProducerEpoch // a fenced producer
		case errors.Is(err, kerr.InvalidTxnState):
			return kerr.InvalidTxnState // its transaction ended meanwhile
		}
		return storeError(err)
	}
	pend := g.pendingTxn[tc.ProducerID]
	if pend == nil {
		pend = map[topicPartition]offset{}
		g.pendingTxn[tc.ProducerID] = pend
	}
	for tp, o := range todo {
		pend[tp] = o
	}
	return nil
}

// CompleteTxn ends producer pid's transaction on the partitions of
// __consumer_offsets named, after its marker was written there (Kafka's
// scheduleHandleTxnCompletion): on commit its pending offsets become the
// groups' committed offsets, on abort they are dropped. Partitions this
// coordinator does not own are skipped.
func (c *Coordinator) CompleteTxn(pid int64, partitions []int32, commit bool) {
	c.mu.RLock()
	var parts []*partition
	for _, id := range partitions {
		if p := c.parts[id]; p != nil {
			parts = append(parts, p)
		}
	}
	c.mu.RUnlock()
	for _, p := range parts {
		p.mu.Lock()
		if p.loading {
			// The replay may have read the log before the marker.
			p.lateTxns = append(p.lateTxns, lateTxn{pid, commit})
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		for _, g := range p.groupsSnapshot() {
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

// completeTxn moves or drops producer pid's pending offsets. Called with
// g.mu held (or on a group not yet published, while replaying).
func (g *group) completeTxn(pid int64, commit bool) {
	pend, ok := g.pendingTxn[pid]
	if !ok {
		return
	}
	delete(g.pendingTxn, pid)
	if !commit {
		return
	}
	for tp, o := range pend {
		g.offsets[tp] = o
	}
}

// encodeTxnBatch builds the transactional batch of a producer's offset
// commits, as Kafka's GroupMetadataManager.storeOffsets does: producer id
// and epoch, base sequence 0, CreateTime ts.
func encodeTxnBatch(recs []rec, ts int64, pid int64, epoch int16) []byte {
	b := record.NewBuilder(ts)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, epoch, 0
	for _, r := range recs {
		b.Add(ts, r.key, r.value)
	}
	out, _ := b.AppendTo(nil) // uncompressed: no error
	return out
}

// replayTxnRecord is replayRecord for a record of producer pid's
// transactional batch: an offset commit goes pending.
func (c *Coordinator) replayTxnRecord(pid int64, key, value []byte, get func(string) *group, hasMeta map[string]bool) error {
	if len(key) < 2 || value == nil {
		return c.replayRecord(key, value, get, hasMeta)
	}
	if v := int16(binary.BigEndian.Uint16(key)); v != 0 && v != 1 {
		return c.replayRecord(key, value, get, hasMeta)
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("offset commit key: %w", err)
	}
	scratch := map[string]*group{}
	one := func(name string) *group {
		if scratch[name] == nil {
			scratch[name] = newGroup(c, nil, name)
		}
		return scratch[name]
	}
	if err := c.replayRecord(key, value, one, map[string]bool{}); err != nil {
		return err
	}
	g := get(k.Group)
	pend := g.pendingTxn[pid]
	if pend == nil {
		pend = map[topicPartition]offset{}
		g.pendingTxn[pid] = pend
	}
	tp := topicPartition{k.Topic, k.Partition}
	pend[tp] = scratch[k.Group].offsets[tp]
	return nil
}
