package produce

// Producing the lines of the input, and the summary.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

// lineProducer is one run of samsa produce.
type lineProducer struct {
	s         *command.Session
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

	prog command.Progress

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
	p.prog.Acked()
}

// read produces each line of the input; it returns at the end of the
// input, on a line too long, or when the session ends.
func (p *lineProducer) read() error {
	ctx := p.s.Context()
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
		p.prog.Sending()
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
	p.out = bufio.NewWriter(s.Out())
	go s.WatchConnections(0)
	go s.WatchProgress(&p.prog)

	start := time.Now()
	readDone := make(chan error, 1)
	go func() { readDone <- p.read() }()
	var err error
	select {
	case err = <-readDone:
	case <-s.Context().Done():
		// A reader blocked on stdin is left behind: the process exits.
	}
	// Deliver what was read, even when reading stopped at a bad line;
	// after a signal or giving up, wait a moment for what is in flight.
	if s.Context().Err() == nil {
		if ferr := p.cl.Flush(s.Context()); ferr != nil && err == nil && s.Context().Err() == nil {
			err = ferr
		}
	}
	stopped := s.Context().Err() != nil
	if stopped {
		ctx, cancel := context.WithTimeout(context.Background(), command.StopGrace)
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
	sent := p.prog.Sent()
	failed := sent - ok
	fmt.Fprintf(s.Err(), "produced %d records to %s in %v", ok, p.topic, elapsed.Round(time.Millisecond))
	if failed > 0 {
		if cause := context.Cause(s.Context()); stopped && cause != nil {
			firstErr = cause
		}
		if firstErr == nil {
			firstErr = errors.New("not acknowledged")
		}
		fmt.Fprintf(s.Err(), ", %d failed; first error: %v", failed, s.Explain(firstErr))
	}
	fmt.Fprintln(s.Err())
	s.CloseClient(p.cl)
	if stopped {
		return context.Cause(s.Context())
	}
	switch {
	case err != nil:
		return err
	case failed > 0:
		return fmt.Errorf("%d of %d records not delivered", failed, sent)
	}
	return nil
}
