package bench

// Replication benchmarks (issue: replication): a three-broker ZooKeeper-mode
// cluster of samsa processes on a private ZooKeeper, each broker's CPU read
// from /proc, franz-go clients in the benchmark process.
//
//   - BenchmarkReplicationCost: the same producer writes to an RF=1 topic
//     with acks=1 and to an RF=3 topic (min.insync.replicas=2) with
//     acks=all, both led by broker 1, in one run: throughput of each, the
//     whole cluster's CPU per MiB produced, and their ratios.
//   - BenchmarkReplicationLatency: 10,000 records a second for a few
//     seconds, one after another to RF=3 acks=all, RF=3 acks=1 and RF=1
//     acks=1: produce latency percentiles from the send to the
//     acknowledgement.
//   - BenchmarkReplicationFailover: under a producer sending a record every
//     millisecond, the time from SIGKILL of the leader's broker (and, apart,
//     from SIGTERM: controlled shutdown) to the first batch acknowledged by
//     the new leader.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/zktest"
)

// replBenchSession is the brokers' zookeeper.session.timeout.ms: the
// longest the test ZooKeeper grants (20 ticks of 200 ms).
const replBenchSession = 4 * time.Second

// replBroker is one broker of a benchmark cluster; restart keeps its data
// directory and ports. Brokers log errors only: the warnings a failover
// brings (fetches from a dead leader) would bury the results.
type replBroker struct {
	id   int32
	addr string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// replBench is a three-broker cluster under benchmark.
type replBench struct {
	b       *testing.B
	bin     string
	brokers []*replBroker
	topics  int // topics created, for unique names across -count runs
}

func startReplBench(b *testing.B, overrides ...string) *replBench {
	zk := zktest.Start(b)
	// SAMSA_REPL_BIN runs another revision's broker (before/after).
	bin := os.Getenv("SAMSA_REPL_BIN")
	if bin == "" {
		bin = buildBinary(b, "./cmd/samsa")
	}
	c := &replBench{b: b, bin: bin}
	for id := int32(1); id <= 3; id++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
		args := []string{"broker",
			"--override", "broker.id=" + strconv.Itoa(int(id)),
			"--override", "zookeeper.connect=" + zk.Addr() + "/bench",
			"--override", "zookeeper.session.timeout.ms=" + strconv.Itoa(int(replBenchSession.Milliseconds())),
			"--override", "log.dirs=" + b.TempDir(),
			"--override", "listeners=PLAINTEXT://" + addr,
			"--override", "admin.listener=",
			"--override", "auto.leader.rebalance.enable=false",
			"--override", "controlled.shutdown.retry.backoff.ms=100",
			"--log-level", "error"}
		for _, o := range overrides {
			args = append(args, "--override", o)
		}
		c.brokers = append(c.brokers, &replBroker{id: id, addr: addr, args: args})
	}
	for _, r := range c.brokers {
		c.start(r)
	}
	b.Cleanup(func() {
		for _, r := range c.brokers {
			if r.running() {
				r.cmd.Process.Kill()
				<-r.done
			}
		}
	})
	c.waitFor("three brokers known", func() bool {
		md, err := c.metadata()
		return err == nil && len(md.Brokers) == 3 && md.ControllerID > 0
	})
	return c
}

func (r *replBroker) running() bool {
	if r.cmd == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (c *replBench) start(r *replBroker) {
	cmd := exec.Command(c.bin, r.args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		c.b.Fatal(err)
	}
	r.cmd, r.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(r.done) }()
	waitPort(c.b, r.addr)
}

// cpu returns the CPU seconds every running broker has used.
func (c *replBench) cpu() map[int32]float64 {
	out := map[int32]float64{}
	for _, r := range c.brokers {
		if r.running() {
			out[r.id] = (&server{cmd: r.cmd}).cpuSeconds(c.b)
		}
	}
	return out
}

func (c *replBench) addrs() []string {
	var out []string
	for _, r := range c.brokers {
		out = append(out, r.addr)
	}
	return out
}

func (c *replBench) client(opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.addrs()...),
		kgo.ProducerBatchCompression(kgo.NoCompression())}, opts...)...)
	if err != nil {
		c.b.Fatal(err)
	}
	return cl
}

func (c *replBench) metadata(topics ...string) (*kmsg.MetadataResponse, error) {
	cl := c.client()
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, mt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return req.RequestWith(ctx, cl)
}

func (c *replBench) waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.b.Fatalf("waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createTopic creates a one-partition topic on the replicas named (the
// first leads) and waits until the leader and a full ISR are known.
func (c *replBench) createTopic(name string, replicas []int32, configs map[string]string) {
	cl := c.client()
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		c.b.Fatalf("create %s: %v %+v", name, err, resp)
	}
	c.waitInSync(name, len(replicas))
}

