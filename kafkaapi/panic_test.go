package kafkaapi

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

// syncBuffer is a log destination the broker's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHandlerPanicLogsStack: a handler's panic closes the connection and
// is logged with its value and the stack that raised it, so that the cause
// can be read from the log.
func TestHandlerPanicLogsStack(t *testing.T) {
	b := newTestBroker(t, nil)
	var logged syncBuffer
	b.h.log = slog.New(slog.NewTextHandler(&logged, nil))
	const key = 60 // DescribeCluster
	saved := apis[key]
	t.Cleanup(func() { apis[key] = saved })
	h := saved
	h.serve = func(*reqCtx, kmsg.Request) *netpoll.Response { panicInHandler(); return nil }
	apis[key] = h
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(0)
	if _, closed := b.send(req, false); !closed {
		t.Fatal("the broker answered a request whose handler panicked")
	}
	log := logged.String()
	if !strings.Contains(log, "request handler panic") || !strings.Contains(log, "panic=boom") || !strings.Contains(log, "panicInHandler") {
		t.Fatalf("the panic's log line lacks its value or its stack:\n%s", log)
	}
}

func panicInHandler() { panic("boom") }
