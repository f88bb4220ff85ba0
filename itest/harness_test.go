// Package itest runs the real samsa binary as a child process and drives it
// with Kafka clients nobody here wrote: franz-go (kgo, kadm), IBM/sarama,
// segmentio/kafka-go, kcat (librdkafka), kafka-python, confluent-kafka and
// kafkajs. Nothing is mocked.
//
// TestMain builds the samsa binary once, into a temporary directory and
// without -race (the race detector slows the test process, not the
// broker), unless SAMSA_ITEST_BIN names a binary to test instead. Each
// test starts its own broker on free loopback ports with a fresh data
// directory; see startBroker. The cluster and replication tests
// (cluster_*_test.go, replication_*_test.go) start brokers in ZooKeeper
// mode on one ZooKeeper shared by the package (internal/zktest), a chroot
// per test; see startCluster and replication_harness_test.go.
//
// The Python and kcat clients, and node and npm for kafkajs, come from
// Debian packages that .ci/run installs; a test that needs one fails with a
// message naming the package when it is missing. kafkajs itself is pinned
// in testdata/kafkajs and installed there with npm ci on first use.
//
// Invariants of the package:
//  1. Tests reach the broker only from outside, as users and other
//     brokers do: its Kafka listener (with real clients, and kclient for
//     the inter-broker requests a controller sends), its admin HTTP
//     (/metrics, /healthz), its exit status and logs, its data directory,
//     and ZooKeeper's znodes. Of the module they import only
//     internal/zktest, internal/testbatch and kclient.
//  2. A missing client, node or npm, or ZooKeeper fails the test with the
//     Debian package to install; the one skip is a test that needs to
//     mount a tmpfs and lacks the privilege.
//
// Locks: test helpers guard what several goroutines of one test write (a
// child process's captured output, ledgers of acknowledged records) with
// their own mutexes; no lock is shared between tests.
package itest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/zktest"
)

// samsaBin is the broker binary TestMain built.
var samsaBin string

// cleanShutdownMarker is the file a clean shutdown leaves in log.dirs.
const cleanShutdownMarker = ".kafka_cleanshutdown"

// python is the Debian interpreter: the python3 first on PATH may not see
// the Debian packages (python3-kafka, python3-confluent-kafka).
const python = "/usr/bin/python3"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// binEnv names a prebuilt broker binary to test instead of building one.
const binEnv = "SAMSA_ITEST_BIN"

func runMain(m *testing.M) int {
	if bin := os.Getenv(binEnv); bin != "" {
		samsaBin = bin
		return zktest.Run(m)
	}
	dir, err := os.MkdirTemp("", "samsa-itest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "itest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "itest:", err)
		return 1
	}
	samsaBin = filepath.Join(dir, "samsa")
	build := exec.Command("go", "build", "-o", samsaBin, "./cmd/samsa")
	build.Dir = root
	// The broker runs without the race detector whatever the test binary
	// has; other GOFLAGS (-mod, -buildvcs) still apply.
	var flags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if f != "-race" && f != "--race" && f != "-race=true" {
			flags = append(flags, f)
		}
	}
	build.Env = append(os.Environ(), "GOFLAGS="+strings.Join(flags, " "))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "itest: building samsa: %v\n%s", err, out)
		return 1
	}
	return zktest.Run(m)
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the samsa module")
	}
	return filepath.Dir(gomod), nil
}

// lockedBuffer collects a child's stderr while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// broker is one samsa broker process and its data directory; restarts keep
// the directory and the ports.
type broker struct {
	t         testing.TB
	dir       string   // log.dirs
	addr      string   // Kafka listener, 127.0.0.1:port
	adminAddr string   // admin HTTP listener
	overrides []string // per-test --override values
	log       *lockedBuffer
	id        int32 // broker.id in a cluster (startCluster); 0 standalone
	paused    bool  // stopped with SIGSTOP (pause), not yet resumed
	// extra names listeners the broker binds besides PLAINTEXT, each on
	// a free loopback port of its own (extraAddrs, chosen with addr);
	// their protocols come from the overrides.
	extra      []string
	extraAddrs map[string]string
	// sec, when set, is how clients connect to addr: TLS (via).
	sec *clientSec

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error         // cmd.Wait's result, valid after exited
	starts int
}

