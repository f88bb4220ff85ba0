package command

import (
	"testing"
	"time"
)

func TestIsForce(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Duration
		force bool
	}{{0, false}, {3 * time.Millisecond, false}, {999 * time.Millisecond, false}, {time.Second, true}, {5 * time.Second, true}} {
		if got := IsForce(t0, t0.Add(tc.after)); got != tc.force {
			t.Errorf("a second signal %v after the first: force %v, want %v", tc.after, got, tc.force)
		}
	}
}
