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
// name, as the admin APIs do, uses LookupBroker and LookupTopic, or ranges
// over BrokerDefs and TopicDefs; Def.Value and Def.TopicValue render a
// value as DescribeConfigs shows it.
//
// # Properties files
//
// ParseProperties reads java.util.Properties' format (continuations,
// escapes, ':' and whitespace separators, '#' and '!' comments).
// config/server.properties is a commented sample at the defaults.
package config
