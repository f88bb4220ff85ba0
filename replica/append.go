package replica

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/replica/validate"
)

// Appended is where a produce's records went.
type Appended struct {
	BaseOffset     int64
	LastOffset     int64 // acks=all waits until the high watermark passes it
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
}

// Append validates one partition's record set from a Produce request of
// the given version and appends it (Kafka's LogValidator, then the append
// under the partition's producer-state lock). Errors carry Kafka's code
// (apierr).
//
// With acks=-1 the in-sync replicas must number at least
// min.insync.replicas before anything is written (NOT_ENOUGH_REPLICAS);
// the caller then waits for the high watermark (AwaitReplication).
func (m *Manager) Append(ts *Topic, p *Partition, version int16, records []byte, now int64, acks int16) (Appended, error) {
	return m.AppendTxn(ts, p, version, records, now, acks, 0)
}

// AppendTxn is Append for a produce whose transactional batch
// VerifyTxnProduce verified with guard (0: no verification, so only a
// producer whose transaction is open here already may write one). A
// transactional batch that is not part of an ongoing transaction is
// INVALID_TXN_STATE.
func (m *Manager) AppendTxn(ts *Topic, p *Partition, version int16, records []byte, now int64, acks int16, guard uint64) (Appended, error) {
	res := Appended{BaseOffset: -1, LastOffset: -1, LogAppendTime: -1, LogStartOffset: -1}
	err := m.append(ts, p, version, records, now, acks, guard, &res)
	if err == nil && m.alterISR != nil {
		p.AdvanceHW() // alone in the ISR, the high watermark is the log end
	}
	return res, err
}