// startBroker starts a broker with a fresh data directory on free loopback
// ports; overrides are key=value pairs passed as --override. The broker is
// killed at the end of the test if still running, and its log printed if
// the test failed.
func startBroker(t testing.TB, overrides ...string) *broker {
	t.Helper()
	b := newBroker(t, overrides...)
	if err := b.startFresh(); err != nil {
		t.Fatalf("broker did not start: %v", err)
	}
	return b
}

// newBroker prepares a broker with a fresh data directory, not started
// (startFresh starts it): the same cleanup as startBroker.
func newBroker(t testing.TB, overrides ...string) *broker {
	t.Helper()
	b := &broker{t: t, dir: t.TempDir(), overrides: overrides, log: &lockedBuffer{}}
	t.Cleanup(func() {
		if b.running() {
			b.cmd.Process.Kill()
			<-b.exited
		}
		if t.Failed() {
			t.Logf("broker log (%s):\n%s", b.dir, b.log.String())
		}
	})
	return b
}

// startFresh chooses free ports and starts the broker; it may run on any
// goroutine (it does not fail the test).
func (b *broker) startFresh() error {
	// Another process may take a port between choosing and binding it:
	// choose again if the broker could not listen.
	for attempt := 0; ; attempt++ {
		var err error
		if b.addr, err = freeAddrErr(); err != nil {
			return err
		}
		if b.adminAddr, err = freeAddrErr(); err != nil {
			return err
		}
		b.extraAddrs = map[string]string{}
		for _, name := range b.extra {
			if b.extraAddrs[name], err = freeAddrErr(); err != nil {
				return err
			}
		}
		err = b.start()
		if err == nil {
			return nil
		}
		if attempt == 3 || !strings.Contains(b.log.String(), "address already in use") {
			return err
		}
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := freeAddrErr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func freeAddrErr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (b *broker) running() bool {
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// start runs the binary and waits until both listeners answer.
func (b *broker) start() error {
	if b.running() {
		return errors.New("broker already running")
	}
	b.starts++
	listeners := "PLAINTEXT://" + b.addr
	for _, name := range b.extra {
		listeners += "," + name + "://" + b.extraAddrs[name]
	}
	args := []string{"broker",
		"--override", "log.dirs=" + b.dir,
		"--override", "listeners=" + listeners,
		"--override", "admin.listener=" + b.adminAddr,
	}
	for _, o := range b.overrides {
		args = append(args, "--override", o)
	}
	fmt.Fprintf(b.log, "---- start %d: samsa %s\n", b.starts, strings.Join(args, " "))
	cmd := exec.Command(samsaBin, args...)
	cmd.Stdout = b.log
	cmd.Stderr = b.log
	if err := cmd.Start(); err != nil {
		return err
	}
	b.cmd, b.exited = cmd, make(chan struct{})
	go func() {
		b.err = cmd.Wait()
		close(b.exited)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-b.exited:
			return fmt.Errorf("broker exited during startup: %v", b.err)
		default:
		}
		if b.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			b.cmd.Process.Kill()
			<-b.exited
			return errors.New("broker not ready after 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ready reports whether /healthz answers ok and the Kafka port accepts.
func (b *broker) ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + b.adminAddr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	conn, err := net.DialTimeout("tcp", b.addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// stop sends SIGTERM and checks a clean exit: status 0 and the
// clean-shutdown marker in the data directory.
func (b *broker) stop() {
	b.t.Helper()
	if !b.running() {
		b.t.Fatal("stop: broker is not running")
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
		b.t.Fatal("broker did not exit within 30s of SIGTERM")
	}
	if b.err != nil {
		b.t.Fatalf("broker exit after SIGTERM: %v (want status 0)", b.err)
	}
	if _, err := os.Stat(filepath.Join(b.dir, cleanShutdownMarker)); err != nil {
		b.t.Fatalf("no clean-shutdown marker after SIGTERM: %v", err)
	}
}

// kill sends SIGKILL: no shutdown work at all.
func (b *broker) kill() {
	b.t.Helper()
	if !b.running() {
		b.t.Fatal("kill: broker is not running")
	}
	b.cmd.Process.Kill()
	<-b.exited
	b.paused = false
}

// restart starts the broker again on the same data directory and ports.
func (b *broker) restart() {
	b.t.Helper()
	if err := b.start(); err != nil {
		b.t.Fatalf("restart: %v", err)
	}
}

// client returns a franz-go client for the broker, closed at the end of
// the test. Idempotence is off (InitProducerId is a later stage) and
// batches go uncompressed (compression checks are a later stage too).
func (b *broker) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(b.addr),
		kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RetryTimeout(10 * time.Second),
	}, opts...)
	all = append(all, b.sec.kgo()...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// admin returns a kadm client for the broker.
func (b *broker) admin(t testing.TB) *kadm.Client {
	t.Helper()
	adm := kadm.NewClient(b.client(t))
	adm.SetTimeoutMillis(10000)
	return adm
}

// metric returns the value of an unlabelled metric from /metrics.
func (b *broker) metric(t testing.TB, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + b.adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not in /metrics", name)
	return 0
}

// ctx is a context bounded for one step of a test.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// apiVersions asks the broker which versions of which APIs it serves.
func (b *broker) apiVersions(t testing.TB) map[int16][2]int16 {
	t.Helper()
	conn := b.dial(t)
	defer conn.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-itest", "0"
	resp := conn.roundTrip(t, req).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions: error %d", resp.ErrorCode)
	}
	out := map[int16][2]int16{}
	for _, k := range resp.ApiKeys {
		out[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	return out
}

// needAPIs fails the test unless the broker's ApiVersions advertises every
// key: an API the broker serves must be tested, and a test of an API it
// stopped serving must say so, not pass by skipping.
func (b *broker) needAPIs(t testing.TB, keys ...int16) {
	t.Helper()
	have := b.apiVersions(t)
	var missing []string
	for _, k := range keys {
		if _, ok := have[k]; !ok {
			missing = append(missing, fmt.Sprintf("%s (key %d)", kmsg.NameForKey(k), k))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the broker's ApiVersions does not advertise %s", strings.Join(missing, ", "))
	}
}

// waitFor polls cond every 10 ms until it holds, failing the test after
// within: the way to wait for a state the broker reaches by itself.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

// waitParked waits until n fetches are parked in the broker's purgatory
// (samsa_fetch_purgatory_size): a long poll that is waiting, not one that
// is still on its way.
func (b *broker) waitParked(t testing.TB, n float64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%v fetches parked (samsa_fetch_purgatory_size)", n), 10*time.Second, func() bool {
		return b.metric(t, "samsa_fetch_purgatory_size") == n
	})
}

// API keys the tests name.
const (
	keyCreateTopics            = 19
	keyDeleteTopics            = 20
	keyDeleteRecords           = 21
	keyInitProducerID          = 22
	keyAddPartitionsToTxn      = 24
	keyAddOffsetsToTxn         = 25
	keyEndTxn                  = 26
	keyTxnOffsetCommit         = 28
	keyDescribeConfigs         = 32
	keyAlterConfigs            = 33
	keyDescribeLogDirs         = 35
	keyCreatePartitions        = 37
	keyIncrementalAlterConfigs = 44
	keyDescribeCluster         = 60
	keyDescribeProducers       = 61
	keyDescribeTransactions    = 65
	keyListTransactions        = 66
)

// newTopic makes a topic with the given number of partitions and configs
// with CreateTopics, and returns once the broker's metadata lists every
// partition.
func (b *broker) newTopic(t testing.TB, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	b.needAPIs(t, keyCreateTopics)
	resp, err := b.admin(t).CreateTopic(ctx(t), partitions, 1, configs, name)
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if resp.Err != nil {
		t.Fatalf("create topic %s: %v (%v)", name, resp.Err, resp.ErrMessage)
	}
	if n := b.partitionCount(t, name); n != partitions {
		t.Fatalf("topic %s has %d partitions in the metadata, want %d", name, n, partitions)
	}
}

// partitionCount returns the number of partitions the broker's metadata
// lists for a topic, or -1 for an unknown topic.
func (b *broker) partitionCount(t testing.TB, topic string) int32 {
	t.Helper()
	conn := b.dial(t)
	defer conn.Close()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(9)
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, mt)
	req.AllowAutoTopicCreation = false
	resp := conn.roundTrip(t, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 {
		t.Fatalf("metadata for %s: %d topics", topic, len(resp.Topics))
	}
	if resp.Topics[0].ErrorCode == 3 {
		return -1
	}
	if resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("metadata for %s: error %d", topic, resp.Topics[0].ErrorCode)
	}
	return int32(len(resp.Topics[0].Partitions))
}

// produceSync produces records (each with its Topic and Partition set) with
// acks=all and returns them with offsets filled in.
func produceSync(t testing.TB, cl *kgo.Client, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	res := cl.ProduceSync(ctx(t), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return recs
}

// consumeAll reads every record of the topic's partitions from the log
// start to the high watermark as of the call, with a fresh franz-go
// consumer, sorted by partition then offset.
func (b *broker) consumeAll(t testing.TB, topic string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	adm := b.admin(t)
	ends, err := adm.ListEndOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(0)
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("list end offsets %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		s, _ := starts.Lookup(o.Topic, o.Partition)
		want += o.Offset - s.Offset
		parts[o.Partition] = kgo.NewOffset().AtStart()
	})
	if len(parts) == 0 {
		t.Fatalf("topic %s has no partitions", topic)
	}
	cl := b.client(t, append([]kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})}, opts...)...)
	return pollN(t, cl, want)
}

// waitEnds polls until the topic's partitions hold n records together:
// for producers that do not wait for acknowledgements.
func (b *broker) waitEnds(t testing.TB, topic string, n int64) {
	t.Helper()
	adm := b.admin(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ends, err := adm.ListEndOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		total := int64(0)
		ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		if total == n {
			return
		}
		if total > n || time.Now().After(deadline) {
			t.Fatalf("%s holds %d records, want %d", topic, total, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pollN polls until n records arrived (failing after 30s or on more), and
// returns them sorted by partition then offset.
func pollN(t testing.TB, cl *kgo.Client, n int64) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	c := ctx(t)
	for int64(len(out)) < n {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", len(out), n)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s/%d: %v", topic, p, err)
		})
		out = append(out, fs.Records()...)
	}
	if int64(len(out)) > n {
		t.Fatalf("consumed %d records, want %d", len(out), n)
	}
	sortRecords(out)
	return out
}

func sortRecords(rs []*kgo.Record) {
	slices.SortFunc(rs, func(a, b *kgo.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
}

// runCmd runs a client process with a time limit and returns its stdout;
// it fails the test, showing stderr, if the process fails.
func runCmd(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, errOut, err := tryCmd(t, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err, errOut, out)
	}
	return out
}

// tryCmd runs a process with a 60s limit.
func tryCmd(t testing.TB, stdin []byte, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	return tryCmdEnv(t, nil, stdin, name, args...)
}

// tryCmdEnv is tryCmd with extra environment variables (KEY=value).
func tryCmdEnv(t testing.TB, env []string, stdin []byte, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// needKcat fails the test if kcat is not installed.
func needKcat(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: install the Debian package kcat (.ci/run does)")
	}
	return p
}

var pyChecks sync.Map // module -> error

// needPython fails the test unless /usr/bin/python3 can import module.
func needPython(t testing.TB, module, pkg string) {
	t.Helper()
	v, ok := pyChecks.Load(module)
	if !ok {
		out, err := exec.Command(python, "-c", "import "+module).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
		v, _ = pyChecks.LoadOrStore(module, err)
	}
	if err, _ := v.(error); err != nil {
		t.Fatalf("%s cannot import %s: install the Debian package %s (.ci/run does): %v", python, module, pkg, err)
	}
}

// pyScript is the helper the Python clients run.
var pyScript = filepath.Join("testdata", "pyclient.py")

// runPy runs testdata/pyclient.py with a command and JSON on stdin and
// returns its stdout (JSON).
func runPy(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	return runPyEnv(t, nil, stdin, args...)
}

// runPyEnv is runPy with extra environment variables.
func runPyEnv(t testing.TB, env []string, stdin []byte, args ...string) []byte {
	t.Helper()
	args = append([]string{pyScript}, args...)
	out, errOut, err := tryCmdEnv(t, env, stdin, python, args...)
	if err != nil {
		t.Fatalf("%s %s (%s): %v\nstderr:\n%s\nstdout:\n%s", python, strings.Join(args, " "), strings.Join(env, " "), err, errOut, out)
	}
	return out
}
