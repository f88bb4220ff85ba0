package replica

// Transactions on a leader, after Kafka's ReplicaManagerTest
// (transaction verification) and UnifiedLogTest (last stable offset,
// aborted transactions of a read_committed fetch): a fake coordinator
// answers the verifications, markers are written as WriteTxnMarkers
// writes them, followers are fetches sent by hand or real fetchers.

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
	"samsa/record"
)

// fakeVerifier is the transaction coordinator's answer to verifications.
type fakeVerifier struct {
	mu    sync.Mutex
	calls []map[string][]int32
	code  int16 // for every partition asked
	err   error // for the whole request
	// during runs inside the verification, as a marker written while
	// the question is in flight.
	during func()
}

func (v *fakeVerifier) VerifyTxn(_ context.Context, txnID string, pid int64, epoch int16, parts map[string][]int32) (map[string]map[int32]int16, error) {
	v.mu.Lock()
	v.calls = append(v.calls, parts)
	code, err, during := v.code, v.err, v.during
	v.mu.Unlock()
	if during != nil {
		during()
	}
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]int16{}
	for t, ps := range parts {
		out[t] = map[int32]int16{}
		for _, p := range ps {
			out[t][p] = code
		}
	}
	return out, nil
}

func (v *fakeVerifier) callCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.calls)
}

// txnBatch is a transactional batch of n records of producer pid.
func txnBatch(pid int64, epoch int16, seq int32, n int) []byte {
	ts := time.Now().UnixMilli()
	b := record.NewBuilder(ts)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, epoch, seq
	for range n {
		b.Add(ts, nil, []byte("value"))
	}
	out, _ := b.AppendTo(nil)
	return out
}

// txnProduce verifies and appends a transactional batch as the Produce
// handler does.
func txnProduce(m *Manager, p *Partition, pid int64, epoch int16, seq int32, n int) (Appended, error) {
	tp := []TxnProduce{{P: p, ProducerID: pid, Epoch: epoch}}
	m.VerifyTxnProduce(context.Background(), "txn", tp)
	if tp[0].Err != nil {
		return Appended{}, tp[0].Err
	}
	return m.AppendTxn(m.Topic(p.Topic), p, 9, txnBatch(pid, epoch, seq, n), time.Now().UnixMilli(), 1, tp[0].Guard)
}

func mustTxnProduce(t *testing.T, m *Manager, p *Partition, pid int64, seq int32, n int) Appended {
	t.Helper()
	a, err := txnProduce(m, p, pid, 0, seq, n)
	if err != nil {
		t.Fatalf("transactional produce of producer %d: %v", pid, err)
	}
	return a
}

func marker(t *testing.T, m *Manager, p *Partition, pid int64, commit bool) int64 {
	t.Helper()
	off, err := m.WriteTxnMarker(p, Marker{ProducerID: pid, Commit: commit})
	if err != nil {
		t.Fatalf("marker of producer %d: %v", pid, err)
	}
	return off
}

// alone is a cluster broker leading partition 0 alone, verified by v.
func alone(t *testing.T, c *cluster, v TxnVerifier) (*Manager, *Partition) {
	m := c.broker(1, func(o *Options) { o.TxnVerifier = v })
	p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
	return m, p
}

