package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// server is a broker process under benchmark.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	stop func()
}

// cpuSeconds reads the process's user+system CPU time from /proc.
func (s *server) cpuSeconds(b *testing.B) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks; USER_HZ is 100 on Linux
}

func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func buildBinary(b *testing.B, pkg string) string {
	out := filepath.Join(b.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func waitPort(b *testing.B, addr string) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%s never accepted connections", addr)
}

// startSamsa starts the broker; overrides are extra key=value settings.
func startSamsa(b *testing.B, overrides ...string) *server {
	s, _ := startSamsaWith(b, "", overrides...)
	return s
}

// startSamsaWith is startSamsa with a second listener named extra (SSL,
// SASL_PLAINTEXT, ...) beside the PLAINTEXT one, unless extra is empty;
// it returns the PLAINTEXT server and the extra listener's address.
func startSamsaWith(b *testing.B, extra string, overrides ...string) (*server, string) {
	bin := buildBinary(b, "./cmd/samsa")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	listeners := "PLAINTEXT://" + addr
	var extraAddr string
	if extra != "" {
		extraAddr = fmt.Sprintf("127.0.0.1:%d", freePort(b))
		listeners += "," + extra + "://" + extraAddr
	}
	args := []string{"broker",
		"--override", "log.dirs=" + b.TempDir(),
		"--override", "listeners=" + listeners,
		"--override", "admin.listener=",
		"--log-level", "warn"}
	for _, o := range overrides {
		args = append(args, "--override", o)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	waitPort(b, addr)
	if extraAddr != "" {
		waitPort(b, extraAddr)
	}
	return &server{name: "samsa", addr: addr, cmd: cmd, stop: func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}}, extraAddr
}

func startKfake(b *testing.B) *server {
	bin := buildBinary(b, "./bench/kfakesrv")
	port := freePort(b)
	cmd := exec.Command(bin, "-port", strconv.Itoa(port))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		b.Fatalf("kfakesrv: %q %v", line, err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	return &server{name: "kfake", addr: addr, cmd: cmd, stop: func() {
		stdin.Close()
		cmd.Wait()
	}}
}

// result is one workload run against one server.
type result struct {
	produceSec, consumeSec float64
	produceCPU, consumeCPU float64 // server CPU seconds
}

// runWorkload creates a topic of one partition, produces n records of size
// bytes with acks=1 and consumes them back, timing each phase. opts go to
// every client (TLS).
func runWorkload(b *testing.B, s *server, topic string, n, size int, opts ...kgo.Opt) result {
	ctx := context.Background()
	adm, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.addr)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.addr), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(1 << 20), kgo.MaxBufferedRecords(1 << 16)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	value := make([]byte, size)
	var res result
	cpu0 := s.cpuSeconds(b)
	t0 := time.Now()
	errs := make(chan error, 1)
	for range n {
		prod.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	res.produceSec = time.Since(t0).Seconds()
	res.produceCPU = s.cpuSeconds(b) - cpu0
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}

	cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxBytes(32 << 20), kgo.FetchMaxPartitionBytes(16 << 20)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	cpu0 = s.cpuSeconds(b)
	t0 = time.Now()
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		got += fs.NumRecords()
	}
	res.consumeSec = time.Since(t0).Seconds()
	res.consumeCPU = s.cpuSeconds(b) - cpu0
	return res
}

