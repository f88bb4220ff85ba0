package itest

// Compressed batches against the real broker: every codec from every
// client, consumed back by another client and compared record by record;
// the stored batches checked for the codec the producer chose (or the
// topic's compression.type); corrupt, miscounted and bomb payloads refused
// with Kafka's codes while the broker keeps serving in bounded memory;
// zstd gated on Produce v7 and Fetch v10; samsa's own produce and bench
// commands with every codec.

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// codecIDs are the codecs by the names clients and compression.type use,
// with their attribute bits (part of the batch format).
var codecIDs = map[string]int16{"none": 0, "uncompressed": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// compressedCodecs are the codecs every client is tested with.
var compressedCodecs = []string{"gzip", "snappy", "lz4", "zstd"}

// xerialMagic starts xerial-framed snappy (kafka-python, the Java client).
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// compressAs compresses a batch's records section the way producers do:
// codec is a codec name, or "snappy-xerial" for xerial-framed snappy.
// gzip is the standard library's, not the broker's klauspost/compress.
func compressAs(t testing.TB, codec string, raw []byte) []byte {
	t.Helper()
	switch codec {
	case "", "none":
		return raw
	case "gzip":
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	case "snappy":
		return snappy.Encode(nil, raw)
	case "snappy-xerial":
		out := append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1)
		for len(raw) > 0 {
			n := min(len(raw), 32<<10)
			blk := snappy.Encode(nil, raw[:n])
			out = binary.BigEndian.AppendUint32(out, uint32(len(blk)))
			out = append(out, blk...)
			raw = raw[n:]
		}
		return out
	case "lz4":
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if _, err := w.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(raw, nil)
	}
	t.Fatalf("unknown codec %q", codec)
	return nil
}

// decompressAs undoes compressAs for a batch's codec bits.
func decompressAs(t testing.TB, id int16, data []byte) []byte {
	t.Helper()
	var r io.Reader
	switch id {
	case 0:
		return data
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case 2:
		if !bytes.HasPrefix(data, xerialMagic) {
			out, err := snappy.Decode(nil, data)
			if err != nil {
				t.Fatalf("snappy: %v", err)
			}
			return out
		}
		var out []byte
		for p := data[16:]; len(p) > 0; {
			n := binary.BigEndian.Uint32(p)
			blk, err := snappy.Decode(nil, p[4:4+n])
			if err != nil {
				t.Fatalf("xerial snappy: %v", err)
			}
			out, p = append(out, blk...), p[4+n:]
		}
		return out
	case 3:
		r = lz4.NewReader(bytes.NewReader(data))
	case 4:
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(data, nil)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return out
	default:
		t.Fatalf("codec bits %d", id)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("codec %d: %v", id, err)
	}
	return out
}

// batch is a hand-made v2 record batch.
type batch struct {
	records []kmsg.Record
	codec   string // for compressAs; "" is none
	// idem makes it an idempotent batch of producer pid/epoch starting at
	// sequence seq; otherwise producer ID, epoch and sequence are -1.
	idem  bool
	pid   int64
	epoch int16
	seq   int32
	// claim, if not 0, is the record count the header states (with a
	// matching lastOffsetDelta) instead of len(records).
	claim int32
	// payload, if set, is sent as the records section instead of the
	// compressed records: the codec bits stay, the CRC is computed over it.
	payload []byte
}

// encode returns the batch's bytes with a correct length and CRC.
func (s batch) encode(t testing.TB) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	var raw []byte
	for i, r := range s.records {
		r.OffsetDelta = int32(i)
		r.Length = 0
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the bytes after the length varint
		raw = r.AppendTo(raw)
	}
	n := int32(len(s.records))
	if s.claim != 0 {
		n = s.claim
	}
	codec, _ := strings.CutSuffix(s.codec, "-xerial")
	if codec == "" {
		codec = "none"
	}
	id, ok := codecIDs[codec]
	if !ok {
		t.Fatalf("unknown codec %q", s.codec)
	}
	body := s.payload
	if body == nil {
		body = compressAs(t, s.codec, raw)
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           id,
		LastOffsetDelta:      n - 1,
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           n,
		Records:              body,
	}
	if s.idem {
		rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = s.pid, s.epoch, s.seq
	}
	out := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// storedBatch is a batch as the broker serves it, with its records
// decompressed.
type storedBatch struct {
	kmsg.RecordBatch
	records []kmsg.Record
}

func (sb storedBatch) codec() int16 { return sb.Attributes & 7 }

