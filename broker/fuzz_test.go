package broker

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/internal/testbatch"
)

var writeSeeds = flag.Bool("write-seeds", false, "regenerate testdata/fuzz seed corpora")

// requestFrame encodes a request with its header, as a client sends it
// (without the size prefix).
func requestFrame(req kmsg.Request, corr int32) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "fuzz"...)
	if req.IsFlexible() && req.Key() != apiVersionsKey || req.Key() == apiVersionsKey && req.GetVersion() >= 3 {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

// seedRequests are valid requests of every served API at its lowest and
// highest version.
func seedRequests() [][]byte {
	batch := testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 8, Fill: 'a', Timestamp: 1})
	var out [][]byte
	keys := make([]int16, 0, len(apis))
	for k := range apis {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		h := apis[key]
		for _, v := range []int16{h.min, h.max} {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			switch r := req.(type) {
			case *kmsg.ProduceRequest:
				r.Acks = 1
				t := kmsg.NewProduceRequestTopic()
				t.Topic = "fuzz"
				p := kmsg.NewProduceRequestTopicPartition()
				p.Records = batch
				t.Partitions = append(t.Partitions, p)
				r.Topics = append(r.Topics, t)
			case *kmsg.FetchRequest:
				r.MaxWaitMillis = 0
				t := kmsg.NewFetchRequestTopic()
				t.Topic = "fuzz"
				p := kmsg.NewFetchRequestTopicPartition()
				p.PartitionMaxBytes = 1 << 20
				t.Partitions = append(t.Partitions, p)
				r.Topics = append(r.Topics, t)
			case *kmsg.MetadataRequest:
				t := kmsg.NewMetadataRequestTopic()
				t.Topic = strptr("fuzz")
				r.Topics = append(r.Topics, t)
			case *kmsg.ListOffsetsRequest:
				t := kmsg.NewListOffsetsRequestTopic()
				t.Topic = "fuzz"
				t.Partitions = append(t.Partitions, kmsg.NewListOffsetsRequestTopicPartition())
				r.Topics = append(r.Topics, t)
			}
			out = append(out, requestFrame(req, 1))
		}
	}
	return out
}

// FuzzDecodeRequest feeds arbitrary bytes to the request decoder.
// Invariants: it never panics; a frame it decodes re-encodes (kmsg) to
// bytes that decode to the same request, so what was accepted is what the
// handler sees.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range seedRequests() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		frame = bytes.Clone(frame) // the decoder may alias it
		rc, _, req, res := decodeRequest(frame)
		if res != decoded {
			return
		}
		enc1 := req.AppendTo(nil)
		again := kmsg.RequestForKey(rc.key)
		again.SetVersion(rc.version)
		if err := again.ReadFrom(enc1); err != nil {
			t.Fatalf("key %d v%d: re-encoded request does not decode: %v", rc.key, rc.version, err)
		}
		if enc2 := again.AppendTo(nil); !bytes.Equal(enc1, enc2) {
			t.Fatalf("key %d v%d: encoding not stable", rc.key, rc.version)
		}
	})
}

// fuzzBroker is one broker shared by the iterations of FuzzServe.
var fuzzBroker struct {
	b    *Broker
	addr string
}

func startFuzzBroker(t testing.TB) (*Broker, string) {
	if fuzzBroker.b != nil {
		return fuzzBroker.b, fuzzBroker.addr
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
	b, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	fuzzBroker.b, fuzzBroker.addr = b, b.Addr().String()
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
	for _, s := range seedRequests() {
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
		if n := testCounter(b.metrics.panics); n != 0 {
			t.Fatalf("%v handler panics", n)
		}
		probe, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		av := kmsg.NewPtrApiVersionsRequest()
		av.SetVersion(0)
		resp, closed, err := roundTrip(probe, requestFrame(av, 9))
		if err != nil || closed || len(resp) < 6 || binary.BigEndian.Uint32(resp) != 9 {
			t.Fatalf("broker stopped answering after input %x: closed %v err %v", frame[:min(len(frame), 64)], closed, err)
		}
	})
}

// TestWriteFuzzSeeds regenerates the committed corpora (the requests of
// seedRequests, one file each) when run with -write-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate testdata/fuzz")
	}
	for _, target := range []string{"FuzzDecodeRequest", "FuzzServe"} {
		dir := filepath.Join("testdata", "fuzz", target)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seedRequests() {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			path := filepath.Join(dir, fmt.Sprintf("seed-key%02d-%02d", binary.BigEndian.Uint16(s), i))
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
