package fetcher

// The fetchers against fake partitions and a fake leader (fake_test.go),
// after Kafka's AbstractFetcherThreadTest and AbstractFetcherManagerTest:
// each rule of Apply on its own, then the loop on synctest's clock. The
// replica layer's tests run the same code against real partitions and
// leaders.

import (
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var quiet = slog.New(slog.DiscardHandler)

// following is the leadership of a partition this broker follows.
func following(leader, epoch int32) Leadership {
	return Leadership{Leader: leader, LeaderEpoch: epoch}
}

func sameLog(t *testing.T, what string, got, want memLog) {
	t.Helper()
	if got.start != want.start || !slices.Equal(got.epochs, want.epochs) || got.hw != want.hw {
		t.Fatalf("%s: log start %d epochs %v hw %d, want start %d epochs %v hw %d",
			what, got.start, got.epochs, got.hw, want.start, want.epochs, want.hw)
	}
}

// TestApply: each row applies one partition's answer from leader 1 to a
// fetch at epoch 3 (unless the row says otherwise) to a follower of
// leader 1 at epoch 3 whose log holds epochs [1 1 2 2 2 2].
func TestApply(t *testing.T) {
	base := memLog{epochs: []int32{1, 1, 2, 2, 2, 2}}
	errDisk := errors.New("disk full")
	for _, tc := range []struct {
		name    string
		log     *memLog     // nil: base
		st      *Leadership // nil: following(1, 3)
		leader  int32       // 0: 1
		epoch   int32       // 0: 3
		answer  func(rp *kmsg.FetchResponseTopicPartition)
		failing error // Append fails with it
		want    memLog
		calls   []string
		err     error
	}{
		{name: "records appended, the high watermark bounded by the log end",
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.RecordBatches, rp.HighWatermark = []byte{3, 3}, 100 },
			want:   memLog{epochs: []int32{1, 1, 2, 2, 2, 2, 3, 3}, hw: 8}, calls: []string{"append 2"}},
		{name: "the leader's high watermark, even lower than ours",
			log:    &memLog{epochs: base.epochs, hw: 5},
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.HighWatermark = 2 },
			want:   memLog{epochs: base.epochs, hw: 2}},
		{name: "the leader's log start moves ours up to the high watermark",
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.HighWatermark, rp.LogStartOffset = 4, 2 },
			want:   memLog{start: 2, epochs: []int32{2, 2, 2, 2}, hw: 4}},
		{name: "a log start past the high watermark is not taken",
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.HighWatermark, rp.LogStartOffset = 3, 4 },
			want:   memLog{epochs: base.epochs, hw: 3}},
		{name: "fetched at an older epoch: nothing changes", epoch: 2,
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.RecordBatches, rp.HighWatermark = []byte{3}, 7 },
			want:   base},
		{name: "fetched from another leader: nothing changes", leader: 5,
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.RecordBatches, rp.HighWatermark = []byte{3}, 7 },
			want:   base},
		{name: "this broker leads now: nothing changes", st: &Leadership{Leader: 2, LeaderEpoch: 3, IsLeader: true},
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.RecordBatches, rp.HighWatermark = []byte{3}, 7 },
			want:   base},
		{name: "diverging: the leader's epoch 2 ends earlier",
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 2, 3
				rp.RecordBatches = []byte{3} // not appended with a diverging epoch
			},
			want: memLog{epochs: []int32{1, 1, 2}}, calls: []string{"truncate 3"}},
		{name: "diverging: our largest epoch below the leader's ends earlier",
			log: &memLog{epochs: []int32{1, 1, 3, 3}},
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 2, 3
			},
			want: memLog{epochs: []int32{1, 1}}, calls: []string{"truncate 2"}},
		{name: "diverging: never past our log end",
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 2, 50
			},
			want: base, calls: []string{"truncate 6"}},
		{name: "diverging: no epoch of ours at or below the leader's",
			log: &memLog{epochs: []int32{4, 4, 4}},
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 2, 1
			},
			want: memLog{epochs: []int32{4}}, calls: []string{"truncate 1"}},
		{name: "diverging at an older epoch: nothing changes", epoch: 2,
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 1, 0
			},
			want: base},
		{name: "out of range, behind the leader's log start: start over there",
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode, rp.LogStartOffset, rp.HighWatermark = kerr.OffsetOutOfRange.Code, 9, 12
			},
			want: memLog{start: 9, hw: 9}, calls: []string{"start at 9"}},
		{name: "out of range, ahead of the leader: cut to its high watermark",
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode, rp.LogStartOffset, rp.HighWatermark = kerr.OffsetOutOfRange.Code, 0, 4
			},
			want: memLog{epochs: []int32{1, 1, 2, 2}}, calls: []string{"truncate 4"}},
		{name: "out of range, not below our log start",
			log: &memLog{start: 3, epochs: []int32{2, 2, 2}},
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode, rp.LogStartOffset, rp.HighWatermark = kerr.OffsetOutOfRange.Code, 0, 1
			},
			want: memLog{start: 3}, calls: []string{"truncate 3"}},
		{name: "out of range at an older epoch: nothing changes", epoch: 2,
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode, rp.LogStartOffset, rp.HighWatermark = kerr.OffsetOutOfRange.Code, 9, 12
			},
			want: base},
		{name: "another error is the partition's",
			answer: func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode, rp.RecordBatches, rp.HighWatermark = kerr.FencedLeaderEpoch.Code, []byte{3}, 7
			},
			want: base, err: kerr.FencedLeaderEpoch},
		{name: "a failed append takes no high watermark", failing: errDisk,
			answer: func(rp *kmsg.FetchResponseTopicPartition) { rp.RecordBatches, rp.HighWatermark = []byte{3}, 7 },
			want:   base, err: errDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, st, leader, epoch := base, following(1, 3), int32(1), int32(3)
			if tc.log != nil {
				log = *tc.log
			}
			if tc.st != nil {
				st = *tc.st
			}
			if tc.leader != 0 {
				leader = tc.leader
			}
			if tc.epoch != 0 {
				epoch = tc.epoch
			}
			p := newPart("t", 0, st, log.clone())
			p.appendErr = tc.failing
			rp := kmsg.NewFetchResponseTopicPartition()
			tc.answer(&rp)
			m := New(2, Config{}, quiet)
			defer m.Close()
			err := m.Apply(p, leader, epoch, &rp)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Apply: %v, want %v", err, tc.err)
			}
			got, calls := p.snapshot()
			sameLog(t, "after Apply", got, tc.want)
			if !slices.Equal(calls, tc.calls) {
				t.Fatalf("changes %q, want %q", calls, tc.calls)
			}
		})
	}
}

