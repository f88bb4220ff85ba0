package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"samsa/cli/command"
	"samsa/config"
	"samsa/server"
)

// NewCommand returns samsa broker.
func NewCommand() *cobra.Command {
	var (
		configFile string
		level      string
		overrides  []string
	)
	c := &cobra.Command{
		Use:   "broker [FILE] [--config FILE] [--override key=value]...",
		Short: "Run the broker (Kafka's server.properties keys)",
		Long: `Runs the broker. Configuration uses Kafka's server.properties keys, from
a file (--config FILE, or FILE as the argument) and --override key=value,
each applied after the file (kafka-server-start.sh's convention).
Defaults: listeners=PLAINTEXT://127.0.0.1:9092, log.dirs=./data, standalone
metadata kept in the data directory, admin.listener=127.0.0.1:9644
(/metrics, /healthz, /debug/pprof/). An unknown key is a warning; an
invalid value is an error naming the key, with exit status 2.

SIGTERM or SIGINT shuts down cleanly: stop accepting, finish in-flight
requests, flush the logs, write the clean-shutdown marker, exit 0. The same
signal delivered again within a second (GNU timeout signals the broker and
then its process group; Ctrl-C reaches the whole foreground group) is
ignored; a signal a second or more after the first exits at once, without
a clean shutdown, with status 1.`,
		Example: `  samsa broker
  samsa broker server.properties
  samsa broker --config server.properties --override log.retention.hours=24`,
		Annotations: map[string]string{command.AnnotationLegacyFlags: "config,override,log-level"},
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return command.UsageErrorf("unexpected argument %q", args[1])
			case len(args) == 1 && configFile != "":
				return command.UsageErrorf("the configuration file is named twice: %q and --config %q", args[0], configFile)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				configFile = args[0]
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(level)); err != nil {
				return command.UsageErrorf("--log-level %q: want debug, info, warn or error", level)
			}
			if code := runBroker(c.ErrOrStderr(), configFile, overrides, lvl); code != 0 {
				return command.ExitCode(code)
			}
			return nil
		},
	}
	c.Flags().StringVar(&configFile, "config", "", "server.properties `FILE`")
	c.Flags().StringArrayVar(&overrides, "override", nil, "set one key after the file is read: `key=value` (repeatable)")
	c.Flags().StringVar(&level, "log-level", "info", "`LEVEL`: debug, info, warn or error")
	return c
}

// runBroker runs the broker, logging to stderr, until a stop signal and
// returns the exit status.
func runBroker(stderr io.Writer, configFile string, overrides []string, lvl slog.Level) int {
	cfg, err := config.Load(configFile, overrides)
	if err != nil {
		fmt.Fprintf(stderr, "samsa broker: %v\n", err)
		return 2
	}
	opts := &slog.HandlerOptions{Level: lvl}
	logger := slog.New(slog.NewTextHandler(stderr, opts))
	if cfg.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, opts))
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
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, command.StopSignals...)
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
	handled := time.Now()
	logger.Info("shutting down", "signal", sig.String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for s := range sigs {
			if !command.IsForce(handled, time.Now()) {
				logger.Info("shutdown already under way: repeated signal ignored", "signal", s.String())
				continue
			}
			logger.Warn("second signal: exiting without a clean shutdown", "signal", s.String())
			os.Exit(1)
		}
	}()
	if err := b.Shutdown(ctx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
