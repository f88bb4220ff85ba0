package main

// samsa produce: one record per input line, like kafka-console-producer and
// rpk topic produce.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultIdempotent is the default of --idempotent: on, as in franz-go and
// the Java client. With --acks 1 or 0 it turns itself off unless asked for
// explicitly (idempotence needs acks=all).
const defaultIdempotent = true

// setBool is a boolean flag that remembers whether it was given.
type setBool struct{ v, set bool }

func (b *setBool) String() string   { return strconv.FormatBool(b.v) }
func (b *setBool) IsBoolFlag() bool { return true }
func (b *setBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	b.v, b.set = v, true
	return err
}

const produceUsage = `usage: samsa produce TOPIC [flags]

Reads records from stdin (or --file), one per line, and produces them to
TOPIC. A trailing "\r\n" or "\n" is not part of the record. At the end
prints a summary to stderr; exits 1 if any record was not delivered.

flags:
  -f, --file F               read lines from F instead of stdin ("-" is stdin)
  -k, --key-separator S      split each line at the first S into key and value;
                             a line without S becomes a record without a key
  -H, --header k=v           add the header k=v to every record (repeatable)
  -p, --partition N          produce every record to partition N (implies
                             --partitioner manual)
      --partitioner P        how records are spread over partitions:
                               hash         murmur2 of the key, as the Java
                                            client does; records without a key
                                            stick to a partition per batch
                                            (default)
                               round-robin  one partition after the other
                               sticky       one partition per batch, ignoring keys
                               random       a partition at random per record
                               manual       the partition given by --partition
      --max-message-bytes N  longest line accepted (default 1000012); a longer
                             line stops the producer with an error
  -v, --verbose              print partition@offset of each record to stdout
                             (offset -1 with --acks 0)
` + producerFlagsUsage

// producerFlags are the producer settings shared by produce and bench
// produce.
type producerFlags struct {
	acks          string
	compression   string
	linger        time.Duration
	batchMaxBytes int
	idempotent    setBool
}

const producerFlagsUsage = `
producer flags:
  -a, --acks all|1|0         acknowledgement to wait for (default all)
  -z, --compression C        none, gzip, snappy, lz4 or zstd (default none)
      --linger D             how long a batch may wait for more records
                             (default 10ms)
      --batch-max-bytes N    largest record batch, before compression
                             (default 1000012)
      --idempotent           idempotent writes (default on with --acks all; =false to turn off)
`

const defaultBatchMaxBytes = 1000012

func (p *producerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.acks, "a", "all", "")
	fs.StringVar(&p.acks, "acks", "all", "")
	fs.StringVar(&p.compression, "z", "none", "")
	fs.StringVar(&p.compression, "compression", "none", "")
	fs.DurationVar(&p.linger, "linger", 10*time.Millisecond, "")
	fs.IntVar(&p.batchMaxBytes, "batch-max-bytes", defaultBatchMaxBytes, "")
	p.idempotent.v = defaultIdempotent
	fs.Var(&p.idempotent, "idempotent", "")
}

// opts validates the flags and returns them as kgo options.
func (p *producerFlags) opts() ([]kgo.Opt, error) {
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
	}
	allAcks := p.acks == "all" || p.acks == "-1"
	if p.idempotent.v && !allAcks && p.idempotent.set {
		return nil, usageErrorf("--idempotent needs --acks all")
	}
	if !p.idempotent.v || !allAcks {
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

func produce(args []string) int {
	c := newCommand("produce", produceUsage)
	cf := c.withClient()
	var (
		pf          producerFlags
		file        string
		keySep      string
		headers     stringsFlag
		partition   int
		partitioner string
		maxMsg      int
		verbose     bool
	)
	pf.register(c.fs)
	c.fs.StringVar(&file, "f", "-", "")
	c.fs.StringVar(&file, "file", "-", "")
	c.fs.StringVar(&keySep, "k", "", "")
	c.fs.StringVar(&keySep, "key-separator", "", "")
	c.fs.Var(&headers, "H", "")
	c.fs.Var(&headers, "header", "")
	c.fs.IntVar(&partition, "p", -1, "")
	c.fs.IntVar(&partition, "partition", -1, "")
	c.fs.StringVar(&partitioner, "partitioner", "hash", "")
	c.fs.IntVar(&maxMsg, "max-message-bytes", defaultBatchMaxBytes, "")
	c.fs.BoolVar(&verbose, "v", false, "")
	c.fs.BoolVar(&verbose, "verbose", false, "")
	return c.run(args, func(pos []string) error {
		if len(pos) != 1 {
			return usageErrorf("want exactly one TOPIC, got %d arguments", len(pos))
		}
		topic := pos[0]
		if maxMsg > pf.batchMaxBytes && !isSet(c.fs, "batch-max-bytes") {
			// Room for one record of the largest size and its framing.
			pf.batchMaxBytes = min(maxMsg+4096, 100<<20)
		}
		opts, err := pf.opts()
		if err != nil {
			return err
		}
		partSet := isSet(c.fs, "p") || isSet(c.fs, "partition")
		if partSet && !isSet(c.fs, "partitioner") {
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

		opts = append(opts,
			kgo.DefaultProduceTopic(topic),
			kgo.RecordPartitioner(p),
			kgo.RecordDeliveryTimeout(cf.timeout),
		)
		cl, err := cf.newClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()

		var (
			mu       sync.Mutex
			out      = bufio.NewWriter(os.Stdout)
			ok, bad  int
			firstErr error
		)
		promise := func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			ok++
			if verbose {
				off := r.Offset
				if pf.acks == "0" {
					off = -1 // unknown without a response, as the Java client reports
				}
				fmt.Fprintf(out, "%d@%d\n", r.Partition, off)
			}
		}

		start := time.Now()
		sc := bufio.NewScanner(in)
		// +2 leaves room for the line's "\r\n".
		sc.Buffer(make([]byte, 0, min(64<<10, maxMsg+2)), maxMsg+2)
		line := 0
		for sc.Scan() {
			line++
			b := sc.Bytes()
			if len(b) > maxMsg {
				err = fmt.Errorf("line %d: %d bytes, longer than --max-message-bytes %d", line, len(b), maxMsg)
				break
			}
			r := &kgo.Record{Value: append([]byte(nil), b...), Headers: hdrs}
			if keySep != "" {
				if k, v, found := strings.Cut(string(r.Value), keySep); found {
					r.Key, r.Value = []byte(k), []byte(v)
				}
			}
			if partSet {
				r.Partition = int32(partition)
			}
			cl.Produce(context.Background(), r, promise)
		}
		if err == nil {
			err = sc.Err()
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("line %d: longer than --max-message-bytes %d", line+1, maxMsg)
			}
		}
		// Deliver what was read even when reading stopped early.
		if ferr := cl.Flush(context.Background()); ferr != nil && err == nil {
			err = ferr
		}
		elapsed := time.Since(start)

		mu.Lock()
		defer mu.Unlock()
		if ferr := out.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		fmt.Fprintf(os.Stderr, "produced %d records to %s in %v", ok, topic, elapsed.Round(time.Millisecond))
		if bad > 0 {
			fmt.Fprintf(os.Stderr, ", %d failed; first error: %v", bad, firstErr)
		}
		fmt.Fprintln(os.Stderr)
		switch {
		case err != nil:
			return err
		case bad > 0:
			return fmt.Errorf("%d of %d records not delivered", bad, ok+bad)
		}
		return nil
	})
}
