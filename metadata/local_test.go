package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalStorePersists(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	cid := s.ClusterID()
	if len(cid) != 22 {
		t.Fatalf("cluster id %q: want 22 base64 characters", cid)
	}
	a := Topic{Name: "a", ID: NewTopicID(), Replicas: [][]int32{{0}, {0}}, Configs: map[string]string{"retention.ms": "5"}}
	if err := s.CreateTopic(a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTopic(a); !errors.Is(err, ErrTopicExists) {
		t.Fatalf("second create: %v", err)
	}
	s.CreateTopic(Topic{Name: "b", ID: NewTopicID(), Replicas: [][]int32{{0}}})
	if err := s.AddPartitions("a", [][]int32{{0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTopicConfigs("b", map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTopic("nope"); !errors.Is(err, ErrUnknownTopic) {
		t.Fatalf("delete unknown: %v", err)
	}
	first, _ := s.NextProducerIDBlock(1000)
	second, _ := s.NextProducerIDBlock(1000)
	if second != first+1000 {
		t.Fatalf("blocks %d, %d", first, second)
	}

	// A fresh open sees everything, and producer IDs keep growing.
	r, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.ClusterID() != cid {
		t.Fatal("cluster id changed across reopen")
	}
	got, ok := r.Topic("a")
	if !ok || len(got.Replicas) != 3 || got.ID != a.ID || got.Configs["retention.ms"] != "5" {
		t.Fatalf("topic a after reopen: %+v", got)
	}
	if b, _ := r.Topic("b"); b.Configs["cleanup.policy"] != "compact" {
		t.Fatalf("topic b configs %v", b.Configs)
	}
	if names := r.Topics(); len(names) != 2 || names[0].Name != "a" || names[1].Name != "b" {
		t.Fatalf("topics %v", names)
	}
	if third, _ := r.NextProducerIDBlock(1000); third != second+1000 {
		t.Fatalf("producer id block %d after reopen, want %d", third, second+1000)
	}
	// Mutating a returned copy does not change the store.
	got.Replicas[0][0] = 99
	if again, _ := r.Topic("a"); again.Replicas[0][0] != 0 {
		t.Fatal("Topic returned a shared slice")
	}
}

func TestLocalStoreRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LocalFile), []byte("{not json"), 0o644)
	if _, err := OpenLocal(dir); err == nil {
		t.Fatal("corrupt metadata file accepted")
	}
	os.WriteFile(filepath.Join(dir, LocalFile), []byte(`{"version": 7}`), 0o644)
	if _, err := OpenLocal(dir); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func TestLocalStoreFailedSaveChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Make the directory read-only so the save fails.
	if os.Getuid() == 0 {
		// root ignores permissions: replace the path with a directory instead.
		os.Remove(s.path)
		os.Mkdir(s.path, 0o755)
		defer os.Remove(s.path)
	} else {
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o755)
	}
	if err := s.CreateTopic(Topic{Name: "x", Replicas: [][]int32{{0}}}); err == nil {
		t.Fatal("create succeeded though the file cannot be written")
	}
	if _, ok := s.Topic("x"); ok {
		t.Fatal("a failed save left the topic visible")
	}
}

// TestLocalBrokerConfigs: a broker's dynamic configs survive a reopen;
// an empty set removes them.
func TestLocalBrokerConfigs(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := l.BrokerConfigs(0); err != nil || len(cfg) != 0 {
		t.Fatalf("before any: %v, %v", cfg, err)
	}
	want := map[string]string{"listener.name.ssl.ssl.keystore.location": "/etc/ks.p12", "listener.name.ssl.ssl.keystore.password": "pw"}
	if err := l.SetBrokerConfigs(0, want); err != nil {
		t.Fatal(err)
	}
	want["mutated"] = "after the call"
	l, err = OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.BrokerConfigs(0)
	if err != nil || len(got) != 2 || got["listener.name.ssl.ssl.keystore.password"] != "pw" {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
	if other, _ := l.BrokerConfigs(1); len(other) != 0 {
		t.Fatalf("broker 1: %v", other)
	}
	if err := l.SetBrokerConfigs(0, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.BrokerConfigs(0); len(got) != 0 {
		t.Fatalf("after clearing: %v", got)
	}
}

// TestLocalUsers: a user's configs are stored, kept across a reopen,
// edited from what is there (other keys kept), and a user left without
// configs is gone; an edit's error changes nothing.
func TestLocalUsers(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	set := func(user, k, v string) error {
		return l.UpdateUserConfig(user, func(cur map[string]string) (map[string]string, error) {
			if cur == nil {
				cur = map[string]string{}
			}
			if v == "" {
				delete(cur, k)
			} else {
				cur[k] = v
			}
			return cur, nil
		})
	}
	if err := set("alice", "SCRAM-SHA-256", "salt=AA==,stored_key=AA==,server_key=AA==,iterations=4096"); err != nil {
		t.Fatal(err)
	}
	if err := set("alice", "producer_byte_rate", "1024"); err != nil {
		t.Fatal(err)
	}
	if err := l.UpdateUserConfig("alice", func(map[string]string) (map[string]string, error) { return nil, errors.New("refused") }); err == nil {
		t.Fatal("an edit's error was not returned")
	}
	l, err = OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := l.UserConfig("alice"); len(c) != 2 || c["producer_byte_rate"] != "1024" {
		t.Fatalf("alice after reopening: %v", c)
	}
	set("alice", "SCRAM-SHA-256", "")
	set("alice", "producer_byte_rate", "")
	if all, _ := l.UserConfigs(); len(all) != 0 {
		t.Fatalf("users left: %v", all)
	}
	if c, err := l.UserConfig("nobody"); err != nil || c == nil || len(c) != 0 {
		t.Fatalf("an unknown user: %v, %v", c, err)
	}
}
