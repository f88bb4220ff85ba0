package security

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Keystore and truststore types, ssl.keystore.type and ssl.truststore.type.
const (
	StoreJKS    = "JKS"
	StorePKCS12 = "PKCS12"
	StorePEM    = "PEM"
)

// ErrKeystore marks every failure to load a keystore or truststore: a
// missing file, a wrong password, a store of another type, an invalid
// combination of keys. Its message says which store and why.
var ErrKeystore = errors.New("security: keystore")

// ErrWrongPassword: a keystore's integrity check or a key's decryption
// failed, as it does with a wrong password.
var ErrWrongPassword = errors.New("security: wrong password")

// StoreConfig is a keystore or truststore as Kafka's ssl.keystore.* or
// ssl.truststore.* keys describe it. An empty string is an unset key.
type StoreConfig struct {
	Type     string // JKS, PKCS12 or PEM
	Location string // a file of that type
	Password string // the store's password (not for PEM)
	// KeyPassword (keystores) is ssl.key.password: the private key's
	// password in a JKS store (the store's password when unset), or the
	// password of an encrypted PKCS#8 key in PEM.
	KeyPassword string
	// Key and CertificateChain (keystores) are ssl.keystore.key and
	// ssl.keystore.certificate.chain; Certificates (truststores) is
	// ssl.truststore.certificates: PEM text in the configuration itself.
	Key              string
	CertificateChain string
	Certificates     string
}

func storeErr(what, location string, err error) error {
	if location != "" {
		what += " " + location
	}
	return fmt.Errorf("%w: %s: %w", ErrKeystore, what, err)
}

// LoadKeystore loads a keystore's private key and certificate chain, with
// Kafka's checks of which keys go together (DefaultSslEngineFactory). It
// returns nil and no error when no keystore is configured.
func LoadKeystore(c StoreConfig) (*tls.Certificate, error) {
	typ := strings.ToUpper(c.Type)
	switch {
	case c.Key != "":
		switch {
		case typ != StorePEM:
			return nil, storeErr("keystore", "", fmt.Errorf("SSL private key can be specified only for PEM, but key store type is %s.", c.Type))
		case c.CertificateChain == "":
			return nil, storeErr("keystore", "", errors.New("SSL private key is specified, but certificate chain is not specified."))
		case c.Location != "":
			return nil, storeErr("keystore", "", errors.New("Both SSL key store location and separate private key are specified."))
		case c.Password != "":
			return nil, storeErr("keystore", "", errors.New("SSL key store password cannot be specified with PEM format, only key password may be specified."))
		}
		cert, err := pemKeyPair([]byte(c.CertificateChain), []byte(c.Key), c.KeyPassword)
		if err != nil {
			return nil, storeErr("PEM keystore", "", err)
		}
		return cert, nil
	case c.CertificateChain != "":
		return nil, storeErr("keystore", "", errors.New("SSL certificate chain is specified, but private key is not specified"))
	case typ == StorePEM && c.Location != "":
		if c.Password != "" {
			return nil, storeErr("keystore", c.Location, errors.New("SSL key store password cannot be specified with PEM format, only key password may be specified"))
		}
		data, err := os.ReadFile(c.Location)
		if err != nil {
			return nil, storeErr("PEM keystore", c.Location, err)
		}
		cert, err := pemKeyPair(data, data, c.KeyPassword)
		if err != nil {
			return nil, storeErr("PEM keystore", c.Location, err)
		}
		return cert, nil
	case c.Location == "" && c.Password != "":
		return nil, storeErr("keystore", "", errors.New("SSL key store is not specified, but key store password is specified."))
	case c.Location != "" && c.Password == "":
		return nil, storeErr("keystore", c.Location, errors.New("SSL key store is specified, but key store password is not specified."))
	case c.Location == "":
		return nil, nil
	}
	data, err := os.ReadFile(c.Location)
	if err != nil {
		return nil, storeErr(typ+" keystore", c.Location, err)
	}
	var cert *tls.Certificate
	switch typ {
	case StorePKCS12:
		cert, err = pkcs12KeyPair(data, c.Password)
	case StoreJKS:
		keyPassword := c.KeyPassword
		if keyPassword == "" {
			keyPassword = c.Password
		}
		cert, err = jksKeyPair(data, c.Password, keyPassword)
	default:
		err = fmt.Errorf("unknown keystore type %q: want JKS, PKCS12 or PEM", c.Type)
	}
	if err != nil {
		return nil, storeErr(typ+" keystore", c.Location, err)
	}
	return cert, nil
}

