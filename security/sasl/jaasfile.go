package sasl

import (
	"fmt"
)

// ParseJAASFile reads a JAAS login configuration file, the file Java's
// java.security.auth.login.config names (Kafka's brokers find their
// ZooKeeper credentials in its Client section):
//
//	file    = { section }
//	section = name "{" { entry } "}" ";"
//	entry   = as in ParseJAAS
//
// with ParseJAAS's tokens and comments. Sections are keyed by name, as
// written (Java's names are case-sensitive); a name given twice is
// refused, as Java's ConfigFile refuses it. A section may be empty.
func ParseJAASFile(s string) (map[string][]JAASEntry, error) {
	t := tokenizer{s: s}
	sections := map[string][]JAASEntry{}
	for {
		tok, err := t.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF {
			return sections, nil
		}
		if !tok.str() || tok.text == "" {
			return nil, fmt.Errorf("%w: login configuration name expected, found %s", ErrJAAS, tok)
		}
		name := tok.text
		if _, dup := sections[name]; dup {
			return nil, fmt.Errorf("%w: Can not specify multiple entries for %s", ErrJAAS, name)
		}
		if tok, err = t.next(); err != nil {
			return nil, err
		}
		if !tok.is('{') {
			return nil, fmt.Errorf("%w: expected '{' after %s, found %s", ErrJAAS, name, tok)
		}
		entries := []JAASEntry{}
		for {
			if tok, err = t.next(); err != nil {
				return nil, err
			}
			if tok.is('}') {
				break
			}
			if tok.kind == tokEOF {
				return nil, fmt.Errorf("%w: section %s not closed by '}'", ErrJAAS, name)
			}
			e, err := t.entry(tok)
			if err != nil {
				return nil, fmt.Errorf("%w (in section %s)", err, name)
			}
			entries = append(entries, e)
		}
		if tok, err = t.next(); err != nil {
			return nil, err
		}
		if !tok.is(';') {
			return nil, fmt.Errorf("%w: expected ';' after the section %s, found %s", ErrJAAS, name, tok)
		}
		sections[name] = entries
	}
}
