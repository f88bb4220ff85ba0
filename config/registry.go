package config

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The table, indexed when the package initialises.
var (
	// BrokerDefs are the broker keys, and TopicDefs the topic keys, each
	// sorted by name.
	BrokerDefs, TopicDefs []*Def

	brokerByName, topicByName map[string]*Def
)

func init() {
	b, t, err := register(defs)
	if err != nil {
		panic("config: " + err.Error())
	}
	BrokerDefs, TopicDefs = b, t
	brokerByName, topicByName = byName(b), byName(t)
	defaultTopic = TopicConfig{}
	for _, d := range t {
		if err := d.setT(&defaultTopic, d.Default); err != nil {
			panic(fmt.Sprintf("config: default of topic key %s: %v", d.Name, err))
		}
	}
	if err := checkDefaults(b, t); err != nil {
		panic("config: " + err.Error())
	}
}

// LookupBroker returns the definition of a broker key.
func LookupBroker(name string) (*Def, bool) {
	d, ok := brokerByName[name]
	return d, ok
}

// LookupTopic returns the definition of a topic key.
func LookupTopic(name string) (*Def, bool) {
	d, ok := topicByName[name]
	return d, ok
}

func byName(ds []*Def) map[string]*Def {
	m := make(map[string]*Def, len(ds))
	for _, d := range ds {
		m[d.Name] = d
	}
	return m
}

// register completes a table's definitions from their bindings and checks
// that it holds together: each (scope, name) once, every reference to
// another key resolving to a key of the right kind, every key bound to a
// field. It returns the broker and topic keys, sorted by name.
func register(table []*Def) (broker, topic []*Def, err error) {
	seen := map[Scope]map[string]*Def{ScopeBroker: {}, ScopeTopic: {}}
	for _, d := range table {
		if d.Name == "" || strings.TrimSpace(d.Name) != d.Name {
			return nil, nil, fmt.Errorf("key %q: bad name", d.Name)
		}
		if seen[d.Scope][d.Name] != nil {
			return nil, nil, fmt.Errorf("%s key %s defined twice", d.Scope, d.Name)
		}
		seen[d.Scope][d.Name] = d
		b := d.bind
		d.set, d.get, d.setT, d.getT = b.set, b.get, b.setT, b.getT
		if d.Type == 0 {
			d.Type = b.typ
		}
		if d.Valid == "" {
			d.Valid = b.valid
		}
		if d.Options == nil {
			d.Options = b.options
		}
		switch d.Scope {
		case ScopeBroker:
			if d.TopicKey == "" && (d.set == nil || d.get == nil) {
				return nil, nil, fmt.Errorf("broker key %s: not bound to a Config field", d.Name)
			}
			broker = append(broker, d)
		case ScopeTopic:
			if d.setT == nil || d.getT == nil {
				return nil, nil, fmt.Errorf("topic key %s: not bound to a TopicConfig field", d.Name)
			}
			if d.TopicKey != "" || d.DefaultFrom != "" || d.Alias != "" {
				return nil, nil, fmt.Errorf("topic key %s: TopicKey, DefaultFrom and Alias are for broker keys", d.Name)
			}
			d.Dynamic = true
			topic = append(topic, d)
		default:
			return nil, nil, fmt.Errorf("key %s: unknown scope %d", d.Name, d.Scope)
		}
		if d.Doc == "" && d.TopicKey == "" {
			return nil, nil, fmt.Errorf("%s key %s: no documentation", d.Scope, d.Name)
		}
	}
	brokers, topics := seen[ScopeBroker], seen[ScopeTopic]
	for _, d := range broker {
		if d.TopicKey != "" {
			if err := bindTopicDefault(d, topics[d.TopicKey]); err != nil {
				return nil, nil, err
			}
		}
		for _, ref := range []string{d.DefaultFrom, d.Alias} {
			if r := brokers[ref]; ref != "" && (r == nil || r.Type != d.Type) {
				return nil, nil, fmt.Errorf("broker key %s: refers to %s, which is no broker key of its type", d.Name, ref)
			}
		}
		if d.Type == 0 {
			return nil, nil, fmt.Errorf("broker key %s: no type", d.Name)
		}
	}
	for _, d := range topic {
		if d.BrokerKey == "" {
			continue
		}
		if b := brokers[d.BrokerKey]; b == nil || b.TopicKey != d.Name || b.Scale != 1 {
			return nil, nil, fmt.Errorf("topic key %s: broker key %s does not set its default", d.Name, d.BrokerKey)
		}
	}
	for _, d := range broker {
		if t := topics[d.TopicKey]; d.TopicKey != "" && d.Scale == 1 && t.BrokerKey != d.Name {
			return nil, nil, fmt.Errorf("broker key %s sets topic key %s, whose BrokerKey is %q", d.Name, t.Name, t.BrokerKey)
		}
	}
	byKey := func(a, b *Def) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(broker, byKey)
	slices.SortFunc(topic, byKey)
	return broker, topic, nil
}

