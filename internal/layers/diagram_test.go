package layers

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// diagramMarker precedes the fenced block of docs/architecture.md that
// TestDiagram checks.
const diagramMarker = "<!-- imports: checked by internal/layers TestDiagram -->"

// arrow separates a package from what it imports in the diagram.
const arrow = "─►"

// TestDiagram: the import diagram of docs/architecture.md is the module's
// real one. Every import between the module's packages (non-test files) is
// an arrow of the diagram and every arrow is an import; each package's line
// comes above the lines of everything it imports, so reading down is
// reading down the layers. On failure it prints the block to paste.
func TestDiagram(t *testing.T) {
	pkgs := listPackages(t)
	got, order, err := readDiagram(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for path, p := range pkgs {
		name := strings.TrimPrefix(path, "samsa/")
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "samsa/") {
				want[name] = append(want[name], strings.TrimPrefix(imp, "samsa/"))
			}
		}
	}
	ok := true
	for name, deps := range want {
		for _, d := range deps {
			if !slices.Contains(got[name], d) {
				t.Errorf("%s imports %s: the diagram has no such arrow", name, d)
				ok = false
			}
		}
	}
	for name, deps := range got {
		if _, exists := pkgs["samsa/"+name]; !exists {
			t.Errorf("the diagram names %s: no such package", name)
			ok = false
		}
		for _, d := range deps {
			if !slices.Contains(want[name], d) {
				t.Errorf("the diagram has %s %s %s: no such import", name, arrow, d)
				ok = false
			}
		}
	}
	line := map[string]int{}
	for i, name := range order {
		line[name] = i
	}
	for name, deps := range got {
		for _, d := range deps {
			if l, listed := line[d]; listed && l < line[name] {
				t.Errorf("%s imports %s, whose line is above it: imports point down", name, d)
				ok = false
			}
		}
	}
	if !ok {
		t.Logf("the module's imports, a line per importing package, each above what it imports:\n%s", render(want))
	}
}

// readDiagram parses the block after diagramMarker: lines "pkg ─► dep dep".
func readDiagram(path string) (map[string][]string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	state := 0 // 0 before the marker, 1 before the fence, 2 inside
	edges := map[string][]string{}
	var order []string
	for sc.Scan() {
		l := sc.Text()
		switch {
		case state == 0 && strings.TrimSpace(l) == diagramMarker:
			state = 1
		case state == 1 && strings.HasPrefix(l, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(l, "```"):
			return edges, order, nil
		case state == 2 && strings.TrimSpace(l) != "":
			name, deps, _ := strings.Cut(l, arrow)
			name = strings.TrimSpace(name)
			if _, dup := edges[name]; dup {
				return nil, nil, fmt.Errorf("%s: %s has two lines", path, name)
			}
			edges[name] = strings.Fields(deps)
			order = append(order, name)
		}
	}
	return nil, nil, fmt.Errorf("%s: no block after %q", path, diagramMarker)
}

// render writes want as the diagram's lines, ordered so that every package
// comes above what it imports (most depended-on last), ties by name.
func render(want map[string][]string) string {
	depth := map[string]int{} // longest path to a leaf
	var d func(string) int
	d = func(n string) int {
		if v, ok := depth[n]; ok {
			return v
		}
		depth[n] = 0
		m := 0
		for _, x := range want[n] {
			m = max(m, d(x)+1)
		}
		depth[n] = m
		return m
	}
	var names []string
	for n := range want {
		d(n)
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if depth[a] != depth[b] {
			return depth[b] - depth[a]
		}
		return strings.Compare(a, b)
	})
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	var b strings.Builder
	for _, n := range names {
		deps := slices.Clone(want[n])
		slices.SortFunc(deps, func(x, y string) int {
			if depth[x] != depth[y] {
				return depth[y] - depth[x]
			}
			return strings.Compare(x, y)
		})
		fmt.Fprintf(&b, "%-*s %s %s\n", width, n, arrow, strings.Join(deps, " "))
	}
	return b.String()
}
