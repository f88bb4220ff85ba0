package zkstore

// ACLs in ZooKeeper, where Kafka's AclAuthorizer keeps them (ZkData's
// ZkAclStore and ZkAclChangeStore), so that kafka-acls.sh
// --authorizer-properties zookeeper.connect=... and Kafka brokers read what
// Samsa writes and the other way round. Part of the format shared with
// Kafka: never change it.
//
//	znode                                            content
//	-----------------------------------------------  --------------------------------------------------------------
//	/kafka-acl/<Type>/<name>                         LITERAL patterns: {"version":1,"acls":[{"principal":"User:alice",
//	                                                 "permissionType":"Allow","operation":"Read","host":"*"}]}
//	                                                 (<Type> in Pascal case: Topic, Group, Cluster, TransactionalId,
//	                                                 DelegationToken, User; the version of the znode is the ACLs'
//	                                                 version, every write is conditional on it)
//	/kafka-acl-extended/prefixed/<Type>/<name>       PREFIXED patterns, the same JSON
//	/kafka-acl-changes/acl_changes_<10 digits>       sequential: a LITERAL pattern changed: "TOPIC:<name>" (the
//	                                                 type's enum name, as Kafka 2.0+ writes it; any case read)
//	/kafka-acl-extended-changes/acl_changes_<10 d.>  sequential: another pattern changed: {"version":1,
//	                                                 "resourceType":"TOPIC","name":"<name>","patternType":"PREFIXED"}
//
// Every broker watches both change paths: a notification newer than the
// last it processed makes it read that pattern's znode again. Each
// broker deletes the notifications older than 15 minutes it comes across
// (ZkNodeChangeNotificationListener's purge).

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"samsa/metadata/kafkazk"
	"samsa/security/acl"
)

// Kafka's ACL znodes.
const (
	aclPath             = "/kafka-acl"
	extendedACLPath     = "/kafka-acl-extended"
	aclChangesPath      = "/kafka-acl-changes"
	extendedChangesPath = "/kafka-acl-extended-changes"
	aclChangePrefix     = "acl_changes_"
	// changeExpiry is how long a change notification stays.
	changeExpiry = 15 * time.Minute
)

// storedTypes are the resource types ACLs are stored under.
var storedTypes = []acl.ResourceType{acl.ResourceTopic, acl.ResourceGroup, acl.ResourceCluster,
	acl.ResourceTransactionalID, acl.ResourceDelegationToken, acl.ResourceUser}

// patternPath is the root of a pattern type's ACLs: /kafka-acl for
// LITERAL, /kafka-acl-extended/<type in lower case> for the others.
func patternPath(pt acl.PatternType) string {
	if pt == acl.PatternLiteral {
		return aclPath
	}
	return extendedACLPath + "/" + strings.ToLower(pt.String())
}

// resourcePath is the znode of a pattern's ACLs.
func resourcePath(p acl.Pattern) string {
	return patternPath(p.PatternType) + "/" + p.Type.String() + "/" + p.Name
}

// changesPath is where a change of a pattern of type pt is announced.
func changesPath(pt acl.PatternType) string {
	if pt == acl.PatternLiteral {
		return aclChangesPath
	}
	return extendedChangesPath
}

type changeEvent struct {
	Version      int    `json:"version"`
	ResourceType string `json:"resourceType"`
	Name         string `json:"name"`
	PatternType  string `json:"patternType"`
}

// encodeChange is the content of a change notification for p.
func encodeChange(p acl.Pattern) []byte {
	if p.PatternType == acl.PatternLiteral {
		return []byte(p.Type.EnumName() + ":" + p.Name)
	}
	data, _ := json.Marshal(changeEvent{1, p.Type.EnumName(), p.Name, p.PatternType.String()})
	return data
}

// decodeChange reads a change notification found under root.
func decodeChange(root string, data []byte) (acl.Pattern, error) {
	if root == aclChangesPath {
		typ, name, ok := strings.Cut(string(data), ":")
		if !ok {
			return acl.Pattern{}, fmt.Errorf("expected a string in format ResourceType:ResourceName but got %q", data)
		}
		t, err := acl.ParseResourceType(typ)
		return acl.Pattern{Type: t, Name: name, PatternType: acl.PatternLiteral}, err
	}
	var ev changeEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return acl.Pattern{}, fmt.Errorf("ACL change event: %w", err)
	}
	if ev.Version > 1 {
		return acl.Pattern{}, fmt.Errorf("ACL change event of unsupported version %d", ev.Version)
	}
	t, err := acl.ParseResourceType(ev.ResourceType)
	if err != nil {
		return acl.Pattern{}, err
	}
	pt, err := acl.ParsePatternType(ev.PatternType)
	if err != nil || !pt.Specific() {
		return acl.Pattern{}, fmt.Errorf("ACL change event of pattern type %q", ev.PatternType)
	}
	return acl.Pattern{Type: t, Name: ev.Name, PatternType: pt}, nil
}

// znodes is what the ACL store needs of ZooKeeper: *kafkazk.Client.
type znodes interface {
	Get(ctx context.Context, path string) ([]byte, kafkazk.Stat, error)
	Children(ctx context.Context, path string) ([]string, error)
	Create(ctx context.Context, path string, data []byte) error
	CreateSequential(ctx context.Context, prefix string, data []byte) (string, error)
	SetIfVersion(ctx context.Context, path string, data []byte, version int32) (kafkazk.Stat, error)
	DeleteIfVersion(ctx context.Context, path string, version int32) error
	WatchChildren(path string, fn func(children []string)) *kafkazk.Watcher
}

// ACLStore is acl.Store over Kafka's ACL znodes, and the listener of their
// change notifications.
type ACLStore struct {
	zk      znodes
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu   sync.Mutex       // serializes the processing of notifications
	last map[string]int64 // per change path, the newest notification processed; absent: none
}

var _ acl.Store = (*ACLStore)(nil)

// NewACLStore returns the ACL store over zk; calls time out after timeout.
func NewACLStore(zk *kafkazk.Client, timeout time.Duration, log *slog.Logger) *ACLStore {
	return newACLStore(zk, timeout, log)
}

func newACLStore(zk znodes, timeout time.Duration, log *slog.Logger) *ACLStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ACLStore{zk: zk, timeout: timeout, log: log, now: time.Now, last: map[string]int64{}}
}

