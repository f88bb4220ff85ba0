package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is a config's type as Kafka's ConfigDef names it; the numbers are
// DescribeConfigs' config_type (v3+, KIP-569).
type Type int8

const (
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

func (t Type) String() string {
	switch t {
	case TypeBoolean:
		return "boolean"
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeShort:
		return "short"
	case TypeLong:
		return "long"
	case TypeDouble:
		return "double"
	case TypeList:
		return "list"
	case TypeClass:
		return "class"
	case TypePassword:
		return "password"
	}
	return fmt.Sprintf("type(%d)", int8(t))
}

// Scope says where a key is set.
type Scope int8

const (
	// ScopeBroker: server.properties or --override, read once at start.
	ScopeBroker Scope = iota
	// ScopeTopic: a topic's override (CreateTopics, AlterConfigs,
	// IncrementalAlterConfigs), over the broker's default of it.
	ScopeTopic
)

func (s Scope) String() string {
	if s == ScopeTopic {
		return "topic"
	}
	return "broker"
}

// Def defines one configuration key: everything the parser, validation,
// DescribeConfigs, CreateTopics and the reference page know of it. Defs
// live in one table (keys.go); (Scope, Name) is unique. A broker key and a
// topic key may share a name (compression.type, min.insync.replicas): the
// broker one sets the topic one's default.
type Def struct {
	Name  string
	Scope Scope
	Type  Type
	// Default is Kafka's default as text; "" is null (no value).
	Default string
	// Valid describes the values accepted ("[1,...]", "delete, compact");
	// Options lists them when they are an enumeration.
	Valid   string
	Options []string
	Doc     string
	// Dynamic: a change applies to the running broker. Topic keys are
	// dynamic; broker keys are read-only (this broker has no dynamic
	// broker configs, KIP-226): they change with a restart.
	Dynamic bool

	// BrokerKey (topic keys): the broker key that sets this key's
	// default, log.retention.ms for retention.ms; "" for none.
	BrokerKey string
	// TopicKey (broker keys): the topic key whose default this key sets,
	// in units of Scale of the topic key's (3600000 for log.retention.hours
	// of retention.ms). Of several broker keys setting one topic key the
	// one with the smallest Scale wins, whatever the order (Kafka's
	// log.retention.ms over .minutes over .hours).
	TopicKey string
	Scale    int64
	// DefaultFrom (broker keys): when the key is not set, it takes the
	// value of this key (zookeeper.connection.timeout.ms from
	// zookeeper.session.timeout.ms).
	DefaultFrom string
	// Alias (broker keys): the key this one is another name of (log.dir
	// of log.dirs); the alias applies first, so the key itself wins.
	Alias string
	// ZooKeeper: the key configures ZooKeeper mode and the cluster; a
	// standalone broker parses, validates and describes it, and does not
	// use it.
	ZooKeeper bool

	// Exactly one pair is set: broker keys read and write a Config, topic
	// keys a TopicConfig. get returns nil for null.
	set  func(c *Config, v string) error
	get  func(c *Config) *string
	setT func(t *TopicConfig, v string) error
	getT func(t *TopicConfig) string
	bind binding
}

// binding attaches a def to a typed field: made by brokerField,
// topicField or custom, and expanded by register.
type binding struct {
	typ     Type
	valid   string
	options []string
	set     func(c *Config, v string) error
	get     func(c *Config) *string
	setT    func(t *TopicConfig, v string) error
	getT    func(t *TopicConfig) string
}

// Value is a broker key's value in c, as DescribeConfigs shows it; nil is
// null. It panics for a topic key.
func (d *Def) Value(c *Config) *string {
	if d.get == nil {
		panic("config: Value of topic key " + d.Name)
	}
	return d.get(c)
}

// TopicValue is a topic key's value in t, as DescribeConfigs shows it. It
// panics for a broker key.
func (d *Def) TopicValue(t *TopicConfig) string {
	if d.getT == nil {
		panic("config: TopicValue of broker key " + d.Name)
	}
	return d.getT(t)
}

// Check validates a value of the key without storing it.
func (d *Def) Check(v string) error {
	if d.Scope == ScopeTopic {
		var t TopicConfig
		return d.setT(&t, v)
	}
	var c Config
	c.TopicDefaults = DefaultTopicConfig()
	return d.set(&c, v)
}

// kind parses, validates and formats the values of one field type.
type kind[T any] struct {
	typ     Type
	parse   func(v string) (T, error) // v is trimmed
	format  func(x T) string          // "" is null
	valid   string
	options []string
}

func brokerField[T any](k kind[T], field func(c *Config) *T) binding {
	return binding{typ: k.typ, valid: k.valid, options: k.options,
		set: func(c *Config, v string) error {
			x, err := k.parse(strings.TrimSpace(v))
			if err == nil {
				*field(c) = x
			}
			return err
		},
		get: func(c *Config) *string { return nullable(k.format(*field(c))) },
	}
}

func topicField[T any](k kind[T], field func(t *TopicConfig) *T) binding {
	return binding{typ: k.typ, valid: k.valid, options: k.options,
		setT: func(t *TopicConfig, v string) error {
			x, err := k.parse(strings.TrimSpace(v))
			if err == nil {
				*field(t) = x
			}
			return err
		},
		getT: func(t *TopicConfig) string { return k.format(*field(t)) },
	}
}

// custom binds a broker key whose value is more than one field.
func custom(typ Type, valid string, set func(c *Config, v string) error, get func(c *Config) *string) binding {
	return binding{typ: typ, valid: valid, get: get,
		set: func(c *Config, v string) error { return set(c, strings.TrimSpace(v)) }}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Kinds.

type integer interface {
	~int | ~int16 | ~int32 | ~int64
}

func rangeText(lo, hi int64) string {
	if hi == math.MaxInt64 || hi == math.MaxInt32 || hi == math.MaxInt16 {
		return fmt.Sprintf("[%d,...]", lo)
	}
	return fmt.Sprintf("[%d,...,%d]", lo, hi)
}

func parseInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("must be in [%d, %d]", lo, hi)
	}
	return n, nil
}

