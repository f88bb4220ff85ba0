package kafkaapi_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/kafkaapi"
	"samsa/server"
)

// fuzzBroker is one broker shared by the iterations of FuzzServe (in
// each fuzzing worker process).
var fuzzBroker struct {
	s      *server.Server
	addr   string
	panics atomic.Int64 // handler panics the broker logged
}

// panicLog counts the broker's "request handler panic" log records (a
// cheaper check per input than gathering samsa_handler_panics_total,
// which reads every metric of the process); it drops the rest.
type panicLog struct{ n *atomic.Int64 }

func (l panicLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l panicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		l.n.Add(1)
	}
	return nil
}
func (l panicLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l panicLog) WithGroup(string) slog.Handler      { return l }

// The fuzz broker's waits are short, so that an input that makes it wait
// costs milliseconds: long polls are capped (FetchWaitCap), group
// rebalances start at once and sessions are short.
var fuzzBrokerProps = map[string]string{
	"listeners": "PLAINTEXT://127.0.0.1:0", "admin.listener": "",
	"socket.request.max.bytes":         "1048576",
	"group.initial.rebalance.delay.ms": "0",
	"group.min.session.timeout.ms":     "10",
	"group.max.session.timeout.ms":     "200",
	"offsets.topic.num.partitions":     "2",
}

const fuzzFetchWaitCap = 10 * time.Millisecond

func startFuzzBroker(t testing.TB) (*server.Server, string) {
	if fuzzBroker.s != nil {
		return fuzzBroker.s, fuzzBroker.addr
	}
	dir, err := os.MkdirTemp("", "samsa-fuzz")
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]string{"log.dirs": dir}
	order := []string{"log.dirs"}
	for k, v := range fuzzBrokerProps {
		props[k] = v
		order = append(order, k)
	}
	cfg, err := config.New(props, order)
	if err != nil {
		t.Fatal(err)
	}
	cfg.FetchWaitCap = fuzzFetchWaitCap
	b, err := server.New(cfg, slog.New(panicLog{&fuzzBroker.panics}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	fuzzBroker.s, fuzzBroker.addr = b, b.Addr().String()
	return b, fuzzBroker.addr
}

func sized(frame []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame...)
}

// readFrame reads one response frame; closed reports that the broker
// closed the connection, err a timeout.
func readFrame(conn net.Conn) (resp []byte, closed bool, err error) {
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, false, err
		}
		return nil, true, nil
	}
	resp = make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, resp); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, false, err
		}
		return nil, true, nil
	}
	return resp, false, nil
}

// roundTrip sends one frame and reads one response frame, or reports that
// the broker closed the connection.
func roundTrip(conn net.Conn, frame []byte, timeout time.Duration) (resp []byte, closed bool, err error) {
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(sized(frame)); err != nil {
		return nil, true, nil
	}
	return readFrame(conn)
}

// probeCorr is the correlation id of the ApiVersions request that follows
// each input on its connection.
const probeCorr = 0x7eadbeef

// inputDeadline bounds the wait for an input's answers: longer than any
// wait of the fuzz broker but a JoinGroup's or SyncGroup's rebalance
// (bounded by the input's own rebalance timeout), which the fresh
// connection's probe then covers.
const inputDeadline = 250 * time.Millisecond

// FuzzServe sends arbitrary frames to a running broker over TCP.
// Invariants: no handler panics; the broker answers or closes the
// connection, and keeps answering others. Each input is followed on its
// connection by an ApiVersions request (pipelined, as clients do), whose
// answer shows the input was served and the broker is alive, without
// waiting out a deadline for inputs that get no response (acks=0
// produce). Inputs that close the connection or leave it waiting (a
// rebalance the input's timeouts stretch) are followed by the same probe
// on a fresh connection, which must be answered within 5 s.
func FuzzServe(f *testing.F) {
	if testing.Short() {
		f.Skip("starts a broker")
	}
	for _, s := range kafkaapi.SeedRequests() {
		f.Add(s)
	}
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(0)
	probeFrame := sized(kafkaapi.RequestFrame(av, probeCorr))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, addr := startFuzzBroker(t)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(inputDeadline))
		probed := false
		if _, err := conn.Write(append(sized(frame), probeFrame...)); err == nil {
			for {
				resp, closed, err := readFrame(conn)
				if closed || err != nil {
					break
				}
				if len(resp) >= 4 && binary.BigEndian.Uint32(resp) == probeCorr {
					probed = true
					break
				}
			}
		}
		conn.Close()
		if n := fuzzBroker.panics.Load(); n != 0 {
			t.Fatalf("%v handler panics (input %x)", n, frame[:min(len(frame), 64)])
		}
		if probed {
			return
		}
		probe, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		resp, closed, err := roundTrip(probe, kafkaapi.RequestFrame(av, 9), 5*time.Second)
		if err != nil || closed || len(resp) < 6 || binary.BigEndian.Uint32(resp) != 9 {
			t.Fatalf("broker stopped answering after input %x: closed %v err %v", frame[:min(len(frame), 64)], closed, err)
		}
	})
}
