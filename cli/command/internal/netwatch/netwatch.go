package netwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Watch records how the connections to the seeds and the brokers they
// name fare, and gives up on them after timeout.
type Watch struct {
	seeds   []string
	timeout time.Duration

	mu sync.Mutex
	// failingSince is when the first failure after the last answer
	// happened; zero while the brokers answer.
	failingSince time.Time
	lastErr      error  // the latest dial, write or read error
	lastBroker   string // the broker of lastErr, as brokerName prints it
	// lastAnswer is when a response was last read, and from whom.
	lastAnswer     time.Time
	lastAnswerFrom string
}

var (
	_ kgo.HookBrokerConnect = (*Watch)(nil)
	_ kgo.HookBrokerRead    = (*Watch)(nil)
	_ kgo.HookBrokerWrite   = (*Watch)(nil)
)

// New returns a Watch of connections to seeds that gives up after timeout.
func New(seeds []string, timeout time.Duration) *Watch {
	return &Watch{seeds: seeds, timeout: timeout}
}

// OnBrokerConnect counts only failures: a stopped (SIGSTOP) broker's kernel
// still accepts connections.
func (w *Watch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	w.note(meta, err, false)
}

// OnBrokerRead: a response read is the one sign that a broker is there.
func (w *Watch) OnBrokerRead(meta kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	w.note(meta, err, true)
}

// OnBrokerWrite counts only failures: a write the kernel took says nothing
// of whether the broker is there to read it.
func (w *Watch) OnBrokerWrite(meta kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	w.note(meta, err, false)
}

func (w *Watch) note(meta kgo.BrokerMetadata, err error, answered bool) {
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed)) {
		return // our own doing
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		if w.failingSince.IsZero() {
			w.failingSince = time.Now()
		}
		w.lastErr, w.lastBroker = err, brokerName(meta)
	case answered:
		w.failingSince = time.Time{}
		w.lastAnswer, w.lastAnswerFrom = time.Now(), brokerName(meta)
	}
}

