package sasl

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// FuzzJAAS: ParseJAAS never panics; an error is always ErrJAAS; what it
// accepts, written back with Quote (modules and flags as words when they
// are words), parses to the same entries.
func FuzzJAAS(f *testing.F) {
	for _, s := range []string{
		PlainLoginModule + ` required username="admin" password="admin-secret" user_alice="alice-secret";`,
		ScramLoginModule + " required;",
		"a optional k=v; b sufficient /* c */ l='x\\ty'; // end",
		`m required k="\101\7777\n";`, "m required k=1;", "m", "'m' 'required' 'k'='v';", "-.5 - /",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseJAAS(s)
		if err != nil {
			if !errors.Is(err, ErrJAAS) {
				t.Fatalf("error %v is not ErrJAAS", err)
			}
			return
		}
		var b strings.Builder
		for _, e := range es {
			b.WriteString(Quote(e.Module) + " " + e.Flag)
			for _, k := range slices.Sorted(maps.Keys(e.Options)) {
				b.WriteString(" " + Quote(k) + "=" + Quote(e.Options[k]))
			}
			b.WriteString(";\n")
		}
		back, err := ParseJAAS(b.String())
		if err != nil || !entriesEqual(es, back) {
			t.Fatalf("%q parsed to %+v; written back as %q it parses to %+v, %v", s, es, b.String(), back, err)
		}
	})
}

// FuzzScramMessages: the SCRAM parsers never panic; what they accept,
// written back, parses to the same message.
func FuzzScramMessages(f *testing.F) {
	for _, s := range []string{rfcClientFirst, rfcServerFirst, rfcClientFinal, rfcServerFinal,
		"n,a=u=2C,m=x,n=u=3D,r=!,tokenauth=true", "e=other-error", "c=,r=a,p=", "r=a,s=,i=1,x=y"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseClientFirst(b); err == nil {
			if back, err := ParseClientFirst([]byte(m.String())); err != nil || back.String() != m.String() || back.String() != string(b) {
				t.Fatalf("client first %q: written back %q, %v", b, m.String(), err)
			}
		} else if !errors.Is(err, ErrFailed) {
			t.Fatalf("client first error %v is not ErrFailed", err)
		}
		if m, err := ParseClientFinal(b); err == nil {
			if back, err := ParseClientFinal([]byte(m.String())); err != nil || back.String() != m.String() {
				t.Fatalf("client final %q: written back %q, %v", b, m.String(), err)
			}
		}
		if m, err := ParseServerFirst(b); err == nil {
			if back, err := ParseServerFirst([]byte(m.String())); err != nil || back.String() != m.String() {
				t.Fatalf("server first %q: written back %q, %v", b, m.String(), err)
			}
		}
		if m, err := ParseServerFinal(b); err == nil {
			if back, err := ParseServerFinal([]byte(m.String())); err != nil || back.String() != m.String() {
				t.Fatalf("server final %q: written back %q, %v", b, m.String(), err)
			}
		}
	})
}

// FuzzScramServer: whatever two messages a client sends, the server
// (with github.com/xdg-go/scram inside) never panics, fails with
// ErrFailed, and authenticates nobody without the proof.
func FuzzScramServer(f *testing.F) {
	f.Add([]byte(rfcClientFirst), []byte(rfcClientFinal))
	f.Add([]byte(",,n=user,r=x"), []byte("c=biws,r=x,p=AAAA"))
	f.Add([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	salted, _ := SHA256.SaltedPassword("pencil", []byte("salt"), 4096)
	cred := SHA256.CredentialFromSalted([]byte("salt"), salted, 4096)
	f.Fuzz(func(t *testing.T, first, final []byte) {
		s := NewScram(SHA256, lookupOf(map[string]ScramCredential{"user": cred}))
		for _, m := range [][]byte{first, final} {
			if _, err := s.Step(m); err != nil {
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("error %v is not ErrFailed", err)
				}
				break
			}
		}
		// The server nonce is random: a replayed final message cannot match it.
		if s.Done() {
			t.Fatalf("authenticated by %q, %q", first, final)
		}
	})
}

// FuzzPlain: the PLAIN server never panics, fails with ErrFailed, and
// authenticates exactly the right user and password.
func FuzzPlain(f *testing.F) {
	for _, s := range []string{"\x00alice\x00pw", "alice\x00alice\x00pw", "\x00\x00", "a\x00b\x00c\x00d"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewPlain(func(u string) (string, bool) { return "pw", u == "alice" })
		_, err := s.Step(b)
		if err != nil && !errors.Is(err, ErrFailed) {
			t.Fatalf("error %v is not ErrFailed", err)
		}
		authz, user, pw, perr := ParsePlain(b)
		want := perr == nil && user == "alice" && pw == "pw" && (authz == "" || authz == "alice")
		if s.Done() != want || (err == nil) != want {
			t.Fatalf("%q: done %v, err %v; want authenticated %v", b, s.Done(), err, want)
		}
	})
}

// FuzzJAASFile: ParseJAASFile never panics; an error is always ErrJAAS;
// what it accepts, written back section by section, parses to the same
// sections.
func FuzzJAASFile(f *testing.F) {
	for _, s := range []string{
		"Client {\n org.apache.zookeeper.server.auth.DigestLoginModule required username=\"u\" password=\"p\";\n};",
		"A { m required; n optional k='v'; }; B { };", "A {", "A { m required; }", "/* */ A // x\n { };", "{};",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sections, err := ParseJAASFile(s)
		if err != nil {
			if !errors.Is(err, ErrJAAS) {
				t.Fatalf("error %v is not ErrJAAS", err)
			}
			return
		}
		var b strings.Builder
		for _, name := range slices.Sorted(maps.Keys(sections)) {
			b.WriteString(Quote(name) + " {\n")
			for _, e := range sections[name] {
				b.WriteString(Quote(e.Module) + " " + e.Flag)
				for _, k := range slices.Sorted(maps.Keys(e.Options)) {
					b.WriteString(" " + Quote(k) + "=" + Quote(e.Options[k]))
				}
				b.WriteString(";\n")
			}
			b.WriteString("};\n")
		}
		back, err := ParseJAASFile(b.String())
		if err != nil || len(back) != len(sections) {
			t.Fatalf("%q parsed to %+v; written back as %q it parses to %+v, %v", s, sections, b.String(), back, err)
		}
		for name, es := range sections {
			if !entriesEqual(es, back[name]) {
				t.Fatalf("%q: section %q parsed to %+v, written back to %+v", s, name, es, back[name])
			}
		}
	})
}