// typeMax is the largest value of an integer Kafka type.
func typeMax(t Type) int64 {
	switch t {
	case TypeShort:
		return math.MaxInt16
	case TypeInt:
		return math.MaxInt32
	}
	return math.MaxInt64
}

// intIn is an int, short or long in [lo, hi].
func intIn[T integer](typ Type, lo, hi int64) kind[T] {
	hi = min(hi, typeMax(typ))
	return kind[T]{typ: typ, valid: rangeText(lo, hi),
		parse: func(v string) (T, error) {
			n, err := parseInt(v, lo, hi)
			return T(n), err
		},
		format: func(x T) string { return strconv.FormatInt(int64(x), 10) },
	}
}

// atLeast is an int, short or long of at least lo.
func atLeast[T integer](typ Type, lo int64) kind[T] { return intIn[T](typ, lo, math.MaxInt64) }

// duration is an int or long count of unit, at least lo of them.
func duration(typ Type, unit time.Duration, lo int64) kind[time.Duration] {
	hi := min(typeMax(typ), math.MaxInt64/int64(unit))
	return kind[time.Duration]{typ: typ, valid: rangeText(lo, typeMax(typ)),
		parse: func(v string) (time.Duration, error) {
			n, err := parseInt(v, lo, hi)
			return time.Duration(n) * unit, err
		},
		format: func(d time.Duration) string { return strconv.FormatInt(int64(d/unit), 10) },
	}
}

func ms(typ Type, lo int64) kind[time.Duration] { return duration(typ, time.Millisecond, lo) }

var boolean = kind[bool]{typ: TypeBoolean, options: []string{"true", "false"}, valid: "true, false",
	parse: func(v string) (bool, error) {
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("must be true or false")
	},
	format: strconv.FormatBool,
}

// text is a string; check (if any) validates it.
func text(valid string, check func(v string) error) kind[string] {
	return kind[string]{typ: TypeString, valid: valid,
		parse: func(v string) (string, error) {
			if check != nil {
				if err := check(v); err != nil {
					return "", err
				}
			}
			return v, nil
		},
		format: func(s string) string { return s },
	}
}

// oneOf is a string from opts.
func oneOf(opts ...string) kind[string] {
	return kind[string]{typ: TypeString, valid: strings.Join(opts, ", "), options: opts,
		parse: func(v string) (string, error) {
			if !slices.Contains(opts, v) {
				return "", fmt.Errorf("must be one of %s", strings.Join(opts, ", "))
			}
			return v, nil
		},
		format: func(s string) string { return s },
	}
}

// doubleIn is a double in [lo, hi].
func doubleIn(lo, hi float64) kind[float64] {
	return kind[float64]{typ: TypeDouble, valid: fmt.Sprintf("[%s,...,%s]", javaDouble(lo), javaDouble(hi)),
		parse: func(v string) (float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < lo || f > hi {
				return 0, fmt.Errorf("must be a number in [%g, %g]", lo, hi)
			}
			return f, nil
		},
		format: javaDouble,
	}
}

// javaDouble formats f as Java's Double.toString does for the values
// configs take: 0.5, 1.0.
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEIN") {
		s += ".0"
	}
	return s
}

// splitList splits a list value at commas, trimming items; the empty
// string is no items.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	out := strings.Split(v, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}
