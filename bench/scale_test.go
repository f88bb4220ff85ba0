package bench

// Scale (issue 20): thousands of partitions on three brokers, measured as an
// operator would. BenchmarkScalePartitions starts three broker processes on
// a private ZooKeeper, creates T topics of P partitions at RF 3 (one
// CreateTopics naming them all, through franz-go's kadm, which sends it to
// the controller: what `samsa topic create t1 t2 ... -p P -r 3` sends), and
// reports:
//
//   - the time until every broker's Metadata shows every partition with a
//     leader and 3 in-sync replicas;
//   - each broker's CPU while the cluster idles (from /proc/<pid>/stat),
//     its resident memory (VmRSS) and the disk its data directory holds
//     (allocated blocks, as du counts them);
//   - then, unless SAMSA_SCALE_BOUNCE=0: a clean restart of a broker that is
//     not the controller (SIGTERM: controlled shutdown, the time until its
//     leaderships have moved and until it exited, then the time from its
//     start until every ISR is full again), the same after SIGKILL (its
//     session must expire before it can register again: timed from its
//     start), and a SIGKILL of the controller (the time from the expiry of
//     its session until the survivors' Metadata has every partition led by
//     a live broker).
//
// Every broker's log goes to broker-<id>.log (SAMSA_SCALE_LOGDIR, else a
// temporary directory); "panics" counts recovered panics in them, and
// "unfinished-shutdowns" controlled shutdowns that gave up.
//
// Knobs (environment): SAMSA_SCALE_PARTITIONS (P, default 10),
// SAMSA_SCALE_TOPICS (T, default 10), SAMSA_SCALE_IDLE (the idle window,
// default 20s), SAMSA_SCALE_BOUNCE (0: skip the restarts; stop: instead
// of them, stop every broker with SIGTERM, one after another),
// SAMSA_SCALE_OVERRIDES (more broker settings, key=value separated by
// commas), SAMSA_SCALE_LOGDIR, SAMSA_SCALE_LOGLEVEL (default warn),
// SAMSA_SCALE_PROFILE (a directory: a CPU profile of every broker, from its
// /debug/pprof, over the creation phase), SAMSA_SCALE_LIMIT (how long to
// wait for full ISRs, default 5m), SAMSA_SCALE_DATADIR (the parent of the
// data directories, e.g. a small tmpfs to fill the disk), SAMSA_SCALE_BIN
// (the broker binary, e.g. another revision's). The default is the short
// form `make bench` runs; bench/README.md has the commands of the big runs.
//
// When creation fails (CreateTopics answers KAFKA_STORAGE_ERROR: a disk
// filled up) or the ISRs do not fill within the limit, the benchmark stops
// every broker with SIGTERM, one after another (controlled shutdowns of a
// damaged cluster, where issue 20 saw a controller event panic), reports
// the panics logged, and fails.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// scaleSession is the brokers' zookeeper.session.timeout.ms: the longest
// the test ZooKeeper grants.
const scaleSession = 4 * time.Second

type scaleParams struct {
	topics, parts int
	idle          time.Duration
	bounce        bool
	stopAll       bool // SAMSA_SCALE_BOUNCE=stop
	overrides     []string
	logDir        string
	logLevel      string
	profileDir    string
	limit         time.Duration
	dataDir, bin  string
}

func scaleParamsFromEnv(b *testing.B) scaleParams {
	p := scaleParams{topics: 10, parts: 10, idle: 20 * time.Second, bounce: true, logLevel: "warn"}
	atoi := func(key string, dst *int) {
		if v := os.Getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				b.Fatalf("%s=%q: want a positive integer", key, v)
			}
			*dst = n
		}
	}
	atoi("SAMSA_SCALE_PARTITIONS", &p.parts)
	atoi("SAMSA_SCALE_TOPICS", &p.topics)
	if v := os.Getenv("SAMSA_SCALE_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SAMSA_SCALE_IDLE=%q: %v", v, err)
		}
		p.idle = d
	}
	p.bounce = os.Getenv("SAMSA_SCALE_BOUNCE") != "0"
	if os.Getenv("SAMSA_SCALE_BOUNCE") == "stop" {
		p.bounce, p.stopAll = false, true
	}
	if v := os.Getenv("SAMSA_SCALE_OVERRIDES"); v != "" {
		p.overrides = strings.Split(v, ",")
	}
	p.logDir = os.Getenv("SAMSA_SCALE_LOGDIR")
	if p.logDir == "" {
		p.logDir = b.TempDir()
	} else if err := os.MkdirAll(p.logDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if v := os.Getenv("SAMSA_SCALE_LOGLEVEL"); v != "" {
		p.logLevel = v
	}
	p.profileDir = os.Getenv("SAMSA_SCALE_PROFILE")
	p.limit = 5 * time.Minute
	if v := os.Getenv("SAMSA_SCALE_LIMIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SAMSA_SCALE_LIMIT=%q: %v", v, err)
		}
		p.limit = d
	}
	p.dataDir, p.bin = os.Getenv("SAMSA_SCALE_DATADIR"), os.Getenv("SAMSA_SCALE_BIN")
	return p
}

