package main

// samsa cluster: what the brokers say about the cluster (DescribeCluster,
// Metadata), their configs (DescribeConfigs, IncrementalAlterConfigs on
// broker resources) and their log directories (DescribeLogDirs).
//
// Names: "cluster describe" (also rpk's "info"), "cluster config
// describe|alter" after kafka-configs.sh --describe / --alter on the
// brokers entity (rpk cluster config get/set speak Redpanda's own admin API,
// not Kafka's), "cluster log-dirs" after kafka-log-dirs.sh.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func clusterCmd(cf *clientFlags) *cobra.Command {
	describe := clusterDescribeCmd(cf)
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Describe the cluster, its brokers' configs and log directories",
		Long: `Cluster administration. Without a command, the same as 'samsa cluster
describe'.`,
		Annotations: map[string]string{"runnable": "true"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return nil
		},
		RunE: describe.RunE,
	}
	cf.persistent(c)
	c.AddCommand(describe, clusterConfigCmd(cf), clusterLogDirsCmd(cf), clusterDecommissionCmd(cf), clusterElectLeadersCmd(cf))
	return c
}

func clusterDescribeCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "describe",
		Aliases: []string{"info", "metadata"},
		Short:   "Show the cluster ID, the controller and the brokers",
		Long: `Prints the cluster ID, the controller and each broker: node ID, address
(host:port) and rack, as DescribeCluster (KIP-700) answers, or Metadata
when the broker does not serve DescribeCluster. The controller is marked
in the CONTROLLER column.`,
		Args: noArgs,
		RunE: cf.runE(func(s *session, _ []string) error {
			cl, err := s.newClient()
			if err != nil {
				return err
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)
			adm.SetTimeoutMillis(int32(s.cf.timeout.Milliseconds()))
			ctx, cancel := s.reqCtx()
			defer cancel()
			info, err := describeCluster(ctx, cl, adm)
			if err != nil {
				return err
			}
			tw := newTable(os.Stdout)
			fmt.Fprintf(tw, "CLUSTER-ID\t%s\n", orNone(info.cluster))
			fmt.Fprintf(tw, "CONTROLLER\t%s\n", nodeText(info.controller))
			fmt.Fprintf(tw, "BROKERS\t%d\n", len(info.brokers))
			tw.Flush()
			fmt.Println()
			tw = newTable(os.Stdout)
			fmt.Fprintln(tw, "ID\tADDRESS\tRACK\tCONTROLLER")
			for _, b := range info.brokers {
				ctl := "-"
				if b.NodeID == info.controller {
					ctl = "yes"
				}
				rack := "-"
				if b.Rack != nil && *b.Rack != "" {
					rack = *b.Rack
				}
				fmt.Fprintf(tw, "%d\t%s:%d\t%s\t%s\n", b.NodeID, b.Host, b.Port, rack, ctl)
			}
			return tw.Flush()
		}),
	}
}

type clusterInfo struct {
	cluster    string
	controller int32
	brokers    kadm.BrokerDetails
}

// describeCluster asks DescribeCluster, or Metadata when the broker does
// not serve it.
func describeCluster(ctx context.Context, cl *kgo.Client, adm *kadm.Client) (clusterInfo, error) {
	req := kmsg.NewPtrDescribeClusterRequest()
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			if !errors.Is(err, kerr.UnsupportedVersion) {
				return clusterInfo{}, errOf(err, derefStr(resp.ErrorMessage))
			}
		} else {
			info := clusterInfo{cluster: resp.ClusterID, controller: resp.ControllerID}
			for _, b := range resp.Brokers {
				info.brokers = append(info.brokers, kadm.BrokerDetail{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
			}
			slices.SortFunc(info.brokers, func(a, b kadm.BrokerDetail) int { return int(a.NodeID - b.NodeID) })
			return info, nil
		}
	} else if !errors.Is(err, kerr.UnsupportedVersion) && !isUnsupported(err) {
		return clusterInfo{}, err
	}
	m, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return clusterInfo{}, err
	}
	return clusterInfo{cluster: m.Cluster, controller: m.Controller, brokers: m.Brokers}, nil
}

