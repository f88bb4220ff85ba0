package group

import (
	"reflect"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/record"
)

// txnCommit commits one offset per partition of topic for producer pid,
// as member (with generation gen; "" and -1 for none), and returns the
// answer per partition.
func (e *env) txnCommit(group string, pid int64, member string, gen int32, topic string, offsets map[int32]int64) map[int32]int16 {
	tc := TxnCommit{Group: group, ProducerID: pid, MemberID: member, Generation: gen}
	for p, o := range offsets {
		tc.Offsets = append(tc.Offsets, TxnOffset{Topic: topic, Partition: p, Offset: o, LeaderEpoch: -1})
	}
	codes := map[int32]int16{}
	for i, e := range e.c.CommitTxnOffsets(tc) {
		codes[tc.Offsets[i].Partition] = code(e)
	}
	return codes
}

func (e *env) complete(group string, pid int64, commit bool) {
	e.c.CompleteTxn(pid, []int32{e.c.PartitionFor(group)}, commit)
}

// marker appends the COMMIT or ABORT marker of producer pid to the group's
// partition of __consumer_offsets, as the partition side writes it.
func (e *env) marker(group string, pid int64, commit bool) {
	e.t.Helper()
	b := record.NewBuilder(1)
	b.Header.Attributes = record.AttrTransactional | record.AttrControl
	b.Header.ProducerID, b.Header.ProducerEpoch = pid, 0
	typ := byte(0)
	if commit {
		typ = 1
	}
	b.Add(1, []byte{0, 0, 0, typ}, []byte{0, 0, 0, 0, 0, 7})
	batch, _ := b.AppendTo(nil)
	if _, err := e.log(group).l.Append(batch); err != nil {
		e.t.Fatal(err)
	}
}

// TestTxnOffsetCommit: offsets committed in a transaction are written
// but invisible until the transaction's marker commits them; an aborted
// transaction's are dropped. Kafka's refusals: unknown partitions, an
// empty group id, a member or generation that does not check out.
func TestTxnOffsetCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		before := len(e.log("g").records(t))
		if got := e.txnCommit("g", 5, "", -1, "t", map[int32]int64{0: 10, 1: 11}); !reflect.DeepEqual(got, map[int32]int16{0: 0, 1: 0}) {
			t.Fatalf("codes %v", got)
		}
		recs := e.log("g").records(t)
		if len(recs) != before+2 {
			t.Fatalf("%d records written, want 2", len(recs)-before)
		}
		if got, _ := e.fetch("g", "t"); len(got) != 0 {
			t.Errorf("pending offsets visible: %v", got)
		}
		e.complete("g", 5, true)
		if got, _ := e.fetch("g", "t"); !reflect.DeepEqual(got, map[int32]int64{0: 10, 1: 11}) {
			t.Errorf("after the commit marker: %v", got)
		}
		e.txnCommit("g", 6, "", -1, "t", map[int32]int64{0: 20})
		e.complete("g", 6, false)
		if got, _ := e.fetch("g", "t"); got[0] != 10 {
			t.Errorf("after the abort marker: %v", got)
		}
		for _, c := range []struct {
			name         string
			group, topic string
			member       string
			gen          int32
			want         *kerr.Error
		}{
			{"unknown topic", "g", "nope", "", -1, kerr.UnknownTopicOrPartition},
			{"unknown member", "g", "t", "m-1", 1, kerr.UnknownMemberID},
			{"generation without a member", "g", "t", "", 3, kerr.UnknownMemberID},
		} {
			got := e.txnCommit(c.group, 9, c.member, c.gen, c.topic, map[int32]int64{0: 1})
			wantCode(t, c.name, got[0], c.want)
		}
		members, gen := e.stableGroup("m", 1)
		wantCode(t, "a member", e.txnCommit("m", 9, members[0], gen, "t", map[int32]int64{0: 1})[0], nil)
		wantCode(t, "a member's old generation", e.txnCommit("m", 9, members[0], gen-1, "t", map[int32]int64{0: 1})[0], kerr.IllegalGeneration)
	})
}

// TestTxnOffsetReplay: a restarted coordinator rebuilds transactional
// offsets from the log: committed by a COMMIT marker, dropped by an ABORT
// marker, still pending without one (completed later by CompleteTxn).
func TestTxnOffsetReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		e.txnCommit("g", 7, "", -1, "t", map[int32]int64{0: 30})
		e.marker("g", 7, true)
		e.txnCommit("g", 8, "", -1, "t", map[int32]int64{0: 40})
		e.marker("g", 8, false)
		e.txnCommit("g", 9, "", -1, "t", map[int32]int64{1: 50})
		e.restart()
		if got, _ := e.fetch("g", "t"); !reflect.DeepEqual(got, map[int32]int64{0: 30}) {
			t.Errorf("after the restart: %v", got)
		}
		e.complete("g", 9, true)
		if got, _ := e.fetch("g", "t"); !reflect.DeepEqual(got, map[int32]int64{0: 30, 1: 50}) {
			t.Errorf("after its marker: %v", got)
		}
	})
}

// TestTxnCompletedWhileLoading: a marker written while the partition
// loads may come after the replay read the log; its completion is applied
// once the partition is loaded.
func TestTxnCompletedWhileLoading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		e.txnCommit("g", 7, "", -1, "t", map[int32]int64{0: 30})
		p := e.c.PartitionFor("g")
		e.c.Unload(p)
		e.logs[p].block = make(chan struct{})
		loaded := e.c.Load(p, e.logs[p])
		e.complete("g", 7, true)
		close(e.logs[p].block)
		<-loaded
		if got, _ := e.fetch("g", "t"); got[0] != 30 {
			t.Errorf("a commit during the load: %v", got)
		}
	})
}
