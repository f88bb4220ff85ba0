package txn

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// illegal answers a transition the state machine refused: a bug, or a
// state read from the log that Kafka never writes.
func (c *Coordinator) illegal(id string, err error) *kerr.Error {
	c.log.Error("refusing an illegal transaction state transition", "transactional.id", id, "err", err)
	return kerr.UnknownServerError
}

// InitProducerID serves InitProducerId for a transactional id (Kafka's
// handleInitProducerId): a new id gets a new producer id at epoch 0; a
// known one gets its epoch bumped, fencing older producers (KIP-360: a
// producer naming its current producer id and epoch bumps from them, and
// one repeating a bump it did not hear the answer to gets the same epoch
// again). An ongoing transaction is first aborted with the epoch bumped
// past it, and the answer is CONCURRENT_TRANSACTIONS: the client retries.
// When the epochs of a producer id run out, the id moves to a new producer
// id at epoch 0. expectedID is -1 when the request names no producer.
func (c *Coordinator) InitProducerID(id string, timeoutMs int32, expectedID int64, expectedEpoch int16) (int64, int16, *kerr.Error) {
	if id == "" {
		return -1, -1, kerr.InvalidRequest
	}
	if timeoutMs <= 0 || time.Duration(timeoutMs)*time.Millisecond > c.cfg.MaxTimeout {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	p, perr := c.acquire(id)
	if perr != nil {
		return -1, -1, perr
	}
	defer p.release()
	tm := p.get(id)
	if tm == nil {
		pid, err := c.cfg.ProducerIDs()
		if err != nil {
			c.log.Error("allocating a producer id failed", "err", err)
			return -1, -1, kerr.CoordinatorNotAvailable
		}
		tm = p.putIfAbsent(newTxnMeta(id, pid, -1, timeoutMs, nowMs()))
	}
	tm.mu.Lock()
	t, code := c.prepareInit(tm, timeoutMs, expectedID, expectedEpoch)
	tm.mu.Unlock()
	if code != nil {
		return -1, -1, code
	}
	if t.state == PrepareEpochFence {
		if code := c.endTxn(p, id, t.producerID, t.producerEpoch, false, false); code != nil {
			return -1, -1, code
		}
		return -1, -1, kerr.ConcurrentTransactions
	}
	if code := c.write(p, tm, t, false); code != nil {
		return -1, -1, code
	}
	c.log.Info("initialized transactional id", "transactional.id", id, "producer.id", t.producerID, "epoch", t.producerEpoch, "partition", p.id)
	return t.producerID, t.producerEpoch, nil
}

// prepareInit is Kafka's prepareInitProducerIdTransit, under tm.mu.
func (c *Coordinator) prepareInit(tm *txnMeta, timeoutMs int32, expectedID int64, expectedEpoch int16) (transit, *kerr.Error) {
	named := expectedID >= 0
	// A producer naming itself is fenced unless the id is new, it names
	// the current producer id (its epoch is checked by the bump), or the
	// previous one at an exhausted epoch (a retry across a rotation).
	valid := tm.producerEpoch < 0 || expectedID == tm.producerID ||
		(expectedID == tm.lastProducerID && epochExhausted(expectedEpoch))
	switch {
	case tm.pending != noState:
		return transit{}, kerr.ConcurrentTransactions
	case named && !valid:
		return transit{}, kerr.ProducerFenced
	}
	now := nowMs()
	switch tm.state {
	case PrepareAbort, PrepareCommit:
		return transit{}, kerr.ConcurrentTransactions
	case CompleteAbort, CompleteCommit, Empty:
		if epochExhausted(tm.producerEpoch) && (!named || expectedEpoch == tm.producerEpoch) {
			pid, err := c.cfg.ProducerIDs()
			if err != nil {
				c.log.Error("allocating a producer id failed", "err", err)
				return transit{}, kerr.CoordinatorNotAvailable
			}
			t, err := tm.prepareRotation(pid, timeoutMs, now, named)
			if err != nil {
				return transit{}, c.illegal(tm.id, err)
			}
			return t, nil
		}
		exp := int16(-1)
		if named {
			exp = expectedEpoch
		}
		t, ok, err := tm.prepareEpochBump(timeoutMs, exp, now)
		switch {
		case err != nil:
			return transit{}, c.illegal(tm.id, err)
		case !ok:
			c.log.Info("fencing a producer", "transactional.id", tm.id, "epoch", expectedEpoch, "current", tm.producerEpoch, "last", tm.lastProducerEpoch)
			return transit{}, kerr.ProducerFenced
		}
		return t, nil
	case Ongoing:
		// The bumped epoch is never given out: the transaction is aborted
		// with it and the client, told to retry, bumps again.
		t, err := tm.prepareFence()
		if err != nil {
			return transit{}, c.illegal(tm.id, err)
		}
		return t, nil
	default:
		return transit{}, c.illegal(tm.id, errors.Join(errIllegal, errors.New("InitProducerId in "+tm.state.String())))
	}
}

// AddPartitions serves AddPartitionsToTxn and AddOffsetsToTxn (Kafka's
// handleAddPartitionsToTransaction): the partitions join the transaction,
// which starts if none was ongoing. The caller has checked that they
// exist.
func (c *Coordinator) AddPartitions(id string, producerID int64, epoch int16, tps []TopicPartition) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	p, perr := c.acquire(id)
	if perr != nil {
		return perr
	}
	defer p.release()
	tm := p.get(id)
	if tm == nil {
		return kerr.InvalidProducerIDMapping
	}
	tm.mu.Lock()
	var t transit
	var code *kerr.Error
	switch {
	case tm.producerID != producerID:
		code = kerr.InvalidProducerIDMapping
	case tm.producerEpoch != epoch:
		code = kerr.ProducerFenced
	case tm.pending != noState, tm.state == PrepareCommit, tm.state == PrepareAbort:
		code = kerr.ConcurrentTransactions
	case tm.state == Ongoing && tm.hasAll(tps):
		// Already there: nothing to write.
		tm.mu.Unlock()
		return nil
	default:
		var err error
		if t, err = tm.prepareAddPartitions(tps, nowMs()); err != nil {
			code = c.illegal(id, err)
		}
	}
	tm.mu.Unlock()
	if code != nil {
		return code
	}
	return c.write(p, tm, t, false)
}