// waitInSync waits until the topic's partition 0 has a leader and n
// replicas in sync, as broker metadata says.
func (c *replBench) waitInSync(topic string, n int) {
	c.waitFor(topic+" in sync", func() bool {
		md, err := c.metadata(topic)
		if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 1 {
			return false
		}
		p := md.Topics[0].Partitions[0]
		return p.ErrorCode == 0 && p.Leader > 0 && len(p.ISR) == n
	})
}

func (c *replBench) leader(topic string) int32 {
	md, err := c.metadata(topic)
	if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 1 {
		c.b.Fatalf("metadata of %s: %v", topic, err)
	}
	return md.Topics[0].Partitions[0].Leader
}

// produceAll produces n records of size bytes (JSON-like, see jsonValue)
// compressed with codec, as fast as the client goes, and returns the
// seconds it took.
func (c *replBench) produceAll(topic string, n, size int, acks kgo.Acks, codec kgo.CompressionCodec) float64 {
	cl := c.client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16))
	defer cl.Close()
	values := make([][]byte, 256)
	for i := range values {
		values[i] = jsonValue(i)[:size]
	}
	var failed error
	var mu sync.Mutex
	t0 := time.Now()
	for i := range n {
		cl.Produce(context.Background(), &kgo.Record{Value: values[i%len(values)]}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil || failed != nil {
		c.b.Fatal(err, failed)
	}
	return time.Since(t0).Seconds()
}

func sumCPU(before, after map[int32]float64) (total float64) {
	for id, v := range after {
		total += v - before[id]
	}
	return total
}

// BenchmarkReplicationCost: RF=3 acks=all beside RF=1 acks=1 on the same
// cluster, in the same run, both led by broker 1; uncompressed batches
// and zstd ones (the leader decompresses to validate, followers append
// the compressed bytes as they are). MiB are of uncompressed payload.
func BenchmarkReplicationCost(b *testing.B) {
	c := startReplBench(b)
	const n, size = 300_000, 1024
	mib := float64(n*size) / (1 << 20)
	for _, codec := range []struct {
		name string
		c    kgo.CompressionCodec
	}{{"none", kgo.NoCompression()}, {"zstd", kgo.ZstdCompression()}} {
		b.Run(codec.name, func(b *testing.B) {
			c.b = b
			var sec1, sec3, cpu1, cpu3, lead1, lead3 float64
			for i := 0; i < b.N; i++ {
				c.topics++
				t1, t3 := fmt.Sprintf("rf1-%s-%d", codec.name, c.topics), fmt.Sprintf("rf3-%s-%d", codec.name, c.topics)
				c.createTopic(t1, []int32{1}, nil)
				c.createTopic(t3, []int32{1, 2, 3}, map[string]string{"min.insync.replicas": "2"})
				before := c.cpu()
				sec1 = c.produceAll(t1, n, size, kgo.LeaderAck(), codec.c)
				mid := c.cpu()
				sec3 = c.produceAll(t3, n, size, kgo.AllISRAcks(), codec.c)
				// The followers may still be appending the last fetch:
				// wait until they are in sync again before reading the CPU.
				c.waitInSync(t3, 3)
				after := c.cpu()
				cpu1, cpu3 = sumCPU(before, mid), sumCPU(mid, after)
				lead1, lead3 = mid[1]-before[1], after[1]-mid[1]
			}
			b.ReportMetric(mib/sec1, "rf1-acks1-MiB/s")
			b.ReportMetric(mib/sec3, "rf3-acksall-MiB/s")
			b.ReportMetric(sec1/sec3, "rf3/rf1-throughput")
			b.ReportMetric(1000*cpu1/mib, "rf1-cluster-cpu-ms/MiB")
			b.ReportMetric(1000*cpu3/mib, "rf3-cluster-cpu-ms/MiB")
			b.ReportMetric(cpu3/cpu1, "rf3/rf1-cpu")
			b.ReportMetric(1000*lead1/mib, "rf1-leader-cpu-ms/MiB")
			b.ReportMetric(1000*lead3/mib, "rf3-leader-cpu-ms/MiB")
			b.ReportMetric(1000*(cpu3-lead3)/(2*mib), "rf3-follower-cpu-ms/MiB")
		})
	}
}

// paced produces rate records a second for d to topic and returns each
// record's latency from the send to its acknowledgement, sorted.
func (c *replBench) paced(topic string, rate int, d time.Duration, acks kgo.Acks, size int) []time.Duration {
	opts := []kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(acks), kgo.ProducerLinger(0)}
	if acks != kgo.AllISRAcks() {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl := c.client(opts...)
	defer cl.Close()
	value := make([]byte, size)
	var mu sync.Mutex
	var lat []time.Duration
	var failed error
	// Every millisecond, the records due by then.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	sent := 0
	for now := range tick.C {
		if now.Sub(start) >= d {
			break
		}
		for due := int(now.Sub(start).Seconds() * float64(rate)); sent < due; sent++ {
			t0 := time.Now()
			cl.Produce(context.Background(), &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = err
					return
				}
				lat = append(lat, time.Since(t0))
			})
		}
	}
	if err := cl.Flush(context.Background()); err != nil || failed != nil {
		c.b.Fatal(err, failed)
	}
	slices.Sort(lat)
	return lat
}

