package config

import (
	"maps"
	"slices"
	"testing"
)

// TestParseProperties checks java.util.Properties' format, case by case.
func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		order    []string
	}{
		{"equals", "a=1\nb = 2\n", map[string]string{"a": "1", "b": "2"}, []string{"a", "b"}},
		{"colon", "a:1\nb : 2", map[string]string{"a": "1", "b": "2"}, nil},
		{"whitespace separator", "a 1\nb\t\t2\nc \f 3", map[string]string{"a": "1", "b": "2", "c": "3"}, nil},
		{"whitespace then separator", "a  =  1\nb\t:\t2", map[string]string{"a": "1", "b": "2"}, nil},
		{"second separator is value", "a==1\nb=:2\nc :=3", map[string]string{"a": "=1", "b": ":2", "c": "=3"}, nil},
		{"comments", "# hash\n! bang\n   # indented\na=1 # not a comment\n", map[string]string{"a": "1 # not a comment"}, nil},
		{"blank lines", "\n\n   \n\ta=1\n\n", map[string]string{"a": "1"}, nil},
		{"empty value", "a=\nb\nc:", map[string]string{"a": "", "b": "", "c": ""}, nil},
		{"continuation", "listeners=PLAINTEXT://\\\n    127.0.0.1:9092\n", map[string]string{"listeners": "PLAINTEXT://127.0.0.1:9092"}, nil},
		{"continuation over lines", "a=1,\\\n  2,\\\n\t3\nb=4", map[string]string{"a": "1,2,3", "b": "4"}, nil},
		{"continuation with CRLF", "a=x\\\r\n  y\r\nb=z\r\n", map[string]string{"a": "xy", "b": "z"}, nil},
		{"continued line may start with #", "a=x\\\n  #y", map[string]string{"a": "x#y"}, nil},
		{"comment does not continue", "# c \\\na=1", map[string]string{"a": "1"}, nil},
		{"escaped backslash ends the line", "a=x\\\\\nb=y", map[string]string{"a": `x\`, "b": "y"}, nil},
		{"escapes", `a=tab\there\nnew\rret\fff`, map[string]string{"a": "tab\there\nnew\rret\fff"}, nil},
		{"unicode escape", `a=caf\u00e9 \u20AC`, map[string]string{"a": "café €"}, nil},
		{"other escapes drop the backslash", `a=\q\"\#`, map[string]string{"a": `q"#`}, nil},
		{"escaped separators in key", `key\=with\:seps\ and\ space = v`, map[string]string{"key=with:seps and space": "v"}, nil},
		{"escaped separator in value", `a=x\=y\:z`, map[string]string{"a": "x=y:z"}, nil},
		{"utf-8", "a=ünïcödé", map[string]string{"a": "ünïcödé"}, nil},
		{"later wins, first order kept", "a=1\nb=2\na=3", map[string]string{"a": "3", "b": "2"}, []string{"a", "b"}},
		{"no expansion", "a=1\nb=${a}", map[string]string{"a": "1", "b": "${a}"}, nil},
		{"trailing whitespace trimmed as Kafka does", "a=1   \t", map[string]string{"a": "1"}, nil},
		{"byte-order mark", "\ufeffa=1", map[string]string{"a": "1"}, nil},
		{"no final newline", "a=1", map[string]string{"a": "1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, order, err := ParseProperties([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if tc.order != nil && !slices.Equal(order, tc.order) {
				t.Errorf("order %q, want %q", order, tc.order)
			}
			if len(order) != len(got) {
				t.Errorf("order %q for %d keys", order, len(got))
			}
		})
	}
}

func TestParsePropertiesRejectsMalformedEscapes(t *testing.T) {
	for _, in := range []string{`a=\u12`, `a=\u12zz`, "a=\\u"} {
		if p, _, err := ParseProperties([]byte(in)); err == nil {
			t.Errorf("%q: accepted as %q", in, p)
		}
	}
}
