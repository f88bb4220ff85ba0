package producerstate

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/logfile"
	"samsa/record"
)

func txnHeader(pid int64, epoch int16, seq int32, records int32) *record.Header {
	h := idemHeader(pid, epoch, seq, records)
	h.Attributes = record.AttrTransactional
	return h
}

func markerHeader(pid int64, epoch int16, offset int64) *record.Header {
	return &record.Header{BaseOffset: offset, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: -1, RecordCount: 1,
		Attributes: record.AttrTransactional | record.AttrControl}
}

func abortAt(coord int32) record.EndTxnMarker {
	return record.EndTxnMarker{Type: record.ControlAbort, CoordinatorEpoch: coord}
}

func commitAt(coord int32) record.EndTxnMarker {
	return record.EndTxnMarker{Type: record.ControlCommit, CoordinatorEpoch: coord}
}

// TestTxnLifecycle: a producer's first transactional batch opens its
// transaction at its offset and later ones do not move it; while it is
// open a non-transactional batch is INVALID_TXN_STATE; markers of an older
// producer epoch or coordinator epoch are fenced; an abort ends the
// transaction with the last stable offset of the moment (the earliest
// other open transaction, else the marker + 1); the last stable offset
// stays at an ended transaction until the high watermark passes its
// marker.
func TestTxnLifecycle(t *testing.T) {
	ps := NewState()
	add := func(h *record.Header, off int64) {
		t.Helper()
		if dup, err := ps.Check(h); err != nil || dup != nil {
			t.Fatalf("check %+v: %v %v", h, dup, err)
		}
		ps.Update(h, off, 1)
	}
	add(txnHeader(1, 0, 0, 2), 10) // 10-11
	add(txnHeader(2, 0, 0, 1), 12) // 12
	add(txnHeader(1, 0, 2, 3), 13) // 13-15
	if got := ps.OpenTxns(); !slices.Equal(got, []TxnSpan{{1, 10, -1}, {2, 12, -1}}) {
		t.Fatalf("open %+v", got)
	}
	_, err := ps.Check(idemHeader(1, 0, 5, 1))
	wantCode(t, err, kerr.InvalidTxnState)
	_, err = ps.Check(txnHeader(1, 0, 5, 1))
	if err != nil {
		t.Fatalf("transactional batch in an open transaction: %v", err)
	}

	ps.m[1].coordinatorEpoch = 4
	wantCode(t, ps.CheckMarker(1, -1, 4), kerr.InvalidProducerEpoch)
	wantCode(t, ps.CheckMarker(1, 0, 3), kerr.TransactionCoordinatorFenced)
	if err := ps.CheckMarker(1, 0, 4); err != nil {
		t.Fatal(err)
	}
	if err := ps.CheckMarker(99, 0, 0); err != nil {
		t.Fatalf("marker of an unknown producer: %v", err)
	}

	c, ok := ps.EndTxn(markerHeader(1, 0, 16), abortAt(4), 1)
	if !ok || c != (CompletedTxn{ProducerID: 1, First: 10, Last: 16, Aborted: true, LastStableOffset: 12}) {
		t.Fatalf("abort: %+v %v", c, ok)
	}
	if _, ok := ps.EndTxn(markerHeader(1, 0, 17), commitAt(4), 1); ok {
		t.Fatal("a marker without an open transaction completed one")
	}
	if ps.HasOpenTxn(1) {
		t.Fatal("producer 1 still open")
	}
	// Producer 1's transaction ended at 16 but holds the LSO until the
	// high watermark passes 16; producer 2's is open at 12.
	spans := ps.Unstable()
	if !slices.Equal(spans, []TxnSpan{{1, 10, 16}, {2, 12, -1}}) {
		t.Fatalf("unstable %+v", spans)
	}
	for _, c := range []struct{ hw, want int64 }{{5, 5}, {12, 10}, {16, 10}, {17, 12}, {30, 12}} {
		if got := lastStable(spans, c.hw); got != c.want {
			t.Errorf("last stable at hw %d = %d, want %d", c.hw, got, c.want)
		}
	}
	c, ok = ps.EndTxn(markerHeader(2, 0, 18), commitAt(0), 1)
	if !ok || c.Aborted || c.LastStableOffset != 19 {
		t.Fatalf("commit: %+v %v", c, ok)
	}
	ps.Prune(17)
	if got := ps.Unstable(); !slices.Equal(got, []TxnSpan{{2, 12, 18}}) {
		t.Fatalf("after prune at 17: %+v", got)
	}
	// The producer may start a new transaction at its next sequence.
	add(txnHeader(1, 0, 5, 1), 19)
	if got := ps.OpenTxns(); !slices.Equal(got, []TxnSpan{{1, 19, -1}}) {
		t.Fatalf("new transaction: %+v", got)
	}
}

