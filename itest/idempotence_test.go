package itest

// Idempotent producers (KIP-98) against the real broker: hand-made
// idempotent batches with producer IDs from raw InitProducerId requests and
// sequence numbers set here, sent through franz-go's Client.Request and on
// raw connections; the producer state across SIGTERM and SIGKILL restarts;
// producer IDs never reused; transactions refused; and franz-go's own
// idempotent producer carrying on over broker restarts.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// initProducerID sends InitProducerId at version v, with a transactional ID
// if txn is not nil, and returns the producer ID, epoch and error code.
func (c *rawConn) initProducerID(t testing.TB, v int16, txn *string) (int64, int16, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(v)
	req.TransactionalID = txn
	req.TransactionTimeoutMillis = 60000
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp := c.roundTrip(t, req).(*kmsg.InitProducerIDResponse)
	return resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode
}

// newProducerID gets a producer ID for an idempotent producer, failing the
// test on an error.
func (b *broker) newProducerID(t testing.TB) (int64, int16) {
	t.Helper()
	pid, epoch, code := b.dial(t).initProducerID(t, 4, nil)
	if code != 0 || pid < 0 || epoch != 0 {
		t.Fatalf("InitProducerId: producer %d epoch %d, %v", pid, epoch, kerr.ErrorForCode(code))
	}
	return pid, epoch
}

// idemBatch is an idempotent batch of producer pid/epoch with n records
// starting at sequence seq; record values are "<tag>-v<i>".
func idemBatch(t testing.TB, pid int64, epoch int16, seq int32, n int, tag, codec string) []byte {
	t.Helper()
	return batch{records: simpleRecords(n, tag), codec: codec, idem: true, pid: pid, epoch: epoch, seq: seq}.encode(t)
}

// valuesOf are the record values idemBatch writes for n records of tag.
func valuesOf(tag string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s-v%d", tag, i))
	}
	return out
}

// requestProduce sends one partition's record set through franz-go's
// Client.Request, which writes the request as given (acks=-1 matches the
// client's default) at the highest version both sides serve, and returns
// the partition's error code and base offset.
func requestProduce(t testing.TB, cl *kgo.Client, topic string, partition int32, records []byte) (int16, int64) {
	t.Helper()
	kresp, err := cl.Request(ctx(t), produceRequest(9, topic, partition, records))
	if err != nil {
		t.Fatalf("produce through kgo: %v", err)
	}
	resp := kresp.(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response with %d topics", len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	return p.ErrorCode, p.BaseOffset
}

// wantProduce fails the test unless a produce got code want and, when want
// is 0, the base offset off.
func wantProduce(t testing.TB, what string, code int16, off int64, want *kerr.Error, wantOff int64) {
	t.Helper()
	switch {
	case want == nil && code != 0:
		t.Fatalf("%s: %v, want success at offset %d", what, kerr.ErrorForCode(code), wantOff)
	case want == nil && off != wantOff:
		t.Fatalf("%s: base offset %d, want %d", what, off, wantOff)
	case want != nil && code != want.Code:
		t.Fatalf("%s: %v, want %v", what, kerr.ErrorForCode(code), want)
	}
}

// topicValues reads a one-partition topic with franz-go and returns its
// record values in offset order, checking that offsets run 0, 1, 2, ...
func topicValues(t testing.TB, b *broker, topic string) []string {
	t.Helper()
	var out []string
	for i, r := range b.consumeAll(t, topic) {
		if r.Offset != int64(i) {
			t.Fatalf("%s: record %d at offset %d", topic, i, r.Offset)
		}
		out = append(out, string(r.Value))
	}
	return out
}

func wantValues(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the log holds %d records\n %q\nwant %d\n %q", what, len(got), got, len(want), want)
	}
}

