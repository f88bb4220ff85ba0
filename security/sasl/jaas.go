package sasl

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Login modules whose options the broker reads, by Kafka's class names.
const (
	PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

// ErrJAAS: a sasl.jaas.config value that is not Kafka's JAAS syntax.
var ErrJAAS = errors.New("sasl: invalid JAAS config")

// JAASEntry is one login module of a JAAS config: the module's class
// name, its control flag and its options (Java's AppConfigurationEntry).
type JAASEntry struct {
	Module  string
	Flag    string // REQUIRED, REQUISITE, SUFFICIENT or OPTIONAL, upper case
	Options map[string]string
}

// Option returns the option named key of the first entry of module that
// has it (Kafka's JaasContext.configEntryOption).
func Option(entries []JAASEntry, module, key string) (string, bool) {
	for _, e := range entries {
		if e.Module != module {
			continue
		}
		if v, ok := e.Options[key]; ok {
			return v, true
		}
	}
	return "", false
}

// ParseJAAS reads a sasl.jaas.config value as Kafka's JaasConfig does,
// with the tokens of Java's StreamTokenizer as Kafka sets it up:
//
//	config  = entry { entry }
//	entry   = module flag { key "=" value } ";"
//	module, flag, key, value = word | quoted
//	word    = a letter, '_', '$' or a character above U+009F, then any
//	          of those, digits, '.' and '-'
//	quoted  = '"' or '\'' ... the same quote, with Java's escapes
//
// Whitespace separates tokens; // and /* */ are comments. A token that
// starts with a digit, '.' or '-' is a number to StreamTokenizer and has
// no string value, so an unquoted number is refused as Kafka refuses it
// ("Value not specified"). A key given twice keeps its last value. The
// flag is matched without regard to case. At least one entry is needed.
func ParseJAAS(s string) ([]JAASEntry, error) {
	t := tokenizer{s: s}
	var entries []JAASEntry
	for {
		tok, err := t.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF {
			break
		}
		e, err := t.entry(tok)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: Login module not specified in JAAS config", ErrJAAS)
	}
	return entries, nil
}

// entry parses one entry whose first token is tok.
func (t *tokenizer) entry(tok token) (JAASEntry, error) {
	if !tok.str() || tok.text == "" {
		return JAASEntry{}, fmt.Errorf("%w: login module name expected, found %s", ErrJAAS, tok)
	}
	e := JAASEntry{Module: tok.text, Options: map[string]string{}}
	tok, err := t.next()
	if err != nil {
		return e, err
	}
	if tok.kind == tokEOF {
		return e, fmt.Errorf("%w: Login module control flag not specified in JAAS config", ErrJAAS)
	}
	if !tok.str() {
		return e, fmt.Errorf("%w: Login module control flag is not available in the JAAS config", ErrJAAS)
	}
	switch f := strings.ToUpper(tok.text); f {
	case "REQUIRED", "REQUISITE", "SUFFICIENT", "OPTIONAL":
		e.Flag = f
	default:
		return e, fmt.Errorf("%w: Invalid login module control flag '%s' in JAAS config", ErrJAAS, tok.text)
	}
	for {
		tok, err = t.next()
		if err != nil {
			return e, err
		}
		if tok.kind == tokEOF || tok.is(';') {
			break
		}
		if !tok.str() {
			return e, fmt.Errorf("%w: option name expected, found %s", ErrJAAS, tok)
		}
		key := tok.text
		eq, err := t.next()
		if err != nil {
			return e, err
		}
		val, err := t.next()
		if err != nil {
			return e, err
		}
		if !eq.is('=') || !val.str() {
			return e, fmt.Errorf("%w: Value not specified for key '%s' in JAAS config", ErrJAAS, key)
		}
		e.Options[key] = val.text
	}
	if !tok.is(';') {
		return e, fmt.Errorf("%w: JAAS config entry not terminated by semi-colon", ErrJAAS)
	}
	return e, nil
}

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokWord             // text is the word
	tokQuoted           // text is the unescaped string
	tokNumber           // no text: StreamTokenizer's TT_NUMBER
	tokChar             // an ordinary character, in text
)

type token struct {
	kind tokenKind
	text string
}

// str reports whether the token has a string value (Java's sval != null).
func (k token) str() bool { return k.kind == tokWord || k.kind == tokQuoted }

