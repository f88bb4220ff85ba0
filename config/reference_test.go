package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the table")

const referencePath = "../docs/configuration.md"

// TestReferencePage fails when docs/configuration.md is not what the table
// generates: run "go generate ./config" and commit the page.
func TestReferencePage(t *testing.T) {
	want := ReferencePage()
	if *update {
		if err := os.MkdirAll(filepath.Dir(referencePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(referencePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v: run go generate ./config", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go generate ./config and commit it", referencePath)
	}
	for _, d := range defs {
		if !bytes.Contains(want, []byte("| `"+d.Name+"` |")) {
			t.Errorf("%s missing from the page", d.Name)
		}
	}
	for k := range ignoredKeys {
		if _, ok := LookupBroker(k); ok {
			t.Errorf("%s is both defined and ignored", k)
		}
	}
	if strings.Contains(string(want), "| `zookeeper.connect` |") != true {
		t.Error("zookeeper.connect not on the page")
	}
}
