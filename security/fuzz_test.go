package security

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"samsa/internal/testcerts"
)

// FuzzDistinguishedName: the subject of a client certificate comes from
// the network. Invariants: DistinguishedName never panics; what it
// accepts it formats the same way twice; a name it produced contains no
// unescaped separator inside a value (every ',' or '+' it writes either
// separates attributes or is preceded by a backslash).
func FuzzDistinguishedName(f *testing.F) {
	ca := testcerts.NewCA(f, "fuzz CA")
	for _, p := range []*testcerts.Pair{ca.Server(f, "localhost"), ca.Client(f, "Tkac, Adam+x")} {
		f.Add(p.Cert.RawSubject)
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		dn, err := DistinguishedName(raw)
		if err != nil {
			return
		}
		again, err := DistinguishedName(raw)
		if err != nil || again != dn {
			t.Fatalf("formatted %q, then %q, %v", dn, again, err)
		}
		for i := 0; i < len(dn); i++ {
			if dn[i] == '\\' {
				i++
				continue
			}
			if (dn[i] == ',' || dn[i] == '+') && i+1 < len(dn) && !strings.Contains(dn[i+1:], "=") {
				t.Fatalf("%q: separator at %d with no attribute after it", dn, i)
			}
		}
	})
}

// FuzzMappingRules: ssl.principal.mapping.rules are parsed from the
// configuration and applied to names from certificates. Invariants:
// neither parsing nor mapping panics; a parsed rule set renders to a text
// that parses to the same rendering (Kafka's toString round trip).
func FuzzMappingRules(f *testing.F) {
	for _, s := range []string{"DEFAULT", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L,DEFAULT",
		`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`, "RULE:,RULE:,/,RULE:,\\//U", "RULE:(a)/$12\\$/U"} {
		f.Add(s, "CN=Duke,OU=ServiceUsers,O=Org,C=US")
	}
	f.Fuzz(func(t *testing.T, rules, dn string) {
		m, err := ParseMappingRules(rules)
		if err != nil {
			return
		}
		m.Name(dn)
		// Rendering drops the trailing slash of a rule without a flag;
		// put it back to parse it again.
		var parts []string
		for _, r := range m.rules {
			s := r.String()
			if !r.isDefault && !r.lower && !r.upper {
				s += "/"
			}
			parts = append(parts, s)
		}
		m2, err := ParseMappingRules(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", rules, strings.Join(parts, ","), err)
		}
		if m2.String() != m.String() {
			t.Fatalf("%q renders as %s, which parses to %s", rules, m, m2)
		}
	})
}

// FuzzPEMKeystore: a PEM keystore is read from a file an operator wrote,
// with an encrypted key this package decrypts itself. Invariants: loading
// never panics, and what loads is a usable key pair. (PBKDF2 iterations
// are capped at a million: a mutated count costs at most a second.)
func FuzzPEMKeystore(f *testing.F) {
	ca := testcerts.NewCA(f, "fuzz CA")
	p := ca.Server(f, "localhost")
	enc := p.EncryptedKeyPEM(f, "pw")
	f.Add(append(p.CertPEM(), enc...), "pw")
	f.Add(append(p.CertPEM(), p.KeyPEM(f)...), "")
	b, _ := pem.Decode(enc)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: b.Bytes[:len(b.Bytes)/2]}), "pw")
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		// Inline, as ssl.keystore.key and .certificate.chain: the same
		// parsing as a file's, without the file.
		cert, err := LoadKeystore(StoreConfig{Type: "PEM", Key: string(data), CertificateChain: string(data), KeyPassword: password})
		if err != nil {
			return
		}
		if _, err := tls.X509KeyPair(pemOf(cert.Certificate), keyPEMOf(t, cert)); err != nil {
			t.Fatalf("a loaded keystore is no key pair: %v", err)
		}
	})
}

func pemOf(ders [][]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

func keyPEMOf(t *testing.T, c *tls.Certificate) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// FuzzEncryptedKey: the DER of an encrypted PKCS#8 key, as
// FuzzPEMKeystore's PEM wraps it, where mutations reach the ASN.1.
// Invariants: decryptPKCS8 never panics, and what it returns is no longer
// than the ciphertext it came from.
func FuzzEncryptedKey(f *testing.F) {
	ca := testcerts.NewCA(f, "fuzz CA")
	b, _ := pem.Decode(ca.Server(f, "localhost").EncryptedKeyPEM(f, "pw"))
	f.Add(b.Bytes, "pw")
	f.Add(b.Bytes, "wrong")
	f.Fuzz(func(t *testing.T, der []byte, password string) {
		out, err := decryptPKCS8(der, password)
		if err == nil && len(out) > len(der) {
			t.Fatalf("%d bytes decrypted from %d", len(out), len(der))
		}
	})
}