func pct(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(lat)-1))
	return float64(lat[i].Microseconds()) / 1000
}

// BenchmarkReplicationLatency: produce latency at 10k records/s.
func BenchmarkReplicationLatency(b *testing.B) {
	c := startReplBench(b)
	const rate, size = 10_000, 1024
	d := 5 * time.Second
	type variant struct {
		name     string
		replicas []int32
		acks     kgo.Acks
	}
	variants := []variant{
		{"rf3-acksall", []int32{1, 2, 3}, kgo.AllISRAcks()},
		{"rf3-acks1", []int32{1, 2, 3}, kgo.LeaderAck()},
		{"rf1-acks1", []int32{1}, kgo.LeaderAck()},
	}
	res := map[string][]time.Duration{}
	for i := 0; i < b.N; i++ {
		for _, v := range variants {
			c.topics++
			topic := fmt.Sprintf("lat-%s-%d", v.name, c.topics)
			c.createTopic(topic, v.replicas, map[string]string{"min.insync.replicas": "2"})
			c.paced(topic, rate, time.Second, v.acks, size) // warm up
			res[v.name] = c.paced(topic, rate, d, v.acks, size)
		}
	}
	for _, v := range variants {
		lat := res[v.name]
		b.ReportMetric(pct(lat, 50), v.name+"-p50-ms")
		b.ReportMetric(pct(lat, 99), v.name+"-p99-ms")
		b.ReportMetric(pct(lat, 99.9), v.name+"-p99.9-ms")
		b.ReportMetric(float64(len(lat))/d.Seconds(), v.name+"-rec/s")
	}
}

// ackWatch records when each broker first acknowledged a batch.
type ackWatch struct {
	mu    sync.Mutex
	since time.Time
	not   int32
	first time.Time
}

func (w *ackWatch) OnProduceBatchWritten(meta kgo.BrokerMetadata, _ string, _ int32, _ kgo.ProduceBatchMetrics) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.since.IsZero() && meta.NodeID != w.not && w.first.IsZero() {
		w.first = time.Now()
	}
}

func (w *ackWatch) arm(not int32) {
	w.mu.Lock()
	w.since, w.not, w.first = time.Now(), not, time.Time{}
	w.mu.Unlock()
}

func (w *ackWatch) took() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first.Sub(w.since), !w.first.IsZero()
}

// BenchmarkReplicationFailover: time from the leader's loss to the first
// write acknowledged by the new leader, SIGKILL and SIGTERM, three of each
// per run.
func BenchmarkReplicationFailover(b *testing.B) {
	c := startReplBench(b, "replica.lag.time.max.ms=10000")
	const topic = "failover"
	c.createTopic(topic, []int32{1, 2, 3}, map[string]string{"min.insync.replicas": "2"})
	var w ackWatch
	cl := c.client(kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0), kgo.WithHooks(&w),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	defer cl.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	var failed error
	var mu sync.Mutex
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			cl.Produce(context.Background(), &kgo.Record{Value: []byte("x")}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			})
		}
	}()
	var kill, term []time.Duration
	for i := 0; i < b.N; i++ {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGKILL, syscall.SIGTERM, syscall.SIGKILL, syscall.SIGTERM} {
			c.waitInSync(topic, 3)
			time.Sleep(500 * time.Millisecond) // steady state
			id := c.leader(topic)
			r := c.brokers[id-1]
			w.arm(id)
			r.cmd.Process.Signal(sig)
			c.waitFor("an acknowledgement from the new leader", func() bool { _, ok := w.took(); return ok })
			d, _ := w.took()
			if sig == syscall.SIGKILL {
				kill = append(kill, d)
			} else {
				term = append(term, d)
			}
			<-r.done
			if sig == syscall.SIGKILL {
				// Its registration lasts until its session expires.
				c.waitFor("the killed broker gone", func() bool {
					md, err := c.metadata()
					return err == nil && len(md.Brokers) == 2
				})
			}
			c.start(r)
		}
	}
	close(stop)
	<-done
	if failed != nil {
		b.Fatal(failed)
	}
	sort.Slice(kill, func(i, j int) bool { return kill[i] < kill[j] })
	sort.Slice(term, func(i, j int) bool { return term[i] < term[j] })
	b.ReportMetric(float64(kill[len(kill)/2].Milliseconds()), "sigkill-median-ms")
	b.ReportMetric(float64(kill[len(kill)-1].Milliseconds()), "sigkill-max-ms")
	b.ReportMetric(float64(term[len(term)/2].Milliseconds()), "sigterm-median-ms")
	b.ReportMetric(float64(term[len(term)-1].Milliseconds()), "sigterm-max-ms")
	b.ReportMetric(float64(replBenchSession.Milliseconds()), "session-ms")
}