// LoadTruststore loads a truststore's certificates. It returns nil and
// no error when no truststore is configured: the system's roots are
// trusted then, as the JVM's default trust store is by Kafka.
func LoadTruststore(c StoreConfig) ([]*x509.Certificate, error) {
	typ := strings.ToUpper(c.Type)
	switch {
	case c.Certificates != "":
		switch {
		case typ != StorePEM:
			return nil, storeErr("truststore", "", fmt.Errorf("SSL trust store certs can be specified only for PEM, but trust store type is %s.", c.Type))
		case c.Location != "":
			return nil, storeErr("truststore", "", errors.New("Both SSL trust store location and separate trust certificates are specified."))
		case c.Password != "":
			return nil, storeErr("truststore", "", errors.New("SSL trust store password cannot be specified for PEM format."))
		}
		certs, err := pemCertificates([]byte(c.Certificates))
		if err != nil {
			return nil, storeErr("PEM truststore", "", err)
		}
		return certs, nil
	case typ == StorePEM && c.Location != "" && c.Password != "":
		return nil, storeErr("truststore", c.Location, errors.New("SSL trust store password cannot be specified for PEM format."))
	case c.Location == "" && c.Password != "":
		return nil, storeErr("truststore", "", errors.New("SSL trust store is not specified, but trust store password is specified."))
	case c.Location == "":
		return nil, nil
	}
	data, err := os.ReadFile(c.Location)
	if err != nil {
		return nil, storeErr(typ+" truststore", c.Location, err)
	}
	var certs []*x509.Certificate
	switch typ {
	case StorePEM:
		certs, err = pemCertificates(data)
	case StorePKCS12:
		certs, err = pkcs12Certificates(data, c.Password)
	case StoreJKS:
		certs, err = jksCertificates(data, c.Password)
	default:
		err = fmt.Errorf("unknown truststore type %q: want JKS, PKCS12 or PEM", c.Type)
	}
	if err != nil {
		return nil, storeErr(typ+" truststore", c.Location, err)
	}
	if len(certs) == 0 {
		return nil, storeErr(typ+" truststore", c.Location, errors.New("no certificate in the trust store"))
	}
	return certs, nil
}

// pemKeyPair reads the certificate chain from certPEM and the one private
// key from keyPEM (both may be one file): PKCS#8, encrypted PKCS#8 with
// keyPassword (as Kafka's PemStore), and also PKCS#1 RSA and SEC 1 EC keys.
func pemKeyPair(certPEM, keyPEM []byte, keyPassword string) (*tls.Certificate, error) {
	certs, err := pemCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	var keys []*pem.Block
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			keys = append(keys, b)
		}
	}
	switch {
	case len(keys) == 0:
		return nil, errors.New("Private key not provided")
	case len(keys) > 1:
		return nil, fmt.Errorf("Expected one private key, but found %d", len(keys))
	}
	key, err := parsePEMKey(keys[0], keyPassword)
	if err != nil {
		return nil, err
	}
	return keyPair(key, certs)
}

func parsePEMKey(b *pem.Block, password string) (crypto.PrivateKey, error) {
	switch b.Type {
	case "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, errors.New("the private key is encrypted: set ssl.key.password")
		}
		der, err := decryptPKCS8(b.Bytes, password)
		if err != nil {
			return nil, err
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: the private key does not decrypt: %v", ErrWrongPassword, err)
		}
		return key, nil
	case "PRIVATE KEY":
		if password != "" {
			return nil, errors.New("ssl.key.password is set, but the private key is not encrypted")
		}
		return x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		if _, encrypted := b.Headers["DEK-Info"]; encrypted {
			return nil, errors.New("legacy PEM encryption (DEK-Info) is not supported: convert the key to encrypted PKCS#8 (openssl pkcs8 -topk8)")
		}
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(b.Bytes)
	}
	return nil, fmt.Errorf("unsupported PEM block %q", b.Type)
}

func pemCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("At least one certificate expected, but none found")
	}
	return certs, nil
}

func pkcs12KeyPair(data []byte, password string) (*tls.Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, pkcs12Err(err)
	}
	return keyPair(key, append([]*x509.Certificate{leaf}, cas...))
}

func pkcs12Certificates(data []byte, password string) ([]*x509.Certificate, error) {
	certs, err := pkcs12.DecodeTrustStore(data, password)
	if err == nil {
		return certs, nil
	}
	// Not a Java trust store (its certificates lack Java's trusted-entry
	// attribute): a store with a key entry trusts its certificates, as
	// Java's trust manager does with a keystore.
	if _, leaf, cas, err2 := pkcs12.DecodeChain(data, password); err2 == nil {
		return append([]*x509.Certificate{leaf}, cas...), nil
	}
	return nil, pkcs12Err(err)
}

func pkcs12Err(err error) error {
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
		return fmt.Errorf("%w: %v", ErrWrongPassword, err)
	}
	return err
}

func loadJKS(data []byte, password string) (keystore.KeyStore, error) {
	ks := keystore.New(keystore.WithMinPasswordLen(0), keystore.WithOrderedAliases())
	err := ks.Load(bytes.NewReader(data), []byte(password))
	if err != nil && strings.Contains(err.Error(), "invalid digest") {
		return ks, fmt.Errorf("%w: the keystore's integrity check failed", ErrWrongPassword)
	}
	return ks, err
}

func jksKeyPair(data []byte, password, keyPassword string) (*tls.Certificate, error) {
	ks, err := loadJKS(data, password)
	if err != nil {
		return nil, err
	}
	// Java's key manager picks a key entry per handshake; this broker
	// serves the first by alias.
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPassword))
		if err != nil {
			return nil, fmt.Errorf("%w: key entry %q: %v", ErrWrongPassword, alias, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("key entry %q: %w", alias, err)
		}
		chain, err := jksChain(e.CertificateChain)
		if err != nil {
			return nil, fmt.Errorf("key entry %q: %w", alias, err)
		}
		return keyPair(key, chain)
	}
	return nil, errors.New("no private key entry in the keystore")
}

// jksCertificates reads a JKS truststore. Without a password Java reads a
// store without checking its integrity; keystore-go always checks, but it
// has read the entries by then, so those are used (as Java would).
func jksCertificates(data []byte, password string) ([]*x509.Certificate, error) {
	ks, err := loadJKS(data, password)
	if err != nil && !(password == "" && errors.Is(err, ErrWrongPassword)) {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var raw []keystore.Certificate
		if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
			raw = []keystore.Certificate{e.Certificate}
		} else if chain, err := ks.GetPrivateKeyEntryCertificateChain(alias); err == nil && len(chain) > 0 {
			raw = chain[:1]
		}
		c, err := jksChain(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", alias, err)
		}
		certs = append(certs, c...)
	}
	return certs, nil
}

func jksChain(raw []keystore.Certificate) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(raw))
	for _, c := range raw {
		if c.Type != "X509" && c.Type != "X.509" {
			return nil, fmt.Errorf("certificate of type %q", c.Type)
		}
		x, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// keyPair puts the certificate whose public key is key's first, then the
// rest in their order, and checks that there is one.
func keyPair(key crypto.PrivateKey, certs []*x509.Certificate) (*tls.Certificate, error) {
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	i := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return samePublicKey(c.PublicKey, pub.Public()) })
	if i < 0 {
		return nil, errors.New("no certificate of the chain holds the private key's public key")
	}
	chain := append([]*x509.Certificate{certs[i]}, slices.Delete(slices.Clone(certs), i, i+1)...)
	out := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	switch a := a.(type) {
	case *rsa.PublicKey:
		return a.Equal(b)
	case *ecdsa.PublicKey:
		return a.Equal(b)
	case ed25519.PublicKey:
		return a.Equal(b)
	}
	return false
}