// TestIdempotentProduce drives an idempotent producer by hand: a batch sent
// twice on the wire (through franz-go's Client.Request, then again on a raw
// connection) is written once and both answers carry its base offset; a
// retry of an earlier batch still among the last five also gets its own
// offset; a sequence gap or an overlapping range is
// OUT_OF_ORDER_SEQUENCE_NUMBER; after the producer moves to a new epoch the
// old one is INVALID_PRODUCER_EPOCH; a producer the partition never saw
// starting past sequence 0 is UNKNOWN_PRODUCER_ID. The log then holds every
// accepted record exactly once.
func TestIdempotentProduce(t *testing.T) {
	b := startBroker(t)
	const topic = "idem"
	b.newTopic(t, topic, 1, nil)
	cl := b.client(t)
	raw := b.dial(t)
	pid, epoch := b.newProducerID(t)
	var want []string

	// Batch 0: sequences 0-2, gzip. Sent twice.
	b0 := idemBatch(t, pid, epoch, 0, 3, "b0", "gzip")
	code, off := requestProduce(t, cl, topic, 0, b0)
	wantProduce(t, "batch 0", code, off, nil, 0)
	code, off = raw.produceCode(t, 9, topic, 0, b0)
	wantProduce(t, "batch 0 again, on another connection", code, off, nil, 0)
	want = append(want, valuesOf("b0", 3)...)
	wantValues(t, "after a duplicate", topicValues(t, b, topic), want)

	// Batch 1: sequences 3-4, zstd, sent twice; then batch 0 a third time.
	b1 := idemBatch(t, pid, epoch, 3, 2, "b1", "zstd")
	code, off = requestProduce(t, cl, topic, 0, b1)
	wantProduce(t, "batch 1", code, off, nil, 3)
	code, off = requestProduce(t, cl, topic, 0, b1)
	wantProduce(t, "batch 1 again", code, off, nil, 3)
	code, off = raw.produceCode(t, 9, topic, 0, b0)
	wantProduce(t, "batch 0 after batch 1", code, off, nil, 0)
	want = append(want, valuesOf("b1", 2)...)

	// Gaps and overlaps, refused and not written.
	for _, c := range []struct {
		what string
		seq  int32
		n    int
	}{
		{"a gap: sequence 10 after 4", 10, 1},
		{"sequence 6, skipping 5", 6, 2},
		{"sequences 4-5 overlapping batch 1", 4, 2},
		{"sequences 2-4 overlapping both", 2, 3},
	} {
		code, _ := requestProduce(t, cl, topic, 0, idemBatch(t, pid, epoch, c.seq, c.n, "gap", "none"))
		wantProduce(t, c.what, code, 0, kerr.OutOfOrderSequenceNumber, 0)
	}

	// The next batch in sequence is fine: sequences 5-8, snappy.
	code, off = requestProduce(t, cl, topic, 0, idemBatch(t, pid, epoch, 5, 4, "b2", "snappy"))
	wantProduce(t, "batch 2 after the refused ones", code, off, nil, 5)
	want = append(want, valuesOf("b2", 4)...)

	// A new epoch starts at sequence 0; then the old epoch is fenced.
	code, _ = requestProduce(t, cl, topic, 0, idemBatch(t, pid, epoch+1, 3, 1, "e1bad", "none"))
	wantProduce(t, "a new epoch starting at sequence 3", code, 0, kerr.OutOfOrderSequenceNumber, 0)
	code, off = requestProduce(t, cl, topic, 0, idemBatch(t, pid, epoch+1, 0, 2, "e1", "lz4"))
	wantProduce(t, "epoch 1 from sequence 0", code, off, nil, 9)
	want = append(want, valuesOf("e1", 2)...)
	code, _ = requestProduce(t, cl, topic, 0, idemBatch(t, pid, epoch, 9, 1, "e0", "none"))
	wantProduce(t, "epoch 0 after epoch 1", code, 0, kerr.InvalidProducerEpoch, 0)
	code, _ = raw.produceCode(t, 9, topic, 0, b1)
	wantProduce(t, "a retry of an epoch 0 batch after epoch 1", code, 0, kerr.InvalidProducerEpoch, 0)

	// A producer ID this partition never saw.
	other, _ := b.newProducerID(t)
	code, _ = requestProduce(t, cl, topic, 0, idemBatch(t, other, 0, 7, 1, "unknown", "none"))
	wantProduce(t, "an unknown producer at sequence 7", code, 0, kerr.UnknownProducerID, 0)
	code, off = requestProduce(t, cl, topic, 0, idemBatch(t, other, 0, 0, 1, "other", "none"))
	wantProduce(t, "the other producer at sequence 0", code, off, nil, 11)
	want = append(want, valuesOf("other", 1)...)

	wantValues(t, "at the end", topicValues(t, b, topic), want)
	// Every stored batch keeps its producer's ID, epoch and sequence.
	var seqs []string
	for _, sb := range b.readBatches(t, topic, 0) {
		seqs = append(seqs, fmt.Sprintf("%d/%d/%d+%d", sb.ProducerID-pid, sb.ProducerEpoch, sb.FirstSequence, sb.NumRecords))
	}
	wantSeqs := []string{"0/0/0+3", "0/0/3+2", "0/0/5+4", "0/1/0+2", fmt.Sprintf("%d/0/0+1", other-pid)}
	if !slices.Equal(seqs, wantSeqs) {
		t.Fatalf("stored batches (producer-%d/epoch/sequence+count): %q, want %q", pid, seqs, wantSeqs)
	}
}

