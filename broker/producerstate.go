package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
	"samsa/logfile/vfs"
)

// Idempotent producers (KIP-98): per partition and producer ID, the epoch
// and the last five batches' sequence ranges and offsets, so that a retried
// batch returns its original offsets instead of being written twice, and
// a gap or an old epoch is refused.

const (
	maxProducerBatches = 5 // batches remembered per producer, as Kafka does
	snapshotSuffix     = ".snapshot"
	snapshotVersion    = 1
)

// producerBatch is one appended batch of a producer.
type producerBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
}

// producerEntry is what a partition knows of one producer.
type producerEntry struct {
	epoch   int16
	batches []producerBatch // oldest first, at most maxProducerBatches
	// lastMs is the wall time of the producer's last append, for
	// producer.id.expiration.ms.
	lastMs int64
}

func (e *producerEntry) lastSeq() int32 { return e.batches[len(e.batches)-1].lastSeq }

// producerState is a partition's producer table. The partition's append
// lock guards it; snapshots copy it under that lock.
type producerState struct {
	m map[int64]*producerEntry
}

func newProducerState() *producerState { return &producerState{m: map[int64]*producerEntry{}} }

// seqAdd adds to a sequence number, wrapping past MaxInt32 to 0 as Kafka does.
func seqAdd(seq int32, n int32) int32 {
	return int32((int64(seq) + int64(n)) % (math.MaxInt32 + 1))
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

// check decides what to do with an idempotent batch: append (nil, nil),
// answer with the offsets of the identical batch already written (dup),
// or refuse it with Kafka's error.
func (ps *producerState) check(h *logfile.Header) (dup *producerBatch, err error) {
	e := ps.m[h.ProducerID]
	first, last := h.BaseSequence, seqAdd(h.BaseSequence, h.LastOffsetDelta)
	if h.BaseSequence < 0 {
		return nil, errf(kerr.InvalidRecord, "idempotent batch of producer %d without a sequence", h.ProducerID)
	}
	switch {
	case e == nil:
		if first != 0 {
			return nil, errf(kerr.UnknownProducerID, "producer %d is unknown to this partition and its batch starts at sequence %d", h.ProducerID, first)
		}
	case h.ProducerEpoch < e.epoch:
		return nil, errf(kerr.InvalidProducerEpoch, "producer %d epoch %d is older than the current %d", h.ProducerID, h.ProducerEpoch, e.epoch)
	case h.ProducerEpoch > e.epoch:
		if first != 0 {
			return nil, errf(kerr.OutOfOrderSequenceNumber, "new epoch %d of producer %d must start at sequence 0, not %d", h.ProducerEpoch, h.ProducerID, first)
		}
	default:
		for i := range e.batches {
			if b := &e.batches[i]; b.firstSeq == first && b.lastSeq == last {
				return b, nil
			}
		}
		if want := seqAdd(e.lastSeq(), 1); first != want {
			return nil, errf(kerr.OutOfOrderSequenceNumber, "producer %d epoch %d: sequence %d, expected %d", h.ProducerID, h.ProducerEpoch, first, want)
		}
	}
	return nil, nil
}

// update records an appended batch.
func (ps *producerState) update(h *logfile.Header, firstOffset int64, nowMs int64) {
	e := ps.m[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producerEntry{epoch: h.ProducerEpoch}
		ps.m[h.ProducerID] = e
	}
	e.batches = append(e.batches, producerBatch{
		firstSeq: h.BaseSequence, lastSeq: seqAdd(h.BaseSequence, h.LastOffsetDelta),
		firstOffset: firstOffset, lastOffset: firstOffset + int64(h.LastOffsetDelta),
	})
	if len(e.batches) > maxProducerBatches {
		e.batches = e.batches[1:]
	}
	e.lastMs = nowMs
}

// expire forgets producers whose last append is older than cutoffMs.
func (ps *producerState) expire(cutoffMs int64) int {
	n := 0
	for id, e := range ps.m {
		if e.lastMs < cutoffMs {
			delete(ps.m, id)
			n++
		}
	}
	return n
}

// Snapshot files, Kafka's producer snapshot format version 1 (part of the
// format: never change):
//
//	version int16 | crc uint32 (CRC-32C of what follows) | count int32 |
//	count x (producerId int64, epoch int16, lastSequence int32,
//	         lastOffset int64, offsetDelta int32, timestamp int64,
//	         coordinatorEpoch int32, currentTxnFirstOffset int64)
//
// As in Kafka only each producer's last batch is kept; batches after the
// snapshot are rebuilt from the log.
const snapshotEntrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8

var errBadSnapshot = errors.New("producer snapshot corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeSnapshot(ps *producerState) []byte {
	ids := make([]int64, 0, len(ps.m))
	for id := range ps.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := make([]byte, 0, 10+len(ids)*snapshotEntrySize)
	b = binary.BigEndian.AppendUint16(b, snapshotVersion)
	b = append(b, 0, 0, 0, 0) // crc
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		e := ps.m[id]
		last := e.batches[len(e.batches)-1]
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(last.lastSeq))
		b = binary.BigEndian.AppendUint64(b, uint64(last.lastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(last.lastOffset-last.firstOffset))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastMs))
		b = binary.BigEndian.AppendUint32(b, ^uint32(0)) // coordinatorEpoch -1
		b = binary.BigEndian.AppendUint64(b, ^uint64(0)) // no transaction
	}
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], castagnoli))
	return b
}

