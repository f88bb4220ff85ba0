package producerstate

// Transactions on one partition (KIP-98, Kafka's ProducerStateManager and
// ProducerAppendInfo): a producer's first transactional batch opens its
// transaction at that batch's offset; a COMMIT or ABORT marker ends it.
// The open transactions, and those whose marker the high watermark has
// not passed yet, hold the last stable offset down to the first offset of
// the earliest of them. A marker that aborts a transaction with records
// becomes an entry of the transaction index (logfile's .txnindex), with
// the last stable offset of the moment: the first offset of the earliest
// transaction of another producer still open, or the marker's offset + 1.
//
// Fencing, as Kafka 3.x answers a leader's writers: a data batch or a
// marker of an epoch older than the producer's is INVALID_PRODUCER_EPOCH;
// a marker of a coordinator epoch older than the last marker's is
// TRANSACTION_COORDINATOR_FENCED; a non-transactional batch while the
// producer's transaction is open is INVALID_TXN_STATE. A replica replaying
// its leader's log checks none of it.
//
// KIP-890 part 1: before a producer's first transactional batch opens its
// transaction here, the leader asks the coordinator whether this
// partition is in the producer's ongoing transaction. A guard taken before
// the question (StartVerification) and checked at the append (Verified)
// makes a marker written meanwhile void the answer: a verification begun
// before an abort cannot open a transaction after it.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
	"samsa/record"
)

// TxnSpan is a transaction that holds the last stable offset down.
type TxnSpan struct {
	ProducerID int64
	First      int64 // its first record
	Last       int64 // its marker; -1 while it is open
}

// CompletedTxn is a transaction a marker ended.
type CompletedTxn struct {
	ProducerID  int64
	First, Last int64 // its first record and its marker
	Aborted     bool
	// LastStableOffset is the last stable offset once the marker was
	// written (the transaction index keeps it).
	LastStableOffset int64
}

// AbortedTxn is the transaction index entry of an aborted transaction.
func (c CompletedTxn) AbortedTxn() logfile.AbortedTxn {
	return logfile.AbortedTxn{ProducerID: c.ProducerID, FirstOffset: c.First, LastOffset: c.Last, LastStableOffset: c.LastStableOffset}
}

type verification struct {
	guard uint64
	ms    int64 // when it began, for expiry
}

// insertSpan adds s to spans, kept in order of first offset.
func insertSpan(spans []TxnSpan, s TxnSpan) []TxnSpan {
	i, _ := slices.BinarySearchFunc(spans, s.First, func(x TxnSpan, first int64) int {
		switch {
		case x.First < first:
			return -1
		case x.First > first:
			return 1
		}
		return 0
	})
	return slices.Insert(spans, i, s)
}

func spanOf(spans []TxnSpan, pid int64) int {
	return slices.IndexFunc(spans, func(s TxnSpan) bool { return s.ProducerID == pid })
}

// HasOpenTxn reports whether producer pid has an open transaction here.
func (ps *State) HasOpenTxn(pid int64) bool {
	e := ps.m[pid]
	return e != nil && e.txnFirst >= 0
}

// CheckEpoch refuses a batch the broker itself writes for producer pid (a
// coordinator's transactional offsets, Kafka's origin coordinator: no
// sequence check) at an epoch older than the producer's:
// INVALID_PRODUCER_EPOCH.
func (ps *State) CheckEpoch(pid int64, epoch int16) error {
	if e := ps.m[pid]; e != nil && epoch < e.epoch {
		return kerrf(kerr.InvalidProducerEpoch, "producer %d epoch %d is older than the current %d", pid, epoch, e.epoch)
	}
	return nil
}

// CheckMarker decides whether a marker of the transaction coordinator
// may end producer pid's transaction: INVALID_PRODUCER_EPOCH for an
// epoch older than the producer's, TRANSACTION_COORDINATOR_FENCED for a
// coordinator epoch older than the last marker's. A producer this
// partition does not know takes any marker.
func (ps *State) CheckMarker(pid int64, epoch int16, coordinatorEpoch int32) error {
	e := ps.m[pid]
	switch {
	case e == nil:
	case epoch < e.epoch:
		return kerrf(kerr.InvalidProducerEpoch, "marker of producer %d epoch %d, older than the current %d", pid, epoch, e.epoch)
	case coordinatorEpoch < e.coordinatorEpoch:
		return kerrf(kerr.TransactionCoordinatorFenced, "marker of producer %d from coordinator epoch %d (a zombie), the current is %d", pid, coordinatorEpoch, e.coordinatorEpoch)
	}
	return nil
}

