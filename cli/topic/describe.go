package topic

// samsa topic describe (Metadata, ListOffsets, DescribeConfigs).

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func describeCommand(cf *command.ClientFlags) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "describe NAME... [--all-configs]",
		Short: "Show partitions (leader, epoch, replicas, ISR), offsets and configs of topics",
		Long: `Prints, for each topic: a summary; the configs that differ from the
defaults (all of them with --all-configs; nothing when there are none);
and its partitions with their leader, leader epoch, replicas, in-sync
replicas, offline replicas, log start offset and high watermark. Exits 1
if any topic could not be described.`,
		Args:              command.MinArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			adm, ctx, done, err := s.AdminCall()
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

func describeTopics(ctx context.Context, s *command.Session, adm *kadm.Client, names []string, all bool) error {
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
	startErr, endErr, cfgErr = s.Explain(startErr), s.Explain(endErr), s.Explain(cfgErr)

	out := s.Out()
	failed := 0
	for i, name := range names {
		if i > 0 {
			fmt.Fprintln(out)
		}
		td, ok := tds[name]
		if !ok {
			td.Err = errors.New("not in the metadata response")
		}
		if td.Err != nil {
			fmt.Fprintf(out, "NAME        %s\nERROR       %v\n", name, td.Err)
			failed++
			continue
		}
		tw := command.NewTable(out)
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
			err = command.ErrOf(rc.Err, rc.ErrMessage)
		}
		if cfgErr != nil {
			err = cfgErr
		}
		if err != nil {
			fmt.Fprintf(out, "\nCONFIGS\nerror: %v\n", err)
			failed++
		} else if shown := command.ConfigsToShow(rc.Configs, all); len(shown) > 0 {
			fmt.Fprintln(out, "\nCONFIGS")
			command.PrintConfigs(out, shown)
		}

		fmt.Fprintln(out, "\nPARTITIONS")
		tw = command.NewTable(out)
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
