package acl

import (
	"maps"
	"slices"
)

// snapshot is the ACL cache at one moment. It is never modified once
// published: an update builds a new one (with), so that an authorization
// reads one consistent state without a lock.
type snapshot struct {
	// acls are every pattern's ACLs; a pattern without ACLs is absent.
	acls map[Pattern]Versioned
	// prefixLens are, per resource type, the distinct lengths of the
	// PREFIXED patterns' names, ascending: the prefixes of a resource name
	// worth looking up.
	prefixLens map[ResourceType][]int
	// names is Kafka's resourceCache for authorizeByResourceType: for an
	// entry on a (resource type, pattern type), the names of the patterns
	// that have it.
	names map[typeKey]map[string]struct{}
}

type typeKey struct {
	entry       Entry
	typ         ResourceType
	patternType PatternType
}

func newSnapshot(acls map[Pattern]Versioned) *snapshot {
	s := &snapshot{acls: map[Pattern]Versioned{}, prefixLens: map[ResourceType][]int{}, names: map[typeKey]map[string]struct{}{}}
	for p, v := range acls {
		if len(v.Entries) == 0 {
			continue
		}
		v.Entries = normalize(v.Entries)
		s.acls[p] = v
		for _, e := range v.Entries {
			k := typeKey{e, p.Type, p.PatternType}
			if s.names[k] == nil {
				s.names[k] = map[string]struct{}{}
			}
			s.names[k][p.Name] = struct{}{}
		}
	}
	for t := range s.typesWithPrefixes() {
		s.prefixLens[t] = s.lengths(t)
	}
	return s
}

func (s *snapshot) typesWithPrefixes() map[ResourceType]bool {
	ts := map[ResourceType]bool{}
	for p := range s.acls {
		if p.PatternType == PatternPrefix {
			ts[p.Type] = true
		}
	}
	return ts
}

func (s *snapshot) lengths(t ResourceType) []int {
	var ls []int
	for p := range s.acls {
		if p.Type == t && p.PatternType == PatternPrefix {
			ls = append(ls, len(p.Name))
		}
	}
	slices.Sort(ls)
	return slices.Compact(ls)
}

// with returns the snapshot with p's ACLs replaced by v (removed when v
// has none), sharing what did not change.
func (s *snapshot) with(p Pattern, v Versioned) *snapshot {
	v.Entries = normalize(v.Entries)
	old := s.acls[p].Entries
	n := &snapshot{acls: maps.Clone(s.acls), prefixLens: s.prefixLens, names: maps.Clone(s.names)}
	if len(v.Entries) == 0 {
		delete(n.acls, p)
	} else {
		n.acls[p] = v
	}
	for _, e := range v.Entries {
		if !slices.Contains(old, e) {
			k := typeKey{e, p.Type, p.PatternType}
			set := maps.Clone(n.names[k])
			if set == nil {
				set = map[string]struct{}{}
			}
			set[p.Name] = struct{}{}
			n.names[k] = set
		}
	}
	for _, e := range old {
		if !slices.Contains(v.Entries, e) {
			k := typeKey{e, p.Type, p.PatternType}
			set := maps.Clone(n.names[k])
			delete(set, p.Name)
			if len(set) == 0 {
				delete(n.names, k)
			} else {
				n.names[k] = set
			}
		}
	}
	if p.PatternType == PatternPrefix && (len(old) == 0) != (len(v.Entries) == 0) {
		n.prefixLens = maps.Clone(s.prefixLens)
		if ls := n.lengths(p.Type); len(ls) > 0 {
			n.prefixLens[p.Type] = ls
		} else {
			delete(n.prefixLens, p.Type)
		}
	}
	return n
}

// matching returns the ACL sets that apply to the resource (t, name), as
// AclAuthorizer.matchingAcls: the PREFIXED patterns that are prefixes of
// name (name itself included), the literal wildcard "*", and the literal
// name. None of them is modified by the caller.
func (s *snapshot) matching(t ResourceType, name string) [][]Entry {
	var out [][]Entry
	for _, l := range s.prefixLens[t] {
		if l > len(name) {
			break
		}
		if v, ok := s.acls[Pattern{t, name[:l], PatternPrefix}]; ok {
			out = append(out, v.Entries)
		}
	}
	if v, ok := s.acls[Pattern{t, Wildcard, PatternLiteral}]; ok {
		out = append(out, v.Entries)
	}
	if name != Wildcard {
		if v, ok := s.acls[Pattern{t, name, PatternLiteral}]; ok {
			out = append(out, v.Entries)
		}
	}
	return out
}
