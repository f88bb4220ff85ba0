// Package apierr carries a Kafka error code with a message for the client
// through the layers below the protocol handlers (replica, admin, the
// controller, the server's ZooKeeper part), so that a handler answers
// with the code and message the layer chose, as Kafka's ApiError does.
//
// Invariants:
//  1. Code maps any error to the code a response carries: an *Error's
//     (found with errors.As through any wrapping), else a wrapped
//     *kerr.Error's, 0 for nil, and UNKNOWN_SERVER_ERROR for anything
//     else: an error no layer classified never passes for a success.
//  2. errors.Is(err, kerr.X) holds for an *Error of code X (Unwrap).
//  3. Message is an *Error's own message, else the error's text; Records
//     the record errors of a refused produce (KIP-467), else none.
//
// Locks: none; an Error is a value, not changed once made.
package apierr
