package uuid

import (
	"regexp"
	"testing"
)

// TestRandom: every UUID drawn keeps the package invariants, and draws
// differ.
func TestRandom(t *testing.T) {
	seen := map[UUID]bool{}
	for range 10000 {
		u := Random()
		if u[6]>>4 != 4 {
			t.Fatalf("%x: version %d, want 4", u, u[6]>>4)
		}
		if u[8]>>6 != 0b10 {
			t.Fatalf("%x: variant bits %b, want 10", u, u[8]>>6)
		}
		if u == (UUID{}) || u == (UUID{15: 1}) {
			t.Fatalf("%x: a reserved ID", u)
		}
		if s := u.String(); len(s) != 22 || s[0] == '-' {
			t.Fatalf("%x: text %q", u, s)
		}
		if seen[u] {
			t.Fatalf("%x drawn twice", u)
		}
		seen[u] = true
	}
}

// TestText: both text forms, against values Kafka and Java print.
func TestText(t *testing.T) {
	u := UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	if got, want := u.Canonical(), "12345678-9abc-4def-8123-456789abcdef"; got != want {
		t.Errorf("Canonical %q, want %q", got, want)
	}
	// Uuid.toString of the same bits: URL-safe base64, no padding.
	if got, want := u.String(), "EjRWeJq8Te-BI0VniavN7w"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 100 {
		if s := Random().Canonical(); !canonical.MatchString(s) {
			t.Fatalf("Canonical %q", s)
		}
	}
}
