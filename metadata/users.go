package metadata

import (
	"maps"

	"samsa/security/sasl"
)

// A standalone broker keeps its users' configs (SCRAM credentials, in
// Kafka's stored form) in the metadata file, as a ZooKeeper-mode broker
// keeps them in /config/users/<user>. There is no other broker to notify.

var _ sasl.CredentialStore = (*Local)(nil)

// UserConfigs returns every user's configs.
func (l *Local) UserConfigs() (map[string]map[string]string, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]map[string]string, len(l.state.Users))
	for u, c := range l.state.Users {
		out[u] = maps.Clone(c)
	}
	return out, nil
}

// UserConfig returns one user's configs.
func (l *Local) UserConfig(user string) (map[string]string, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := maps.Clone(l.state.Users[user])
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

// UpdateUserConfig replaces a user's configs with edit's, under the
// store's lock; a user left with none is removed.
func (l *Local) UpdateUserConfig(user string, edit func(cur map[string]string) (map[string]string, error)) error {
	return l.update(func(s *localState) error {
		next, err := edit(maps.Clone(s.Users[user]))
		if err != nil {
			return err
		}
		// A new outer map: update keeps the old state for a failed save.
		users := make(map[string]map[string]string, len(s.Users)+1)
		maps.Copy(users, s.Users)
		if len(next) == 0 {
			delete(users, user)
		} else {
			users[user] = maps.Clone(next)
		}
		s.Users = users
		return nil
	})
}
