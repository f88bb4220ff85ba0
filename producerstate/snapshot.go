package producerstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
)

// Snapshot files, Kafka's producer snapshot format version 1 (part of the
// format: never change):
//
//	version int16 | crc uint32 (CRC-32C of what follows) | count int32 |
//	count x (producerId int64, epoch int16, lastSequence int32,
//	         lastOffset int64, offsetDelta int32, timestamp int64,
//	         coordinatorEpoch int32, currentTxnFirstOffset int64)
//
// As in Kafka only each producer's last batch is kept; batches after the
// snapshot are rebuilt from the log. A producer with no batch in its
// epoch (a marker of a new epoch came last) has lastSequence and
// lastOffset -1 and offsetDelta 0; currentTxnFirstOffset is -1 when no
// transaction is open, coordinatorEpoch -1 before any marker.
const snapshotEntrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8

const (
	snapshotSuffix  = ".snapshot"
	snapshotVersion = 1
)

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
		lastSeq, lastOff, delta := int32(-1), int64(-1), int32(0)
		if n := len(e.batches); n > 0 {
			last := e.batches[n-1]
			lastSeq, lastOff, delta = last.LastSeq, last.LastOffset, int32(last.LastOffset-last.FirstOffset)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(lastSeq))
		b = binary.BigEndian.AppendUint64(b, uint64(lastOff))
		b = binary.BigEndian.AppendUint32(b, uint32(delta))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastMs))
		b = binary.BigEndian.AppendUint32(b, uint32(e.coordinatorEpoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.txnFirst))
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
		if id < 0 || lastSeq < -1 || e.CurrentTxnFirstOffset < -1 || (lastOff >= 0 && (delta < 0 || lastOff < int64(delta))) {
			return nil, fmt.Errorf("%w: bad entry for producer %d", ErrBadSnapshot, id)
		}
		if i := spanOf(ps.open, id); i >= 0 {
			ps.open = slices.Delete(ps.open, i, i+1) // the last entry of a producer wins, as in Kafka
		}
		en := newEntry(e.Epoch)
		en.lastMs, en.coordinatorEpoch, en.txnFirst = e.Timestamp, e.CoordinatorEpoch, e.CurrentTxnFirstOffset
		if lastOff >= 0 {
			b := Batch{FirstSeq: -1, LastSeq: -1, FirstOffset: lastOff - int64(delta), LastOffset: lastOff}
			if lastSeq >= 0 {
				b.FirstSeq, b.LastSeq = seqSub(lastSeq, delta), lastSeq
			}
			en.batches = []Batch{b}
		}
		ps.m[id] = en
		if en.txnFirst >= 0 {
			ps.open = insertSpan(ps.open, TxnSpan{ProducerID: id, First: en.txnFirst, Last: -1})
		}
	}
	return ps, nil
}
