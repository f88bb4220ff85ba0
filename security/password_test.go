package security

import (
	"strings"
	"testing"
)

// TestPasswordEncoder: what Encode writes Decode reads back with the same
// secret, for both ciphers Kafka offers; another secret fails; the format
// carries Kafka's field names.
func TestPasswordEncoder(t *testing.T) {
	for _, c := range []string{"AES/CBC/PKCS5Padding", "AES/GCM/NoPadding"} {
		e := PasswordEncoder{Secret: "s3cret", Cipher: c, KeyLength: 128, Iterations: 4096}
		for _, pw := range []string{"changeit", "", "päss wörd, with:colons"} {
			enc, err := e.Encode(pw)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"keyFactoryAlgorithm:PBKDF2WithHmacSHA512", "cipherAlgorithm:" + c, "keyLength:128", "iterations:4096", "salt:", "encryptedPassword:", "passwordLength:", "initializationVector:"} {
				if !strings.Contains(enc, f) {
					t.Errorf("%s: %q lacks %s", c, enc, f)
				}
			}
			if strings.Contains(enc, pw) && pw != "" {
				t.Errorf("%s: the password is in the clear in %q", c, enc)
			}
			got, err := e.Decode(enc)
			if err != nil || got != pw {
				t.Errorf("%s: Decode = %q, %v; want %q", c, got, err, pw)
			}
			other := e
			other.Secret = "another"
			if got, err := other.Decode(enc); err == nil && got == pw {
				t.Errorf("%s: decoded with another secret", c)
			}
		}
	}
	if _, err := (PasswordEncoder{}).Encode("x"); err != ErrNoPasswordSecret {
		t.Errorf("Encode without a secret: %v", err)
	}
	// Kafka writes the fields in a HashMap's order: any order decodes.
	e := PasswordEncoder{Secret: "s3cret", Cipher: "AES/CBC/PKCS5Padding", KeyLength: 128, Iterations: 4096}
	enc, _ := e.Encode("changeit")
	parts := strings.Split(enc, ",")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	if got, err := e.Decode(strings.Join(parts, ",")); err != nil || got != "changeit" {
		t.Errorf("fields in another order: %q, %v", got, err)
	}
}
