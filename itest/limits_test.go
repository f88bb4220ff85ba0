package itest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestIdleConnections: connections.max.idle.ms closes a silent connection,
// and clients reconnect by themselves.
func TestIdleConnections(t *testing.T) {
	b := startBroker(t, "connections.max.idle.ms=300")
	const topic = "idle"
	b.newTopic(t, topic, 1, nil)

	start := time.Now() // before the dial: the broker's clock for it starts later
	conn := b.dial(t)
	conn.expectClosed(t)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("idle connection closed after %v, before connections.max.idle.ms=300", d)
	}
	cl := b.client(t)
	produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("one")})
	deadline := time.Now().Add(10 * time.Second)
	for b.metric(t, "samsa_connections") != 0 { // every client connection times out
		if time.Now().After(deadline) {
			t.Fatal("client connections not closed by the idle timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
	produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("two")})
	if got := b.consumeAll(t, topic); len(got) != 2 {
		t.Fatalf("%d records after reconnecting, want 2", len(got))
	}
}

// TestMaxConnections: with max.connections=2 a third connection is closed
// at once, and a slot freed is usable again.
func TestMaxConnections(t *testing.T) {
	b := startBroker(t, "max.connections=2")
	ping := func(c *rawConn) { c.roundTrip(t, kmsg.NewPtrApiVersionsRequest()) }
	waitConns := func(n float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for b.metric(t, "samsa_connections") != n {
			if time.Now().After(deadline) {
				t.Fatalf("%v connections counted 10s on, want %v", b.metric(t, "samsa_connections"), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitConns(0) // the readiness probe's connection has been let go
	c1, c2 := b.dial(t), b.dial(t)
	ping(c1)
	ping(c2)
	c3 := b.dial(t)
	c3.expectClosed(t)
	c1.Close()
	waitConns(1) // the broker noticed c1 is gone: its slot is free
	ping(b.dial(t))
	ping(c2)
}

// TestApiVersionsClientSoftware: ApiVersions v3+ names the client software;
// Kafka answers a name or version outside [a-zA-Z0-9](?:[a-zA-Z0-9-.]*[a-zA-Z0-9])?
// with INVALID_REQUEST (ApiVersionsRequest.isValid), and the connection
// stays open.
func TestApiVersionsClientSoftware(t *testing.T) {
	b := startBroker(t)
	conn := b.dial(t)
	for _, c := range []struct {
		name, version string
		code          int16
	}{
		{"samsa-itest", "1.0.0", 0},
		{"librdkafka", "2.0.2", 0},
		{"bad name", "1.0", kerr.InvalidRequest.Code},
		{"trailing-", "1.0", kerr.InvalidRequest.Code},
		{"ok", "", kerr.InvalidRequest.Code},
		{"", "1", kerr.InvalidRequest.Code},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(3)
		req.ClientSoftwareName, req.ClientSoftwareVersion = c.name, c.version
		resp := conn.roundTrip(t, req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != c.code {
			t.Errorf("ApiVersions v3 from %q %q: error %d, want %d", c.name, c.version, resp.ErrorCode, c.code)
		}
	}
}

// TestRecoveryFromDamage damages the data directory while the broker is
// down, as a crash or a bad disk would, and checks what the restarted
// broker serves: garbage after the last batch of a segment is cut off
// after a SIGKILL, and a garbled offset index is rebuilt even after a
// clean shutdown; every acknowledged record is served, and producing
// continues at the right offset.
func TestRecoveryFromDamage(t *testing.T) {
	b := startBroker(t, "log.index.interval.bytes=128")
	const topic = "recovery"
	b.newTopic(t, topic, 1, nil)
	cl := b.client(t)
	for i := range 50 {
		produceSync(t, cl, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: make([]byte, 100)})
	}
	cl.Close()
	want := b.consumeAll(t, topic)
	partDir := filepath.Join(b.dir, topic+"-0")
	seg := filepath.Join(partDir, "00000000000000000000.log")
	index := filepath.Join(partDir, "00000000000000000000.index")

	t.Run("torn tail after SIGKILL", func(t *testing.T) {
		b.kill()
		f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A batch header claiming 1000 bytes, then only some of them.
		torn := append(make([]byte, 8), 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 2)
		torn = append(torn, make([]byte, 100)...)
		if _, err := f.Write(torn); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b.restart()
		sameRecords(t, "after a torn tail", b.consumeAll(t, topic), want)
		recs := produceSync(t, b.client(t), &kgo.Record{Topic: topic, Key: []byte("50"), Value: make([]byte, 100)})
		if recs[0].Offset != 50 {
			t.Fatalf("first offset after recovery %d, want 50", recs[0].Offset)
		}
		want = b.consumeAll(t, topic)
	})

	t.Run("garbled index after a clean shutdown", func(t *testing.T) {
		b.stop()
		data, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 64 {
			t.Fatalf("index of %d bytes: want several entries (log.index.interval.bytes=128)", len(data))
		}
		for i := range data {
			data[i] = 0xff
		}
		if err := os.WriteFile(index, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b.restart()
		sameRecords(t, "after a garbled index", b.consumeAll(t, topic), want)
		// Reads from the middle use the index.
		for _, off := range []int64{7, 25, 50} {
			c := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(off)}}))
			got := pollN(t, c, 51-off)
			if got[0].Offset != off || string(got[0].Key) != strconv.Itoa(int(off)) {
				t.Fatalf("reading from %d: first record at %d with key %q", off, got[0].Offset, got[0].Key)
			}
		}
	})
}

// TestMaxConnectionsPerIP: max.connections.per.ip and its overrides bound
// the connections from each address (loopback has 127.0.0.0/8 to dial
// from): beyond its limit a connection is closed at once, and other
// addresses are served.
func TestMaxConnectionsPerIP(t *testing.T) {
	b := startBroker(t, "max.connections.per.ip=2", "max.connections.per.ip.overrides=127.0.0.5:1,127.0.0.6:0")
	ping := func(c *rawConn) { c.roundTrip(t, kmsg.NewPtrApiVersionsRequest()) }
	a := b.dialFrom(t, "127.0.0.5")
	ping(a)
	b.dialFrom(t, "127.0.0.5").expectClosed(t)
	b.dialFrom(t, "127.0.0.6").expectClosed(t)
	c1, c2 := b.dialFrom(t, "127.0.0.7"), b.dialFrom(t, "127.0.0.7")
	ping(c1)
	ping(c2)
	b.dialFrom(t, "127.0.0.7").expectClosed(t)
	ping(a)
	a.Close()
	// Its slot comes back once the broker has seen the close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		again := b.dialFrom(t, "127.0.0.5")
		again.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := again.Write(again.fmt.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1)); err == nil {
			if _, err := again.readFrame(5 * time.Second); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("127.0.0.5 refused 10s after closing its only connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
