package itest

// Crash recovery of transactions: brokers SIGKILLed with transactions
// committed, aborted, open and just ended, then started again on the same
// data. After the restart the partitions must rebuild what the log says:
// the last stable offset held by the open transactions, the aborted
// transactions a read_committed fetch is told of, and the .txnindex files
// (torn by the test while the brokers are down: recovery rebuilds them
// from the log). The coordinator must then end what was left open (by
// the producer, by the transaction's timeout, or from the log for a
// transaction whose commit was logged before the crash), the last stable
// offsets must move, and read_committed readers must see exactly the
// committed records.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/txnindex"
)

// txnCrashEnv is where the crash scenario runs: a standalone broker or a
// cluster.
type txnCrashEnv struct {
	seeds []string
	// any is a running broker, for requests any broker answers.
	any func() *broker
	// leader is the broker leading partition p of topic now.
	leader func(topic string, p int32) *broker
	// replicas are the brokers holding a replica of every partition.
	replicas []*broker
	// crash SIGKILLs every broker, calls down while they are all down,
	// and starts them again on the same data directories and ports,
	// returning once the topic is served again.
	crash func(topic string, down func())
}

// txnIndexFiles returns the entries of every .txnindex of a partition
// directory, in the order of their segments.
func txnIndexFiles(t testing.TB, dir, topic string, p int32) []txnindex.AbortedTxn {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p), "*.txnindex"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names) // the base offset, zero-padded to 20 digits
	var out []txnindex.AbortedTxn
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := txnindex.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, entries...)
	}
	return out
}

// tearTxnIndexes cuts the last bytes off every .txnindex of a partition
// directory, as a write torn by the crash would leave it, and returns
// how many it tore.
func tearTxnIndexes(t testing.TB, dir, topic string, p int32) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p), "*.txnindex"))
	if err != nil {
		t.Fatal(err)
	}
	torn := 0
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			continue
		}
		if err := os.Truncate(n, fi.Size()-5); err != nil {
			t.Fatal(err)
		}
		torn++
	}
	return torn
}

// offsetsOf returns each partition's offset of a kadm listing.
func offsetsOf(l kadm.ListedOffsets, err error) (map[int32]int64, error) {
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	err = l.Error()
	l.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, err
}

// stableOffsets lists the last stable offsets (ListOffsets
// read_committed) and the high watermarks of the topic's partitions. A
// leader just elected answers OFFSET_NOT_AVAILABLE until its high
// watermark caught up (KIP-207): it is asked again.
func stableOffsets(t testing.TB, b *broker, topic string) (lso, hw map[int32]int64) {
	t.Helper()
	adm := b.admin(t)
	waitUntil(t, 10*time.Second, "ListOffsets of "+topic, func() error {
		var err error
		if lso, err = offsetsOf(adm.ListCommittedOffsets(ctx(t), topic)); err != nil {
			return err
		}
		hw, err = offsetsOf(adm.ListEndOffsets(ctx(t), topic))
		return err
	})
	return lso, hw
}

// committedFetch is what a read_committed Fetch (v11) of one partition
// from offset answers: its high watermark, last stable offset and the
// aborted transactions of the range, as "pid@first".
type committedFetch struct {
	hw, lso int64
	aborted []string
}

func readCommittedFetch(t testing.TB, b *broker, topic string, p int32, offset int64) committedFetch {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.ReplicaID, req.MaxBytes, req.IsolationLevel = -1, 1<<20, 1
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, offset, 1<<20
	rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.LogStartOffset = -1, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	c := b.dial(t)
	defer c.Close()
	resp := c.roundTrip(t, req).(*kmsg.FetchResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s-%d: %+v", topic, p, resp)
	}
	rp2 := resp.Topics[0].Partitions[0]
	if rp2.ErrorCode != 0 {
		t.Fatalf("read_committed fetch %s-%d at %d from broker %d: %v", topic, p, offset, b.id, kerr.ErrorForCode(rp2.ErrorCode))
	}
	out := committedFetch{hw: rp2.HighWatermark, lso: rp2.LastStableOffset}
	for _, a := range rp2.AbortedTransactions {
		out.aborted = append(out.aborted, fmt.Sprintf("%d@%d", a.ProducerID, a.FirstOffset))
	}
	slices.Sort(out.aborted)
	return out
}

