package command

// The connection flags of the client-side commands (topic, produce,
// consume, group, cluster, bench) and the session each runs in: the
// context every request runs under, its clients, and errors a person can
// act on.
//
// --timeout bounds everything a client command waits for: each admin
// request (dial, retries and answer), the delivery of each produced
// record, and how long the brokers may stay unreachable while producing or
// consuming before the command gives up (package netwatch).

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command/internal/connsec"
	"samsa/cli/command/internal/netwatch"
)

const (
	defaultBrokers = "127.0.0.1:9092"
	// BrokersEnv names the seed brokers when --brokers does not.
	BrokersEnv     = "SAMSA_BROKERS"
	defaultTimeout = 10 * time.Second
)

// ClientFlags are the connection flags every client command takes.
type ClientFlags struct {
	brokers  string
	clientID string
	timeout  time.Duration
	sec      connsec.Flags // TLS and SASL (package connsec)
	fs       *pflag.FlagSet
}

// NewClientFlags returns the connection flags, unregistered.
func NewClientFlags() *ClientFlags { return &ClientFlags{} }

// AddTo registers the connection flags on fs.
func (c *ClientFlags) AddTo(fs *pflag.FlagSet) {
	fs.StringVarP(&c.brokers, "brokers", "b", "", "the brokers to bootstrap from, `HOST:PORT,...` (default $"+BrokersEnv+", else "+defaultBrokers+")")
	fs.StringVar(&c.clientID, "client-id", "samsa", "client `ID` sent to the brokers")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "how long to wait for each request, each record's delivery, and for unreachable brokers to come back, before giving up")
	c.fs = fs
	for _, n := range append([]string{"brokers", "client-id", "timeout"}, c.sec.AddTo(fs)...) {
		fs.SetAnnotation(n, AnnotationConnection, []string{"true"})
	}
}

// Persistent registers the connection flags on a group of commands, for
// all of its subcommands.
func (c *ClientFlags) Persistent(cmd *cobra.Command) *cobra.Command {
	c.AddTo(cmd.PersistentFlags())
	return cmd
}

func (c *ClientFlags) seeds() ([]string, error) {
	list := c.brokers
	if list == "" {
		list = os.Getenv(BrokersEnv)
	}
	if list == "" {
		list = defaultBrokers
	}
	var seeds []string
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, UsageErrorf("--brokers: no broker address given")
	}
	if c.timeout <= 0 {
		return nil, UsageErrorf("--timeout must be positive")
	}
	return seeds, nil
}

// RunE wraps the body of a client command: it checks the connection flags,
// runs body under a session (signals, connection watch) and turns the
// outcome into the error the command exits with.
func (c *ClientFlags) RunE(body func(s *Session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		seeds, err := c.seeds()
		if err != nil {
			return err
		}
		secOpts, err := c.security()
		if err != nil {
			return err
		}
		s := newSession(cmd.Context(), c, seeds, cmd.CommandPath())
		s.secOpts = secOpts
		s.Cmd = cmd
		defer s.stop()
		return s.result(body(s, args))
	}
}

// security resolves the TLS and SASL settings into client options; a
// setting that cannot be used is a usage error.
func (c *ClientFlags) security() ([]kgo.Opt, error) {
	sec, err := c.sec.Resolve(c.fs)
	var opts []kgo.Opt
	if err == nil {
		opts, err = sec.Opts()
	}
	var ue *connsec.UsageError
	if errors.As(err, &ue) {
		return nil, UsageErrorf("%s", ue.Msg)
	}
	return opts, err
}

// Session is one run of a client command.
type Session struct {
	cf    *ClientFlags
	seeds []string
	// ctx ends on SIGINT or SIGTERM (cause InterruptedError) or when a
	// watchdog gives up (cause: its reason).
	ctx    context.Context
	cancel context.CancelCauseFunc
	watch  *netwatch.Watch
	stop   func()
	// secOpts connect with TLS and SASL (package connsec).
	secOpts []kgo.Opt
	// Cmd is the command run: its flags say which were given, its writers
	// are where the command prints. Nil for a completion's session.
	Cmd *cobra.Command
}

func newSession(parent context.Context, cf *ClientFlags, seeds []string, name string) *Session {
	if parent == nil {
		parent = context.Background()
	}
	sigCtx, stopSignals := signalContext(parent, name)
	ctx, cancel := context.WithCancelCause(sigCtx)
	return &Session{
		cf: cf, seeds: seeds, ctx: ctx, cancel: cancel,
		watch: netwatch.New(seeds, cf.timeout),
		stop:  func() { cancel(nil); stopSignals() },
	}
}