// TestTxnProduceVerification: a producer's first transactional batch on a
// partition is written only after the coordinator verified it, and later
// ones without asking again; the coordinator's refusals reach the producer
// as Kafka translates them, and nothing is written.
func TestTxnProduceVerification(t *testing.T) {
	for _, c := range []struct {
		name string
		code int16
		err  error
		want int16
		// handed is TxnProduce.Code, what callers other than produces
		// (TxnOffsetCommit) word their own way.
		handed int16
	}{
		{"not in the transaction", kerr.InvalidTxnState.Code, nil, kerr.InvalidTxnState.Code, kerr.InvalidTxnState.Code},
		{"abortable", kerr.TransactionAbortable.Code, nil, kerr.InvalidTxnState.Code, kerr.TransactionAbortable.Code},
		{"producer fenced", kerr.ProducerFenced.Code, nil, kerr.InvalidProducerEpoch.Code, kerr.InvalidProducerEpoch.Code},
		{"concurrent transactions", kerr.ConcurrentTransactions.Code, nil, kerr.NotEnoughReplicas.Code, kerr.ConcurrentTransactions.Code},
		{"not coordinator", 0, kerr.NotCoordinator, kerr.NotEnoughReplicas.Code, kerr.NotCoordinator.Code},
		{"coordinator loading", 0, kerr.CoordinatorLoadInProgress, kerr.NotEnoughReplicas.Code, kerr.CoordinatorLoadInProgress.Code},
		{"unreachable", 0, context.DeadlineExceeded, kerr.NotEnoughReplicas.Code, kerr.NetworkException.Code},
		{"brokers not authorized", 0, kerr.ClusterAuthorizationFailed, kerr.InvalidTxnState.Code, kerr.InvalidTxnState.Code},
		{"invalid producer id mapping", kerr.InvalidProducerIDMapping.Code, nil, kerr.InvalidProducerIDMapping.Code, kerr.InvalidProducerIDMapping.Code},
	} {
		t.Run(c.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T, cl *cluster) {
				v := &fakeVerifier{code: c.code, err: c.err}
				m, p := alone(t, cl, v)
				tp := []TxnProduce{{P: p, ProducerID: 7}}
				m.VerifyTxnProduce(context.Background(), "txn", tp)
				if tp[0].Code != c.handed {
					t.Errorf("handed on code %d, want %d", tp[0].Code, c.handed)
				}
				_, err := txnProduce(m, p, 7, 0, 0, 2)
				if code(err) != c.want {
					t.Fatalf("produce: %v, want code %d", err, c.want)
				}
				if p.Log.EndOffset() != 0 || p.LastStableOffset() != 0 {
					t.Fatalf("a refused produce wrote: end %d, LSO %d", p.Log.EndOffset(), p.LastStableOffset())
				}
			})
		})
	}
	inBubble(t, func(t *testing.T, c *cluster) {
		v := &fakeVerifier{}
		m, p := alone(t, c, v)
		mustTxnProduce(t, m, p, 7, 0, 2)
		mustTxnProduce(t, m, p, 7, 2, 2)
		if n := v.callCount(); n != 1 {
			t.Fatalf("%d verifications, want 1: the open transaction needs no other", n)
		}
		if got := v.calls[0]; !slices.Equal(got[testTopic], []int32{0}) {
			t.Fatalf("verified %v", got)
		}
		// Without a verification a new transaction cannot start.
		if _, err := m.AppendTxn(m.Topic(testTopic), p, 9, txnBatch(8, 0, 0, 1), time.Now().UnixMilli(), 1, 0); code(err) != kerr.InvalidTxnState.Code {
			t.Fatalf("unverified first batch: %v", err)
		}
		// A non-transactional batch of a producer whose transaction is open.
		if _, err := m.Append(m.Topic(testTopic), p, 9, idempotentBatch(7, 4, 1), time.Now().UnixMilli(), 1); code(err) != kerr.InvalidTxnState.Code {
			t.Fatalf("idempotent batch inside a transaction: %v", err)
		}
	})
}

// TestLateProduceAfterAbortRefused: the hanging transaction of KIP-890. A
// produce whose verification was under way when the coordinator's abort
// marker landed is refused, though the coordinator said yes: the answer
// predates the abort. The retry verifies again.
func TestLateProduceAfterAbortRefused(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		v := &fakeVerifier{}
		m, p := alone(t, c, v)
		v.during = func() { marker(t, m, p, 7, false) }
		_, err := txnProduce(m, p, 7, 0, 0, 2)
		if code(err) != kerr.InvalidTxnState.Code {
			t.Fatalf("produce overtaken by an abort: %v, want INVALID_TXN_STATE", err)
		}
		if got := p.OpenTxns(); len(got) != 0 {
			t.Fatalf("a hanging transaction opened: %v", got)
		}
		v.during = nil
		mustTxnProduce(t, m, p, 7, 0, 2)
		if got := p.OpenTxns(); got[7] != 1 {
			t.Fatalf("open transactions %v, want producer 7 at 1 (after the marker at 0)", got)
		}
	})
}

