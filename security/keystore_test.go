package security

import (
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"samsa/internal/testcerts"
)

// TestLoadKeystore loads one key pair from each keystore type Kafka
// knows, and checks that the served chain starts with the certificate
// of the key.
func TestLoadKeystore(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, "test CA")
	p := ca.Server(t, "broker")
	pemFile := testcerts.Write(t, dir, "ks.pem", append(p.KeyPEM(t), p.CertPEM()...))
	encFile := testcerts.Write(t, dir, "ks-enc.pem", append(p.CertPEM(), p.EncryptedKeyPEM(t, "keypw")...))
	p12 := testcerts.Write(t, dir, "ks.p12", p.PKCS12(t, "storepw"))
	jks := testcerts.Write(t, dir, "ks.jks", p.JKS(t, "storepw", "storepw"))
	jksKeyPW := testcerts.Write(t, dir, "ks2.jks", p.JKS(t, "storepw", "keypw"))
	for _, c := range []struct {
		name string
		cfg  StoreConfig
	}{
		{"PEM file", StoreConfig{Type: "PEM", Location: pemFile}},
		{"PEM file, encrypted key", StoreConfig{Type: "PEM", Location: encFile, KeyPassword: "keypw"}},
		{"PEM inline", StoreConfig{Type: "PEM", Key: string(p.KeyPEM(t)), CertificateChain: string(p.CertPEM()) + string(ca.CertPEM())}},
		{"PEM inline, encrypted key", StoreConfig{Type: "PEM", Key: string(p.EncryptedKeyPEM(t, "k")), KeyPassword: "k", CertificateChain: string(p.CertPEM())}},
		{"PKCS12", StoreConfig{Type: "PKCS12", Location: p12, Password: "storepw"}},
		{"pkcs12 lower case", StoreConfig{Type: "pkcs12", Location: p12, Password: "storepw"}},
		{"JKS", StoreConfig{Type: "JKS", Location: jks, Password: "storepw"}},
		{"JKS, key password", StoreConfig{Type: "JKS", Location: jksKeyPW, Password: "storepw", KeyPassword: "keypw"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, err := LoadKeystore(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if cert == nil || !cert.Leaf.Equal(p.Cert) {
				t.Fatalf("leaf %v, want the broker's certificate", cert)
			}
			if cert.PrivateKey == nil {
				t.Fatal("no private key")
			}
		})
	}
	if cert, err := LoadKeystore(StoreConfig{Type: "JKS"}); cert != nil || err != nil {
		t.Fatalf("no keystore configured: %v, %v; want nil, nil", cert, err)
	}
}

// TestLoadKeystoreErrors: wrong passwords and Kafka's invalid
// combinations fail with ErrKeystore, never load a key.
func TestLoadKeystoreErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, "test CA")
	p := ca.Server(t, "broker")
	other := ca.Server(t, "other")
	encFile := testcerts.Write(t, dir, "ks-enc.pem", append(p.CertPEM(), p.EncryptedKeyPEM(t, "keypw")...))
	pemFile := testcerts.Write(t, dir, "ks.pem", append(p.KeyPEM(t), p.CertPEM()...))
	mismatched := testcerts.Write(t, dir, "mismatch.pem", append(p.KeyPEM(t), other.CertPEM()...))
	p12 := testcerts.Write(t, dir, "ks.p12", p.PKCS12(t, "storepw"))
	jks := testcerts.Write(t, dir, "ks.jks", p.JKS(t, "storepw", "keypw"))
	for _, c := range []struct {
		name      string
		cfg       StoreConfig
		wrongPass bool
		msg       string
	}{
		{"PKCS12 wrong password", StoreConfig{Type: "PKCS12", Location: p12, Password: "nope"}, true, ""},
		{"JKS wrong store password", StoreConfig{Type: "JKS", Location: jks, Password: "nope", KeyPassword: "keypw"}, true, ""},
		{"JKS wrong key password", StoreConfig{Type: "JKS", Location: jks, Password: "storepw", KeyPassword: "nope"}, true, ""},
		{"JKS key password defaults to the store's", StoreConfig{Type: "JKS", Location: jks, Password: "storepw"}, true, ""},
		{"PEM wrong key password", StoreConfig{Type: "PEM", Location: encFile, KeyPassword: "nope"}, true, ""},
		{"PEM encrypted key, no password", StoreConfig{Type: "PEM", Location: encFile}, false, "ssl.key.password"},
		{"PEM plain key with a password", StoreConfig{Type: "PEM", Location: pemFile, KeyPassword: "x"}, false, "not encrypted"},
		{"PEM with a store password", StoreConfig{Type: "PEM", Location: pemFile, Password: "x"}, false, "SSL key store password cannot be specified with PEM format"},
		{"PEM key of another certificate", StoreConfig{Type: "PEM", Location: mismatched}, false, "public key"},
		{"JKS file read as PKCS12", StoreConfig{Type: "PKCS12", Location: jks, Password: "storepw"}, false, ""},
		{"PKCS12 file read as JKS", StoreConfig{Type: "JKS", Location: p12, Password: "storepw"}, false, "magic"},
		{"missing file", StoreConfig{Type: "JKS", Location: dir + "/none.jks", Password: "x"}, false, "no such file"},
		{"unknown type", StoreConfig{Type: "BKS", Location: p12, Password: "x"}, false, "unknown keystore type"},
		{"location without password", StoreConfig{Type: "JKS", Location: jks}, false, "SSL key store is specified, but key store password is not specified."},
		{"password without location", StoreConfig{Type: "JKS", Password: "x"}, false, "SSL key store is not specified, but key store password is specified."},
		{"inline key for JKS", StoreConfig{Type: "JKS", Key: string(p.KeyPEM(t)), CertificateChain: string(p.CertPEM())}, false, "SSL private key can be specified only for PEM, but key store type is JKS."},
		{"inline key without chain", StoreConfig{Type: "PEM", Key: string(p.KeyPEM(t))}, false, "certificate chain is not specified"},
		{"inline chain without key", StoreConfig{Type: "PEM", CertificateChain: string(p.CertPEM())}, false, "private key is not specified"},
		{"inline key and location", StoreConfig{Type: "PEM", Location: pemFile, Key: string(p.KeyPEM(t)), CertificateChain: string(p.CertPEM())}, false, "Both SSL key store location and separate private key are specified."},
		{"inline chain of no certificate", StoreConfig{Type: "PEM", Key: string(p.KeyPEM(t)), CertificateChain: "junk"}, false, "At least one certificate expected"},
		{"two keys", StoreConfig{Type: "PEM", Key: string(p.KeyPEM(t)) + string(other.KeyPEM(t)), CertificateChain: string(p.CertPEM())}, false, "Expected one private key, but found 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, err := LoadKeystore(c.cfg)
			if err == nil {
				t.Fatalf("loaded %v, want an error", cert.Leaf.Subject)
			}
			if !errors.Is(err, ErrKeystore) {
				t.Errorf("error %v is not ErrKeystore", err)
			}
			if c.wrongPass && !errors.Is(err, ErrWrongPassword) {
				t.Errorf("error %v is not ErrWrongPassword", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
		})
	}
}

