package bench

// ZooKeeper-mode clusters of samsa brokers (RF = 1): how long failures take
// to heal, how long a new topic takes to be writable, and produce
// throughput to three brokers beside one broker in the same run. Each
// benchmark runs a private ZooKeeper (Debian's zookeeper package, as the
// tests) and broker processes on loopback.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/zktest"
	"samsa/kclient"
)

// zkBroker is one broker process of a benchCluster; a restart keeps its
// data directory and ports.
type zkBroker struct {
	id      int32
	addr    string
	admin   string // the admin listener (/debug/pprof), "" when off
	dataDir string
	args    []string
	stderr  *os.File // nil: the benchmark's stderr
	cmd     *exec.Cmd
	done    chan struct{}
}

// benchCluster is n brokers on a private ZooKeeper.
type benchCluster struct {
	b       *testing.B
	bin     string
	zk      *zktest.Server
	raw     *zk.Conn
	session time.Duration
	brokers []*zkBroker
}

func startBenchCluster(b *testing.B, n int, session time.Duration) *benchCluster {
	return startBenchClusterWith(b, n, session, clusterOpts{})
}

// clusterOpts are what a benchmark changes of startBenchCluster's brokers.
type clusterOpts struct {
	admin     bool     // run the admin listener (pprof) on a free port
	logLevel  string   // "" is warn
	logDir    string   // each broker's stderr to broker-<id>.log there; "" the benchmark's
	overrides []string // more key=value settings
	bin       string   // the broker binary; "" builds ./cmd/samsa
	dataDir   string   // the parent of the brokers' data directories; "" a temporary one
}