// TestTxnEpochBump: a marker of a new producer epoch (the coordinator
// fenced or bumped the producer, KIP-360) forgets the old epoch's
// batches: the new epoch starts at sequence 0, the old one is
// INVALID_PRODUCER_EPOCH, and the snapshot writes the producer without a
// batch.
func TestTxnEpochBump(t *testing.T) {
	ps := NewState()
	ps.Update(txnHeader(7, 3, 0, 4), 0, 1)
	if _, ok := ps.EndTxn(markerHeader(7, 4, 4), abortAt(2), 1); !ok {
		t.Fatal("the abort ended nothing")
	}
	e := ps.m[7]
	if e.epoch != 4 || len(e.batches) != 0 || e.coordinatorEpoch != 2 || e.lastSequence() != -1 {
		t.Fatalf("entry after the bump: %+v", e)
	}
	_, err := ps.Check(txnHeader(7, 3, 4, 1))
	wantCode(t, err, kerr.InvalidProducerEpoch)
	_, err = ps.Check(txnHeader(7, 4, 1, 1))
	wantCode(t, err, kerr.OutOfOrderSequenceNumber)
	if _, err := ps.Check(txnHeader(7, 4, 0, 1)); err != nil {
		t.Fatalf("new epoch at sequence 0: %v", err)
	}
	entries, err := ReadSnapshot(EncodeSnapshot(ps))
	if err != nil || len(entries) != 1 {
		t.Fatal(entries, err)
	}
	if got := entries[0]; got != (SnapshotEntry{ProducerID: 7, Epoch: 4, LastSequence: -1, LastOffset: -1, OffsetDelta: 0, Timestamp: 1, CoordinatorEpoch: 2, CurrentTxnFirstOffset: -1}) {
		t.Fatalf("snapshot entry %+v", got)
	}
	back, err := DecodeSnapshot(EncodeSnapshot(ps))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Check(txnHeader(7, 4, 0, 1)); err != nil {
		t.Fatalf("after reload: %v", err)
	}
}

