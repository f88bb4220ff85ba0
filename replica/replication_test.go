package replica

// The leader's side of replication (replication.go's rules), as Kafka's
// PartitionTest checks it: fake followers fetch by hand, the fake
// controller records and answers the AlterPartition proposals, and the
// ISR checks run on synctest's clock.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
)

// inBubble runs f in a synctest bubble with a fresh cluster.
func inBubble(t *testing.T, f func(t *testing.T, c *cluster)) {
	synctest.Test(t, func(t *testing.T) { f(t, newCluster(t)) })
}

func wantHW(t *testing.T, p *Partition, want int64) {
	t.Helper()
	if hw := p.Log.HighWatermark(); hw != want {
		t.Fatalf("high watermark %d, want %d (log end %d)", hw, want, p.Log.EndOffset())
	}
}

func wantISR(t *testing.T, p *Partition, isr []int32, partitionEpoch int32) {
	t.Helper()
	st := p.State()
	if !slices.Equal(st.ISR, isr) || st.PartitionEpoch != partitionEpoch {
		t.Fatalf("ISR %v at partition epoch %d, want %v at %d", st.ISR, st.PartitionEpoch, isr, partitionEpoch)
	}
}

// wantProposals fails unless the controller received exactly these ISR
// proposals since the last look.
func wantProposals(t *testing.T, c *cluster, want ...AlterISR) {
	t.Helper()
	got := c.ctl.take()
	if !slices.EqualFunc(got, want, func(a, b AlterISR) bool {
		return a.Topic == b.Topic && a.Partition == b.Partition && a.LeaderEpoch == b.LeaderEpoch &&
			a.PartitionEpoch == b.PartitionEpoch && slices.Equal(a.ISR, b.ISR)
	}) {
		t.Fatalf("AlterPartition proposals %+v, want %+v", got, want)
	}
}

func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

func TestHighWatermarkIsSmallestLogEndOfISR(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}), nil)
		mustProduce(t, m, p, 10)
		wantHW(t, p, 0) // neither follower heard from in this leadership

		followerFetch(t, m, p, 2, 4)
		wantHW(t, p, 0) // follower 3 still unknown: it holds the high watermark
		followerFetch(t, m, p, 3, 7)
		wantHW(t, p, 4)
		followerFetch(t, m, p, 2, 10)
		wantHW(t, p, 7)
		fp := followerFetch(t, m, p, 3, 10)
		wantHW(t, p, 10)
		if fp.HW != 7 {
			t.Errorf("the fetch answered high watermark %d, want the one it found (7)", fp.HW)
		}
		if s := p.Stats(); !s.Leader || s.ISR != 3 || s.FollowerLagMax != 0 {
			t.Errorf("stats %+v with every follower at the log end", s)
		}
		if len(c.ctl.take()) != 0 {
			t.Error("an ISR change was proposed though the ISR holds every replica")
		}
	})
}

func TestHighWatermarkNeverMovesBack(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 7)
		wantHW(t, p, 7)

		// A follower that lost its tail (an unclean restart) fetches lower.
		followerFetch(t, m, p, 2, 3)
		wantHW(t, p, 7)

		// A new leadership forgets the followers; the high watermark stays
		// until they are heard from again, then moves on only forward.
		p, _ = leaderAndIsr(t, m, state(1, 2, 1, []int32{1, 2}, []int32{1, 2}), nil)
		wantHW(t, p, 7)
		mustProduce(t, m, p, 5)
		wantHW(t, p, 7)
		followerFetch(t, m, p, 2, 5)
		wantHW(t, p, 7)
		followerFetch(t, m, p, 2, 12)
		wantHW(t, p, 12)
	})
}

