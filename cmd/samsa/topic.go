package main

// samsa topic: create, list, describe, delete and alter the configs of
// topics through the admin APIs (CreateTopics, Metadata, ListOffsets,
// DescribeConfigs, DeleteTopics, IncrementalAlterConfigs).

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const topicUsage = `usage: samsa topic <subcommand> [arguments]

subcommands:
  create NAME...         create topics
  list                   list topics with their partition and replica counts
  describe NAME...       show partitions, offsets and configs of topics
  delete NAME...         delete topics
  alter-config NAME...   set or delete topic configs

Run 'samsa topic <subcommand> -h' for the flags of each.
`

func topicCmd(args []string) int {
	return group("topic", topicUsage, args, map[string]func([]string) int{
		"create":       topicCreate,
		"list":         topicList,
		"describe":     topicDescribe,
		"delete":       topicDelete,
		"alter-config": topicAlterConfig,
	})
}

const topicCreateUsage = `usage: samsa topic create NAME... [-p N] [-r N] [-c key=value]...

Creates topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be created.

flags:
  -p, --partitions N    partitions per topic (default -1: the broker's num.partitions)
  -r, --replicas N      replicas per partition (default -1: the broker's
                        default.replication.factor)
  -c, --config k=v      a topic config, for example cleanup.policy=compact
                        (repeatable)
`

func topicCreate(args []string) int {
	c := newCommand("topic create", topicCreateUsage)
	cf := c.withClient()
	var partitions, replicas int
	var configs stringsFlag
	c.fs.IntVar(&partitions, "p", -1, "")
	c.fs.IntVar(&partitions, "partitions", -1, "")
	c.fs.IntVar(&replicas, "r", -1, "")
	c.fs.IntVar(&replicas, "replicas", -1, "")
	c.fs.Var(&configs, "c", "")
	c.fs.Var(&configs, "config", "")
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no topic named")
		}
		if partitions == 0 || partitions < -1 || partitions > 1<<20 {
			return usageErrorf("--partitions %d: want a positive count or -1", partitions)
		}
		if replicas == 0 || replicas < -1 || replicas > 1<<15-1 {
			return usageErrorf("--replicas %d: want a positive count or -1", replicas)
		}
		cfg := make(map[string]*string)
		for _, kv := range configs {
			k, v, err := splitKV("--config", kv)
			if err != nil {
				return err
			}
			cfg[k] = kadm.StringPtr(v)
		}
		adm, ctx, done, err := cf.admin()
		if err != nil {
			return err
		}
		defer done()
		resps, err := adm.CreateTopics(ctx, int32(partitions), int16(replicas), cfg, names...)
		if err != nil {
			return err
		}
		return printStatuses("topic", "created", names, func(name string) (bool, error) {
			r, ok := resps[name]
			return ok, errOf(r.Err, r.ErrMessage)
		})
	})
}

const topicListUsage = `usage: samsa topic list [--internal]

Lists topics: name, partition count and replicas per partition.

flags:
  -i, --internal    include internal topics such as __consumer_offsets
`

func topicList(args []string) int {
	c := newCommand("topic list", topicListUsage)
	cf := c.withClient()
	var internal bool
	c.fs.BoolVar(&internal, "i", false, "")
	c.fs.BoolVar(&internal, "internal", false, "")
	return c.run(args, func(pos []string) error {
		if len(pos) > 0 {
			return usageErrorf("unexpected argument %q", pos[0])
		}
		adm, ctx, done, err := cf.admin()
		if err != nil {
			return err
		}
		defer done()
		var tds kadm.TopicDetails
		if internal {
			tds, err = adm.ListTopicsWithInternal(ctx)
		} else {
			tds, err = adm.ListTopics(ctx)
		}
		if err != nil {
			return err
		}
		tw := newTable(os.Stdout)
		fmt.Fprintln(tw, "NAME\tPARTITIONS\tREPLICAS")
		for _, td := range tds.Sorted() {
			if td.Err != nil {
				fmt.Fprintf(tw, "%s\t-\t-\t%v\n", td.Topic, td.Err)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\n", td.Topic, len(td.Partitions), td.Partitions.NumReplicas())
		}
		return tw.Flush()
	})
}

const topicDescribeUsage = `usage: samsa topic describe NAME... [--all-configs]

Prints, for each topic, a summary, its configs and its partitions with
leader, replicas, in-sync replicas, log start offset and high watermark.
Exits 1 if any topic could not be described.

flags:
  -a, --all-configs    print every config, not only those that differ from
                       the defaults (source other than DEFAULT_CONFIG)
`

func topicDescribe(args []string) int {
	c := newCommand("topic describe", topicDescribeUsage)
	cf := c.withClient()
	var all bool
	c.fs.BoolVar(&all, "a", false, "")
	c.fs.BoolVar(&all, "all-configs", false, "")
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no topic named")
		}
		adm, ctx, done, err := cf.admin()
		if err != nil {
			return err
		}
		defer done()
		tds, err := adm.ListTopics(ctx, names...)
		if err != nil {
			return err
		}
		var known []string
		for _, name := range names {
			if td, ok := tds[name]; ok && td.Err == nil {
				known = append(known, name)
			}
		}
		// Offsets and configs are best effort: a failure is shown in
		// place of the values rather than hiding the partitions.
		starts, startErr := adm.ListStartOffsets(ctx, known...)
		ends, endErr := adm.ListEndOffsets(ctx, known...)
		configs, cfgErr := adm.DescribeTopicConfigs(ctx, known...)

		failed := 0
		for i, name := range names {
			if i > 0 {
				fmt.Println()
			}
			td, ok := tds[name]
			if !ok {
				td.Err = errors.New("not in the metadata response")
			}
			if td.Err != nil {
				fmt.Printf("NAME        %s\nERROR       %v\n", name, td.Err)
				failed++
				continue
			}
			tw := newTable(os.Stdout)
			fmt.Fprintf(tw, "NAME\t%s\n", name)
			// Kafka prints topic IDs in URL-safe base64 without padding.
			fmt.Fprintf(tw, "ID\t%s\n", base64.RawURLEncoding.EncodeToString(td.ID[:]))
			if td.IsInternal {
				fmt.Fprintf(tw, "INTERNAL\ttrue\n")
			}
			fmt.Fprintf(tw, "PARTITIONS\t%d\n", len(td.Partitions))
			fmt.Fprintf(tw, "REPLICAS\t%d\n", td.Partitions.NumReplicas())
			tw.Flush()

			fmt.Println("\nCONFIGS")
			rc, err := configs.On(name, nil)
			if err == nil {
				err = rc.Err
			}
			if cfgErr != nil && err != nil {
				err = cfgErr
			}
			if err != nil {
				fmt.Printf("error: %v\n", err)
				failed++
			} else {
				printConfigs(rc.Configs, all)
			}

			fmt.Println("\nPARTITIONS")
			tw = newTable(os.Stdout)
			fmt.Fprintln(tw, "PARTITION\tLEADER\tEPOCH\tREPLICAS\tISR\tLOG-START-OFFSET\tHIGH-WATERMARK")
			for _, p := range td.Partitions.Sorted() {
				if p.Err != nil {
					fmt.Fprintf(tw, "%d\t-\t-\t-\t-\t-\t-\t%v\n", p.Partition, p.Err)
					continue
				}
				fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\n", p.Partition, p.Leader, p.LeaderEpoch,
					int32List(p.Replicas), int32List(p.ISR),
					offsetText(starts, startErr, name, p.Partition),
					offsetText(ends, endErr, name, p.Partition))
			}
			tw.Flush()
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d topics not fully described", failed, len(names))
		}
		return nil
	})
}

