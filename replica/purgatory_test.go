package replica

// The fetch purgatory (Kafka's DelayedFetch): a long poll parks on the
// partitions it read and is woken by what changes them, or its deadline,
// never by polling.

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// parkedFetch is a WaitForAppend running in a goroutine of its own.
type parkedFetch struct {
	woke bool
	took time.Duration
	done chan struct{}
}

// park reads req once and parks it until maxWait from now.
func park(t *testing.T, ctx context.Context, m *Manager, req *kmsg.FetchRequest, maxWait time.Duration) *parkedFetch {
	t.Helper()
	topics, _, _ := m.ReadFetch(12, req)
	ReleaseFetch(topics)
	pf := &parkedFetch{done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(pf.done)
		pf.woke = m.WaitForAppend(ctx, topics, start.Add(maxWait))
		pf.took = time.Since(start)
	}()
	return pf
}

func (pf *parkedFetch) finished() bool {
	synctest.Wait()
	select {
	case <-pf.done:
		return true
	default:
		return false
	}
}

// countWaiting is FetchWaiting counting into n.
func countWaiting(n *atomic.Int64) func(*Options) {
	return func(o *Options) { o.FetchWaiting = func(d int) { n.Add(int64(d)) } }
}

func TestParkedFetchWokenByAppend(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		var waiting atomic.Int64
		m := c.broker(1, countWaiting(&waiting))
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		pf := park(t, t.Context(), m, fetchReq(-1, 0, -1, -1), 10*time.Second)
		if pf.finished() {
			t.Fatal("a fetch with nothing to read did not park")
		}
		if n := waiting.Load(); n != 1 {
			t.Fatalf("fetches waiting %d, want 1", n)
		}
		advance(2 * time.Second)
		mustProduce(t, m, p, 1)
		if !pf.finished() || !pf.woke || pf.took != 2*time.Second {
			t.Fatalf("after an append: woke %v after %v, want at 2s", pf.woke, pf.took)
		}
		if n := waiting.Load(); n != 0 {
			t.Fatalf("fetches waiting %d after the wake-up", n)
		}
	})
}

// TestParkedFetchWokenByHighWatermark: records the ISR does not have yet
// are not a consumer's; the follower fetch that moves the high watermark
// wakes the consumer. A follower's parked fetch is woken by the append.
func TestParkedFetchWokenByHighWatermark(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}), nil)
		mustProduce(t, m, p, 3)
		followerFetch(t, m, p, 2, 3)
		followerFetch(t, m, p, 3, 3)
		mustProduce(t, m, p, 3) // the high watermark stays at 3
		consumer := park(t, t.Context(), m, fetchReq(-1, 3, -1, -1), 10*time.Second)
		follower := park(t, t.Context(), m, fetchReq(2, 6, -1, 1), 10*time.Second)
		if consumer.finished() || follower.finished() {
			t.Fatal("a fetch at the end of what it may read did not park")
		}
		wantHW(t, p, 3)
		advance(time.Second)
		mustProduce(t, m, p, 1) // wakes both: a change to the partition
		if !follower.finished() || follower.took != time.Second {
			t.Fatalf("a follower's fetch not woken by an append (took %v)", follower.took)
		}
		if !consumer.finished() {
			t.Fatal("a consumer's fetch slept through an append")
		}
		// Parked again on what it read, the consumer wakes when a
		// follower's fetch moves the high watermark.
		consumer = park(t, t.Context(), m, fetchReq(-1, 3, -1, -1), 10*time.Second)
		advance(time.Second)
		if consumer.finished() {
			t.Fatal("woken with no change")
		}
		followerFetch(t, m, p, 3, 7)
		wantHW(t, p, 6)
		if !consumer.finished() || consumer.took != time.Second {
			t.Fatalf("a consumer's fetch not woken by the high watermark (took %v)", consumer.took)
		}
	})
}

