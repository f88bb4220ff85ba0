package config

import (
	"maps"
	"math"
	"net"
	"net/netip"
)

// ConnectionsPerIP is max.connections.per.ip with its overrides, host names
// resolved now, as Kafka resolves them when it reads its configuration.
func (cfg *Config) ConnectionsPerIP() (func(netip.Addr) int, error) {
	if cfg.MaxConnectionsPerIP == math.MaxInt32 && len(cfg.MaxConnectionsPerIPOverrides) == 0 {
		return nil, nil // Kafka's default: no bound
	}
	over := map[netip.Addr]int{}
	literal := map[netip.Addr]int{} // applied last: an address named wins over a host resolving to it
	for host, n := range cfg.MaxConnectionsPerIPOverrides {
		if ip, err := netip.ParseAddr(host); err == nil {
			literal[ip.Unmap()] = n
			continue
		}
		ips, err := net.LookupIP(host)
		if err != nil {
			return nil, &Error{Key: "max.connections.per.ip.overrides", Value: host, Reason: err.Error()}
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				over[a.Unmap()] = n
			}
		}
	}
	maps.Copy(over, literal)
	def := cfg.MaxConnectionsPerIP
	return func(ip netip.Addr) int {
		if n, ok := over[ip]; ok {
			return n
		}
		return def
	}, nil
}
