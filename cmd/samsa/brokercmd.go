package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"samsa/config"
	"samsa/server"
)

const brokerUsage = `usage: samsa broker [--config FILE | FILE] [--override key=value]... [--log-level LEVEL]

Runs the broker. Configuration uses Kafka's server.properties keys; each
--override sets one key after the file is read (kafka-server-start.sh's
convention). Defaults: listeners=PLAINTEXT://127.0.0.1:9092, log.dirs=./data,
standalone metadata kept in the data directory, admin.listener=127.0.0.1:9644
(/metrics, /healthz, /debug/pprof/). SIGTERM or SIGINT shuts down cleanly.
An invalid configuration value exits with status 2.
`

// multiFlag collects repeated --override values.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runBroker(args []string) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	configFile := fs.String("config", "", "server.properties file")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	var overrides multiFlag
	fs.Var(&overrides, "override", "key=value (repeatable)")
	fs.Usage = func() { fmt.Fprint(os.Stderr, brokerUsage); fs.PrintDefaults() }
	// Accept the properties file as a leading positional argument too.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		*configFile = args[0]
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "samsa broker: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "samsa broker: --log-level: %v\n", err)
		return 2
	}
	cfg, err := config.Load(*configFile, overrides)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samsa broker: %v\n", err)
		return 2
	}
	opts := &slog.HandlerOptions{Level: lvl}
	logger := slog.New(slog.NewTextHandler(os.Stderr, opts))
	if cfg.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	b, err := server.New(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		var ce *config.Error
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	// Catch signals before Start logs "broker started": a SIGTERM right
	// after that line must get a clean shutdown, not the default exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if err := b.Start(); err != nil {
		logger.Error("cannot start", "err", err)
		b.Shutdown(context.Background())
		var ce *config.Error
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	sig := <-sigs
	logger.Info("shutting down", "signal", sig.String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		// A second signal forces the exit.
		<-sigs
		logger.Warn("second signal: exiting without a clean shutdown")
		os.Exit(1)
	}()
	if err := b.Shutdown(ctx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
