package acl

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// maxUpdateRetries bounds the conditional writes of one pattern that find
// it changed by another writer (Kafka's maxUpdateRetries); between them
// the writer backs off 100-150 ms, as Kafka's does.
const maxUpdateRetries = 10

// Load replaces the cache with every ACL of the store (at start).
func (a *Authorizer) Load() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	all, err := a.store.LoadACLs()
	if err != nil {
		return fmt.Errorf("acl: load: %w", err)
	}
	a.snap.Store(newSnapshot(all))
	return nil
}

// Refresh reads p's ACLs from the store into the cache: what a broker
// does with a change notification (AclAuthorizer.processAclChangeNotification).
// On an error the cache keeps what it had.
func (a *Authorizer) Refresh(p Pattern) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, err := a.store.ReadACLs(p)
	if err != nil {
		return fmt.Errorf("acl: refresh %s: %w", p, err)
	}
	a.snap.Store(a.snap.Load().with(p, v))
	a.log.Info(fmt.Sprintf("Processing Acl change notification for %s, versionedAcls : %v, zkVersion : %d", p, v.Entries, v.Version))
	return nil
}

// ACLs returns the cached bindings f selects, ordered by pattern then
// entry.
func (a *Authorizer) ACLs(f Filter) []Binding {
	s := a.snap.Load()
	var out []Binding
	for p, v := range s.acls {
		for _, e := range v.Entries {
			if b := (Binding{p, e}); f.Matches(b) {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, compareBindings)
	return out
}

func comparePatterns(a, b Pattern) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.PatternType, b.PatternType), strings.Compare(a.Name, b.Name))
}

func compareBindings(a, b Binding) int {
	return cmp.Or(comparePatterns(a.Pattern, b.Pattern), compareEntries(a.Entry, b.Entry))
}

// CreateACLs stores the bindings and returns, for each, nil or why it was
// not stored: Validate's ErrInvalid, or the store's error for every
// binding of the pattern that failed. Creating an ACL that exists changes
// nothing and succeeds.
func (a *Authorizer) CreateACLs(bindings []Binding) []error {
	errs := make([]error, len(bindings))
	byPattern := map[Pattern][]int{}
	var order []Pattern
	for i, b := range bindings {
		if err := b.Validate(); err != nil {
			errs[i] = err
			continue
		}
		if _, ok := byPattern[b.Pattern]; !ok {
			order = append(order, b.Pattern)
		}
		byPattern[b.Pattern] = append(byPattern[b.Pattern], i)
	}
	if len(order) == 0 {
		return errs
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range order {
		idx := byPattern[p]
		err := a.update(p, func(cur []Entry) []Entry {
			next := slices.Clone(cur)
			for _, i := range idx {
				next = append(next, bindings[i].Entry)
			}
			return next
		})
		for _, i := range idx {
			errs[i] = err
		}
	}
	return errs
}

// Deleted is one binding a delete filter removed, or tried to (Err).
type Deleted struct {
	Binding Binding
	Err     error
}

// DeleteACLs removes the bindings the filters select and returns, for each
// filter, what it removed. A binding several filters select is reported
// by the first. Patterns are those in the cache, and those a filter names
// exactly, so that ACLs another broker created and this one has not heard
// of yet are deleted too (Kafka's deleteAcls).
func (a *Authorizer) DeleteACLs(filters []Filter) [][]Deleted {
	out := make([][]Deleted, len(filters))
	a.mu.Lock()
	defer a.mu.Unlock()
	patterns := map[Pattern]bool{}
	for p := range a.snap.Load().acls {
		patterns[p] = true
	}
	for _, f := range filters {
		for _, p := range f.Pattern.exact() {
			patterns[p] = true
		}
	}
	sorted := make([]Pattern, 0, len(patterns))
	for p := range patterns {
		sorted = append(sorted, p)
	}
	slices.SortFunc(sorted, comparePatterns)
	for _, p := range sorted {
		var matching []int
		for i, f := range filters {
			if f.Pattern.Matches(p) {
				matching = append(matching, i)
			}
		}
		if len(matching) == 0 {
			continue
		}
		// The last attempt's choice is what was deleted: an attempt that
		// found the pattern changed is run again on what it holds now.
		var removed map[Entry]int
		err := a.update(p, func(cur []Entry) []Entry {
			removed = map[Entry]int{}
			var keep []Entry
			for _, e := range cur {
				i := slices.IndexFunc(matching, func(i int) bool { return filters[i].Entry.Matches(e) })
				if i < 0 {
					keep = append(keep, e)
					continue
				}
				removed[e] = matching[i]
			}
			return keep
		})
		es := make([]Entry, 0, len(removed))
		for e := range removed {
			es = append(es, e)
		}
		slices.SortFunc(es, compareEntries)
		for _, e := range es {
			i := removed[e]
			out[i] = append(out[i], Deleted{Binding{p, e}, err})
		}
	}
	return out
}

// update changes p's stored ACLs with change, conditionally on the version
// read, reading again and retrying when another writer came between
// (AclAuthorizer.updateResourceAcls); then updates the cache and, if the
// ACLs changed, notifies the other brokers. Called with mu held.
func (a *Authorizer) update(p Pattern, change func(cur []Entry) []Entry) error {
	cur, ok := a.snap.Load().acls[p]
	if !ok {
		var err error
		if cur, err = a.store.ReadACLs(p); err != nil {
			return err
		}
	}
	var next Versioned
	for retries := 0; ; retries++ {
		entries := normalize(change(cur.Entries))
		var (
			version int32
			err     error
		)
		switch {
		case len(entries) == 0 && !cur.Exists():
			// Nothing stored and nothing to store: no write (a delete
			// filter naming a pattern that has no ACLs).
			return nil
		case len(entries) == 0:
			err = a.store.DeleteACLs(p, cur.Version)
			version = Absent
		case cur.Exists():
			version, err = a.store.SetACLs(p, entries, cur.Version)
		default:
			version, err = a.store.CreateACLs(p, entries)
		}
		if err == nil {
			next = Versioned{entries, version}
			break
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if retries >= maxUpdateRetries {
			return fmt.Errorf("acl: failed to update ACLs for %s after trying a maximum of %d times: %w", p, maxUpdateRetries, err)
		}
		time.Sleep(100*time.Millisecond + rand.N(50*time.Millisecond))
		if cur, err = a.store.ReadACLs(p); err != nil {
			return err
		}
	}
	changed := !slices.Equal(next.Entries, normalize(cur.Entries))
	a.snap.Store(a.snap.Load().with(p, next))
	if !changed {
		return nil
	}
	a.log.Info(fmt.Sprintf("Updated ACLs for %s with new version %d", p, next.Version))
	if err := a.store.NotifyACLChange(p); err != nil {
		return fmt.Errorf("acl: notify the change of %s: %w", p, err)
	}
	return nil
}
