package command

// Dynamic shell completion of topic and group names: a quick admin request
// to the brokers the command line names, with a short time limit so that a
// broker that is down does not hang the shell.

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

const completionTimeout = 2 * time.Second

// completeNames completes an argument from the names list returns,
// leaving out those already given.
func (c *ClientFlags) completeNames(args []string, toComplete string, list func(context.Context, *kadm.Client) ([]string, error)) ([]cobra.Completion, cobra.ShellCompDirective) {
	seeds, err := c.seeds()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cf := *c
	cf.timeout = min(cf.timeout, completionTimeout)
	s := newSession(context.Background(), &cf, seeds, "samsa")
	defer s.stop()
	s.secOpts, _ = c.security()
	adm, ctx, done, err := s.AdminCall()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	names, err := list(ctx, adm)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, n := range names {
		if strings.HasPrefix(n, toComplete) && !slices.Contains(args, n) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// CompleteTopics completes topic names, as many as the command takes.
func (c *ClientFlags) CompleteTopics(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.completeNames(args, toComplete, func(ctx context.Context, adm *kadm.Client) ([]string, error) {
		tds, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		return tds.Names(), nil
	})
}

// CompleteGroups completes group names, as many as the command takes.
func (c *ClientFlags) CompleteGroups(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.completeNames(args, toComplete, func(ctx context.Context, adm *kadm.Client) ([]string, error) {
		gs, err := adm.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		return gs.Groups(), nil
	})
}

// CompleteTopic completes the one topic of a command that takes one.
func (c *ClientFlags) CompleteTopic(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.CompleteTopics(cmd, args, toComplete)
}

// CompleteGroup completes the one group of a command that takes one.
func (c *ClientFlags) CompleteGroup(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.CompleteGroups(cmd, args, toComplete)
}
