package producerstate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/record"
)

const maxProducerBatches = 5 // batches remembered per producer, as Kafka does

// Batch is one appended batch of a producer.
type Batch struct {
	FirstSeq, LastSeq       int32 // -1 for a batch without sequences
	FirstOffset, LastOffset int64
}

// entry is what a partition knows of one producer (Kafka's
// ProducerStateEntry).
type entry struct {
	epoch int16
	// batches are the producer's last batches of this epoch, oldest
	// first, at most maxProducerBatches; none after a marker of a new
	// epoch (the coordinator fenced or bumped the producer).
	batches []Batch
	// lastMs is the wall time of the producer's last append, for
	// producer.id.expiration.ms.
	lastMs int64
	// coordinatorEpoch is the epoch of the transaction coordinator that
	// wrote the producer's last marker, -1 before any: a marker from an
	// older coordinator is fenced.
	coordinatorEpoch int32
	// txnFirst is the first offset of the producer's open transaction on
	// this partition, -1 when none is open.
	txnFirst int64
}

func newEntry(epoch int16) *entry {
	return &entry{epoch: epoch, coordinatorEpoch: -1, txnFirst: -1}
}

// lastSequence is the last sequence written in this epoch, -1 for none.
func (e *entry) lastSequence() int32 {
	if len(e.batches) == 0 {
		return -1
	}
	return e.batches[len(e.batches)-1].LastSeq
}

// setEpoch moves the producer to epoch; a new epoch forgets the batches
// of the old one (Kafka's maybeUpdateProducerEpoch).
func (e *entry) setEpoch(epoch int16) {
	if epoch != e.epoch {
		e.epoch, e.batches = epoch, nil
	}
}

// State is a partition's producer table. The partition's append lock
// (Producers.Mu) guards it; snapshots copy it under that lock.
type State struct {
	m map[int64]*entry
	// open are the open transactions by first offset (Last -1); done
	// those a marker ended whose marker the high watermark has not passed
	// yet (Kafka's unreplicatedTxns), by first offset: both hold the
	// last stable offset down (txn.go).
	open, done []TxnSpan
	// verifying maps producers whose first transactional batch here
	// awaits the coordinator's verification to its guard (KIP-890).
	verifying map[int64]verification
	guards    uint64 // the last guard handed out
}

func NewState() *State { return &State{m: map[int64]*entry{}, verifying: map[int64]verification{}} }

// seqAdd adds to a sequence number, wrapping past MaxInt32 to 0 as Kafka does.
func seqAdd(seq int32, n int32) int32 {
	return int32((int64(seq) + int64(n)) % (math.MaxInt32 + 1))
}

// kerrf wraps a Kafka error code with a message; callers map it back to
// the code with errors.As (*kerr.Error).
func kerrf(code *kerr.Error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{code}, args...)...)
}

// seqSub subtracts from a sequence number, wrapping below 0.
func seqSub(seq, n int32) int32 {
	v := int64(seq) - int64(n)
	if v < 0 {
		v += math.MaxInt32 + 1
	}
	return int32(v)
}

func nowMs() int64 { return time.Now().UnixMilli() }

