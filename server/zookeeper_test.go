package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"samsa/config"
)

// A broker with zookeeper.set.acl and no identity for ZooKeeper refuses to
// start with Kafka's reason, a configuration error (exit status 2), before
// it connects: the ZooKeeper address is a listener that never answers, so
// a broker that connected first would fail with another error, after the
// connection timeout.
func TestSetACLWithoutIdentityRefusesToStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := config.Load("", []string{"zookeeper.connect=" + ln.Addr().String(), "zookeeper.set.acl=true",
		"log.dirs=" + t.TempDir(), "zookeeper.connection.timeout.ms=1000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "zookeeper.set.acl" || !strings.Contains(err.Error(), "verification of the JAAS login file failed") {
		t.Fatalf("New = %v, want the zookeeper.set.acl configuration error", err)
	}
}