// decodeSnapshot parses a snapshot file; it never panics (fuzzed).
func decodeSnapshot(b []byte) (*producerState, error) {
	if len(b) < 10 {
		return nil, fmt.Errorf("%w: %d bytes", errBadSnapshot, len(b))
	}
	if v := binary.BigEndian.Uint16(b); v != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d", errBadSnapshot, v)
	}
	if crc32.Checksum(b[6:], castagnoli) != binary.BigEndian.Uint32(b[2:]) {
		return nil, fmt.Errorf("%w: crc mismatch", errBadSnapshot)
	}
	n := int(int32(binary.BigEndian.Uint32(b[6:])))
	if n < 0 || len(b)-10 != n*snapshotEntrySize {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", errBadSnapshot, n, len(b)-10)
	}
	ps := newProducerState()
	for p := b[10:]; len(p) > 0; p = p[snapshotEntrySize:] {
		id := int64(binary.BigEndian.Uint64(p))
		lastSeq := int32(binary.BigEndian.Uint32(p[10:]))
		lastOff := int64(binary.BigEndian.Uint64(p[14:]))
		delta := int32(binary.BigEndian.Uint32(p[22:]))
		if id < 0 || lastSeq < 0 || delta < 0 || lastOff < int64(delta) {
			return nil, fmt.Errorf("%w: bad entry for producer %d", errBadSnapshot, id)
		}
		ps.m[id] = &producerEntry{
			epoch:  int16(binary.BigEndian.Uint16(p[8:])),
			lastMs: int64(binary.BigEndian.Uint64(p[26:])),
			batches: []producerBatch{{
				firstSeq: seqSub(lastSeq, delta), lastSeq: lastSeq,
				firstOffset: lastOff - int64(delta), lastOffset: lastOff,
			}},
		}
	}
	return ps, nil
}

// producers is a partition's producer state with its snapshot files.
type producers struct {
	dir   string
	mu    sync.Mutex // the partition's append lock: check, append, update
	state *producerState
	// snapBase is the active segment base at the last snapshot, to take
	// one per segment roll.
	snapBase int64
}

func snapshotPath(dir string, offset int64) string {
	return filepath.Join(dir, logfile.SegmentName(offset, snapshotSuffix))
}

// snapshotOffsets lists the snapshot files of a partition, ascending.
func snapshotOffsets(dir string) []int64 {
	ents, _ := os.ReadDir(dir)
	var out []int64
	for _, e := range ents {
		if stem, ok := strings.CutSuffix(e.Name(), snapshotSuffix); ok && len(stem) == 20 {
			if off, err := strconv.ParseInt(stem, 10, 64); err == nil {
				out = append(out, off)
			}
		}
	}
	slices.Sort(out)
	return out
}

// loadProducers restores a partition's producer state: the newest valid
// snapshot at or below the log end, then every batch after it.
func loadProducers(l *logfile.Log) (*producers, error) {
	p := &producers{dir: l.Dir(), state: newProducerState()}
	end := l.EndOffset()
	from := l.StartOffset()
	offs := snapshotOffsets(p.dir)
	for i := len(offs) - 1; i >= 0; i-- {
		off := offs[i]
		if off > end {
			os.Remove(snapshotPath(p.dir, off)) // the log was cut below it
			continue
		}
		data, err := os.ReadFile(snapshotPath(p.dir, off))
		if err != nil {
			continue
		}
		ps, err := decodeSnapshot(data)
		if err != nil {
			continue // an older snapshot, or the whole log, will do
		}
		p.state, from = ps, max(off, from)
		break
	}
	err := l.ScanBatches(from, func(h *logfile.Header) bool {
		if h.ProducerID >= 0 && h.BaseOffset >= from {
			p.state.update(h, h.BaseOffset, 0)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild producer state of %s: %w", l.Dir(), err)
	}
	// Entries rebuilt from the log carry no append time: count it from now.
	now := nowMs()
	for _, e := range p.state.m {
		if e.lastMs == 0 {
			e.lastMs = now
		}
	}
	segs := l.SegmentBases()
	p.snapBase = segs[len(segs)-1]
	return p, nil
}

// snapshot writes the state as of offset (the log end, under p.mu) and
// keeps the two newest snapshot files.
func (p *producers) snapshot(offset int64) error {
	if err := vfs.WriteFileAtomic(vfs.OS, snapshotPath(p.dir, offset), encodeSnapshot(p.state)); err != nil {
		return err
	}
	offs := snapshotOffsets(p.dir)
	for i := 0; i+2 < len(offs); i++ {
		os.Remove(snapshotPath(p.dir, offs[i]))
	}
	return nil
}