// Check decides what to do with a producer's data batch: append (nil,
// nil), answer with the offsets of the identical batch already written
// (dup), or refuse it with Kafka's error: sequences and epochs as for any
// idempotent producer, and a non-transactional batch while the producer's
// transaction is open is INVALID_TXN_STATE (Kafka's ProducerAppendInfo).
func (ps *State) Check(h *record.Header) (dup *Batch, err error) {
	e := ps.m[h.ProducerID]
	first, last := h.BaseSequence, seqAdd(h.BaseSequence, h.LastOffsetDelta)
	if h.BaseSequence < 0 {
		return nil, kerrf(kerr.InvalidRecord, "idempotent batch of producer %d without a sequence", h.ProducerID)
	}
	switch {
	case e == nil:
		if first != 0 {
			return nil, kerrf(kerr.UnknownProducerID, "producer %d is unknown to this partition and its batch starts at sequence %d", h.ProducerID, first)
		}
	case h.ProducerEpoch < e.epoch:
		return nil, kerrf(kerr.InvalidProducerEpoch, "producer %d epoch %d is older than the current %d", h.ProducerID, h.ProducerEpoch, e.epoch)
	case h.ProducerEpoch > e.epoch:
		if first != 0 {
			return nil, kerrf(kerr.OutOfOrderSequenceNumber, "new epoch %d of producer %d must start at sequence 0, not %d", h.ProducerEpoch, h.ProducerID, first)
		}
	default:
		for i := range e.batches {
			if b := &e.batches[i]; b.FirstSeq == first && b.LastSeq == last {
				return b, nil
			}
		}
		if want := seqAdd(e.lastSequence(), 1); first != want {
			return nil, kerrf(kerr.OutOfOrderSequenceNumber, "producer %d epoch %d: sequence %d, expected %d", h.ProducerID, h.ProducerEpoch, first, want)
		}
	}
	if e != nil && e.txnFirst >= 0 && !h.IsTransactional() {
		return nil, kerrf(kerr.InvalidTxnState, "expected a transactional write from producer %d, whose transaction is open since offset %d", h.ProducerID, e.txnFirst)
	}
	return nil, nil
}

// Update records an appended data batch whose first offset is
// firstOffset; a transactional batch of a producer without an open
// transaction opens one there.
func (ps *State) Update(h *record.Header, firstOffset int64, nowMs int64) {
	e := ps.m[h.ProducerID]
	if e == nil {
		e = newEntry(h.ProducerEpoch)
		ps.m[h.ProducerID] = e
	}
	e.setEpoch(h.ProducerEpoch)
	b := Batch{FirstSeq: -1, LastSeq: -1, FirstOffset: firstOffset, LastOffset: firstOffset + int64(h.LastOffsetDelta)}
	if h.BaseSequence >= 0 {
		b.FirstSeq, b.LastSeq = h.BaseSequence, seqAdd(h.BaseSequence, h.LastOffsetDelta)
	}
	e.batches = append(e.batches, b)
	if len(e.batches) > maxProducerBatches {
		e.batches = e.batches[1:]
	}
	e.lastMs = nowMs
	if h.IsTransactional() {
		delete(ps.verifying, h.ProducerID)
		if e.txnFirst < 0 {
			e.txnFirst = firstOffset
			ps.open = insertSpan(ps.open, TxnSpan{ProducerID: h.ProducerID, First: firstOffset, Last: -1})
		}
	}
}

// Expire forgets producers whose last append is older than cutoffMs and
// that have no open transaction (Kafka keeps those: their transaction
// holds the last stable offset until a marker ends it), and verifications
// begun before it.
func (ps *State) Expire(cutoffMs int64) int {
	n := 0
	for id, e := range ps.m {
		if e.lastMs < cutoffMs && e.txnFirst < 0 {
			delete(ps.m, id)
			n++
		}
	}
	for id, v := range ps.verifying {
		if v.ms < cutoffMs {
			delete(ps.verifying, id)
		}
	}
	return n
}

// ProducerInfo is what a partition knows of one producer, as
// DescribeProducers (KIP-664) reports it.
type ProducerInfo struct {
	ProducerID            int64
	Epoch                 int16
	LastSequence          int32 // -1: none in this epoch
	LastTimestamp         int64 // of its last append, ms
	CoordinatorEpoch      int32 // of its last marker, -1: none
	CurrentTxnStartOffset int64 // -1: no open transaction
}

// Active returns the producers of the partition, by producer id.
func (ps *State) Active() []ProducerInfo {
	out := make([]ProducerInfo, 0, len(ps.m))
	for id, e := range ps.m {
		out = append(out, ProducerInfo{ProducerID: id, Epoch: e.epoch, LastSequence: e.lastSequence(), LastTimestamp: e.lastMs,
			CoordinatorEpoch: e.coordinatorEpoch, CurrentTxnStartOffset: e.txnFirst})
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}