func printConfigs(cs []kadm.Config, all bool) {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	tw := newTable(os.Stdout)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, c := range cs {
		if !all && c.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Key, v, c.Source)
	}
	tw.Flush()
}

func offsetText(l kadm.ListedOffsets, listErr error, topic string, p int32) string {
	o, ok := l.Lookup(topic, p)
	switch {
	case ok && o.Err != nil:
		return o.Err.Error()
	case ok:
		return fmt.Sprint(o.Offset)
	case listErr != nil:
		return "error: " + listErr.Error()
	}
	return "-"
}

func int32List(is []int32) string {
	s := make([]string, len(is))
	for i, v := range is {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, ",") + "]"
}

const topicDeleteUsage = `usage: samsa topic delete NAME...

Deletes topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be deleted.
`

func topicDelete(args []string) int {
	c := newCommand("topic delete", topicDeleteUsage)
	cf := c.withClient()
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no topic named")
		}
		adm, ctx, done, err := cf.admin()
		if err != nil {
			return err
		}
		defer done()
		resps, err := adm.DeleteTopics(ctx, names...)
		if err != nil {
			return err
		}
		return printStatuses("topic", "deleted", names, func(name string) (bool, error) {
			r, ok := resps[name]
			return ok, errOf(r.Err, r.ErrMessage)
		})
	})
}

const topicAlterConfigUsage = `usage: samsa topic alter-config NAME... [--set key=value]... [--delete key]...

Changes topic configs incrementally (IncrementalAlterConfigs): --set
overrides a config, --delete removes an override so the default applies
again. Other configs are left as they are. Prints one line per topic: OK or
the broker's error; exits 1 if any topic was not altered.

flags:
  -s, --set k=v       set a config (repeatable)
  -d, --delete k      delete a config override (repeatable)
`

func topicAlterConfig(args []string) int {
	c := newCommand("topic alter-config", topicAlterConfigUsage)
	cf := c.withClient()
	var sets, dels stringsFlag
	c.fs.Var(&sets, "s", "")
	c.fs.Var(&sets, "set", "")
	c.fs.Var(&dels, "d", "")
	c.fs.Var(&dels, "delete", "")
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no topic named")
		}
		if len(sets)+len(dels) == 0 {
			return usageErrorf("nothing to do: give --set or --delete")
		}
		var alters []kadm.AlterConfig
		for _, kv := range sets {
			k, v, err := splitKV("--set", kv)
			if err != nil {
				return err
			}
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
		}
		for _, k := range dels {
			if k == "" || strings.Contains(k, "=") {
				return usageErrorf("--delete %q: want a config name", k)
			}
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}
		adm, ctx, done, err := cf.admin()
		if err != nil {
			return err
		}
		defer done()
		resps, err := adm.AlterTopicConfigs(ctx, alters, names...)
		if err != nil {
			return err
		}
		tw := newTable(os.Stdout)
		fmt.Fprintln(tw, "TOPIC\tSTATUS")
		failed := 0
		for _, name := range names {
			status := "OK"
			if r, err := resps.On(name, nil); err != nil {
				status, failed = "no response from broker", failed+1
			} else if r.Err != nil {
				status, failed = errText(r.Err, r.ErrMessage), failed+1
			}
			fmt.Fprintf(tw, "%s\t%s\n", name, status)
		}
		tw.Flush()
		if failed > 0 {
			return fmt.Errorf("%d of %d topics not altered", failed, len(names))
		}
		return nil
	})
}
