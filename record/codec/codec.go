package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is the compression codec in bits 0-2 of a batch's attributes. Part
// of the format: never change.
type Codec int8

const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

var names = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

func (c Codec) String() string {
	if c >= 0 && int(c) < len(names) {
		return names[c]
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Parse maps a compression.type value to a codec; "producer" is not a codec.
func Parse(s string) (Codec, bool) {
	switch s {
	case "none", "uncompressed":
		return None, true
	case "gzip":
		return Gzip, true
	case "snappy":
		return Snappy, true
	case "lz4":
		return LZ4, true
	case "zstd":
		return Zstd, true
	}
	return 0, false
}

var (
	// ErrCorrupt: the compressed bytes do not decode.
	ErrCorrupt = errors.New("codec: corrupt compressed data")
	// ErrTooLarge: the data inflates past the caller's limit.
	ErrTooLarge = errors.New("codec: decompressed data larger than the limit")
	// ErrUnknown: an attribute value that is no codec.
	ErrUnknown = errors.New("codec: unknown compression codec")
)

// xerialMagic starts snappy data in the xerial framing that Java-derived
// clients write: magic, version int32, compatible version int32, then
// chunks of int32 length + raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

var (
	gzipReaders = sync.Pool{}
	lz4Readers  = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	zstdReaders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			panic(err)
		}
		return d
	}}
)

// Decompress appends the decompressed src to dst and returns it; the output
// may not exceed limit bytes.
func Decompress(c Codec, dst, src []byte, limit int) ([]byte, error) {
	if len(src) == 0 && c != None {
		return dst, fmt.Errorf("%w: no %v data", ErrCorrupt, c)
	}
	switch c {
	case None:
		if len(src) > limit {
			return dst, ErrTooLarge
		}
		return append(dst, src...), nil
	case Gzip:
		r, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if r == nil {
			r, err = gzip.NewReader(bytes.NewReader(src))
		} else {
			err = r.Reset(bytes.NewReader(src))
		}
		if err != nil {
			return dst, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
		}
		dst, err = readAll(dst, r, limit)
		gzipReaders.Put(r)
		return dst, err
	case Snappy:
		return decodeSnappy(dst, src, limit)
	case LZ4:
		r := lz4Readers.Get().(*lz4.Reader)
		r.Reset(bytes.NewReader(src))
		dst, err := readAll(dst, r, limit)
		r.Reset(nil)
		lz4Readers.Put(r)
		return dst, err
	case Zstd:
		d := zstdReaders.Get().(*zstd.Decoder)
		if err := d.Reset(bytes.NewReader(src)); err != nil {
			zstdReaders.Put(d)
			return dst, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
		}
		dst, err := readAll(dst, d, limit)
		d.Reset(nil)
		zstdReaders.Put(d)
		return dst, err
	}
	return dst, fmt.Errorf("%w %d", ErrUnknown, c)
}

// readAll reads r to the end into dst, failing past limit bytes.
func readAll(dst []byte, r io.Reader, limit int) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			// Grow geometrically, but never past the limit: a bomb costs
			// at most limit bytes of buffer.
			nc := min(max(2*cap(dst), 64<<10), start+limit+1)
			nb := make([]byte, len(dst), nc)
			copy(nb, dst)
			dst = nb
		}
		room := min(cap(dst)-len(dst), limit+1-(len(dst)-start))
		n, err := r.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], ErrTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
}

func decodeSnappy(dst, src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return snappyBlock(dst, src, limit)
	}
	if len(src) < 16 {
		return dst, fmt.Errorf("%w: short xerial header", ErrCorrupt)
	}
	start := len(dst)
	for p := src[16:]; len(p) > 0; {
		if len(p) < 4 {
			return dst[:start], fmt.Errorf("%w: xerial chunk length", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return dst[:start], fmt.Errorf("%w: xerial chunk of %d bytes, %d left", ErrCorrupt, n, len(p)-4)
		}
		var err error
		if dst, err = snappyBlock(dst, p[4:4+n], limit-(len(dst)-start)); err != nil {
			return dst[:start], err
		}
		p = p[4+n:]
	}
	return dst, nil
}

// snappyBlock decodes one raw block after checking its declared length.
func snappyBlock(dst, src []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return dst, fmt.Errorf("%w: snappy: %v", ErrCorrupt, err)
	}
	if n > limit {
		return dst, ErrTooLarge
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	out, err := snappy.Decode(dst[start:], src)
	if err != nil || len(out) != n {
		return dst[:start], fmt.Errorf("%w: snappy: %v", ErrCorrupt, err)
	}
	return dst, nil
}

var (
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	gzipWriters    = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	lz4Writers     = sync.Pool{New: func() any { return lz4.NewWriter(nil) }}
)

// Compress appends src compressed with c to dst. Snappy is written as a raw
// block, lz4 as a frame, as librdkafka and franz-go write them.
func Compress(c Codec, dst, src []byte) ([]byte, error) {
	switch c {
	case None:
		return append(dst, src...), nil
	case Gzip:
		buf := bytes.NewBuffer(dst)
		w := gzipWriters.Get().(*gzip.Writer)
		w.Reset(buf)
		_, err := w.Write(src)
		if err == nil {
			err = w.Close()
		}
		gzipWriters.Put(w)
		return buf.Bytes(), err
	case Snappy:
		n := len(dst)
		dst = append(dst, make([]byte, snappy.MaxEncodedLen(len(src)))...)
		out := snappy.Encode(dst[n:], src)
		return dst[:n+len(out)], nil
	case LZ4:
		buf := bytes.NewBuffer(dst)
		w := lz4Writers.Get().(*lz4.Writer)
		w.Reset(buf)
		_, err := w.Write(src)
		if err == nil {
			err = w.Close()
		}
		lz4Writers.Put(w)
		return buf.Bytes(), err
	case Zstd:
		return zstdEncoder.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w %d", ErrUnknown, c)
}