// txnProducer is a franz-go transactional producer of id, closed at the
// end of the test.
func txnProducer(t testing.TB, seeds []string, id string, timeout time.Duration) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID(id), kgo.TransactionTimeout(timeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// describeTxn returns the coordinator's state of a transactional id ("":
// not known yet or not answered).
func describeTxn(t testing.TB, b *broker, id string) string {
	t.Helper()
	d, err := b.admin(t).DescribeTransactions(ctx(t), id)
	if err != nil {
		return ""
	}
	return d[id].State
}

// testTxnCrash runs the scenario on env; topic has 3 partitions and small
// segments, so that transactions span rolls.
//
//	step  p0                      p1                      p2
//	1     s0-0 s0-1 (plain)       s1-0                    s2-0
//	2     c0-0..2 (tc: commit)    c1-0..2                 c2-0..2
//	3     a0-0..1 (ta: abort)     a1-0..1
//	4     l0-0..1 (tl: open)                              l2-0..1
//	5     t0-0 (plain)                                    t2-0
//	6                             o1-0..1 (ts: open, 8 s timeout), t1-0
//	7                                                     k2-0..1 (tk: commit) ─► SIGKILL
//
// After the restart tl is still open (its timeout is a minute): its
// producer commits it. ts is aborted by the coordinator at its timeout,
// and tk, whose commit was logged before the kill, is completed (from the
// log, if the kill came before its markers).
func testTxnCrash(t *testing.T, env txnCrashEnv, topic string) {
	plain := (&broker{addr: env.seeds[0]}).client(t, kgo.SeedBrokers(env.seeds...))
	rec := func(p int32, v string) *kgo.Record { return &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)} }
	vals := func(prefix string, p int32, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d-%d", prefix, p, i)
		}
		return out
	}
	// inTxn produces n records of prefix to each partition in cl's open
	// transaction, and returns each partition's first offset.
	inTxn := func(cl *kgo.Client, prefix string, n int, parts ...int32) map[int32]int64 {
		var recs []*kgo.Record
		for _, p := range parts {
			for _, v := range vals(prefix, p, n) {
				recs = append(recs, rec(p, v))
			}
		}
		produceSync(t, cl, recs...)
		first := map[int32]int64{}
		for _, r := range recs {
			if o, ok := first[r.Partition]; !ok || r.Offset < o {
				first[r.Partition] = r.Offset
			}
		}
		return first
	}
	begin := func(cl *kgo.Client) {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
	}
	end := func(cl *kgo.Client, commit bool) {
		t.Helper()
		if err := cl.EndTransaction(ctx(t), map[bool]kgo.TransactionEndTry{true: kgo.TryCommit, false: kgo.TryAbort}[commit]); err != nil {
			t.Fatalf("end of a transaction (commit %v): %v", commit, err)
		}
	}
	pidOf := func(cl *kgo.Client) int64 {
		pid, _, err := cl.ProducerID(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}

	// 1-2
	produceSync(t, plain, rec(0, "s0-0"), rec(0, "s0-1"), rec(1, "s1-0"), rec(2, "s2-0"))
	tc := txnProducer(t, env.seeds, "crash-tc", 10*time.Second)
	begin(tc)
	inTxn(tc, "c", 3, 0, 1, 2)
	end(tc, true)
	// Each transaction's markers are written once the coordinator says
	// Complete: so the offsets below are known.
	waitFor(t, "the commit of crash-tc to complete", 20*time.Second, func() bool { return describeTxn(t, env.any(), "crash-tc") == "CompleteCommit" })
	// 3
	ta := txnProducer(t, env.seeds, "crash-ta", 10*time.Second)
	begin(ta)
	aFirst := inTxn(ta, "a", 2, 0, 1)
	end(ta, false)
	taPid := pidOf(ta)
	waitFor(t, "the abort of crash-ta to complete", 20*time.Second, func() bool { return describeTxn(t, env.any(), "crash-ta") == "CompleteAbort" })
	// 4-5
	tl := txnProducer(t, env.seeds, "crash-tl", time.Minute)
	begin(tl)
	lFirst := inTxn(tl, "l", 2, 0, 2)
	produceSync(t, plain, rec(0, "t0-0"), rec(2, "t2-0"))

	// Before the crash: the open transaction holds the last stable
	// offsets of p0 and p2; a read_committed fetch from the aborted
	// transaction's first offset is told of it.
	lso, hw := stableOffsets(t, env.any(), topic)
	if want := map[int32]int64{0: lFirst[0], 1: hw[1], 2: lFirst[2]}; !maps.Equal(lso, want) {
		t.Fatalf("before the crash: last stable offsets %v, want %v (high watermarks %v)", lso, want, hw)
	}
	abortedAt := func(p int32) []string { return []string{fmt.Sprintf("%d@%d", taPid, aFirst[p])} }
	if f := readCommittedFetch(t, env.leader(topic, 0), topic, 0, aFirst[0]); f.lso != lFirst[0] || !slices.Equal(f.aborted, abortedAt(0)) {
		t.Fatalf("before the crash, read_committed fetch of p0 at %d: %+v, want last stable offset %d and aborted %v", aFirst[0], f, lFirst[0], abortedAt(0))
	}

	// 6-7
	ts := txnProducer(t, env.seeds, "crash-ts", 8*time.Second)
	begin(ts)
	oFirst := inTxn(ts, "o", 2, 1)
	tsPid := pidOf(ts)
	produceSync(t, plain, rec(1, "t1-0"))
	tk := txnProducer(t, env.seeds, "crash-tk", 10*time.Second)
	begin(tk)
	inTxn(tk, "k", 2, 2)
	end(tk, true)

	// The crash. While the brokers are down every .txnindex is read, then
	// torn: recovery must rebuild it from the log.
	before := map[string][]txnindex.AbortedTxn{} // "broker/partition"
	wantIdx := map[int32][]txnindex.AbortedTxn{
		0: {{ProducerID: taPid, FirstOffset: aFirst[0], LastOffset: aFirst[0] + 2, LastStableOffset: aFirst[0] + 3}},
		1: {{ProducerID: taPid, FirstOffset: aFirst[1], LastOffset: aFirst[1] + 2, LastStableOffset: aFirst[1] + 3}},
		2: nil,
	}
	torn := 0
	crashed := time.Now()
	env.crash(topic, func() {
		for _, b := range env.replicas {
			for p := range int32(3) {
				got := txnIndexFiles(t, b.dir, topic, p)
				if !slices.Equal(got, wantIdx[p]) {
					t.Errorf("broker %d, p%d: .txnindex at the crash %+v, want %+v", b.id, p, got, wantIdx[p])
				}
				before[fmt.Sprintf("%d/%d", b.id, p)] = got
				torn += tearTxnIndexes(t, b.dir, topic, p)
			}
		}
	})
	if torn == 0 {
		t.Fatal("no .txnindex to tear: the test did not cover their rebuild")
	}
	t.Logf("the brokers were back %v after the kill; %d .txnindex torn", time.Since(crashed).Round(time.Millisecond), torn)

	// crash-tk's commit was logged just before the crash: the coordinator
	// that loads it writes its markers to p2 again. Wait for that, so
	// that what is read below at different times reads one log.
	waitFor(t, "crash-tk completed after the restart", 30*time.Second, func() bool {
		st := describeTxn(t, env.any(), "crash-tk")
		return st == "CompleteCommit" || st == "Empty"
	})
	// After the restart: tl is open, so p0 and p2 are held at its first
	// offsets; ts too, unless its timeout already aborted it.
	lso, hw = stableOffsets(t, env.any(), topic)
	tsOpen := describeTxn(t, env.any(), "crash-ts") == "Ongoing" // read after the offsets: ts was open when they were
	if st := describeTxn(t, env.any(), "crash-tl"); st != "Ongoing" {
		t.Fatalf("crash-tl after the restart: %q, want Ongoing", st)
	}
	want := map[int32]int64{0: lFirst[0], 1: lso[1], 2: lFirst[2]}
	if tsOpen {
		want[1] = oFirst[1]
	} else {
		t.Logf("crash-ts was no longer open when the last stable offsets were read: p1 is not checked")
	}
	if !maps.Equal(lso, want) {
		t.Errorf("after the restart: last stable offsets %v, want %v (high watermarks %v)", lso, want, hw)
	}
	for p := range int32(3) {
		from := int64(0)
		var wantAborted []string
		if o, ok := aFirst[p]; ok {
			from, wantAborted = o, abortedAt(p)
		}
		f := readCommittedFetch(t, env.leader(topic, p), topic, p, from)
		if p == 1 && (f.lso != lso[p] || f.hw != hw[p]) && describeTxn(t, env.any(), "crash-ts") != "Ongoing" {
			// crash-ts timed out between the two reads: its abort
			// marker moved p1's offsets.
			t.Logf("crash-ts ended between the reads of p1: its offsets are not compared")
			continue
		}
		if f.lso != lso[p] || f.hw != hw[p] || !slices.Equal(f.aborted, wantAborted) {
			t.Errorf("after the restart, read_committed fetch of p%d at %d: %+v, want last stable offset %d, high watermark %d, aborted %v",
				p, from, f, lso[p], hw[p], wantAborted)
		}
	}
	for _, b := range env.replicas {
		for p := range int32(3) {
			if got := txnIndexFiles(t, b.dir, topic, p); !slices.Equal(got, before[fmt.Sprintf("%d/%d", b.id, p)]) {
				t.Errorf("broker %d, p%d: .txnindex after the restart %+v, want %+v", b.id, p, got, before[fmt.Sprintf("%d/%d", b.id, p)])
			}
		}
	}

	// The producer of tl commits it across the crash; ts is aborted at
	// its timeout; tk is complete. Then every last stable offset is the
	// high watermark.
	end(tl, true)
	for id, state := range map[string]string{"crash-tl": "CompleteCommit", "crash-ts": "CompleteAbort", "crash-tk": "CompleteCommit"} {
		waitFor(t, id+" "+state, 30*time.Second, func() bool { return describeTxn(t, env.any(), id) == state })
	}
	waitUntil(t, 10*time.Second, "the last stable offsets to reach the high watermarks", func() error {
		if lso, hw = stableOffsets(t, env.any(), topic); !maps.Equal(lso, hw) {
			return fmt.Errorf("last stable offsets %v, high watermarks %v", lso, hw)
		}
		return nil
	})
	// ts's abort marker is the last record of p1.
	wantIdx[1] = append(wantIdx[1], txnindex.AbortedTxn{ProducerID: tsPid, FirstOffset: oFirst[1], LastOffset: hw[1] - 1, LastStableOffset: hw[1]})
	checkIdx := func(when string) {
		t.Helper()
		for _, b := range env.replicas {
			for p := range int32(3) {
				var got []txnindex.AbortedTxn
				waitFor(t, fmt.Sprintf("broker %d, p%d: .txnindex %s", b.id, p, when), 10*time.Second, func() bool {
					got = txnIndexFiles(t, b.dir, topic, p)
					return slices.Equal(got, wantIdx[p])
				})
			}
		}
	}
	checkIdx("with crash-ts aborted")

	wantCommitted := slices.Concat([]string{"s0-0", "s0-1"}, vals("c", 0, 3), vals("l", 0, 2), []string{"t0-0"},
		[]string{"s1-0"}, vals("c", 1, 3), []string{"t1-0"},
		[]string{"s2-0"}, vals("c", 2, 3), vals("l", 2, 2), []string{"t2-0"}, vals("k", 2, 2))
	wantAll := slices.Concat([]string{"s0-0", "s0-1"}, vals("c", 0, 3), vals("a", 0, 2), vals("l", 0, 2), []string{"t0-0"},
		[]string{"s1-0"}, vals("c", 1, 3), vals("a", 1, 2), vals("o", 1, 2), []string{"t1-0"},
		[]string{"s2-0"}, vals("c", 2, 3), vals("l", 2, 2), []string{"t2-0"}, vals("k", 2, 2))
	check := func(when string) {
		t.Helper()
		if got := env.any().readTopic(t, topic, true); !slices.Equal(got, wantCommitted) {
			t.Errorf("%s, read_committed:\n%s\nwant\n%s", when, strings.Join(got, " "), strings.Join(wantCommitted, " "))
		}
		if got := env.any().readTopic(t, topic, false); !slices.Equal(got, wantAll) {
			t.Errorf("%s, read_uncommitted:\n%s\nwant\n%s", when, strings.Join(got, " "), strings.Join(wantAll, " "))
		}
	}
	check("after the restart")

	// A second crash, with every transaction ended: the last stable
	// offsets are the high watermarks at once, the indexes the same.
	hwBefore := hw
	env.crash(topic, func() {})
	lso, hw = stableOffsets(t, env.any(), topic)
	if !maps.Equal(lso, hwBefore) || !maps.Equal(hw, hwBefore) {
		t.Errorf("after the second crash: last stable offsets %v, high watermarks %v; want both %v", lso, hw, hwBefore)
	}
	checkIdx("after the second crash")
	check("after the second crash")
}