// TestTxnMarkerFencing: markers of an older producer epoch or an older
// coordinator epoch (a zombie coordinator) are refused and write nothing;
// a follower refuses markers.
func TestTxnMarkerFencing(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m, p := alone(t, c, &fakeVerifier{})
		if _, err := txnProduce(m, p, 7, 3, 0, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := m.WriteTxnMarker(p, Marker{ProducerID: 7, ProducerEpoch: 3, CoordinatorEpoch: 5, Commit: true}); err != nil {
			t.Fatal(err)
		}
		end := p.Log.EndOffset()
		for _, c := range []struct {
			mk   Marker
			want int16
		}{
			{Marker{ProducerID: 7, ProducerEpoch: 2, CoordinatorEpoch: 5}, kerr.InvalidProducerEpoch.Code},
			{Marker{ProducerID: 7, ProducerEpoch: 3, CoordinatorEpoch: 4}, kerr.TransactionCoordinatorFenced.Code},
		} {
			if _, err := m.WriteTxnMarker(p, c.mk); code(err) != c.want {
				t.Errorf("marker %+v: %v, want %d", c.mk, err, c.want)
			}
		}
		if p.Log.EndOffset() != end {
			t.Fatalf("a fenced marker was written: end %d, was %d", p.Log.EndOffset(), end)
		}
		// A newer coordinator epoch and a bumped producer epoch pass.
		if _, err := m.WriteTxnMarker(p, Marker{ProducerID: 7, ProducerEpoch: 4, CoordinatorEpoch: 6}); err != nil {
			t.Fatal(err)
		}
		fp, _ := leaderAndIsr(t, m, state(2, 2, 0, []int32{1, 2}, []int32{1, 2}), nil)
		if _, err := m.WriteTxnMarker(fp, Marker{ProducerID: 7, ProducerEpoch: 4, CoordinatorEpoch: 6}); code(err) != kerr.NotLeaderForPartition.Code {
			t.Fatalf("marker on a follower: %v", err)
		}
	})
}

// committedFetch is a read_committed consumer's fetch at offset.
func committedFetch(t *testing.T, m *Manager, offset int64) (FetchPart, []record.Header) {
	t.Helper()
	req := fetchReq(-1, offset, -1, -1)
	req.IsolationLevel = 1
	fp, b := fetch(t, m, req)
	_, hs := splitBatches(t, b)
	return fp, hs
}

// TestLastStableOffset: the last stable offset is the first offset of the
// earliest open transaction, or of an ended one whose marker the high
// watermark has not passed, else the high watermark. read_committed
// fetches stop there and list the aborted transactions of what they
// return; read_uncommitted ones read to the high watermark and list none;
// ListOffsets answers it for read_committed.
func TestLastStableOffset(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1, func(o *Options) { o.TxnVerifier = &fakeVerifier{} })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1, 2}, []int32{1, 2}), nil)
		caughtUp := func() { followerFetch(t, m, p, 2, p.Log.EndOffset()) }

		mustProduce(t, m, p, 2)               // 0-1 plain
		a := mustTxnProduce(t, m, p, 7, 0, 2) // 2-3 producer 7
		mustTxnProduce(t, m, p, 8, 0, 2)      // 4-5 producer 8
		mustProduce(t, m, p, 1)               // 6 plain
		caughtUp()
		wantHW(t, p, 7)
		if lso := p.LastStableOffset(); lso != a.BaseOffset {
			t.Fatalf("LSO %d, want %d (producer 7's open transaction)", lso, a.BaseOffset)
		}
		fp, hs := committedFetch(t, m, 0)
		if fp.LSO != 2 || fp.HW != 7 || len(hs) != 1 || hs[0].LastOffset() != 1 || len(fp.Aborted) != 0 || fp.AbortedNull {
			t.Fatalf("read_committed fetch: LSO %d HW %d batches %d aborted %v null %v", fp.LSO, fp.HW, len(hs), fp.Aborted, fp.AbortedNull)
		}
		plain, b := fetch(t, m, fetchReq(-1, 0, -1, -1))
		if _, hs := splitBatches(t, b); len(hs) != 4 || plain.LSO != 2 || !plain.AbortedNull {
			t.Fatalf("read_uncommitted fetch: %d batches, LSO %d, aborted null %v", len(hs), plain.LSO, plain.AbortedNull)
		}
		if off, _, err := OffsetForIsolation(p, -1, true); err != nil || off != 2 {
			t.Fatalf("ListOffsets latest read_committed: %d %v", off, err)
		}
		if off, _, err := OffsetForIsolation(p, -1, false); err != nil || off != 7 {
			t.Fatalf("ListOffsets latest read_uncommitted: %d %v", off, err)
		}

		abort := marker(t, m, p, 7, false) // 7: aborts 2-3; 8 still open at 4
		if lso := p.LastStableOffset(); lso != 2 {
			t.Fatalf("LSO %d before the high watermark passes the abort at %d, want 2", lso, abort)
		}
		caughtUp()
		if lso := p.LastStableOffset(); lso != 4 {
			t.Fatalf("LSO %d after the abort replicated, want 4 (producer 8)", lso)
		}
		commit := marker(t, m, p, 8, true) // 8
		caughtUp()
		wantHW(t, p, commit+1)
		if lso := p.LastStableOffset(); lso != commit+1 {
			t.Fatalf("LSO %d with no transaction open, want the high watermark %d", lso, commit+1)
		}
		fp, hs = committedFetch(t, m, 0)
		if fp.LSO != commit+1 || len(hs) != 6 {
			t.Fatalf("read_committed fetch after the markers: LSO %d, %d batches", fp.LSO, len(hs))
		}
		want := []logfile.AbortedTxn{{ProducerID: 7, FirstOffset: 2, LastOffset: abort, LastStableOffset: 4}}
		if !slices.Equal(fp.Aborted, want) {
			t.Fatalf("aborted transactions %+v, want %+v", fp.Aborted, want)
		}
		// A fetch past the aborted transaction lists none.
		if fp, _ := committedFetch(t, m, abort+1); len(fp.Aborted) != 0 {
			t.Fatalf("fetch at %d lists %+v", abort+1, fp.Aborted)
		}
	})
}