// TestParkedFetchSeesChangeBeforeParking: a change between the read and
// the parking is not missed: the fetch answers at once.
func TestParkedFetchSeesChangeBeforeParking(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		var waiting atomic.Int64
		m := c.broker(1, countWaiting(&waiting))
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		topics, _, _ := m.ReadFetch(12, fetchReq(-1, 0, -1, -1))
		ReleaseFetch(topics)
		mustProduce(t, m, p, 1)
		start := time.Now()
		if !m.WaitForAppend(context.Background(), topics, start.Add(10*time.Second)) || time.Since(start) != 0 {
			t.Fatalf("a fetch parked %v over records appended after its read", time.Since(start))
		}
		if n := waiting.Load(); n != 0 {
			t.Fatalf("fetches waiting %d", n)
		}
	})
}

func TestParkedFetchExpiresAtMaxWait(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		pf := park(t, t.Context(), m, fetchReq(-1, 0, -1, -1), 500*time.Millisecond)
		advance(499 * time.Millisecond)
		if pf.finished() {
			t.Fatal("expired early")
		}
		advance(time.Millisecond)
		if !pf.finished() || !pf.woke || pf.took != 500*time.Millisecond {
			t.Fatalf("at max wait: finished %v, woke %v, after %v", pf.finished(), pf.woke, pf.took)
		}
	})
}

// TestParkedFetchIgnoresOtherPartitions: an append elsewhere does not wake
// a fetch; one to any partition it read does.
func TestParkedFetchIgnoresOtherPartitions(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		leaderAndIsrOf(t, m, 0, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		p1, _ := leaderAndIsrOf(t, m, 1, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		p2, _ := leaderAndIsrOf(t, m, 2, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		req := fetchReq(-1, 0, -1, -1)
		rp := req.Topics[0].Partitions[0]
		rp.Partition = 2
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
		pf := park(t, t.Context(), m, req, 10*time.Second)
		mustProduce(t, m, p1, 1)
		if pf.finished() {
			t.Fatal("an append to partition 1 woke a fetch of partitions 0 and 2")
		}
		advance(time.Second)
		mustProduce(t, m, p2, 1)
		if !pf.finished() || pf.took != time.Second {
			t.Fatalf("an append to partition 2 did not wake the fetch (took %v)", pf.took)
		}
	})
}

// TestParkedFetchWokenByLeadershipAndContext: a leadership change wakes a
// parked fetch (it then re-reads and answers the error); the context
// ending (the connection or the broker closing) ends it with false.
func TestParkedFetchWokenByLeadershipAndContext(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		pf := park(t, t.Context(), m, fetchReq(-1, 0, -1, -1), 10*time.Second)
		if pf.finished() {
			t.Fatal("did not park")
		}
		leaderAndIsr(t, m, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		if !pf.finished() || !pf.woke || pf.took != 0 {
			t.Fatalf("a leadership change did not wake the parked fetch: finished %v, woke %v, after %v", pf.finished(), pf.woke, pf.took)
		}
		if fp, _ := fetch(t, m, fetchReq(-1, 0, -1, -1)); fp.ErrCode == 0 {
			t.Fatal("the re-read after the wake-up found no error")
		}

		ctx, cancel := context.WithCancel(t.Context())
		leaderAndIsr(t, m, state(1, 3, 2, []int32{1, 2}, []int32{1}), nil)
		pf = park(t, ctx, m, fetchReq(-1, 0, -1, -1), 10*time.Second)
		if pf.finished() {
			t.Fatal("did not park")
		}
		cancel()
		if !pf.finished() || pf.woke {
			t.Fatalf("after the context ended: finished %v, woke %v", pf.finished(), pf.woke)
		}
	})
}