// run starts fetchers of broker 2 against ld (leader 1's address set),
// closed when the test ends.
func run(t *testing.T, ld *leader, cfg Config) *Manager {
	cfg.Connect = ld.connect
	m := New(2, cfg, quiet)
	t.Cleanup(m.Close)
	m.SetLeaderAddr(1, "leader-1")
	return m
}

// partitionsOf lists the partitions a fetch names, with their fields.
func partitionsOf(r request) []kmsg.FetchRequestTopicPartition {
	var out []kmsg.FetchRequestTopicPartition
	for _, t := range r.Topics {
		out = append(out, t.Partitions...)
	}
	return out
}

// TestFetcherReplicates: a follower fetches from the leader with its
// broker id, its position and the epoch it follows at, appends what
// comes with the leader's epochs and high watermark, and parks at the
// leader until the leader has more.
func TestFetcherReplicates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ld := newLeader()
		ld.set("t", 0, memLog{epochs: []int32{1, 1, 2}, hw: 3})
		m := run(t, ld, Config{})
		p := newPart("t", 0, following(1, 2), memLog{})
		m.Add(p, 1, 2)
		synctest.Wait()
		got, _ := p.snapshot()
		sameLog(t, "after the first fetch", got, memLog{epochs: []int32{1, 1, 2}, hw: 3})

		reqs := ld.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d fetches, want 2: one answered, one parked at the leader", len(reqs))
		}
		r := reqs[0]
		if r.ReplicaID != 2 || r.MaxWaitMillis != 500 || r.MinBytes != 1 || r.MaxBytes != 10<<20 ||
			r.addr != "leader-1" || r.clientID != "samsa-replica-fetcher-2" {
			t.Fatalf("fetch replica %d max wait %d min bytes %d max bytes %d to %s as %s", r.ReplicaID, r.MaxWaitMillis, r.MinBytes, r.MaxBytes, r.addr, r.clientID)
		}
		want := []struct {
			offset     int64
			last, curr int32
		}{{0, -1, 2}, {3, 2, 2}}
		for i, w := range want {
			ps := partitionsOf(reqs[i])
			if len(ps) != 1 || ps[0].FetchOffset != w.offset || ps[0].LastFetchedEpoch != w.last ||
				ps[0].CurrentLeaderEpoch != w.curr || ps[0].PartitionMaxBytes != 1<<20 {
				t.Fatalf("fetch %d names %+v, want offset %d, last fetched epoch %d, current leader epoch %d", i, ps, w.offset, w.last, w.curr)
			}
		}

		ld.set("t", 0, memLog{epochs: []int32{1, 1, 2, 2, 2}, hw: 4})
		synctest.Wait()
		got, _ = p.snapshot()
		sameLog(t, "after the leader appended", got, memLog{epochs: []int32{1, 1, 2, 2, 2}, hw: 4})
	})
}