// TestReadCommittedFetchWakesOnLastStableOffset: a read_committed fetch
// that finds nothing below the last stable offset (an open transaction
// holds it) parks, and the commit's marker wakes it at once, with the
// records to read; one whose last stable offset moved between its read
// and its parking does not park.
func TestReadCommittedFetchWakesOnLastStableOffset(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1, func(o *Options) { o.TxnVerifier = &fakeVerifier{} })
		p, _ := leaderAndIsr(t, m, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		mustTxnProduce(t, m, p, 7, 0, 2)
		req := fetchReq(-1, 0, -1, -1)
		req.IsolationLevel, req.MinBytes, req.MaxWaitMillis = 1, 1, 10_000
		topics, n, _ := m.ReadFetch(12, req)
		ReleaseFetch(topics)
		if n != 0 || topics[0].Parts[0].LSO != 0 || topics[0].Parts[0].HW != 2 {
			t.Fatalf("first read: %d bytes, LSO %d HW %d", n, topics[0].Parts[0].LSO, topics[0].Parts[0].HW)
		}
		woke := make(chan bool, 1)
		start := time.Now()
		go func() { woke <- m.WaitForAppend(t.Context(), topics, start.Add(10*time.Second)) }()
		synctest.Wait()
		marker(t, m, p, 7, true)
		synctest.Wait()
		select {
		case <-woke:
		default:
			t.Fatal("the commit did not wake the read_committed fetch")
		}
		if took := time.Since(start); took != 0 {
			t.Fatalf("woke after %v", took)
		}
		fp, hs := committedFetch(t, m, 0)
		if fp.LSO != 3 || len(hs) != 2 {
			t.Fatalf("after the commit: LSO %d, %d batches", fp.LSO, len(hs))
		}
		// A fetch that parks when its last stable offset already moved
		// returns at once.
		if !m.WaitForAppend(t.Context(), []FetchTopic{{Name: testTopic, Parts: []FetchPart{{Partition: 0, LSO: 0, committed: true}}}}, time.Now().Add(time.Second)) || time.Since(start) != 0 {
			t.Fatal("a fetch whose last stable offset moved before it parked waited")
		}
	})
}

// TestFollowerRebuildsTxnState: a follower appending its leader's batches
// keeps the same open transactions and transaction index, so that as
// leader it would answer read_committed fetches the same.
func TestFollowerRebuildsTxnState(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		leader := c.broker(1, func(o *Options) { o.TxnVerifier = &fakeVerifier{} })
		follower := c.broker(2)
		ps := both(t, state(1, 4, 0, []int32{1, 2}, []int32{1, 2}), leader, follower)
		lp, fp := ps[0], ps[1]
		mustTxnProduce(t, leader, lp, 7, 0, 2)
		mustTxnProduce(t, leader, lp, 8, 0, 2)
		abort := marker(t, leader, lp, 7, false)
		mustTxnProduce(t, leader, lp, 9, 0, 1)
		advance(500 * time.Millisecond)
		advance(500 * time.Millisecond)
		sameLogs(t, lp.Log, fp.Log)
		if got, want := fp.Log.AbortedTxns(0, fp.Log.EndOffset()), lp.Log.AbortedTxns(0, lp.Log.EndOffset()); !slices.Equal(got, want) || len(want) != 1 || want[0].LastOffset != abort {
			t.Fatalf("follower's aborted transactions %+v, leader's %+v", got, want)
		}
		if got, want := fp.OpenTxns(), lp.OpenTxns(); len(got) != 2 || got[8] != want[8] || got[9] != want[9] {
			t.Fatalf("follower's open transactions %v, leader's %v", got, want)
		}
		wantHW(t, fp, lp.Log.HighWatermark())
		if fp.LastStableOffset() != lp.LastStableOffset() || lp.LastStableOffset() != 2 {
			t.Fatalf("LSO follower %d, leader %d, want 2", fp.LastStableOffset(), lp.LastStableOffset())
		}
	})
}