func (m *txnMeta) hasAll(tps []TopicPartition) bool {
	for _, tp := range tps {
		if _, ok := m.partitions[tp]; !ok {
			return false
		}
	}
	return true
}

// VerifyPartitions serves the verify-only form of AddPartitionsToTxn
// (v4+, KIP-890): whether each partition is in the ongoing transaction of
// that producer, TRANSACTION_ABORTABLE for those that are not. The pending
// state is not looked at: a partition is in the transaction once its
// addition is written, and out once its marker is. The error of the
// whole transaction (not coordinator, unknown producer, fenced, ending)
// is top; then results is nil.
func (c *Coordinator) VerifyPartitions(id string, producerID int64, epoch int16, tps []TopicPartition) (results map[TopicPartition]*kerr.Error, top *kerr.Error) {
	if id == "" {
		return nil, kerr.InvalidRequest
	}
	p, perr := c.acquire(id)
	if perr != nil {
		return nil, perr
	}
	defer p.release()
	tm := p.get(id)
	if tm == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	switch {
	case tm.producerID != producerID:
		return nil, kerr.InvalidProducerIDMapping
	case tm.producerEpoch != epoch:
		return nil, kerr.ProducerFenced
	case tm.state == PrepareCommit || tm.state == PrepareAbort:
		return nil, kerr.ConcurrentTransactions
	}
	results = make(map[TopicPartition]*kerr.Error, len(tps))
	for _, tp := range tps {
		results[tp] = nil
		if _, ok := tm.partitions[tp]; !ok {
			results[tp] = kerr.TransactionAbortable
		}
	}
	return results, nil
}

