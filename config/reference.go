package config

//go:generate go test -run ^TestReferencePage$ . -args -update

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// ReferencePage renders docs/configuration.md from the table: every key
// with its type, default, valid values, scope, update mode and meaning.
func ReferencePage() []byte {
	var b bytes.Buffer
	b.WriteString(`# Configuration reference

<!-- Generated from config/keys.go by "go generate ./config"; do not edit.
     A test in package config fails when this page is stale. -->

Samsa takes Kafka's configuration keys. **Broker keys** are read when the
broker starts, from a properties file (` + "`samsa broker --config config/server.properties`" + `)
and ` + "`--override key=value`" + ` arguments, later ones winning; they are
read-only: change them and restart. **Topic keys** are set per topic
(CreateTopics, AlterConfigs, IncrementalAlterConfigs, ` + "`samsa topic create --config`" + `)
and are dynamic: a change applies to the running topic at once. Each topic
key's default is the broker key named beside it, whose own default is
Kafka's.

An unknown broker key is a warning; an invalid value stops the broker with
exit status 2 and a message naming the key. Types and the valid values are
Kafka's; "null" is no value.

**Per-listener keys.** Each ` + "`ssl.*`" + ` key may be set for one listener as
` + "`listener.name.<listener>.<key>`" + ` (the listener's name in lower case), and
then wins over the broker-wide key for that listener:
` + "`listener.name.internal.ssl.keystore.location=/etc/samsa/internal.p12`" + `. Values
of type password are never shown by DescribeConfigs.

**Dynamic keystores (KIP-226).** A TLS listener's keystore and truststore
keys (` + "`ssl.keystore.type|location|password|key|certificate.chain`" + `,
` + "`ssl.key.password`" + `, ` + "`ssl.truststore.type|location|password|certificates`" + `)
are the broker keys that change without a restart, per listener and per
broker: IncrementalAlterConfigs or AlterConfigs on the broker's BROKER
resource with ` + "`listener.name.<listener>.<key>`" + ` (` + "`kafka-configs.sh --bootstrap-server ... --entity-type brokers --entity-name <id> --alter --add-config ...`" + `).
The new stores are loaded and checked first (same subject and subject
alternative names unless ` + "`ssl.allow.dn.changes`" + `/` + "`ssl.allow.san.changes`" + `);
connections accepted afterwards get the new certificate, open ones keep
theirs. Giving the same location again reloads the file. The values are
stored where Kafka keeps them, and in force again after a restart: in
ZooKeeper mode in ` + "`/config/brokers/<id>`" + `, password values encrypted with
` + "`password.encoder.secret`" + ` (without it they are refused, as in Kafka);
standalone in the metadata file of the data directory, as given.

`)
	var standalone, zk []*Def
	for _, d := range BrokerDefs {
		if d.ZooKeeper {
			zk = append(zk, d)
		} else {
			standalone = append(standalone, d)
		}
	}
	b.WriteString("## Broker keys\n\n")
	brokerTable(&b, standalone)
	b.WriteString(`
## Broker keys for ZooKeeper mode

These keys configure a cluster (` + "`zookeeper.connect`" + ` set): replication, the
controller, and the broker's ZooKeeper client with its security. A standalone
broker parses, validates and describes them (DescribeConfigs shows them) and
does not act on them.

`)
	brokerTable(&b, zk)
	b.WriteString("\n## Topic keys\n\n")
	b.WriteString("| key | type | default | valid values | broker default | update | meaning |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, d := range TopicDefs {
		bk := "none"
		if d.BrokerKey != "" {
			bk = "`" + d.BrokerKey + "`"
		}
		doc := d.Doc
		if d.ZooKeeper {
			doc += " ZooKeeper mode."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", d.Name, d.Type, cell(defaultText(d)), cell(d.Valid), bk, mode(d), cell(doc))
	}
	b.WriteString(`
## Kafka keys accepted and ignored

These Kafka broker keys are accepted without a warning and have no effect.

| key | why |
|---|---|
`)
	ignored := make([]string, 0, len(ignoredKeys))
	for k := range ignoredKeys {
		ignored = append(ignored, k)
	}
	slices.Sort(ignored)
	for _, k := range ignored {
		fmt.Fprintf(&b, "| `%s` | %s |\n", k, cell(ignoredKeys[k]))
	}
	return b.Bytes()
}

func brokerTable(b *bytes.Buffer, ds []*Def) {
	b.WriteString("| key | type | default | valid values | update | meaning |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, d := range ds {
		doc := d.Doc
		if d.TopicKey != "" {
			unit := ""
			if d.Scale == hour {
				unit = ", in hours"
			} else if d.Scale == minute {
				unit = ", in minutes"
			}
			doc = fmt.Sprintf("Default of topic key `%s`%s. %s", d.TopicKey, unit, doc)
			if siblings(d) {
				doc += " Of the keys setting it, the one with the smallest unit wins."
			}
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", d.Name, d.Type, cell(defaultText(d)), cell(d.Valid), mode(d), cell(doc))
	}
}

// siblings reports whether another broker key sets d's topic key too.
func siblings(d *Def) bool {
	for _, o := range BrokerDefs {
		if o != d && o.TopicKey == d.TopicKey {
			return true
		}
	}
	return false
}

func defaultText(d *Def) string {
	switch {
	case d.DefaultFrom != "":
		return "`" + d.DefaultFrom + "`"
	case d.Alias != "":
		return "`" + d.Alias + "`"
	case d.Default == "" && d.Type == TypeList:
		return `""`
	case d.Default == "":
		return "null"
	}
	return d.Default
}

func mode(d *Def) string {
	if d.Dynamic {
		return "dynamic"
	}
	return "read-only"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