func startBenchClusterWith(b *testing.B, n int, session time.Duration, o clusterOpts) *benchCluster {
	bin := o.bin
	if bin == "" {
		bin = buildBinary(b, "./cmd/samsa")
	}
	c := &benchCluster{b: b, bin: bin, zk: zktest.Start(b), session: session}
	raw, _, err := zk.Connect([]string{c.zk.Addr()}, 10*time.Second, zk.WithLogger(quietZK{}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(raw.Close)
	c.raw = raw
	if o.logLevel == "" {
		o.logLevel = "warn"
	}
	for id := int32(1); id <= int32(n); id++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
		br := &zkBroker{id: id, addr: addr, dataDir: b.TempDir()}
		if o.dataDir != "" {
			br.dataDir = filepath.Join(o.dataDir, fmt.Sprintf("broker-%d", id))
			if err := os.RemoveAll(br.dataDir); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { os.RemoveAll(br.dataDir) })
		}
		if o.admin {
			br.admin = fmt.Sprintf("127.0.0.1:%d", freePort(b))
		}
		br.args = []string{"broker",
			"--override", "broker.id=" + strconv.Itoa(int(id)),
			"--override", "log.dirs=" + br.dataDir,
			"--override", "listeners=PLAINTEXT://" + addr,
			"--override", "admin.listener=" + br.admin,
			"--override", "zookeeper.connect=" + c.zk.Addr() + "/bench",
			"--override", "zookeeper.session.timeout.ms=" + strconv.Itoa(int(session.Milliseconds())),
			"--override", "offsets.topic.replication.factor=1",
			"--log-level", o.logLevel}
		for _, kv := range o.overrides {
			br.args = append(br.args, "--override", kv)
		}
		if o.logDir != "" {
			f, err := os.OpenFile(filepath.Join(o.logDir, fmt.Sprintf("broker-%d.log", id)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			br.stderr = f
		}
		c.brokers = append(c.brokers, br)
	}
	var wg sync.WaitGroup
	for _, br := range c.brokers {
		wg.Go(func() { c.start(br) })
	}
	wg.Wait()
	b.Cleanup(func() {
		for _, br := range c.brokers {
			c.kill(br)
		}
	})
	c.waitRegistered()
	return c
}

type quietZK struct{}

func (quietZK) Printf(string, ...any) {}

func (c *benchCluster) start(br *zkBroker) {
	cmd := exec.Command(c.bin, br.args...)
	cmd.Stderr = os.Stderr
	if br.stderr != nil {
		cmd.Stderr = br.stderr
	}
	if err := cmd.Start(); err != nil {
		c.b.Error(err)
		return
	}
	br.cmd, br.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(br.done) }()
	waitPort(c.b, br.addr)
}

func (c *benchCluster) kill(br *zkBroker) {
	if br.cmd == nil {
		return
	}
	br.cmd.Process.Kill()
	<-br.done
	br.cmd = nil
}

func (c *benchCluster) broker(id int32) *zkBroker { return c.brokers[id-1] }

func (c *benchCluster) live() []*zkBroker {
	var out []*zkBroker
	for _, br := range c.brokers {
		if br.cmd != nil {
			out = append(out, br)
		}
	}
	return out
}

// poll calls cond every 5 ms until it holds, for at most a minute.
func (c *benchCluster) poll(what string, cond func() bool) {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			c.b.Fatalf("waiting for %s: gave up after a minute", what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}

func (c *benchCluster) registered() []int32 {
	kids, _, err := c.raw.Children("/bench/brokers/ids")
	if err != nil {
		return nil
	}
	var ids []int32
	for _, k := range kids {
		id, _ := strconv.Atoi(k)
		ids = append(ids, int32(id))
	}
	slices.Sort(ids)
	return ids
}

func (c *benchCluster) controllerID() int32 {
	data, _, err := c.raw.Get("/bench/controller")
	if err != nil {
		return -1
	}
	var v struct {
		BrokerID int32 `json:"brokerid"`
	}
	if json.Unmarshal(data, &v) != nil {
		return -1
	}
	return v.BrokerID
}

func metadataOf(br *zkBroker, topics ...string) (*kmsg.MetadataResponse, error) {
	conn := kclient.New(br.addr, "samsa-bench")
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, mt)
	}
	resp, err := conn.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// waitRegistered waits until the live brokers are registered, one of them
// is controller, and every live broker's metadata lists them and names it.
func (c *benchCluster) waitRegistered() int32 {
	var want []int32
	for _, br := range c.live() {
		want = append(want, br.id)
	}
	var ctl int32
	c.poll("the brokers registered", func() bool {
		ctl = c.controllerID()
		if !slices.Equal(c.registered(), want) || !slices.Contains(want, ctl) {
			return false
		}
		return c.allNameController(ctl, len(want))
	})
	return ctl
}

func (c *benchCluster) allNameController(ctl int32, brokers int) bool {
	for _, br := range c.live() {
		md, err := metadataOf(br)
		if err != nil || md.ControllerID != ctl || len(md.Brokers) != brokers {
			return false
		}
	}
	return true
}

// ledEverywhere reports whether every live broker's metadata has n
// partitions of topic, each led by a live broker.
func (c *benchCluster) ledEverywhere(topic string, n int) bool {
	live := map[int32]bool{}
	for _, br := range c.live() {
		live[br.id] = true
	}
	for _, br := range c.live() {
		md, err := metadataOf(br, topic)
		if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != n {
			return false
		}
		for _, p := range md.Topics[0].Partitions {
			if !live[p.Leader] {
				return false
			}
		}
	}
	return true
}

func (c *benchCluster) seeds() []string {
	var out []string
	for _, br := range c.live() {
		out = append(out, br.addr)
	}
	return out
}

// createTopic creates a topic (RF 1) through broker via, which answers
// once its metadata has every leader.
func (c *benchCluster) createTopic(via *zkBroker, topic string, partitions int32) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = append(req.Topics, rt)
	// Sent to this broker: franz-go would send it to the controller.
	conn := kclient.New(via.addr, "samsa-bench")
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	resp, err := conn.Request(ctx, req)
	if err != nil {
		c.b.Fatal(err)
	}
	if r := resp.(*kmsg.CreateTopicsResponse).Topics[0]; r.ErrorCode != 0 {
		c.b.Fatalf("create %s: error %d", topic, r.ErrorCode)
	}
}

