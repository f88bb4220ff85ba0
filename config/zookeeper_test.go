package config

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"samsa/internal/testcerts"
)

// expectError checks that err is a config *Error about key whose message
// holds each of parts.
func expectError(t *testing.T, what string, err error, key string, parts ...string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != key {
		t.Errorf("%s: %v, want an error of %s", what, err, key)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want it to say %q", what, err, p)
		}
	}
}

// The ZooKeeper client's keys checked at load, before any file is read.
func TestZookeeperKeys(t *testing.T) {
	const netty = "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"
	for _, tc := range []struct {
		name      string
		overrides []string
		key, says string // "" key: valid
	}{
		{"defaults", nil, "", ""},
		{"TLS with Netty", []string{"zookeeper.ssl.client.enable=true", netty}, "", ""},
		{"Netty's simple name", []string{"zookeeper.ssl.client.enable=true", "zookeeper.clientCnxnSocket=ClientCnxnSocketNetty"}, "", ""},
		{"Netty without TLS", []string{netty}, "", ""},
		{"NIO without TLS", []string{"zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNIO"}, "", ""},
		{"TLS without a socket", []string{"zookeeper.ssl.client.enable=true"}, "zookeeper.clientCnxnSocket", "needs zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"},
		{"TLS with NIO", []string{"zookeeper.ssl.client.enable=true", "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNIO"},
			"zookeeper.clientCnxnSocket", "TLS to ZooKeeper needs"},
		{"unknown socket", []string{"zookeeper.clientCnxnSocket=com.example.Socket"}, "zookeeper.clientCnxnSocket", "Couldn't instantiate com.example.Socket"},
		{"CRL with TLS", []string{"zookeeper.ssl.client.enable=true", netty, "zookeeper.ssl.crl.enable=true"}, "zookeeper.ssl.crl.enable", "revocation"},
		{"OCSP with TLS", []string{"zookeeper.ssl.client.enable=true", netty, "zookeeper.ssl.ocsp.enable=true"}, "zookeeper.ssl.ocsp.enable", "revocation"},
		{"CRL without TLS", []string{"zookeeper.ssl.crl.enable=true"}, "", ""},
		{"unknown protocol", []string{"zookeeper.ssl.enabled.protocols=TLSv1.2,TLSv9"}, "zookeeper.ssl.enabled.protocols", `"TLSv9"`},
		{"unknown suite", []string{"zookeeper.ssl.cipher.suites=TLS_NOPE"}, "zookeeper.ssl.cipher.suites", `"TLS_NOPE"`},
		{"bad protocol", []string{"zookeeper.ssl.protocol=SSLv3"}, "zookeeper.ssl.protocol", "must be one of"},
		{"bad store type", []string{"zookeeper.ssl.keystore.type=BCFKS"}, "zookeeper.ssl.keystore.type", "JKS, PKCS12 or PEM"},
		{"bad identification", []string{"zookeeper.ssl.endpoint.identification.algorithm=ldaps"}, "zookeeper.ssl.endpoint.identification.algorithm", "HTTPS or empty"},
	} {
		_, err := Load("", tc.overrides)
		if tc.key == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		expectError(t, tc.name, err, tc.key, tc.says)
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The JAAS file's Client section gives the digest credentials; with
// zookeeper.set.acl and no identity the broker refuses, with Kafka's
// words.
func TestZookeeperDigest(t *testing.T) {
	jaas := writeFile(t, "jaas.conf", `
KafkaServer {
    org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";
};
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="kafka"
    password="kafka-secret";
};
ZkOther {
    org.apache.zookeeper.server.auth.DigestLoginModule required username="other" password="o";
};
Kerberos {
    com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;
};
NoPassword {
    org.apache.zookeeper.server.auth.DigestLoginModule required username="u";
};
`)
	load := func(overrides ...string) (ZookeeperClient, error) {
		t.Helper()
		c, err := Load("", overrides)
		if err != nil {
			t.Fatal(err)
		}
		return c.ZookeeperClient()
	}
	zc, err := load()
	if err != nil || zc != (ZookeeperClient{}) {
		t.Fatalf("defaults: %+v, %v; want no security", zc, err)
	}
	zc, err = load("java.security.auth.login.config="+jaas, "zookeeper.set.acl=true")
	if err != nil || zc.Digest != "kafka:kafka-secret" || !zc.SecureACLs || zc.TLS != nil {
		t.Fatalf("Client section: %+v, %v", zc, err)
	}
	// Credentials are used without secure ACLs too: a tree secured by
	// other brokers can be written.
	if zc, err = load("java.security.auth.login.config=" + jaas); err != nil || zc.Digest != "kafka:kafka-secret" || zc.SecureACLs {
		t.Fatalf("without zookeeper.set.acl: %+v, %v", zc, err)
	}
	if zc, err = load("java.security.auth.login.config="+jaas, "zookeeper.sasl.clientconfig=ZkOther"); err != nil || zc.Digest != "other:o" {
		t.Fatalf("zookeeper.sasl.clientconfig=ZkOther: %+v, %v", zc, err)
	}

	kafkaWords := "zookeeper.set.acl is true, but ZooKeeper client TLS configuration identifying at least zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location was not present and the verification of the JAAS login file failed"
	_, err = load("zookeeper.set.acl=true")
	expectError(t, "set.acl alone", err, "zookeeper.set.acl", kafkaWords, "java.security.auth.login.config=null")
	_, err = load("zookeeper.set.acl=true", "java.security.auth.login.config="+jaas, "zookeeper.sasl.clientconfig=Missing")
	expectError(t, "no such section", err, "zookeeper.set.acl", kafkaWords, "zookeeper.sasl.clientconfig=Missing")
	// TLS without a keystore is no identity either.
	_, err = load("zookeeper.set.acl=true", "zookeeper.ssl.client.enable=true", "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty")
	expectError(t, "TLS without a client certificate", err, "zookeeper.set.acl", kafkaWords)

	_, err = load("java.security.auth.login.config="+jaas, "zookeeper.sasl.client=false")
	expectError(t, "sasl.client=false", err, "java.security.auth.login.config", "zookeeper.sasl.client is false")
	_, err = load("java.security.auth.login.config="+jaas, "zookeeper.sasl.clientconfig=Kerberos")
	expectError(t, "Kerberos", err, "java.security.auth.login.config", "Krb5LoginModule", "digest credentials only")
	_, err = load("java.security.auth.login.config="+jaas, "zookeeper.sasl.clientconfig=NoPassword")
	expectError(t, "no password", err, "java.security.auth.login.config", "needs username and password")
	_, err = load("java.security.auth.login.config=" + filepath.Join(t.TempDir(), "missing.conf"))
	expectError(t, "missing file", err, "java.security.auth.login.config", "Exception while loading Zookeeper JAAS login context", "no such file")
	_, err = load("java.security.auth.login.config=" + writeFile(t, "bad.conf", "Client { DigestLoginModule required username=\"u\" };"))
	expectError(t, "unparsable file", err, "java.security.auth.login.config", "Exception while loading Zookeeper JAAS login context")
}

// TLS towards ZooKeeper: each store type, its type from its extension or
// its key, ZooKeeper's one password for store and key, the versions
// zookeeper.ssl.protocol enables alone, host name checks, and the key
// named when a store fails.
func TestZookeeperTLS(t *testing.T) {
	ca := testcerts.NewCA(t, "zk CA")
	broker := ca.Client(t, "broker")
	dir := t.TempDir()
	const pw = "store-pw"
	p12 := testcerts.Write(t, dir, "broker.p12", broker.PKCS12(t, pw))
	jks := testcerts.Write(t, dir, "broker.jks", broker.JKS(t, pw, pw))
	pem := testcerts.Write(t, dir, "broker.pem", append(broker.CertPEM(), broker.EncryptedKeyPEM(t, pw)...))
	trustJKS := testcerts.Write(t, dir, "trust.jks", ca.JKSTrust(t, pw))
	trustPEM := testcerts.Write(t, dir, "ca.pem", ca.CertPEM())
	noExt := testcerts.Write(t, dir, "broker.store", broker.PKCS12(t, pw))

	base := []string{"zookeeper.ssl.client.enable=true", "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"}
	resolve := func(overrides ...string) (ZookeeperClient, error) {
		t.Helper()
		c, err := Load("", append(append([]string{}, base...), overrides...))
		if err != nil {
			t.Fatal(err)
		}
		return c.ZookeeperClient()
	}
	for name, keystore := range map[string][]string{
		"PKCS12 by extension": {"zookeeper.ssl.keystore.location=" + p12, "zookeeper.ssl.keystore.password=" + pw},
		"JKS by extension":    {"zookeeper.ssl.keystore.location=" + jks, "zookeeper.ssl.keystore.password=" + pw},
		"PEM, encrypted key":  {"zookeeper.ssl.keystore.location=" + pem, "zookeeper.ssl.keystore.password=" + pw},
		"PKCS12 by its key":   {"zookeeper.ssl.keystore.location=" + noExt, "zookeeper.ssl.keystore.password=" + pw, "zookeeper.ssl.keystore.type=pkcs12"},
	} {
		zc, err := resolve(append(keystore, "zookeeper.set.acl=true", "zookeeper.ssl.truststore.location="+trustJKS, "zookeeper.ssl.truststore.password="+pw)...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg := zc.TLS
		if cfg == nil || len(cfg.Certificates) != 1 || !cfg.Certificates[0].Leaf.Equal(broker.Cert) || cfg.RootCAs == nil || !zc.SecureACLs {
			t.Errorf("%s: %+v: want the broker's certificate, the CA, secure ACLs", name, zc)
			continue
		}
		if cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify {
			t.Errorf("%s: versions %x-%x, skip verify %v: want TLS 1.2 alone (zookeeper.ssl.protocol's default) and host names checked",
				name, cfg.MinVersion, cfg.MaxVersion, cfg.InsecureSkipVerify)
		}
	}

	zc, err := resolve("zookeeper.ssl.truststore.location="+trustPEM, "zookeeper.ssl.protocol=TLS", "zookeeper.ssl.endpoint.identification.algorithm=")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := zc.TLS; cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS13 || !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil || len(cfg.Certificates) != 0 {
		t.Fatalf("protocol TLS, no host name check, no keystore: %+v", cfg)
	}
	zc, err = resolve("zookeeper.ssl.enabled.protocols=TLSv1.3")
	if err != nil || zc.TLS.MinVersion != tls.VersionTLS13 || zc.TLS.RootCAs != nil {
		t.Fatalf("enabled protocols TLSv1.3, the system's CAs: %+v, %v", zc.TLS, err)
	}

	_, err = resolve("zookeeper.ssl.keystore.location="+noExt, "zookeeper.ssl.keystore.password="+pw)
	expectError(t, "no extension, no type", err, "zookeeper.ssl.keystore.type", "Unable to auto-detect store file type from file name")
	_, err = resolve("zookeeper.ssl.keystore.location="+p12, "zookeeper.ssl.keystore.password=wrong")
	expectError(t, "wrong keystore password", err, "zookeeper.ssl.keystore.location", p12)
	_, err = resolve("zookeeper.ssl.truststore.location="+filepath.Join(dir, "none.jks"), "zookeeper.ssl.truststore.password="+pw)
	expectError(t, "missing truststore", err, "zookeeper.ssl.truststore.location", "none.jks")
	_, err = resolve("zookeeper.ssl.truststore.password=" + pw)
	expectError(t, "password without store", err, "zookeeper.ssl.truststore.password", "location is not set")
	// The stores are read only with TLS on.
	if c, err := Load("", []string{"zookeeper.ssl.keystore.location=" + filepath.Join(dir, "none.p12")}); err != nil {
		t.Fatal(err)
	} else if zc, err := c.ZookeeperClient(); err != nil || zc.TLS != nil {
		t.Fatalf("stores without zookeeper.ssl.client.enable: %+v, %v", zc, err)
	}
}

// zookeeperAlternatives are valid values of the ZooKeeper client's keys
// other than their defaults, for TestEveryBrokerKeySetsAField.
var zookeeperAlternatives = map[string]string{
	"zookeeper.clientCnxnSocket":                      "org.apache.zookeeper.ClientCnxnSocketNetty",
	"zookeeper.ssl.keystore.location":                 "/etc/samsa/zk.p12",
	"zookeeper.ssl.keystore.password":                 "secret",
	"zookeeper.ssl.truststore.location":               "/etc/samsa/zk-trust.p12",
	"zookeeper.ssl.truststore.password":               "secret",
	"zookeeper.ssl.enabled.protocols":                 "TLSv1.2,TLSv1.3",
	"zookeeper.ssl.cipher.suites":                     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"zookeeper.ssl.endpoint.identification.algorithm": "https",
	"java.security.auth.login.config":                 "/etc/samsa/jaas.conf",
	"zookeeper.sasl.clientconfig":                     "ZkClient",
}