func TestFollowerOutsideISRDoesNotHoldHighWatermark(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 10)
		wantHW(t, p, 10) // follower 3 has nothing and is not in the ISR
		followerFetch(t, m, p, 3, 2)
		wantHW(t, p, 10)
		synctest.Wait()
		wantProposals(t, c) // 3 is below the high watermark: not in sync
		wantISR(t, p, []int32{1, 2}, 0)
		if s := p.Stats(); s.FollowerLagMax != 8 {
			t.Errorf("largest follower lag %d, want 8", s.FollowerLagMax)
		}
	})
}

// TestISRExpansion: a follower joins once its log end reaches the high
// watermark, through one AlterPartition naming the leader and partition
// epochs it was decided under; the committed answer becomes the state.
func TestISRExpansion(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		expands := prometheus.NewCounter(prometheus.CounterOpts{Name: "expands"})
		m := c.broker(1, func(o *Options) { o.Metrics = &Metrics{ISRExpands: expands} })
		p, _ := leaderAndIsr(t, m, state(1, 1, 3, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 10)
		wantHW(t, p, 10)

		followerFetch(t, m, p, 3, 5)
		synctest.Wait()
		wantProposals(t, c) // below the high watermark

		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 3, ISR: []int32{1, 2, 3}})
		wantISR(t, p, []int32{1, 2, 3}, 4)
		if v := metricValue(expands); v != 1 {
			t.Errorf("ISR expansions counted %v, want 1", v)
		}

		// In the ISR, follower 3 now holds the high watermark.
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 15)
		wantHW(t, p, 10)
		followerFetch(t, m, p, 3, 15)
		wantHW(t, p, 15)
	})
}

// TestISRExpansionWaitsForEpochStart: a follower at the high watermark but
// short of where the current leader epoch began may still lack what the
// previous leadership wrote: it joins only from the epoch start on.
func TestISRExpansionWaitsForEpochStart(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 0, 0, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 3)
		wantHW(t, p, 3)

		p, _ = leaderAndIsr(t, m, state(1, 1, 1, []int32{1, 2, 3}, []int32{1, 2}), nil)
		if got := p.Log.Epochs(); len(got) != 2 || got[1].Epoch != 1 || got[1].StartOffset != 5 {
			t.Fatalf("epoch cache %v: epoch 1 should start at the log end 5", got)
		}
		followerFetch(t, m, p, 3, 4) // past the high watermark 3, short of 5
		synctest.Wait()
		wantProposals(t, c)

		followerFetch(t, m, p, 3, 5)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 1, ISR: []int32{1, 2, 3}})
		wantISR(t, p, []int32{1, 2, 3}, 2)
	})
}

