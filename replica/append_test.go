package replica

// Produce acks as Kafka's ReplicaManagerTest and DelayedProduce check
// them: min.insync.replicas before the append, acks=all parked until the
// high watermark passes the records, and every way such a wait ends.

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
)

var minISR2 = map[string]string{"min.insync.replicas": "2"}

// awaiting is an acks=all produce parked in AwaitReplication.
type awaiting struct {
	waits []Await
	ok    bool
	took  time.Duration
	done  chan struct{}
}

// await parks an acks=all wait for offset on p, with the request's
// timeout, in a goroutine of its own.
func await(ctx context.Context, m *Manager, p *Partition, offset int64, minISR int, timeout time.Duration) *awaiting {
	a := &awaiting{waits: []Await{{P: p, Offset: offset, MinISR: minISR}}, done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(a.done)
		a.ok = m.AwaitReplication(ctx, a.waits, start.Add(timeout))
		a.took = time.Since(start)
	}()
	return a
}

// finished reports whether the wait has ended, once the bubble is idle.
func (a *awaiting) finished() bool {
	synctest.Wait()
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func TestAcksAllNotEnoughReplicas(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1}), minISR2)
		if _, err := produce(m, p, 3, -1); code(err) != kerr.NotEnoughReplicas.Code {
			t.Fatalf("acks=all with ISR [1] and min.insync.replicas=2: %v", err)
		}
		if end := p.Log.EndOffset(); end != 0 {
			t.Fatalf("a refused acks=all produce wrote: log end %d", end)
		}
		// acks=1 does not need the ISR.
		a, err := produce(m, p, 3, 1)
		if err != nil || a.BaseOffset != 0 || a.LastOffset != 2 {
			t.Fatalf("acks=1: %+v %v", a, err)
		}
	})
}

// TestAcksAllCompletesWhenFollowersFetch: the produce waits until the
// high watermark passes its last offset, which the ISR's fetches move;
// the gauge of parked produces counts it meanwhile.
func TestAcksAllCompletesWhenFollowersFetch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		parked := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parked"})
		m := c.broker(1, func(o *Options) { o.Metrics = &Metrics{ProducePurgatory: parked} })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}), minISR2)
		res, err := produce(m, p, 5, -1)
		if err != nil {
			t.Fatal(err)
		}
		a := await(t.Context(), m, p, res.LastOffset, 2, 30*time.Second)
		if a.finished() {
			t.Fatal("acks=all answered before any follower had the records")
		}
		if v := metricValue(parked); v != 1 {
			t.Errorf("parked produces %v, want 1", v)
		}
		followerFetch(t, m, p, 2, 5)
		followerFetch(t, m, p, 3, 4) // the high watermark reaches 4: not past offset 4
		if a.finished() {
			t.Fatal("acks=all answered before the high watermark passed its last offset")
		}
		followerFetch(t, m, p, 3, 5)
		if !a.finished() || !a.ok || a.waits[0].Err != nil {
			t.Fatalf("after the ISR fetched: ok %v, err %v", a.ok, a.waits[0].Err)
		}
		if a.took != 0 {
			t.Errorf("answered after %v of fake time; the fetch should wake it at once", a.took)
		}
		if v := metricValue(parked); v != 0 {
			t.Errorf("parked produces %v after the answer", v)
		}
	})
}

func TestAcksAllTimesOut(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1, func(o *Options) { o.ReplicaLagTimeMax = time.Hour })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		res, err := produce(m, p, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		a := await(t.Context(), m, p, res.LastOffset, 1, 30*time.Second)
		advance(29 * time.Second)
		if a.finished() {
			t.Fatal("answered before the timeout")
		}
		advance(time.Second)
		if !a.finished() || !a.ok || code(a.waits[0].Err) != kerr.RequestTimedOut.Code {
			t.Fatalf("at the timeout: ok %v, err %v", a.ok, a.waits[0].Err)
		}
		if a.took != 30*time.Second {
			t.Errorf("timed out after %v, want 30s", a.took)
		}
	})
}

func TestAcksAllLeadershipLost(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		res, err := produce(m, p, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		a := await(t.Context(), m, p, res.LastOffset, 1, 30*time.Second)
		if a.finished() {
			t.Fatal("answered before replication")
		}
		leaderAndIsr(t, m, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		if !a.finished() || code(a.waits[0].Err) != kerr.NotLeaderForPartition.Code || a.took != 0 {
			t.Fatalf("after leadership moved: err %v after %v", a.waits[0].Err, a.took)
		}
	})
}

// TestAcksAllNotEnoughReplicasAfterAppend: the ISR shrank below
// min.insync.replicas while the produce waited; the high watermark then
// passes the records (the leader alone), but the answer says they are not
// on enough replicas.
func TestAcksAllNotEnoughReplicasAfterAppend(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), minISR2)
		res, err := produce(m, p, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		a := await(t.Context(), m, p, res.LastOffset, 2, time.Minute)
		advance(16 * time.Second) // the shrink at 15 s drops follower 2
		if !a.finished() || code(a.waits[0].Err) != kerr.NotEnoughReplicasAfterAppend.Code {
			t.Fatalf("after the ISR shrank to [1]: finished %v, err %v", a.finished(), a.waits[0].Err)
		}
		if a.took != 15*time.Second {
			t.Errorf("answered after %v, want at the shrink (15s)", a.took)
		}
		wantISR(t, p, []int32{1}, 1)
	})
}

