package kafkaapi

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

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

// Exported for the external test package (serve_fuzz_test.go), which
// runs a whole server.
var (
	SeedRequests = seedRequests
	RequestFrame = requestFrame
)

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