// quiet returns how long no response has been read since since (or the
// last response, if later), and the broker that answered last.
func (w *Watch) quiet(since, now time.Time) (time.Duration, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now.Sub(maxTime(since, w.lastAnswer)), w.lastAnswerFrom
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// failing returns how long the brokers have been failing, the last error
// and its broker; zero when they answer.
func (w *Watch) failing(now time.Time) (time.Duration, error, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failingSince.IsZero() {
		return 0, w.lastErr, w.lastBroker
	}
	return now.Sub(w.failingSince), w.lastErr, w.lastBroker
}

// last returns the last connection error and its broker, if any.
func (w *Watch) last() (error, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr, w.lastBroker
}

// UnreachableError is why a session gave up on the brokers.
type UnreachableError struct {
	broker string
	err    error
	after  time.Duration
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s: %s (gave up after %v)", e.broker, netReason(e.err), e.after.Round(time.Millisecond))
}

func (e *UnreachableError) Unwrap() error { return e.err }

// errNoAnswer is the reason of an UnreachableError for a broker that
// keeps its connections open and answers nothing.
var errNoAnswer = errors.New("no answer")

// errNoAck is the reason for a broker that takes produce requests and
// acknowledges none.
var errNoAck = errors.New("no acknowledgement")

// Connections ends ctx through cancel, with an *UnreachableError, once the
// brokers have failed for --timeout without an answer in between; and,
// when quiet is positive, once no answer at all has come for quiet (for a
// consumer, which always has a fetch outstanding: a broker that is stopped
// rather than gone). It returns when ctx ends.
func (w *Watch) Connections(ctx context.Context, cancel context.CancelCauseFunc, quiet time.Duration) {
	limit := w.timeout
	start := time.Now()
	tick := time.NewTicker(min(max(limit/20, 10*time.Millisecond), 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if d, err, broker := w.failing(now); d >= limit && err != nil {
				cancel(&UnreachableError{broker: broker, err: err, after: d})
				return
			}
			if quiet <= 0 {
				continue
			}
			if d, broker := w.quiet(start, now); d >= quiet {
				if broker == "" {
					broker = "broker " + strings.Join(w.seeds, ",")
				}
				cancel(&UnreachableError{broker: broker, err: errNoAnswer, after: d})
				return
			}
		}
	}
}

// Progress counts the records a producer has sent and those whose promise
// has run, and when an acknowledgement last came.
type Progress struct {
	sent, done atomic.Int64
	// last is when a promise last ran, or when a record was sent while
	// none was outstanding (unix nanoseconds).
	last atomic.Int64
}

// Sending is called before each record is handed to the client.
func (p *Progress) Sending() {
	if p.sent.Load() == p.done.Load() {
		p.last.Store(time.Now().UnixNano()) // nothing was outstanding
	}
	p.sent.Add(1)
}

// Acked is called by each record's promise.
func (p *Progress) Acked() {
	p.last.Store(time.Now().UnixNano())
	p.done.Add(1)
}

// Sent is the number of records sent so far.
func (p *Progress) Sent() int64 { return p.sent.Load() }

// Progress ends ctx through cancel when records have been outstanding for
// --timeout without any promise running: a broker that takes requests but
// does not answer them, or a record kgo will not time out because it may
// have been written (idempotent producing).
func (w *Watch) Progress(ctx context.Context, cancel context.CancelCauseFunc, p *Progress) {
	tick := time.NewTicker(min(max(w.timeout/20, 10*time.Millisecond), 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			outstanding := p.sent.Load() - p.done.Load()
			idle := now.Sub(time.Unix(0, p.last.Load()))
			if outstanding > 0 && idle >= w.timeout {
				if d, last, broker := w.failing(now); d > 0 && last != nil {
					cancel(&UnreachableError{broker: broker, err: last, after: idle})
				} else {
					_, broker := w.quiet(now, now)
					if broker == "" {
						broker = "broker " + strings.Join(w.seeds, ",")
					}
					err := fmt.Errorf("%w of %d records", errNoAck, outstanding)
					cancel(&UnreachableError{broker: broker, err: err, after: idle})
				}
				return
			}
		}
	}
}

// brokerName names a broker for messages: "broker 127.0.0.1:9092 (node 1)",
// or "broker 127.0.0.1:9092" for a seed, whose ID the client does not know.
func brokerName(m kgo.BrokerMetadata) string {
	addr := net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
	if m.NodeID < 0 {
		return "broker " + addr
	}
	return fmt.Sprintf("broker %s (node %d)", addr, m.NodeID)
}

// netReason says in a few words what a connection error was.
func netReason(err error) string {
	var fe *kgo.ErrFirstReadEOF
	switch {
	case errors.Is(err, errNoAnswer), errors.Is(err, errNoAck):
		return err.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset by the broker"
	case errors.As(err, &fe), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the broker"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "timed out"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "cannot resolve " + dnsErr.Name + ": " + dnsErr.Err
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "unable to dial: ")
	return msg
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsNetErr reports whether err is a failure to reach or talk to a broker,
// rather than an answer from one.
func IsNetErr(err error) bool {
	var oe *net.OpError
	var fe *kgo.ErrFirstReadEOF
	return errors.As(err, &oe) || errors.As(err, &fe) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.HasPrefix(err.Error(), "unable to dial")
}

// Explain rewrites err, from kadm or kgo, to name the broker that could not
// be reached and why; other errors pass unchanged.
func (w *Watch) Explain(err error) error {
	if err == nil {
		return nil
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return err
	}
	var se *kadm.ShardErrors
	if errors.As(err, &se) && len(se.Errs) > 0 {
		var parts []string
		seen := map[string]bool{}
		for _, e := range se.Errs {
			var p string
			switch {
			case e.Broker.NodeID == -1 && IsNetErr(e.Err):
				p = w.unreachable(e.Err, "")
			case e.Broker.NodeID == -1:
				p = e.Err.Error()
			case IsNetErr(e.Err):
				p = w.unreachable(e.Err, brokerName(e.Broker))
			default:
				p = brokerName(e.Broker) + ": " + e.Err.Error()
			}
			if !seen[p] {
				seen[p] = true
				parts = append(parts, p)
			}
		}
		msg := strings.Join(parts, "; ")
		if !se.AllFailed {
			msg = se.Name + " partly failed: " + msg
		}
		return errors.New(msg)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		if last, _ := w.last(); last != nil {
			return fmt.Errorf("%s (no answer within --timeout %v)", w.unreachable(last, ""), w.timeout)
		}
		return fmt.Errorf("no answer from %s within --timeout %v", strings.Join(w.seeds, ","), w.timeout)
	case IsNetErr(err):
		return errors.New(w.unreachable(err, ""))
	}
	return err
}

// unreachable words a connection error: "cannot reach broker ADDR: why".
// Without a broker name it takes the one the watch saw fail, else the
// address in the error, else the seeds.
func (w *Watch) unreachable(err error, broker string) string {
	if broker == "" {
		if _, b := w.last(); b != "" {
			broker = b
		}
	}
	if broker == "" {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Addr != nil {
			broker = "broker " + oe.Addr.String()
		} else {
			broker = "broker " + strings.Join(w.seeds, ",")
		}
	}
	return "cannot reach " + broker + ": " + netReason(err)
}