// readBatches reads every batch of a partition, from offset 0 to the high
// watermark, with Fetch v12 on a raw connection, and decodes each batch's
// records with this package's decompressors.
func (b *broker) readBatches(t testing.TB, topic string, partition int32) []storedBatch {
	t.Helper()
	conn := b.dial(t)
	var out []storedBatch
	for off, rounds := int64(0), 0; ; rounds++ {
		if rounds == 1000 {
			t.Fatalf("%s/%d: still reading at offset %d after %d fetches", topic, partition, off, rounds)
		}
		req := fetchRequest(12, topic, 0, 0, 16<<20, fetchPart{partition, off, 16 << 20})
		resp := conn.roundTrip(t, req).(*kmsg.FetchResponse)
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("fetch %s/%d: error %d, %d topics", topic, partition, resp.ErrorCode, len(resp.Topics))
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			t.Fatalf("fetch %s/%d at %d: %v", topic, partition, off, kerr.ErrorForCode(p.ErrorCode))
		}
		if off >= p.HighWatermark {
			return out
		}
		batches := parseBatches(t, p.RecordBatches)
		if len(batches) == 0 {
			t.Fatalf("fetch %s/%d at %d below the high watermark %d: no batches", topic, partition, off, p.HighWatermark)
		}
		out = append(out, batches...)
		last := batches[len(batches)-1]
		off = last.FirstOffset + int64(last.LastOffsetDelta) + 1
	}
}

// parseBatches splits a fetch response's record bytes into whole batches
// and decodes their records.
func parseBatches(t testing.TB, b []byte) []storedBatch {
	t.Helper()
	var out []storedBatch
	for len(b) > 0 {
		if len(b) < 61 {
			t.Fatalf("%d trailing bytes, not a batch", len(b))
		}
		n := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if n > len(b) || n < 61 {
			t.Fatalf("batch of %d bytes with %d left", n, len(b))
		}
		var sb storedBatch
		if err := sb.ReadFrom(b[:n]); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if got, want := binary.BigEndian.Uint32(b[17:]), crc32.Checksum(b[21:n], crc32.MakeTable(crc32.Castagnoli)); got != want {
			t.Fatalf("batch at offset %d: crc %08x, computed %08x", sb.FirstOffset, got, want)
		}
		rb := decompressAs(t, sb.codec(), sb.Records)
		for i := int32(0); i < sb.NumRecords; i++ {
			length, s := binary.Varint(rb)
			if s <= 0 || length < 0 || int(length)+s > len(rb) {
				t.Fatalf("batch at offset %d: record %d framing", sb.FirstOffset, i)
			}
			var r kmsg.Record
			if err := r.ReadFrom(rb[:s+int(length)]); err != nil {
				t.Fatalf("batch at offset %d: record %d: %v", sb.FirstOffset, i, err)
			}
			sb.records = append(sb.records, r)
			rb = rb[s+int(length):]
		}
		if len(rb) != 0 {
			t.Fatalf("batch at offset %d: %d bytes after its %d records", sb.FirstOffset, len(rb), sb.NumRecords)
		}
		out = append(out, sb)
		b = b[n:]
	}
	return out
}

// compressibleRecords are clientRecords whose values compress well, so
// that no client falls back to sending a batch uncompressed.
func compressibleRecords(producer string, n int, parts int32) []rec {
	recs := clientRecords(producer, n, parts)
	for i := range recs {
		recs[i].Value = strp(*recs[i].Value + " " + strings.Repeat("compressible ", 16))
	}
	return recs
}

// ---- compressing producers of each client

// kgoDefaultProduce is franz-go's default producer, idempotent and snappy;
// only the partitioner is set, to honour each record's partition.
func kgoDefaultProduce(t testing.TB, b *broker, topic string, recs []rec) []rec {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return kgoProduceWith(t, cl, topic, recs)
}

func kgoProduceWith(t testing.TB, cl *kgo.Client, topic string, recs []rec) []rec {
	t.Helper()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = toKgo(topic, r)
	}
	produceSync(t, cl, krs...)
	reports := make([]rec, len(krs))
	for i, kr := range krs {
		reports[i] = rec{Partition: kr.Partition, Offset: kr.Offset}
	}
	return reports
}

var kgoCodecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// kgoCodecProduce is franz-go with one codec, not idempotent.
func kgoCodecProduce(codec string) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		t.Helper()
		return kgoProduceWith(t, b.client(t, kgo.ProducerBatchCompression(kgoCodecs[codec]), kgo.ProducerLinger(20*time.Millisecond)), topic, recs)
	}
}

