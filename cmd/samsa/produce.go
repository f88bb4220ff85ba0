package main

// samsa produce: one record per input line, like kafka-console-producer and
// rpk topic produce.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultIdempotent is the default of --idempotent: on, as in franz-go and
// the Java client. With --acks 1 or 0 it turns itself off unless asked for
// explicitly (idempotence needs acks=all).
const defaultIdempotent = true

const defaultBatchMaxBytes = 1000012

// stopGrace is how long a command stopped by a signal, or giving up on the
// brokers, still waits for the acknowledgements of records already sent.
const stopGrace = time.Second

// producerFlags are the producer settings shared by produce and bench
// produce.
type producerFlags struct {
	acks          string
	compression   string
	linger        time.Duration
	batchMaxBytes int
	idempotent    bool
	fs            *pflag.FlagSet
}

func (p *producerFlags) register(fs *pflag.FlagSet) {
	p.fs = fs
	fs.StringVarP(&p.acks, "acks", "a", "all", "acknowledgement to wait for: `ACKS` is all, 1 or 0")
	fs.StringVarP(&p.compression, "compression", "z", "none", "batch compression: `CODEC` is none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&p.linger, "linger", 10*time.Millisecond, "how long a batch may wait for more records")
	fs.IntVar(&p.batchMaxBytes, "batch-max-bytes", defaultBatchMaxBytes, "largest record batch before compression, in `bytes`")
	fs.BoolVar(&p.idempotent, "idempotent", defaultIdempotent, "idempotent writes (on by default with --acks all; --idempotent=false turns them off)")
	// -a means --all-configs elsewhere; kept working here, out of the help.
	fs.MarkShorthandDeprecated("acks", "use --acks")
}

// opts validates the flags and returns them as kgo options, with --timeout
// on the delivery of each record and on each produce request.
func (p *producerFlags) opts(timeout time.Duration) ([]kgo.Opt, error) {
	acks, err := parseAcks(p.acks)
	if err != nil {
		return nil, err
	}
	codec, err := parseCompression(p.compression)
	if err != nil {
		return nil, err
	}
	if p.linger < 0 || p.linger > time.Minute {
		return nil, usageErrorf("--linger %v: want 0 to 1m", p.linger)
	}
	if p.batchMaxBytes < 512 || p.batchMaxBytes > 100<<20 {
		return nil, usageErrorf("--batch-max-bytes %d: want 512 to %d", p.batchMaxBytes, 100<<20)
	}
	opts := []kgo.Opt{
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(p.linger),
		kgo.ProducerBatchMaxBytes(int32(p.batchMaxBytes)),
		// A record's delivery may take --timeout, plus the linger it
		// spends waiting for its batch (kgo times a batch from its first
		// record).
		kgo.RecordDeliveryTimeout(timeout + p.linger),
		kgo.ProduceRequestTimeout(timeout),
	}
	allAcks := p.acks == "all" || p.acks == "-1"
	explicit := p.fs != nil && p.fs.Changed("idempotent")
	if p.idempotent && !allAcks && explicit {
		return nil, usageErrorf("--idempotent needs --acks all")
	}
	if !p.idempotent || !allAcks {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	return opts, nil
}

// randomPartitioner picks a partition uniformly at random for every record.
type randomPartitioner struct{}

func (randomPartitioner) ForTopic(string) kgo.TopicPartitioner { return randomPartitioner{} }

func (randomPartitioner) RequiresConsistency(*kgo.Record) bool { return false }

func (randomPartitioner) Partition(_ *kgo.Record, n int) int { return rand.IntN(n) }

func parsePartitioner(name string) (kgo.Partitioner, error) {
	switch name {
	case "hash":
		// nil hasher: murmur2, high bit masked, modulo the partition
		// count; exactly the Java client's placement of keyed records.
		return kgo.StickyKeyPartitioner(nil), nil
	case "round-robin":
		return kgo.RoundRobinPartitioner(), nil
	case "sticky":
		return kgo.StickyPartitioner(), nil
	case "random":
		return randomPartitioner{}, nil
	case "manual":
		return kgo.ManualPartitioner(), nil
	}
	return nil, usageErrorf("--partitioner %q: want hash, round-robin, sticky, random or manual", name)
}

const produceLong = `Reads records from stdin (or --file), one per line, and produces them to
TOPIC; a topic that does not exist is created if the broker allows it
(auto.create.topics.enable), as kcat and the Java producer get. A trailing
"\r\n" or "\n" is not part of the record.

At the end, prints a summary to stderr: records delivered, and failed.
Exits 1 if any record was not delivered: each record has --timeout to be
acknowledged, and when the brokers stop answering for --timeout the
command gives up, counting what is unacknowledged as failed. SIGINT (Ctrl-C)
or SIGTERM stops reading, waits up to a second for records already sent,
prints the summary and exits 130 (143 for SIGTERM).

--partitioner says how records are spread over partitions:
  hash         murmur2 of the key, as the Java client does; records without
               a key stick to a partition per batch (default)
  round-robin  one partition after the other
  sticky       one partition per batch, ignoring keys
  random       a partition at random per record
  manual       the partition given by -p/--partition (-p alone implies it)`

func produceCmd(cf *clientFlags) *cobra.Command {
	var (
		pf          producerFlags
		file        string
		keySep      string
		headers     []string
		partition   int
		partitioner string
		maxMsg      int
		verbose     bool
	)
	c := &cobra.Command{
		Use:   "produce TOPIC [flags]",
		Short: "Produce lines from stdin as records",
		Long:  produceLong,
		Example: `  samsa produce events --key-separator : <<< 'user1:clicked'
  seq 1 1000 | samsa produce events -p 0 --acks 1`,
		Args:              exactArgs(1, "exactly one TOPIC"),
		ValidArgsFunction: cf.completeTopic,
		RunE: cf.runE(func(s *session, args []string) error {
			topic := args[0]
			flags := s.cmdFlags
			if maxMsg > pf.batchMaxBytes && !flags.Changed("batch-max-bytes") {
				// Room for one record of the largest size and its framing.
				pf.batchMaxBytes = min(maxMsg+4096, 100<<20)
			}
			opts, err := pf.opts(s.cf.timeout)
			if err != nil {
				return err
			}
			partSet := flags.Changed("partition")
			if partSet && !flags.Changed("partitioner") {
				partitioner = "manual"
			}
			switch {
			case partitioner == "manual" && (!partSet || partition < 0):
				return usageErrorf("--partitioner manual needs --partition N")
			case partitioner != "manual" && partSet:
				return usageErrorf("--partition needs --partitioner manual")
			}
			p, err := parsePartitioner(partitioner)
			if err != nil {
				return err
			}
			if maxMsg < 1 || maxMsg > 1<<30 {
				return usageErrorf("--max-message-bytes %d: want 1 to %d", maxMsg, 1<<30)
			}
			var hdrs []kgo.RecordHeader
			for _, h := range headers {
				k, v, err := splitKV("--header", h)
				if err != nil {
					return err
				}
				hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			in := io.Reader(os.Stdin)
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			cl, err := s.newClient(append(opts,
				kgo.DefaultProduceTopic(topic),
				kgo.RecordPartitioner(p),
				kgo.AllowAutoTopicCreation(),
			)...)
			if err != nil {
				return err
			}
			pr := &lineProducer{
				s: s, cl: cl, topic: topic, in: in, keySep: keySep, headers: hdrs,
				partition: int32(partition), manual: partSet, maxMsg: maxMsg,
				verbose: verbose, noOffsets: pf.acks == "0",
			}
			return pr.run()
		}),
	}
	pf.register(c.Flags())
	cf.addTo(c.Flags())
	c.Flags().StringVarP(&file, "file", "f", "-", "read lines from `F` instead of stdin (\"-\" is stdin)")
	c.Flags().StringVarP(&keySep, "key-separator", "k", "", "split each line at the first `S` into key and value; a line without S becomes a record without a key")
	c.Flags().StringArrayVarP(&headers, "header", "H", nil, "add the header `k=v` to every record (repeatable)")
	c.Flags().IntVarP(&partition, "partition", "p", -1, "produce every record to partition `P` (implies --partitioner manual)")
	c.Flags().StringVar(&partitioner, "partitioner", "hash", "how records are spread over partitions: `P` is hash, round-robin, sticky, random or manual")
	c.Flags().IntVar(&maxMsg, "max-message-bytes", defaultBatchMaxBytes, "longest line accepted, in `bytes`; a longer line stops the producer with an error")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "print partition@offset of each record to stdout (offset -1 with --acks 0)")
	return c
}

// lineProducer is one run of samsa produce.
type lineProducer struct {
	s         *session
	cl        *kgo.Client
	topic     string
	in        io.Reader
	keySep    string
	headers   []kgo.RecordHeader
	partition int32
	manual    bool
	maxMsg    int
	verbose   bool
	noOffsets bool // --acks 0: no offsets come back

	prog progress

	mu       sync.Mutex // guards what follows, written by promises
	out      *bufio.Writer
	ok, bad  int64
	firstErr error
}

func (p *lineProducer) promise(r *kgo.Record, err error) {
	p.mu.Lock()
	if err != nil {
		p.bad++
		if p.firstErr == nil {
			p.firstErr = err
		}
	} else {
		p.ok++
		if p.verbose {
			off := r.Offset
			if p.noOffsets {
				off = -1 // unknown without a response, as the Java client reports
			}
			fmt.Fprintf(p.out, "%d@%d\n", r.Partition, off)
		}
	}
	p.mu.Unlock()
	p.prog.acked()
}

// read produces each line of the input; it returns at the end of the
// input, on a line too long, or when the session ends.
func (p *lineProducer) read() error {
	ctx := p.s.ctx
	sc := bufio.NewScanner(p.in)
	// +2 leaves room for the line's "\r\n".
	sc.Buffer(make([]byte, 0, min(64<<10, p.maxMsg+2)), p.maxMsg+2)
	line := 0
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line++
		b := sc.Bytes()
		if len(b) > p.maxMsg {
			return fmt.Errorf("line %d: %d bytes, longer than --max-message-bytes %d", line, len(b), p.maxMsg)
		}
		r := &kgo.Record{Value: append([]byte(nil), b...), Headers: p.headers}
		if p.keySep != "" {
			if k, v, found := strings.Cut(string(r.Value), p.keySep); found {
				r.Key, r.Value = []byte(k), []byte(v)
			}
		}
		if p.manual {
			r.Partition = p.partition
		}
		p.prog.sending()
		// The session's context: a signal or the watchdog unblocks a
		// Produce waiting for buffer space, and fails what is buffered.
		p.cl.Produce(ctx, r, p.promise)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than --max-message-bytes %d", line+1, p.maxMsg)
		}
		return err
	}
	return nil
}