// TestTransactionalInitProducerID: ApiVersions advertises InitProducerId
// and the transaction APIs at Kafka 3.8's versions; once FindCoordinator
// has found (and created) the coordinator of a transactional id,
// InitProducerId at every version gives it a producer at epoch 0, and the
// same id again the next epoch; without a transactional ID it works as
// before.
func TestTransactionalInitProducerID(t *testing.T) {
	b := startBroker(t)
	apis := b.apiVersions(t)
	for k, max := range map[int16]int16{keyInitProducerID: 5, 24: 5, 25: 4, 26: 4, 28: 4, 65: 0, 66: 1} {
		if v, ok := apis[k]; !ok || v[0] != 0 || v[1] != max {
			t.Errorf("ApiVersions advertises %s (key %d) as %v, want 0-%d", kmsg.NameForKey(k), k, v, max)
		}
	}
	conn := b.dial(t)
	for v := apis[keyInitProducerID][0]; v <= apis[keyInitProducerID][1]; v++ {
		id := "txn-" + fmt.Sprint(v)
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.SetVersion(3)
		fc.CoordinatorType, fc.CoordinatorKey = 1, id
		// The first lookup creates __transaction_state; its partition loads.
		waitFor(t, "FindCoordinator("+id+")", 10*time.Second, func() bool {
			return conn.roundTrip(t, fc).(*kmsg.FindCoordinatorResponse).ErrorCode == 0
		})
		var pid int64
		for want := int16(0); want < 2; want++ {
			var got int64
			var epoch, code int16
			waitFor(t, "InitProducerId("+id+") past the load", 10*time.Second, func() bool {
				got, epoch, code = conn.initProducerID(t, v, kmsg.StringPtr(id))
				return code != kerr.CoordinatorLoadInProgress.Code
			})
			if code != 0 || got < 0 || epoch != want || (want > 0 && got != pid) {
				t.Errorf("InitProducerId v%d with transactional ID %s: producer %d epoch %d, %v; want epoch %d", v, id, got, epoch, kerr.ErrorForCode(code), want)
			}
			pid = got
		}
		if pid, _, code := conn.initProducerID(t, v, nil); code != 0 || pid < 0 {
			t.Errorf("InitProducerId v%d: producer %d, %v", v, pid, kerr.ErrorForCode(code))
		}
	}
}

// TestProducerIDsNotReused: producer IDs only grow, within a run and
// across a clean restart and a crash.
func TestProducerIDsNotReused(t *testing.T) {
	b := startBroker(t)
	last := int64(-1)
	next := func(when string) {
		t.Helper()
		for range 3 {
			pid, _ := b.newProducerID(t)
			if pid <= last {
				t.Fatalf("%s: producer ID %d after %d", when, pid, last)
			}
			last = pid
		}
	}
	next("first run")
	b.stop()
	b.restart()
	next("after SIGTERM and a restart")
	b.kill()
	b.restart()
	next("after SIGKILL and a restart")
}