// EndTxn serves EndTxn (Kafka's handleEndTransaction): PrepareCommit or
// PrepareAbort is written, the answer given, and the markers sent to every
// partition of the transaction in the background; when all are written,
// CompleteCommit or CompleteAbort. Repeating an end that completed is
// answered with success, one still sending its markers with
// CONCURRENT_TRANSACTIONS, the other outcome INVALID_TXN_STATE.
func (c *Coordinator) EndTxn(id string, producerID int64, epoch int16, commit bool) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	p, perr := c.acquire(id)
	if perr != nil {
		return perr
	}
	defer p.release()
	return c.endTxn(p, id, producerID, epoch, commit, true)
}

// endTxn is Kafka's endTransaction, with p acquired. A client's epoch
// must be the current one; the coordinator's own aborts (a fence, a
// timeout) carry the bumped epoch of a pending PrepareEpochFence, which
// the PrepareAbort writes.
func (c *Coordinator) endTxn(p *partition, id string, producerID int64, epoch int16, commit, fromClient bool) *kerr.Error {
	tm := p.get(id)
	if tm == nil {
		return kerr.InvalidProducerIDMapping
	}
	tm.mu.Lock()
	var t transit
	var code *kerr.Error
	fence, write := false, false
	switch {
	case tm.producerID != producerID:
		code = kerr.InvalidProducerIDMapping
	case (fromClient && epoch != tm.producerEpoch) || epoch < tm.producerEpoch:
		code = kerr.ProducerFenced
	case tm.pending != noState && (fromClient || tm.pending != PrepareEpochFence):
		// A client's end meeting a fence in flight retries, where Kafka
		// fails it: the fence's abort comes first.
		code = kerr.ConcurrentTransactions
	case tm.state == Ongoing:
		next := PrepareAbort
		if commit {
			next = PrepareCommit
		}
		if next == PrepareAbort && tm.pending == PrepareEpochFence {
			// The fence's bumped epoch goes into the PrepareAbort.
			fence = true
			tm.pending = noState
			tm.producerEpoch, tm.lastProducerEpoch = epoch, -1
		}
		var err error
		if t, err = tm.prepareEnd(next, nowMs()); err != nil {
			code = c.illegal(id, err)
		}
		write = code == nil
	case tm.state == CompleteCommit && commit, tm.state == CompleteAbort && !commit:
		// A repeated end of a completed transaction: nothing to write.
	case tm.state == PrepareCommit && commit, tm.state == PrepareAbort && !commit:
		code = kerr.ConcurrentTransactions // still sending its markers
	case tm.state == Empty, tm.state == CompleteCommit, tm.state == CompleteAbort, tm.state == PrepareCommit, tm.state == PrepareAbort:
		c.log.Debug("EndTxn in the wrong state", "transactional.id", id, "state", tm.state, "commit", commit)
		code = kerr.InvalidTxnState
	default:
		code = c.illegal(id, errors.Join(errIllegal, errors.New("EndTxn in "+tm.state.String())))
	}
	tm.mu.Unlock()
	if !write {
		return code
	}
	if code := c.write(p, tm, t, false); code != nil {
		if fence {
			tm.mu.Lock()
			tm.failedFence = true // the bumped epoch may be in the log: do not bump again
			tm.mu.Unlock()
		}
		return code
	}
	// PrepareCommit or PrepareAbort is in the log: the transaction will
	// complete, here or after a failover. The complete state is pending
	// while the markers go out.
	tm.mu.Lock()
	var done transit
	switch {
	case tm.producerID != producerID:
		code = kerr.InvalidProducerIDMapping
	case tm.producerEpoch != t.producerEpoch:
		code = kerr.ProducerFenced
	case tm.pending != noState:
		code = kerr.ConcurrentTransactions
	case tm.state != t.state:
		code = kerr.InvalidTxnState
	default:
		var err error
		if done, err = tm.prepareComplete(nowMs()); err != nil {
			code = c.illegal(id, err)
		}
	}
	tm.mu.Unlock()
	if code != nil {
		return code
	}
	c.markers.add(p, tm, done)
	return nil
}