func (p *lineProducer) run() error {
	s := p.s
	p.out = bufio.NewWriter(os.Stdout)
	go s.watchConnections(0)
	go s.watchProgress(&p.prog)

	start := time.Now()
	readDone := make(chan error, 1)
	go func() { readDone <- p.read() }()
	var err error
	select {
	case err = <-readDone:
	case <-s.ctx.Done():
		// A reader blocked on stdin is left behind: the process exits.
	}
	// Deliver what was read, even when reading stopped at a bad line;
	// after a signal or giving up, wait a moment for what is in flight.
	if s.ctx.Err() == nil {
		if ferr := p.cl.Flush(s.ctx); ferr != nil && err == nil && s.ctx.Err() == nil {
			err = ferr
		}
	}
	stopped := s.ctx.Err() != nil
	if stopped {
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		p.cl.Flush(ctx)
		cancel()
	}
	elapsed := time.Since(start)

	p.mu.Lock()
	if ferr := p.out.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	ok, firstErr := p.ok, p.firstErr
	p.mu.Unlock()
	// Records sent and not acknowledged by now count as failed.
	sent := p.prog.sent.Load()
	failed := sent - ok
	fmt.Fprintf(os.Stderr, "produced %d records to %s in %v", ok, p.topic, elapsed.Round(time.Millisecond))
	if failed > 0 {
		if cause := context.Cause(s.ctx); stopped && cause != nil {
			firstErr = cause
		}
		if firstErr == nil {
			firstErr = errors.New("not acknowledged")
		}
		fmt.Fprintf(os.Stderr, ", %d failed; first error: %v", failed, s.explain(firstErr))
	}
	fmt.Fprintln(os.Stderr)
	s.closeClient(p.cl)
	if stopped {
		return context.Cause(s.ctx)
	}
	switch {
	case err != nil:
		return err
	case failed > 0:
		return fmt.Errorf("%d of %d records not delivered", failed, sent)
	}
	return nil
}
