package itest

// Transactions end to end (KIP-98, KIP-447, KIP-890 part 1) with real
// clients against the real broker: the transaction coordinator's state
// machine, markers and timeouts together with the partitions' side
// (transactional produce, markers, the last stable offset, read_committed
// fetches, pending offsets of consume-transform-produce).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startTxnBroker starts a broker for transaction tests: groups rebalance
// at once and members may have short sessions; timed-out transactions
// are looked for every 200 ms.
func startTxnBroker(t testing.TB, overrides ...string) *broker {
	return startBroker(t, append([]string{
		"group.initial.rebalance.delay.ms=0",
		"group.min.session.timeout.ms=500",
		"transaction.abort.timed.out.transaction.cleanup.interval.ms=200",
	}, overrides...)...)
}

// txnClient is a franz-go transactional producer (and consumer, with
// opts) of the broker, closed at the end of the test.
func (b *broker) txnClient(t testing.TB, id string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(b.addr),
		kgo.TransactionalID(id),
		kgo.TransactionTimeout(10 * time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RetryTimeout(10 * time.Second),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// readTopic reads every record of topic from the log start as a consumer
// at the isolation level (read_committed: up to the last stable offset),
// and returns the values, by partition then offset. Markers are read, to
// know a partition is done, and not returned. It first waits for the
// markers of ended transactions: EndTxn is answered once the outcome is
// logged, and the markers, which move the last stable offset, follow (as
// in Kafka).
func (b *broker) readTopic(t testing.TB, topic string, committed bool) []string {
	t.Helper()
	adm := b.admin(t)
	waitFor(t, "the markers of ended transactions", 10*time.Second, func() bool {
		l, err := adm.ListTransactions(ctx(t), nil, []string{"PrepareCommit", "PrepareAbort"})
		return err == nil && len(l) == 0
	})
	list := adm.ListEndOffsets
	iso := kgo.ReadUncommitted()
	if committed {
		list, iso = adm.ListCommittedOffsets, kgo.ReadCommitted()
	}
	ends, err := list(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int32]kgo.Offset{}
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("list offsets %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		parts[o.Partition] = kgo.NewOffset().AtStart()
		if o.Offset > 0 {
			pending[o.Partition] = o.Offset
		}
	})
	cl := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}), kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	var got []*kgo.Record
	c := ctx(t)
	for len(pending) > 0 {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("reading %s: partitions %v not read to their end", topic, pending)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := pending[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				got = append(got, r)
			}
			if r.Offset+1 >= end {
				delete(pending, r.Partition)
			}
		})
	}
	sortRecords(got)
	out := make([]string, len(got))
	for i, r := range got {
		out[i] = string(r.Value)
	}
	return out
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// txnRound produces values to partition p of topic in one transaction of
// cl and commits or aborts it.
func txnRound(t testing.TB, cl *kgo.Client, topic string, p int32, vals []string, commit bool) error {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	for _, v := range vals {
		cl.Produce(ctx(t), &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}, nil)
	}
	if err := cl.Flush(ctx(t)); err != nil {
		cl.EndTransaction(ctx(t), kgo.TryAbort)
		return err
	}
	return cl.EndTransaction(ctx(t), map[bool]kgo.TransactionEndTry{true: kgo.TryCommit, false: kgo.TryAbort}[commit])
}

