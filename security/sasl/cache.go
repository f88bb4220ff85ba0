package sasl

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// CredentialCache holds every SCRAM user's credentials, as Kafka's
// CredentialCache: loaded from the metadata store when the broker starts
// and updated, one user at a time, from what the store says after a
// change (in ZooKeeper mode, when a /config/changes notification names
// users/<user>). Authentications read it without a lock.
type CredentialCache struct {
	// users is an immutable map, replaced whole by each update: user →
	// mechanism name → credential.
	users atomic.Pointer[map[string]map[string]ScramCredential]
	// mu serializes updates (a leaf: nothing is taken under it).
	mu sync.Mutex
}

// Lookup returns a user's credential for mech: the CredentialLookup of
// the SCRAM servers.
func (c *CredentialCache) Lookup(mech *ScramMechanism, user string) (ScramCredential, bool) {
	p := c.users.Load()
	if p == nil {
		return ScramCredential{}, false
	}
	cred, ok := (*p)[user][mech.Name]
	return cred, ok
}

// Mechanisms returns the SCRAM mechanisms a user has credentials for, in
// ScramMechanisms' order, with their iteration counts.
func (c *CredentialCache) Mechanisms(user string) []MechanismInfo {
	p := c.users.Load()
	if p == nil {
		return nil
	}
	var out []MechanismInfo
	for _, m := range ScramMechanisms {
		if cred, ok := (*p)[user][m.Name]; ok {
			out = append(out, MechanismInfo{m, cred.Iterations})
		}
	}
	return out
}

// MechanismInfo is what DescribeUserScramCredentials tells of a
// credential: its mechanism and iterations, never its keys.
type MechanismInfo struct {
	Mechanism  *ScramMechanism
	Iterations int
}

// Users returns the users that have a SCRAM credential, sorted.
func (c *CredentialCache) Users() []string {
	p := c.users.Load()
	if p == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(*p))
}

// Update sets a user's credentials from the user's entity configs in the
// store (Kafka's /config/users/<user> map: SCRAM-SHA-256 → credential
// string, and other keys, quotas, which are not the cache's). A user
// with no SCRAM config is removed. A credential that does not parse is
// left out and returned as an error, the others applied.
func (c *CredentialCache) Update(user string, configs map[string]string) error {
	creds, err := ParseUserConfigs(configs)
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[string]map[string]ScramCredential{}
	if p := c.users.Load(); p != nil {
		next = maps.Clone(*p)
	}
	if len(creds) == 0 {
		delete(next, user)
	} else {
		next[user] = creds
	}
	c.users.Store(&next)
	return err
}

// Replace sets every user's credentials at once (the load at start).
func (c *CredentialCache) Replace(users map[string]map[string]string) error {
	next := map[string]map[string]ScramCredential{}
	var first error
	for u, cfg := range users {
		creds, err := ParseUserConfigs(cfg)
		if err != nil && first == nil {
			first = err
		}
		if len(creds) > 0 {
			next[u] = creds
		}
	}
	c.mu.Lock()
	c.users.Store(&next)
	c.mu.Unlock()
	return first
}

// ParseUserConfigs returns the SCRAM credentials among a user's entity
// configs, by mechanism name. Keys that name no SCRAM mechanism are not
// credentials and are skipped; a credential that does not parse is left
// out and reported.
func ParseUserConfigs(configs map[string]string) (map[string]ScramCredential, error) {
	out := map[string]ScramCredential{}
	var first error
	for _, m := range ScramMechanisms {
		v, ok := configs[m.Name]
		if !ok {
			continue
		}
		cred, err := ParseScramCredential(v)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out[m.Name] = cred
	}
	return out, first
}

// CredentialStore is where SCRAM credentials are durable: Kafka's
// /config/users/<user> znodes in ZooKeeper mode (package zkstore), the
// metadata file of a standalone broker (metadata.Local). A user's configs
// are Kafka's entity configs: credentials by mechanism name (String's
// form), beside keys of others (quotas), which the store keeps as they
// are.
type CredentialStore interface {
	// UserConfigs reads every user's configs.
	UserConfigs() (map[string]map[string]string, error)
	// UserConfig reads one user's configs: empty if it has none.
	UserConfig(user string) (map[string]string, error)
	// UpdateUserConfig replaces a user's configs with what edit makes of
	// the current ones, without losing a concurrent writer's change
	// (edit may run again), then tells the other brokers (in ZooKeeper a
	// config change notification). An edit's error changes nothing.
	UpdateUserConfig(user string, edit func(cur map[string]string) (map[string]string, error)) error
}
