package command

// The producer settings that produce and bench produce share.

import (
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultIdempotent is the default of --idempotent: on, as in franz-go and
// the Java client. With --acks 1 or 0 it turns itself off unless asked for
// explicitly (idempotence needs acks=all).
const defaultIdempotent = true

// DefaultBatchMaxBytes is the default of --batch-max-bytes: Kafka's
// default message.max.bytes.
const DefaultBatchMaxBytes = 1000012

// StopGrace is how long a command stopped by a signal, or giving up on the
// brokers, still waits for the acknowledgements of records already sent.
const StopGrace = time.Second

// ProducerFlags are the producer settings shared by produce and bench
// produce.
type ProducerFlags struct {
	Acks          string // all, -1, 1 or 0
	compression   string
	linger        time.Duration
	BatchMaxBytes int // a command may raise it for large records unless given
	idempotent    bool
	fs            *pflag.FlagSet
}

// Register adds the producer flags to fs.
func (p *ProducerFlags) Register(fs *pflag.FlagSet) {
	p.fs = fs
	fs.StringVarP(&p.Acks, "acks", "a", "all", "acknowledgement to wait for: `ACKS` is all, 1 or 0")
	fs.StringVarP(&p.compression, "compression", "z", "none", "batch compression: `CODEC` is none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&p.linger, "linger", 10*time.Millisecond, "how long a batch may wait for more records")
	fs.IntVar(&p.BatchMaxBytes, "batch-max-bytes", DefaultBatchMaxBytes, "largest record batch before compression, in `bytes`")
	fs.BoolVar(&p.idempotent, "idempotent", defaultIdempotent, "idempotent writes (on by default with --acks all; --idempotent=false turns them off)")
	// -a means --all-configs elsewhere; kept working here, out of the help.
	fs.MarkShorthandDeprecated("acks", "use --acks")
}

// Opts validates the flags and returns them as kgo options, with --timeout
// on the delivery of each record and on each produce request.
func (p *ProducerFlags) Opts(timeout time.Duration) ([]kgo.Opt, error) {
	acks, err := parseAcks(p.Acks)
	if err != nil {
		return nil, err
	}
	codec, err := parseCompression(p.compression)
	if err != nil {
		return nil, err
	}
	if p.linger < 0 || p.linger > time.Minute {
		return nil, UsageErrorf("--linger %v: want 0 to 1m", p.linger)
	}
	if p.BatchMaxBytes < 512 || p.BatchMaxBytes > 100<<20 {
		return nil, UsageErrorf("--batch-max-bytes %d: want 512 to %d", p.BatchMaxBytes, 100<<20)
	}
	opts := []kgo.Opt{
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(p.linger),
		kgo.ProducerBatchMaxBytes(int32(p.BatchMaxBytes)),
		// A record's delivery may take --timeout, plus the linger it
		// spends waiting for its batch (kgo times a batch from its first
		// record).
		kgo.RecordDeliveryTimeout(timeout + p.linger),
		kgo.ProduceRequestTimeout(timeout),
	}
	allAcks := p.Acks == "all" || p.Acks == "-1"
	explicit := p.fs != nil && p.fs.Changed("idempotent")
	if p.idempotent && !allAcks && explicit {
		return nil, UsageErrorf("--idempotent needs --acks all")
	}
	if !p.idempotent || !allAcks {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	return opts, nil
}

// Idempotent reports --idempotent.
func (p *ProducerFlags) Idempotent() bool { return p.idempotent }

// parseAcks maps the --acks flag to kgo's acks.
func parseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, UsageErrorf("--acks %q: want all, 1 or 0", s)
}

// parseCompression maps the --compression flag to a kgo codec.
func parseCompression(s string) (kgo.CompressionCodec, error) {
	switch s {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, UsageErrorf("--compression %q: want none, gzip, snappy, lz4 or zstd", s)
}
