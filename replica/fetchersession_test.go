package replica

// The follower's half of a fetch session (Kafka's FetchSessionHandlerTest
// and the incremental cases of ReplicaFetcherThreadTest): real fetchers
// against a leader's Manager in the same process.

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// takeRequests returns the fetches the loopback received since the last
// call.
func (c *cluster) takeRequests() []*kmsg.FetchRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.requests
	c.requests = nil
	return out
}

// named lists the partitions a fetch names, and those it forgets.
func named(req *kmsg.FetchRequest) (parts, forgotten []int32) {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, p.Partition)
		}
	}
	for _, t := range req.ForgottenTopics {
		forgotten = append(forgotten, t.Partitions...)
	}
	slices.Sort(parts)
	slices.Sort(forgotten)
	return parts, forgotten
}

// TestFollowerFetchSession: a follower of 20 partitions fetches them all
// once, in a full fetch that opens a session; then its fetches name only
// what changed: nothing while idle, the partition whose log grew, the
// partition whose leader epoch changed, the partitions it stopped
// following (forgotten). A session the leader lost is replaced by a full
// fetch at once, and replication goes on.
func TestFollowerFetchSession(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		leader, follower := c.broker(1), c.broker(2)
		const n = 20
		var lps, fps []*Partition
		for i := range int32(n) {
			lp, _ := leaderAndIsrOf(t, leader, i, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
			lps = append(lps, lp)
		}
		for i := range int32(n) {
			fp, _ := leaderAndIsrOf(t, follower, i, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
			fps = append(fps, fp)
		}
		advance(time.Second) // the first fetch parks at the leader for replica.fetch.wait.max.ms
		reqs := c.takeRequests()
		if len(reqs) == 0 {
			t.Fatal("no fetch")
		}
		// The fetcher may start with the first partitions, before the
		// others are added: the session grows incrementally then.
		first := reqs[0]
		if first.SessionID != 0 || first.SessionEpoch != 0 {
			t.Fatalf("first fetch: session %d epoch %d, want a full fetch opening a session (0, 0)", first.SessionID, first.SessionEpoch)
		}
		var all []int32
		for _, r := range reqs {
			ps, _ := named(r)
			all = append(all, ps...)
		}
		slices.Sort(all)
		if all = slices.Compact(all); len(all) != n {
			t.Fatalf("the fetches named %d partitions, want all %d", len(all), n)
		}
		id := leader.Sessions.Len()
		if id != 1 {
			t.Fatalf("the leader holds %d sessions, want 1", id)
		}

		// Idle: every fetch is incremental and names nothing.
		advance(2 * time.Second)
		reqs = c.takeRequests()
		if len(reqs) < 3 {
			t.Fatalf("%d fetches in 2s of idleness, want one per replica.fetch.wait.max.ms", len(reqs))
		}
		sid := reqs[0].SessionID
		for i, r := range reqs {
			ps, gone := named(r)
			if r.SessionID == 0 || r.SessionID != sid || r.SessionEpoch < 1 || len(ps) != 0 || len(gone) != 0 {
				t.Fatalf("idle fetch %d: session %d epoch %d, names %v, forgets %v; want an empty incremental fetch", i, r.SessionID, r.SessionEpoch, ps, gone)
			}
			if i > 0 && r.SessionEpoch != reqs[i-1].SessionEpoch+1 {
				t.Fatalf("session epochs %d then %d", reqs[i-1].SessionEpoch, r.SessionEpoch)
			}
		}

		// An append to partition 7: the follower fetches it, then tells
		// its new fetch offset (and only that partition's).
		mustProduce(t, leader, lps[7], 3)
		synctest.Wait()
		sameLogs(t, lps[7].Log, fps[7].Log)
		advance(time.Second)
		reqs = c.takeRequests()
		var moved []int32
		for _, r := range reqs {
			ps, _ := named(r)
			moved = append(moved, ps...)
			for _, t0 := range r.Topics {
				for _, p := range t0.Partitions {
					if p.FetchOffset != fps[p.Partition].Log.EndOffset() && p.FetchOffset != 0 {
						t.Errorf("partition %d named at fetch offset %d", p.Partition, p.FetchOffset)
					}
					if p.LastFetchedEpoch != 1 {
						t.Errorf("partition %d named with last fetched epoch %d, want 1", p.Partition, p.LastFetchedEpoch)
					}
				}
			}
		}
		if !slices.Equal(slices.Compact(moved), []int32{7}) {
			t.Fatalf("after an append to partition 7 the fetches named %v, want [7]", moved)
		}
		wantHW(t, fps[7], 3)

		// A new leader epoch for partition 3 names it again; partitions
		// 10-12 move to another leader: forgotten.
		leaderAndIsrOf(t, leader, 3, state(1, 2, 1, []int32{1, 2}, []int32{1, 2}), nil)
		leaderAndIsrOf(t, follower, 3, state(1, 2, 1, []int32{1, 2}, []int32{1, 2}), nil)
		for i := int32(10); i <= 12; i++ {
			leaderAndIsrOf(t, follower, i, state(3, 2, 1, []int32{3, 2}, []int32{3, 2}), nil)
		}
		advance(time.Second)
		var renamed, forgotten []int32
		for _, r := range c.takeRequests() {
			if r.SessionID != sid {
				continue // fetches of the fetcher of leader 3 (unreachable)
			}
			ps, gone := named(r)
			renamed, forgotten = append(renamed, ps...), append(forgotten, gone...)
		}
		// Partition 3 may be forgotten first: the fetch at the old epoch
		// is fenced, and the partition backs off until the follower
		// learns the new one.
		slices.Sort(forgotten)
		if forgotten = slices.DeleteFunc(forgotten, func(p int32) bool { return p == 3 }); !slices.Equal(renamed, []int32{3}) || !slices.Equal(forgotten, []int32{10, 11, 12}) {
			t.Fatalf("after the changes the fetches named %v and forgot %v (besides 3); want [3] and [10 11 12]", renamed, forgotten)
		}

		// The leader loses the session (evicted, restarted): the next
		// fetch gets FETCH_SESSION_ID_NOT_FOUND, and the one after is full.
		leader.Sessions.Remove(sid)
		advance(time.Second)
		reqs = c.takeRequests()
		full := -1
		for i, r := range reqs {
			if r.SessionEpoch == 0 {
				full = i
				break
			}
		}
		if full < 0 {
			t.Fatal("no full fetch after the leader lost the session")
		}
		if ps, _ := named(reqs[full]); len(ps) != n-3 {
			t.Fatalf("the full fetch named %d partitions, want %d", len(ps), n-3)
		}
		mustProduce(t, leader, lps[15], 2)
		synctest.Wait()
		sameLogs(t, lps[15].Log, fps[15].Log)
	})
}
