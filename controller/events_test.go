package controller

// The event loop: a panic in an event is recovered, logged with its stack,
// answered, and costs the controller its term, not the process.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestPanickingRequestIsRecovered: a broker's request whose handling
// panics is answered with an error at once (not when its deadline
// passes); the log line carries the stack; the controller resigns and is
// elected again.
func TestPanickingRequestIsRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		h := newHarness(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
		h.boot(1, 2, 3)
		h.topic("t", 1, []int32{2, 3})
		h.store.fail("UpdatePartitionStates", errPanic)

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		_, err := h.ctls[1].ControlledShutdown(ctx, 2, h.store.brokerEpoch(2))
		if err == nil || ctx.Err() != nil || time.Since(start) != 0 {
			t.Fatalf("ControlledShutdown answered %v after %v; want an error at once", err, time.Since(start))
		}
		synctest.Wait()
		log := logs.String()
		if !strings.Contains(log, "controller event panicked") || !strings.Contains(log, "stack=") || !strings.Contains(log, "ControlledShutdown") {
			t.Errorf("the panic's log line has no stack naming ControlledShutdown:\n%s", log)
		}
		if !h.ctls[1].IsActive() {
			t.Fatal("broker 1 is not the controller again")
		}
		if epoch, _ := h.store.controllerEpoch(); epoch != 2 {
			t.Errorf("controller epoch %d, want 2 (resigned and elected again)", epoch)
		}
		if _, err := h.ctls[1].ControlledShutdown(ctx, 2, h.store.brokerEpoch(2)); err != nil {
			t.Errorf("the next request: %v", err)
		}
		h.wantState("t", 0, 3, 1, []int32{3}, 1)
	})
}

// TestFailedEventIsNotLost: an event whose store write fails (ZooKeeper
// unreachable past the request timeout) must not leave its work undone:
// here a dead leader would keep its partitions. The controller resigns and
// its next term re-reads the cluster and fails the broker over.
func TestFailedEventIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.topic("t", 4, []int32{1, 2, 3})
		h.store.fail("UpdatePartitionStates", errors.New("kafkazk: not connected to ZooKeeper"))
		h.kill(1)
		synctest.Wait()
		h.wantState("t", 0, 2, 1, []int32{2, 3}, 1)
		if !h.ctls[4].IsActive() {
			t.Error("broker 4 is not the controller")
		}
	})
}

// TestIllegalTopicNamesIgnored: a znode under /brokers/topics or
// /admin/delete_topics whose name is no legal topic name (written by
// another tool) is ignored; the controller keeps running and handles the
// other topics.
func TestIllegalTopicNamesIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.store.createTopic("bad:name", nil, []int32{1})
		h.boot(1, 2)
		h.store.markForDeletion("also:bad")
		h.store.createTopic("worse+name", nil, []int32{1})
		h.store.createTopic("t", nil, []int32{2, 1})
		synctest.Wait()
		if !h.ctls[1].IsActive() {
			t.Fatal("broker 1 is not the controller")
		}
		if epoch, _ := h.store.controllerEpoch(); epoch != 1 {
			t.Errorf("controller epoch %d, want 1: no resignation", epoch)
		}
		h.wantState("t", 0, 2, 0, []int32{2, 1}, 0)
	})
}
