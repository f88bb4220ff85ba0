package kclient

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testcerts"
	"samsa/security"
)

// TestTLSDial: with a TLS dial function a Conn negotiates versions and
// sends requests over TLS, presenting the broker's certificate to a peer
// that requires one (an SSL inter-broker listener with mTLS).
func TestTLSDial(t *testing.T) {
	ca := testcerts.NewCA(t, "kclient CA")
	server, client := ca.Server(t, "peer"), ca.Client(t, "broker-1")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.TLS()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan string, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		tc := nc.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			peers <- "handshake: " + err.Error()
			return
		}
		peers <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		answerMetadata(tc)
	}()
	cfg, err := security.ClientTLS(security.SSLConfig{
		EndpointIdentification: "https",
		Keystore:               security.StoreConfig{Type: "PEM", Key: string(client.KeyPEM(t)), CertificateChain: string(client.CertPEM())},
		Truststore:             security.StoreConfig{Type: "PEM", Certificates: string(ca.CertPEM())},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c := New(net.JoinHostPort("localhost", port), "test", WithDial(security.Dialer(cfg, time.Second)))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Request(ctx, kmsg.NewPtrMetadataRequest())
	if err != nil {
		t.Fatal(err)
	}
	if m := resp.(*kmsg.MetadataResponse); len(m.Brokers) != 1 || m.Brokers[0].NodeID != 7 {
		t.Fatalf("metadata %+v", m)
	}
	if who := <-peers; who != "broker-1" {
		t.Fatalf("the peer saw %q", who)
	}
}

// answerMetadata answers ApiVersions (Metadata up to v12) and then
// Metadata requests naming broker 7.
func answerMetadata(nc net.Conn) {
	for {
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		key, version := int16(binary.BigEndian.Uint16(frame)), int16(binary.BigEndian.Uint16(frame[2:]))
		body := append([]byte(nil), frame[4:8]...) // correlation id
		if key == 18 {
			resp := kmsg.NewPtrApiVersionsResponse()
			resp.SetVersion(version)
			k := kmsg.NewApiVersionsResponseApiKey()
			k.ApiKey, k.MaxVersion = 3, 12
			resp.ApiKeys = append(resp.ApiKeys, k)
			body = resp.AppendTo(body)
		} else {
			resp := kmsg.NewPtrMetadataResponse()
			resp.SetVersion(version)
			b := kmsg.NewMetadataResponseBroker()
			b.NodeID, b.Host, b.Port = 7, "localhost", 1
			resp.Brokers = append(resp.Brokers, b)
			if resp.IsFlexible() {
				body = append(body, 0)
			}
			body = resp.AppendTo(body)
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		if _, err := nc.Write(append(out, body...)); err != nil {
			return
		}
	}
}
