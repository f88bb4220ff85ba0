package tags

import (
	"bytes"
	"errors"
	"testing"
)

// TestWalk: sections as kmsg writes them are walked tag by tag and the
// bytes after them returned; malformed ones fail with the right error.
func TestWalk(t *testing.T) {
	type tag struct {
		key   uint32
		value string
	}
	for _, c := range []struct {
		name string
		in   []byte
		tags []tag
		rest []byte
		err  error
	}{
		{"empty section", []byte{0, 9, 9}, nil, []byte{9, 9}, nil},
		{"one tag", []byte{1, 0, 2, 'a', 'b', 7}, []tag{{0, "ab"}}, []byte{7}, nil},
		{"two tags, an empty value", []byte{2, 3, 0, 200, 1, 1, 'x'}, []tag{{3, ""}, {200, "x"}}, []byte{}, nil},
		{"no bytes", nil, nil, nil, ErrMalformed},
		{"count runs out", []byte{0x80}, nil, nil, ErrMalformed},
		{"count of 2^32-1", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0}, nil, nil, ErrCount},
		{"more tags than bytes", []byte{2, 0, 0, 0}, nil, nil, ErrCount},
		{"key runs out", []byte{1, 0x80, 0x80}, nil, nil, ErrMalformed},
		{"value past the end", []byte{1, 0, 3, 'a', 'b'}, nil, nil, ErrMalformed},
		{"size past 32 bits", []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x10, 0}, nil, nil, ErrMalformed},
	} {
		var got []tag
		rest, err := Walk(c.in, func(key uint32, value []byte) error {
			got = append(got, tag{key, string(value)})
			return nil
		})
		if !errors.Is(err, c.err) || (err != nil) != (c.err != nil) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if len(got) != len(c.tags) {
			t.Errorf("%s: tags %v, want %v", c.name, got, c.tags)
			continue
		}
		for i := range got {
			if got[i] != c.tags[i] {
				t.Errorf("%s: tag %d %v, want %v", c.name, i, got[i], c.tags[i])
			}
		}
		if !bytes.Equal(rest, c.rest) {
			t.Errorf("%s: rest % x, want % x", c.name, rest, c.rest)
		}
		if skipped, err := Skip(c.in); err != nil || !bytes.Equal(skipped, rest) {
			t.Errorf("%s: Skip % x, %v", c.name, skipped, err)
		}
	}
}

// TestWalkStops: fn's error ends the walk at its tag.
func TestWalkStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Walk([]byte{2, 0, 0, 1, 0}, func(uint32, []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("error %v after %d tags", err, n)
	}
}

// TestUvarint: kmsg's bounds, 32 bits in at most five bytes.
func TestUvarint(t *testing.T) {
	for _, c := range []struct {
		in []byte
		v  uint32
		n  int
	}{
		{[]byte{0}, 0, 1},
		{[]byte{0x7f, 0xff}, 127, 1},
		{[]byte{0x80, 0x01}, 128, 2},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, 5},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x10}, 0, 0},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 0, 0},
		{[]byte{0x80}, 0, 0},
		{nil, 0, 0},
	} {
		if v, n := Uvarint(c.in); v != c.v || n != c.n {
			t.Errorf("Uvarint(% x) = %d, %d; want %d, %d", c.in, v, n, c.v, c.n)
		}
	}
}

// FuzzWalk: never panics, never returns bytes that are not a suffix of
// its input, and makes at most len/2 calls.
func FuzzWalk(f *testing.F) {
	f.Add([]byte{1, 0, 2, 'a', 'b', 7})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		calls := 0
		rest, err := Walk(b, func(uint32, []byte) error { calls++; return nil })
		if calls > len(b)/2 {
			t.Fatalf("%d calls for %d bytes", calls, len(b))
		}
		if err == nil && (len(rest) >= len(b) || !bytes.Equal(rest, b[len(b)-len(rest):])) {
			t.Fatalf("rest % x of % x", rest, b)
		}
	})
}

// TestNoAllocs: walking allocates nothing.
func TestNoAllocs(t *testing.T) {
	b := []byte{2, 3, 0, 200, 1, 1, 'x', 9}
	n := 0
	if a := testing.AllocsPerRun(100, func() {
		Walk(b, func(uint32, []byte) error { n++; return nil })
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}
