package netwatch

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var node1 = kgo.BrokerMetadata{NodeID: 1, Host: "127.0.0.1", Port: 9092}

// watch runs fn in a bubble with a Watch of seed 127.0.0.1:9092 and a 1s
// timeout, and a context its watchdog may cancel.
func watch(t *testing.T, fn func(w *Watch, ctx context.Context, cancel context.CancelCauseFunc)) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		fn(New([]string{"127.0.0.1:9092"}, time.Second), ctx, cancel)
	})
}

// cause is why ctx ended: its *UnreachableError's text, or "" if it has not.
func cause(ctx context.Context) string {
	var ue *UnreachableError
	if errors.As(context.Cause(ctx), &ue) {
		return ue.Error()
	}
	return ""
}

// Failures for --timeout with no answer between them end the session with
// an error naming the broker and the reason; an answer starts the count
// again.
func TestConnectionsGiveUp(t *testing.T) {
	watch(t, func(w *Watch, ctx context.Context, cancel context.CancelCauseFunc) {
		go w.Connections(ctx, cancel, 0)
		w.OnBrokerConnect(node1, 0, nil, syscall.ECONNREFUSED)
		time.Sleep(700 * time.Millisecond)
		w.OnBrokerRead(node1, 0, 0, 0, 0, nil) // an answer
		w.OnBrokerConnect(node1, 0, nil, syscall.ECONNREFUSED)
		time.Sleep(700 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatalf("gave up 700ms after the last answer: %v", context.Cause(ctx))
		}
		time.Sleep(400 * time.Millisecond)
		synctest.Wait()
		if want := "cannot reach broker 127.0.0.1:9092 (node 1): connection refused (gave up after 1s)"; cause(ctx) != want {
			t.Errorf("cause %q, want %q", context.Cause(ctx), want)
		}
	})
}

// A consumer's watch also gives up when nothing at all has answered for
// quiet: a broker that is stopped rather than gone.
func TestConnectionsQuiet(t *testing.T) {
	watch(t, func(w *Watch, ctx context.Context, cancel context.CancelCauseFunc) {
		go w.Connections(ctx, cancel, 1500*time.Millisecond)
		time.Sleep(1400 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatalf("gave up before quiet: %v", context.Cause(ctx))
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if want := "cannot reach broker 127.0.0.1:9092: no answer (gave up after 1.5s)"; cause(ctx) != want {
			t.Errorf("cause %q, want %q", context.Cause(ctx), want)
		}
	})
}

// Records outstanding for --timeout with no acknowledgement end the
// session; an acknowledgement restarts the count.
func TestProgressNoAck(t *testing.T) {
	watch(t, func(w *Watch, ctx context.Context, cancel context.CancelCauseFunc) {
		var p Progress
		go w.Progress(ctx, cancel, &p)
		p.Sending()
		p.Sending()
		time.Sleep(900 * time.Millisecond)
		p.Acked()
		time.Sleep(900 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatalf("gave up 900ms after an acknowledgement: %v", context.Cause(ctx))
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if want := "cannot reach broker 127.0.0.1:9092: no acknowledgement of 1 records (gave up after 1s)"; cause(ctx) != want {
			t.Errorf("cause %q, want %q", context.Cause(ctx), want)
		}
		if p.Sent() != 2 {
			t.Errorf("Sent() = %d, want 2", p.Sent())
		}
	})
}