// scaleCluster is a benchCluster with the topics under measurement.
type scaleCluster struct {
	*benchCluster
	topics []string
	parts  int
	rf     int
}

// isrState counts, in one broker's Metadata, the partitions of the topics
// that have a live leader (led) and those that also have rf in-sync
// replicas (full).
func (c *scaleCluster) isrState(br *zkBroker, live map[int32]bool) (led, full int, err error) {
	md, err := metadataOf(br, c.topics...)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range md.Topics {
		if t.ErrorCode != 0 {
			continue
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 || !live[p.Leader] {
				continue
			}
			led++
			if len(p.ISR) == c.rf {
				full++
			}
		}
	}
	return led, full, nil
}

func (c *scaleCluster) total() int { return len(c.topics) * c.parts }

func (c *scaleCluster) liveSet() map[int32]bool {
	live := map[int32]bool{}
	for _, br := range c.live() {
		live[br.id] = true
	}
	return live
}

// waitAll polls every live broker's Metadata every 100 ms until cond holds
// for each (led, full), logging progress every 10 s, for at most limit; it
// returns the time it took and whether cond was met, with the smallest
// count of full partitions last seen.
func (c *scaleCluster) waitAll(what string, limit time.Duration, cond func(led, full int) bool) (time.Duration, bool, int) {
	t0 := time.Now()
	nextLog := t0.Add(10 * time.Second)
	least := 0
	for {
		ok := true
		least = c.total()
		live := c.liveSet()
		for _, br := range c.live() {
			led, full, err := c.isrState(br, live)
			if err != nil {
				ok = false
				continue
			}
			least = min(least, full)
			ok = ok && cond(led, full)
		}
		if ok {
			return time.Since(t0), true, least
		}
		if time.Since(t0) > limit {
			return time.Since(t0), false, least
		}
		if time.Now().After(nextLog) {
			c.b.Logf("%s: %d of %d partitions with a full ISR after %v", what, least, c.total(), time.Since(t0).Round(time.Second))
			nextLog = nextLog.Add(10 * time.Second)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

func (c *scaleCluster) fullISR(led, full int) bool { return full == c.total() }

// createTopics sends one CreateTopics naming every topic and returns when
// it is answered, with the number of topics answered KAFKA_STORAGE_ERROR
// (created, not fully hosted). REQUEST_TIMED_OUT is not a failure: the
// topic is created, its leaders not all known yet. (A broker serves one
// request of a connection at a time and CreateTopics waits for the topic's
// leaders, so one request per topic on one client's connection would
// create them one after another.)
func (c *scaleCluster) createTopics() (storageErrors int, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...), kgo.RequestTimeoutOverhead(30*time.Second))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(60_000)
	resp, err := adm.CreateTopics(context.Background(), int32(c.parts), int16(c.rf), nil, c.topics...)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, t := range c.topics {
		switch err := resp[t].Err; {
		case err == nil, errors.Is(err, kerr.RequestTimedOut):
		case errors.Is(err, kerr.KafkaStorageError):
			storageErrors++
			c.b.Logf("create %s: %v: %s", t, err, resp[t].ErrMessage)
		default:
			errs = append(errs, fmt.Errorf("create %s: %w", t, err))
		}
	}
	return storageErrors, errors.Join(errs...)
}

// stopAll stops every broker with SIGTERM, one after another, and fails the
// benchmark when why says something failed or their logs hold panics.
func (c *scaleCluster) stopAll(logDir, why string) {
	for _, br := range c.live() {
		t0 := time.Now()
		c.signalAndWait(br, syscall.SIGTERM)
		c.b.Logf("broker %d stopped (SIGTERM) in %v", br.id, time.Since(t0).Round(time.Millisecond))
	}
	panics := countInLogs(logDir, "panicked")
	c.b.ReportMetric(float64(panics), "panics")
	if why != "" || panics > 0 {
		c.b.Fatalf("%s; every broker stopped: %d recovered panics in their logs (%s)", why, panics, logDir)
	}
}

// procStatus reads a field of /proc/<pid>/status in kB.
func procStatusKB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// diskBytes is what du counts: the blocks allocated to every file under dir.
func diskBytes(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}

func brokerCPU(br *zkBroker) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", br.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// profile fetches a CPU profile of d seconds from every broker's admin
// listener into dir, in the background; wait for them with the returned
// function.
func (c *scaleCluster) profile(dir, phase string, d time.Duration) func() {
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.b.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, br := range c.live() {
		wg.Go(func() {
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", br.admin, int(d.Seconds()))
			resp, err := http.Get(url)
			if err != nil {
				c.b.Logf("profile of broker %d: %v", br.id, err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-broker-%d.pprof", phase, br.id)))
			if err != nil {
				c.b.Logf("profile of broker %d: %v", br.id, err)
				return
			}
			defer f.Close()
			io.Copy(f, resp.Body)
		})
	}
	return wg.Wait
}

// countInLogs counts the lines of the brokers' logs that contain s.
func countInLogs(dir, s string) int {
	n := 0
	logs, _ := filepath.Glob(filepath.Join(dir, "broker-*.log"))
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		n += strings.Count(string(data), s)
	}
	return n
}

// signalAndWait signals a broker and waits for it to exit.
func (c *scaleCluster) signalAndWait(br *zkBroker, sig syscall.Signal) {
	br.cmd.Process.Signal(sig)
	<-br.done
	br.cmd = nil
}

// waitUnregistered waits until ZooKeeper no longer lists the broker: its
// session closed or expired.
func (c *scaleCluster) waitUnregistered(id int32) {
	c.poll("the registration of broker "+strconv.Itoa(int(id))+" gone", func() bool {
		return !slices.Contains(c.registered(), id)
	})
}

func (c *scaleCluster) notController() *zkBroker {
	ctl := c.controllerID()
	for _, br := range c.live() {
		if br.id != ctl {
			return br
		}
	}
	c.b.Fatal("no broker but the controller")
	return nil
}

// BenchmarkScalePartitions: issue 20's table; see the top of this file.
func BenchmarkScalePartitions(b *testing.B) {
	sp := scaleParamsFromEnv(b)
	var opts clusterOpts
	opts.admin, opts.logLevel, opts.logDir = true, sp.logLevel, sp.logDir
	opts.dataDir, opts.bin = sp.dataDir, sp.bin
	opts.overrides = append([]string{"auto.leader.rebalance.enable=false", "controlled.shutdown.retry.backoff.ms=200"}, sp.overrides...)
	b.Logf("%d topics x %d partitions at RF 3; broker logs in %s", sp.topics, sp.parts, sp.logDir)
	limit := sp.limit
	for b.Loop() {
		c := &scaleCluster{benchCluster: startBenchClusterWith(b, 3, scaleSession, opts), parts: sp.parts, rf: 3}
		for _, br := range c.brokers {
			b.Logf("broker %d: kafka %s, admin (pprof) %s, data %s", br.id, br.addr, br.admin, br.dataDir)
		}
		for i := range sp.topics {
			c.topics = append(c.topics, fmt.Sprintf("scale-%d", i))
		}

		// Creation until every ISR is full.
		waitProfiles := c.profile(sp.profileDir, "create", 30*time.Second)
		t0 := time.Now()
		failed, err := c.createTopics()
		if err != nil {
			b.Fatal(err)
		}
		answered := time.Since(t0)
		b.ReportMetric(ms(answered), "ms-create-answered")
		b.ReportMetric(float64(c.total()), "partitions")
		if failed > 0 {
			b.ReportMetric(float64(failed), "topics-not-fully-hosted")
			c.stopAll(sp.logDir, fmt.Sprintf("%d topics answered KAFKA_STORAGE_ERROR", failed))
		}
		_, ok, least := c.waitAll("creation", limit, c.fullISR)
		toISR := time.Since(t0)
		b.ReportMetric(ms(toISR), "ms-to-full-isr")
		if !ok {
			b.ReportMetric(float64(least), "partitions-in-full-isr")
			c.stopAll(sp.logDir, fmt.Sprintf("after %v only %d of %d partitions have a full ISR", limit, least, c.total()))
		}
		b.Logf("created: answered after %v, every ISR full after %v", answered.Round(time.Millisecond), toISR.Round(time.Millisecond))
		waitProfiles()

		// Idle.
		time.Sleep(2 * time.Second) // settle: the last fetches and ISR changes
		cpu0 := map[int32]float64{}
		for _, br := range c.brokers {
			cpu0[br.id] = brokerCPU(br)
		}
		waitProfiles = c.profile(sp.profileDir, "idle", sp.idle)
		time.Sleep(sp.idle) // the measurement window
		waitProfiles()
		var maxCPU, maxRSS, disk float64
		for _, br := range c.brokers {
			pct := 100 * (brokerCPU(br) - cpu0[br.id]) / sp.idle.Seconds()
			rss := float64(procStatusKB(br.cmd.Process.Pid, "VmRSS")) / 1024
			d := float64(diskBytes(br.dataDir)) / (1 << 20)
			b.Logf("broker %d idle: %.2f%% of a core, RSS %.0f MiB, data directory %.0f MiB", br.id, pct, rss, d)
			maxCPU, maxRSS, disk = max(maxCPU, pct), max(maxRSS, rss), disk+d
		}
		b.ReportMetric(maxCPU, "idle-cpu-%-max")
		b.ReportMetric(maxRSS, "rss-MiB-max")
		b.ReportMetric(disk, "disk-MiB-total")

		if sp.bounce {
			c.bounce(b, limit, sp.logDir)
		}
		if sp.stopAll {
			c.stopAll(sp.logDir, "")
		}
		b.ReportMetric(float64(countInLogs(sp.logDir, "panicked")), "panics")
		b.ReportMetric(float64(countInLogs(sp.logDir, "controlled shutdown did not finish")), "unfinished-shutdowns")
		b.ReportMetric(0, "ns/op")
	}
}

// bounce measures the restarts and the controller failover.
func (c *scaleCluster) bounce(b *testing.B, limit time.Duration, logDir string) {
	// Clean restart: controlled shutdown, then start again.
	victim := c.notController()
	others := func() []*zkBroker {
		return slices.DeleteFunc(c.live(), func(br *zkBroker) bool { return br == victim })
	}
	t0 := time.Now()
	victim.cmd.Process.Signal(syscall.SIGTERM)
	moved := time.Duration(-1) // -1: it exited first
poll:
	for {
		select {
		case <-victim.done:
			break poll
		default:
		}
		if c.leadsNothing(others(), victim.id) {
			moved = time.Since(t0)
			break
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	<-victim.done
	victim.cmd = nil
	exited := time.Since(t0)
	if moved < 0 {
		b.Logf("clean stop of broker %d: exited after %v before its leaderships had all moved", victim.id, exited)
	} else {
		b.ReportMetric(ms(moved), "ms-controlled-shutdown-moved")
	}
	b.ReportMetric(ms(exited), "ms-controlled-shutdown-exited")
	c.waitUnregistered(victim.id)
	t1 := time.Now()
	c.start(victim)
	if _, ok, least := c.waitAll("clean restart", limit, c.fullISR); !ok {
		c.stopAll(logDir, fmt.Sprintf("clean restart: only %d of %d partitions with a full ISR", least, c.total()))
	}
	b.ReportMetric(ms(time.Since(t1)), "ms-clean-restart-to-full-isr")
	b.Logf("clean restart of broker %d: leaderships moved in %v, exited after %v, every ISR full %v after its start",
		victim.id, moved.Round(time.Millisecond), exited.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))

	// Restart after SIGKILL: the broker can register again once its old
	// session expired.
	victim = c.notController()
	c.signalAndWait(victim, syscall.SIGKILL)
	c.waitUnregistered(victim.id)
	t1 = time.Now()
	c.start(victim)
	if _, ok, least := c.waitAll("restart after SIGKILL", limit, c.fullISR); !ok {
		c.stopAll(logDir, fmt.Sprintf("restart after SIGKILL: only %d of %d partitions with a full ISR", least, c.total()))
	}
	b.ReportMetric(ms(time.Since(t1)), "ms-kill-restart-to-full-isr")
	b.Logf("restart of broker %d after SIGKILL: every ISR full %v after its start", victim.id, time.Since(t1).Round(time.Millisecond))

	// Controller failover: SIGKILL of the controller.
	ctl := c.broker(c.controllerID())
	c.signalAndWait(ctl, syscall.SIGKILL)
	c.waitUnregistered(ctl.id)
	t2 := time.Now()
	d, ok, _ := c.waitAll("controller failover", limit, func(led, _ int) bool { return led == c.total() })
	if !ok {
		c.stopAll(logDir, fmt.Sprintf("controller failover: not every partition led after %v", d))
	}
	next := c.controllerID()
	b.ReportMetric(ms(time.Since(t2)), "ms-controller-failover-after-expiry")
	b.Logf("controller %d killed: broker %d controls, every partition led by a live broker %v after the session expired",
		ctl.id, next, time.Since(t2).Round(time.Millisecond))
	t3 := time.Now()
	c.start(ctl)
	if _, ok, least := c.waitAll("restart of the old controller", limit, c.fullISR); !ok {
		c.stopAll(logDir, fmt.Sprintf("restart of the old controller: only %d of %d partitions with a full ISR", least, c.total()))
	}
	b.Logf("old controller %d restarted: every ISR full %v after its start", ctl.id, time.Since(t3).Round(time.Millisecond))
}

// leadsNothing reports whether none of the brokers' Metadata names id as
// the leader of a partition.
func (c *scaleCluster) leadsNothing(brokers []*zkBroker, id int32) bool {
	for _, br := range brokers {
		md, err := metadataOf(br, c.topics...)
		if err != nil {
			return false
		}
		for _, t := range md.Topics {
			for _, p := range t.Partitions {
				if p.Leader == id {
					return false
				}
			}
		}
	}
	return true
}

// BenchmarkScaleProduceSpread: the same producer (franz-go, acks=all, not
// idempotent, linger 0, 1 MiB batches, 1 KiB records) writes the same
// bytes to a topic of one partition and to a topic of P partitions
// (SAMSA_SPREAD_PARTITIONS, default 100; the figure is 1,000), each
// record to the next partition (round robin: the least batching a spread
// gets), both at RF 3 on three brokers, one after the other. CPU is the
// three brokers' user+system time from /proc, per MiB of payload; the
// ratio spread/single is the figure (goal: at most 1.5).
// SAMSA_SPREAD_MIB sets the MiB written to each (default 200);
// SAMSA_SCALE_PROFILE, a directory for CPU profiles of the brokers over the
// first 15 s of each.
func BenchmarkScaleProduceSpread(b *testing.B) {
	parts, mib := 100, 200
	for key, dst := range map[string]*int{"SAMSA_SPREAD_PARTITIONS": &parts, "SAMSA_SPREAD_MIB": &mib} {
		if v := os.Getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				b.Fatalf("%s=%q: want a positive integer", key, v)
			}
			*dst = n
		}
	}
	var opts clusterOpts
	opts.overrides = []string{"auto.leader.rebalance.enable=false"}
	profileDir := os.Getenv("SAMSA_SCALE_PROFILE")
	opts.admin = profileDir != ""
	c := &scaleCluster{benchCluster: startBenchClusterWith(b, 3, scaleSession, opts), rf: 3}
	const size = 1024
	n := mib << 20 / size
	value := make([]byte, size)
	cpu := func() float64 {
		total := 0.0
		for _, br := range c.live() {
			total += brokerCPU(br)
		}
		return total
	}
	run := func(topic string, p int) (cpuPerMiB, mibPerSec float64) {
		c.topics, c.parts = []string{topic}, p
		if _, err := c.createTopics(); err != nil {
			b.Fatal(err)
		}
		if _, ok, _ := c.waitAll(topic, time.Minute, c.fullISR); !ok {
			b.Fatalf("%s: the ISRs did not fill", topic)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...), kgo.DefaultProduceTopic(topic),
			kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(0),
			kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		var failed error
		var mu sync.Mutex
		waitProfiles := c.profile(profileDir, topic, 15*time.Second)
		defer waitProfiles()
		cpu0, t0 := cpu(), time.Now()
		for range n {
			cl.Produce(context.Background(), &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			})
		}
		if err := cl.Flush(context.Background()); err != nil || failed != nil {
			b.Fatal(err, failed)
		}
		secs := time.Since(t0).Seconds()
		// Followers may still be fetching the last batches' high
		// watermark: let them settle before reading the CPU.
		c.waitAll(topic, time.Minute, c.fullISR)
		return 1000 * (cpu() - cpu0) / float64(mib), float64(mib) / secs
	}
	var single, spread []float64
	i := 0
	for b.Loop() {
		s, sRate := run(fmt.Sprintf("single-%d", i), 1)
		m, mRate := run(fmt.Sprintf("spread-%d", i), parts)
		i++
		single, spread = append(single, s), append(spread, m)
		b.Logf("one partition: %.2f ms CPU/MiB at %.0f MiB/s; %d partitions: %.2f ms CPU/MiB at %.0f MiB/s", s, sRate, parts, m, mRate)
	}
	b.ReportMetric(median(single), "single-cpu-ms/MiB")
	b.ReportMetric(median(spread), "spread-cpu-ms/MiB")
	b.ReportMetric(median(spread)/median(single), "spread/single-cpu")
	b.ReportMetric(float64(parts), "partitions")
	b.ReportMetric(0, "ns/op")
}
