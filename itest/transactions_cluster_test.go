package itest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnOutcome is what the producer was told of one transaction.
type txnOutcome int

const (
	txnCommitted txnOutcome = iota // EndTransaction(commit) succeeded
	txnAborted                     // aborted: its records must never be read
	txnUnknown                     // the commit returned an error: whole or not at all
)

// TestTxnClusterChaos: three brokers in ZooKeeper mode, the data topic and
// __transaction_state with RF 3 and min ISR 2. A transactional producer
// commits two transactions in three and aborts the third, writing to both
// partitions, while the coordinator of its id, a partition leader and the
// controller are SIGKILLed and restarted in turn. A read_committed
// consumer then reads every committed transaction exactly once, whole and
// in order in each partition, no record of an aborted one, and each
// transaction whose commit returned an error whole or not at all.
func TestTxnClusterChaos(t *testing.T) {
	const (
		topic = "txn.chaos"
		id    = "chaos"
		txns  = 24
		per   = 5 // records per partition per transaction
	)
	c := startCluster(t, 3, clusterOpts{overrides: []string{
		"transaction.state.log.num.partitions=5",
		"transaction.state.log.replication.factor=3",
		"transaction.state.log.min.isr=2",
		"transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
		"unclean.leader.election.enable=false",
		"replica.lag.time.max.ms=3000",
	}})
	via := c.broker(1)
	resp, err := via.admin(t).CreateTopic(ctx(t), 2, 3, map[string]*string{"min.insync.replicas": strp("2")}, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	c.online(topic, 2)

	seeds := c.addrs()
	newProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID(id), kgo.TransactionTimeout(20*time.Second),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0), kgo.RetryTimeout(40*time.Second),
			kgo.RequestTimeoutOverhead(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	cl := newProducer()
	defer func() { cl.Close() }()

	// victims: the coordinator of the id, partition 0's leader, the
	// controller, in turn.
	victim := func(i int) *broker {
		adm := c.other().admin(t)
		switch i % 3 {
		case 0:
			if co := adm.FindTxnCoordinators(ctx(t), id); len(co) == 1 {
				for _, r := range co {
					if r.Err == nil {
						return c.broker(r.NodeID)
					}
				}
			}
		case 1:
			if ls, err := leadersOf(c, topic); err == nil && ls[0] > 0 {
				return c.broker(ls[0])
			}
		}
		ctl, err := c.controllerID()
		if err != nil || ctl <= 0 {
			return c.broker(1)
		}
		return c.broker(ctl)
	}

	outcomes := make([]txnOutcome, txns)
	for i := range txns {
		commit := i%3 != 2
		// Every fourth transaction loses a broker: alternately in its
		// middle (records written, EndTxn to come) and just after its end
		// (its markers may be on their way).
		var down *broker
		kill := func(when string) {
			down = victim(i / 4)
			t.Logf("transaction %d: killing broker %d %s", i, down.id, when)
			down.kill()
		}
		err := func() error {
			if err := cl.BeginTransaction(); err != nil {
				return err
			}
			c2, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for p := range int32(2) {
				for j := range per {
					cl.Produce(c2, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("t%02d-%d", i, j))}, nil)
				}
			}
			if err := cl.Flush(c2); err != nil {
				commit = false
			}
			if i%8 == 1 {
				kill("before EndTxn")
			}
			how := kgo.TryAbort
			if commit {
				how = kgo.TryCommit
			}
			return cl.EndTransaction(c2, how)
		}()
		if i%8 == 5 {
			kill("after EndTxn")
		}
		switch {
		case err == nil && commit:
			outcomes[i] = txnCommitted
		case !commit:
			outcomes[i] = txnAborted
		default:
			outcomes[i] = txnUnknown
		}
		if err != nil {
			t.Logf("transaction %d (commit %v): %v; a new producer takes over", i, commit, err)
			cl.Close()
			cl = newProducer()
		}
		if down != nil {
			c.waitConverged() // its registration gone: it may register again
			down.restart()
			c.waitConverged()
			c.online(topic, 2)
		}
	}

	// Every transaction ended: read_committed reads to the last stable
	// offset, which is the high watermark.
	got := c.other().readTopicCluster(t, seeds, topic)
	for p := range int32(2) {
		seq := got[p]
		var want []string
		for i, o := range outcomes {
			vals := make([]string, per)
			for j := range per {
				vals[j] = fmt.Sprintf("t%02d-%d", i, j)
			}
			switch o {
			case txnCommitted:
				want = append(want, vals...)
			case txnUnknown:
				if k := slices.Index(seq, vals[0]); k >= 0 {
					want = append(want, vals...) // it committed: whole
				}
			}
		}
		if !slices.Equal(seq, want) {
			t.Errorf("partition %d read_committed:\n%s\nwant\n%s", p, strings.Join(seq, " "), strings.Join(want, " "))
		}
	}
	n := 0
	for _, o := range outcomes {
		if o == txnCommitted {
			n++
		}
	}
	if n < txns/3 {
		t.Errorf("only %d of %d transactions committed: the chaos left too little to check", n, txns)
	}
	t.Logf("outcomes (0 committed, 1 aborted, 2 unknown): %v", outcomes)
}

// leadersOf returns the leaders of topic's partitions in c's metadata.
func leadersOf(c *kcluster, topic string) ([]int32, error) {
	md, err := c.other().metadata(topic)
	if err != nil {
		return nil, err
	}
	return leaders(md, topic)
}

// readTopicCluster reads topic as a read_committed consumer seeded with
// every broker, to the last stable offsets as of the call: the values by
// partition, in offset order.
func (b *broker) readTopicCluster(t testing.TB, seeds []string, topic string) map[int32][]string {
	t.Helper()
	cb := &broker{t: b.t, addr: seeds[0]}
	adm := cb.admin(t)
	ends, err := adm.ListCommittedOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int32]kgo.Offset{}
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		parts[o.Partition] = kgo.NewOffset().AtStart()
		if o.Offset > 0 {
			pending[o.Partition] = o.Offset
		}
	})
	cl := cb.client(t, kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	out := map[int32][]string{}
	cx := ctx(t)
	for len(pending) > 0 {
		fs := cl.PollFetches(cx)
		if cx.Err() != nil {
			t.Fatalf("reading %s: %v not read to their end", topic, pending)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := pending[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				out[r.Partition] = append(out[r.Partition], string(r.Value))
			}
			if r.Offset+1 >= end {
				delete(pending, r.Partition)
			}
		})
	}
	return out
}
