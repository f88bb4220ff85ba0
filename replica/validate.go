package replica

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/record"
	"samsa/record/codec"
)

// inflateLimit bounds what one batch may decompress to: 32 times
// max.message.bytes, at least 64 MiB and at most 1 GiB. Past it the batch
// is refused (RECORD_LIST_TOO_LARGE), so a decompression bomb costs at most
// this much memory.
func inflateLimit(maxMessageBytes int64) int {
	return int(min(max(32*maxMessageBytes, 64<<20), 1<<30))
}

// inflating bounds how many batches decompress at once, broker-wide. The
// work is CPU-bound, so more than a few gains nothing, and each may hold
// up to inflateLimit bytes: this bounds what concurrent bombs can take.
var inflating = make(chan struct{}, max(2, 2*runtime.GOMAXPROCS(0)))

// inflateBufs recycles decompression buffers across requests.
var inflateBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// validateBatches makes the record-level checks of Kafka's LogValidator on
// a producer's batches (their headers are already checked): no control
// batches, a producer id on transactional ones, a known codec (zstd needs
// Produce v7+), and for every batch, compressed or not, records that
// frame exactly with offset deltas
// 0, 1, 2, ... and timestamps within message.timestamp.difference.max.ms.
// Compressed batches are decompressed within inflateLimit. It then applies
// the topic's compression.type, recompressing batches whose codec differs
// (producer keeps them as they came), and LogAppendTime, in bs (whose Buf
// may become a new buffer). It returns the headers of the idempotent and
// transactional batches (producer id >= 0), in order, for the producer
// state.
func validateBatches(version int16, ts *Topic, p *Partition, bs *record.Batches, now int64) ([]record.Header, error) {
	maxTsDiff := ts.Config.TimestampDifferenceMaxMs
	requireKey := ts.Config.CleanupPolicy.Compact
	if maxTsDiff == config.MaxLong {
		maxTsDiff = -1
	}
	logAppendTime := ts.Config.MessageTimestampType == config.LogAppendTime
	target, recompress := ts.Config.CompressionType.Codec, !ts.Config.CompressionType.Producer
	limit := inflateLimit(int64(ts.Config.MaxMessageBytes))
	bufp := inflateBufs.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= 4<<20 { // keep the pool's buffers modest
			inflateBufs.Put(bufp)
		}
	}()
	var idem []record.Header
	var out []byte // the rebuilt set, when a batch is recompressed
	pos := 0       // batch i's position in bs.Buf
	for i := range bs.Count {
		h := bs.Header(i)
		batch := bs.Buf[pos : pos+int(h.Size())]
		pos += int(h.Size())
		if h.Attributes&record.AttrControl != 0 {
			return nil, apierr.Errorf(kerr.InvalidRecord, "clients may not produce control batches")
		}
		if h.IsTransactional() && h.ProducerID < 0 {
			return nil, apierr.Errorf(kerr.InvalidRecord, "transactional batch without a producer id")
		}
		c := codec.Codec(h.Codec())
		if c > codec.Zstd {
			return nil, apierr.Errorf(kerr.CorruptMessage, "unknown compression codec %d", h.Codec())
		}
		if c == codec.Zstd && version < 7 {
			return nil, apierr.Errorf(kerr.UnsupportedCompressionType, "zstd needs Produce v7 or later, this request is v%d", version)
		}
		if c != codec.None {
			inflating <- struct{}{}
		}
		recs, err := record.Inflate(batch, h, *bufp, limit)
		if c != codec.None {
			<-inflating
		}
		if err != nil {
			if errors.Is(err, codec.ErrTooLarge) {
				return nil, apierr.Errorf(kerr.RecordListTooLarge, "%v batch inflates past %d bytes", c, limit)
			}
			return nil, apierr.Errorf(kerr.CorruptMessage, "%v batch: %v", c, err)
		}
		if c != codec.None {
			*bufp = recs
		}
		if err := record.Check(recs, h, now, maxTsDiff, requireKey); err != nil {
			var re *record.RecordsError
			if errors.As(err, &re) {
				return nil, refusedRecords(re, p, now, maxTsDiff)
			}
			return nil, produceError(err)
		}
		if h.ProducerID >= 0 {
			idem = append(idem, *h)
		}
		final := batch // where the batch ends up: in place, or copied into out
		if recompress && c != target {
			if out == nil {
				out = make([]byte, 0, len(bs.Buf)) // the batches before this one, as they were
				out = append(out, bs.Buf[:pos-len(batch)]...)
			}
			start := len(out)
			b := record.Builder{Header: *h}
			b.Header.Attributes = h.Attributes&^record.CodecMask | int16(target)
			b.AddEncoded(recs, h.RecordCount)
			if out, err = b.AppendTo(out); err != nil {
				return nil, apierr.Errorf(kerr.UnknownServerError, "recompress to %v: %v", target, err)
			}
			final = out[start:]
			bs.Replace(i, b.Header)
		} else if out != nil {
			out = append(out, batch...)
			final = out[len(out)-len(batch):]
		}
		if logAppendTime {
			bs.SetLogAppendTime(i, final, now)
		}
	}
	if out != nil {
		bs.Buf = out
	}
	return idem, nil
}

// refusedRecords words a batch refused for some of its records as Kafka's
// LogValidator does (KIP-467): each record with its index in the batch and
// a message; INVALID_TIMESTAMP for the batch if any record's timestamp is
// out of range, INVALID_RECORD otherwise, with the first three record
// errors in the batch's message.
func refusedRecords(re *record.RecordsError, p *Partition, now, maxTsDiff int64) error {
	recs := make([]apierr.RecordError, len(re.Records))
	badTs := false
	for i, r := range re.Records {
		recs[i].Index = r.Index
		switch r.Err {
		case record.ErrTimestamp:
			badTs = true
			recs[i].Msg = fmt.Sprintf("Timestamp %d of message with offset %d is out of range. The timestamp should be within [%d, %d]",
				r.Timestamp, r.Offset, now-maxTsDiff, now+maxTsDiff)
		default:
			recs[i].Msg = fmt.Sprintf("Compacted topic cannot accept message without key in topic partition %s-%d", p.Topic, p.Index)
		}
	}
	if badTs {
		return &apierr.Error{Code: kerr.InvalidTimestamp, Msg: "One or more records have been rejected due to invalid timestamp", Records: recs}
	}
	var first strings.Builder
	for i, r := range recs[:min(len(recs), 3)] {
		if i > 0 {
			first.WriteString(", ")
		}
		fmt.Fprintf(&first, "RecordError(batchIndex=%d, message='%s')", r.Index, r.Msg)
	}
	return &apierr.Error{Code: kerr.InvalidRecord, Records: recs, Msg: fmt.Sprintf(
		"One or more records have been rejected due to %d record errors in total, and only showing the first three errors at most: [%s]",
		len(recs), first.String())}
}