var saramaCodecs = map[string]sarama.CompressionCodec{
	"gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

// saramaCodecProduce is sarama's sync producer with one codec (zstd needs
// Version >= V2_1_0_0: saramaConfig has V2_8_0_0), optionally idempotent.
// All records go in one SendMessages call, so batches hold several.
func saramaCodecProduce(codec string, idempotent bool) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		t.Helper()
		cfg := saramaConfig()
		if !cfg.Version.IsAtLeast(sarama.V2_1_0_0) {
			t.Fatalf("sarama version %v cannot produce zstd", cfg.Version)
		}
		cfg.Producer.Compression = saramaCodecs[codec]
		cfg.Producer.Flush.Frequency = 20 * time.Millisecond
		if idempotent {
			cfg.Producer.Idempotent = true
			cfg.Producer.Retry.Max = 3
		}
		p, err := sarama.NewSyncProducer([]string{b.addr}, cfg)
		if err != nil {
			t.Fatalf("sarama producer (%s): %v", codec, err)
		}
		defer p.Close()
		msgs := make([]*sarama.ProducerMessage, len(recs))
		for i, r := range recs {
			m := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition}
			if r.Key != nil {
				m.Key = sarama.StringEncoder(*r.Key)
			}
			if r.Value != nil {
				m.Value = sarama.StringEncoder(*r.Value)
			}
			for _, h := range r.Headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
			}
			msgs[i] = m
		}
		if err := p.SendMessages(msgs); err != nil {
			t.Fatalf("sarama produce (%s): %v", codec, err)
		}
		reports := make([]rec, len(msgs))
		for i, m := range msgs {
			reports[i] = rec{Partition: m.Partition, Offset: m.Offset}
		}
		return reports
	}
}

// kcatCodecProduce runs kcat -P -z codec once per partition (kcat sets
// headers and the partition per run).
func kcatCodecProduce(codec string) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		t.Helper()
		kcat := needKcat(t)
		byPart := map[int32][]rec{}
		var parts []int32
		for _, r := range recs {
			if _, ok := byPart[r.Partition]; !ok {
				parts = append(parts, r.Partition)
			}
			byPart[r.Partition] = append(byPart[r.Partition], r)
		}
		for _, p := range parts {
			var in bytes.Buffer
			for _, r := range byPart[p] {
				fmt.Fprintf(&in, "%s\t%s\n", *r.Key, *r.Value)
			}
			args := []string{"-P", "-b", b.addr, "-t", topic, "-p", strconv.Itoa(int(p)), "-K", "\t",
				"-z", codec, "-X", "linger.ms=20", "-X", "acks=all", "-X", "enable.idempotence=false"}
			for _, h := range byPart[p][0].Headers {
				args = append(args, "-H", h[0]+"="+h[1])
			}
			runCmd(t, in.Bytes(), kcat, args...)
		}
		return nil
	}
}

// pyCompressionScript produces with a codec from kafka-python or
// confluent-kafka.
var pyCompressionScript = filepath.Join("testdata", "compression_pyclient.py")

// pyCodecModules are the Debian packages that give kafka-python its codecs.
var pyCodecModules = map[string][2]string{
	"snappy": {"snappy", "python3-snappy"},
	"lz4":    {"lz4.frame", "python3-lz4"},
	"zstd":   {"zstandard", "python3-zstandard"},
}

func pyCodecProduce(prefix, codec string) func(t testing.TB, b *broker, topic string, recs []rec) []rec {
	return func(t testing.TB, b *broker, topic string, recs []rec) []rec {
		t.Helper()
		needPyClient(t, prefix)
		if m, ok := pyCodecModules[codec]; ok && prefix == "kp" {
			needPython(t, m[0], m[1])
		}
		in, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		out := runCmd(t, in, python, pyCompressionScript, prefix+"-produce", b.addr, topic, codec)
		var reports []rec
		if err := json.Unmarshal(out, &reports); err != nil {
			t.Fatalf("%s-produce output %q: %v", prefix, out, err)
		}
		return reports
	}
}