// TestAcksAllContextEnds: the connection or the broker closing ends the
// wait; what was not replicated is answered NOT_LEADER_OR_FOLLOWER, never
// acknowledged.
func TestAcksAllContextEnds(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		res, err := produce(m, p, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		a := await(ctx, m, p, res.LastOffset, 1, 30*time.Second)
		advance(time.Second)
		cancel()
		if !a.finished() || a.ok || code(a.waits[0].Err) != kerr.NotLeaderForPartition.Code {
			t.Fatalf("after the context ended: finished %v, ok %v, err %v", a.finished(), a.ok, a.waits[0].Err)
		}
	})
}

// TestAcksOneAnswersAtAppend: acks=1 returns the offsets as soon as the
// leader has the records; consumers see them only once the ISR has them,
// followers at once.
func TestAcksOneAnswersAtAppend(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), minISR2)
		a, err := produce(m, p, 4, 1)
		if err != nil || a.BaseOffset != 0 || a.LastOffset != 3 || a.LogStartOffset != 0 || a.LogAppendTime != -1 {
			t.Fatalf("acks=1: %+v %v", a, err)
		}
		if _, recs := fetch(t, m, fetchReq(-1, 0, -1, -1)); len(recs) != 0 {
			t.Fatal("a consumer read records the ISR does not have")
		}
		if _, recs := fetch(t, m, fetchReq(2, 0, -1, 1)); len(recs) == 0 {
			t.Fatal("a follower could not read past the high watermark")
		}
		if _, recs := fetch(t, m, fetchReq(2, 4, -1, 1)); len(recs) != 0 {
			t.Fatal("a follower at the log end read records")
		}
		if _, recs := fetch(t, m, fetchReq(-1, 0, -1, -1)); len(recs) == 0 {
			t.Fatal("a consumer could not read what the ISR has")
		}
	})
}

// TestAppendStampsLeaderEpoch: every batch carries the leader epoch of the
// leadership that accepted it, whatever the producer wrote there.
func TestAppendStampsLeaderEpoch(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		p, _ := leaderAndIsr(t, m, state(1, 3, 0, []int32{1}, []int32{1}), nil)
		mustProduce(t, m, p, 2)
		b := batch(1)
		b[12], b[13], b[14], b[15] = 0, 0, 0, 42 // the producer's own epoch field: outside the CRC
		if _, err := m.Append(m.Topic(testTopic), p, 9, b, time.Now().UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
		leaderAndIsr(t, m, state(1, 5, 1, []int32{1}, []int32{1}), nil)
		mustProduce(t, m, p, 1)
		_, hs := batches(t, p.Log)
		var epochs []int32
		for _, h := range hs {
			epochs = append(epochs, h.LeaderEpoch)
		}
		if len(epochs) != 3 || epochs[0] != 3 || epochs[1] != 3 || epochs[2] != 5 {
			t.Fatalf("batch leader epochs %v, want [3 3 5]", epochs)
		}
		wantHW(t, p, 4) // alone in the ISR, the log end
	})
}

// TestAppendInternalMinISR: an internal append whose ISR shrinks below
// its min ISR while it waits is answered NOT_ENOUGH_REPLICAS_AFTER_APPEND
// once the leader alone has it, as an acks=all produce.
func TestAppendInternalMinISR(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		// Follower 2 leaves the ISR within the 5 s an internal append waits.
		m := c.broker(1, func(o *Options) { o.ReplicaLagTimeMax = 2 * time.Second })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		errc := make(chan error, 1)
		go func() { errc <- m.AppendInternalMinISR(t.Context(), p, batch(1), 2) }()
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("answered before the follower fetched or left the ISR: %v", err)
		default:
		}
		start := time.Now()
		if err := <-errc; code(err) != kerr.NotEnoughReplicasAfterAppend.Code || time.Since(start) >= 5*time.Second {
			t.Fatalf("after the ISR shrank to [1]: %v after %v", err, time.Since(start))
		}
		wantISR(t, p, []int32{1}, 1)
	})
}

// TestAppendInternalWaitsForISR: the broker's own appends (the group
// coordinator's) wait for the ISR like acks=all, up to 5 s.
func TestAppendInternalWaitsForISR(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1, func(o *Options) { o.ReplicaLagTimeMax = time.Hour })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		errc := make(chan error, 1)
		go func() { errc <- m.AppendInternal(t.Context(), p, batch(1)) }()
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("answered before the follower fetched: %v", err)
		default:
		}
		followerFetch(t, m, p, 2, 1)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		go func() { errc <- m.AppendInternal(t.Context(), p, batch(1)) }()
		if err := <-errc; code(err) != kerr.RequestTimedOut.Code || time.Since(start) != 5*time.Second {
			t.Fatalf("without the follower: %v after %v", err, time.Since(start))
		}
		_, hs := batches(t, p.Log)
		if len(hs) != 2 || hs[1].LeaderEpoch != 1 {
			t.Fatalf("internal batches %+v: want 2 stamped with epoch 1", hs)
		}
	})
}
