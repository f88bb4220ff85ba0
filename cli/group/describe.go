package group

// samsa group describe (DescribeGroups, OffsetFetch, ListOffsets: kadm.Lag).

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func describeCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show members, assignments, committed offsets and lag",
		Long: `Prints, for each group: its state, protocol, members (id, instance id,
client id, host, assigned partitions) and, for every partition it is
assigned or has a committed offset in, the member reading it, the
committed offset, the log start and end offsets and the lag (end minus
committed; end minus start with no commit). Exits 1 if a group does not
exist or could not be described.`,
		Args:              command.MinArgs(1, "group"),
		ValidArgsFunction: cf.CompleteGroups,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			lags, err := adm.Lag(ctx, names...)
			if err != nil {
				return err
			}
			failed := 0
			out := bufio.NewWriter(s.Out())
			defer out.Flush()
			for i, name := range names {
				if i > 0 {
					fmt.Fprintln(out)
				}
				l, ok := lags[name]
				switch {
				case !ok:
					fmt.Fprintf(out, "GROUP %s: no response from the broker\n", name)
					failed++
					continue
				case l.DescribeErr != nil:
					fmt.Fprintf(out, "GROUP %s: %v\n", name, s.Explain(l.DescribeErr))
					failed++
					continue
				case l.State == "Dead":
					fmt.Fprintf(out, "GROUP %s: does not exist\n", name)
					failed++
					continue
				}
				describeGroupLag(out, l)
				if l.FetchErr != nil {
					fmt.Fprintf(out, "committed offsets: %v\n", s.Explain(l.FetchErr))
					failed++
				}
			}
			out.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d groups not described", failed, len(names))
			}
			return nil
		}),
	}
}

func describeGroupLag(w *bufio.Writer, l kadm.DescribedGroupLag) {
	var total int64
	for _, m := range l.Lag.Sorted() {
		if m.Lag > 0 {
			total += m.Lag
		}
	}
	tw := command.NewTable(w)
	fmt.Fprintf(tw, "GROUP\t%s\n", l.Group)
	fmt.Fprintf(tw, "COORDINATOR\t%d\n", l.Coordinator.NodeID)
	fmt.Fprintf(tw, "STATE\t%s\n", l.State)
	fmt.Fprintf(tw, "PROTOCOL-TYPE\t%s\n", l.ProtocolType)
	fmt.Fprintf(tw, "PROTOCOL\t%s\n", l.Protocol)
	fmt.Fprintf(tw, "MEMBERS\t%d\n", len(l.Members))
	fmt.Fprintf(tw, "TOTAL-LAG\t%d\n", total)
	tw.Flush()
	if len(l.Members) > 0 {
		fmt.Fprintln(w)
		tw = command.NewTable(w)
		fmt.Fprintln(tw, "MEMBER-ID\tINSTANCE-ID\tCLIENT-ID\tHOST\tASSIGNED")
		for _, m := range l.Members {
			inst := "-"
			if m.InstanceID != nil {
				inst = *m.InstanceID
			}
			var parts []string
			if ca, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range ca.Topics {
					ps := slices.Clone(t.Partitions)
					slices.Sort(ps)
					var nums []string
					for _, p := range ps {
						nums = append(nums, strconv.Itoa(int(p)))
					}
					parts = append(parts, t.Topic+":"+strings.Join(nums, ","))
				}
			}
			assigned := strings.Join(parts, " ")
			if assigned == "" {
				assigned = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.MemberID, inst, m.ClientID, m.ClientHost, assigned)
		}
		tw.Flush()
	}
	rows := l.Lag.Sorted()
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = command.NewTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-START-OFFSET\tLOG-END-OFFSET\tLAG\tMEMBER-ID")
	for _, m := range rows {
		cur := "-"
		if m.Commit.At >= 0 {
			cur = strconv.FormatInt(m.Commit.At, 10)
		}
		start, end, lag := "-", "-", "-"
		if m.Start.Err == nil {
			start = strconv.FormatInt(m.Start.Offset, 10)
		}
		if m.End.Err == nil {
			end = strconv.FormatInt(m.End.Offset, 10)
		}
		if m.Err == nil && m.Lag >= 0 {
			lag = strconv.FormatInt(m.Lag, 10)
		}
		member := "-"
		if m.Member != nil {
			member = m.Member.MemberID
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.Topic, m.Partition, cur, start, end, lag, member)
	}
	tw.Flush()
}