// TestTxnFranzGo: a franz-go transactional producer commits and aborts;
// read_committed consumers see the committed records only, in order,
// read_uncommitted ones all of them. A second producer with the same
// transactional id fences the first, whose commit then fails and whose
// records never become visible.
func TestTxnFranzGo(t *testing.T) {
	b := startTxnBroker(t)
	const topic = "txn.franz"
	b.newTopic(t, topic, 2, nil)
	cl := b.txnClient(t, "franz")
	if err := txnRound(t, cl, topic, 0, values("c", 5), true); err != nil {
		t.Fatal(err)
	}
	if err := txnRound(t, cl, topic, 0, values("a", 3), false); err != nil {
		t.Fatal(err)
	}
	if err := txnRound(t, cl, topic, 1, values("d", 2), true); err != nil {
		t.Fatal(err)
	}
	want := append(values("c", 5), values("d", 2)...)
	if got := b.readTopic(t, topic, true); !slices.Equal(got, want) {
		t.Errorf("read_committed %q, want %q", got, want)
	}
	if got := b.readTopic(t, topic, false); len(got) != 10 {
		t.Errorf("read_uncommitted %q, want 10 records", got)
	}

	// Fencing: the first producer opens a transaction; a second with the
	// same id initializes, which aborts it and bumps the epoch.
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, cl, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("zombie")})
	cl2 := b.txnClient(t, "franz")
	if err := txnRound(t, cl2, topic, 0, []string{"new"}, true); err != nil {
		t.Fatalf("the new producer: %v", err)
	}
	err := cl.EndTransaction(ctx(t), kgo.TryCommit)
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Errorf("the fenced producer's commit: %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
	want = append(append(values("c", 5), "new"), values("d", 2)...)
	if got := b.readTopic(t, topic, true); !slices.Equal(got, want) {
		t.Errorf("read_committed after the fencing %q, want %q", got, want)
	}
	d, err := b.admin(t).DescribeTransactions(ctx(t), "franz")
	if err != nil {
		t.Fatal(err)
	}
	if tx := d["franz"]; tx.State != "CompleteCommit" || tx.ProducerEpoch < 2 {
		t.Errorf("DescribeTransactions %+v", tx)
	}
}

// TestTxnTimeout: a transaction left open past its timeout is aborted by
// the coordinator, with the producer's epoch bumped: read_committed
// readers get past it, and the producer's late commit is fenced.
func TestTxnTimeout(t *testing.T) {
	b := startTxnBroker(t)
	const topic = "txn.timeout"
	b.newTopic(t, topic, 1, nil)
	cl := b.txnClient(t, "slow", kgo.TransactionTimeout(time.Second))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("late")})
	adm := b.admin(t)
	waitFor(t, "the coordinator aborts the transaction", 10*time.Second, func() bool {
		d, err := adm.DescribeTransactions(ctx(t), "slow")
		return err == nil && d["slow"].State == "CompleteAbort"
	})
	if got := b.readTopic(t, topic, true); len(got) != 0 {
		t.Errorf("read_committed %q after the abort", got)
	}
	if err := cl.EndTransaction(ctx(t), kgo.TryCommit); err == nil {
		t.Error("the commit of a transaction the coordinator aborted succeeded")
	}
	if got := b.readTopic(t, topic, false); !slices.Equal(got, []string{"late"}) {
		t.Errorf("read_uncommitted %q", got)
	}
}

