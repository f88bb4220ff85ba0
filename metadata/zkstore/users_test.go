package zkstore

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"samsa/security/sasl"
)

// TestSanitize: user names as Kafka's Sanitizer writes them in znode
// names, and read back.
func TestSanitize(t *testing.T) {
	for name, want := range map[string]string{
		"alice":     "alice",
		"a.b-c_d":   "a.b-c_d",
		"a b":       "a%20b",
		"a*b":       "a%2Ab",
		"a+b":       "a%2Bb",
		"ü":         "%C3%BC",
		"CN=x,O=y/": "CN%3Dx%2CO%3Dy%2F",
		"%":         "%25",
	} {
		if got := Sanitize(name); got != want {
			t.Errorf("Sanitize(%q) = %q; want %q", name, got, want)
		}
		if back, err := Desanitize(want); err != nil || back != name {
			t.Errorf("Desanitize(%q) = %q, %v", want, back, err)
		}
	}
	if back, _ := Desanitize("a+b"); back != "a b" {
		t.Errorf("Desanitize reads '+' as Java's URLDecoder does: %q", back)
	}
}

// rfcCredential is RFC 7677's user/pencil as kafka-configs.sh writes it.
const rfcCredential = "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,iterations=4096"

// TestUsersFromKafka: what kafka-configs.sh --zookeeper writes (a user's
// config znode, quotas beside the credentials, and its notification) is
// read, and authenticates with the password it was made from.
func TestUsersFromKafka(t *testing.T) {
	zk := newFakeZK()
	zk.put("/config/users/user", `{"version":1,"config":{"SCRAM-SHA-256":"`+rfcCredential+`","producer_byte_rate":"1024"}}`)
	zk.put("/config/users/a%20b", `{"version":1,"config":{"consumer_byte_rate":"1"}}`)
	zk.put("/config/users/bad", `not json`)
	zk.put("/config/changes/config_change_0000000000", `{"version":2,"entity_path":"users/user"}`)
	s := newUserStore(zk, time.Second, nil)
	all, err := s.UserConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["user"]["producer_byte_rate"] != "1024" || all["a b"]["consumer_byte_rate"] != "1" {
		t.Fatalf("users %v", all)
	}
	var cache sasl.CredentialCache
	if err := cache.Replace(all); err != nil {
		t.Fatal(err)
	}
	salted, _ := sasl.SHA256.SaltedPassword("pencil", mustB64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
	want := sasl.SHA256.CredentialFromSalted(mustB64("W22ZaJ0SNY7soEsUEjb6gQ=="), salted, 4096)
	if got, ok := cache.Lookup(sasl.SHA256, "user"); !ok || got.String() != want.String() {
		t.Fatalf("user's credential %v, %v", got, ok)
	}
	if u, ok := UserOfEntityPath("users/a%20b"); !ok || u != "a b" {
		t.Errorf("entity path of a b: %q, %v", u, ok)
	}
	for _, p := range []string{"topics/t", "users/alice/clients/c1", "users/", "brokers/1"} {
		if u, ok := UserOfEntityPath(p); ok {
			t.Errorf("entity path %s names user %q", p, u)
		}
	}
}

// TestUpdateUserConfig: a change writes Kafka's JSON, keeps the other
// keys, notifies with Kafka's entity path, and does not lose a change
// another writer made between its read and its write.
func TestUpdateUserConfig(t *testing.T) {
	zk := newFakeZK()
	s := newUserStore(zk, time.Second, nil)
	add := func(k, v string) func(map[string]string) (map[string]string, error) {
		return func(cur map[string]string) (map[string]string, error) {
			cur[k] = v
			return cur, nil
		}
	}
	if err := s.UpdateUserConfig("a b", add("SCRAM-SHA-256", rfcCredential)); err != nil {
		t.Fatal(err)
	}
	if got := zk.data(t, "/config/users/a%20b"); got != `{"version":1,"config":{"SCRAM-SHA-256":"`+rfcCredential+`"}}` {
		t.Fatalf("znode %s", got)
	}
	if got := zk.data(t, "/config/changes/config_change_0000000000"); got != `{"version":2,"entity_path":"users/a%20b"}` {
		t.Fatalf("notification %s", got)
	}
	// Another writer (a quota) comes between the read and the write.
	raced := false
	err := s.UpdateUserConfig("a b", func(cur map[string]string) (map[string]string, error) {
		if !raced {
			raced = true
			zk.put("/config/users/a%20b", `{"version":1,"config":{"SCRAM-SHA-256":"`+rfcCredential+`","producer_byte_rate":"5"}}`)
		}
		delete(cur, "SCRAM-SHA-256")
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := zk.data(t, "/config/users/a%20b"); got != `{"version":1,"config":{"producer_byte_rate":"5"}}` {
		t.Fatalf("after a concurrent write: %s", got)
	}
	refused := errors.New("refused")
	if err := s.UpdateUserConfig("a b", func(map[string]string) (map[string]string, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Fatalf("an edit's error: %v", err)
	}
	if kids, _ := zk.Children(context.Background(), "/config/changes"); len(kids) != 2 {
		t.Fatalf("notifications %v; want one per change", kids)
	}
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