func (k token) is(c rune) bool { return k.kind == tokChar && k.text == string(c) }

func (k token) String() string {
	switch k.kind {
	case tokEOF:
		return "end of config"
	case tokNumber:
		return "a number"
	}
	return fmt.Sprintf("%q", k.text)
}

// tokenizer is the subset of java.io.StreamTokenizer JaasConfig uses.
type tokenizer struct {
	s   string
	pos int
}

func isWordStart(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '$' || r >= 0xA0
}

func isNumeric(r rune) bool { return r >= '0' && r <= '9' || r == '.' || r == '-' }

func (t *tokenizer) peek() (rune, int) {
	if t.pos >= len(t.s) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(t.s[t.pos:])
}

func (t *tokenizer) next() (token, error) {
	for {
		r, n := t.peek()
		switch {
		case r < 0:
			return token{kind: tokEOF}, nil
		case r <= ' ':
			t.pos += n
		case r == '/':
			t.pos += n
			switch r2, n2 := t.peek(); r2 {
			case '*':
				end := strings.Index(t.s[t.pos+n2:], "*/")
				if end < 0 {
					t.pos = len(t.s) // StreamTokenizer ends an open comment at EOF
				} else {
					t.pos += n2 + end + 2
				}
			default:
				// "//" and, '/' being StreamTokenizer's comment character, a
				// lone '/' too: the rest of the line is a comment.
				if end := strings.IndexAny(t.s[t.pos:], "\r\n"); end < 0 {
					t.pos = len(t.s)
				} else {
					t.pos += end
				}
			}
		case r == '"' || r == '\'':
			t.pos += n
			return t.quoted(r)
		case isNumeric(r):
			return t.number(), nil
		case isWordStart(r):
			start := t.pos
			for {
				r, n := t.peek()
				if r < 0 || !(isWordStart(r) || isNumeric(r)) {
					break
				}
				t.pos += n
			}
			return token{kind: tokWord, text: t.s[start:t.pos]}, nil
		default:
			t.pos += n
			return token{kind: tokChar, text: string(r)}, nil
		}
	}
}

// number consumes what StreamTokenizer reads as a number: an optional
// '-', then digits and at most one '.'. A '-' not followed by a digit or
// '.' is an ordinary character.
func (t *tokenizer) number() token {
	if r, n := t.peek(); r == '-' {
		t.pos += n
		if r2, _ := t.peek(); r2 != '.' && (r2 < '0' || r2 > '9') {
			return token{kind: tokChar, text: "-"}
		}
	}
	dot := false
	for {
		r, n := t.peek()
		if r == '.' && !dot {
			dot = true
		} else if r < '0' || r > '9' {
			break
		}
		t.pos += n
	}
	return token{kind: tokNumber}
}

// quoted reads a quoted string after its opening quote q, with Java's
// escapes; like StreamTokenizer it ends at the closing quote, a line end
// or the end of the config.
func (t *tokenizer) quoted(q rune) (token, error) {
	var b strings.Builder
	for {
		r, n := t.peek()
		if r < 0 || r == '\n' || r == '\r' {
			return token{kind: tokQuoted, text: b.String()}, nil
		}
		t.pos += n
		if r == q {
			return token{kind: tokQuoted, text: b.String()}, nil
		}
		if r != '\\' {
			b.WriteString(t.s[t.pos-n : t.pos]) // the bytes as given, valid UTF-8 or not
			continue
		}
		r, n = t.peek()
		if r < 0 {
			return token{kind: tokQuoted, text: b.String()}, nil
		}
		t.pos += n
		switch r {
		case 'a':
			b.WriteByte(0x7)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte(0xC)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(0xB)
		default:
			if r >= '0' && r <= '7' {
				// Up to three octal digits, the first at most '3' for three.
				v, first := int(r-'0'), r
				for i := 0; i < 2; i++ {
					d, dn := t.peek()
					if d < '0' || d > '7' || (i == 1 && first > '3') {
						break
					}
					v = v*8 + int(d-'0')
					t.pos += dn
				}
				b.WriteRune(rune(v))
				continue
			}
			b.WriteRune(r)
		}
	}
}

// Quote writes v as a JAAS quoted value that ParseJAAS reads back as v.
func Quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