// bindTopicDefault binds broker key d to the default of topic key t, in
// units of d.Scale of t's: log.retention.hours sets retention.ms to 3600000
// times its value (-1, no limit, in any unit), and shows retention.ms in
// hours, or null when it is not a whole number of them.
func bindTopicDefault(d, t *Def) error {
	if t == nil || t.Scope != ScopeTopic {
		return fmt.Errorf("broker key %s: no topic key %s", d.Name, d.TopicKey)
	}
	if d.bind.set != nil || d.bind.setT != nil {
		return fmt.Errorf("broker key %s: bound to a field and to topic key %s", d.Name, t.Name)
	}
	if d.Scale < 1 {
		return fmt.Errorf("broker key %s: scale %d", d.Name, d.Scale)
	}
	if d.Doc == "" {
		d.Doc = t.Doc
	}
	if d.ZooKeeper != t.ZooKeeper {
		return fmt.Errorf("broker key %s and topic key %s: ZooKeeper differs", d.Name, t.Name)
	}
	scale := d.Scale
	if scale == 1 {
		if d.Type == 0 {
			d.Type = t.Type
		}
		d.Valid, d.Options, d.Default = t.Valid, t.Options, t.Default
		d.set = func(c *Config, v string) error { return t.setT(&c.TopicDefaults, v) }
		d.get = func(c *Config) *string { v := t.getT(&c.TopicDefaults); return &v }
		return nil
	}
	if d.Type != TypeInt && d.Type != TypeLong {
		return fmt.Errorf("broker key %s: a scaled key must be an int or a long", d.Name)
	}
	lo := int64(1)
	var probe TopicConfig
	if t.setT(&probe, "-1") == nil {
		lo = -1
	}
	hi := min(typeMax(d.Type), math.MaxInt64/scale)
	d.Valid = rangeText(lo, hi)
	d.set = func(c *Config, v string) error {
		n, err := parseInt(v, lo, hi)
		if err != nil {
			return err
		}
		if n > 0 {
			n *= scale
		}
		if err := t.setT(&c.TopicDefaults, strconv.FormatInt(n, 10)); err != nil {
			return fmt.Errorf("%s=%d: %w", t.Name, n, err)
		}
		return nil
	}
	d.get = func(c *Config) *string {
		n, err := strconv.ParseInt(t.getT(&c.TopicDefaults), 10, 64)
		switch {
		case err != nil:
			return nil
		case n < 0: // -1: no limit, in any unit
			return nullable(strconv.FormatInt(n, 10))
		case n%scale != 0:
			return nil
		}
		return nullable(strconv.FormatInt(n/scale, 10))
	}
	if v := d.get(&Config{TopicDefaults: topicDefaultsOf(t)}); v != nil {
		d.Default = *v
	}
	return nil
}

// topicDefaultsOf is a TopicConfig holding t's default, for deriving the
// default of a scaled broker key while the package initialises.
func topicDefaultsOf(t *Def) TopicConfig {
	var tc TopicConfig
	t.setT(&tc, t.Default)
	return tc
}

// checkDefaults checks that every default parses and reads back as
// written, so that a default mistyped in the table fails at start-up.
func checkDefaults(broker, topic []*Def) error {
	c, err := New(nil, nil)
	if err != nil {
		return fmt.Errorf("the defaults: %v", err)
	}
	for _, d := range broker {
		got := d.get(c)
		want := d.Default
		if from := cmp.Or(d.DefaultFrom, d.Alias); from != "" {
			want = deref(brokerByName[from].get(c))
		}
		if want == "" && got == nil || got != nil && *got == want {
			continue
		}
		return fmt.Errorf("broker key %s: default %q reads back as %v", d.Name, want, deref(got))
	}
	for _, d := range topic {
		if got := d.getT(&defaultTopic); got != d.Default {
			return fmt.Errorf("topic key %s: default %q reads back as %q", d.Name, d.Default, got)
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