// TestTxnLateProduce: KIP-890 part 1. A transactional batch arriving after
// its transaction was aborted is refused (the leader asks the
// coordinator), instead of opening a transaction no coordinator ends,
// which would hold the last stable offset back for ever.
func TestTxnLateProduce(t *testing.T) {
	b := startTxnBroker(t)
	const topic = "txn.late"
	b.newTopic(t, topic, 1, nil)
	c := b.dial(t)
	id := "late"
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.SetVersion(3)
	fc.CoordinatorType, fc.CoordinatorKey = 1, id
	waitFor(t, "the coordinator", 10*time.Second, func() bool {
		return c.roundTrip(t, fc).(*kmsg.FindCoordinatorResponse).ErrorCode == 0
	})
	var pid int64
	var epoch int16
	waitFor(t, "InitProducerId", 10*time.Second, func() bool {
		var code int16
		pid, epoch, code = c.initProducerID(t, 4, kmsg.StringPtr(id))
		return code == 0
	})
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.SetVersion(3)
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = id, pid, epoch
	add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
	if resp := c.roundTrip(t, add).(*kmsg.AddPartitionsToTxnResponse); resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode))
	}
	produce := func(seq int32) int16 {
		req := produceRequest(9, topic, 0, txnBatchBytes(t, pid, epoch, seq, 1, "late"))
		req.TransactionID = kmsg.StringPtr(id)
		return c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	if code := produce(0); code != 0 {
		t.Fatalf("produce in the transaction: %v", kerr.ErrorForCode(code))
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.SetVersion(3)
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = id, pid, epoch, false
	if code := c.roundTrip(t, end).(*kmsg.EndTxnResponse).ErrorCode; code != 0 {
		t.Fatalf("EndTxn: %v", kerr.ErrorForCode(code))
	}
	adm := b.admin(t)
	waitFor(t, "the abort is complete", 10*time.Second, func() bool {
		d, err := adm.DescribeTransactions(ctx(t), id)
		return err == nil && d[id].State == "CompleteAbort"
	})
	if code := produce(1); code != kerr.InvalidTxnState.Code {
		t.Errorf("a produce after the abort: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	hw, err := adm.ListEndOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	lso, err := adm.ListCommittedOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := hw.Lookup(topic, 0)
	l, _ := lso.Lookup(topic, 0)
	if h.Offset != 2 || l.Offset != h.Offset {
		t.Errorf("high watermark %d, last stable offset %d; want both 2 (the batch and the abort marker)", h.Offset, l.Offset)
	}
}

// killableDialer dials the broker until killed, then refuses and closes
// every connection it made: a member that crashes, as the broker sees it.
type killableDialer struct {
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (d *killableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.killed {
		return nil, errors.New("killed")
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *killableDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killed = true
	for _, c := range d.conns {
		c.Close()
	}
}

// TestTxnGroupTransactSession: franz-go's GroupTransactSession
// consume-transform-produce (KIP-447) with two members: the second joins
// mid-way (a rebalance), then the first dies in the middle of a
// transaction (its connections cut: its transaction is aborted at its
// timeout, its partitions go to the other after its session). Every input
// record is in the output exactly once, read with read_committed.
func TestTxnGroupTransactSession(t *testing.T) {
	b := startTxnBroker(t)
	const in, out, group, n = "eos.in", "eos.out", "eos", 400
	b.newTopic(t, in, 4, nil)
	b.newTopic(t, out, 4, nil)
	var recs []*kgo.Record
	for i, v := range values("v", n) {
		recs = append(recs, &kgo.Record{Topic: in, Partition: int32(i % 4), Value: []byte(v)})
	}
	produceSync(t, b.client(t), recs...)

	type member struct {
		sess      *kgo.GroupTransactSession
		dialer    *killableDialer
		processed atomic.Int64
	}
	newMember := func(id string) *member {
		m := &member{dialer: &killableDialer{}}
		sess, err := kgo.NewGroupTransactSession(
			kgo.SeedBrokers(b.addr), kgo.Dialer(m.dialer.dial),
			kgo.TransactionalID(id), kgo.TransactionTimeout(3*time.Second),
			kgo.ConsumerGroup(group), kgo.ConsumeTopics(in), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.SessionTimeout(2*time.Second), kgo.HeartbeatInterval(200*time.Millisecond),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.RetryTimeout(20*time.Second),
		)
		if err != nil {
			t.Fatal(err)
		}
		m.sess = sess
		return m
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	// run transforms until stopped; dieAfter > 0: once it has processed
	// that many records, it dies in the middle of its next transaction.
	run := func(m *member, dieAfter int64) {
		defer wg.Done()
		for runCtx.Err() == nil {
			fs := m.sess.PollRecords(runCtx, 20)
			if fs.IsClientClosed() || runCtx.Err() != nil {
				return
			}
			if err := m.sess.Begin(); err != nil {
				errs <- fmt.Errorf("begin: %w", err)
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				m.sess.Produce(runCtx, &kgo.Record{Topic: out, Partition: r.Partition, Value: r.Value}, nil)
			})
			if dieAfter > 0 && m.processed.Load() >= dieAfter && fs.NumRecords() > 0 {
				m.sess.Client().Flush(runCtx) // the records are in the log, uncommitted
				m.dialer.kill()
				return
			}
			committed, err := m.sess.End(runCtx, kgo.TryCommit)
			if committed {
				m.processed.Add(int64(fs.NumRecords()))
			} else if err != nil && runCtx.Err() == nil {
				t.Logf("a transaction of the session ended with %v; the session goes on", err)
			}
		}
	}
	a := newMember("eos-a")
	defer a.sess.Close()
	wg.Add(1)
	go run(a, 150)
	waitFor(t, "the first member to process records", 20*time.Second, func() bool { return a.processed.Load() >= 40 })
	bm := newMember("eos-b")
	defer bm.sess.Close()
	wg.Add(1)
	go run(bm, 0)

	adm := b.admin(t)
	ends, err := adm.ListEndOffsets(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group to commit every input offset", 60*time.Second, func() bool {
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		offs, err := adm.FetchOffsets(ctx(t), group)
		if err != nil {
			return false
		}
		done := true
		ends.Each(func(e kadm.ListedOffset) {
			o, ok := offs.Lookup(in, e.Partition)
			done = done && ok && o.At == e.Offset
		})
		return done
	})
	stop()
	wg.Wait()
	if !a.dialer.killed {
		t.Error("the first member never died: the test did not cover a dead member")
	}
	got := b.readTopic(t, out, true)
	seen := map[string]int{}
	for _, v := range got {
		seen[v]++
	}
	for _, v := range values("v", n) {
		if seen[v] != 1 {
			t.Errorf("input %s is %d times in the output", v, seen[v])
		}
	}
	if len(got) != n {
		t.Errorf("%d records in the output, want %d", len(got), n)
	}
	if all := b.readTopic(t, out, false); len(all) <= n {
		t.Logf("read_uncommitted: %d records (the dead member's transaction was empty)", len(all))
	}
}

// TestTxnConfluentKafka: librdkafka's transactional producer
// (confluent-kafka): commit, abort, and fencing by a second producer with
// the same transactional id; read_committed and read_uncommitted
// consumers of confluent-kafka see what they should.
func TestTxnConfluentKafka(t *testing.T) {
	needPython(t, "confluent_kafka", "python3-confluent-kafka")
	b := startTxnBroker(t)
	const topic = "txn.ck"
	b.newTopic(t, topic, 1, nil)
	out := runCmd(t, nil, python, "testdata/pytxn.py", b.addr, topic)
	want := "committed 5\naborted 3\nfenced ok\nread_committed 5 c0..c4\nread_uncommitted 9\n"
	if string(out) != want {
		t.Errorf("pytxn.py printed\n%s\nwant\n%s", out, want)
	}
}

// TestTxnSarama: sarama's transactional producer commits and aborts, and
// is fenced by a second producer with its transactional id;
// read_committed sees the committed records only.
func TestTxnSarama(t *testing.T) {
	b := startTxnBroker(t)
	const topic = "txn.sarama"
	b.newTopic(t, topic, 1, nil)
	newProducer := func() sarama.SyncProducer {
		cfg := saramaConfig()
		cfg.Producer.Idempotent = true
		cfg.Producer.Transaction.ID = "sarama-txn"
		cfg.Producer.Retry.Max = 5
		p, err := sarama.NewSyncProducer([]string{b.addr}, cfg)
		if err != nil {
			t.Fatalf("sarama transactional producer: %v", err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := newProducer()
	round := func(p sarama.SyncProducer, vals []string) error {
		if err := p.BeginTxn(); err != nil {
			return err
		}
		for _, v := range vals {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder(v)}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := round(p, values("c", 4)); err != nil {
		t.Fatal(err)
	}
	if err := p.CommitTxn(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := round(p, values("a", 2)); err != nil {
		t.Fatal(err)
	}
	if err := p.AbortTxn(); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if err := round(p, []string{"zombie"}); err != nil {
		t.Fatal(err)
	}
	p2 := newProducer() // InitProducerId: aborts the open transaction, fences p
	if err := p.CommitTxn(); err == nil {
		t.Error("the fenced producer's commit succeeded")
	}
	if err := round(p2, []string{"next"}); err != nil {
		t.Fatal(err)
	}
	if err := p2.CommitTxn(); err != nil {
		t.Fatalf("the new producer's commit: %v", err)
	}
	want := append(values("c", 4), "next")
	if got := b.readTopic(t, topic, true); !slices.Equal(got, want) {
		t.Errorf("read_committed %q, want %q", got, want)
	}
	if got := b.readTopic(t, topic, false); len(got) != 8 {
		t.Errorf("read_uncommitted %q, want 8 records", got)
	}
}