// isUnsupported reports whether kgo refused a request because the broker's
// ApiVersions does not list it.
func isUnsupported(err error) bool {
	return strings.Contains(err.Error(), "broker is too old")
}

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func nodeText(id int32) string {
	if id < 0 {
		return "(none)"
	}
	return strconv.Itoa(int(id))
}

func clusterConfigCmd(cf *clientFlags) *cobra.Command {
	c := groupCommand("config", "Describe or alter the brokers' configs",
		`The brokers' configs (Kafka's broker config resources), like
kafka-configs.sh --entity-type brokers. Broker configs that a broker
cannot change at run time are read-only: alter reports the broker's
refusal.`)
	c.AddCommand(clusterConfigDescribeCmd(cf), clusterConfigAlterCmd(cf))
	return c
}

// brokerTargets resolves --broker and --cluster-default to config resource
// names: the node IDs, "" for the cluster-wide default.
type brokerTargets struct {
	ids            []int32
	clusterDefault bool
}

func (t *brokerTargets) register(c *cobra.Command, what string) {
	c.Flags().Int32SliceVar(&t.ids, "broker", nil, what+" of broker node `ID` (repeatable, or comma-separated)")
	c.Flags().BoolVar(&t.clusterDefault, "cluster-default", false, "the cluster-wide default broker configs instead of one broker's")
}

func (t *brokerTargets) check() error {
	if t.clusterDefault && len(t.ids) > 0 {
		return usageErrorf("--broker and --cluster-default do not go together")
	}
	return nil
}

func targetName(name string) string {
	if name == "" {
		return "cluster-default"
	}
	return "broker " + name
}

func clusterConfigDescribeCmd(cf *clientFlags) *cobra.Command {
	var (
		t   brokerTargets
		all bool
	)
	c := &cobra.Command{
		Use:     "describe [--broker ID]... [--all-configs]",
		Aliases: []string{"get"},
		Short:   "Show the brokers' configs",
		Long: `Prints the configs of each broker (every broker in the metadata unless
--broker names some) that differ from Kafka's defaults, or all of them with
--all-configs: key, value and source. With
--cluster-default, the cluster-wide dynamic defaults instead.`,
		Args: noArgs,
		RunE: cf.runE(func(s *session, _ []string) error {
			if err := t.check(); err != nil {
				return err
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			ids := t.ids
			if len(ids) == 0 && !t.clusterDefault {
				m, err := adm.BrokerMetadata(ctx)
				if err != nil {
					return err
				}
				ids = m.Brokers.NodeIDs()
			}
			rcs, err := adm.DescribeBrokerConfigs(ctx, ids...)
			if err != nil && len(rcs) == 0 {
				return err
			}
			failed := 0
			for i, rc := range rcs {
				if i > 0 {
					fmt.Println()
				}
				fmt.Println(targetName(rc.Name))
				if rc.Err != nil {
					fmt.Printf("error: %s\n", errText(rc.Err, rc.ErrMessage))
					failed++
					continue
				}
				shown := configsToShow(rc.Configs, all)
				if len(shown) == 0 {
					continue
				}
				printConfigs(shown)
			}
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d config resources not described", failed, len(rcs))
			}
			return nil
		}),
	}
	t.register(c, "the configs")
	c.Flags().BoolVarP(&all, "all-configs", "a", false, "print every config, not only those that differ from the defaults")
	return c
}

func clusterConfigAlterCmd(cf *clientFlags) *cobra.Command {
	var (
		t          brokerTargets
		sets, dels []string
	)
	c := &cobra.Command{
		Use:     "alter [--broker ID]... --set key=value... --delete key...",
		Aliases: []string{"set"},
		Short:   "Change broker configs",
		Long: `Changes broker configs incrementally (IncrementalAlterConfigs): --set sets a
dynamic value, --delete removes it. The target is each --broker, or the
cluster-wide default when no --broker is given (as kafka-configs.sh
--entity-default). Prints one line per target: OK or the broker's error;
exits 1 if any was not altered. A broker without dynamic broker configs
refuses every change.`,
		Example: `  samsa cluster config alter --broker 1 --set log.cleaner.threads=2`,
		Args:    noArgs,
		RunE: cf.runE(func(s *session, _ []string) error {
			if err := t.check(); err != nil {
				return err
			}
			alters, err := alterOps(sets, dels)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.AlterBrokerConfigs(ctx, alters, t.ids...)
			if err != nil && len(resps) == 0 {
				return err
			}
			var names []string
			if len(t.ids) == 0 {
				names = []string{""}
			}
			for _, id := range t.ids {
				names = append(names, strconv.Itoa(int(id)))
			}
			tw := newTable(os.Stdout)
			fmt.Fprintln(tw, "TARGET\tSTATUS")
			failed := 0
			for _, name := range names {
				status := "OK"
				if r, err := resps.On(name, nil); err != nil {
					status, failed = "no response from broker", failed+1
				} else if r.Err != nil {
					status, failed = errText(r.Err, r.ErrMessage), failed+1
				}
				fmt.Fprintf(tw, "%s\t%s\n", targetName(name), status)
			}
			tw.Flush()
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d config resources not altered", failed, len(names))
			}
			return nil
		}),
	}
	t.register(c, "change the configs")
	c.Flags().StringArrayVarP(&sets, "set", "s", nil, "set a config: `key=value` (repeatable)")
	c.Flags().StringArrayVarP(&dels, "delete", "d", nil, "delete a dynamic config: `key` (repeatable)")
	return c
}

func clusterLogDirsCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "log-dirs [TOPIC]...",
		Aliases: []string{"logdirs"},
		Short:   "Show the brokers' log directories and partition sizes",
		Long: `Prints each broker's log directories (DescribeLogDirs) with the volume's
total and usable bytes, then the size in bytes of every partition in them
(of the topics named, or all), its offset lag behind the log end and
whether it is a future replica being moved, like kafka-log-dirs.sh
--describe. Exits 1 if a broker or directory could not be described.`,
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, topics []string) error {
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			all, err := adm.DescribeAllLogDirs(ctx, nil)
			if err != nil && len(all) == 0 {
				return err
			}
			dirs := all.Sorted()
			failed := 0
			tw := newTable(os.Stdout)
			fmt.Fprintln(tw, "BROKER\tDIR\tTOTAL-BYTES\tUSABLE-BYTES\tPARTITIONS\tSIZE\tERROR")
			for _, d := range dirs {
				if d.Err != nil {
					fmt.Fprintf(tw, "%d\t%s\t-\t-\t-\t-\t%v\n", d.Broker, d.Dir, d.Err)
					failed++
					continue
				}
				n := 0
				for _, ps := range d.Topics {
					n += len(ps)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t-\n", d.Broker, d.Dir, orDash(d.TotalBytes), orDash(d.UsableBytes), n, d.Size())
			}
			tw.Flush()
			fmt.Println()
			tw = newTable(os.Stdout)
			fmt.Fprintln(tw, "BROKER\tDIR\tTOPIC\tPARTITION\tSIZE\tOFFSET-LAG\tIS-FUTURE")
			for _, d := range dirs {
				for _, p := range d.Topics.Sorted() {
					if len(topics) > 0 && !slices.Contains(topics, p.Topic) {
						continue
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%t\n", p.Broker, p.Dir, p.Topic, p.Partition, p.Size, p.OffsetLag, p.IsFuture)
				}
			}
			tw.Flush()
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d log directories not described", failed, len(dirs))
			}
			return nil
		}),
	}
}
