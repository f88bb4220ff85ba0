package main

// samsa topic: create, list, describe, delete and alter the configs of
// topics through the admin APIs (CreateTopics, Metadata, ListOffsets,
// DescribeConfigs, DeleteTopics, IncrementalAlterConfigs); topic_admin.go
// has add-partitions, delete-records and offsets.
//
// Names follow rpk topic (create, list, describe, delete, alter-config,
// add-partitions) where it has the operation, and Kafka's tools
// (kafka-delete-records.sh, kafka-get-offsets.sh) where it has not.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func topicCmd(cf *clientFlags) *cobra.Command {
	c := groupCommand("topic", "Create, list, describe, delete and alter topics",
		`Topic administration through the Kafka admin APIs, like rpk topic and
kafka-topics.sh.`)
	cf.persistent(c)
	c.AddCommand(
		topicCreateCmd(cf),
		topicListCmd(cf),
		topicDescribeCmd(cf),
		topicDeleteCmd(cf),
		topicAlterConfigCmd(cf),
		topicAddPartitionsCmd(cf),
		topicDeleteRecordsCmd(cf),
		topicOffsetsCmd(cf),
		topicReassignCmd(cf),
		topicReassignmentsCmd(cf),
	)
	return c
}

func topicCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		partitions, replicas int
		configs              []string
	)
	c := &cobra.Command{
		Use:   "create NAME... [-p N] [-r N] [-c key=value]...",
		Short: "Create topics",
		Long: `Creates topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be created.`,
		Example: `  samsa topic create events -p 6
  samsa topic create compacted -c cleanup.policy=compact -c segment.ms=3600000`,
		Args: minArgs(1, "topic"),
		RunE: cf.runE(func(s *session, names []string) error {
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
			adm, ctx, done, err := s.adminCall()
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
		}),
	}
	c.Flags().IntVarP(&partitions, "partitions", "p", -1, "partitions per topic, `N` (-1: the broker's num.partitions)")
	c.Flags().IntVarP(&replicas, "replicas", "r", -1, "replicas per partition, `N` (-1: the broker's default.replication.factor)")
	c.Flags().StringArrayVarP(&configs, "config", "c", nil, "a topic config, `key=value`, for example cleanup.policy=compact (repeatable)")
	return c
}

func topicListCmd(cf *clientFlags) *cobra.Command {
	var internal bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition and replica counts",
		Long:    "Lists topics: name, partition count and replicas per partition.",
		Args:    noArgs,
		RunE: cf.runE(func(s *session, _ []string) error {
			adm, ctx, done, err := s.adminCall()
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
		}),
	}
	c.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics such as __consumer_offsets")
	return c
}

func topicDescribeCmd(cf *clientFlags) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "describe NAME... [--all-configs]",
		Short: "Show partitions (leader, epoch, replicas, ISR), offsets and configs of topics",
		Long: `Prints, for each topic: a summary; the configs that differ from the
defaults (all of them with --all-configs; nothing when there are none);
and its partitions with their leader, leader epoch, replicas, in-sync
replicas, offline replicas, log start offset and high watermark. Exits 1
if any topic could not be described.`,
		Args:              minArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			return describeTopics(ctx, s, adm, names, all)
		}),
	}
	c.Flags().BoolVarP(&all, "all-configs", "a", false, "print every config, not only those that differ from the defaults (source other than DEFAULT_CONFIG)")
	return c
}

