package group

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// txnCommit commits offsets of topic t for group inside producer pid's
// transaction, as a simple (memberless) transactional producer.
func (e *env) txnCommit(group string, pid int64, offsets map[int32]int64) []*kerr.Error {
	tc := TxnCommit{Group: group, ProducerID: pid, ProducerEpoch: 0, Generation: -1}
	for p, o := range offsets {
		tc.Offsets = append(tc.Offsets, TxnOffset{Topic: "t", Partition: p, Offset: o, LeaderEpoch: -1})
	}
	return e.c.CommitTxnOffsets(tc)
}

// marker writes producer pid's marker to the group's partition and tells
// the coordinator, as the WriteTxnMarkers handler does.
func (e *env) marker(group string, pid int64, commit bool) {
	e.t.Helper()
	typ := record.ControlAbort
	if commit {
		typ = record.ControlCommit
	}
	if _, err := e.log(group).l.Append(record.AppendEndTxnMarker(nil, pid, 0, record.EndTxnMarker{Type: typ}, 1)); err != nil {
		e.t.Fatal(err)
	}
	e.c.CompleteTxn(pid, []int32{e.c.PartitionFor(group)}, commit)
}

// stableFetch is an OffsetFetch v7 of partitions 0 and 1 of t, with
// require_stable.
func (e *env) stableFetch(group string, requireStable bool) map[int32]kmsg.OffsetFetchResponseTopicPartition {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, group, requireStable
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "t", []int32{0, 1}
	req.Topics = append(req.Topics, rt)
	resp := e.c.OffsetFetch(req)
	wantCode(e.t, "OffsetFetch", resp.ErrorCode, nil)
	out := map[int32]kmsg.OffsetFetchResponseTopicPartition{}
	for _, p := range resp.Topics[0].Partitions {
		out[p.Partition] = p
	}
	return out
}

// TestTxnOffsetCommit: offsets committed inside a transaction are written
// at once, in a transactional batch of the producer, and stay pending:
// OffsetFetch does not see them, and with require_stable answers
// UNSTABLE_OFFSET_COMMIT for their partitions. A commit marker makes them
// the group's offsets, an abort drops them; a replay of the log after a
// restart comes to the same, pending ones included.
func TestTxnOffsetCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		if codes := e.commit("g", "", -1, "t", map[int32]int64{1: 5}); codes[0] != 0 {
			t.Fatalf("plain commit: %v", codes)
		}
		for _, c := range e.txnCommit("g", 7, map[int32]int64{0: 10}) {
			if c != nil {
				t.Fatalf("transactional commit: %v", c)
			}
		}
		got := e.stableFetch("g", false)
		if got[0].Offset != -1 || got[0].ErrorCode != 0 || got[1].Offset != 5 {
			t.Fatalf("pending offset visible: %+v", got)
		}
		got = e.stableFetch("g", true)
		if got[0].ErrorCode != kerr.UnstableOffsetCommit.Code || got[0].Offset != -1 || got[1].ErrorCode != 0 || got[1].Offset != 5 {
			t.Fatalf("require_stable fetch: %+v", got)
		}
		// The batch in the log is the producer's, transactional.
		var hs []record.Header
		e.log("g").l.ScanBatches(0, func(h *record.Header) bool { hs = append(hs, *h); return true })
		last := hs[len(hs)-1]
		if last.ProducerID != 7 || !last.IsTransactional() || last.BaseSequence != 0 {
			t.Fatalf("transactional offsets batch %+v", last)
		}

		e.marker("g", 7, true)
		if got := e.stableFetch("g", true); got[0].Offset != 10 || got[0].ErrorCode != 0 {
			t.Fatalf("after the commit: %+v", got)
		}
		e.txnCommit("g", 8, map[int32]int64{0: 20, 1: 21})
		e.marker("g", 8, false)
		if got := e.stableFetch("g", true); got[0].Offset != 10 || got[1].Offset != 5 {
			t.Fatalf("after the abort: %+v", got)
		}
		e.txnCommit("g", 9, map[int32]int64{1: 30}) // left open

		e.restart()
		got = e.stableFetch("g", true)
		if got[0].Offset != 10 || got[1].ErrorCode != kerr.UnstableOffsetCommit.Code {
			t.Fatalf("after a restart: %+v", got)
		}
		e.marker("g", 9, true)
		if got := e.stableFetch("g", true); got[1].Offset != 30 {
			t.Fatalf("commit after the restart: %+v", got)
		}
	})
}