// TestCompressionClients produces keyed records with headers with every
// codec from every client and consumes them with another client (and some
// with the same), comparing partition, offset, key, value and headers of
// each record and the producer's delivery reports; it also reads the
// stored batches raw, checking that each carries the producer's codec
// (stored as sent: compression.type=producer), decompresses to the same
// records, and, for idempotent producers, carries a producer ID.
func TestCompressionClients(t *testing.T) {
	b := startBroker(t)
	type producer struct {
		name       string
		codec      string
		idem       bool // batches carry a producer ID and sequences
		xerial     bool // snappy batches are xerial-framed
		librdkafka bool // kcat and confluent-kafka: librdkafka decides per broker whether to compress
		produce    func(t testing.TB, b *broker, topic string, recs []rec) []rec
	}
	// kafka-python 2.0.2 fetches with Fetch v4 whatever the broker serves,
	// so it cannot read zstd batches (KIP-110: UNSUPPORTED_COMPRESSION_TYPE,
	// as from Kafka itself): it consumes every codec but zstd here.
	cases := []struct {
		prod     producer
		consumer string
	}{
		{producer{"franz-go-default", "snappy", true, false, false, kgoDefaultProduce}, "kcat"},
		{producer{"franz-go", "gzip", false, false, false, kgoCodecProduce("gzip")}, "kafka-python"},
		{producer{"franz-go", "lz4", false, false, false, kgoCodecProduce("lz4")}, "confluent"},
		{producer{"franz-go", "zstd", false, false, false, kgoCodecProduce("zstd")}, "sarama"},

		{producer{"sarama", "gzip", false, false, false, saramaCodecProduce("gzip", false)}, "franz-go"},
		{producer{"sarama", "snappy", false, false, false, saramaCodecProduce("snappy", false)}, "kcat"},
		{producer{"sarama", "lz4", false, false, false, saramaCodecProduce("lz4", false)}, "kafka-python"},
		{producer{"sarama", "zstd", false, false, false, saramaCodecProduce("zstd", false)}, "confluent"},
		{producer{"sarama-idempotent", "zstd", true, false, false, saramaCodecProduce("zstd", true)}, "sarama"},

		{producer{"kcat", "gzip", false, false, true, kcatCodecProduce("gzip")}, "sarama"},
		{producer{"kcat", "snappy", false, false, true, kcatCodecProduce("snappy")}, "kafka-python"},
		{producer{"kcat", "lz4", false, false, true, kcatCodecProduce("lz4")}, "kcat"},
		{producer{"kcat", "zstd", false, false, true, kcatCodecProduce("zstd")}, "franz-go"},

		{producer{"kafka-python", "gzip", false, false, false, pyCodecProduce("kp", "gzip")}, "confluent"},
		{producer{"kafka-python", "snappy", false, true, false, pyCodecProduce("kp", "snappy")}, "franz-go"},
		{producer{"kafka-python", "lz4", false, false, false, pyCodecProduce("kp", "lz4")}, "kafka-python"},
		{producer{"kafka-python", "zstd", false, false, false, pyCodecProduce("kp", "zstd")}, "kcat"},

		{producer{"confluent-idempotent", "gzip", true, false, true, pyCodecProduce("ck", "gzip")}, "kcat"},
		{producer{"confluent-idempotent", "snappy", true, false, true, pyCodecProduce("ck", "snappy")}, "sarama"},
		{producer{"confluent-idempotent", "lz4", true, false, true, pyCodecProduce("ck", "lz4")}, "franz-go"},
		{producer{"confluent-idempotent", "zstd", true, false, true, pyCodecProduce("ck", "zstd")}, "confluent"},
	}
	// librdkafka before 2.10 (Debian has 2.0.2) compresses with gzip or
	// snappy only if the broker's Produce versions include 0, and with lz4
	// only if it serves FindCoordinator v0; otherwise it logs "Broker does
	// not support compression type" and sends the batch uncompressed
	// (confluentinc/librdkafka#4956). Kafka 3.x advertises Produce 0-9.
	apis := b.apiVersions(t)
	librdkafkaHint := fmt.Sprintf("; librdkafka 2.0.2 sends gzip and snappy uncompressed unless the broker's Produce versions include 0 (this broker advertises Produce %d-%d), and lz4 unless FindCoordinator v0 is served (advertised: %v)",
		apis[0][0], apis[0][1], func() bool { _, ok := apis[10]; return ok }())
	const n, parts = 20, 2
	for _, c := range cases {
		prod, cons := c.prod, clients[c.consumer]
		t.Run(prod.name+"_"+prod.codec+"_to_"+cons.name, func(t *testing.T) {
			t.Parallel()
			topic := "compress." + prod.name + "." + prod.codec
			b.newTopic(t, topic, parts, nil)
			want := compressibleRecords(prod.name+"/"+prod.codec, n, parts)
			if reports := prod.produce(t, b, topic, want); reports != nil {
				if len(reports) != len(want) {
					t.Fatalf("%d delivery reports for %d records", len(reports), len(want))
				}
				for i, r := range reports {
					if r.Partition != want[i].Partition || r.Offset != want[i].Offset {
						t.Fatalf("delivery report %d: p%d@%d, want p%d@%d", i, r.Partition, r.Offset, want[i].Partition, want[i].Offset)
					}
				}
			}

			// The stored batches: the producer's codec, records intact.
			var stored []rec
			for p := range int32(parts) {
				for _, sb := range b.readBatches(t, topic, p) {
					if got := sb.codec(); got != codecIDs[prod.codec] {
						hint := ""
						if prod.librdkafka && got == 0 {
							hint = librdkafkaHint
						}
						t.Fatalf("p%d batch at offset %d: codec bits %d, want %d (%s)%s", p, sb.FirstOffset, got, codecIDs[prod.codec], prod.codec, hint)
					}
					if prod.idem && (sb.ProducerID < 0 || sb.FirstSequence < 0) {
						t.Errorf("p%d batch at offset %d: producer ID %d sequence %d from an idempotent producer", p, sb.FirstOffset, sb.ProducerID, sb.FirstSequence)
					}
					if prod.xerial && !bytes.HasPrefix(sb.Records, xerialMagic) {
						t.Errorf("p%d batch at offset %d: snappy data starts % x, not the xerial magic", p, sb.FirstOffset, sb.Records[:min(8, len(sb.Records))])
					}
					for i, r := range sb.records {
						g := rec{Partition: p, Offset: sb.FirstOffset + int64(r.OffsetDelta)}
						if int(r.OffsetDelta) != i {
							t.Errorf("p%d batch at offset %d: record %d has offset delta %d", p, sb.FirstOffset, i, r.OffsetDelta)
						}
						if r.Key != nil {
							g.Key = strp(string(r.Key))
						}
						if r.Value != nil {
							g.Value = strp(string(r.Value))
						}
						for _, h := range r.Headers {
							g.Headers = append(g.Headers, [2]string{h.Key, string(h.Value)})
						}
						stored = append(stored, g)
					}
				}
			}
			compareRecs(t, "stored batches of "+prod.name+" "+prod.codec, stored, want)
			if t.Failed() {
				t.FailNow()
			}

			got := cons.consume(t, b, topic, parts, n)
			compareRecs(t, cons.name+" consuming what "+prod.name+" produced with "+prod.codec, got, want)
		})
	}
}

