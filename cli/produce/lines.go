package produce

// Producing the lines of the input, and the summary.

import (
	"bufio"
	"cmp"
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
	// txn: --transactional-id, a transaction every txnEvery records (0:
	// one). txnMu guards the rest: the read goroutine ends transactions,
	// and so does run, which may stop while the reader still runs.
	txn             bool
	txnEvery        int64
	txnMu           sync.Mutex
	open            bool  // a transaction is open
	inTxn           int64 // records produced in the open transaction
	txnOK, txnBad   int64 // p.ok and p.bad when it began
	committed       int64 // records of committed transactions
	commits, aborts int
	txnErr          error // why the last transaction was aborted

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
		if p.txn && p.txnEvery > 0 {
			p.txnMu.Lock()
			var err error
			if p.inTxn++; p.inTxn >= p.txnEvery {
				if err = p.endTxn(ctx, true); err == nil {
					err = p.beginTxn()
				}
			}
			p.txnMu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than --max-message-bytes %d", line+1, p.maxMsg)
		}
		return err
	}
	return nil
}

// beginTxn opens the next transaction; txnMu is held.
func (p *lineProducer) beginTxn() error {
	p.mu.Lock()
	p.txnOK, p.txnBad, p.inTxn = p.ok, p.bad, 0
	p.mu.Unlock()
	if err := p.cl.BeginTransaction(); err != nil {
		return err
	}
	p.open = true
	return nil
}

// endTxn flushes the open transaction's records and commits it, or aborts
// it if one of them failed or commit is false; txnMu is held. A
// transaction that did not commit is an error: the command stops there.
func (p *lineProducer) endTxn(ctx context.Context, commit bool) error {
	if err := p.cl.Flush(ctx); err != nil {
		commit = false
	}
	p.mu.Lock()
	acked, failed := p.ok-p.txnOK, p.bad-p.txnBad
	if failed > 0 && p.txnErr == nil {
		p.txnErr = p.firstErr
	}
	p.mu.Unlock()
	commit = commit && failed == 0
	how := kgo.TryAbort
	if commit {
		how = kgo.TryCommit
	}
	err := p.cl.EndTransaction(ctx, how)
	p.open = false
	switch {
	case err != nil:
		p.aborts++
		p.txnErr = err
		return fmt.Errorf("ending a transaction: %w", err)
	case commit:
		p.commits++
		p.committed += acked
		return nil
	}
	p.aborts++
	return fmt.Errorf("transaction aborted: %w", cmp.Or(p.txnErr, errors.New("stopped")))
}

func (p *lineProducer) run() error {
	s := p.s
	p.out = bufio.NewWriter(s.Out())
	go s.WatchConnections(0)
	go s.WatchProgress(&p.prog)
	if p.txn {
		p.txnMu.Lock()
		err := p.beginTxn()
		p.txnMu.Unlock()
		if err != nil {
			s.CloseClient(p.cl)
			return err
		}
	}

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
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	if stopped {
		ctx, cancel := context.WithTimeout(context.Background(), command.StopGrace)
		p.cl.Flush(ctx)
		if p.open {
			p.endTxn(ctx, false)
		}
		cancel()
	} else if p.open {
		if terr := p.endTxn(s.Context(), err == nil); terr != nil && err == nil {
			err = terr
		}
	}
	elapsed := time.Since(start)

	p.mu.Lock()
	if ferr := p.out.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	ok, firstErr := p.ok, p.firstErr
	p.mu.Unlock()
	if p.txn {
		// Only committed records are delivered.
		ok = p.committed
		if firstErr == nil {
			firstErr = p.txnErr
		}
	}
	// Records sent and not acknowledged by now count as failed.
	sent := p.prog.Sent()
	failed := sent - ok
	fmt.Fprintf(s.Err(), "produced %d records to %s in %v", ok, p.topic, elapsed.Round(time.Millisecond))
	if p.txn {
		fmt.Fprintf(s.Err(), " (transactions: %d committed, %d aborted)", p.commits, p.aborts)
	}
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
