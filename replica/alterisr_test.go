package replica

import (
	"slices"
	"testing"
	"testing/synctest"
)

// TestISRProposalsBatched: the proposals of many partitions share
// AlterPartition requests, one in flight at a time (Kafka's
// AlterPartitionManager): while the controller holds the first request,
// the others queue, and the next request carries all of them; each
// partition applies its own answer.
func TestISRProposalsBatched(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		hold := make(chan struct{})
		c.ctl.setHold(hold)
		const n = 12
		var ps []*Partition
		for i := range int32(n) {
			p, _ := leaderAndIsrOf(t, m, i, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
			ps = append(ps, p)
		}
		// Caught up, follower 2 is proposed into each ISR: the first
		// proposal is sent at once and held, the others queue.
		followerFetch(t, m, ps[0], 2, 0)
		synctest.Wait()
		for _, p := range ps[1:] {
			followerFetch(t, m, p, 2, 0)
		}
		synctest.Wait()
		c.ctl.setHold(nil)
		close(hold)
		synctest.Wait()
		c.ctl.mu.Lock()
		calls := slices.Clone(c.ctl.calls)
		c.ctl.mu.Unlock()
		if len(calls) != 2 || calls[0] != 1 || calls[1] != n-1 {
			t.Fatalf("AlterPartition requests carried %v proposals, want [1 %d]: the first alone, the rest queued behind it", calls, n-1)
		}
		for _, p := range ps {
			wantISR(t, p, []int32{1, 2}, 1)
		}
		if got := len(c.ctl.take()); got != n {
			t.Fatalf("%d proposals, want one per partition (%d)", got, n)
		}
	})
}