// TestFetcherTruncates: a follower whose log diverged truncates to where
// the leader says its epoch ends, then fetches the leader's records in
// place of its own; one whose log ends below the leader's log start
// starts over there.
func TestFetcherTruncates(t *testing.T) {
	for _, tc := range []struct {
		name           string
		follower, lead memLog
		calls          []string
	}{
		{"diverged", memLog{epochs: []int32{1, 1, 1, 1}}, memLog{epochs: []int32{1, 1, 2, 2, 2}, hw: 5},
			[]string{"truncate 2", "append 3"}},
		{"behind the leader's log start", memLog{epochs: []int32{1, 1}}, memLog{start: 5, epochs: []int32{1, 2, 2}, hw: 8},
			[]string{"start at 5", "append 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ld := newLeader()
				ld.set("t", 0, tc.lead)
				m := run(t, ld, Config{})
				p := newPart("t", 0, following(1, 2), tc.follower)
				m.Add(p, 1, 2)
				synctest.Wait()
				got, calls := p.snapshot()
				sameLog(t, "the follower", got, tc.lead)
				if !slices.Equal(calls, tc.calls) {
					t.Fatalf("changes %q, want %q", calls, tc.calls)
				}
			})
		})
	}
}

// TestFetcherBacksOff: a partition whose fetch fails is fetched again
// after replica.fetch.backoff.ms; a fetch that fails whole (the leader
// unreachable) backs the fetcher off as long; either way replication
// resumes once the leader answers.
func TestFetcherBacksOff(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(ld *leader, on bool)
		count int // fetches in 3.5 s with a 1 s backoff
	}{
		{"partition error", func(ld *leader, on bool) {
			code := int16(0)
			if on {
				code = kerr.NotLeaderForPartition.Code
			}
			ld.setErr("t", 0, code)
		}, 4},
		{"leader unreachable", func(ld *leader, on bool) { ld.setDown(on) }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ld := newLeader()
				ld.set("t", 0, memLog{epochs: []int32{1, 1}, hw: 2})
				tc.fail(ld, true)
				m := run(t, ld, Config{Backoff: time.Second})
				p := newPart("t", 0, following(1, 1), memLog{})
				start := time.Now()
				m.Add(p, 1, 1)
				time.Sleep(3500 * time.Millisecond)
				synctest.Wait()
				reqs := ld.requests()
				if len(reqs) != tc.count {
					t.Fatalf("%d fetches in 3.5 s with a 1 s backoff, want %d", len(reqs), tc.count)
				}
				for i, r := range reqs {
					if at := r.at.Sub(start); at != time.Duration(i)*time.Second {
						t.Fatalf("fetch %d at %v, want %v", i, at, time.Duration(i)*time.Second)
					}
				}
				if got, _ := p.snapshot(); len(got.epochs) != 0 {
					t.Fatalf("appended while failing: %v", got.epochs)
				}
				tc.fail(ld, false)
				time.Sleep(time.Second)
				synctest.Wait()
				got, _ := p.snapshot()
				sameLog(t, "after the leader answered", got, memLog{epochs: []int32{1, 1}, hw: 2})
			})
		})
	}
}

// TestFetcherSessionErrors: a leader that lost the fetch session is
// asked again at once (a full fetch); another top-level error backs the
// fetcher off.
func TestFetcherSessionErrors(t *testing.T) {
	for _, tc := range []struct {
		code  int16
		again time.Duration // when the second fetch goes
	}{
		{kerr.FetchSessionIDNotFound.Code, 0},
		{kerr.InvalidFetchSessionEpoch.Code, 0},
		{kerr.UnknownServerError.Code, time.Second},
	} {
		t.Run(kerr.ErrorForCode(tc.code).Error(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ld := newLeader()
				ld.set("t", 0, memLog{epochs: []int32{1}, hw: 1})
				ld.topErr = []int16{tc.code}
				m := run(t, ld, Config{Backoff: time.Second})
				p := newPart("t", 0, following(1, 1), memLog{})
				m.Add(p, 1, 1)
				time.Sleep(2 * time.Second)
				synctest.Wait()
				reqs := ld.requests()
				if len(reqs) < 2 {
					t.Fatalf("%d fetches", len(reqs))
				}
				if d := reqs[1].at.Sub(reqs[0].at); d != tc.again {
					t.Fatalf("the fetch after %v went after %v, want %v", kerr.ErrorForCode(tc.code), d, tc.again)
				}
				if reqs[1].SessionID != 0 || reqs[1].SessionEpoch != 0 {
					t.Fatalf("the fetch after a failed one is in session %d epoch %d, want a full fetch", reqs[1].SessionID, reqs[1].SessionEpoch)
				}
				got, _ := p.snapshot()
				sameLog(t, "the follower", got, memLog{epochs: []int32{1}, hw: 1})
			})
		})
	}
}