// TestLongPollMinBytes: a fetch with min_bytes answers once that much is
// there, not at the first append; short of it, at max wait with what
// there is. The loop is the Fetch handler's (loopback.Request).
func TestLongPollMinBytes(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		size := int32(len(batch(1)))
		lb := &loopback{c: c, addr: addr(1)}

		type answer struct {
			bytes int
			took  time.Duration
		}
		poll := func(offset int64, minBytes int32) chan answer {
			out := make(chan answer, 1)
			req := fetchReq(-1, offset, -1, -1)
			req.MinBytes, req.MaxWaitMillis = minBytes, 5000
			start := time.Now()
			go func() {
				fr := kmsg.NewPtrFetchResponse()
				if err := lb.Fetch(t.Context(), req, fr, time.Minute); err != nil {
					t.Error(err)
				}
				out <- answer{len(fr.Topics[0].Partitions[0].RecordBatches), time.Since(start)}
			}()
			return out
		}
		got := poll(0, 2*size)
		advance(time.Second)
		mustProduce(t, m, p, 1) // half of min_bytes
		advance(time.Second)
		synctest.Wait()
		select {
		case a := <-got:
			t.Fatalf("answered with %d bytes of %d wanted", a.bytes, 2*size)
		default:
		}
		mustProduce(t, m, p, 1)
		if a := <-got; a.bytes != int(2*size) || a.took != 2*time.Second {
			t.Fatalf("answered %d bytes after %v, want %d after 2s", a.bytes, a.took, 2*size)
		}

		got = poll(2, 2*size)
		advance(time.Second)
		mustProduce(t, m, p, 1)
		if a := <-got; a.bytes != int(size) || a.took != 5*time.Second {
			t.Fatalf("short of min_bytes: answered %d bytes after %v, want %d at max wait (5s)", a.bytes, a.took, size)
		}
	})
}

// TestParkedFetchSeesLeadershipLostBeforeParking: leadership that moves
// between the read and the parking wakes the fetch at once too, so that
// it answers NOT_LEADER_OR_FOLLOWER now rather than at max wait.
func TestParkedFetchSeesLeadershipLostBeforeParking(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		topics, _, _ := m.ReadFetch(12, fetchReq(-1, 0, -1, -1))
		ReleaseFetch(topics)
		leaderAndIsr(t, m, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		start := time.Now()
		if !m.WaitForAppend(t.Context(), topics, start.Add(10*time.Second)) || time.Since(start) != 0 {
			t.Fatalf("a fetch parked %v on a partition it no longer leads", time.Since(start))
		}
	})
}

// TestParkFetchTellsUnchanged: a park that ends at its deadline with no
// partition changed says so (the fetch may answer with its read); one
// woken by an append, or by DeleteRecords moving the log start, does not.
func TestParkFetchTellsUnchanged(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		parkOnce := func(during func()) (ok, unchanged bool) {
			topics, _, _ := m.ReadFetch(12, fetchReq(-1, p.Log.HighWatermark(), -1, -1))
			ReleaseFetch(topics)
			done := make(chan struct{})
			go func() {
				defer close(done)
				ok, unchanged = m.ParkFetch(t.Context(), topics, time.Now().Add(time.Second))
			}()
			synctest.Wait()
			during()
			<-done
			return ok, unchanged
		}
		if ok, unchanged := parkOnce(func() {}); !ok || !unchanged {
			t.Fatalf("idle until the deadline: ok %v, unchanged %v; want true, true", ok, unchanged)
		}
		if ok, unchanged := parkOnce(func() { mustProduce(t, m, p, 2) }); !ok || unchanged {
			t.Fatalf("woken by an append: ok %v, unchanged %v; want true, false", ok, unchanged)
		}
		if ok, unchanged := parkOnce(func() {
			if _, err := m.DeleteRecords(testTopic, 0, 1); err != nil {
				t.Fatal(err)
			}
		}); !ok || unchanged {
			t.Fatalf("woken by DeleteRecords: ok %v, unchanged %v; want true, false", ok, unchanged)
		}
	})
}
