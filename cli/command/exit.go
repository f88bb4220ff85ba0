package command

import (
	"fmt"
	"strconv"
	"syscall"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError marks an error as the user's mistake in calling a command:
// exit status 2, with a hint to read --help.
type UsageError struct{ msg string }

func (e UsageError) Error() string { return e.msg }

// UsageErrorf returns a UsageError with the formatted message.
func UsageErrorf(format string, args ...any) error {
	return UsageError{fmt.Sprintf(format, args...)}
}

// InterruptedError is returned by a command stopped by a signal: exit
// status 128+signal, without a message (the command has printed what it
// had to say).
type InterruptedError struct{ Signal syscall.Signal }

func (e InterruptedError) Error() string { return "interrupted by " + SignalName(e.Signal) }

// SignalName names a stop signal as people write it.
func SignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// ExitCode is an exit status a command chose, having printed or logged
// why itself.
type ExitCode int

func (e ExitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }
