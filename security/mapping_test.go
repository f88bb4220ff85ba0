package security

import (
	"errors"
	"testing"
)

// The cases are Kafka's SslPrincipalMapperTest: the same rules must be
// accepted or refused, split the same way, and map the same names.

func TestMappingRulesValid(t *testing.T) {
	for _, rules := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	} {
		if _, err := ParseMappingRules(rules); err != nil {
			t.Errorf("ParseMappingRules(%q): %v", rules, err)
		}
	}
}

func TestMappingRulesInvalid(t *testing.T) {
	for _, rules := range []string{
		"default",
		"DEFAUL",
		"DEFAULT/L",
		"DEFAULT/U",
		"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
		"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
		// Valid in Java, beyond RE2: refused at start, not at the first client.
		"RULE:^CN=(?=x).*$/$1/",
	} {
		if m, err := ParseMappingRules(rules); err == nil {
			t.Errorf("ParseMappingRules(%q) = %v, want an error", rules, m)
		}
	}
}

func TestMappingRulesMap(t *testing.T) {
	m, err := ParseMappingRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, " +
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, " +
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, " +
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, " +
		"DEFAULT")
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":        "duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US": "duke@sme",
		"cn=duke,ou=sme,dc=mycp,dc=com":             "DUKE@SME",
		"cN=duke,OU=JavaSoft,O=Sun Microsystems":    "DUKE",
		"OU=JavaSoft,O=Sun Microsystems,C=US":       "OU=JavaSoft,O=Sun Microsystems,C=US",
	} {
		got, err := m.Name(dn)
		if err != nil || got != want {
			t.Errorf("Name(%q) = %q, %v; want %q", dn, got, err, want)
		}
	}
}

func TestMappingRulesSplitting(t *testing.T) {
	for _, c := range []struct{ rules, want string }{
		{"", "[]"},
		{"DEFAULT", "[DEFAULT]"},
		{"RULE://", "[RULE:/]"},
		{"RULE:/.*/", "[RULE:/.*]"},
		{"RULE:/.*/L", "[RULE:/.*/L]"},
		{"RULE://,DEFAULT", "[RULE:/, DEFAULT]"},
		{"  RULE:// ,  DEFAULT  ", "[RULE:/, DEFAULT]"},
		{"  RULE:   /     / ,  DEFAULT  ", "[RULE:   /     , DEFAULT]"},
		{"  RULE:  /     /U   ,DEFAULT  ", "[RULE:  /     /U, DEFAULT]"},
		{"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ", "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"},
		{",   , , ,      , , ,   ", "[]"},
		{",,RULE://,,,DEFAULT,,", "[RULE:/, DEFAULT]"},
		{",  , RULE: /   /    ,,,   DEFAULT, ,   ", "[RULE: /   , DEFAULT]"},
		{"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", "[RULE:   /  /U, DEFAULT]"},
		{`RULE:\/\\\(\)\n\t/\/\//`, `[RULE:\/\\\(\)\n\t/\/\/]`},
		{`RULE:\**\/+/*/L,RULE:\/*\**/**/`, `[RULE:\**\/+/*/L, RULE:\/*\**/**]`},
		{`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
			`[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]`},
	} {
		m, err := ParseMappingRules(c.rules)
		if err != nil {
			t.Errorf("ParseMappingRules(%q): %v", c.rules, err)
			continue
		}
		if got := m.String(); got != c.want {
			t.Errorf("ParseMappingRules(%q) = %s, want %s", c.rules, got, c.want)
		}
	}
}

func TestMappingRulesCommaWithWhitespace(t *testing.T) {
	m, err := ParseMappingRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Name(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`); err != nil || got != `Tkac\, Adam` {
		t.Fatalf("Name = %q, %v", got, err)
	}
}

// TestMappingRulesReplacement: Java's replacement syntax, not Go's: a
// reference beyond the groups is literal, digits join a reference only
// while it stays a group, a backslash escapes.
func TestMappingRulesReplacement(t *testing.T) {
	for _, c := range []struct{ rules, dn, want string }{
		{`RULE:^CN=(.*?),O=(.*)$/$1@$4/`, "CN=a,O=b", "a@$4"},
		{`RULE:^CN=(.*?),O=(.*)$/$12/`, "CN=a,O=b", "a2"},
		{`RULE:^CN=(.*?),O=(.*)$/\$1-$2/`, "CN=a,O=b", "$1-b"},
		{`RULE:^CN=(?<user>[a-z]+),.*$/${user}x/`, "CN=abc,O=b", "abcx"},
		{`RULE:^CN=(.*?),O=(.*)$/$0!/`, "CN=a,O=b", "CN=a,O=b!"},
	} {
		m, err := ParseMappingRules(c.rules)
		if err != nil {
			t.Fatalf("ParseMappingRules(%q): %v", c.rules, err)
		}
		if got, err := m.Name(c.dn); err != nil || got != c.want {
			t.Errorf("%s on %q = %q, %v; want %q", c.rules, c.dn, got, err, c.want)
		}
	}
}

func TestMappingRulesNoMatch(t *testing.T) {
	m, err := ParseMappingRules(`RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Name("CN=x,OU=Other"); !errors.Is(err, ErrNoMatchingRule) {
		t.Fatalf("Name of an unmatched DN: %v, want ErrNoMatchingRule", err)
	}
}
