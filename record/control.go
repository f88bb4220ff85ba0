package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Control records (Kafka's ControlRecordType and EndTransactionMarker):
// a control batch (attributes bit 5, and bit 4: markers end transactions)
// holds one record whose key names its type and, for the transaction
// markers COMMIT and ABORT, whose value carries the epoch of the
// transaction coordinator that wrote it. Part of the format: never change.
//
//	key   int16 version (0) | int16 type (0 ABORT, 1 COMMIT; Kafka's
//	                           KRaft types 2-6 are never written here)
//	value int16 version (0) | int32 coordinatorEpoch
//
// A reader takes a key version above 0 as version 0, as Kafka does, and
// refuses a negative one.
const (
	ControlAbort  int16 = 0
	ControlCommit int16 = 1

	controlKeySize   = 4
	markerValueSize  = 6
	controlVersion   = 0
	markerAttributes = AttrTransactional | AttrControl
)

// ErrControl is a control batch whose record is not a readable control
// record: no record, a short key or value, a negative version. It is also
// ErrCorrupt.
var ErrControl = fmt.Errorf("%w: bad control record", ErrCorrupt)

// EndTxnMarker is the record of a COMMIT or ABORT control batch.
type EndTxnMarker struct {
	Type             int16 // ControlCommit or ControlAbort
	CoordinatorEpoch int32
}

// Commit reports whether the marker commits its transaction.
func (m EndTxnMarker) Commit() bool { return m.Type == ControlCommit }

// IsControl reports whether h is a control batch's header.
func (h *Header) IsControl() bool { return h.Attributes&AttrControl != 0 }

// IsTransactional reports whether h is a transactional batch's header
// (markers are both control and transactional).
func (h *Header) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// AppendEndTxnMarker appends a control batch that ends producer id's
// transaction at its epoch: one record, key and value as above, at
// timestamp ts, base offset 0 and no sequence (-1) (Kafka's
// MemoryRecords.withEndTransactionMarker).
func AppendEndTxnMarker(dst []byte, producerID int64, epoch int16, m EndTxnMarker, ts int64) []byte {
	b := NewBuilder(ts)
	b.Header.Attributes = markerAttributes
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = producerID, epoch, -1
	key := binary.BigEndian.AppendUint16(nil, controlVersion)
	key = binary.BigEndian.AppendUint16(key, uint16(m.Type))
	val := binary.BigEndian.AppendUint16(nil, controlVersion)
	val = binary.BigEndian.AppendUint32(val, uint32(m.CoordinatorEpoch))
	b.Add(ts, key, val)
	out, err := b.AppendTo(dst)
	if err != nil {
		// An uncompressed batch cannot fail to build.
		panic(fmt.Sprintf("record: build end transaction marker: %v", err))
	}
	return out
}

// ParseControlKey returns the type a control record's key names
// (ErrControl for a short key or a negative version).
func ParseControlKey(key []byte) (int16, error) {
	if len(key) < controlKeySize {
		return 0, fmt.Errorf("%w: key of %d bytes", ErrControl, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return 0, fmt.Errorf("%w: key version %d", ErrControl, v)
	}
	return int16(binary.BigEndian.Uint16(key[2:])), nil
}

// ParseMarkerValue returns the coordinator epoch of a COMMIT or ABORT
// record's value (ErrControl for a short value or a negative version).
func ParseMarkerValue(value []byte) (int32, error) {
	if len(value) < markerValueSize {
		return 0, fmt.Errorf("%w: marker value of %d bytes", ErrControl, len(value))
	}
	if v := int16(binary.BigEndian.Uint16(value)); v < 0 {
		return 0, fmt.Errorf("%w: marker value version %d", ErrControl, v)
	}
	return int32(binary.BigEndian.Uint32(value[2:])), nil
}

// ControlType returns the type of a control batch's record: the batch's
// bytes (uncompressed: Kafka never compresses control batches) and its
// parsed header. A control batch without records (compaction emptied it)
// is ok=false with no error.
func ControlType(batch []byte, h *Header) (typ int16, ok bool, err error) {
	r, ok, err := controlRecord(batch, h)
	if err != nil || !ok {
		return 0, ok, err
	}
	typ, err = ParseControlKey(r.Key)
	return typ, err == nil, err
}

// ParseEndTxnMarker reads the marker of a COMMIT or ABORT control batch;
// ok is false for a control batch without records. Another control type
// is ErrControl.
func ParseEndTxnMarker(batch []byte, h *Header) (m EndTxnMarker, ok bool, err error) {
	typ, ok, err := ControlType(batch, h)
	if err != nil || !ok {
		return m, ok, err
	}
	if typ != ControlAbort && typ != ControlCommit {
		return m, false, fmt.Errorf("%w: type %d is no transaction marker", ErrControl, typ)
	}
	r, _, _ := controlRecord(batch, h)
	epoch, err := ParseMarkerValue(r.Value)
	if err != nil {
		return m, false, err
	}
	return EndTxnMarker{Type: typ, CoordinatorEpoch: epoch}, true, nil
}

// controlRecord returns the first record of a control batch.
func controlRecord(batch []byte, h *Header) (Record, bool, error) {
	if !h.IsControl() {
		return Record{}, false, errors.New("record: not a control batch")
	}
	if h.RecordCount == 0 {
		return Record{}, false, nil
	}
	if int64(len(batch)) < h.Size() || h.Size() < HeaderSize {
		return Record{}, false, fmt.Errorf("%w: control batch of %d bytes", ErrControl, len(batch))
	}
	recs, err := Inflate(batch[:h.Size()], h, nil, 1<<20)
	if err != nil {
		return Record{}, false, fmt.Errorf("%w: %v", ErrControl, err)
	}
	it := NewIter(recs, h.RecordCount)
	if !it.Next() {
		if err := it.Err(); err != nil {
			return Record{}, false, fmt.Errorf("%w: %v", ErrControl, err)
		}
		return Record{}, false, nil
	}
	return *it.Record(), true, nil
}
