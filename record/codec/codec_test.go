package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/golang/snappy"
)

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(rng.IntN(16)) // compressible but not trivially
	}
	for _, c := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		for _, in := range [][]byte{{}, []byte("x"), random} {
			comp, err := Compress(c, []byte("prefix"), in)
			if err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			if !bytes.HasPrefix(comp, []byte("prefix")) {
				t.Fatalf("%v: Compress did not append", c)
			}
			out, err := Decompress(c, []byte("keep"), comp[6:], len(in))
			if err != nil {
				t.Fatalf("%v: decompress %d bytes: %v", c, len(in), err)
			}
			if !bytes.Equal(out[4:], in) || string(out[:4]) != "keep" {
				t.Fatalf("%v: round trip differs", c)
			}
		}
	}
}

// TestBombsAreBounded: highly compressible input past the limit fails with
// ErrTooLarge for every codec, having produced no more than the limit.
func TestBombsAreBounded(t *testing.T) {
	zeros := make([]byte, 64<<20)
	for _, c := range []Codec{Gzip, Snappy, LZ4, Zstd} {
		comp, err := Compress(c, nil, zeros)
		if err != nil {
			t.Fatal(err)
		}
		if len(comp) > 4<<20 {
			t.Fatalf("%v: 64 MiB of zeros compressed to %d bytes", c, len(comp))
		}
		out, err := Decompress(c, nil, comp, 1<<20)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%v: %v, want ErrTooLarge", c, err)
		}
		if cap(out) > 4<<20 {
			t.Fatalf("%v: buffer grew to %d bytes for a 1 MiB limit", c, cap(out))
		}
	}
}

func TestXerialSnappy(t *testing.T) {
	// Two chunks in xerial framing, as Java clients and kafka-python write.
	var b []byte
	b = append(b, xerialMagic...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 1)
	for _, chunk := range []string{"hello, ", "xerial world"} {
		enc := snappy.Encode(nil, []byte(chunk))
		b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
		b = append(b, enc...)
	}
	out, err := Decompress(Snappy, nil, b, 100)
	if err != nil || string(out) != "hello, xerial world" {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := Decompress(Snappy, nil, b, 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit across chunks: %v", err)
	}
	if _, err := Decompress(Snappy, nil, b[:len(b)-3], 100); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated chunk: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	for _, c := range []Codec{Gzip, Snappy, LZ4, Zstd} {
		comp, _ := Compress(c, nil, bytes.Repeat([]byte("abcdefgh"), 1000))
		for _, bad := range [][]byte{nil, []byte("garbage!garbage!"), comp[:len(comp)/2]} {
			if _, err := Decompress(c, nil, bad, 1<<20); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("%v: corrupt input %q...: err %v", c, bad[:min(len(bad), 8)], err)
			}
		}
	}
	if _, err := Decompress(Codec(5), nil, []byte("x"), 10); !errors.Is(err, ErrUnknown) {
		t.Fatal(err)
	}
}
