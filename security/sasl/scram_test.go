package sasl

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// RFC 7677 section 3: the SCRAM-SHA-256 exchange of user "user" with
// password "pencil" (Kafka's ScramFormatterTest uses the same example).
const (
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	rfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
)

func rfcCredential(t *testing.T) ScramCredential {
	t.Helper()
	salt, _ := base64.StdEncoding.DecodeString(rfcSalt)
	salted, err := SHA256.SaltedPassword("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return SHA256.CredentialFromSalted(salt, salted, 4096)
}

func lookupOf(users map[string]ScramCredential) CredentialLookup {
	return func(_ *ScramMechanism, u string) (ScramCredential, bool) {
		c, ok := users[u]
		return c, ok
	}
}

// TestRFC7677Exchange: the server answers RFC 7677's client messages
// with RFC 7677's server messages, byte for byte.
func TestRFC7677Exchange(t *testing.T) {
	s := &scramServer{mech: SHA256, lookup: lookupOf(map[string]ScramCredential{"user": rfcCredential(t)}),
		nonce: func() string { return rfcServerNonce }}
	got, err := s.Step([]byte(rfcClientFirst))
	if err != nil || string(got) != rfcServerFirst {
		t.Fatalf("server first = %q, %v; want %q", got, err, rfcServerFirst)
	}
	if s.Done() || s.Username() != "" {
		t.Fatal("done after the first message")
	}
	got, err = s.Step([]byte(rfcClientFinal))
	if err != nil || string(got) != rfcServerFinal {
		t.Fatalf("server final = %q, %v; want %q", got, err, rfcServerFinal)
	}
	if !s.Done() || s.Username() != "user" {
		t.Fatalf("done %v, user %q", s.Done(), s.Username())
	}
	if _, err := s.Step([]byte(rfcClientFinal)); !errors.Is(err, ErrFailed) {
		t.Fatalf("a message after completion: %v; want ErrFailed", err)
	}
}

// TestScramCredentialString: Kafka's stored form, read back; Kafka's
// refusals of malformed ones (ScramCredentialUtilsTest).
func TestScramCredentialString(t *testing.T) {
	c := rfcCredential(t)
	s := c.String()
	want := "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,iterations=4096"
	if s != want {
		t.Fatalf("String() = %q\nwant       %q", s, want)
	}
	back, err := ParseScramCredential(s)
	if err != nil || !bytes.Equal(back.Salt, c.Salt) || !bytes.Equal(back.StoredKey, c.StoredKey) ||
		!bytes.Equal(back.ServerKey, c.ServerKey) || back.Iterations != 4096 {
		t.Fatalf("read back %+v, %v", back, err)
	}
	// Any order of the keys.
	if _, err := ParseScramCredential("iterations=8192,server_key=AA==,stored_key=AA==,salt=AA=="); err != nil {
		t.Errorf("keys reordered: %v", err)
	}
	for _, bad := range []string{
		"",
		"salt=AA==,stored_key=AA==,server_key=AA==",                      // no iterations
		"salt=AA==,stored_key=AA==,server_key=AA==,iterations=1,extra=x", // five keys
		"salt=AA==,stored_key=AA==,server_key=AA==,iteration=1",          // misspelt
		"salt=AA==,stored_key=AA==,server_key=AA==,iterations=x",         // not a number
		"salt=AA==,stored_key=AA==,server_key=AA==,iterations=0",         // not positive
		"salt=!!,stored_key=AA==,server_key=AA==,iterations=1",           // not base64
		"salt=AA==,salt=AA==,server_key=AA==,iterations=1",               // a key twice
		"salt=AA==,stored_key=AA==,server_key=AA==,=1",                   // no key
		"salt=AA==;stored_key=AA==;server_key=AA==;iterations=1",         // wrong separator
	} {
		if _, err := ParseScramCredential(bad); !errors.Is(err, ErrCredential) {
			t.Errorf("ParseScramCredential(%q) = %v; want ErrCredential", bad, err)
		}
	}
}

// TestNewCredential: a credential made from a password authenticates that
// password with the client side, with both hashes, and not another.
func TestNewCredential(t *testing.T) {
	for _, m := range ScramMechanisms {
		t.Run(m.Name, func(t *testing.T) {
			cred, err := m.NewCredential("s3cret", 4096)
			if err != nil {
				t.Fatal(err)
			}
			if len(cred.Salt) == 0 || len(cred.StoredKey) != m.Size() || len(cred.ServerKey) != m.Size() {
				t.Fatalf("credential %+v", cred)
			}
			users := lookupOf(map[string]ScramCredential{"al,i=ce": cred})
			if err := exchange(m.Name, NewScram(m, users), Credentials{"al,i=ce", "s3cret"}); err != nil {
				t.Fatalf("right password: %v", err)
			}
			if err := exchange(m.Name, NewScram(m, users), Credentials{"al,i=ce", "wrong"}); !errors.Is(err, ErrFailed) {
				t.Fatalf("wrong password: %v; want ErrFailed", err)
			}
		})
	}
}

// exchange runs a client against a server to the end.
func exchange(mech string, srv Server, cr Credentials) error {
	cl, err := NewClient(mech, cr)
	if err != nil {
		return err
	}
	var challenge []byte
	for {
		resp, done, err := cl.Step(challenge)
		if err != nil {
			return err
		}
		if done && resp == nil {
			if !srv.Done() {
				return errors.New("client done, server not")
			}
			if srv.Username() != cr.Username {
				return errors.New("server authenticated " + srv.Username())
			}
			return nil
		}
		if challenge, err = srv.Step(resp); err != nil {
			return err
		}
	}
}

// TestScramServerFailures: each way an exchange goes wrong ends it with
// ErrFailed, and only the messages Kafka shows clients are Failures.
func TestScramServerFailures(t *testing.T) {
	cred := rfcCredential(t)
	weak := cred
	weak.Iterations = 1024
	users := lookupOf(map[string]ScramCredential{"user": cred, "weak": weak})
	newSrv := func() *scramServer {
		return &scramServer{mech: SHA256, lookup: users, nonce: func() string { return rfcServerNonce }}
	}
	for _, tc := range []struct {
		name    string
		msgs    []string
		visible string // the message a client sees, if a Failure
	}{
		{name: "unknown user", msgs: []string{"n,,n=nobody,r=abc"}},
		{name: "too few iterations", msgs: []string{"n,,n=weak,r=abc"}},
		{name: "other authzid", msgs: []string{"n,a=admin,n=user,r=abc"}, visible: "different from username"},
		{name: "token auth", msgs: []string{"n,,n=user,r=abc,tokenauth=true"}},
		{name: "final first (reordered)", msgs: []string{rfcClientFinal}},
		{name: "first twice", msgs: []string{rfcClientFirst, rfcClientFirst}},
		{name: "truncated first", msgs: []string{rfcClientFirst[:12]}},
		{name: "truncated final", msgs: []string{rfcClientFirst, rfcClientFinal[:len(rfcClientFinal)-5]}},
		{name: "proof too long", msgs: []string{rfcClientFirst, rfcClientFinal[:strings.LastIndex(rfcClientFinal, "p=")] +
			"p=" + base64.StdEncoding.EncodeToString(make([]byte, 64))}},
		{name: "proof short", msgs: []string{rfcClientFirst, rfcClientFinal[:strings.LastIndex(rfcClientFinal, "p=")] + "p=AAAA"}},
		{name: "wrong proof", msgs: []string{rfcClientFirst, rfcClientFinal[:strings.LastIndex(rfcClientFinal, "p=")] +
			"p=" + base64.StdEncoding.EncodeToString(make([]byte, 32))}},
		{name: "wrong nonce", msgs: []string{rfcClientFirst, strings.Replace(rfcClientFinal, "k0,", "k1,", 1)}},
		{name: "channel binding", msgs: []string{rfcClientFirst, strings.Replace(rfcClientFinal, "c=biws", "c=eSws", 1)}},
		{name: "gs2 y", msgs: []string{"y,,n=user,r=abc"}},
		{name: "empty", msgs: []string{""}},
		{name: "mandatory extension", msgs: []string{"n,,m=ext,n=user,r=abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSrv()
			var err error
			for _, m := range tc.msgs {
				if _, err = s.Step([]byte(m)); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v; want ErrFailed", err)
			}
			if s.Done() || s.Username() != "" {
				t.Fatal("authenticated after a failure")
			}
			msg := ClientMessage(err, ScramSHA256, false)
			if tc.visible == "" && msg != "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256" {
				t.Fatalf("client told %q", msg)
			}
			if tc.visible != "" && !strings.Contains(msg, tc.visible) {
				t.Fatalf("client told %q; want %q", msg, tc.visible)
			}
			if _, err := s.Step([]byte(rfcClientFirst)); !errors.Is(err, ErrFailed) {
				t.Fatal("a failed exchange went on")
			}
		})
	}
}

// TestPlainServer follows Kafka's PlainSaslServerTest.
func TestPlainServer(t *testing.T) {
	es, err := ParseJAAS(PlainLoginModule + ` required user_alice="alice-pw" user_bob="";`)
	if err != nil {
		t.Fatal(err)
	}
	users := JAASPlainUsers(es)
	for _, tc := range []struct {
		msg, user, fail string
	}{
		{msg: "\x00alice\x00alice-pw", user: "alice"},
		{msg: "alice\x00alice\x00alice-pw", user: "alice"},
		{msg: "bob\x00alice\x00alice-pw", fail: "authorization id that is different"},
		{msg: "\x00alice\x00wrong", fail: "Invalid username or password"},
		{msg: "\x00carol\x00alice-pw", fail: "Invalid username or password"},
		{msg: "\x00bob\x00x", fail: "Invalid username or password"},
		{msg: "\x00\x00pw", fail: "username not specified"},
		{msg: "\x00alice\x00", fail: "password not specified"},
		{msg: "alice-pw", fail: "expected 3 tokens, got 1"},
		{msg: "\x00alice", fail: "expected 3 tokens, got 2"},
		{msg: "\x00alice\x00alice-pw\x00", fail: "expected 3 tokens, got 4"},
		{msg: "a\x00b\x00c\x00d\x00e", fail: "expected 3 tokens, got 4"},
	} {
		s := NewPlain(users)
		resp, err := s.Step([]byte(tc.msg))
		if tc.fail != "" {
			if !errors.Is(err, ErrFailed) || !strings.Contains(ClientMessage(err, Plain, false), tc.fail) || s.Done() {
				t.Errorf("%q: %v, done %v; want a failure saying %q", tc.msg, err, s.Done(), tc.fail)
			}
			continue
		}
		if err != nil || len(resp) != 0 || !s.Done() || s.Username() != tc.user {
			t.Errorf("%q: %q, %v, done %v, user %q", tc.msg, resp, err, s.Done(), s.Username())
		}
	}
	if err := exchange(Plain, NewPlain(users), Credentials{"alice", "alice-pw"}); err != nil {
		t.Errorf("client against server: %v", err)
	}
}

// TestScramMessages: Kafka's grammar (ScramMessagesTest): what it takes,
// what it refuses, and that what is taken writes back unchanged.
func TestScramMessages(t *testing.T) {
	for _, m := range []string{
		rfcClientFirst,
		"n,a=user,n=user,r=abc",
		"n,,n=us=2Cer=3D,r=a!~",
		"n,,n=user,r=abc,tokenauth=true,other=x y",
		"n,,m=ext,n=user,r=abc",
	} {
		cf, err := ParseClientFirst([]byte(m))
		if err != nil || cf.String() != m {
			t.Errorf("client first %q: %+v, %v", m, cf, err)
		}
	}
	if cf, _ := ParseClientFirst([]byte("n,,n=us=2Cer=3D,r=a")); Username(cf.SASLName) != "us,er=" || SASLName("us,er=") != cf.SASLName {
		t.Errorf("saslname %q decodes to %q", cf.SASLName, Username(cf.SASLName))
	}
	for _, m := range []string{
		"", "n", "n,,n=user", "p=x,,n=user,r=abc", "y,,n=user,r=abc", "n,,n=,r=abc", "n,,n=user,r=",
		"n,,n=us=er,r=abc", "n,,n=user,r=a b", "n,,r=abc,n=user", "n,x=a,n=user,r=abc", "n,,n=user,r=abc,1=x",
		"n,,n=user,r=abc,k=", "n,,n=us\x80er,r=abc", "n,,n=user,r=abc,",
	} {
		if _, err := ParseClientFirst([]byte(m)); !errors.Is(err, ErrFailed) {
			t.Errorf("client first %q accepted", m)
		}
	}
	for _, m := range []string{rfcClientFinal, "c=biws,r=abc,ext=v,p=AAAA"} {
		cf, err := ParseClientFinal([]byte(m))
		if err != nil || cf.String() != m || cf.WithoutProof != m[:strings.LastIndex(m, ",")] {
			t.Errorf("client final %q: %+v, %v", m, cf, err)
		}
	}
	for _, m := range []string{"", "c=biws,r=abc", "c=biws,p=AAAA,r=abc", "c=biw,r=abc,p=AAAA", "c=biws,r=abc,p=AA=A", "r=abc,c=biws,p=AAAA"} {
		if _, err := ParseClientFinal([]byte(m)); !errors.Is(err, ErrFailed) {
			t.Errorf("client final %q accepted", m)
		}
	}
	if sf, err := ParseServerFirst([]byte(rfcServerFirst)); err != nil || sf.String() != rfcServerFirst || sf.Iterations != 4096 {
		t.Errorf("server first: %+v, %v", sf, err)
	}
	for _, m := range []string{"r=abc,s=AAAA,i=0", "r=abc,s=AAAA", "r=abc,s=AAAA,i=x", "r=abc,s=AAAA,i=99999999999999999999"} {
		if _, err := ParseServerFirst([]byte(m)); err == nil {
			t.Errorf("server first %q accepted", m)
		}
	}
	for _, m := range []string{rfcServerFinal, "e=invalid-proof"} {
		if sf, err := ParseServerFinal([]byte(m)); err != nil || sf.String() != m {
			t.Errorf("server final %q: %+v, %v", m, sf, err)
		}
	}
	for _, m := range []string{"", "x=1", "e=", "v=A"} {
		if _, err := ParseServerFinal([]byte(m)); err == nil {
			t.Errorf("server final %q accepted", m)
		}
	}
}

// TestCredentialCache: updates from a user's configs, quotas beside the
// credentials ignored, a user without SCRAM configs gone, a bad
// credential reported and the good one kept.
func TestCredentialCache(t *testing.T) {
	var c CredentialCache
	if _, ok := c.Lookup(SHA256, "alice"); ok {
		t.Fatal("empty cache found alice")
	}
	cred := rfcCredential(t)
	if err := c.Replace(map[string]map[string]string{
		"alice": {ScramSHA256: cred.String(), "producer_byte_rate": "1024"},
		"quota": {"consumer_byte_rate": "1"},
	}); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Lookup(SHA256, "alice"); !ok || got.String() != cred.String() {
		t.Fatalf("alice: %v", ok)
	}
	if _, ok := c.Lookup(SHA512, "alice"); ok {
		t.Fatal("alice has no SHA-512 credential")
	}
	if u := c.Users(); len(u) != 1 || u[0] != "alice" {
		t.Fatalf("users %v", u)
	}
	err := c.Update("bob", map[string]string{ScramSHA512: cred.String(), ScramSHA256: "garbage"})
	if !errors.Is(err, ErrCredential) {
		t.Fatalf("bad credential: %v", err)
	}
	if ms := c.Mechanisms("bob"); len(ms) != 1 || ms[0].Mechanism != SHA512 || ms[0].Iterations != 4096 {
		t.Fatalf("bob's mechanisms %+v", ms)
	}
	c.Update("alice", map[string]string{"producer_byte_rate": "1024"})
	if _, ok := c.Lookup(SHA256, "alice"); ok {
		t.Fatal("alice's credential outlived its removal")
	}
}

// TestLibrdkafkaNonce: librdkafka before 2.6.1 answers with its own nonce
// followed by the server's (which begins with it); as Kafka 3.8.1+ does,
// the server accepts that nonce and checks the proof over the message the
// client signed. Another nonce that merely ends with the server's, or a
// wrong password with the doubled nonce, is refused.
func TestLibrdkafkaNonce(t *testing.T) {
	cred := rfcCredential(t)
	salt, _ := base64.StdEncoding.DecodeString(rfcSalt)
	finalFor := func(nonce, password string) (string, string) {
		salted, _ := SHA256.SaltedPassword(password, salt, 4096)
		clientKey := SHA256.hmac(salted, []byte("Client Key"))
		h := SHA256.hash()
		h.Write(clientKey)
		storedKey := h.Sum(nil)
		withoutProof := "c=biws,r=" + nonce
		authMsg := []byte("n=user,r=rOprNGfwEbeRWgbNEkqO," + rfcServerFirst + "," + withoutProof)
		sig := SHA256.hmac(storedKey, authMsg)
		proof := make([]byte, len(sig))
		for i := range sig {
			proof[i] = clientKey[i] ^ sig[i]
		}
		return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof),
			"v=" + base64.StdEncoding.EncodeToString(SHA256.hmac(cred.ServerKey, authMsg))
	}
	serverNonce := "rOprNGfwEbeRWgbNEkqO" + rfcServerNonce
	for _, tc := range []struct {
		name, nonce, password string
		ok                    bool
	}{
		{"librdkafka's doubled nonce", "rOprNGfwEbeRWgbNEkqO" + serverNonce, "pencil", true},
		{"the right nonce", serverNonce, "pencil", true},
		{"doubled, wrong password", "rOprNGfwEbeRWgbNEkqO" + serverNonce, "crayon", false},
		{"another prefix", "xyz" + serverNonce, "pencil", false},
		{"the client's nonce alone", "rOprNGfwEbeRWgbNEkqO", "pencil", false},
	} {
		s := &scramServer{mech: SHA256, lookup: lookupOf(map[string]ScramCredential{"user": cred}), nonce: func() string { return rfcServerNonce }}
		if _, err := s.Step([]byte(rfcClientFirst)); err != nil {
			t.Fatal(err)
		}
		final, wantServerFinal := finalFor(tc.nonce, tc.password)
		got, err := s.Step([]byte(final))
		if tc.ok && (err != nil || string(got) != wantServerFinal || !s.Done() || s.Username() != "user") {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, wantServerFinal)
		}
		if !tc.ok && (!errors.Is(err, ErrFailed) || s.Done()) {
			t.Errorf("%s: accepted (%q, %v)", tc.name, got, err)
		}
	}
}
