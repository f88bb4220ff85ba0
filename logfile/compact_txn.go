package logfile

// Transactions in compaction, as Kafka's LogCleaner and
// CleanedTransactionMetadata handle them:
//
//   - The records of an aborted transaction are never read into the key
//     map (they must not supersede a committed value) and are dropped
//     from the cleaned segments, whatever their keys.
//   - An ABORT marker stays while records of its transaction remain in
//     the range cleaned (and then its transaction index entry goes into
//     the cleaned segment's index); a COMMIT marker stays while records of
//     its transaction remain. A marker whose records are all gone becomes
//     removable: the first pass that finds it so stamps it with a delete
//     horizon, delete.retention.ms ahead (KIP-534: attribute bit 6, the
//     horizon in firstTimestamp), and a pass after the horizon removes it,
//     unless it is its producer's last batch, kept empty to remember the
//     producer's epoch. Consumers reading from before the horizon still
//     find the marker that ends what they dropped.
//   - Compaction never passes the last stable offset (cleanable), so it
//     never sees a transaction without its marker.

import (
	"fmt"
	"slices"

	"samsa/record"
)

// attrDeleteHorizon is Kafka's delete horizon flag of a batch (KIP-534):
// its firstTimestamp is the time after which compaction may remove it.
// Part of the format: never change.
const attrDeleteHorizon = 0x40

// cleanedTxns follows the transactions of one compaction's range, in log
// order: which records belong to aborted transactions, and which markers
// still guard records.
type cleanedTxns struct {
	// upcoming are aborted transactions not reached yet, by first offset;
	// added holds those already added, so that a transaction listed for
	// several segments is taken once.
	upcoming []AbortedTxn
	added    map[AbortedTxn]bool
	// aborted are the aborted transactions under way, by producer, with
	// whether a batch of theirs was seen; committed, the producers whose
	// transaction's records were seen and that are not aborted.
	aborted   map[int64]*abortedRun
	committed map[int64]bool
	// index collects the entries of the cleaned segment's transaction
	// index: the aborts whose markers stay.
	index []AbortedTxn
}

type abortedRun struct {
	txn  AbortedTxn
	seen bool
}

func newCleanedTxns() *cleanedTxns {
	return &cleanedTxns{added: map[AbortedTxn]bool{}, aborted: map[int64]*abortedRun{}, committed: map[int64]bool{}}
}

// addSegment adds the aborted transactions with records in segment s (of
// the log l), found in the transaction indexes.
func (ct *cleanedTxns) addSegment(l *Log, s *segment) {
	upTo := s.nextNow()
	if next := l.segmentAfter(s); next != nil {
		upTo = next.base
	}
	for _, a := range l.AbortedTxns(s.base, upTo) {
		if !ct.added[a] {
			ct.added[a] = true
			i, _ := slices.BinarySearchFunc(ct.upcoming, a.FirstOffset, func(x AbortedTxn, f int64) int {
				switch {
				case x.FirstOffset < f:
					return -1
				case x.FirstOffset > f:
					return 1
				}
				return 0
			})
			ct.upcoming = slices.Insert(ct.upcoming, i, a)
		}
	}
}

// reach starts the aborted transactions that begin at or before offset.
func (ct *cleanedTxns) reach(offset int64) {
	n := 0
	for n < len(ct.upcoming) && ct.upcoming[n].FirstOffset <= offset {
		a := ct.upcoming[n]
		if ct.aborted[a.ProducerID] == nil {
			ct.aborted[a.ProducerID] = &abortedRun{txn: a}
		}
		n++
	}
	ct.upcoming = ct.upcoming[n:]
}

// data reports whether a data batch belongs to an aborted transaction.
func (ct *cleanedTxns) data(h *record.Header) bool {
	ct.reach(h.LastOffset())
	if !h.IsTransactional() {
		return false
	}
	if run := ct.aborted[h.ProducerID]; run != nil {
		run.seen = true
		return true
	}
	ct.committed[h.ProducerID] = true
	return false
}

// control reports whether a control batch guards no record any more (it
// may go once its delete horizon passes); an abort that still guards
// records adds its entry to the cleaned index. A control batch that is no
// transaction marker stays, as in Kafka.
func (ct *cleanedTxns) control(h *record.Header, batch []byte) (removable bool) {
	ct.reach(h.LastOffset())
	m, ok, err := record.ParseEndTxnMarker(batch, h)
	switch {
	case err != nil:
		return false
	case !ok:
		return true // emptied by an earlier compaction
	case m.Commit():
		seen := ct.committed[h.ProducerID]
		delete(ct.committed, h.ProducerID)
		return !seen
	}
	run := ct.aborted[h.ProducerID]
	delete(ct.aborted, h.ProducerID)
	if run != nil && run.seen {
		ct.index = append(ct.index, run.txn)
		return false
	}
	return true
}

// takeIndex returns the cleaned index entries collected since the last
// call (one group's).
func (ct *cleanedTxns) takeIndex() []AbortedTxn {
	out := ct.index
	ct.index = nil
	return out
}

// filterControl is filterBatch for a control batch: kept as it is while it
// guards records; stamped with a delete horizon the first time it does
// not; removed (or, as its producer's last batch, emptied) once the
// horizon has passed.
func filterControl(batch []byte, h *record.Header, m *offsetMap) ([]byte, int64, error) {
	if !m.txns.control(h, batch) {
		return batch, 0, nil
	}
	if h.Attributes&attrDeleteHorizon == 0 {
		recs, err := record.Inflate(batch, h, nil, maxInflate)
		if err != nil {
			return nil, 0, fmt.Errorf("logfile: control batch at offset %d: %w", h.BaseOffset, err)
		}
		b := record.Builder{Header: *h}
		b.Header.Attributes |= attrDeleteHorizon
		b.Header.FirstTimestamp = m.nowMs + m.deleteRetentionMs
		for it := record.NewIter(recs, h.RecordCount); it.Next(); {
			r := it.Record()
			// Re-added at its own time: its delta is from the horizon now.
			b.Add(r.Timestamp(h), r.Key, r.Value)
		}
		nb, err := b.AppendTo(nil)
		return nb, 0, err
	}
	if h.FirstTimestamp > m.nowMs {
		return batch, 0, nil
	}
	removed := int64(h.RecordCount)
	if h.ProducerID >= 0 && m.lastOfProd[h.ProducerID] == h.BaseOffset {
		b := record.Builder{Header: *h}
		nb, err := b.AppendTo(nil)
		return nb, removed, err
	}
	return nil, removed, nil
}
