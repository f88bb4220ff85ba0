package txnindex

// Cleaned is what the log cleaner knows of transactions as it reads a
// range of the log in order (Kafka's CleanedTransactionMetadata): which
// data batches belong to aborted transactions (their records go, and
// supersede nothing), which markers still guard records, and the entries
// the cleaned segment's index keeps: those of the aborts whose markers
// stay. Package logfile's compaction applies its answers.

import (
	"slices"

	"samsa/record"
)

// Cleaned follows one compaction's range (invariant 4).
type Cleaned struct {
	// upcoming are aborted transactions not reached yet, by first
	// offset; added, those already added, so that one listed for
	// several segments is taken once.
	upcoming []AbortedTxn
	added    map[AbortedTxn]bool
	// aborted are the aborted transactions under way, by producer, with
	// whether a batch of theirs was seen; committed, the producers whose
	// (not aborted) transaction's records were seen.
	aborted   map[int64]*abortedRun
	committed map[int64]bool
	index     []AbortedTxn
}

type abortedRun struct {
	txn  AbortedTxn
	seen bool
}

// NewCleaned returns the state of a compaction that has read nothing.
func NewCleaned() *Cleaned {
	return &Cleaned{added: map[AbortedTxn]bool{}, aborted: map[int64]*abortedRun{}, committed: map[int64]bool{}}
}

// Add adds aborted transactions with records in the range to read (from
// the indexes, before their segment is read).
func (c *Cleaned) Add(entries []AbortedTxn) {
	for _, a := range entries {
		if c.added[a] {
			continue
		}
		c.added[a] = true
		i, _ := slices.BinarySearchFunc(c.upcoming, a.FirstOffset, func(x AbortedTxn, f int64) int {
			switch {
			case x.FirstOffset < f:
				return -1
			case x.FirstOffset > f:
				return 1
			}
			return 0
		})
		c.upcoming = slices.Insert(c.upcoming, i, a)
	}
}

// reach starts the aborted transactions that begin at or before offset.
func (c *Cleaned) reach(offset int64) {
	n := 0
	for n < len(c.upcoming) && c.upcoming[n].FirstOffset <= offset {
		a := c.upcoming[n]
		if c.aborted[a.ProducerID] == nil {
			c.aborted[a.ProducerID] = &abortedRun{txn: a}
		}
		n++
	}
	c.upcoming = c.upcoming[n:]
}

// Data reports whether a data batch belongs to an aborted transaction.
func (c *Cleaned) Data(h *record.Header) bool {
	c.reach(h.LastOffset())
	if !h.IsTransactional() {
		return false
	}
	if run := c.aborted[h.ProducerID]; run != nil {
		run.seen = true
		return true
	}
	c.committed[h.ProducerID] = true
	return false
}

// Control reports whether a control batch guards no record any more (it
// may go once its delete horizon passes); an abort that still guards
// records adds its entry to the cleaned index. A control batch that is no
// transaction marker stays, as in Kafka.
func (c *Cleaned) Control(h *record.Header, batch []byte) (removable bool) {
	c.reach(h.LastOffset())
	m, ok, err := record.ParseEndTxnMarker(batch, h)
	switch {
	case err != nil:
		return false
	case !ok:
		return true // emptied by an earlier compaction
	case m.Commit():
		seen := c.committed[h.ProducerID]
		delete(c.committed, h.ProducerID)
		return !seen
	}
	run := c.aborted[h.ProducerID]
	delete(c.aborted, h.ProducerID)
	if run != nil && run.seen {
		c.index = append(c.index, run.txn)
		return false
	}
	return true
}

// TakeIndex returns the cleaned index entries collected since the last
// call (one cleaned segment's).
func (c *Cleaned) TakeIndex() []AbortedTxn {
	out := c.index
	c.index = nil
	return out
}