// ---- bad compressed input

// bombZstdRLE is a zstd frame of size zero-bytes made of RLE blocks: 4
// bytes per 128 KiB, so 1 GiB fits in 32 KiB.
func bombZstdRLE(size int) []byte {
	const block = 128 << 10
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, // magic
		0x00,   // frame header descriptor: no content size, not single segment, no checksum
		7 << 3} // window descriptor: 2^(10+7) = 128 KiB
	for left := size; left > 0; left -= block {
		n := min(left, block)
		h := uint32(n)<<3 | 1<<1 // block size, type RLE
		if left <= block {
			h |= 1 // last block
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return out
}

// bombRepeated is count concatenated gzip members or lz4 frames, each
// unit zero-bytes compressed: both formats allow concatenation, and
// repeating one small member inflates far past what one member could.
func bombRepeated(t testing.TB, codec string, unit, count int) []byte {
	one := compressAs(t, codec, make([]byte, unit))
	return bytes.Repeat(one, count)
}

// TestCompressionBadInput sends compressed batches that no good producer
// sends, each with a correct CRC over what it carries: garbage and
// truncated compressed data (CORRUPT_MESSAGE), a header count that the
// compressed records do not match (INVALID_RECORD), and decompression
// bombs (RECORD_LIST_TOO_LARGE). After each the broker still produces and
// consumes with nothing of the bad batch appended, and after all the bombs
// its resident memory has grown by far less than what they inflate to.
func TestCompressionBadInput(t *testing.T) {
	b := startBroker(t)
	const topic = "badcompress"
	b.newTopic(t, topic, 1, nil)
	health := &healthCheck{b: b, topic: topic}
	health.check(t, "start")
	conn := b.dial(t)

	valid := func(codec string) []byte {
		return batch{records: simpleRecords(8, "valid-"+codec), codec: codec}.encode(t)
	}
	recordsOf := func(enc []byte) []byte { return enc[61:] }

	type badCase struct {
		name    string
		codec   string // codec bits of the batch
		payload []byte // records section as sent
		claim   int32
		want    *kerr.Error
	}
	var cases []badCase
	for _, codec := range append(compressedCodecs, "snappy-xerial") {
		good := recordsOf(valid(codec))
		cases = append(cases,
			badCase{name: codec + "/garbage", codec: codec, payload: []byte("\x01\x02this is not compressed data at all, just bytes \xff\xfe\xfd"), want: kerr.CorruptMessage},
			badCase{name: codec + "/truncated", codec: codec, payload: good[:len(good)/2], want: kerr.CorruptMessage},
		)
		// Formats with a checksum of the content also catch bytes changed
		// in the middle; snappy has none, so changed bytes may decode.
		if codec == "gzip" || codec == "lz4" || codec == "zstd" {
			flipped := bytes.Clone(good)
			for i := len(flipped) / 3; i < len(flipped)*2/3; i++ {
				flipped[i] ^= 0x5a
			}
			cases = append(cases, badCase{name: codec + "/mangled", codec: codec, payload: flipped, want: kerr.CorruptMessage})
		}
	}
	// The header says 5 records (lastOffsetDelta 4), the compressed records
	// are 3; and the other way round.
	for _, codec := range append([]string{"none"}, compressedCodecs...) {
		cases = append(cases,
			badCase{name: codec + "/count5_has3", codec: codec, payload: recordsOf(batch{records: simpleRecords(3, "c3"), codec: codec}.encode(t)), claim: 5, want: kerr.InvalidRecord},
			badCase{name: codec + "/count3_has5", codec: codec, payload: recordsOf(batch{records: simpleRecords(5, "c5"), codec: codec}.encode(t)), claim: 3, want: kerr.InvalidRecord},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := batch{records: simpleRecords(max(int(c.claim), 1), "bad"), codec: c.codec, payload: c.payload, claim: c.claim}.encode(t)
			code, _ := conn.produceCode(t, 9, topic, 0, enc)
			if code != c.want.Code {
				t.Fatalf("produce: %v, want %v", kerr.ErrorForCode(code), c.want)
			}
			health.check(t, c.name)
		})
	}

	t.Run("bombs", func(t *testing.T) {
		const gib = 1 << 30
		bombs := []struct {
			name     string
			codec    string
			payload  []byte
			inflated int
		}{
			{"zstd_1GiB_rle", "zstd", bombZstdRLE(gib), gib},
			{"zstd_4GiB_rle", "zstd", bombZstdRLE(4 * gib), 4 * gib},
			{"gzip_512MiB_members", "gzip", bombRepeated(t, "gzip", 1<<20, 512), 512 << 20},
			{"lz4_128MiB_frames", "lz4", bombRepeated(t, "lz4", 4<<20, 32), 128 << 20},
			// A raw snappy block whose header declares 1 GiB.
			{"snappy_declares_1GiB", "snappy", append(binary.AppendUvarint(nil, gib), 0), gib},
			// The same in a xerial chunk, after 16 chunks of 1 MiB of zeros:
			// snappy's ratio (about 21:1) allows no bigger honest bomb.
			{"snappy_xerial_declares_1GiB", "snappy", xerialRepeat(append(bytes.Repeat(xerialChunk(snappy.Encode(nil, make([]byte, 1<<20))), 16), xerialChunk(append(binary.AppendUvarint(nil, gib), 0))...)), gib},
		}
		for _, bomb := range bombs {
			if len(bomb.payload) > 900<<10 {
				t.Fatalf("%s: %d bytes, more than fits a default max.message.bytes", bomb.name, len(bomb.payload))
			}
		}
		rssBefore := b.metric(t, "process_resident_memory_bytes")
		for round := range 2 {
			for _, bomb := range bombs {
				enc := batch{records: simpleRecords(1, "bomb"), codec: bomb.codec, payload: bomb.payload}.encode(t)
				start := time.Now()
				code, _ := conn.produceCode(t, 9, topic, 0, enc)
				if code != kerr.RecordListTooLarge.Code {
					t.Fatalf("%s (%d bytes inflating to %d MiB), round %d: %v, want %v", bomb.name, len(enc), bomb.inflated>>20, round, kerr.ErrorForCode(code), kerr.RecordListTooLarge)
				}
				t.Logf("%s: %d bytes, refused in %v", bomb.name, len(enc), time.Since(start).Round(time.Millisecond))
			}
		}
		rssAfter := b.metric(t, "process_resident_memory_bytes")
		grew := rssAfter - rssBefore
		t.Logf("resident memory %.0f MiB before the bombs, %.0f MiB after", rssBefore/(1<<20), rssAfter/(1<<20))
		// The broker stops inflating a batch at 64 MiB (32 x
		// max.message.bytes, at least 64 MiB). Allow for that buffer, the
		// copies made while it grows and garbage the Go runtime has not
		// returned yet (up to about four times the limit after a burst):
		// nothing that grows with the bombs' sizes, the largest of which
		// inflates to 4 GiB.
		if grew > 384<<20 {
			t.Fatalf("resident memory grew by %.0f MiB over the bombs (they inflate to 128 MiB - 4 GiB each)", grew/(1<<20))
		}
		health.check(t, "bombs")
	})
}