// Context ends on SIGINT or SIGTERM (its cause an InterruptedError) or
// when a watchdog gives up on the brokers (its cause an
// *UnreachableError).
func (s *Session) Context() context.Context { return s.ctx }

// Timeout is --timeout.
func (s *Session) Timeout() time.Duration { return s.cf.timeout }

// Out is where the command prints its results.
func (s *Session) Out() io.Writer {
	if s.Cmd == nil {
		return os.Stdout
	}
	return s.Cmd.OutOrStdout()
}

// Err is where the command prints notes and errors.
func (s *Session) Err() io.Writer {
	if s.Cmd == nil {
		return os.Stderr
	}
	return s.Cmd.ErrOrStderr()
}

// In is the command's standard input.
func (s *Session) In() io.Reader {
	if s.Cmd == nil {
		return os.Stdin
	}
	return s.Cmd.InOrStdin()
}

// result is the error a command that returned err exits with: an
// interruption if a signal stopped it, the watchdog's reason if one gave
// up, else err in words a person can act on.
func (s *Session) result(err error) error {
	if err == nil || errors.As(err, new(UsageError)) {
		return err
	}
	if cause := context.Cause(s.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		var ie InterruptedError
		if errors.As(cause, &ie) {
			return ie
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
			return cause
		}
	}
	return s.Explain(err)
}

// clientOpts are the options of every client: the seeds, --timeout on
// dialing, retrying and reading answers, and the security settings.
func (s *Session) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(s.seeds...),
		kgo.ClientID(s.cf.clientID),
		kgo.DialTimeout(s.cf.timeout),
		kgo.RetryTimeout(s.cf.timeout),
		kgo.RequestTimeoutOverhead(s.cf.timeout),
		kgo.WithHooks(s.watch),
	}, s.secOpts...)
}

// NewClient returns a kgo client with the extra options.
func (s *Session) NewClient(extra ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(s.clientOpts(), extra...)...)
}

// Admin returns an admin client and a function that closes it.
func (s *Session) Admin() (*kadm.Client, func(), error) {
	cl, err := s.NewClient()
	if err != nil {
		return nil, nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(s.cf.timeout.Milliseconds()))
	return adm, cl.Close, nil
}

// ReqCtx is a context for one admin step: the session's, bounded by
// --timeout.
func (s *Session) ReqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.cf.timeout)
}

// AdminCall is the common shape of an admin command: an admin client and
// one context bounded by --timeout for all of its requests.
func (s *Session) AdminCall() (*kadm.Client, context.Context, func(), error) {
	adm, closeAdm, err := s.Admin()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := s.ReqCtx()
	return adm, ctx, func() { cancel(); closeAdm() }, nil
}

// CloseClient closes cl, waiting for kgo's Close (leaving a group, closing
// fetch sessions) at most --timeout, and not at all once the session was
// stopped by a signal or gave up on the brokers: Close can wait on a
// broker that does not answer, and the process is about to exit anyway.
func (s *Session) CloseClient(cl *kgo.Client) {
	wait := s.cf.timeout
	if s.ctx.Err() != nil {
		wait = 0
	}
	done := make(chan struct{})
	go func() {
		cl.Close()
		close(done)
	}()
	if wait > 0 {
		select {
		case <-done:
		case <-time.After(wait):
		}
	}
}

// UnreachableError is why a session gave up on the brokers: the cause of
// its context.
type UnreachableError = netwatch.UnreachableError

// Progress counts the records a producer has sent and those acknowledged,
// for WatchProgress.
type Progress = netwatch.Progress

// IsNetErr reports whether err is a failure to reach or talk to a broker,
// rather than an answer from one.
func IsNetErr(err error) bool { return netwatch.IsNetErr(err) }

// WatchConnections ends the session, with an *UnreachableError, once the
// brokers have failed for --timeout without an answer in between; and,
// when quiet is positive, once no answer at all has come for quiet (for a
// consumer, which always has a fetch outstanding). It returns when the
// session ends.
func (s *Session) WatchConnections(quiet time.Duration) { s.watch.Connections(s.ctx, s.cancel, quiet) }

// WatchProgress ends the session when records have been outstanding for
// --timeout without any being acknowledged.
func (s *Session) WatchProgress(p *Progress) { s.watch.Progress(s.ctx, s.cancel, p) }

// Explain rewrites err, from kadm or kgo, to name the broker that could not
// be reached and why; other errors pass unchanged.
func (s *Session) Explain(err error) error { return s.watch.Explain(err) }
