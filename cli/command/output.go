package command

// Output the commands share: aligned tables, per-name and per-partition
// status rows, configs, and Kafka errors in words.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// NewTable returns a tabwriter for aligned column output; Flush it.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// PrintStatuses prints to w one "NAME STATUS" row per name (OK, or the
// error that status returns; missing from the response when found is
// false) and returns an error counting the failures.
func PrintStatuses(w io.Writer, kind, done string, names []string, status func(name string) (found bool, err error)) error {
	tw := NewTable(w)
	fmt.Fprintf(tw, "%s\tSTATUS\n", strings.ToUpper(kind))
	failed := 0
	for _, name := range names {
		msg := "OK"
		if found, err := status(name); !found {
			msg, failed = "no response from broker", failed+1
		} else if err != nil {
			msg, failed = err.Error(), failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, msg)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d of %d %ss not %s", failed, len(names), kind, done)
	}
	return nil
}

// ErrOf is err with the broker's message, nil when err is nil.
func ErrOf(err error, msg string) error {
	if err == nil {
		return nil
	}
	return errors.New(ErrText(err, msg))
}

// ErrText renders a Kafka error by its name and the broker's message, or
// the error's description when the broker sent none.
func ErrText(err error, msg string) string {
	var ke *kerr.Error
	if errors.As(err, &ke) && msg != "" {
		return ke.Message + ": " + msg
	}
	return err.Error()
}

// OrDash is n, or "-" when it is negative (unknown).
func OrDash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// ConfigsToShow sorts the configs and drops the defaults unless all.
func ConfigsToShow(cs []kadm.Config, all bool) []kadm.Config {
	var out []kadm.Config
	for _, c := range cs {
		if all || c.Source != kmsg.ConfigSourceDefaultConfig {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// PrintConfigs prints configs as a KEY VALUE SOURCE table to w.
func PrintConfigs(w io.Writer, cs []kadm.Config) {
	tw := NewTable(w)
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

// AlterOps turns --set and --delete into incremental config changes.
func AlterOps(sets, dels []string) ([]kadm.AlterConfig, error) {
	if len(sets)+len(dels) == 0 {
		return nil, UsageErrorf("nothing to do: give --set or --delete")
	}
	var alters []kadm.AlterConfig
	for _, kv := range sets {
		k, v, err := SplitKV("--set", kv)
		if err != nil {
			return nil, err
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	for _, k := range dels {
		if k == "" || strings.Contains(k, "=") {
			return nil, UsageErrorf("--delete %q: want a config name", k)
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return alters, nil
}

// SplitKV splits "k=v" at the first '='.
func SplitKV(flagName, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", UsageErrorf("%s %q: want key=value", flagName, s)
	}
	return k, v, nil
}