// TestInternalAppendTracksTransactions: batches of a producer that the
// broker itself appends (a coordinator's transactional offset commits)
// open and end transactions as a client's do, and are fenced by the
// producer's epoch.
func TestInternalAppendTracksTransactions(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m, p := alone(t, c, &fakeVerifier{})
		b := txnBatch(7, 0, 0, 1)
		if _, err := p.appendInternal(b); err != nil {
			t.Fatal(err)
		}
		p.AdvanceHW()
		if got := p.OpenTxns(); got[7] != 0 || p.LastStableOffset() != 0 {
			t.Fatalf("open %v, LSO %d", got, p.LastStableOffset())
		}
		marker(t, m, p, 7, true)
		if got := p.OpenTxns(); len(got) != 0 || p.LastStableOffset() != 2 {
			t.Fatalf("after the commit: open %v, LSO %d", got, p.LastStableOffset())
		}
		// A coordinator fenced the producer (a marker of a new epoch):
		// its older epoch's writes are refused.
		if _, err := m.WriteTxnMarker(p, Marker{ProducerID: 7, ProducerEpoch: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.appendInternal(txnBatch(7, 0, 1, 1)); code(err) != kerr.InvalidProducerEpoch.Code {
			t.Fatalf("internal append of a fenced epoch: %v", err)
		}
	})
}

// TestInternalTxnAppendVerification: the group coordinator's
// transactional offsets (AppendInternalTxn) are held to the verification
// of their TxnOffsetCommit as a produce is: a marker written while the
// coordinator was asked voids it, whether of the producer's epoch or of
// a bumped one (a timeout abort: INVALID_TXN_STATE before the stale
// epoch, as Kafka checks them); a verification of its own lets the batch
// open the transaction; once it is open no guard is needed, and once a
// marker ended it the guard of no verification is refused.
func TestInternalTxnAppendVerification(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		v := &fakeVerifier{}
		m, p := alone(t, c, v)
		verify := func() uint64 {
			tp := []TxnProduce{{P: p, ProducerID: 7}}
			m.VerifyTxnProduce(context.Background(), "txn", tp)
			if tp[0].Err != nil {
				t.Fatal(tp[0].Err)
			}
			return tp[0].Guard
		}
		for _, epoch := range []int16{0, 1} {
			v.during = func() {
				if _, err := m.WriteTxnMarker(p, Marker{ProducerID: 7, ProducerEpoch: epoch}); err != nil {
					t.Fatal(err)
				}
			}
			stale := verify()
			v.during = nil
			if err := m.AppendInternalTxn(context.Background(), p, txnBatch(7, 0, -1, 1), stale); code(err) != kerr.InvalidTxnState.Code {
				t.Fatalf("offsets overtaken by an abort of epoch %d: %v, want INVALID_TXN_STATE", epoch, err)
			}
		}
		end := p.Log.EndOffset()
		if got := p.OpenTxns(); len(got) != 0 || end != 2 {
			t.Fatalf("the refused batches wrote: open %v, end %d (the two markers)", got, end)
		}
		if err := m.AppendInternalTxn(context.Background(), p, txnBatch(7, 1, -1, 1), verify()); err != nil {
			t.Fatalf("verified offsets: %v", err)
		}
		if err := m.AppendInternalTxn(context.Background(), p, txnBatch(7, 1, -1, 1), 0); err != nil {
			t.Fatalf("offsets of the open transaction: %v", err)
		}
		if got := p.OpenTxns(); got[7] != end {
			t.Fatalf("open %v, want producer 7 at %d", got, end)
		}
		if _, err := m.WriteTxnMarker(p, Marker{ProducerID: 7, ProducerEpoch: 1, Commit: true}); err != nil {
			t.Fatal(err)
		}
		if err := m.AppendInternalTxn(context.Background(), p, txnBatch(7, 1, -1, 1), 0); code(err) != kerr.InvalidTxnState.Code {
			t.Fatalf("offsets after the commit, not verified: %v", err)
		}
		if got := p.OpenTxns(); len(got) != 0 {
			t.Fatalf("a hanging transaction opened: %v", got)
		}
	})
}