// TestAlterPartitionAnswers: what the leader makes of each answer to a
// proposed expansion. Only a committed answer for the leadership that
// proposed changes the ISR; after any answer the next qualifying fetch may
// propose again.
func TestAlterPartitionAnswers(t *testing.T) {
	proposal := AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 3, ISR: []int32{1, 2, 3}}
	for _, tc := range []struct {
		name   string
		answer func(AlterISR) (AlterISRResult, error)
		isr    []int32
		pe     int32
		again  bool // the next fetch proposes again
	}{
		{name: "committed", isr: []int32{1, 2, 3}, pe: 4},
		{name: "committed other ISR", answer: func(AlterISR) (AlterISRResult, error) {
			return AlterISRResult{LeaderEpoch: 1, PartitionEpoch: 4, ISR: []int32{1, 3}}, nil
		}, isr: []int32{1, 3}, pe: 4},
		{name: "invalid update version", answer: func(AlterISR) (AlterISRResult, error) {
			return AlterISRResult{}, apierr.Errorf(kerr.InvalidUpdateVersion, "stale partition epoch")
		}, isr: []int32{1, 2}, pe: 3, again: true},
		{name: "fenced", answer: func(AlterISR) (AlterISRResult, error) {
			return AlterISRResult{}, apierr.Errorf(kerr.FencedLeaderEpoch, "newer leader epoch")
		}, isr: []int32{1, 2}, pe: 3, again: true},
		{name: "no controller", answer: func(AlterISR) (AlterISRResult, error) {
			return AlterISRResult{}, errors.New("connection refused")
		}, isr: []int32{1, 2}, pe: 3, again: true},
		{name: "answer of another leader epoch", answer: func(AlterISR) (AlterISRResult, error) {
			return AlterISRResult{LeaderEpoch: 2, PartitionEpoch: 9, ISR: []int32{1, 2, 3}}, nil
		}, isr: []int32{1, 2}, pe: 3, again: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T, c *cluster) {
				expands := prometheus.NewCounter(prometheus.CounterOpts{Name: "expands"})
				m := c.broker(1, func(o *Options) { o.Metrics = &Metrics{ISRExpands: expands} })
				c.ctl.setAnswer(tc.answer)
				p, _ := leaderAndIsr(t, m, state(1, 1, 3, []int32{1, 2, 3}, []int32{1, 2}), nil)
				mustProduce(t, m, p, 10)
				followerFetch(t, m, p, 2, 10)
				followerFetch(t, m, p, 3, 10)
				synctest.Wait()
				wantProposals(t, c, proposal)
				wantISR(t, p, tc.isr, tc.pe)
				if v, applied := metricValue(expands), !tc.again; v != 0 && !applied || v != 1 && applied {
					t.Errorf("ISR expansions counted %v (answer applied: %v)", v, applied)
				}

				followerFetch(t, m, p, 3, 10)
				synctest.Wait()
				if got := c.ctl.take(); (len(got) == 1) != tc.again || len(got) > 1 {
					t.Fatalf("after the answer, a fetch at the high watermark proposed %+v (want a proposal: %v)", got, tc.again)
				}
			})
		})
	}
}

// TestAlterPartitionAnswerAfterNewLeadership: an answer that arrives after
// a LeaderAndIsr changed the leadership is ignored; the new leadership
// proposes under its own epochs.
func TestAlterPartitionAnswerAfterNewLeadership(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		hold := make(chan struct{})
		c.ctl.setHold(hold)
		p, _ := leaderAndIsr(t, m, state(1, 1, 3, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 10)
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 3, ISR: []int32{1, 2, 3}})

		p, _ = leaderAndIsr(t, m, state(1, 2, 5, []int32{1, 2, 3}, []int32{1, 2}), nil)
		c.ctl.setHold(nil)
		close(hold) // the controller commits epoch 1's proposal, too late
		synctest.Wait()
		wantISR(t, p, []int32{1, 2}, 5)

		// Epoch 2 began at the log end, 10; follower 2 must be heard from
		// again before the high watermark can count it.
		followerFetch(t, m, p, 2, 10)
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 2, PartitionEpoch: 5, ISR: []int32{1, 2, 3}})
		wantISR(t, p, []int32{1, 2, 3}, 6)
	})
}

// TestISRShrinksAfterLagTime: a follower not caught up for
// replica.lag.time.max.ms (10 s here, checked every 5 s) is proposed out
// of the ISR, and then no longer holds the high watermark; one that
// fetches to the log end stays.
func TestISRShrinksAfterLagTime(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		shrinks := prometheus.NewCounter(prometheus.CounterOpts{Name: "shrinks"})
		m := c.broker(1, func(o *Options) { o.Metrics = &Metrics{ISRShrinks: shrinks} })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}), nil)
		mustProduce(t, m, p, 5)

		advance(9 * time.Second)
		followerFetch(t, m, p, 2, 5)
		wantHW(t, p, 0) // follower 3 holds it

		// At the check at 10 s follower 3 has lagged exactly the maximum.
		advance(1500 * time.Millisecond)
		synctest.Wait()
		wantProposals(t, c)

		// At 15 s it has lagged longer; follower 2 caught up at 9 s.
		advance(5 * time.Second)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1, 2}})
		wantISR(t, p, []int32{1, 2}, 1)
		wantHW(t, p, 5)
		if v := metricValue(shrinks); v != 1 {
			t.Errorf("ISR shrinks counted %v, want 1", v)
		}
	})
}

