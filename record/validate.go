package record

import (
	"errors"
	"fmt"

	"samsa/record/codec"
)

// Batch- and record-level errors of a producer's record set, each the
// cause of one Kafka error code (the broker maps them).
var (
	// ErrInvalidRecord: the header's record count and lastOffsetDelta
	// disagree (Kafka's INVALID_RECORD).
	ErrInvalidRecord = errors.New("record: invalid record count")
	// ErrBatchTooLarge: a batch exceeds max.message.bytes (MESSAGE_TOO_LARGE).
	ErrBatchTooLarge = errors.New("record: batch larger than max.message.bytes")
	// ErrFraming: the records do not frame exactly as the header says
	// (INVALID_RECORD). It is also ErrCorrupt.
	ErrFraming = fmt.Errorf("%w: record framing does not match the header", ErrCorrupt)
	// ErrTimestamp: a CreateTime timestamp outside
	// message.timestamp.difference.max.ms (INVALID_TIMESTAMP).
	ErrTimestamp = errors.New("record: record timestamp out of range")
	// ErrNoKey: a record without a key for a compacted topic, which
	// compaction could never keep (INVALID_RECORD).
	ErrNoKey = errors.New("record: a compacted topic cannot accept a record without a key")
)

// RecordError is one record that Check refused although it frames
// correctly: Kafka names each in a produce response's record_errors
// (KIP-467), so a client fails those records and no others for cause.
type RecordError struct {
	Index     int32 // the record's index in its batch
	Offset    int64 // its offset as the producer wrote it: base offset + delta
	Timestamp int64 // its timestamp (for ErrTimestamp)
	Err       error // ErrNoKey or ErrTimestamp
}

// RecordsError is Check's error when a batch frames correctly but some of
// its records are refused: every such record, in order, as Kafka's
// LogValidator collects them (a key error before a timestamp error for
// the same record). errors.Is matches the sentinel of each record error.
type RecordsError struct {
	Records []RecordError // never empty
}

func (e *RecordsError) Error() string {
	r := e.Records[0]
	return fmt.Sprintf("%v (record %d; %d of the batch's records refused)", r.Err, r.Index, len(e.Records))
}

// Unwrap returns the distinct sentinels of the records, ErrTimestamp first:
// one timestamp error makes the batch INVALID_TIMESTAMP in Kafka.
func (e *RecordsError) Unwrap() []error {
	var ts, key bool
	for _, r := range e.Records {
		ts = ts || r.Err == ErrTimestamp
		key = key || r.Err == ErrNoKey
	}
	errs := make([]error, 0, 2)
	if ts {
		errs = append(errs, ErrTimestamp)
	}
	if key {
		errs = append(errs, ErrNoKey)
	}
	return errs
}

// Inflate returns a batch's records region, decompressed into buf (reused
// when large enough) if the batch is compressed, within limit bytes
// (codec.ErrTooLarge past it). An uncompressed batch's region is returned
// in place.
func Inflate(batch []byte, h *Header, buf []byte, limit int) ([]byte, error) {
	recs := batch[HeaderSize:h.Size()]
	if h.Codec() == 0 {
		return recs, nil
	}
	return codec.Decompress(codec.Codec(h.Codec()), buf[:0], recs, limit)
}