// xerialChunk is one raw snappy block as a xerial chunk: length, block.
func xerialChunk(block []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(block))), block...)
}

// xerialRepeat prefixes xerial chunks with the xerial header.
func xerialRepeat(chunks []byte) []byte {
	return append(append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1), chunks...)
}

// ---- zstd and protocol versions

// TestCompressionZstdVersions checks KIP-110's gates: zstd batches need
// Produce v7 (v3-v6 get UNSUPPORTED_COMPRESSION_TYPE and nothing is
// written), and a Fetch below v10 whose data holds a zstd batch gets
// UNSUPPORTED_COMPRESSION_TYPE for that partition only, while v10+
// returns the batch as stored.
func TestCompressionZstdVersions(t *testing.T) {
	b := startBroker(t)
	const topic = "zstdversions"
	b.newTopic(t, topic, 2, nil)
	conn := b.dial(t)
	zrecs := simpleRecords(4, "zstd")
	zb := batch{records: zrecs, codec: "zstd"}.encode(t)
	for v := int16(3); v <= 6; v++ {
		code, _ := conn.produceCode(t, v, topic, 0, zb)
		if code != kerr.UnsupportedCompressionType.Code {
			t.Fatalf("zstd batch with Produce v%d: %v, want %v", v, kerr.ErrorForCode(code), kerr.UnsupportedCompressionType)
		}
		// Other codecs are fine at the same version.
		if code, _ := conn.produceCode(t, v, topic, 1, batch{records: simpleRecords(1, fmt.Sprintf("gz%d", v)), codec: "gzip"}.encode(t)); code != 0 {
			t.Fatalf("gzip batch with Produce v%d: %v", v, kerr.ErrorForCode(code))
		}
	}
	for v := int16(7); v <= 9; v++ {
		code, off := conn.produceCode(t, v, topic, 0, zb)
		if code != 0 || off != int64(v-7)*4 {
			t.Fatalf("zstd batch with Produce v%d: %v at offset %d, want offset %d", v, kerr.ErrorForCode(code), off, (v-7)*4)
		}
	}

	for v := int16(4); v <= 12; v++ {
		req := fetchRequest(v, topic, 0, 0, 1<<20, fetchPart{0, 0, 1 << 20}, fetchPart{1, 0, 1 << 20})
		resp := fetchOne(t, conn, req)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 {
			t.Fatalf("fetch v%d: %d topics", v, len(resp.Topics))
		}
		for _, p := range resp.Topics[0].Partitions {
			switch {
			case p.Partition == 1: // gzip only: served at every version
				if p.ErrorCode != 0 || len(parseBatches(t, p.RecordBatches)) != 4 {
					t.Fatalf("fetch v%d of the gzip partition: %v, %d bytes", v, kerr.ErrorForCode(p.ErrorCode), len(p.RecordBatches))
				}
			case v < 10:
				if p.ErrorCode != kerr.UnsupportedCompressionType.Code || len(p.RecordBatches) != 0 {
					t.Fatalf("fetch v%d of the zstd partition: %v with %d bytes, want %v and none", v, kerr.ErrorForCode(p.ErrorCode), len(p.RecordBatches), kerr.UnsupportedCompressionType)
				}
			default:
				if p.ErrorCode != 0 {
					t.Fatalf("fetch v%d of the zstd partition: %v", v, kerr.ErrorForCode(p.ErrorCode))
				}
				bs := parseBatches(t, p.RecordBatches)
				if len(bs) != 3 {
					t.Fatalf("fetch v%d: %d batches, want 3", v, len(bs))
				}
				for i, sb := range bs {
					if sb.codec() != 4 || sb.FirstOffset != int64(4*i) || len(sb.records) != 4 {
						t.Fatalf("fetch v%d batch %d: codec %d offset %d, %d records", v, i, sb.codec(), sb.FirstOffset, len(sb.records))
					}
					for j, r := range sb.records {
						if !bytes.Equal(r.Key, zrecs[j].Key) || !bytes.Equal(r.Value, zrecs[j].Value) {
							t.Fatalf("fetch v%d batch %d record %d: %q=%q, want %q=%q", v, i, j, r.Key, r.Value, zrecs[j].Key, zrecs[j].Value)
						}
					}
				}
			}
		}
	}
}