// TestFetcherLeaderAddress: a leader's address comes from the metadata
// cache (Endpoint) until a LeaderAndIsr names one; a fetcher reconnects
// when it changes, and does not connect while it is unknown.
func TestFetcherLeaderAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ld := newLeader()
		ld.set("t", 0, memLog{epochs: []int32{1}, hw: 1})
		var known atomic.Bool
		m := New(2, Config{Connect: ld.connect, Backoff: time.Second, Endpoint: func(id int32) (string, bool) {
			return "cached-1", known.Load() && id == 1
		}}, quiet)
		defer m.Close()
		p := newPart("t", 0, following(1, 1), memLog{})
		m.Add(p, 1, 1)
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if opened, _ := ld.connCounts(); opened != 0 {
			t.Fatalf("%d connections to a leader of unknown address", opened)
		}
		known.Store(true) // read by the fetcher after its backoff
		time.Sleep(time.Second)
		synctest.Wait()
		m.SetLeaderAddr(1, "named-1")
		time.Sleep(time.Second) // the parked fetch answers; the next goes to the new address
		synctest.Wait()
		reqs := ld.requests()
		if first, last := reqs[0].addr, reqs[len(reqs)-1].addr; first != "cached-1" || last != "named-1" {
			t.Fatalf("fetches went to %s, then %s; want cached-1, then named-1", first, last)
		}
		if opened, closed := ld.connCounts(); opened != 2 || closed != 1 {
			t.Fatalf("%d connections opened, %d closed; want 2 and 1", opened, closed)
		}
		got, _ := p.snapshot()
		sameLog(t, "the follower", got, memLog{epochs: []int32{1}, hw: 1})
	})
}

// TestAddRemoveClose: Add moves a partition to its leader's fetcher, and
// the fetcher it leaves with nothing ends (its connection closed); Remove
// takes it off; after Close, Add starts nothing.
func TestAddRemoveClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ld := newLeader()
		ld.set("t", 0, memLog{})
		m := run(t, ld, Config{})
		m.SetLeaderAddr(3, "leader-3")
		p := newPart("t", 0, following(1, 1), memLog{})
		wantFollowing := func(leader, epoch int32, ok bool) {
			t.Helper()
			if l, e, o := m.Following(p); l != leader || e != epoch || o != ok {
				t.Fatalf("Following: %d, %d, %v; want %d, %d, %v", l, e, o, leader, epoch, ok)
			}
		}
		wantConns := func(opened, closed int) {
			t.Helper()
			synctest.Wait()
			if o, c := ld.connCounts(); o != opened || c != closed {
				t.Fatalf("%d connections opened, %d closed; want %d and %d", o, c, opened, closed)
			}
		}
		m.Add(p, 1, 1)
		wantFollowing(1, 1, true)
		wantConns(1, 0)
		p.setState(following(3, 2))
		m.Add(p, 3, 2)
		wantFollowing(3, 2, true)
		wantConns(2, 1)
		if r := ld.requests(); r[len(r)-1].addr != "leader-3" {
			t.Fatalf("the last fetch went to %s", r[len(r)-1].addr)
		}
		m.Remove(p)
		wantFollowing(-1, -1, false)
		wantConns(2, 2)
		m.Add(p, 3, 2)
		wantConns(3, 2)
		m.Close()
		wantConns(3, 3)
		m.Add(p, 3, 2)
		wantFollowing(-1, -1, false)
		wantConns(3, 3)
	})
}

// TestPartitionsSpreadOverFetchers: with num.replica.fetchers 2, a
// leader's partitions are split between two fetchers (two connections),
// and each is fetched by one of them only (invariant 2).
func TestPartitionsSpreadOverFetchers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ld := newLeader()
		m := run(t, ld, Config{NumFetchers: 2})
		for i := range int32(8) {
			ld.set("t", i, memLog{epochs: []int32{1}, hw: 1})
			m.Add(newPart("t", i, following(1, 1), memLog{}), 1, 1)
		}
		synctest.Wait()
		if opened, _ := ld.connCounts(); opened != 2 {
			t.Fatalf("%d connections, want one per fetcher: 2", opened)
		}
		fetchedBy, conns := map[int32]int{}, map[int]bool{}
		for _, r := range ld.requests() {
			conns[r.conn] = true
			for _, p := range partitionsOf(r) {
				if c, ok := fetchedBy[p.Partition]; ok && c != r.conn {
					t.Fatalf("partition %d fetched on connections %d and %d", p.Partition, c, r.conn)
				}
				fetchedBy[p.Partition] = r.conn
			}
		}
		if len(fetchedBy) != 8 || len(conns) != 2 {
			t.Fatalf("%d partitions fetched on %d connections, want 8 on 2", len(fetchedBy), len(conns))
		}
	})
}