// txnCrashConfigs are the scenario topic's configs: 3 partitions, segments of
// 512 bytes, and (rf > 1) min.insync.replicas 2.
func txnCrashConfigs(rf int16) map[string]*string {
	c := map[string]*string{"segment.bytes": strp("512")}
	if rf > 1 {
		c["min.insync.replicas"] = strp("2")
	}
	return c
}

// TestTxnCrashRecovery: the crash scenario (testTxnCrash) on a standalone
// broker.
func TestTxnCrashRecovery(t *testing.T) {
	b := startTxnBroker(t)
	const topic = "txn.crash"
	b.newTopic(t, topic, 3, txnCrashConfigs(1))
	testTxnCrash(t, txnCrashEnv{
		seeds:    []string{b.addr},
		any:      func() *broker { return b },
		leader:   func(string, int32) *broker { return b },
		replicas: []*broker{b},
		crash: func(_ string, down func()) {
			b.kill()
			down()
			b.restart()
		},
	}, topic)
}

// TestTxnCrashRecoveryCluster: the crash scenario on three brokers in
// ZooKeeper mode, the topic and __transaction_state with RF 3 and min
// ISR 2; every broker is SIGKILLed at once and every replica recovers:
// each one's .txnindex is checked.
func TestTxnCrashRecoveryCluster(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{overrides: []string{
		"transaction.state.log.num.partitions=3",
		"transaction.state.log.replication.factor=3",
		"transaction.state.log.min.isr=2",
		"transaction.abort.timed.out.transaction.cleanup.interval.ms=200",
		"unclean.leader.election.enable=false",
	}})
	const topic = "txn.crash"
	resp, err := c.broker(1).admin(t).CreateTopic(ctx(t), 3, 3, txnCrashConfigs(3), topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	c.online(topic, 3)
	testTxnCrash(t, txnCrashEnv{
		seeds: c.addrs(),
		any:   func() *broker { return c.other() },
		leader: func(topic string, p int32) *broker {
			ls, err := leadersOf(c, topic)
			if err != nil || ls[p] < 0 {
				t.Fatalf("leader of %s-%d: %v %v", topic, p, ls, err)
			}
			return c.broker(ls[p])
		},
		replicas: c.brokers,
		crash: func(topic string, down func()) {
			for _, b := range c.brokers {
				b.kill()
			}
			down()
			// A broker registers again once its killed session expired.
			waitUntil(t, clusterWait, "the killed brokers' registrations to expire", func() error {
				if ids, err := c.registered(); err != nil || len(ids) > 0 {
					return fmt.Errorf("registered %v (%v)", ids, err)
				}
				return nil
			})
			var wg sync.WaitGroup
			errs := make([]error, len(c.brokers))
			for i, b := range c.brokers {
				wg.Go(func() { errs[i] = b.start() })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("broker %d did not restart: %v", c.brokers[i].id, err)
				}
			}
			c.waitConverged()
			c.online(topic, 3)
		},
	}, topic)
}