func (m *Manager) append(ts *Topic, p *Partition, version int16, records []byte, now int64, acks int16, guard uint64, sp *Appended) error {
	// Kafka's LogValidator: every batch's header is parsed there, once;
	// the steps below read it.
	bs, idem, err := validate.Produce(version, &ts.Config, p.Topic, p.Index, records, now)
	if err != nil {
		return err
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	// Leadership holds for the whole append: a LeaderAndIsr that moves it
	// waits, so every batch carries the epoch of the leader that took it.
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if !p.st.IsLeader {
		return apierr.Errorf(kerr.NotLeaderForPartition, "broker is not the leader of %s-%d", p.Topic, p.Index)
	}
	if minISR := int(ts.Config.MinInSyncReplicas); acks == -1 && len(p.st.ISR) < minISR {
		return apierr.Errorf(kerr.NotEnoughReplicas, "The size of the current ISR %v is insufficient to satisfy the min.isr requirement of %d for partition %s-%d", p.st.ISR, minISR, p.Topic, p.Index)
	}
	// Idempotent batches: a retry of a batch already written gets its
	// original offsets; gaps and stale epochs are refused.
	for i := range idem {
		dup, err := p.prod.State.Check(&idem[i])
		if err != nil {
			return err
		}
		if dup != nil {
			if bs.Count != 1 {
				return apierr.Errorf(kerr.OutOfOrderSequenceNumber, "a duplicate batch in a request of %d batches", bs.Count)
			}
			sp.BaseOffset, sp.LastOffset, sp.LogStartOffset = dup.FirstOffset, dup.LastOffset, p.Log.StartOffset()
			return nil
		}
	}
	if len(idem) > 1 {
		return apierr.Errorf(kerr.InvalidRecord, "%d idempotent batches for one partition in one request", len(idem))
	}
	txn := len(idem) == 1 && idem[0].IsTransactional()
	if txn {
		// KIP-890: its transaction is open here, or the coordinator
		// verified it and no marker came since.
		pid := idem[0].ProducerID
		if !p.prod.State.Verified(pid, guard) {
			return apierr.Errorf(kerr.InvalidTxnState, "Record was not part of an ongoing transaction")
		}
		if !p.prod.State.HasOpenTxn(pid) {
			p.prod.Opening(pid, p.Log.EndOffset())
		}
	}
	bs.SetLeaderEpoch(p.st.LeaderEpoch)
	info, err := p.Log.AppendValidated(&bs)
	if txn && err != nil {
		p.prod.Publish(p.Log.HighWatermark()) // withdraw the opening
	}
	if err != nil {
		return produceError(err)
	}
	if len(idem) == 1 {
		p.prod.State.Update(&idem[0], info.FirstOffset, now)
		if txn {
			p.prod.Publish(p.Log.HighWatermark())
		}
		m.maybeSnapshot(p)
	}
	p.notify()
	ts.C.in(int64(len(bs.Buf)), info.Records)
	sp.BaseOffset, sp.LastOffset = info.FirstOffset, info.LastOffset
	sp.LogStartOffset = info.LogStartOffset
	if ts.Config.MessageTimestampType == config.LogAppendTime {
		sp.LogAppendTime = now
	}
	return nil
}

// maybeSnapshot writes a producer snapshot when the log has rolled since
// the last one, so that rebuilding after a crash scans about one segment.
// Called with p.prod.mu held.
func (m *Manager) maybeSnapshot(p *Partition) {
	segs := p.Log.SegmentBases()
	if active := segs[len(segs)-1]; active != p.prod.SnapBase {
		if err := p.prod.Snapshot(p.Log.EndOffset()); err != nil {
			m.log.Warn("producer snapshot", "dir", p.Log.Dir(), "err", err)
			return
		}
		p.prod.SnapBase = active
	}
}

// produceError words an append's error as Kafka answers a produce.
func produceError(err error) error {
	if e := validate.RecordError(err); e != nil {
		return e
	}
	if errors.Is(err, logfile.ErrClosed) {
		return apierr.Errorf(kerr.NotLeaderForPartition, "partition is closing")
	}
	return apierr.Errorf(kerr.KafkaStorageError, "%v", err)
}

// Await is one partition an acks=all produce waits on.
type Await struct {
	P      *Partition
	Offset int64 // the last offset appended: the high watermark must pass it
	MinISR int   // min.insync.replicas of the topic
	Err    error // the outcome: nil, or Kafka's error
}

// AwaitReplication parks an acks=all produce until the high watermark of
// every partition passes its records (Kafka's DelayedProduce), without
// polling: appends, follower fetches and ISR changes wake it. A partition
// whose ISR has shrunk below min.insync.replicas when its high watermark
// passes gets NOT_ENOUGH_REPLICAS_AFTER_APPEND; one whose leadership moved,
// NOT_LEADER_OR_FOLLOWER; one still short at the deadline,
// REQUEST_TIMED_OUT. A closed connection or a broker shutting down ends
// the wait (false), leaving NOT_LEADER_OR_FOLLOWER on every partition not
// yet replicated.
func (m *Manager) AwaitReplication(ctx context.Context, waits []Await, deadline time.Time) bool {
	m.metrics.producePark(1)
	defer m.metrics.producePark(-1)
	for {
		var pending []*Partition
		for i := range waits {
			w := &waits[i]
			if w.Err != nil || w.P == nil {
				continue
			}
			st := w.P.State()
			switch {
			case !st.IsLeader:
				w.Err = apierr.Errorf(kerr.NotLeaderForPartition, "leadership of %s-%d moved before the records were replicated", w.P.Topic, w.P.Index)
			case w.P.Log.HighWatermark() > w.Offset:
				if len(st.ISR) < w.MinISR {
					w.Err = apierr.Errorf(kerr.NotEnoughReplicasAfterAppend, "The size of the current ISR %v is insufficient to satisfy the min.isr requirement of %d for partition %s-%d", st.ISR, w.MinISR, w.P.Topic, w.P.Index)
				}
				w.P = nil // done
			default:
				pending = append(pending, w.P)
			}
		}
		if len(pending) == 0 {
			return true
		}
		if !time.Now().Before(deadline) {
			for i := range waits {
				if w := &waits[i]; w.P != nil && w.Err == nil {
					w.Err = apierr.Errorf(kerr.RequestTimedOut, "the records of %s-%d were not replicated to the in-sync replicas in time", w.P.Topic, w.P.Index)
				}
			}
			return true
		}
		if !m.produceWait.Wait(ctx, pending, func() bool {
			for _, p := range pending {
				for i := range waits {
					if waits[i].P == p && (p.Log.HighWatermark() > waits[i].Offset || !p.IsLeader()) {
						return true
					}
				}
			}
			return false
		}, deadline) {
			// The connection or the broker is closing: a response may
			// still be written (a shutdown ends the waits and then
			// answers), and it must not acknowledge what the in-sync
			// replicas do not have.
			for i := range waits {
				if w := &waits[i]; w.P != nil && w.Err == nil {
					w.Err = apierr.Errorf(kerr.NotLeaderForPartition, "the broker stopped waiting for the records of %s-%d to be replicated: it is closing", w.P.Topic, w.P.Index)
				}
			}
			return false
		}
	}
}

// AppendInternal appends batches the broker itself built (the group
// coordinator's commits and group metadata) and, with followers, waits
// until the in-sync replicas have them, as Kafka's coordinator appends
// with acks=all (offsets.commit.timeout.ms: 5 s).
func (m *Manager) AppendInternal(ctx context.Context, p *Partition, batch []byte) error {
	return m.AppendInternalMinISR(ctx, p, batch, 0)
}

// AppendInternalMinISR is AppendInternal answering
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below minISR while
// it waited, as an acks=all produce is (the transaction coordinator's
// writes to __transaction_state, at transaction.state.log.min.isr).
func (m *Manager) AppendInternalMinISR(ctx context.Context, p *Partition, batch []byte, minISR int) error {
	return m.appendInternal(ctx, p, batch, minISR, nil)
}

// AppendInternalTxn is AppendInternal for the transactional batch a
// group coordinator writes for a producer's TxnOffsetCommit, which
// VerifyTxnProduce verified with guard: unless the producer's transaction
// is open on the partition already, the batch is refused
// (INVALID_TXN_STATE) when a marker came after the verification began, so
// that offsets of a transaction that just ended open no new one there
// (Kafka's storeOffsets with its verification guard).
func (m *Manager) AppendInternalTxn(ctx context.Context, p *Partition, batch []byte, guard uint64) error {
	return m.appendInternal(ctx, p, batch, 0, &guard)
}

func (m *Manager) appendInternal(ctx context.Context, p *Partition, batch []byte, minISR int, guard *uint64) error {
	last, err := p.appendInternalGuarded(batch, guard)
	if err != nil || !m.Replicated() {
		return err
	}
	p.AdvanceHW()
	w := []Await{{P: p, Offset: last, MinISR: minISR}}
	if !m.AwaitReplication(ctx, w, time.Now().Add(5*time.Second)) {
		return ctx.Err()
	}
	return w[0].Err
}
