package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/internal/testbatch"
	"samsa/logfile/vfs"
)

// get fetches an admin HTTP path and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// ready calls the /healthz handler directly, for states in which the admin
// listener does not serve (before Start, after Shutdown).
func ready(s *Server) (int, string) {
	w := httptest.NewRecorder()
	s.serveReady(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return w.Code, w.Body.String()
}

// TestHealthz: /healthz is readiness. Before the broker listens it says
// "not serving yet"; once started, ok; when a log has a sticky write error
// (an injected EIO), 503 naming the partition and the error, and it stays
// so after the disk heals, as the partition refuses appends until a
// restart; while shutting down, 503 "shutting down". /livez answers 200
// all along.
func TestHealthz(t *testing.T) {
	props := map[string]string{
		"log.dirs":       t.TempDir(),
		"listeners":      "PLAINTEXT://127.0.0.1:0",
		"admin.listener": "127.0.0.1:0",
	}
	var order []string
	for k := range props {
		order = append(order, k)
	}
	cfg, err := config.New(props, order)
	if err != nil {
		t.Fatal(err)
	}
	faulty := vfs.NewFaulty(vfs.OS)
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), faulty)
	if err != nil {
		t.Fatal(err)
	}
	shutdown := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.Shutdown(ctx)
	}
	t.Cleanup(func() { shutdown() })

	if code, body := ready(s); code != http.StatusServiceUnavailable || !strings.Contains(body, "not serving yet") {
		t.Fatalf("/healthz before Start: %d %q, want 503 not serving yet", code, body)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	admin := "http://" + s.AdminAddr().String()
	if code, body := get(t, admin+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz after Start: %d %q, want 200 ok", code, body)
	}
	if code, _ := get(t, admin+"/livez"); code != http.StatusOK {
		t.Fatalf("/livez after Start: %d", code)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "health"); err != nil {
		t.Fatal(err)
	}
	produce := func(partition int32) int16 {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "health"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = partition, testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 10, Timestamp: time.Now().UnixMilli()})
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := cl.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	if code := produce(1); code != 0 {
		t.Fatalf("produce to a healthy log: error %d", code)
	}
	if code, _ := get(t, admin+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after a good produce: %d", code)
	}

	faulty.FailAfter(0, syscall.EIO)
	if code := produce(0); code == 0 {
		t.Fatal("produce succeeded with writes failing")
	}
	faulty.Heal()
	for _, when := range []string{"after the failed write", "after the disk healed"} {
		code, body := get(t, admin+"/healthz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "partition health-0: ") || !strings.Contains(body, "input/output error") {
			t.Fatalf("/healthz %s: %d %q, want 503 naming partition health-0 and its error", when, code, body)
		}
		if strings.Contains(body, "health-1") {
			t.Fatalf("/healthz %s names the healthy partition: %q", when, body)
		}
		if code, _ := get(t, admin+"/livez"); code != http.StatusOK {
			t.Fatalf("/livez %s: %d, want 200: the process lives", when, code)
		}
	}
	if code := produce(1); code != 0 {
		t.Fatalf("produce to the healthy partition beside the failed one: error %d", code)
	}

	if err := shutdown(); err == nil {
		t.Fatal("shutdown reported a clean close with a log that failed a write")
	}
	if code, body := ready(s); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Fatalf("/healthz after Shutdown: %d %q, want 503 shutting down", code, body)
	}
}