func TestLoadTruststore(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, "test CA")
	pemFile := testcerts.Write(t, dir, "ts.pem", ca.CertPEM())
	p12 := testcerts.Write(t, dir, "ts.p12", ca.PKCS12Trust(t, "trustpw"))
	p12Key := testcerts.Write(t, dir, "ks.p12", ca.Server(t, "b").PKCS12(t, "pw"))
	jks := testcerts.Write(t, dir, "ts.jks", ca.JKSTrust(t, "trustpw"))
	for _, c := range []struct {
		name string
		cfg  StoreConfig
	}{
		{"PEM file", StoreConfig{Type: "PEM", Location: pemFile}},
		{"PEM inline", StoreConfig{Type: "PEM", Certificates: string(ca.CertPEM())}},
		{"PKCS12", StoreConfig{Type: "PKCS12", Location: p12, Password: "trustpw"}},
		{"PKCS12 keystore as a truststore", StoreConfig{Type: "PKCS12", Location: p12Key, Password: "pw"}},
		{"JKS", StoreConfig{Type: "JKS", Location: jks, Password: "trustpw"}},
		{"JKS without a password: not checked, as Java", StoreConfig{Type: "JKS", Location: jks}},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs, err := LoadTruststore(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, cert := range certs {
				found = found || cert.Equal(ca.Cert)
			}
			if !found {
				t.Fatalf("the CA is not among the %d certificates", len(certs))
			}
		})
	}
	for _, c := range []struct {
		name string
		cfg  StoreConfig
		msg  string
	}{
		{"JKS wrong password", StoreConfig{Type: "JKS", Location: jks, Password: "nope"}, "wrong password"},
		{"PKCS12 wrong password", StoreConfig{Type: "PKCS12", Location: p12, Password: "nope"}, "wrong password"},
		{"PEM with password", StoreConfig{Type: "PEM", Location: pemFile, Password: "x"}, "SSL trust store password cannot be specified for PEM format."},
		{"inline for JKS", StoreConfig{Type: "JKS", Certificates: string(ca.CertPEM())}, "SSL trust store certs can be specified only for PEM, but trust store type is JKS."},
		{"inline and location", StoreConfig{Type: "PEM", Location: pemFile, Certificates: string(ca.CertPEM())}, "Both SSL trust store location and separate trust certificates are specified."},
		{"password only", StoreConfig{Type: "JKS", Password: "x"}, "SSL trust store is not specified, but trust store password is specified."},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs, err := LoadTruststore(c.cfg)
			if err == nil || !errors.Is(err, ErrKeystore) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("LoadTruststore = %d certs, %v; want ErrKeystore saying %q", len(certs), err, c.msg)
			}
		})
	}
}

// TestDistinguishedName: the subject as Java's X500Principal.getName()
// writes it, which is what mapping rules see.
func TestDistinguishedName(t *testing.T) {
	ca := testcerts.NewCA(t, "test CA")
	for _, c := range []struct {
		subject pkix.Name
		want    string
	}{
		{pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Example"}, Country: []string{"US"}},
			"CN=alice,OU=eng,O=Example,C=US"},
		{pkix.Name{CommonName: "Tkac, Adam", Locality: []string{"Brno"}, Province: []string{"CZ-64"}},
			`CN=Tkac\, Adam,L=Brno,ST=CZ-64`},
		{pkix.Name{CommonName: " lead+trail "}, `CN=\ lead\+trail\ `},
		{pkix.Name{CommonName: "x", SerialNumber: "42"}, "2.5.4.5=#13023432,CN=x"},
	} {
		p := ca.Issue(t, testcerts.Options{Subject: c.subject})
		got, err := DistinguishedName(p.Cert.RawSubject)
		if err != nil || got != c.want {
			t.Errorf("DistinguishedName(%v) = %q, %v; want %q", c.subject, got, err, c.want)
		}
	}
	if _, err := DistinguishedName([]byte{0x30, 0x05, 1}); err == nil {
		t.Error("DistinguishedName of garbage: no error")
	}
}
