package replica

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/record"
)

// ListOffsets timestamps with a special meaning.
const (
	tsLatest   = -1
	tsEarliest = -2
	tsMax      = -3
)

// OldStyleOffsets answers v0: offsets at or before the timestamp, newest
// first, at most max of them; this log offers its start and end.
func OldStyleOffsets(p *Partition, ts int64, max int32) []int64 {
	l := p.Log
	var offs []int64
	switch ts {
	case tsLatest:
		offs = []int64{l.HighWatermark(), l.StartOffset()}
	case tsEarliest:
		offs = []int64{l.StartOffset()}
	default:
		offs = []int64{l.StartOffset()}
	}
	if offs[0] == offs[len(offs)-1] {
		offs = offs[:1]
	}
	if int(max) < len(offs) && max >= 0 {
		offs = offs[:max]
	}
	return offs
}

// OffsetFor resolves a ListOffsets timestamp to an offset and timestamp:
// -2 the log start, -1 the high watermark, -3 (KIP-734) the record with the
// largest timestamp, any other the first record at or after it.
func OffsetFor(p *Partition, ts int64) (int64, int64, error) {
	return OffsetForIsolation(p, ts, false)
}

// OffsetForIsolation is OffsetFor at an isolation level: for
// read_committed (KIP-98) the last stable offset takes the high
// watermark's place, as the latest offset and as the bound of the offsets
// a timestamp may find.
func OffsetForIsolation(p *Partition, ts int64, committed bool) (int64, int64, error) {
	l := p.Log
	lso := l.LastStableOffset()
	hw := l.HighWatermark()
	p.stateMu.RLock()
	epochStart := p.epochStart
	p.stateMu.RUnlock()
	if hw < epochStart {
		// A new leader whose high watermark has not yet reached the start
		// of its epoch cannot tell what is committed (Kafka's
		// OffsetNotAvailableException): the client retries.
		return -1, -1, apierr.Errorf(kerr.OffsetNotAvailable, "the high watermark %d of %s-%d has not reached the start %d of the current leader epoch", hw, p.Topic, p.Index, epochStart)
	}
	limit := hw // the last offset a consumer may fetch, exclusive
	if committed {
		limit = min(lso, hw)
	}
	switch ts {
	case tsLatest:
		return limit, -1, nil
	case tsEarliest:
		return l.StartOffset(), -1, nil
	case tsMax:
		t, off := l.MaxTimestamp()
		if off < 0 || off >= limit {
			return -1, -1, nil
		}
		// off is the batch's last offset; answer with the record that has
		// the timestamp (KIP-734, as Kafka does since KAFKA-16310).
		if rec, ok := recordAtTimestamp(l, off, t); ok {
			off = rec
		}
		return off, t, nil
	}
	if ts < 0 {
		return -1, -1, apierr.Errorf(kerr.InvalidRequest, "timestamp %d", ts)
	}
	info, region, found, err := l.OffsetForTimestamp(ts)
	if err != nil {
		return -1, -1, apierr.Errorf(kerr.KafkaStorageError, "%v", err)
	}
	if !found {
		return -1, -1, nil
	}
	defer region.Release()
	off, rts := info.BaseOffset, info.MaxTimestamp
	if info.Attributes&record.AttrLogAppendTime == 0 {
		// Find the first record at or after ts within the batch.
		batch, err := region.Bytes()
		var recs []byte
		if err == nil {
			recs, err = record.Inflate(batch, &info.Header, nil, inflateLimit(l.Config().MaxMessageBytes))
		}
		if err == nil {
			for it := record.NewIter(recs, info.RecordCount); it.Next(); {
				if r := it.Record(); r.Timestamp(&info.Header) >= ts {
					off, rts = r.Offset(&info.Header), r.Timestamp(&info.Header)
					break
				}
			}
		}
	}
	if off < l.StartOffset() {
		off = l.StartOffset()
	}
	if off >= limit {
		return -1, -1, nil
	}
	return off, rts, nil
}

// recordAtTimestamp returns the offset of the first record of the batch
// holding offset whose timestamp is ts (LogAppendTime batches: the first).
func recordAtTimestamp(l *logfile.Log, offset, ts int64) (int64, bool) {
	info, batch, err := l.ReadBatchAt(offset)
	if err != nil {
		return 0, false
	}
	if info.Attributes&record.AttrLogAppendTime != 0 {
		return info.BaseOffset, true
	}
	recs, err := record.Inflate(batch, &info.Header, nil, inflateLimit(l.Config().MaxMessageBytes))
	if err != nil {
		return 0, false
	}
	for it := record.NewIter(recs, info.RecordCount); it.Next(); {
		if r := it.Record(); r.Timestamp(&info.Header) == ts {
			return r.Offset(&info.Header), true
		}
	}
	return 0, false
}
