// Package config is the broker's configuration: Kafka's broker keys
// (server.properties) and topic keys, defined once (Kafka's ConfigDef and
// LogConfig).
//
// # The table
//
// keys.go holds one table of Defs. A Def gives a key's name, scope
// (ScopeBroker or ScopeTopic), Kafka type, default, valid values,
// documentation, whether it is dynamic (topic keys) or read-only (broker
// keys), and its links to other keys: a topic key's BrokerKey sets its
// default (retention.ms ← log.retention.ms); a broker key's TopicKey and
// Scale say which topic key's default it sets and in what unit
// (log.retention.hours sets retention.ms in units of 3600000); DefaultFrom
// and Alias. Each Def is bound to the typed field it sets, so the parser
// (New, Load), validation, DescribeConfigs, CreateTopics' returned configs,
// the Alter*Configs checks and docs/configuration.md all come from the
// table. The package checks the table when it initialises and panics on a
// key defined twice, a link to a key that does not exist, or a default
// that does not parse and read back.
//
// # Reading a key
//
// Code reads fields, never keys by name, so a misspelt key does not
// compile:
//
//	cfg.NumPartitions                  // broker key num.partitions
//	cfg.TopicDefaults.RetentionMs      // log.retention.ms|minutes|hours
//	ts.Config.MaxMessageBytes          // a topic's max.message.bytes, resolved
//	ts.Config.CleanupPolicy.Compact    // cleanup.policy includes compact
//
// A topic's TopicConfig is resolved once, by TopicConfig.With, when the
// topic is opened or its overrides change; the overrides as set stay in
// the topic's metadata. Code that builds overrides names keys with the
// Key constants (KeySegmentBytes). Code that needs a key's definition by
// name uses LookupBroker and LookupTopic, or ranges over BrokerDefs and
// TopicDefs, as the admin APIs do; Def.Value and Def.TopicValue render a
// value as DescribeConfigs shows it.
//
// # Properties files
//
// ParseProperties reads java.util.Properties' format (continuations,
// escapes, ':' and whitespace separators, '#' and '!' comments).
// config/server.properties is a commented sample at the defaults.
//
// # Invariants
//
//  1. The table holds together, or the binary does not start: each
//     (scope, name) is defined once, every link names a key of the right
//     kind, every key is bound to a field, and every default parses and
//     reads back as itself (checked when the package initialises; a
//     failure is a programmer error and panics).
//  2. New applies keys over the defaults in Kafka's precedence whatever
//     their order: an alias before its key, a coarser unit before a finer
//     one (log.retention.hours, then .minutes, then .ms); otherwise in the
//     order given, and Load's --override pairs after the file's keys, the
//     later winning.
//  3. An unknown broker key is a warning (Config.Warnings), never an error;
//     Kafka keys this broker does not use are accepted silently
//     (ignoredKeys). A value that does not parse, or breaks a rule across
//     keys, is an *Error naming the key, the value and the reason.
//  4. TopicConfig.With validates every override and the rules across keys
//     before it returns a config, checking keys in sorted order so the
//     first bad key it names is always the same; on error nothing is
//     returned.
//  5. docs/configuration.md is ReferencePage's output: TestReferencePage
//     fails when the two differ.
//
// # Locks
//
// None. The table and its indexes are built when the package initialises
// and only read after; Default is built once (sync.OnceValue). A Config
// is filled in by New, and by the server while it starts (a generated
// broker.id, the port of a listener on port 0), before it is shared; a
// TopicConfig is a value, replaced whole when a topic's overrides change.
package config