// TestISRKeepsFollowerAtLogEnd: a follower whose log end is the leader's
// stays in the ISR however long it has not fetched, as in Kafka (an idle
// partition does not shrink its ISR); once the leader appends, the lag
// rule applies again from its last caught-up fetch.
func TestISRKeepsFollowerAtLogEnd(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 5)

		advance(60 * time.Second) // idle: six lag times without a fetch
		synctest.Wait()
		wantProposals(t, c)
		wantISR(t, p, []int32{1, 2}, 0)

		mustProduce(t, m, p, 1) // now it is behind, and has been caught up 60 s ago
		advance(5 * time.Second)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1}})
	})
}

// TestISRKeepsFollowerCaughtUpAtPreviousFetch: a follower that fetches
// from where the leader's log ended at its previous fetch was caught up
// at that previous fetch (Kafka's lastCaughtUpTime rule), though the log
// has grown since.
func TestISRKeepsFollowerCaughtUpAtPreviousFetch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)

		advance(8 * time.Second)
		followerFetch(t, m, p, 2, 3) // behind; the leader's log ends at 5
		mustProduce(t, m, p, 5)
		advance(4 * time.Second)
		followerFetch(t, m, p, 2, 5) // caught up as of 8 s, behind again now

		advance(3500 * time.Millisecond) // the check at 15 s: 7 s behind
		synctest.Wait()
		wantProposals(t, c)

		advance(5 * time.Second) // the check at 20 s: 12 s behind
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1}})
		wantISR(t, p, []int32{1}, 1)
		wantHW(t, p, 10) // alone in the ISR: its log end
	})
}

// TestPendingExpansionHoldsHighWatermark: while an expansion is in flight
// the high watermark counts the joining follower (the maximal ISR), so it
// cannot pass what that follower holds; no second proposal is sent.
func TestPendingExpansionHoldsHighWatermark(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		hold := make(chan struct{})
		c.ctl.setHold(hold)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), nil)
		mustProduce(t, m, p, 10)
		wantHW(t, p, 10) // alone in the ISR

		followerFetch(t, m, p, 2, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1, 2}})

		mustProduce(t, m, p, 5)
		wantHW(t, p, 10)
		followerFetch(t, m, p, 2, 12)
		wantHW(t, p, 12)
		synctest.Wait()
		wantProposals(t, c) // one AlterPartition at a time

		close(hold)
		synctest.Wait()
		wantISR(t, p, []int32{1, 2}, 1)
		followerFetch(t, m, p, 2, 15)
		wantHW(t, p, 15)
	})
}

// TestPendingShrinkHoldsHighWatermark: while a shrink is in flight the
// leaving follower still counts, so the high watermark cannot pass it
// until the controller commits the smaller ISR.
func TestPendingShrinkHoldsHighWatermark(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		hold := make(chan struct{})
		c.ctl.setHold(hold)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}), nil)
		mustProduce(t, m, p, 5)
		advance(9 * time.Second)
		followerFetch(t, m, p, 2, 5)
		followerFetch(t, m, p, 3, 2)
		wantHW(t, p, 2)

		advance(6500 * time.Millisecond) // past the check at 15 s
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 0, ISR: []int32{1, 2}})
		followerFetch(t, m, p, 2, 5)
		wantHW(t, p, 2)
		wantISR(t, p, []int32{1, 2, 3}, 0)

		close(hold)
		synctest.Wait()
		wantISR(t, p, []int32{1, 2}, 1)
		wantHW(t, p, 5)
	})
}

