package apierr

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error is a Kafka error code with a message for the client.
type Error struct {
	Code *kerr.Error
	Msg  string
	// Records names the records a produce refused its batch for (KIP-467:
	// Produce v8+ record_errors); nil for other errors.
	Records []RecordError
}

// RecordError is one record that a produce refused: its index in its
// batch and why, as Kafka words it.
type RecordError struct {
	Index int32
	Msg   string
}

func (e *Error) Error() string { return e.Code.Message + ": " + e.Msg }

// Unwrap lets errors.Is(err, kerr.X) match.
func (e *Error) Unwrap() error { return e.Code }

// Errorf returns an *Error with a formatted message.
func Errorf(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Code maps an error to a Kafka error code: an *Error's, a wrapped
// *kerr.Error's, 0 for nil, UNKNOWN_SERVER_ERROR for anything else.
func Code(err error) int16 {
	if err == nil {
		return 0
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code.Code
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// Message is the message a response carries for err: an *Error's own
// message, or the error's text; nil for nil.
func Message(err error) *string {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return &ae.Msg
	}
	s := err.Error()
	return &s
}

// Records is the record errors err carries, if it is an *Error with any.
func Records(err error) []RecordError {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Records
	}
	return nil
}
