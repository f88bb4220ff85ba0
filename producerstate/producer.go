package producerstate

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
	"samsa/record"
)

const (
	maxProducerBatches = 5 // batches remembered per producer, as Kafka does
	snapshotSuffix     = ".snapshot"
	snapshotVersion    = 1
)

// Batch is one appended batch of a producer.
type Batch struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset int64
}

// entry is what a partition knows of one producer.
type entry struct {
	epoch   int16
	batches []Batch // oldest first, at most maxProducerBatches
	// lastMs is the wall time of the producer's last append, for
	// producer.id.expiration.ms.
	lastMs int64
}

func (e *entry) lastSequence() int32 { return e.batches[len(e.batches)-1].LastSeq }

// State is a partition's producer table. The partition's append
// lock guards it; snapshots copy it under that lock.
type State struct {
	m map[int64]*entry
}

func NewState() *State { return &State{m: map[int64]*entry{}} }

// Len is the number of producers in the table.
func (ps *State) Len() int { return len(ps.m) }

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

// Check decides what to do with an idempotent batch: append (nil, nil),
// answer with the offsets of the identical batch already written (dup),
// or refuse it with Kafka's error.
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
	return nil, nil
}

// Update records an appended batch.
func (ps *State) Update(h *record.Header, firstOffset int64, nowMs int64) {
	e := ps.m[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &entry{epoch: h.ProducerEpoch}
		ps.m[h.ProducerID] = e
	}
	e.batches = append(e.batches, Batch{
		FirstSeq: h.BaseSequence, LastSeq: seqAdd(h.BaseSequence, h.LastOffsetDelta),
		FirstOffset: firstOffset, LastOffset: firstOffset + int64(h.LastOffsetDelta),
	})
	if len(e.batches) > maxProducerBatches {
		e.batches = e.batches[1:]
	}
	e.lastMs = nowMs
}

// Expire forgets Producers whose last append is older than cutoffMs.
func (ps *State) Expire(cutoffMs int64) int {
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

// ErrBadSnapshot is a snapshot file that is not one: too short, another
// version, a size that is not its entries', an entry no producer could
// have, or (ErrSnapshotCRC) a CRC that does not match.
var ErrBadSnapshot = errors.New("producerstate: corrupt snapshot")

// ErrSnapshotCRC is a snapshot whose CRC does not match its bytes. It is
// also ErrBadSnapshot.
var ErrSnapshotCRC = fmt.Errorf("%w: crc mismatch", ErrBadSnapshot)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func EncodeSnapshot(ps *State) []byte {
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
		b = binary.BigEndian.AppendUint32(b, uint32(last.LastSeq))
		b = binary.BigEndian.AppendUint64(b, uint64(last.LastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(last.LastOffset-last.FirstOffset))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastMs))
		b = binary.BigEndian.AppendUint32(b, ^uint32(0)) // coordinatorEpoch -1
		b = binary.BigEndian.AppendUint64(b, ^uint64(0)) // no transaction
	}
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], castagnoli))
	return b
}

// SnapshotEntry is one producer of a snapshot file, as written.
type SnapshotEntry struct {
	ProducerID            int64
	Epoch                 int16
	LastSequence          int32
	LastOffset            int64
	OffsetDelta           int32 // LastOffset minus the first offset of the last batch
	Timestamp             int64 // of the producer's last append, ms
	CoordinatorEpoch      int32
	CurrentTxnFirstOffset int64 // -1: no open transaction
}

// ReadSnapshot reads a snapshot file's entries as written, checking its
// framing: header, version, and a size of exactly the entries it counts.
// With a CRC that does not match, it returns the entries (when they
// frame) and ErrSnapshotCRC: a tool may show them, the broker must not
// trust them. It checks nothing of the entries' values (DecodeSnapshot
// does) and never panics.
func ReadSnapshot(b []byte) ([]SnapshotEntry, error) {
	if len(b) < 10 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSnapshot, len(b))
	}
	if v := binary.BigEndian.Uint16(b); v != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadSnapshot, v)
	}
	var crcErr error
	if crc32.Checksum(b[6:], castagnoli) != binary.BigEndian.Uint32(b[2:]) {
		crcErr = ErrSnapshotCRC
	}
	n := int(int32(binary.BigEndian.Uint32(b[6:])))
	if n < 0 || len(b)-10 != n*snapshotEntrySize {
		if crcErr != nil {
			return nil, crcErr
		}
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrBadSnapshot, n, len(b)-10)
	}
	entries := make([]SnapshotEntry, 0, n)
	be := binary.BigEndian
	for p := b[10:]; len(p) > 0; p = p[snapshotEntrySize:] {
		entries = append(entries, SnapshotEntry{
			ProducerID:            int64(be.Uint64(p)),
			Epoch:                 int16(be.Uint16(p[8:])),
			LastSequence:          int32(be.Uint32(p[10:])),
			LastOffset:            int64(be.Uint64(p[14:])),
			OffsetDelta:           int32(be.Uint32(p[22:])),
			Timestamp:             int64(be.Uint64(p[26:])),
			CoordinatorEpoch:      int32(be.Uint32(p[34:])),
			CurrentTxnFirstOffset: int64(be.Uint64(p[38:])),
		})
	}
	return entries, crcErr
}

// DecodeSnapshot parses a snapshot file; it never panics (fuzzed).
func DecodeSnapshot(b []byte) (*State, error) {
	entries, err := ReadSnapshot(b)
	if err != nil {
		return nil, err
	}
	ps := NewState()
	for _, e := range entries {
		id, lastSeq, lastOff, delta := e.ProducerID, e.LastSequence, e.LastOffset, e.OffsetDelta
		if id < 0 || lastSeq < 0 || delta < 0 || lastOff < int64(delta) {
			return nil, fmt.Errorf("%w: bad entry for producer %d", ErrBadSnapshot, id)
		}
		ps.m[id] = &entry{
			epoch:  e.Epoch,
			lastMs: e.Timestamp,
			batches: []Batch{{
				FirstSeq: seqSub(lastSeq, delta), LastSeq: lastSeq,
				FirstOffset: lastOff - int64(delta), LastOffset: lastOff,
			}},
		}
	}
	return ps, nil
}

// Producers is a partition's producer state with its snapshot files.
type Producers struct {
	dir string
	// Mu is the partition's append lock: Check, append, Update run under it.
	Mu    sync.Mutex
	State *State
	// SnapBase is the active segment base at the last snapshot, to take
	// one per segment roll.
	SnapBase int64
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

// Load restores a partition's producer state: the newest valid
// snapshot at or below the log end, then every batch after it.
func Load(l *logfile.Log) (*Producers, error) {
	p := &Producers{dir: l.Dir(), State: NewState()}
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
		ps, err := DecodeSnapshot(data)
		if err != nil {
			continue // an older snapshot, or the whole log, will do
		}
		p.State, from = ps, max(off, from)
		break
	}
	err := l.ScanBatches(from, func(h *record.Header) bool {
		if h.ProducerID >= 0 && h.BaseOffset >= from {
			p.State.Update(h, h.BaseOffset, 0)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("producerstate: rebuild the state of %s: %w", l.Dir(), err)
	}
	// Entries rebuilt from the log carry no append time: count it from now.
	now := nowMs()
	for _, e := range p.State.m {
		if e.lastMs == 0 {
			e.lastMs = now
		}
	}
	segs := l.SegmentBases()
	p.SnapBase = segs[len(segs)-1]
	return p, nil
}

// Snapshot writes the state as of offset (the log end, under Mu) and
// keeps the two newest snapshot files.
func (p *Producers) Snapshot(offset int64) error {
	if err := vfs.WriteFileAtomic(vfs.OS, snapshotPath(p.dir, offset), EncodeSnapshot(p.State)); err != nil {
		return err
	}
	offs := snapshotOffsets(p.dir)
	for i := 0; i+2 < len(offs); i++ {
		os.Remove(snapshotPath(p.dir, offs[i]))
	}
	return nil
}