func describeTopics(ctx context.Context, s *session, adm *kadm.Client, names []string, all bool) error {
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
	// Offsets and configs are best effort: a failure is shown in place of
	// the values rather than hiding the partitions.
	starts, startErr := adm.ListStartOffsets(ctx, known...)
	ends, endErr := adm.ListEndOffsets(ctx, known...)
	configs, cfgErr := adm.DescribeTopicConfigs(ctx, known...)
	startErr, endErr, cfgErr = s.explain(startErr), s.explain(endErr), s.explain(cfgErr)

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

		rc, err := configs.On(name, nil)
		if err == nil {
			err = errOf(rc.Err, rc.ErrMessage)
		}
		if cfgErr != nil {
			err = cfgErr
		}
		if err != nil {
			fmt.Printf("\nCONFIGS\nerror: %v\n", err)
			failed++
		} else if shown := configsToShow(rc.Configs, all); len(shown) > 0 {
			fmt.Println("\nCONFIGS")
			printConfigs(shown)
		}

		fmt.Println("\nPARTITIONS")
		tw = newTable(os.Stdout)
		fmt.Fprintln(tw, "PARTITION\tLEADER\tLEADER-EPOCH\tREPLICAS\tISR\tOFFLINE-REPLICAS\tLOG-START-OFFSET\tHIGH-WATERMARK")
		for _, p := range td.Partitions.Sorted() {
			if p.Err != nil {
				fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t-\t-\t%v\n", p.Partition, p.Leader, p.LeaderEpoch,
					int32List(p.Replicas), int32List(p.ISR), int32List(p.OfflineReplicas), p.Err)
				continue
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Partition, p.Leader, p.LeaderEpoch,
				int32List(p.Replicas), int32List(p.ISR), int32List(p.OfflineReplicas),
				offsetText(starts, startErr, name, p.Partition),
				offsetText(ends, endErr, name, p.Partition))
		}
		tw.Flush()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d topics not fully described", failed, len(names))
	}
	return nil
}

// configsToShow sorts the configs and drops the defaults unless all.
func configsToShow(cs []kadm.Config, all bool) []kadm.Config {
	var out []kadm.Config
	for _, c := range cs {
		if all || c.Source != kmsg.ConfigSourceDefaultConfig {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func printConfigs(cs []kadm.Config) {
	tw := newTable(os.Stdout)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, c := range cs {
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

func topicDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics",
		Long: `Deletes topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be deleted.`,
		Args:              minArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			adm, ctx, done, err := s.adminCall()
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
		}),
	}
}

func topicAlterConfigCmd(cf *clientFlags) *cobra.Command {
	var sets, dels []string
	c := &cobra.Command{
		Use:   "alter-config NAME... [--set key=value]... [--delete key]...",
		Short: "Set or delete topic configs",
		Long: `Changes topic configs incrementally (IncrementalAlterConfigs): --set
overrides a config, --delete removes an override so the default applies
again. Other configs are left as they are. Prints one line per topic: OK or
the broker's error; exits 1 if any topic was not altered.`,
		Example:           `  samsa topic alter-config events --set retention.ms=86400000 --delete cleanup.policy`,
		Args:              minArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			alters, err := alterOps(sets, dels)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.AlterTopicConfigs(ctx, alters, names...)
			if err != nil {
				return err
			}
			return printStatuses("topic", "altered", names, func(name string) (bool, error) {
				r, err := resps.On(name, nil)
				if err != nil {
					return false, nil
				}
				return true, errOf(r.Err, r.ErrMessage)
			})
		}),
	}
	c.Flags().StringArrayVarP(&sets, "set", "s", nil, "set a config: `key=value` (repeatable)")
	c.Flags().StringArrayVarP(&dels, "delete", "d", nil, "delete a config override: `key` (repeatable)")
	return c
}

// alterOps turns --set and --delete into incremental config changes.
func alterOps(sets, dels []string) ([]kadm.AlterConfig, error) {
	if len(sets)+len(dels) == 0 {
		return nil, usageErrorf("nothing to do: give --set or --delete")
	}
	var alters []kadm.AlterConfig
	for _, kv := range sets {
		k, v, err := splitKV("--set", kv)
		if err != nil {
			return nil, err
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	for _, k := range dels {
		if k == "" || strings.Contains(k, "=") {
			return nil, usageErrorf("--delete %q: want a config name", k)
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return alters, nil
}
