package logfile

// Transactions in compaction, as Kafka's LogCleaner and
// CleanedTransactionMetadata (txnindex.Cleaned) handle them:
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

	"samsa/record"
)

// attrDeleteHorizon is Kafka's delete horizon flag of a batch (KIP-534):
// its firstTimestamp is the time after which compaction may remove it.
// Part of the format: never change.
const attrDeleteHorizon = 0x40

// segmentTxns returns the aborted transactions with records in segment s,
// from the transaction indexes, for the cleaner's txnindex.Cleaned.
func (l *Log) segmentTxns(s *segment) []AbortedTxn {
	upTo := s.nextNow()
	if next := l.segmentAfter(s); next != nil {
		upTo = next.base
	}
	return l.AbortedTxns(s.base, upTo)
}

// filterControl is filterBatch for a control batch: kept as it is while it
// guards records; stamped with a delete horizon the first time it does
// not; removed (or, as its producer's last batch, emptied) once the
// horizon has passed.
func filterControl(batch []byte, h *record.Header, m *offsetMap) ([]byte, int64, error) {
	if !m.txns.Control(h, batch) {
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
