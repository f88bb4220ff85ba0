package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"samsa/config"
)

// A port already taken is the same fault for the Kafka listener and the
// admin listener: Start fails with "listen <listener>: ... address already
// in use", not a configuration error (which the command exits 2 on).
func TestBusyPortsFailAlike(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	for _, tc := range []struct {
		name   string
		props  map[string]string
		prefix string
	}{
		{"kafka", map[string]string{"listeners": "PLAINTEXT://" + addr, "admin.listener": ""}, "listen PLAINTEXT://" + addr + ": "},
		{"admin", map[string]string{"listeners": "PLAINTEXT://127.0.0.1:0", "admin.listener": addr}, "listen admin http://" + addr + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.props["log.dirs"] = t.TempDir()
			var order []string
			for k := range tc.props {
				order = append(order, k)
			}
			cfg, err := config.New(tc.props, order)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Start()
			s.Shutdown(context.Background())
			var ce *config.Error
			if err == nil || errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.prefix) || !strings.HasSuffix(err.Error(), "address already in use") {
				t.Fatalf("Start: %v; want %q...address already in use, not a configuration error", err, tc.prefix)
			}
		})
	}
}
