package main

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
func (c *clientFlags) completeNames(args []string, toComplete string, list func(context.Context, *kadm.Client) ([]string, error)) ([]cobra.Completion, cobra.ShellCompDirective) {
	seeds, err := c.seeds()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cf := *c
	cf.timeout = min(cf.timeout, completionTimeout)
	s := newSession(context.Background(), &cf, seeds, "samsa")
	defer s.stop()
	adm, ctx, done, err := s.adminCall()
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

func (c *clientFlags) completeTopics(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.completeNames(args, toComplete, func(ctx context.Context, adm *kadm.Client) ([]string, error) {
		tds, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		return tds.Names(), nil
	})
}

func (c *clientFlags) completeGroups(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.completeNames(args, toComplete, func(ctx context.Context, adm *kadm.Client) ([]string, error) {
		gs, err := adm.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		return gs.Groups(), nil
	})
}

// completeTopic completes the one topic of a command that takes one.
func (c *clientFlags) completeTopic(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.completeTopics(cmd, args, toComplete)
}

// completeGroup completes the one group of a command that takes one.
func (c *clientFlags) completeGroup(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.completeGroups(cmd, args, toComplete)
}
