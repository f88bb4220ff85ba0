package main

// Shared plumbing of the client-side commands (topic, produce, consume,
// group, cluster, bench): connection flags, the context every request runs
// under, errors a person can act on, and small parsers.
//
// --timeout bounds everything a client command waits for: each admin
// request (dial, retries and answer), the delivery of each produced
// record, and how long the brokers may stay unreachable while producing or
// consuming before the command gives up (netwatch.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	defaultBrokers = "127.0.0.1:9092"
	brokersEnv     = "SAMSA_BROKERS"
	defaultTimeout = 10 * time.Second
)

// clientFlags are the connection flags every client command takes.
type clientFlags struct {
	brokers  string
	clientID string
	timeout  time.Duration
}

func newClientFlags() *clientFlags { return &clientFlags{} }

// addTo registers the connection flags on fs.
func (c *clientFlags) addTo(fs *pflag.FlagSet) {
	fs.StringVarP(&c.brokers, "brokers", "b", "", "the brokers to bootstrap from, `HOST:PORT,...` (default $"+brokersEnv+", else "+defaultBrokers+")")
	fs.StringVar(&c.clientID, "client-id", "samsa", "client `ID` sent to the brokers")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "how long to wait for each request, each record's delivery, and for unreachable brokers to come back, before giving up")
	for _, n := range []string{"brokers", "client-id", "timeout"} {
		fs.SetAnnotation(n, connAnnotation, []string{"true"})
	}
}

// persistent registers the connection flags on a group of commands, for
// all of its subcommands.
func (c *clientFlags) persistent(cmd *cobra.Command) *cobra.Command {
	c.addTo(cmd.PersistentFlags())
	return cmd
}

func (c *clientFlags) seeds() ([]string, error) {
	list := c.brokers
	if list == "" {
		list = os.Getenv(brokersEnv)
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
		return nil, usageErrorf("--brokers: no broker address given")
	}
	if c.timeout <= 0 {
		return nil, usageErrorf("--timeout must be positive")
	}
	return seeds, nil
}

// runE wraps the body of a client command: it checks the connection flags,
// runs body under a session (signals, connection watch) and turns the
// outcome into the error the command exits with.
func (c *clientFlags) runE(body func(s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		seeds, err := c.seeds()
		if err != nil {
			return err
		}
		s := newSession(cmd.Context(), c, seeds, cmd.CommandPath())
		s.cmd, s.cmdFlags = cmd, cmd.Flags()
		defer s.stop()
		return s.result(body(s, args))
	}
}

// session is one run of a client command.
type session struct {
	cf    *clientFlags
	seeds []string
	// ctx ends on SIGINT or SIGTERM (cause interruptedError) or when a
	// watchdog gives up (cause: its reason).
	ctx    context.Context
	cancel context.CancelCauseFunc
	watch  *connWatch
	stop   func()
	// cmd is the command run; cmdFlags its flags, to ask which were given.
	cmd      *cobra.Command
	cmdFlags *pflag.FlagSet
}

func newSession(parent context.Context, cf *clientFlags, seeds []string, name string) *session {
	if parent == nil {
		parent = context.Background()
	}
	sigCtx, stopSignals := signalContext(parent, name)
	ctx, cancel := context.WithCancelCause(sigCtx)
	return &session{
		cf: cf, seeds: seeds, ctx: ctx, cancel: cancel,
		watch: &connWatch{},
		stop:  func() { cancel(nil); stopSignals() },
	}
}

// result is the error a command that returned err exits with: an
// interruption if a signal stopped it, the watchdog's reason if one gave
// up, else err in words a person can act on.
func (s *session) result(err error) error {
	if err == nil || errors.As(err, new(usageError)) {
		return err
	}
	if cause := context.Cause(s.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		var ie interruptedError
		if errors.As(cause, &ie) {
			return ie
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
			return cause
		}
	}
	return s.explain(err)
}

// clientOpts are the options of every client: the seeds, and --timeout on
// dialing, retrying and reading answers.
func (s *session) clientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(s.seeds...),
		kgo.ClientID(s.cf.clientID),
		kgo.DialTimeout(s.cf.timeout),
		kgo.RetryTimeout(s.cf.timeout),
		kgo.RequestTimeoutOverhead(s.cf.timeout),
		kgo.WithHooks(s.watch),
	}
}

// newClient returns a kgo client with the extra options.
func (s *session) newClient(extra ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(s.clientOpts(), extra...)...)
}

// admin returns an admin client and a function that closes it.
func (s *session) admin() (*kadm.Client, func(), error) {
	cl, err := s.newClient()
	if err != nil {
		return nil, nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(s.cf.timeout.Milliseconds()))
	return adm, cl.Close, nil
}

// reqCtx is a context for one admin step: the session's, bounded by
// --timeout.
func (s *session) reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.cf.timeout)
}

// adminCall is the common shape of an admin command: an admin client and
// one context bounded by --timeout for all of its requests.
func (s *session) adminCall() (*kadm.Client, context.Context, func(), error) {
	adm, closeAdm, err := s.admin()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := s.reqCtx()
	return adm, ctx, func() { cancel(); closeAdm() }, nil
}

// closeClient closes cl, waiting for kgo's Close (leaving a group, closing
// fetch sessions) at most --timeout, and not at all once the session was
// stopped by a signal or gave up on the brokers: Close can wait on a
// broker that does not answer, and the process is about to exit anyway.
func (s *session) closeClient(cl *kgo.Client) {
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

// newTable returns a tabwriter for aligned column output; Flush it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// splitKV splits "k=v" at the first '='.
func splitKV(flagName, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", usageErrorf("%s %q: want key=value", flagName, s)
	}
	return k, v, nil
}

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
	return kgo.Acks{}, usageErrorf("--acks %q: want all, 1 or 0", s)
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
	return kgo.CompressionCodec{}, usageErrorf("--compression %q: want none, gzip, snappy, lz4 or zstd", s)
}

// parsePartitionList parses the values of a repeatable --partition flag,
// each a number or a comma-separated list: "0,1" "5".
func parsePartitionList(flagName string, vals []string) ([]int32, error) {
	var ps []int32
	seen := make(map[int32]bool)
	for _, s := range vals {
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil || n < 0 {
				return nil, usageErrorf("%s %q: want partition numbers, comma-separated", flagName, s)
			}
			if !seen[int32(n)] {
				seen[int32(n)] = true
				ps = append(ps, int32(n))
			}
		}
	}
	return ps, nil
}

// errOf is err with the broker's message, nil when err is nil.
func errOf(err error, msg string) error {
	if err == nil {
		return nil
	}
	return errors.New(errText(err, msg))
}

// errText renders a Kafka error by its name and the broker's message, or
// the error's description when the broker sent none.
func errText(err error, msg string) string {
	var ke *kerr.Error
	if errors.As(err, &ke) && msg != "" {
		return ke.Message + ": " + msg
	}
	return err.Error()
}

// printStatuses prints one "NAME STATUS" row per name (OK, or the error
// that status returns; missing from the response when found is false) and
// returns an error counting the failures.
func printStatuses(kind, done string, names []string, status func(name string) (found bool, err error)) error {
	tw := newTable(os.Stdout)
	fmt.Fprintf(tw, "%s\tSTATUS\n", strings.ToUpper(kind))
	failed := 0
	for _, name := range names {
		msg := "OK"
		if found, err := status(name); !found {
			msg, failed = "no response from broker", failed+1
		} else if err != nil {
			msg, failed = err.Error(), failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, msg)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d of %d %ss not %s", failed, len(names), kind, done)
	}
	return nil
}
