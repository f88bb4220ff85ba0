package reqcheck

import (
	"errors"
	"fmt"

	"samsa/internal/tags"
)

var (
	// ErrUnknown is returned for an API key or version with no layout here.
	ErrUnknown = errors.New("reqcheck: unknown request key or version")
	// ErrMalformed is returned for a body kmsg cannot decode.
	ErrMalformed = errors.New("reqcheck: malformed request body")

	// errTagCount is a tag section claiming more tags than its bytes can
	// hold: kmsg fails on it too, but only after looping over the count.
	errTagCount = fmt.Errorf("%w: more tags than bytes", ErrMalformed)
)

// Check reports whether a request body (the bytes after the request header)
// of API key/version can be decoded by kmsg without the tag-section spin: it
// walks the body's structure for flexible versions and fails if any
// tagged-field section claims more tags than the bytes left can hold (each
// tag takes at least 2 bytes), or the body is otherwise malformed (runs out).
//
// Non-flexible versions have no tag sections and are not walked. The error
// wraps ErrUnknown or ErrMalformed.
func Check(key, version int16, body []byte) error {
	if key < 0 || int(key) >= len(requests) || requests[key] == nil || version < 0 || version > requests[key].max {
		return fmt.Errorf("%w: key %d version %d", ErrUnknown, key, version)
	}
	r := requests[key]
	if version < r.flexible {
		return nil
	}
	w := walker{b: body, version: version}
	if w.value(&r.body) {
		return nil
	}
	// b is always a suffix of body's backing array, even within a tag value.
	return fmt.Errorf("%w: key %d version %d: %s at byte %d", w.err, key, version, w.at, cap(body)-cap(w.b))
}

// walker reads a body the way kmsg decodes it, without keeping anything.
type walker struct {
	b       []byte // unread bytes of the current value
	version int16
	err     error  // why the walk stopped
	at      string // the field it stopped in
}

func (w *walker) fail(f *field, err error) bool {
	w.err, w.at = err, f.name
	return false
}

func (w *walker) skip(f *field, n int) bool {
	if n < 0 || n > len(w.b) {
		return w.fail(f, ErrMalformed)
	}
	w.b = w.b[n:]
	return true
}

// uvarint reads a uvarint of at most 32 bits, as kmsg does.
func (w *walker) uvarint() (uint32, bool) {
	v, n := tags.Uvarint(w.b)
	w.b = w.b[n:]
	return v, n > 0
}

// value walks one value of f.
func (w *walker) value(f *field) bool {
	switch f.kind {
	case fixedSize:
		return w.skip(f, f.size)
	case compactString, compactNullable:
		u, ok := w.uvarint()
		if !ok {
			return w.fail(f, ErrMalformed)
		}
		n := int(u) - 1
		if n < 0 && f.kind == compactNullable {
			return true
		}
		return w.skip(f, n)
	case compactArray:
		u, ok := w.uvarint()
		n := int32(u) - 1 // as kmsg: a count of 2^31 or more wraps
		if !ok || int(n) > len(w.b) {
			return w.fail(f, ErrMalformed)
		}
		if f.elem.kind == fixedSize {
			return n <= 0 || w.skip(f, int(n)*f.elem.size)
		}
		for range n {
			if !w.value(f.elem) {
				return false
			}
		}
		return true
	default:
		for i := range f.fields {
			g := &f.fields[i]
			if g.min <= w.version && w.version <= g.max && !w.value(g) {
				return false
			}
		}
		return w.tagSection(f)
	}
}

// tagSection walks the tag section of structure s: the values of the tags s
// knows are walked, the others skipped.
func (w *walker) tagSection(s *field) bool {
	if len(w.b) > 0 && w.b[0] == 0 { // no tags, the usual case, without a call
		w.b = w.b[1:]
		return true
	}
	rest, err := tags.Walk(w.b, func(key uint32, val []byte) error {
		for i := range s.tags {
			if s.tags[i].tag == key {
				w.b = val
				if !w.value(&s.tags[i]) {
					return errStop
				}
			}
		}
		return nil
	})
	switch {
	case err == errStop: // w.err says why
		return false
	case errors.Is(err, tags.ErrCount):
		return w.fail(s, errTagCount)
	case err != nil:
		return w.fail(s, ErrMalformed)
	}
	w.b = rest
	return true
}

// errStop ends a tag section's walk at a value that failed.
var errStop = errors.New("reqcheck: stop")
