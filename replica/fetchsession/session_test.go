package fetchsession

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchSessionCache: a full cache takes a new session only in place of
// the least recently used one, and only once that has been idle long
// enough; with no slots there are no sessions.
func TestFetchSessionCache(t *testing.T) {
	req := kmsg.NewPtrFetchRequest()
	t0 := time.Unix(1_700_000_000, 0)
	c := NewCache(2, time.Minute)
	a, b := c.Open(req, t0), c.Open(req, t0.Add(10*time.Second))
	if a == nil || b == nil || a.ID == b.ID || c.Len() != 2 {
		t.Fatalf("two sessions in two slots: %v %v, %d cached", a, b, c.Len())
	}
	if s := c.Open(req, t0.Add(30*time.Second)); s != nil {
		t.Fatal("a full cache evicted a session idle for 30s (minimum 1m)")
	}
	// a is used again, so b becomes the least recently used.
	inc := kmsg.NewPtrFetchRequest()
	inc.SessionID, inc.SessionEpoch = a.ID, 1
	if _, _, err := a.Update(inc, t0.Add(50*time.Second)); err != nil {
		t.Fatal(err)
	}
	s := c.Open(req, t0.Add(75*time.Second))
	if s == nil || c.Get(b.ID) != nil || c.Get(a.ID) != a || c.Get(s.ID) != s {
		t.Fatalf("after b's minute of idleness: new %v, b cached %v, a cached %v", s, c.Get(b.ID) != nil, c.Get(a.ID) != nil)
	}
	if off := NewCache(0, time.Minute); off.Open(req, t0) != nil {
		t.Fatal("a session opened with max.incremental.fetch.session.cache.slots=0")
	}
}

// TestNextEpochWraps: after MaxInt32 comes 1, as in Kafka.
func TestNextEpochWraps(t *testing.T) {
	if nextEpoch(1<<31-1) != 1 {
		t.Fatal("the session epoch does not wrap to 1")
	}
}