// ---- compression.type on the topic

// dumpLogCodecs runs samsa dump-log on a partition's first segment and
// returns each batch's compresscodec and producerId, in order.
func (b *broker) dumpLogCodecs(t testing.TB, topic string, partition int32) (codecs []string, pids []int64) {
	t.Helper()
	seg := filepath.Join(b.dir, fmt.Sprintf("%s-%d", topic, partition), "00000000000000000000.log")
	out := runCmd(t, nil, samsaBin, "dump-log", seg)
	re := regexp.MustCompile(`producerId: (-?\d+) .* compresscodec: (\S+)`)
	for line := range strings.Lines(string(out)) {
		if !strings.HasPrefix(line, "baseOffset:") {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("dump-log line without producerId and compresscodec: %q", line)
		}
		pid, _ := strconv.ParseInt(m[1], 10, 64)
		codecs, pids = append(codecs, m[2]), append(pids, pid)
	}
	if len(codecs) == 0 {
		t.Fatalf("dump-log %s printed no batches:\n%s", seg, out)
	}
	return codecs, pids
}

// TestCompressionTopicConfig sets compression.type on topics: batches
// arriving with another codec are stored recompressed (seen offline with
// samsa dump-log on the segment file), keeping the idempotent producer's
// ID, and consumers of other clients read the records as produced.
func TestCompressionTopicConfig(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics)
	cases := []struct {
		topicCodec, producerCodec string
		stored                    string // dump-log's name of the stored codec
		consumer                  string
	}{
		{"zstd", "gzip", "zstd", "kcat"},
		{"uncompressed", "gzip", "none", "sarama"},
		{"lz4", "zstd", "lz4", "kafka-python"},
		{"gzip", "none", "gzip", "confluent"},
	}
	for _, c := range cases {
		t.Run(c.topicCodec+"_from_"+c.producerCodec, func(t *testing.T) {
			t.Parallel()
			topic := "stored." + c.topicCodec + "." + c.producerCodec
			b.newTopic(t, topic, 1, map[string]*string{"compression.type": strp(c.topicCodec)})
			want := compressibleRecords("producer-"+c.producerCodec, 20, 1)
			// franz-go's idempotent producer with the producer's codec.
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
				kgo.ProducerBatchCompression(kgoCodecs[c.producerCodec]), kgo.ProducerLinger(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			kgoProduceWith(t, cl, topic, want)

			codecs, pids := b.dumpLogCodecs(t, topic, 0)
			for i, codec := range codecs {
				if codec != c.stored {
					t.Errorf("dump-log batch %d: compresscodec %s, want %s", i, codec, c.stored)
				}
				if pids[i] < 0 {
					t.Errorf("dump-log batch %d: producerId %d, want the idempotent producer's", i, pids[i])
				}
			}
			var stored []rec
			for _, sb := range b.readBatches(t, topic, 0) {
				if sb.codec() != codecIDs[c.topicCodec] {
					t.Errorf("fetched batch at %d: codec bits %d, want %d", sb.FirstOffset, sb.codec(), codecIDs[c.topicCodec])
				}
				for _, r := range sb.records {
					stored = append(stored, rec{Offset: sb.FirstOffset + int64(r.OffsetDelta), Key: strp(string(r.Key)), Value: strp(string(r.Value)), Headers: headerPairs(r.Headers)})
				}
			}
			compareRecs(t, "fetched batches", stored, want)
			got := clients[c.consumer].consume(t, b, topic, 1, len(want))
			compareRecs(t, c.consumer+" consuming", got, want)
		})
	}
}

