package kafkaapi_test

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/kafkaapi"
	"samsa/server"
)

// fuzzBroker is one broker shared by the iterations of FuzzServe.
var fuzzBroker struct {
	s    *server.Server
	addr string
}

func startFuzzBroker(t testing.TB) (*server.Server, string) {
	if fuzzBroker.s != nil {
		return fuzzBroker.s, fuzzBroker.addr
	}
	dir, err := os.MkdirTemp("", "samsa-fuzz")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.New(map[string]string{
		"log.dirs": dir, "listeners": "PLAINTEXT://127.0.0.1:0", "admin.listener": "",
		"socket.request.max.bytes": "1048576",
	}, []string{"log.dirs", "listeners", "admin.listener", "socket.request.max.bytes"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	fuzzBroker.s, fuzzBroker.addr = b, b.Addr().String()
	return b, fuzzBroker.addr
}

// roundTrip sends one frame and reads one response frame, or reports that
// the broker closed the connection.
func roundTrip(conn net.Conn, frame []byte) (resp []byte, closed bool, err error) {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(frame)))
	if _, err := conn.Write(append(msg, frame...)); err != nil {
		return nil, true, nil
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, false, err
		}
		return nil, true, nil
	}
	resp = make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err = io.ReadFull(conn, resp)
	return resp, false, err
}

// FuzzServe sends arbitrary frames to a running broker over TCP.
// Invariants: no handler panics; the broker answers or closes the
// connection, never hangs (acks=0 produce and long polls aside, which the
// seeds avoid but inputs may hit: a 5 s read timeout is not a failure);
// after every input a fresh connection still gets an ApiVersions answer.
func FuzzServe(f *testing.F) {
	if testing.Short() {
		f.Skip("starts a broker")
	}
	for _, s := range kafkaapi.SeedRequests() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		b, addr := startFuzzBroker(t)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(conn, frame)
		conn.Close()
		if n := panics(t, b); n != 0 {
			t.Fatalf("%v handler panics", n)
		}
		probe, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		av := kmsg.NewPtrApiVersionsRequest()
		av.SetVersion(0)
		resp, closed, err := roundTrip(probe, kafkaapi.RequestFrame(av, 9))
		if err != nil || closed || len(resp) < 6 || binary.BigEndian.Uint32(resp) != 9 {
			t.Fatalf("broker stopped answering after input %x: closed %v err %v", frame[:min(len(frame), 64)], closed, err)
		}
	})
}

// panics reads samsa_handler_panics_total from the server's metrics.
func panics(t *testing.T, s *server.Server) float64 {
	mfs, err := s.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "samsa_handler_panics_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no samsa_handler_panics_total metric")
	return 0
}
