package sasl

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// TestParseJAAS follows Kafka's JaasContextTest: the forms a
// sasl.jaas.config takes in the wild, and the ways it goes wrong, with
// Kafka's messages.
func TestParseJAAS(t *testing.T) {
	plain := PlainLoginModule + ` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`
	for _, tc := range []struct {
		name, in string
		want     []JAASEntry // nil: an error
		err      string      // part of the error's message
	}{
		{name: "plain", in: plain, want: []JAASEntry{{PlainLoginModule, "REQUIRED", map[string]string{
			"username": "admin", "password": "admin-secret", "user_admin": "admin-secret", "user_alice": "alice-secret"}}}},
		{name: "no options", in: ScramLoginModule + " required;", want: []JAASEntry{{ScramLoginModule, "REQUIRED", map[string]string{}}}},
		{name: "flags any case", in: "a.B requisite; c sufficient; d Optional; e REQUIRED;", want: []JAASEntry{
			{"a.B", "REQUISITE", map[string]string{}}, {"c", "SUFFICIENT", map[string]string{}},
			{"d", "OPTIONAL", map[string]string{}}, {"e", "REQUIRED", map[string]string{}}}},
		{name: "word values", in: "m required key=value_1 k2=$v.a-l;", want: []JAASEntry{{"m", "REQUIRED", map[string]string{"key": "value_1", "k2": "$v.a-l"}}}},
		{name: "quoted with spaces and escapes", in: `m required k="a b\"c\\d\n" q='it s';`,
			want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "a b\"c\\d\n", "q": "it s"}}}},
		{name: "octal escape", in: `m required k="\101\1012\477";`, want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "AA2'7"}}}},
		{name: "special characters in quotes", in: `m required k="=;/*//";`, want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "=;/*//"}}}},
		{name: "comments", in: "// a comment\nm /* flag next */ required\n k=\"v\"; // trailing", want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "v"}}}},
		{name: "lone slash comments out the line", in: "m required k=\"v\" / ;\n;", want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "v"}}}},
		{name: "last duplicate wins", in: `m required k="1" k="2";`, want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "2"}}}},
		{name: "newlines between options", in: "m required\n\tk=\"v\"\n\tl=\"w\";\n", want: []JAASEntry{{"m", "REQUIRED", map[string]string{"k": "v", "l": "w"}}}},

		{name: "empty", in: "", err: "Login module not specified"},
		{name: "only a comment", in: "/* nothing */", err: "Login module not specified"},
		{name: "no flag", in: "m", err: "control flag not specified"},
		{name: "bad flag", in: "m mandatory;", err: "Invalid login module control flag 'mandatory'"},
		{name: "numeric flag", in: "m 1;", err: "control flag is not available"},
		{name: "no semicolon", in: `m required k="v"`, err: "not terminated by semi-colon"},
		{name: "no value", in: "m required k=;", err: "Value not specified for key 'k'"},
		{name: "no equals", in: `m required k "v";`, err: "Value not specified for key 'k'"},
		{name: "unquoted number", in: "m required iterations=4096;", err: "Value not specified for key 'iterations'"},
		{name: "value at end", in: "m required k=", err: "Value not specified for key 'k'"},
		{name: "module is a number", in: "1 required;", err: "login module name expected"},
		{name: "module is a character", in: "; m required;", err: "login module name expected"},
		{name: "option name is a character", in: "m required =v;", err: "option name expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJAAS(tc.in)
			if tc.want == nil {
				if err == nil || !errors.Is(err, ErrJAAS) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseJAAS(%q) = %v, %v; want an ErrJAAS saying %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJAAS(%q): %v", tc.in, err)
			}
			if !entriesEqual(got, tc.want) {
				t.Fatalf("ParseJAAS(%q) = %+v; want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func entriesEqual(a, b []JAASEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Module != b[i].Module || a[i].Flag != b[i].Flag || !maps.Equal(a[i].Options, b[i].Options) {
			return false
		}
	}
	return true
}

// TestJAASOptions: the broker's users and its own credentials come from
// the entries of the login module of the mechanism, and no other.
func TestJAASOptions(t *testing.T) {
	es, err := ParseJAAS(ScramLoginModule + ` required username="scram" password="s";` +
		PlainLoginModule + ` required username="admin" password="a" user_alice="alice-pw";`)
	if err != nil {
		t.Fatal(err)
	}
	if cr, ok := JAASCredentials(es, PlainLoginModule); !ok || cr != (Credentials{"admin", "a"}) {
		t.Errorf("PLAIN credentials %+v, %v", cr, ok)
	}
	if cr, ok := JAASCredentials(es, ScramLoginModule); !ok || cr != (Credentials{"scram", "s"}) {
		t.Errorf("SCRAM credentials %+v, %v", cr, ok)
	}
	users := JAASPlainUsers(es)
	if pw, ok := users("alice"); !ok || pw != "alice-pw" {
		t.Errorf("alice: %q, %v", pw, ok)
	}
	if _, ok := users("scram"); ok {
		t.Error("a user of another module's options is a PLAIN user")
	}
}

// TestQuote: any value survives Quote and ParseJAAS.
func TestQuote(t *testing.T) {
	for _, v := range []string{"", "plain", `a"b`, `back\slash`, "new\nline", "semi;colon=", "ünïcode", "\r"} {
		es, err := ParseJAAS("m required k=" + Quote(v) + ";")
		if err != nil || es[0].Options["k"] != v {
			t.Errorf("Quote(%q) read back as %q, %v", v, es[0].Options["k"], err)
		}
	}
}
