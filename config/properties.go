package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/magiconair/properties"
)

// ParseProperties reads a Java properties file (java.util.Properties.load):
// "key=value", "key: value" or "key value"; # and ! comment lines; a
// backslash at the end of a line continues the value on the next, whose
// leading whitespace is dropped; escapes \t \n \r \f \uXXXX, and a
// backslash before any other character (an escaped separator, "\=", "\:",
// "\ ") stands for that character, in keys and values. It returns the
// values, trimmed as Kafka trims them, and the keys in the order they
// first appear (a later line with the same key wins). ${...} is not
// expanded: Java does not.
//
// Unlike java.util.Properties, which reads ISO-8859-1, the file is UTF-8
// (a leading byte-order mark is skipped), and a \uXXXX escape of half a
// surrogate pair becomes U+FFFD. A malformed \u escape is an error, as in
// Java.
func ParseProperties(data []byte) (map[string]string, []string, error) {
	// The library continues a line after "\\\r" only up to the \r; Java
	// treats \r\n as one line end.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	l := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "properties: "))
	}
	props := make(map[string]string, p.Len())
	order := p.Keys()
	for _, k := range order {
		v, _ := p.Get(k)
		props[k] = strings.TrimSpace(v)
	}
	return props, order, nil
}
