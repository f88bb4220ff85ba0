package zerocopy

import (
	"bytes"
	"errors"
	"testing"
)

// TestReadAt: chunks of a region read from any point of it are its bytes;
// a region past the file's end fails with ErrShortFile; an offset outside
// the region is refused.
func TestReadAt(t *testing.T) {
	f, data := patternFile(t, 100_000)
	r := Region{FD: int(f.Fd()), Off: 777, Len: 90_000}
	var got []byte
	buf := make([]byte, 4096)
	for done := int64(0); done < r.Len; {
		n, err := ReadAt(r, done, buf)
		if err != nil || n == 0 {
			t.Fatalf("ReadAt at %d: %d, %v", done, n, err)
		}
		got = append(got, buf[:n]...)
		done += int64(n)
	}
	if !bytes.Equal(got, data[777:777+90_000]) {
		t.Fatal("the chunks are not the region's bytes")
	}
	if n, err := ReadAt(r, r.Len, buf); n != 0 || err != nil {
		t.Fatalf("ReadAt at the end: %d, %v", n, err)
	}
	past := Region{FD: int(f.Fd()), Off: 99_000, Len: 5000}
	if _, err := ReadAt(past, 1000, buf); !errors.Is(err, ErrShortFile) {
		t.Fatalf("ReadAt past the file's end: %v, want ErrShortFile", err)
	}
	for _, off := range []int64{-1, r.Len + 1} {
		if _, err := ReadAt(r, off, buf); !errors.Is(err, ErrInvalidRegion) {
			t.Fatalf("ReadAt at %d: %v, want ErrInvalidRegion", off, err)
		}
	}
}
