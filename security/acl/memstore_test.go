package acl

import (
	"maps"
	"slices"
	"sync"
)

// memStore is a Store in memory with znode-like versions: a create makes
// version 0, each set adds one. before, when set, runs before every write
// (with the lock released) so a test can play another broker writing in
// between.
type memStore struct {
	mu       sync.Mutex
	acls     map[Pattern]Versioned
	notified []Pattern
	writes   int
	before   func(p Pattern)
}

func newMemStore() *memStore { return &memStore{acls: map[Pattern]Versioned{}} }

func (s *memStore) LoadACLs() (map[Pattern]Versioned, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.acls), nil
}

func (s *memStore) ReadACLs(p Pattern) (Versioned, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.acls[p]
	if !ok {
		return Versioned{Version: Absent}, nil
	}
	return Versioned{slices.Clone(v.Entries), v.Version}, nil
}

func (s *memStore) hook(p Pattern) {
	if s.before != nil {
		s.before(p)
	}
	s.mu.Lock()
	s.writes++
}

func (s *memStore) CreateACLs(p Pattern, es []Entry) (int32, error) {
	s.hook(p)
	defer s.mu.Unlock()
	if _, ok := s.acls[p]; ok {
		return 0, ErrConflict
	}
	s.acls[p] = Versioned{slices.Clone(es), 0}
	return 0, nil
}

func (s *memStore) SetACLs(p Pattern, es []Entry, version int32) (int32, error) {
	s.hook(p)
	defer s.mu.Unlock()
	v, ok := s.acls[p]
	if !ok || v.Version != version {
		return 0, ErrConflict
	}
	s.acls[p] = Versioned{slices.Clone(es), version + 1}
	return version + 1, nil
}

func (s *memStore) DeleteACLs(p Pattern, version int32) error {
	s.hook(p)
	defer s.mu.Unlock()
	v, ok := s.acls[p]
	if !ok {
		return nil
	}
	if v.Version != version {
		return ErrConflict
	}
	delete(s.acls, p)
	return nil
}

func (s *memStore) NotifyACLChange(p Pattern) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notified = append(s.notified, p)
	return nil
}

// put writes p's ACLs behind the authorizer's back, as another broker
// would, one version on.
func (s *memStore) put(p Pattern, es ...Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.acls[p]
	next := int32(0)
	if ok {
		next = v.Version + 1
	}
	s.acls[p] = Versioned{normalize(es), next}
}
