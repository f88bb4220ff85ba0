package config

import (
	"os"
	"strings"
	"testing"
)

// config/server.properties, the sample the README starts the broker with,
// loads without warnings, names only keys of the table (also in its
// commented-out lines), and sets each to its default.
func TestSampleServerProperties(t *testing.T) {
	c, err := Load("server.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	data, err := os.ReadFile("server.properties")
	if err != nil {
		t.Fatal(err)
	}
	props, order, err := ParseProperties(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 20 {
		t.Errorf("only %d keys set", len(order))
	}
	for _, k := range order {
		d, _ := LookupBroker(k)
		if got, want := deref(d.Value(c)), deref(d.Value(Default())); got != want {
			t.Errorf("%s=%s: %s, but the default is %s", k, props[k], got, want)
		}
	}
	// Commented-out settings: "#key=value" lines.
	var commented int
	for line := range strings.Lines(string(data)) {
		k, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "#"), "=")
		if !ok || !strings.HasPrefix(line, "#") || strings.ContainsAny(k, " \t") {
			continue
		}
		commented++
		if _, ok := LookupBroker(k); !ok {
			t.Errorf("commented-out %s is not a broker key", k)
		}
	}
	if commented == 0 {
		t.Error("no commented-out settings found: the check above checks nothing")
	}
}
