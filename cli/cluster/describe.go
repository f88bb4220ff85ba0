package cluster

// samsa cluster describe (DescribeCluster, KIP-700, or Metadata).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/cli/command"
)

func describeCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "describe",
		Aliases: []string{"info", "metadata"},
		Short:   "Show the cluster ID, the controller and the brokers",
		Long: `Prints the cluster ID, the controller and each broker: node ID, address
(host:port) and rack, as DescribeCluster (KIP-700) answers, or Metadata
when the broker does not serve DescribeCluster. The controller is marked
in the CONTROLLER column.`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			cl, err := s.NewClient()
			if err != nil {
				return err
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)
			adm.SetTimeoutMillis(int32(s.Timeout().Milliseconds()))
			ctx, cancel := s.ReqCtx()
			defer cancel()
			info, err := describeCluster(ctx, cl, adm)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintf(tw, "CLUSTER-ID\t%s\n", orNone(info.cluster))
			fmt.Fprintf(tw, "CONTROLLER\t%s\n", nodeText(info.controller))
			fmt.Fprintf(tw, "BROKERS\t%d\n", len(info.brokers))
			tw.Flush()
			fmt.Fprintln(s.Out())
			tw = command.NewTable(s.Out())
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
				return clusterInfo{}, command.ErrOf(err, derefStr(resp.ErrorMessage))
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