// EndTxn records a marker appended at h.BaseOffset (h is its batch's
// header): the producer's open transaction, if any, ends and is returned
// (ok); its epoch and coordinator epoch become the marker's.
func (ps *State) EndTxn(h *record.Header, m record.EndTxnMarker, nowMs int64) (c CompletedTxn, ok bool) {
	pid := h.ProducerID
	e := ps.m[pid]
	if e == nil {
		e = newEntry(h.ProducerEpoch)
		ps.m[pid] = e
	}
	if e.txnFirst >= 0 {
		i := spanOf(ps.open, pid)
		ps.open = slices.Delete(ps.open, i, i+1)
		c = CompletedTxn{ProducerID: pid, First: e.txnFirst, Last: h.BaseOffset, Aborted: !m.Commit(), LastStableOffset: h.BaseOffset + 1}
		if len(ps.open) > 0 {
			c.LastStableOffset = ps.open[0].First
		}
		ps.done = insertSpan(ps.done, TxnSpan{ProducerID: pid, First: e.txnFirst, Last: h.BaseOffset})
		ok = true
	}
	e.setEpoch(h.ProducerEpoch)
	e.coordinatorEpoch, e.txnFirst, e.lastMs = m.CoordinatorEpoch, -1, nowMs
	delete(ps.verifying, pid)
	return c, ok
}

// Apply records a batch read back from the log or fetched from the
// leader: a data batch (Update at its base offset) or a marker (EndTxn;
// control is the control batch's bytes). A control batch without records
// (compaction emptied it) changes nothing, as in Kafka.
func (ps *State) Apply(h *record.Header, control []byte, nowMs int64) (CompletedTxn, bool, error) {
	if h.ProducerID < 0 {
		return CompletedTxn{}, false, nil
	}
	if !h.IsControl() {
		ps.Update(h, h.BaseOffset, nowMs)
		return CompletedTxn{}, false, nil
	}
	m, ok, err := record.ParseEndTxnMarker(control, h)
	if err != nil || !ok {
		return CompletedTxn{}, false, err
	}
	c, ok := ps.EndTxn(h, m, nowMs)
	return c, ok, nil
}

// PlanAborts returns the transaction index entries of the transactions
// that bs, offsets assigned, abort, as Apply would find them, without
// changing the state (the log writes them with the batches: logfile's
// TxnPlan).
func (ps *State) PlanAborts(bs *record.Batches) ([]logfile.AbortedTxn, error) {
	var out []logfile.AbortedTxn
	open := slices.Clone(ps.open)
	for h, b := range bs.All() {
		if h.ProducerID < 0 || !h.IsTransactional() {
			continue
		}
		i := spanOf(open, h.ProducerID)
		if !h.IsControl() {
			if i < 0 {
				open = insertSpan(open, TxnSpan{ProducerID: h.ProducerID, First: h.BaseOffset, Last: -1})
			}
			continue
		}
		m, ok, err := record.ParseEndTxnMarker(b, h)
		if err != nil {
			return nil, err
		}
		if !ok || i < 0 {
			continue
		}
		first := open[i].First
		open = slices.Delete(open, i, i+1)
		if m.Commit() {
			continue
		}
		lso := h.BaseOffset + 1
		if len(open) > 0 {
			lso = open[0].First
		}
		out = append(out, logfile.AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: lso})
	}
	return out, nil
}

// Prune forgets the ended transactions whose markers lie below the high
// watermark: they no longer hold the last stable offset down.
func (ps *State) Prune(hw int64) {
	ps.done = slices.DeleteFunc(ps.done, func(s TxnSpan) bool { return s.Last < hw })
}

// Unstable returns the transactions that hold the last stable offset
// down, open or ended above the high watermark, by first offset.
func (ps *State) Unstable() []TxnSpan {
	out := make([]TxnSpan, 0, len(ps.open)+len(ps.done))
	out = append(out, ps.open...)
	for _, s := range ps.done {
		out = insertSpan(out, s)
	}
	return out
}

// OpenTxns returns the open transactions, by first offset.
func (ps *State) OpenTxns() []TxnSpan { return slices.Clone(ps.open) }

// lastStable is the last stable offset for a high watermark given the
// unstable transactions by first offset.
func lastStable(spans []TxnSpan, hw int64) int64 {
	for _, s := range spans {
		if s.Last < 0 || s.Last >= hw {
			return min(s.First, hw)
		}
	}
	return hw
}

// StartVerification begins the verification of producer pid's
// transaction on this partition and returns its guard; need is false when
// the transaction is open here already, so nothing needs verifying. A
// verification under way is shared.
func (ps *State) StartVerification(pid int64, nowMs int64) (guard uint64, need bool) {
	if ps.HasOpenTxn(pid) {
		return 0, false
	}
	v, ok := ps.verifying[pid]
	if !ok {
		ps.guards++
		v = verification{guard: ps.guards, ms: nowMs}
		ps.verifying[pid] = v
	}
	return v.guard, true
}

// Verified reports whether producer pid's transactional batch may be
// written: its transaction is open here, or guard is still its
// verification under way (no marker came since it began).
func (ps *State) Verified(pid int64, guard uint64) bool {
	if ps.HasOpenTxn(pid) {
		return true
	}
	v, ok := ps.verifying[pid]
	return ok && guard != 0 && v.guard == guard
}