// TestStaleAlterPartitionAnswerLeavesNewProposal: an answer to a proposal
// of an earlier leadership arrives while the new leadership has its own
// proposal pending. It must not end that one: the new member still counts
// for the high watermark (maximal ISR) and no second proposal goes out
// (one at a time). The new proposal reaches the controller once the
// request in flight is answered: one AlterPartition at a time carries the
// broker's proposals, as Kafka's AlterPartitionManager sends them.
func TestStaleAlterPartitionAnswerLeavesNewProposal(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		release := map[int32]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})}
		c.ctl.setAnswer(func(req AlterISR) (AlterISRResult, error) {
			if !c.ctl.wait(context.Background(), release[req.LeaderEpoch]) {
				return AlterISRResult{}, context.Canceled
			}
			return AlterISRResult{LeaderEpoch: req.LeaderEpoch, PartitionEpoch: req.PartitionEpoch + 1, ISR: req.ISR}, nil
		})
		p, _ := leaderAndIsr(t, m, state(1, 1, 3, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 10)
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 3, ISR: []int32{1, 2, 3}})

		p, _ = leaderAndIsr(t, m, state(1, 2, 5, []int32{1, 2, 3}, []int32{1, 2}), nil)
		followerFetch(t, m, p, 2, 10)
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c) // queued behind the request in flight

		close(release[1])
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 2, PartitionEpoch: 5, ISR: []int32{1, 2, 3}})
		wantISR(t, p, []int32{1, 2}, 5)
		mustProduce(t, m, p, 5)
		followerFetch(t, m, p, 2, 15)
		wantHW(t, p, 10) // follower 3, joining, holds it at 10
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c)

		close(release[2])
		synctest.Wait()
		wantISR(t, p, []int32{1, 2, 3}, 6)
	})
}

// TestAlterPartitionAnswerAfterNewPartitionEpoch: a LeaderAndIsr of the
// same leader epoch but a newer partition epoch replaces the state while
// a proposal is in flight; the answer, older than that state, is ignored
// (Kafka's check of the partition epoch), and the leader may propose anew.
func TestAlterPartitionAnswerAfterNewPartitionEpoch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		hold := make(chan struct{})
		c.ctl.setHold(hold)
		p, _ := leaderAndIsr(t, m, state(1, 1, 3, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 10)
		followerFetch(t, m, p, 2, 10)
		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 3, ISR: []int32{1, 2, 3}})

		p, _ = leaderAndIsr(t, m, state(1, 1, 5, []int32{1, 2, 3}, []int32{1, 2}), nil)
		c.ctl.setHold(nil)
		close(hold)
		synctest.Wait()
		wantISR(t, p, []int32{1, 2}, 5)

		followerFetch(t, m, p, 3, 10)
		synctest.Wait()
		wantProposals(t, c, AlterISR{Topic: testTopic, Partition: 0, LeaderEpoch: 1, PartitionEpoch: 5, ISR: []int32{1, 2, 3}})
		wantISR(t, p, []int32{1, 2, 3}, 6)
	})
}

// TestFollowerFetchOutOfRangeRecordsNothing: a follower fetch its log
// cannot serve (past the leader's log end: a follower that diverged) says
// nothing of the follower's log end; it neither moves the high watermark
// nor earns a place in the ISR (Kafka's
// testFollowerStateNotUpdatedIfLogReadFails).
func TestFollowerFetchOutOfRangeRecordsNothing(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2}), nil)
		mustProduce(t, m, p, 5)
		if fp, _ := fetch(t, m, fetchReq(2, 8, -1, 1)); fp.ErrCode != kerr.OffsetOutOfRange.Code {
			t.Fatalf("follower fetch past the log end: error %d", fp.ErrCode)
		}
		wantHW(t, p, 0)
		followerFetch(t, m, p, 2, 5)
		wantHW(t, p, 5)
		if fp, _ := fetch(t, m, fetchReq(3, 9, -1, 1)); fp.ErrCode != kerr.OffsetOutOfRange.Code {
			t.Fatalf("follower fetch past the log end: error %d", fp.ErrCode)
		}
		synctest.Wait()
		wantProposals(t, c)
	})
}
