package replica

import (
	"errors"
	"runtime"
	"sync"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/record"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
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
// batches, a known codec (zstd needs Produce v7+), and for every batch,
// compressed or not, records that frame exactly with offset deltas
// 0, 1, 2, ... and timestamps within message.timestamp.difference.max.ms.
// Compressed batches are decompressed within inflateLimit. It then applies
// the topic's compression.type, recompressing batches whose codec differs
// (producer keeps them as they came), and LogAppendTime. It returns the
// batches to append, which may be a new buffer.
func validateBatches(version int16, ts *Topic, bs logfile.Batches, now int64) (logfile.Batches, error) {
	maxTsDiff := ts.Config.TimestampDifferenceMaxMs
	requireKey := ts.Config.CleanupPolicy.Compact
	if maxTsDiff == config.MaxLong {
		maxTsDiff = -1
	}
	target, recompress := ts.Config.CompressionType.Codec, !ts.Config.CompressionType.Producer
	limit := inflateLimit(int64(ts.Config.MaxMessageBytes))
	bufp := inflateBufs.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= 4<<20 { // keep the pool's buffers modest
			inflateBufs.Put(bufp)
		}
	}()
	var out []byte // the rebuilt set, when a batch is recompressed
	for pos := 0; pos < len(bs.Buf); {
		h, _ := logfile.ParseHeader(bs.Buf[pos:])
		batch := bs.Buf[pos : pos+int(h.Size())]
		pos += int(h.Size())
		if h.Attributes&logfile.AttrControl != 0 {
			return bs, apierr.Errorf(kerr.InvalidRecord, "clients may not produce control batches")
		}
		if h.Attributes&logfile.AttrTransactional != 0 {
			return bs, apierr.Errorf(kerr.InvalidRecord, "transactional batches are not supported yet")
		}
		c := codec.Codec(h.Codec())
		if c > codec.Zstd {
			return bs, apierr.Errorf(kerr.CorruptMessage, "unknown compression codec %d", h.Codec())
		}
		if c == codec.Zstd && version < 7 {
			return bs, apierr.Errorf(kerr.UnsupportedCompressionType, "zstd needs Produce v7 or later, this request is v%d", version)
		}
		if c != codec.None {
			inflating <- struct{}{}
		}
		recs, err := record.Inflate(batch, &h, *bufp, limit)
		if c != codec.None {
			<-inflating
		}
		if err != nil {
			if errors.Is(err, codec.ErrTooLarge) {
				return bs, apierr.Errorf(kerr.RecordListTooLarge, "%v batch inflates past %d bytes", c, limit)
			}
			return bs, apierr.Errorf(kerr.CorruptMessage, "%v batch: %v", c, err)
		}
		if c != codec.None {
			*bufp = recs
		}
		if err := record.Check(recs, &h, now, maxTsDiff, requireKey, nil); err != nil {
			return bs, produceError(err)
		}
		if recompress && c != target {
			if out == nil {
				out = make([]byte, 0, len(bs.Buf)) // the batches before this one, as they were
				out = append(out, bs.Buf[:pos-int(h.Size())]...)
			}
			var err error
			if out, err = rebuildBatch(out, batch, target, recs); err != nil {
				return bs, apierr.Errorf(kerr.UnknownServerError, "recompress to %v: %v", target, err)
			}
		} else if out != nil {
			out = append(out, batch...)
		}
	}
	if out != nil {
		bs.Buf = out
	}
	if ts.Config.MessageTimestampType == config.LogAppendTime {
		for pos := 0; pos < len(bs.Buf); {
			h, _ := logfile.ParseHeader(bs.Buf[pos:])
			logfile.SetLogAppendTime(bs.Buf[pos:pos+int(h.Size())], now)
			pos += int(h.Size())
		}
	}
	return bs, nil
}

// rebuildBatch appends batch to out with its records (already decompressed)
// compressed with c: header fields kept, codec bits, length and CRC new.
func rebuildBatch(out, batch []byte, c codec.Codec, records []byte) ([]byte, error) {
	start := len(out)
	out = append(out, batch[:logfile.HeaderSize]...)
	out, err := codec.Compress(c, out, records)
	if err != nil {
		return out[:start], err
	}
	nb := out[start:]
	logfile.SetCodec(nb, int(c))
	logfile.SetLength(nb, int32(len(nb)-logfile.LogOverhead))
	logfile.SetCRC(nb)
	return out, nil
}
