package security

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// DefaultMappingRules is ssl.principal.mapping.rules' default: the
// principal's name is the certificate subject's distinguished name.
const DefaultMappingRules = "DEFAULT"

// Kafka's SslPrincipalMapper grammar: a list of "DEFAULT" or
// "RULE:pattern/replacement/[LU]" separated by commas, where pattern and
// replacement may escape a slash with a backslash. The splitter and the
// parser are Kafka's own expressions; RE2 keeps Java's leftmost-first
// preference, so they cut the text the same way.
const rulePattern = `(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`

var (
	ruleSplitter = regexp.MustCompile(`\s*(` + rulePattern + `)\s*(,\s*|$)`)
	ruleParser   = regexp.MustCompile(`^(?:` + rulePattern + `)`)
)

// ErrNoMatchingRule: no rule of ssl.principal.mapping.rules maps the
// distinguished name, and the rules end without DEFAULT. The client's
// authentication fails, as Kafka's NoMatchingRule does.
var ErrNoMatchingRule = errors.New("security: no principal mapping rule applies")

// PrincipalMapper maps a certificate's distinguished name to a principal
// name with ssl.principal.mapping.rules (Kafka's SslPrincipalMapper). It is
// immutable and safe for concurrent use.
type PrincipalMapper struct {
	rules []mappingRule
}

type mappingRule struct {
	isDefault  bool
	text       string         // pattern as written
	repl       string         // replacement as written
	full       *regexp.Regexp // the pattern anchored at both ends: does it match the whole name?
	re         *regexp.Regexp // the pattern as written, for replacing
	lower      bool           // /L
	upper      bool           // /U
	groupCount int
}

// ParseMappingRules parses ssl.principal.mapping.rules. Invalid rules fail
// with Kafka's "Invalid rule" messages; a pattern Go's regexp (RE2) cannot
// compile (Java's lookarounds, backreferences, possessive quantifiers)
// fails too.
func ParseMappingRules(rules string) (*PrincipalMapper, error) {
	m := &PrincipalMapper{}
	for _, sm := range ruleSplitter.FindAllStringSubmatch(strings.TrimSpace(rules), -1) {
		rule := sm[1]
		loc := ruleParser.FindStringSubmatchIndex(rule)
		if loc == nil {
			return nil, fmt.Errorf("Invalid rule: %s", rule)
		}
		if loc[1] != len(rule) {
			return nil, fmt.Errorf("Invalid rule: `%s`, unmatched substring: `%s`", rule, rule[loc[1]:])
		}
		group := func(i int) (string, bool) {
			if loc[2*i] < 0 {
				return "", false
			}
			return rule[loc[2*i]:loc[2*i+1]], true
		}
		if _, ok := group(1); ok {
			m.rules = append(m.rules, mappingRule{isDefault: true})
			continue
		}
		pattern, ok := group(2)
		if !ok {
			continue // an empty rule
		}
		repl, _ := group(4)
		flag, _ := group(6)
		r := mappingRule{text: pattern, repl: repl, lower: flag == "L", upper: flag == "U"}
		var err error
		if r.re, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("Invalid rule: %s: %v", rule, err)
		}
		r.full = regexp.MustCompile(`^(?:` + pattern + `)$`)
		r.groupCount = r.re.NumSubexp()
		m.rules = append(m.rules, r)
	}
	return m, nil
}

// Name returns the principal name of a distinguished name: the result of
// the first rule whose pattern matches the whole name.
func (m *PrincipalMapper) Name(dn string) (string, error) {
	for _, r := range m.rules {
		name, ok, err := r.apply(dn)
		if err != nil {
			return "", err
		}
		if ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: no rules apply to %s, rules %s", ErrNoMatchingRule, dn, m)
}

// String is Kafka's rendering of the rules, "[RULE:p/r/L, DEFAULT]".
func (m *PrincipalMapper) String() string {
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		parts[i] = r.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (r mappingRule) String() string {
	if r.isDefault {
		return "DEFAULT"
	}
	s := "RULE:" + r.text + "/" + r.repl
	switch {
	case r.lower:
		s += "/L"
	case r.upper:
		s += "/U"
	}
	return s
}

// apply is Kafka's Rule.apply: if the pattern matches the whole name,
// every match of it in the name is replaced (Java's String.replaceAll), and
// the result is lower- or upper-cased as the rule asks.
func (r mappingRule) apply(dn string) (string, bool, error) {
	if r.isDefault {
		return dn, true, nil
	}
	if !r.full.MatchString(dn) {
		return "", false, nil
	}
	var b strings.Builder
	last := 0
	for _, loc := range r.re.FindAllStringSubmatchIndex(dn, -1) {
		b.WriteString(dn[last:loc[0]])
		if err := r.expand(&b, dn, loc); err != nil {
			return "", false, err
		}
		last = loc[1]
	}
	b.WriteString(dn[last:])
	out := b.String()
	switch {
	case r.lower:
		out = strings.ToLower(out)
	case r.upper:
		out = strings.ToUpper(out)
	}
	return out, true, nil
}

// expand writes the replacement for one match with Java's
// Matcher.appendReplacement syntax: a backslash takes the next character
// literally, $n and ${name} are groups, and a group reference takes more
// digits only while the number stays a group. As Kafka's
// escapeLiteralBackReferences does first, a $n beyond the groups is a
// literal (when the pattern has groups at all).
func (r mappingRule) expand(b *strings.Builder, s string, loc []int) error {
	group := func(i int) string {
		if loc[2*i] < 0 {
			return ""
		}
		return s[loc[2*i]:loc[2*i+1]]
	}
	repl := r.repl
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			b.WriteByte(repl[i])
		case c == '\\':
			return fmt.Errorf("security: mapping rule %s: character to be escaped is missing", r)
		case c != '$':
			b.WriteByte(c)
		case i+1 < len(repl) && repl[i+1] == '{':
			end := strings.IndexByte(repl[i:], '}')
			if end < 0 {
				return fmt.Errorf("security: mapping rule %s: named capturing group is missing trailing '}'", r)
			}
			name := repl[i+2 : i+end]
			n := r.re.SubexpIndex(name)
			if n < 0 {
				return fmt.Errorf("security: mapping rule %s: no group with name {%s}", r, name)
			}
			b.WriteString(group(n))
			i += end
		case i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9':
			n := int(repl[i+1] - '0')
			if n > r.groupCount && r.groupCount > 0 {
				b.WriteByte('$')
				continue
			}
			if n > r.groupCount {
				return fmt.Errorf("security: mapping rule %s: no group %d", r, n)
			}
			i++
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				next := n*10 + int(repl[i+1]-'0')
				if next > r.groupCount {
					break
				}
				n = next
				i++
			}
			b.WriteString(group(n))
		default:
			return fmt.Errorf("security: mapping rule %s: illegal group reference", r)
		}
	}
	return nil
}