func (s *ACLStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// CreatePaths makes sure the ACL paths exist, as Kafka's authorizer does
// when it starts (KafkaZkClient.createAclPaths).
func (s *ACLStore) CreatePaths() error {
	ctx, cancel := s.ctx()
	defer cancel()
	paths := []string{aclChangesPath, extendedChangesPath}
	for _, pt := range []acl.PatternType{acl.PatternLiteral, acl.PatternPrefix} {
		paths = append(paths, patternPath(pt))
		for _, t := range storedTypes {
			paths = append(paths, patternPath(pt)+"/"+t.String())
		}
	}
	for _, p := range paths {
		if err := s.zk.Create(ctx, p, nil); err != nil && !errors.Is(err, kafkazk.ErrExists) {
			return err
		}
	}
	return nil
}

// LoadACLs reads every pattern's ACLs. A resource type it does not know
// is skipped with a warning, as Kafka does; a znode that is not ACL JSON
// is an error naming it.
func (s *ACLStore) LoadACLs() (map[acl.Pattern]acl.Versioned, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	out := map[acl.Pattern]acl.Versioned{}
	for _, pt := range []acl.PatternType{acl.PatternLiteral, acl.PatternPrefix} {
		types, err := s.zk.Children(ctx, patternPath(pt))
		if errors.Is(err, kafkazk.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, typ := range types {
			t, err := acl.ParseResourceType(typ)
			if err != nil || !t.Known() {
				s.log.Warn("Ignoring unknown ResourceType", "path", patternPath(pt)+"/"+typ)
				continue
			}
			names, err := s.zk.Children(ctx, patternPath(pt)+"/"+typ)
			if err != nil && !errors.Is(err, kafkazk.ErrNotFound) {
				return nil, err
			}
			for _, name := range names {
				p := acl.Pattern{Type: t, Name: name, PatternType: pt}
				v, err := s.read(ctx, p)
				if err != nil {
					return nil, err
				}
				if v.Exists() {
					out[p] = v
				}
			}
		}
	}
	return out, nil
}

// ReadACLs reads a pattern's ACLs.
func (s *ACLStore) ReadACLs(p acl.Pattern) (acl.Versioned, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.read(ctx, p)
}

func (s *ACLStore) read(ctx context.Context, p acl.Pattern) (acl.Versioned, error) {
	path := resourcePath(p)
	data, st, err := s.zk.Get(ctx, path)
	if errors.Is(err, kafkazk.ErrNotFound) {
		return acl.Versioned{Version: acl.Absent}, nil
	}
	if err != nil {
		return acl.Versioned{}, err
	}
	es, err := acl.DecodeACLs(data)
	if err != nil {
		return acl.Versioned{}, fmt.Errorf("%w: %s: %v", kafkazk.ErrCorrupt, path, err)
	}
	return acl.Versioned{Entries: es, Version: st.Version}, nil
}

// CreateACLs creates the pattern's znode.
func (s *ACLStore) CreateACLs(p acl.Pattern, es []acl.Entry) (int32, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	err := s.zk.Create(ctx, resourcePath(p), acl.EncodeACLs(es))
	if errors.Is(err, kafkazk.ErrExists) {
		return 0, fmt.Errorf("%w: %v", acl.ErrConflict, err)
	}
	return 0, err
}

// SetACLs writes the pattern's znode if it is at version.
func (s *ACLStore) SetACLs(p acl.Pattern, es []acl.Entry, version int32) (int32, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	st, err := s.zk.SetIfVersion(ctx, resourcePath(p), acl.EncodeACLs(es), version)
	if errors.Is(err, kafkazk.ErrBadVersion) || errors.Is(err, kafkazk.ErrNotFound) {
		return 0, fmt.Errorf("%w: %v", acl.ErrConflict, err)
	}
	return st.Version, err
}

// DeleteACLs deletes the pattern's znode if it is at version.
func (s *ACLStore) DeleteACLs(p acl.Pattern, version int32) error {
	ctx, cancel := s.ctx()
	defer cancel()
	err := s.zk.DeleteIfVersion(ctx, resourcePath(p), version)
	switch {
	case errors.Is(err, kafkazk.ErrNotFound):
		return nil
	case errors.Is(err, kafkazk.ErrBadVersion):
		return fmt.Errorf("%w: %v", acl.ErrConflict, err)
	}
	return err
}

// NotifyACLChange creates the change notification of p.
func (s *ACLStore) NotifyACLChange(p acl.Pattern) error {
	ctx, cancel := s.ctx()
	defer cancel()
	_, err := s.zk.CreateSequential(ctx, changesPath(p.PatternType)+"/"+aclChangePrefix, encodeChange(p))
	return err
}

// Watch calls refresh with the pattern of every change notification newer
// than those seen (every existing one at first), now and whenever one is
// created, until stop is called.
func (s *ACLStore) Watch(refresh func(acl.Pattern) error) (stop func()) {
	var ws []*kafkazk.Watcher
	for _, root := range []string{aclChangesPath, extendedChangesPath} {
		ws = append(ws, s.zk.WatchChildren(root, func([]string) { s.processChanges(root, refresh) }))
	}
	return func() {
		for _, w := range ws {
			w.Stop()
		}
	}
}

// processChanges reads the notifications under root newer than the last
// processed, in order, refreshes their patterns, then purges the expired
// ones (ZkNodeChangeNotificationListener.processNotifications). A
// notification that cannot be read is logged and passed.
func (s *ACLStore) processChanges(root string, refresh func(acl.Pattern) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := s.ctx()
	defer cancel()
	kids, err := s.zk.Children(ctx, root)
	if err != nil {
		if !errors.Is(err, kafkazk.ErrNotFound) {
			s.log.Error("reading ACL change notifications", "path", root, "err", err)
		}
		return
	}
	type change struct {
		name string
		seq  int64
	}
	var changes []change
	for _, k := range kids {
		if n, ok := strings.CutPrefix(k, aclChangePrefix); ok {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil {
				changes = append(changes, change{k, seq})
			}
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return cmp.Compare(a.seq, b.seq) })
	last, seen := s.last[root]
	now := s.now().UnixMilli()
	for _, c := range changes {
		path := root + "/" + c.name
		data, st, err := s.zk.Get(ctx, path)
		if err != nil {
			if !errors.Is(err, kafkazk.ErrNotFound) {
				s.log.Error("reading an ACL change notification", "path", path, "err", err)
			}
			continue
		}
		if !seen || c.seq > last {
			last, seen = c.seq, true
			if p, err := decodeChange(root, data); err != nil {
				s.log.Error("error processing change notification", "path", path, "data", string(data), "err", err)
			} else if err := refresh(p); err != nil {
				s.log.Error("error processing change notification", "path", path, "pattern", p.String(), "err", err)
			}
		}
		if now-st.Ctime > changeExpiry.Milliseconds() {
			if err := s.zk.DeleteIfVersion(ctx, path, -1); err != nil && !errors.Is(err, kafkazk.ErrNotFound) {
				s.log.Warn("purging an ACL change notification", "path", path, "err", err)
			}
		}
	}
	if seen {
		s.last[root] = last
	}
}