// TestTxnOffsetCommitErrors: a partition that does not exist and a
// member of the wrong generation are refused, as Kafka's
// doTxnCommitOffsets refuses them, and nothing goes pending.
func TestTxnOffsetCommitErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		members, gen := e.stableGroup("g", 1)
		codes := e.c.CommitTxnOffsets(TxnCommit{Group: "g", ProducerID: 1, Generation: gen + 1, MemberID: members[0],
			Offsets: []TxnOffset{{Topic: "t", Partition: 0, Offset: 1}}})
		if codes[0] != kerr.IllegalGeneration {
			t.Fatalf("wrong generation: %v", codes)
		}
		codes = e.c.CommitTxnOffsets(TxnCommit{Group: "g", ProducerID: 1, Generation: gen, MemberID: members[0],
			Offsets: []TxnOffset{{Topic: "nope", Partition: 0, Offset: 1}, {Topic: "t", Partition: 0, Offset: 2}}})
		if codes[0] != kerr.UnknownTopicOrPartition || codes[1] != nil {
			t.Fatalf("unknown partition: %v", codes)
		}
		// The member's commit inside a transaction needs no Empty group.
		if got := e.stableFetch("g", true); got[0].ErrorCode != kerr.UnstableOffsetCommit.Code {
			t.Fatalf("member's transactional commit: %+v", got)
		}
	})
}

// TestTxnOffsetCommitVerified: a commit the handler verified with the
// transaction coordinator is appended with its verification's guard; one
// whose guard the log refuses (a marker came meanwhile, KIP-890) is
// INVALID_TXN_STATE and leaves nothing pending, as Kafka's storeOffsets
// with its verification guard.
func TestTxnOffsetCommitVerified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		l := e.log("g")
		tc := TxnCommit{Group: "g", ProducerID: 7, Generation: -1, Verified: true, Guard: 41,
			Offsets: []TxnOffset{{Topic: "t", Partition: 0, Offset: 10, LeaderEpoch: -1}}}
		l.refuseTxn = fmt.Errorf("replica: %w", kerr.InvalidTxnState)
		if codes := e.c.CommitTxnOffsets(tc); codes[0] != kerr.InvalidTxnState {
			t.Fatalf("refused by the log: %v", codes)
		}
		if got := e.stableFetch("g", true); got[0].ErrorCode != 0 || got[0].Offset != -1 {
			t.Fatalf("a refused commit went pending: %+v", got)
		}
		l.refuseTxn = nil
		tc.Guard = 42
		if codes := e.c.CommitTxnOffsets(tc); codes[0] != nil {
			t.Fatalf("verified commit: %v", codes)
		}
		if want := []uint64{41, 42}; !slices.Equal(l.guards, want) {
			t.Fatalf("guards %v, want %v", l.guards, want)
		}
		if got := e.stableFetch("g", true); got[0].ErrorCode != kerr.UnstableOffsetCommit.Code {
			t.Fatalf("verified commit not pending: %+v", got)
		}
	})
}

// TestTxnCompletedWhileLoading: a marker whose completion comes while the
// partition is still loading is applied once it has loaded, whether the
// replay read the marker or not.
func TestTxnCompletedWhileLoading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		e.txnCommit("g", 7, map[int32]int64{0: 10})
		e.c.Close()
		p := e.c.PartitionFor("g")
		e.log("g").block = make(chan struct{})
		e.c = New(e.cfg)
		for i, l := range e.logs {
			if int32(i) != p {
				<-e.c.Load(int32(i), l)
			}
		}
		loaded := e.c.Load(p, e.log("g"))
		e.c.CompleteTxn(7, []int32{p}, true) // before its marker is in the log
		close(e.log("g").block)
		<-loaded
		e.log("g").block = nil
		if got := e.stableFetch("g", true); got[0].Offset != 10 || got[0].ErrorCode != 0 {
			t.Fatalf("commit during the load: %+v", got)
		}
	})
}
