package main

// Shared plumbing of the client-side commands (topic, produce, consume,
// bench): connection flags, flag parsing that allows flags after positional
// arguments (as rpk does), exit codes, and small parsers.
//
// Exit codes: 0 success, 1 a runtime failure (the broker said no, a record
// was not delivered), 2 a usage error (bad flag or argument). Every error is
// printed to stderr as "samsa <command>: <message>".

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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

const clientFlagsUsage = `connection flags:
  --brokers HOST:PORT,...  seed brokers (default $SAMSA_BROKERS, else 127.0.0.1:9092)
  --client-id ID           client id sent to the broker (default samsa)
  --timeout D              time limit of each admin request and of delivering
                           a produced record (default 10s)
`

func (c *clientFlags) register(fs *flag.FlagSet) {
	def := os.Getenv(brokersEnv)
	if def == "" {
		def = defaultBrokers
	}
	fs.StringVar(&c.brokers, "brokers", def, "")
	fs.StringVar(&c.clientID, "client-id", "samsa", "")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "")
}

func (c *clientFlags) seeds() ([]string, error) {
	var seeds []string
	for s := range strings.SplitSeq(c.brokers, ",") {
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

// newClient returns a kgo client for the seed brokers with the extra options.
func (c *clientFlags) newClient(extra ...kgo.Opt) (*kgo.Client, error) {
	seeds, err := c.seeds()
	if err != nil {
		return nil, err
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(c.clientID),
		kgo.DialTimeout(c.timeout),
	}, extra...)
	return kgo.NewClient(opts...)
}

// newAdmin returns an admin client; close it with Close when done.
func (c *clientFlags) newAdmin() (*kadm.Client, error) {
	cl, err := c.newClient()
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(c.timeout.Milliseconds()))
	return adm, nil
}

// ctx returns a context bounded by --timeout.
func (c *clientFlags) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// usageError marks an error as the user's mistake in calling a command:
// exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// command is one leaf command: its flags, its usage text and its body.
type command struct {
	name  string // "topic create": used in messages
	usage string // printed by -h, followed by the connection flags if client is set
	fs    *flag.FlagSet
	// client, when non-nil, holds the connection flags registered on fs.
	client *clientFlags
}

func newCommand(name, usage string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{name: name, usage: usage, fs: fs}
}

// withClient registers the connection flags.
func (c *command) withClient() *clientFlags {
	c.client = new(clientFlags)
	c.client.register(c.fs)
	return c.client
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprint(w, c.usage)
	if c.client != nil {
		fmt.Fprint(w, "\n"+clientFlagsUsage)
	}
}

// run parses args, calls body with the positional arguments and turns the
// result into an exit status, printing any error.
func (c *command) run(args []string, body func(pos []string) error) int {
	pos, err := parseInterspersed(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printUsage(os.Stdout)
		return 0
	}
	if err == nil {
		err = body(pos)
	} else {
		err = usageError{err.Error()}
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "samsa %s: %v\n", c.name, err)
	if errors.As(err, new(usageError)) {
		fmt.Fprintf(os.Stderr, "run 'samsa %s -h' for usage\n", c.name)
		return 2
	}
	return 1
}

// parseInterspersed parses flags anywhere among the arguments, so that
// "topic create foo -p 3" works; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if endsWithTerminator(fs, args[:len(args)-len(rest)]) {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// endsWithTerminator reports whether the parsed args ended at a "--"
// terminator rather than at a "--" that was the value of a flag
// ("--key-separator --").
func endsWithTerminator(fs *flag.FlagSet, consumed []string) bool {
	n := len(consumed)
	if n == 0 || consumed[n-1] != "--" {
		return false
	}
	if n == 1 {
		return true
	}
	prev := consumed[n-2]
	if !strings.HasPrefix(prev, "-") || strings.Contains(prev, "=") || prev == "--" {
		return true
	}
	f := fs.Lookup(strings.TrimLeft(prev, "-"))
	if f == nil {
		return true
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return true
	}
	return false
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// group dispatches "samsa topic <sub>" style commands.
func group(name, usage string, args []string, subs map[string]func([]string) int) int {
	if len(args) == 0 {
		fmt.Fprintf(os.Stderr, "samsa %s: missing subcommand\n\n%s", name, usage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Print(usage)
		return 0
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "samsa %s: unknown subcommand %q\n\n%s", name, args[0], usage)
		return 2
	}
	return sub(args[1:])
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

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

// parsePartitionList parses "0,1,5".
func parsePartitionList(s string) ([]int32, error) {
	var ps []int32
	seen := make(map[int32]bool)
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil || n < 0 {
			return nil, usageErrorf("--partitions %q: want a comma-separated list of partition numbers", s)
		}
		if !seen[int32(n)] {
			seen[int32(n)] = true
			ps = append(ps, int32(n))
		}
	}
	return ps, nil
}

// newTable returns a tabwriter for aligned column output; Flush it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// errText renders a Kafka error by its name and the broker's message, or
// the error's description when the broker sent none.
// errOf is err with the broker's message, nil when err is nil.
func errOf(err error, msg string) error {
	if err == nil {
		return nil
	}
	return errors.New(errText(err, msg))
}

func errText(err error, msg string) string {
	var ke *kerr.Error
	if errors.As(err, &ke) && msg != "" {
		return ke.Message + ": " + msg
	}
	return err.Error()
}

// admin returns an admin client, a context bounded by --timeout, and a
// function that releases both.
func (c *clientFlags) admin() (*kadm.Client, context.Context, func(), error) {
	adm, err := c.newAdmin()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := c.ctx()
	return adm, ctx, func() { cancel(); adm.Close() }, nil
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