// TestIdempotentStateAcrossRestart: the producer state of a partition
// survives a clean restart (SIGTERM) and a crash (SIGKILL). After the
// restart a retry of the last batch still gets its original offset and is
// not written again, the next batch in sequence is accepted, a gap is
// still OUT_OF_ORDER_SEQUENCE_NUMBER and the old epoch is still fenced.
func TestIdempotentStateAcrossRestart(t *testing.T) {
	for _, c := range []struct {
		name string
		down func(b *broker)
	}{
		{"SIGTERM", (*broker).stop},
		{"SIGKILL", (*broker).kill},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := startBroker(t)
			const topic = "idem.restart"
			b.newTopic(t, topic, 1, nil)
			pid, _ := b.newProducerID(t)
			// Epoch 0 for one batch, then epoch 1: the state must keep the
			// newer epoch. Seven batches of 2 in epoch 1: more than the
			// five a producer's entry remembers.
			cl := b.client(t)
			code, off := requestProduce(t, cl, topic, 0, idemBatch(t, pid, 0, 0, 2, "old", "none"))
			wantProduce(t, "epoch 0", code, off, nil, 0)
			want := valuesOf("old", 2)
			var last []byte
			for i := range 7 {
				tag := fmt.Sprintf("b%d", i)
				last = idemBatch(t, pid, 1, int32(2*i), 2, tag, compressedCodecs[i%len(compressedCodecs)])
				code, off := requestProduce(t, cl, topic, 0, last)
				wantProduce(t, tag, code, off, nil, int64(2+2*i))
				want = append(want, valuesOf(tag, 2)...)
			}
			const lastOffset = 14

			c.down(b)
			b.restart()

			cl = b.client(t)
			code, off = requestProduce(t, cl, topic, 0, last)
			wantProduce(t, "the last batch retried after the restart", code, off, nil, lastOffset)
			wantValues(t, "after the retry", topicValues(t, b, topic), want)
			code, _ = requestProduce(t, cl, topic, 0, idemBatch(t, pid, 1, 20, 1, "gap", "none"))
			wantProduce(t, "a gap after the restart", code, 0, kerr.OutOfOrderSequenceNumber, 0)
			code, _ = requestProduce(t, cl, topic, 0, idemBatch(t, pid, 0, 2, 1, "old", "none"))
			wantProduce(t, "epoch 0 after the restart", code, 0, kerr.InvalidProducerEpoch, 0)
			code, off = requestProduce(t, cl, topic, 0, idemBatch(t, pid, 1, 14, 3, "next", "zstd"))
			wantProduce(t, "the next batch after the restart", code, off, nil, lastOffset+2)
			want = append(want, valuesOf("next", 3)...)
			wantValues(t, "at the end", topicValues(t, b, topic), want)

			// And once more, with the batch written after the restart.
			c.down(b)
			b.restart()
			cl = b.client(t)
			code, off = requestProduce(t, cl, topic, 0, idemBatch(t, pid, 1, 14, 3, "next", "zstd"))
			wantProduce(t, "the batch after the first restart, retried after the second", code, off, nil, lastOffset+2)
			code, off = requestProduce(t, cl, topic, 0, idemBatch(t, pid, 1, 17, 1, "last", "none"))
			wantProduce(t, "a batch after the second restart", code, off, nil, lastOffset+5)
			want = append(want, valuesOf("last", 1)...)
			wantValues(t, "after the second restart", topicValues(t, b, topic), want)
		})
	}
}

// TestIdempotentFranzGoAcrossRestart: franz-go's default producer
// (idempotent, snappy) keeps producing with one client while the broker
// restarts cleanly and crashes under it. The log holds every record once,
// in order, all from the one producer ID and epoch with sequences that run
// on: the broker recognised the producer after each restart rather than
// making the client start over.
func TestIdempotentFranzGoAcrossRestart(t *testing.T) {
	b := startBroker(t)
	const topic = "idem.franz"
	b.newTopic(t, topic, 1, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var want []string
	produce := func(round string) {
		t.Helper()
		var recs []*kgo.Record
		for i := range 10 {
			v := fmt.Sprintf("%s-%d %s", round, i, "franz-go default producer, snappy and idempotent")
			want = append(want, v)
			recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
		}
		produceSync(t, cl, recs...)
	}
	produce("first")
	b.stop()
	b.restart()
	produce("after-sigterm")
	b.kill()
	b.restart()
	produce("after-sigkill")

	wantValues(t, "franz-go's records", topicValues(t, b, topic), want)
	batches := b.readBatches(t, topic, 0)
	next := int32(0)
	for _, sb := range batches {
		if sb.ProducerID != batches[0].ProducerID || sb.ProducerEpoch != batches[0].ProducerEpoch || sb.FirstSequence != next {
			t.Fatalf("batch at offset %d: producer %d epoch %d sequence %d; want %d, %d, %d (the first batch's producer, sequences running on)",
				sb.FirstOffset, sb.ProducerID, sb.ProducerEpoch, sb.FirstSequence, batches[0].ProducerID, batches[0].ProducerEpoch, next)
		}
		if sb.ProducerID < 0 || sb.codec() != codecIDs["snappy"] {
			t.Fatalf("batch at offset %d: producer %d codec %d; want an idempotent snappy batch", sb.FirstOffset, sb.ProducerID, sb.codec())
		}
		next += sb.NumRecords
	}
}