// TestSnapshotKafkaBytes: a snapshot with an open transaction and a
// coordinator epoch is Kafka's producer snapshot v1 byte for byte (its
// PID_SNAPSHOT_MAP_SCHEMA: version, CRC-32C of the rest, the entries),
// and loading it reopens the transaction.
func TestSnapshotKafkaBytes(t *testing.T) {
	ps := NewState()
	ps.Update(txnHeader(5, 2, 7, 3), 100, 1700000000000) // sequences 7-9 at 100-102
	ps.m[5].coordinatorEpoch = 9
	got := EncodeSnapshot(ps)
	body, _ := hex.DecodeString("00000001" + // one entry
		"0000000000000005" + // producer_id
		"0002" + // epoch
		"00000009" + // last_sequence
		"0000000000000066" + // last_offset 102
		"00000002" + // offset_delta
		"0000018bcfe56800" + // timestamp
		"00000009" + // coordinator_epoch
		"0000000000000064") // current_txn_first_offset 100
	want := binary.BigEndian.AppendUint16(nil, 1)
	want = binary.BigEndian.AppendUint32(want, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	want = append(want, body...)
	if !bytes.Equal(got, want) {
		t.Fatalf("snapshot\n got %x\nwant %x", got, want)
	}
	back, err := DecodeSnapshot(want)
	if err != nil {
		t.Fatal(err)
	}
	if !back.HasOpenTxn(5) || !slices.Equal(back.OpenTxns(), []TxnSpan{{5, 100, -1}}) || back.m[5].coordinatorEpoch != 9 {
		t.Fatalf("loaded: %+v open %+v", back.m[5], back.OpenTxns())
	}
	// Kafka's entry of a producer whose last batch had no sequence (a
	// coordinator's append) loads too.
	kafka, _ := hex.DecodeString("00000001" + "0000000000000006" + "0000" + "ffffffff" + "0000000000000010" + "00000000" + "0000000000000001" + "ffffffff" + "ffffffffffffffff")
	snap := binary.BigEndian.AppendUint16(nil, 1)
	snap = binary.BigEndian.AppendUint32(snap, crc32.Checksum(kafka, crc32.MakeTable(crc32.Castagnoli)))
	if _, err := DecodeSnapshot(append(snap, kafka...)); err != nil {
		t.Fatalf("entry without sequence: %v", err)
	}
}

// TestPlanAbortsMatchesApply: the dry run finds exactly the aborted
// transactions applying the same batches finds, and changes nothing.
func TestPlanAbortsMatchesApply(t *testing.T) {
	ps := NewState()
	ps.Update(txnHeader(1, 0, 0, 1), 0, 1) // open before the append
	var buf []byte
	add := func(b []byte) { buf = append(buf, b...) }
	txn := func(pid int64, seq int32) []byte {
		b := record.NewBuilder(1)
		b.Header.Attributes = record.AttrTransactional
		b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
		b.Add(1, []byte("k"), []byte("v"))
		out, _ := b.AppendTo(nil)
		return out
	}
	marker := func(pid int64, m record.EndTxnMarker) []byte { return record.AppendEndTxnMarker(nil, pid, 0, m, 1) }
	add(txn(2, 0))              // 1: opens 2
	add(marker(1, abortAt(0)))  // 2: aborts 1, LSO 1
	add(txn(1, 1))              // 3: opens 1 again
	add(marker(3, abortAt(0)))  // 4: nothing open for 3
	add(marker(2, commitAt(0))) // 5: commits 2
	add(marker(1, abortAt(0)))  // 6: aborts 1, LSO 7
	bs, err := record.ValidateProduce(buf, 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	bs.AssignOffsets(1)
	before := EncodeSnapshot(ps)
	plan, err := ps.PlanAborts(&bs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, EncodeSnapshot(ps)) || !slices.Equal(ps.OpenTxns(), []TxnSpan{{1, 0, -1}}) {
		t.Fatal("the dry run changed the state")
	}
	var applied []logfile.AbortedTxn
	for h, b := range bs.All() {
		c, ok, err := ps.Apply(h, b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok && c.Aborted {
			applied = append(applied, c.AbortedTxn())
		}
	}
	want := []logfile.AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 2, LastStableOffset: 1}, {ProducerID: 1, FirstOffset: 3, LastOffset: 6, LastStableOffset: 7}}
	if !slices.Equal(plan, want) || !slices.Equal(applied, want) {
		t.Fatalf("plan %+v\napplied %+v\nwant %+v", plan, applied, want)
	}
}

// TestVerificationGuard: a producer without an open transaction here needs
// a verification; its guard stays valid until a marker of the producer
// comes (the abort that makes a late produce a hanging transaction) or
// its batch opens the transaction; an open transaction needs none.
func TestVerificationGuard(t *testing.T) {
	ps := NewState()
	g, need := ps.StartVerification(1, 1)
	if !need || g == 0 {
		t.Fatalf("first verification: %d %v", g, need)
	}
	if g2, _ := ps.StartVerification(1, 1); g2 != g {
		t.Fatalf("a verification under way is shared: %d, %d", g2, g)
	}
	if !ps.Verified(1, g) || ps.Verified(1, g+1) || ps.Verified(1, 0) || ps.Verified(2, g) {
		t.Fatal("Verified disagrees with the guard")
	}
	ps.EndTxn(markerHeader(1, 0, 0), abortAt(0), 1)
	if ps.Verified(1, g) {
		t.Fatal("a guard taken before the abort still verifies")
	}
	g3, _ := ps.StartVerification(1, 1)
	if g3 == g {
		t.Fatal("a new verification reused the voided guard")
	}
	ps.Update(txnHeader(1, 0, 0, 1), 1, 1)
	if _, need := ps.StartVerification(1, 1); need {
		t.Fatal("an open transaction needs no verification")
	}
	if !ps.Verified(1, 0) {
		t.Fatal("an open transaction is verified")
	}
	// Stale verifications expire with the idle producers.
	ps.StartVerification(3, 5)
	ps.Expire(6)
	if len(ps.verifying) != 0 {
		t.Fatalf("verifications left: %v", ps.verifying)
	}
}

// TestExpireKeepsOpenTransactions: a producer idle past the expiry stays
// while its transaction is open (it holds the last stable offset).
func TestExpireKeepsOpenTransactions(t *testing.T) {
	ps := NewState()
	ps.Update(txnHeader(1, 0, 0, 1), 0, 1)
	ps.Update(idemHeader(2, 0, 0, 1), 1, 1)
	if n := ps.Expire(10); n != 1 || ps.m[1] == nil {
		t.Fatalf("expired %d, producer 1 %+v", n, ps.m[1])
	}
}

// TestActive: DescribeProducers' view of each producer: epoch, last
// sequence (-1 after a bump), coordinator epoch, open transaction.
func TestActive(t *testing.T) {
	ps := NewState()
	ps.Update(txnHeader(2, 1, 0, 3), 10, 5)
	ps.Update(idemHeader(1, 0, 0, 2), 0, 4)
	ps.EndTxn(markerHeader(1, 3, 2), commitAt(7), 6)
	got := ps.Active()
	want := []ProducerInfo{
		{ProducerID: 1, Epoch: 3, LastSequence: -1, LastTimestamp: 6, CoordinatorEpoch: 7, CurrentTxnStartOffset: -1},
		{ProducerID: 2, Epoch: 1, LastSequence: 2, LastTimestamp: 5, CoordinatorEpoch: -1, CurrentTxnStartOffset: 10},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Active = %+v\nwant %+v", got, want)
	}
}
