package command

// Stop signals, for the broker and the client commands alike.
//
// The first SIGINT or SIGTERM asks for a clean stop. The same stop often
// arrives more than once: GNU timeout signals its child and then the
// child's whole process group, and a terminal's Ctrl-C reaches every
// process of the foreground group. So a signal within forceAfter of the
// first being handled is a duplicate and ignored; only one that comes
// later, when someone has waited and insisted, skips the clean stop.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// forceAfter is how long after the first stop signal was handled a second
// one must arrive to be taken as a demand to exit at once.
const forceAfter = time.Second

// StopSignals are the signals that ask a command to stop.
var StopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// IsForce reports whether a stop signal arriving at at, when the first was
// handled at handled, asks to skip the clean stop.
func IsForce(handled, at time.Time) bool {
	return at.Sub(handled) >= forceAfter
}

// signalContext returns a context canceled, with an InterruptedError as its
// cause, by the first SIGINT or SIGTERM. A later signal (see IsForce) ends
// the process at once with status 128+signal. stop releases the signals.
func signalContext(parent context.Context, name string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, StopSignals...)
	done := make(chan struct{})
	go func() {
		var handled time.Time
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, _ := s.(syscall.Signal)
				now := time.Now()
				switch {
				case handled.IsZero():
					handled = now
					cancel(InterruptedError{sig})
				case IsForce(handled, now):
					fmt.Fprintf(os.Stderr, "%s: second %s: exiting at once\n", name, SignalName(sig))
					os.Exit(128 + int(sig))
				}
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}