func headerPairs(hs []kmsg.Header) [][2]string {
	var out [][2]string
	for _, h := range hs {
		out = append(out, [2]string{h.Key, string(h.Value)})
	}
	return out
}

// ---- samsa produce and samsa bench produce

// TestCompressionCLI runs samsa produce --compression and samsa bench
// produce --compression with every codec against the real broker: every
// batch stored carries the codec, and the records read back are those
// sent.
func TestCompressionCLI(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics)
	for _, codec := range append([]string{"none"}, compressedCodecs...) {
		t.Run(codec, func(t *testing.T) {
			t.Parallel()
			topic := "cli.produce." + codec
			b.newTopic(t, topic, 1, nil)
			var in strings.Builder
			var want []string
			for i := range 50 {
				v := fmt.Sprintf("line %02d with %s %s", i, codec, strings.Repeat("padding ", 10))
				want = append(want, v)
				fmt.Fprintf(&in, "k%02d:%s\n", i, v)
			}
			b.samsa(t, in.String(), "produce", topic, "-p", "0", "-k", ":", "--compression", codec, "--linger", "50ms")
			checkStored(t, b, topic, codec, func(i int, r kmsg.Record) string {
				if i >= len(want) {
					return fmt.Sprintf("record %d more than the %d lines", i, len(want))
				}
				if string(r.Key) != fmt.Sprintf("k%02d", i) || string(r.Value) != want[i] {
					return fmt.Sprintf("record %d %q=%q, want k%02d=%q", i, r.Key, r.Value, i, want[i])
				}
				return ""
			}, len(want))

			bt := "cli.bench." + codec
			const records = 3000
			out := b.samsa(t, "", "bench", "produce", "--topic", bt, "--records", strconv.Itoa(records),
				"--record-size", "200", "--partitions", "1", "--compression", codec, "--json")
			var res struct {
				Records int64 `json:"records"`
				Failed  int64 `json:"failed"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("bench produce --json printed %q: %v", out, err)
			}
			if res.Records != records || res.Failed != 0 {
				t.Fatalf("bench produce: %d records, %d failed; want %d, 0", res.Records, res.Failed, records)
			}
			var first []byte
			checkStored(t, b, bt, codec, func(i int, r kmsg.Record) string {
				if len(r.Value) != 200 {
					return fmt.Sprintf("record %d of %d bytes, want 200", i, len(r.Value))
				}
				if first == nil {
					first = r.Value
				} else if !bytes.Equal(r.Value, first) {
					return fmt.Sprintf("record %d differs from record 0 (bench sends one payload)", i)
				}
				return ""
			}, records)
		})
	}
}

// checkStored reads a one-partition topic's batches raw: every batch has
// the codec, and check (returning "" or a complaint) accepts each record
// in offset order; there are n records.
func checkStored(t testing.TB, b *broker, topic, codec string, check func(i int, r kmsg.Record) string, n int) {
	t.Helper()
	i := 0
	batches := b.readBatches(t, topic, 0)
	for _, sb := range batches {
		if sb.codec() != codecIDs[codec] {
			t.Fatalf("%s: batch at offset %d has codec bits %d, want %d (%s)", topic, sb.FirstOffset, sb.codec(), codecIDs[codec], codec)
		}
		for _, r := range sb.records {
			if msg := check(i, r); msg != "" {
				t.Fatalf("%s: %s", topic, msg)
			}
			i++
		}
	}
	if i != n {
		t.Fatalf("%s: %d records in %d batches, want %d", topic, i, len(batches), n)
	}
}
