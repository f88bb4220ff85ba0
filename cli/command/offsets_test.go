package command

import (
	"testing"
	"time"
)

func TestParseFrom(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want StartAt
	}{
		{"beginning", StartAt{Kind: "beginning", Until: -1}},
		{"oldest", StartAt{Kind: "beginning", Until: -1}},
		{"newest", StartAt{Kind: "end", Until: -1}},
		{"offset:5", StartAt{Kind: "offset", N: 5, Until: -1}},
		{"5", StartAt{Kind: "offset", N: 5, Until: -1}},
		{"5:", StartAt{Kind: "offset", N: 5, Until: -1}},
		{"-3", StartAt{Kind: "relative", N: -3, Until: -1}},
		{"+3", StartAt{Kind: "relative", N: 3, Until: -1}},
		{"time:77", StartAt{Kind: "time", N: 77, Until: -1}},
		{"s@77", StartAt{Kind: "time", N: 77, Until: -1}},
		{"@77", StartAt{Kind: "time", N: 77, Until: -1}},
		{"@2024-05-01", StartAt{Kind: "time", N: 1714521600000, Until: -1}},
		{":end", StartAt{Kind: "beginning", Until: -1, UntilEnd: true}},
		{":9", StartAt{Kind: "beginning", Until: 9, UntilEnd: true}},
		{"4:9", StartAt{Kind: "offset", N: 4, Until: 9, UntilEnd: true}},
		{"4:end", StartAt{Kind: "offset", N: 4, Until: -1, UntilEnd: true}},
	} {
		got, err := ParseFrom(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseFrom(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "offset:-1", "time:x", "9:4", "4:4", ":", "-", "+x", "@", "@soon", "e@5", "1:2:3"} {
		if got, err := ParseFrom(bad); err == nil {
			t.Errorf("ParseFrom(%q) = %+v, want an error", bad, got)
		}
	}
	// A duration before now.
	got, err := ParseFrom("@-1h")
	if ms := time.Now().Add(-time.Hour).UnixMilli(); err != nil || got.Kind != "time" || got.N < ms-5000 || got.N > ms {
		t.Errorf("ParseFrom(@-1h) = %+v, %v; want about %d", got, err, ms)
	}
}
