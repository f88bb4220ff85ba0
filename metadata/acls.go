package metadata

import (
	"slices"

	"samsa/security/acl"
)

// A standalone broker keeps its ACLs in samsa-metadata.json, each pattern
// with a version that counts its writes as a znode's version would, so
// that the authorizer's conditional writes mean the same as in ZooKeeper.
// A standalone broker has no other broker to notify.

// localACLs are one pattern's ACLs in the metadata file, the entries in
// Kafka's ACL JSON.
type localACLs struct {
	ResourceType string      `json:"resource_type"` // Kafka's Pascal case: Topic
	PatternType  string      `json:"pattern_type"`  // LITERAL or PREFIXED
	Name         string      `json:"name"`
	Version      int32       `json:"version"`
	ACLs         []acl.Entry `json:"acls"`
}

func (l localACLs) pattern() (acl.Pattern, error) {
	t, err := acl.ParseResourceType(l.ResourceType)
	if err != nil {
		return acl.Pattern{}, err
	}
	pt, err := acl.ParsePatternType(l.PatternType)
	if err != nil {
		return acl.Pattern{}, err
	}
	return acl.Pattern{Type: t, Name: l.Name, PatternType: pt}, nil
}

func (l localACLs) is(p acl.Pattern) bool {
	q, err := l.pattern()
	return err == nil && q == p
}

var _ acl.Store = (*Local)(nil)

// LoadACLs returns every pattern's ACLs.
func (l *Local) LoadACLs() (map[acl.Pattern]acl.Versioned, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[acl.Pattern]acl.Versioned, len(l.state.ACLs))
	for _, a := range l.state.ACLs {
		p, err := a.pattern()
		if err != nil {
			return nil, err
		}
		out[p] = acl.Versioned{Entries: slices.Clone(a.ACLs), Version: a.Version}
	}
	return out, nil
}

// ReadACLs returns one pattern's ACLs.
func (l *Local) ReadACLs(p acl.Pattern) (acl.Versioned, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, a := range l.state.ACLs {
		if a.is(p) {
			return acl.Versioned{Entries: slices.Clone(a.ACLs), Version: a.Version}, nil
		}
	}
	return acl.Versioned{Version: acl.Absent}, nil
}

// CreateACLs stores a pattern that has no ACLs yet, at version 0.
func (l *Local) CreateACLs(p acl.Pattern, es []acl.Entry) (int32, error) {
	return 0, l.update(func(s *localState) error {
		if slices.IndexFunc(s.ACLs, func(a localACLs) bool { return a.is(p) }) >= 0 {
			return acl.ErrConflict
		}
		s.ACLs = append(s.ACLs, localACLs{p.Type.String(), p.PatternType.String(), p.Name, 0, slices.Clone(es)})
		return nil
	})
}

// SetACLs replaces a pattern's ACLs at version, one version on.
func (l *Local) SetACLs(p acl.Pattern, es []acl.Entry, version int32) (int32, error) {
	err := l.update(func(s *localState) error {
		i := slices.IndexFunc(s.ACLs, func(a localACLs) bool { return a.is(p) })
		if i < 0 || s.ACLs[i].Version != version {
			return acl.ErrConflict
		}
		s.ACLs[i].ACLs, s.ACLs[i].Version = slices.Clone(es), version+1
		return nil
	})
	return version + 1, err
}

// DeleteACLs removes a pattern's ACLs at version; none is no error.
func (l *Local) DeleteACLs(p acl.Pattern, version int32) error {
	return l.update(func(s *localState) error {
		i := slices.IndexFunc(s.ACLs, func(a localACLs) bool { return a.is(p) })
		switch {
		case i < 0:
			return nil
		case s.ACLs[i].Version != version:
			return acl.ErrConflict
		}
		s.ACLs = slices.Delete(s.ACLs, i, i+1)
		return nil
	})
}

// NotifyACLChange does nothing: a standalone broker is alone.
func (l *Local) NotifyACLChange(acl.Pattern) error { return nil }
