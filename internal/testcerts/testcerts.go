// Package testcerts makes certificates and keystores for tests: a CA,
// server and client certificates signed by it (or expired, or by another
// CA), written as Kafka's keystore types: PEM files (with the key
// encrypted as PKCS#8 when asked), PKCS12 and JKS. Keys are ECDSA P-256:
// quick to make, accepted by every client the tests drive.
//
// Only tests import it; nothing here is fit to secure anything.
package testcerts

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Pair is a certificate with its key and the chain up to (not including)
// the CA.
type Pair struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	CA   *CA
}

func nextSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// NewCA makes a self-signed CA named cn, valid for a day.
func NewCA(tb testing.TB, cn string) *CA {
	tb.Helper()
	key := newKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Samsa tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &CA{Cert: c, Key: key}
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Options shape a certificate Issue makes.
type Options struct {
	Subject   pkix.Name
	DNSNames  []string
	IPs       []net.IP
	NotBefore time.Time // zero: an hour ago
	NotAfter  time.Time // zero: a day from now
}

// Issue makes a certificate signed by ca for both server and client use.
func (ca *CA) Issue(tb testing.TB, o Options) *Pair {
	tb.Helper()
	key := newKey(tb)
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      o.Subject,
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPs,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &Pair{Cert: c, Key: key, CA: ca}
}

// Server issues a certificate for localhost and 127.0.0.1.
func (ca *CA) Server(tb testing.TB, cn string) *Pair {
	return ca.Issue(tb, Options{Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{"brokers"}, Organization: []string{"Samsa tests"}},
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}})
}

// Client issues a client certificate with subject CN=cn,OU=clients,O=Samsa tests.
func (ca *CA) Client(tb testing.TB, cn string) *Pair {
	return ca.Issue(tb, Options{Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{"clients"}, Organization: []string{"Samsa tests"}}})
}

// TLS is the pair as a tls.Certificate.
func (p *Pair) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
}

// Pool is a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertPEM is the CA's certificate in PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// CertPEM is the certificate in PEM.
func (p *Pair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Cert.Raw})
}

// KeyPEM is the key as unencrypted PKCS#8 PEM.
func (p *Pair) KeyPEM(tb testing.TB) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncryptedKeyPEM is the key as PKCS#8 encrypted with PBES2
// (PBKDF2-HMAC-SHA256, AES-256-CBC), as openssl pkcs8 -topk8 writes it.
func (p *Pair) EncryptedKeyPEM(tb testing.TB, password string) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		tb.Fatal(err)
	}
	salt, iv := make([]byte, 16), make([]byte, 16)
	rand.Read(salt)
	rand.Read(iv)
	const iter = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	pad := 16 - len(der)%16
	plain := append(der, bytes.Repeat([]byte{byte(pad)}, pad)...)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	type algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := struct {
		Salt      []byte
		Iter      int
		KeyLength int
		PRF       algo
	}{salt, iter, 32, algo{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Parameters: asn1.NullRawValue}}
	params := struct{ KDF, Enc algo }{
		algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, raw(kdf)},
		algo{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, raw(iv)},
	}
	info := struct {
		Algo algo
		Data []byte
	}{algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, raw(params)}, enc}
	out, err := asn1.Marshal(info)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out})
}

// PKCS12 is a PKCS12 keystore of the pair and its CA, as keytool makes
// them (modern encryption: PBES2 with AES-256, SHA-256 MAC).
func (p *Pair) PKCS12(tb testing.TB, password string) []byte {
	tb.Helper()
	data, err := pkcs12.Modern.Encode(p.Key, p.Cert, []*x509.Certificate{p.CA.Cert}, password)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// PKCS12Trust is a PKCS12 truststore of the CA, marked as Java marks
// trusted entries.
func (ca *CA) PKCS12Trust(tb testing.TB, password string) []byte {
	tb.Helper()
	data, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert}, password)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// JKS is a JKS keystore with one key entry, alias "broker", its key
// protected with keyPassword.
func (p *Pair) JKS(tb testing.TB, storePassword, keyPassword string) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		tb.Fatal(err)
	}
	ks := keystore.New(keystore.WithMinPasswordLen(0))
	err = ks.SetPrivateKeyEntry("broker", keystore.PrivateKeyEntry{
		CreationTime: time.Now(),
		PrivateKey:   der,
		CertificateChain: []keystore.Certificate{
			{Type: "X509", Content: p.Cert.Raw},
			{Type: "X509", Content: p.CA.Cert.Raw},
		},
	}, []byte(keyPassword))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(storePassword)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// JKSTrust is a JKS truststore holding the CA.
func (ca *CA) JKSTrust(tb testing.TB, password string) []byte {
	tb.Helper()
	ks := keystore.New(keystore.WithMinPasswordLen(0))
	err := ks.SetTrustedCertificateEntry("ca", keystore.TrustedCertificateEntry{
		CreationTime: time.Now(),
		Certificate:  keystore.Certificate{Type: "X509", Content: ca.Cert.Raw},
	})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// Write writes data to name in dir and returns its path.
func Write(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
