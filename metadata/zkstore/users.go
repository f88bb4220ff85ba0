package zkstore

// Users' configs in ZooKeeper, where Kafka keeps SCRAM credentials
// (AdminZkClient.changeConfigs for the users entity type), so that
// kafka-configs.sh --zookeeper ... --alter --add-config
// 'SCRAM-SHA-256=[password=...]' --entity-type users --entity-name alice
// and Kafka brokers read what Samsa writes and the other way round. Part
// of the format shared with Kafka: never change it.
//
//	znode                                   content
//	--------------------------------------  ---------------------------------------------------------------
//	/config/users/<sanitized user>          {"version":1,"config":{"SCRAM-SHA-256":"salt=...,stored_key=...,
//	                                        server_key=...,iterations=4096"}} (quotas share the map)
//	/config/changes/config_change_<10 d.>   sequential: {"version":2,"entity_path":"users/<sanitized user>"}
//
// A user name is sanitized as Kafka's Sanitizer does (Java's URLEncoder,
// UTF-8, with '*' as %2A and a space as %20), so that any name makes one
// znode. Every broker reads a user's znode again when a notification
// names it (server's config change watch).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"time"

	"samsa/metadata/kafkazk"
	"samsa/security/sasl"
)

const (
	usersPath         = "/config/users"
	configChangesPath = "/config/changes"
	configChangeName  = "config_change_"
	// UsersEntity is the entity type of users in config change
	// notifications: their entity path is users/<sanitized user>.
	UsersEntity = "users"
)

// Sanitize is a user name as Kafka names its znode and entity path
// (Sanitizer.sanitize): the UTF-8 bytes URL-encoded, letters, digits and
// ".-_" as they are, '*' as %2A, a space as %20.
func Sanitize(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Desanitize reads a sanitized name back (Sanitizer.desanitize: Java's
// URLDecoder, which also reads '+' as a space).
func Desanitize(s string) (string, error) {
	return url.QueryUnescape(s)
}

// userConfigJSON is a users' entity config znode.
type userConfigJSON struct {
	Version int               `json:"version"`
	Config  map[string]string `json:"config"`
}

type configChangeJSON struct {
	Version    int    `json:"version"`
	EntityPath string `json:"entity_path"`
}

// UserStore is sasl.CredentialStore over Kafka's /config/users znodes.
type UserStore struct {
	zk      znodes
	timeout time.Duration
	log     *slog.Logger
}

var _ sasl.CredentialStore = (*UserStore)(nil)

// NewUserStore returns the user store over zk; calls time out after
// timeout.
func NewUserStore(zk *kafkazk.Client, timeout time.Duration, log *slog.Logger) *UserStore {
	return newUserStore(zk, timeout, log)
}

func newUserStore(zk znodes, timeout time.Duration, log *slog.Logger) *UserStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UserStore{zk: zk, timeout: timeout, log: log}
}

func userPath(user string) string { return usersPath + "/" + Sanitize(user) }

// UserConfigs reads every user's configs. A znode that is not config JSON
// is skipped with an error in the log, as Kafka skips it, so that one bad
// user does not lock every user out.
func (s *UserStore) UserConfigs() (map[string]map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	kids, err := s.zk.Children(ctx, usersPath)
	if errors.Is(err, kafkazk.ErrNotFound) {
		return map[string]map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(kids))
	for _, k := range kids {
		user, err := Desanitize(k)
		if err != nil {
			s.log.Error("a users' config znode whose name is not sanitized; skipped", "znode", usersPath+"/"+k, "err", err)
			continue
		}
		cfg, _, err := s.read(ctx, user)
		if errors.Is(err, kafkazk.ErrCorrupt) {
			s.log.Error("a users' config znode that cannot be read; skipped", "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(cfg) > 0 {
			out[user] = cfg
		}
	}
	return out, nil
}

// UserConfig reads one user's configs.
func (s *UserStore) UserConfig(user string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	cfg, _, err := s.read(ctx, user)
	return cfg, err
}

// read returns a user's configs and their znode's version, acl.Absent's
// -2 when it does not exist.
func (s *UserStore) read(ctx context.Context, user string) (map[string]string, int32, error) {
	path := userPath(user)
	data, st, err := s.zk.Get(ctx, path)
	if errors.Is(err, kafkazk.ErrNotFound) {
		return map[string]string{}, -2, nil
	}
	if err != nil {
		return nil, 0, err
	}
	cfg := map[string]string{}
	if len(bytes.TrimSpace(data)) > 0 {
		var j userConfigJSON
		if err := json.Unmarshal(data, &j); err != nil {
			return nil, 0, fmt.Errorf("%w: %s: %v", kafkazk.ErrCorrupt, path, err)
		}
		maps.Copy(cfg, j.Config)
	}
	return cfg, st.Version, nil
}

// UpdateUserConfig writes what edit makes of a user's configs,
// conditionally on the znode's version (edit runs again when another
// writer came between), then creates the change notification that makes
// every broker read it. A user left with no config keeps an empty znode,
// as Kafka leaves it.
func (s *UserStore) UpdateUserConfig(user string, edit func(cur map[string]string) (map[string]string, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	path := userPath(user)
	for {
		cur, version, err := s.read(ctx, user)
		if err != nil {
			return err
		}
		next, err := edit(cur)
		if err != nil {
			return err
		}
		if next == nil {
			next = map[string]string{}
		}
		data, err := json.Marshal(userConfigJSON{Version: 1, Config: next})
		if err != nil {
			return err
		}
		if version == -2 {
			err = s.zk.Create(ctx, path, data)
		} else {
			_, err = s.zk.SetIfVersion(ctx, path, data, version)
		}
		if errors.Is(err, kafkazk.ErrExists) || errors.Is(err, kafkazk.ErrBadVersion) || (version != -2 && errors.Is(err, kafkazk.ErrNotFound)) {
			continue // another writer came between: read again
		}
		if err != nil {
			return err
		}
		break
	}
	change, _ := json.Marshal(configChangeJSON{Version: 2, EntityPath: UsersEntity + "/" + Sanitize(user)})
	_, err := s.zk.CreateSequential(ctx, configChangesPath+"/"+configChangeName, change)
	if errors.Is(err, kafkazk.ErrNotFound) {
		if err = s.zk.Create(ctx, configChangesPath, nil); err == nil || errors.Is(err, kafkazk.ErrExists) {
			_, err = s.zk.CreateSequential(ctx, configChangesPath+"/"+configChangeName, change)
		}
	}
	if err != nil {
		return fmt.Errorf("zkstore: the change notification of user %s: %w", user, err)
	}
	return nil
}

// UserOfEntityPath returns the user a config change notification's entity
// path names (users/<sanitized user>), if it names one; a user's client
// quotas (users/<user>/clients/<id>) are not the user's configs.
func UserOfEntityPath(entityPath string) (string, bool) {
	rest, ok := strings.CutPrefix(entityPath, UsersEntity+"/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	user, err := Desanitize(rest)
	return user, err == nil
}
