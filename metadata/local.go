package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"samsa/internal/uuid"
	"samsa/logfile/vfs"
)

// LocalFile is the name of the standalone metadata file in the data directory.
const LocalFile = "samsa-metadata.json"

// localState is the file's content. Version 1.
type localState struct {
	Version        int              `json:"version"`
	ClusterID      string           `json:"cluster_id"`
	Topics         map[string]Topic `json:"topics"`
	NextProducerID int64            `json:"next_producer_id"`
	// ACLs are the authorizer's (acls.go), one element per pattern.
	ACLs []localACLs `json:"acls,omitempty"`
	// BrokerConfigs are the dynamic broker configs (brokerconfig.go), by
	// broker ID.
	BrokerConfigs map[string]map[string]string `json:"broker_configs,omitempty"`
	// Users are the users' configs (users.go): SCRAM credentials by
	// mechanism, by user name.
	Users map[string]map[string]string `json:"users,omitempty"`
}

// Local keeps metadata in one JSON file, rewritten atomically (temporary
// file, fsync, rename, directory fsync) on every change.
type Local struct {
	path string
	fs   vfs.FS

	mu    sync.RWMutex
	state localState
}

// OpenLocal loads or creates the metadata file in dir.
func OpenLocal(dir string) (*Local, error) {
	l := &Local{path: filepath.Join(dir, LocalFile), fs: vfs.OS}
	data, err := vfs.ReadFile(l.fs, l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.state = localState{Version: 1, ClusterID: newClusterID(), Topics: map[string]Topic{}}
		if err := l.fs.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := l.save(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("metadata: %w", err)
	default:
		if err := json.Unmarshal(data, &l.state); err != nil {
			return nil, fmt.Errorf("metadata: %s: %w", l.path, err)
		}
		if l.state.Version != 1 {
			return nil, fmt.Errorf("metadata: %s: unsupported version %d", l.path, l.state.Version)
		}
		if l.state.Topics == nil {
			l.state.Topics = map[string]Topic{}
		}
	}
	return l, nil
}

// newClusterID is a random UUID in URL-safe base64, as Kafka's are.
func newClusterID() string { return uuid.Random().String() }

func (l *Local) save() error {
	data, err := json.MarshalIndent(&l.state, "", " ")
	if err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(l.fs, l.path, data); err != nil {
		return fmt.Errorf("metadata: save %s: %w", l.path, err)
	}
	return nil
}

// update applies fn to a copy of the state and saves it; the change is
// visible only if the save worked.
func (l *Local) update(fn func(s *localState) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.state
	next := old
	next.Topics = make(map[string]Topic, len(old.Topics))
	for k, v := range old.Topics {
		next.Topics[k] = v.Clone()
	}
	next.ACLs = slices.Clone(old.ACLs) // values: a change of next's leaves old's alone
	if err := fn(&next); err != nil {
		return err
	}
	l.state = next
	if err := l.save(); err != nil {
		l.state = old
		return err
	}
	return nil
}

func (l *Local) ClusterID() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.state.ClusterID
}

func (l *Local) Topics() []Topic {
	l.mu.RLock()
	out := make([]Topic, 0, len(l.state.Topics))
	for _, t := range l.state.Topics {
		out = append(out, t.Clone())
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (l *Local) Topic(name string) (Topic, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	t, ok := l.state.Topics[name]
	if !ok {
		return Topic{}, false
	}
	return t.Clone(), true
}

func (l *Local) CreateTopic(t Topic) error {
	return l.update(func(s *localState) error {
		if _, ok := s.Topics[t.Name]; ok {
			return ErrTopicExists
		}
		s.Topics[t.Name] = t.Clone()
		return nil
	})
}

func (l *Local) DeleteTopic(name string) error {
	return l.update(func(s *localState) error {
		if _, ok := s.Topics[name]; !ok {
			return ErrUnknownTopic
		}
		delete(s.Topics, name)
		return nil
	})
}

func (l *Local) AddPartitions(name string, replicas [][]int32) error {
	return l.update(func(s *localState) error {
		t, ok := s.Topics[name]
		if !ok {
			return ErrUnknownTopic
		}
		t.Replicas = append(t.Replicas, replicas...)
		s.Topics[name] = t
		return nil
	})
}

func (l *Local) SetTopicConfigs(name string, configs map[string]string) error {
	return l.update(func(s *localState) error {
		t, ok := s.Topics[name]
		if !ok {
			return ErrUnknownTopic
		}
		t.Configs = configs
		s.Topics[name] = t.Clone()
		return nil
	})
}

func (l *Local) NextProducerIDBlock(size int64) (int64, error) {
	var start int64
	err := l.update(func(s *localState) error {
		start = s.NextProducerID
		s.NextProducerID += size
		return nil
	})
	return start, err
}

func (l *Local) Close() error { return nil }

var _ Store = (*Local)(nil)