// leaderOf returns the leader of a partition in a live broker's metadata.
func (c *benchCluster) leaderOf(topic string, p int32) int32 {
	md, err := metadataOf(c.live()[0], topic)
	if err != nil || len(md.Topics) != 1 {
		c.b.Fatalf("metadata of %s: %v", topic, err)
	}
	for _, mp := range md.Topics[0].Partitions {
		if mp.Partition == p {
			return mp.Leader
		}
	}
	return -1
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkClusterControllerFailover: SIGKILL of the controller of three
// brokers, then the time until ZooKeeper names another (the dead session
// must expire first: the session timeout dominates) and until every
// surviving broker's metadata names it. The killed broker is restarted
// between iterations, untimed. Reported beside the session timeout.
func BenchmarkClusterControllerFailover(b *testing.B) {
	// The test ZooKeeper's tick is 200 ms: sessions of at most 4 s.
	for _, session := range []time.Duration{2 * time.Second, 4 * time.Second} {
		b.Run("session="+session.String(), func(b *testing.B) {
			c := startBenchCluster(b, 3, session)
			var elected, known []float64
			for b.Loop() {
				ctl := c.waitRegistered()
				victim := c.broker(ctl)
				t0 := time.Now()
				c.kill(victim)
				c.poll("a new controller", func() bool { id := c.controllerID(); return id >= 0 && id != ctl })
				elected = append(elected, ms(time.Since(t0)))
				next := c.controllerID()
				c.poll("the survivors naming it", func() bool { return c.allNameController(next, 2) })
				known = append(known, ms(time.Since(t0)))
				b.StopTimer()
				c.start(victim)
				c.waitRegistered()
				b.StartTimer()
			}
			b.ReportMetric(median(elected), "ms-to-elected")
			b.ReportMetric(median(known), "ms-to-known")
			b.ReportMetric(median(known)-ms(session), "ms-beyond-session")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkClusterBrokerFailover: SIGKILL of the broker that leads a
// partition (RF = 1, so only that broker can lead it again), restarted as
// soon as it can register again (its old session expired: ZooKeeper
// refuses a second registration of a broker id before, as in Kafka), and
// the time from the SIGKILL until a producer that kept retrying has the
// partition acknowledging again. Parts: until the session expired, from
// the restart (the process started) until every broker's metadata has the
// partition led again, and until the first acknowledgement.
func BenchmarkClusterBrokerFailover(b *testing.B) {
	const session = 2 * time.Second
	c := startBenchCluster(b, 3, session)
	const topic = "failover"
	c.createTopic(c.broker(1), topic, 6)
	c.poll("the topic led", func() bool { return c.ledEverywhere(topic, 6) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DisableIdempotentWrite(), kgo.ProducerLinger(0), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(time.Minute), kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
		// franz-go refreshes metadata at most every 5 s by default: that
		// would be measured instead of the cluster.
		kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var total, expired, restartToAck, restartToLed []float64
	for b.Loop() {
		ctl := c.waitRegistered()
		p := int32(0)
		for ; c.leaderOf(topic, p) == ctl; p++ { // a broker that is not the controller
		}
		victim := c.broker(c.leaderOf(topic, p))
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: p, Value: []byte("before")}).FirstErr(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		c.kill(victim)
		acked := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			acked <- cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("after")}).FirstErr()
		}()
		c.poll("the session expired", func() bool { return !slices.Contains(c.registered(), victim.id) })
		expired = append(expired, ms(time.Since(t0)))
		t1 := time.Now()
		c.start(victim)
		c.poll("the partition led again", func() bool { return c.ledEverywhere(topic, 6) })
		restartToLed = append(restartToLed, ms(time.Since(t1)))
		if err := <-acked; err != nil {
			b.Fatal(err)
		}
		total = append(total, ms(time.Since(t0)))
		restartToAck = append(restartToAck, ms(time.Since(t1)))
	}
	b.ReportMetric(median(restartToLed), "ms-restart-to-led")
	b.ReportMetric(median(total), "ms-kill-to-produce")
	b.ReportMetric(median(expired), "ms-kill-to-expired")
	b.ReportMetric(median(restartToAck), "ms-restart-to-produce")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkClusterTopicWritable: a topic of 100 partitions created through
// a broker that is not the controller, then the time until its answer
// (which waits for that broker's metadata), until every broker's metadata
// has all 100 leaders, and until a producer had one record acknowledged
// by every partition (each broker leading a third of them).
func BenchmarkClusterTopicWritable(b *testing.B) {
	c := startBenchCluster(b, 3, 4*time.Second)
	ctl := c.waitRegistered()
	via := c.brokers[0]
	if via.id == ctl {
		via = c.brokers[1]
	}
	const parts = 100
	var answered, everywhere, written []float64
	i := 0
	for b.Loop() {
		topic := fmt.Sprintf("writable-%d", i)
		i++
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.DisableIdempotentWrite(), kgo.ProducerLinger(0), kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }), kgo.MetadataMinAge(50*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		c.createTopic(via, topic, parts)
		answered = append(answered, ms(time.Since(t0)))
		recs := make([]*kgo.Record, parts)
		for p := range recs {
			recs[p] = &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte("x")}
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		written = append(written, ms(time.Since(t0)))
		c.poll("every broker's metadata", func() bool { return c.ledEverywhere(topic, parts) })
		everywhere = append(everywhere, ms(time.Since(t0)))
		cl.Close()
	}
	b.ReportMetric(median(answered), "ms-to-answer")
	b.ReportMetric(median(written), "ms-to-all-written")
	b.ReportMetric(median(everywhere), "ms-to-metadata-everywhere")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkClusterProduce: the same franz-go producer (acks=all,
// uncompressed, not idempotent, 1 MiB batches) sends 1 KiB records to a
// topic of six partitions on one standalone broker and on a cluster of
// three (two partitions led by each), one after the other in each run;
// throughput and the ratio cluster/single.
func BenchmarkClusterProduce(b *testing.B) {
	const n, size, parts = 200_000, 1024, 6
	single := startSamsa(b)
	defer single.stop()
	c := startBenchCluster(b, 3, 4*time.Second)
	value := make([]byte, size)
	mib := float64(n*size) / (1 << 20)
	run := func(seeds []string, topic string, create func()) float64 {
		create()
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
			kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(0),
			kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		var failed error
		var mu sync.Mutex
		t0 := time.Now()
		for range n {
			cl.Produce(context.Background(), &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					failed = errors.Join(failed, err)
					mu.Unlock()
				}
			})
		}
		if err := cl.Flush(context.Background()); err != nil || failed != nil {
			b.Fatal(err, failed)
		}
		return time.Since(t0).Seconds()
	}
	var one, three []float64
	i := 0
	for b.Loop() {
		topic := fmt.Sprintf("throughput-%d", i)
		i++
		one = append(one, run([]string{single.addr}, topic, func() {
			adm, err := kgo.NewClient(kgo.SeedBrokers(single.addr))
			if err != nil {
				b.Fatal(err)
			}
			defer adm.Close()
			if _, err := kadm.NewClient(adm).CreateTopic(context.Background(), parts, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
		}))
		three = append(three, run(c.seeds(), topic, func() {
			c.createTopic(c.brokers[0], topic, parts)
			c.poll("the topic led everywhere", func() bool { return c.ledEverywhere(topic, parts) })
		}))
	}
	b.ReportMetric(mib/median(one), "single-MiB/s")
	b.ReportMetric(mib/median(three), "cluster-MiB/s")
	b.ReportMetric(median(one)/median(three), "cluster/single")
	b.ReportMetric(0, "ns/op")
}
