package security

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"
)

// PasswordEncoder encrypts the password configs a broker stores in
// ZooKeeper (/config/brokers/<id>) with password.encoder.secret, in the
// form Kafka's EncryptingPasswordEncoder writes, so that either reads the
// other's: "keyFactoryAlgorithm:...,cipherAlgorithm:...,keyLength:...,
// salt:<base64>,iterations:...,encryptedPassword:<base64>,
// passwordLength:...,initializationVector:<base64>[,authenticationTagLength:...]".
type PasswordEncoder struct {
	Secret     string // password.encoder.secret
	KeyFactory string // password.encoder.keyfactory.algorithm; "" is PBKDF2WithHmacSHA512
	Cipher     string // password.encoder.cipher.algorithm: AES/CBC/PKCS5Padding or AES/GCM/NoPadding
	KeyLength  int    // password.encoder.key.length, bits
	Iterations int    // password.encoder.iterations
}

// ErrNoPasswordSecret: a password config would be stored in ZooKeeper and
// password.encoder.secret is not set (Kafka's message).
var ErrNoPasswordSecret = errors.New("Password encoder secret not configured")

func keyFactory(name string) (func() hash.Hash, string, error) {
	switch name {
	case "", "PBKDF2WithHmacSHA512":
		return sha512.New, "PBKDF2WithHmacSHA512", nil
	case "PBKDF2WithHmacSHA1":
		return sha1.New, name, nil
	}
	return nil, "", fmt.Errorf("password encoder: key factory %q is not supported", name)
}

func (e PasswordEncoder) key(factory, cipherName string, keyLength int, salt []byte, iterations int) ([]byte, error) {
	h, _, err := keyFactory(factory)
	if err != nil {
		return nil, err
	}
	if keyLength != 128 && keyLength != 192 && keyLength != 256 {
		return nil, fmt.Errorf("password encoder: key length %d is not an AES key length", keyLength)
	}
	if iterations <= 0 || iterations > 1_000_000 {
		return nil, fmt.Errorf("password encoder: %d iterations", iterations)
	}
	if !strings.HasPrefix(cipherName, "AES/") {
		return nil, fmt.Errorf("password encoder: cipher %q is not supported", cipherName)
	}
	return pbkdf2.Key(h, e.Secret, salt, iterations, keyLength/8)
}

// Encode encrypts password.
func (e PasswordEncoder) Encode(password string) (string, error) {
	if e.Secret == "" {
		return "", ErrNoPasswordSecret
	}
	_, factory, err := keyFactory(e.KeyFactory)
	if err != nil {
		return "", err
	}
	salt := make([]byte, 256)
	rand.Read(salt)
	key, err := e.key(factory, e.Cipher, e.KeyLength, salt, e.Iterations)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	fields := []string{
		"keyFactoryAlgorithm:" + factory, "cipherAlgorithm:" + e.Cipher,
		"keyLength:" + strconv.Itoa(e.KeyLength), "salt:" + b64(salt), "iterations:" + strconv.Itoa(e.Iterations),
		"passwordLength:" + strconv.Itoa(len(utf16.Encode([]rune(password)))),
	}
	var enc []byte
	switch e.Cipher {
	case "AES/CBC/PKCS5Padding":
		iv := make([]byte, aes.BlockSize)
		rand.Read(iv)
		pad := aes.BlockSize - len(password)%aes.BlockSize
		plain := append([]byte(password), make([]byte, pad)...)
		for i := len(password); i < len(plain); i++ {
			plain[i] = byte(pad)
		}
		enc = make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
		fields = append(fields, "initializationVector:"+b64(iv))
	case "AES/GCM/NoPadding":
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return "", err
		}
		iv := make([]byte, gcm.NonceSize())
		rand.Read(iv)
		enc = gcm.Seal(nil, iv, []byte(password), nil)
		fields = append(fields, "initializationVector:"+b64(iv), "authenticationTagLength:128")
	default:
		return "", fmt.Errorf("password encoder: cipher %q is not supported", e.Cipher)
	}
	fields = append(fields, "encryptedPassword:"+b64(enc))
	return strings.Join(fields, ","), nil
}

// Decode decrypts what Encode, or Kafka, wrote with the same secret.
func (e PasswordEncoder) Decode(encoded string) (string, error) {
	if e.Secret == "" {
		return "", ErrNoPasswordSecret
	}
	params := map[string]string{}
	for _, kv := range strings.Split(encoded, ",") {
		i := strings.LastIndexByte(kv, ':')
		if i < 0 {
			return "", errors.New("password encoder: not an encoded password")
		}
		params[strings.TrimSpace(kv[:i])] = strings.TrimSpace(kv[i+1:])
	}
	num := func(k string) (int, error) {
		n, err := strconv.Atoi(params[k])
		if err != nil {
			return 0, fmt.Errorf("password encoder: %s: %v", k, err)
		}
		return n, nil
	}
	bin := func(k string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(params[k])
		if err != nil {
			return nil, fmt.Errorf("password encoder: %s: %v", k, err)
		}
		return b, nil
	}
	keyLength, err := num("keyLength")
	if err != nil {
		return "", err
	}
	iterations, err := num("iterations")
	if err != nil {
		return "", err
	}
	length, err := num("passwordLength")
	if err != nil {
		return "", err
	}
	salt, err := bin("salt")
	if err != nil {
		return "", err
	}
	enc, err := bin("encryptedPassword")
	if err != nil {
		return "", err
	}
	iv, err := bin("initializationVector")
	if err != nil {
		return "", err
	}
	key, err := e.key(params["keyFactoryAlgorithm"], params["cipherAlgorithm"], keyLength, salt, iterations)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	var plain []byte
	undecodable := errors.New("Password could not be decoded")
	switch params["cipherAlgorithm"] {
	case "AES/CBC/PKCS5Padding":
		if len(iv) != aes.BlockSize || len(enc) == 0 || len(enc)%aes.BlockSize != 0 {
			return "", undecodable
		}
		plain = make([]byte, len(enc))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, enc)
		pad := int(plain[len(plain)-1])
		if pad == 0 || pad > aes.BlockSize {
			return "", undecodable
		}
		plain = plain[:len(plain)-pad]
	case "AES/GCM/NoPadding":
		gcm, err := cipher.NewGCMWithNonceSize(block, max(len(iv), 1))
		if err != nil {
			return "", undecodable
		}
		if plain, err = gcm.Open(nil, iv, enc, nil); err != nil {
			return "", undecodable
		}
	default:
		return "", fmt.Errorf("password encoder: cipher %q is not supported", params["cipherAlgorithm"])
	}
	p := string(plain)
	if len(utf16.Encode([]rune(p))) != length {
		return "", errors.New("Password could not be decoded, sanity check of length failed")
	}
	return p, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
