package config

import "sync"

// Default is the configuration with every key at its default, which
// DescribeConfigs compares against.
var Default = sync.OnceValue(func() *Config {
	c, err := New(map[string]string{}, nil)
	if err != nil {
		panic("config: default configuration: " + err.Error())
	}
	return c
})
