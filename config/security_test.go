package config

import (
	"errors"
	"slices"
	"testing"

	"samsa/security"
)

// TestListenersConfig: the listener keys resolve together.
func TestListenersConfig(t *testing.T) {
	c, err := Load("", []string{
		"listeners=PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,internal://127.0.0.1:9095",
		"advertised.listeners=PLAINTEXT://a.example:9092,SSL://a.example:9093,INTERNAL://10.0.0.1:9095",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL",
		"inter.broker.listener.name=INTERNAL",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Listeners) != 3 || c.Listeners[2] != (Listener{Name: "INTERNAL", Protocol: security.SSL, Host: "127.0.0.1", Port: 9095}) {
		t.Fatalf("listeners %v", c.Listeners)
	}
	if c.AdvertisedListeners[2].Host != "10.0.0.1" || c.InterBrokerListener != "INTERNAL" || c.ControlPlaneListener != "" {
		t.Fatalf("advertised %v, inter-broker %s, control plane %q", c.AdvertisedListeners, c.InterBrokerListener, c.ControlPlaneListener)
	}
	if got := deref(brokerByName["listeners"].get(c)); got != "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,internal://127.0.0.1:9095" {
		t.Fatalf("listeners described as %q, want what was configured", got)
	}
}

// TestSSLFor: a listener's own keys win over the broker's, and a SASL_SSL
// listener takes ssl.client.auth only from its own keys (KIP-684).
func TestSSLFor(t *testing.T) {
	c, err := Load("", []string{
		"listeners=PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094,INTERNAL://127.0.0.1:9095",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,INTERNAL:SSL",
		"ssl.keystore.location=/etc/broker.jks",
		"ssl.keystore.password=pw",
		"ssl.client.auth=required",
		"listener.name.internal.ssl.keystore.location=/etc/internal.p12",
		"listener.name.internal.ssl.keystore.type=pkcs12",
		"listener.name.internal.ssl.enabled.protocols=TLSv1.3",
		"listener.name.internal.plain.sasl.jaas.config=kept for SASL",
	})
	if err != nil {
		t.Fatal(err)
	}
	ssl, err := c.SSLFor("SSL", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ssl.Keystore.Location != "/etc/broker.jks" || ssl.Keystore.Type != "JKS" || ssl.ClientAuth != "required" {
		t.Fatalf("SSL listener: %+v", ssl)
	}
	internal, err := c.SSLFor("INTERNAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	if internal.Keystore.Location != "/etc/internal.p12" || internal.Keystore.Type != "PKCS12" || internal.Keystore.Password != "pw" ||
		!slices.Equal(internal.EnabledProtocols, []string{"TLSv1.3"}) || internal.ClientAuth != "required" {
		t.Fatalf("INTERNAL listener: %+v", internal)
	}
	if !slices.Equal(c.SSL.EnabledProtocols, []string{"TLSv1.2", "TLSv1.3"}) {
		t.Fatalf("a listener's override changed the broker's ssl.enabled.protocols: %v", c.SSL.EnabledProtocols)
	}
	if c.ListenerOverrides["INTERNAL"]["plain.sasl.jaas.config"] != "kept for SASL" {
		t.Fatalf("SASL key not kept: %v", c.ListenerOverrides)
	}
	sasl, err := c.SSLFor("SASL_SSL", nil)
	if err != nil || sasl.ClientAuth != "none" {
		t.Fatalf("SASL_SSL listener: client auth %q, %v; want none (KIP-684)", sasl.ClientAuth, err)
	}
	dyn, err := c.SSLFor("SSL", map[string]string{"ssl.keystore.location": "/etc/new.jks"})
	if err != nil || dyn.Keystore.Location != "/etc/new.jks" {
		t.Fatalf("extra settings: %+v, %v", dyn, err)
	}
	_, err = c.SSLFor("SSL", map[string]string{"ssl.client.auth": "always"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "listener.name.ssl.ssl.client.auth" {
		t.Fatalf("a bad extra setting: %v", err)
	}
}