// BenchmarkPeer runs the same franz-go producer and consumer against the
// Samsa broker and against kfake, each a separate process on loopback, in
// one run, and reports throughput, each broker's CPU time per MiB moved,
// and the ratios samsa/kfake (throughput: higher is better for samsa; CPU:
// lower is better).
func BenchmarkPeer(b *testing.B) {
	for _, w := range []struct {
		name    string
		records int
		size    int
	}{
		{"1KiB", 200_000, 1024},
		{"100B", 500_000, 100},
	} {
		b.Run(w.name, func(b *testing.B) {
			samsa, kfake := startSamsa(b), startKfake(b)
			defer samsa.stop()
			defer kfake.stop()
			mib := float64(w.records*w.size) / (1 << 20)
			var rs, rk result
			for i := 0; i < b.N; i++ {
				topic := fmt.Sprintf("bench-%s-%d", w.name, i)
				rs = runWorkload(b, samsa, topic, w.records, w.size)
				rk = runWorkload(b, kfake, topic, w.records, w.size)
			}
			b.ReportMetric(mib/rs.produceSec, "samsa-produce-MiB/s")
			b.ReportMetric(mib/rk.produceSec, "kfake-produce-MiB/s")
			b.ReportMetric(float64(w.records)/rs.produceSec, "samsa-produce-rec/s")
			b.ReportMetric(float64(w.records)/rk.produceSec, "kfake-produce-rec/s")
			b.ReportMetric(mib/rs.consumeSec, "samsa-consume-MiB/s")
			b.ReportMetric(mib/rk.consumeSec, "kfake-consume-MiB/s")
			b.ReportMetric(rk.produceSec/rs.produceSec, "produce-samsa/kfake")
			b.ReportMetric(rk.consumeSec/rs.consumeSec, "consume-samsa/kfake")
			b.ReportMetric(1000*(rs.produceCPU+rs.consumeCPU)/(2*mib), "samsa-cpu-ms/MiB")
			b.ReportMetric(1000*(rk.produceCPU+rk.consumeCPU)/(2*mib), "kfake-cpu-ms/MiB")
		})
	}
}

// jsonValue is a 1 KiB value that compresses like JSON events (3-5x).
func jsonValue(i int) []byte {
	var b []byte
	for j := 0; len(b) < 1024; j++ {
		b = fmt.Appendf(b, `{"user":%d,"event":"click","page":"/p/%d","ms":%d},`, (i*7919+j*104729)%1000003, (i+j)%500, (i*31+j)%100000)
	}
	return b[:1024]
}

// BenchmarkProduceCodecs produces the same 1 KiB JSON-like records with
// each codec (franz-go's default producer: idempotent, acks=all) to one
// broker process, in one run, and reports throughput of uncompressed
// payload, the broker's CPU per MiB (validation includes decompressing
// every batch), and each codec's ratios to uncompressed.
func BenchmarkProduceCodecs(b *testing.B) {
	s := startSamsa(b)
	defer s.stop()
	const n = 100_000
	values := make([][]byte, 256)
	for i := range values {
		values[i] = jsonValue(i)
	}
	mib := float64(n*1024) / (1 << 20)
	codecs := []struct {
		name string
		c    kgo.CompressionCodec
	}{{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()}, {"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()}}
	secs := map[string]float64{}
	cpu := map[string]float64{}
	for i := 0; i < b.N; i++ {
		for _, c := range codecs {
			topic := fmt.Sprintf("codec-%s-%d", c.name, i)
			adm, _ := kgo.NewClient(kgo.SeedBrokers(s.addr))
			if _, err := kadm.NewClient(adm).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
			adm.Close()
			cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.DefaultProduceTopic(topic),
				kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(c.c),
				kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16))
			if err != nil {
				b.Fatal(err)
			}
			var failed error
			cpu0 := s.cpuSeconds(b)
			t0 := time.Now()
			for j := range n {
				cl.Produce(context.Background(), &kgo.Record{Value: values[j%len(values)]}, func(_ *kgo.Record, err error) {
					if err != nil && failed == nil {
						failed = err
					}
				})
			}
			if err := cl.Flush(context.Background()); err != nil || failed != nil {
				b.Fatal(err, failed)
			}
			secs[c.name] = time.Since(t0).Seconds()
			cpu[c.name] = s.cpuSeconds(b) - cpu0
			cl.Close()
		}
	}
	for _, c := range codecs {
		b.ReportMetric(mib/secs[c.name], c.name+"-MiB/s")
		b.ReportMetric(1000*cpu[c.name]/mib, c.name+"-cpu-ms/MiB")
		if c.name != "none" {
			b.ReportMetric(secs["none"]/secs[c.name], c.name+"/none-throughput")
			b.ReportMetric(cpu[c.name]/cpu["none"], c.name+"/none-cpu")
		}
	}
}
