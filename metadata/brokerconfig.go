package metadata

import (
	"maps"
	"strconv"
)

// A standalone broker keeps its dynamic configs in the metadata file, as
// a ZooKeeper-mode broker keeps them in /config/brokers/<id>. Values are
// stored as given: password configs in the clear, in a file of the data
// directory (KRaft's metadata log holds them so too).

func (l *Local) BrokerConfigs(id int32) (map[string]string, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := maps.Clone(l.state.BrokerConfigs[strconv.Itoa(int(id))])
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

func (l *Local) SetBrokerConfigs(id int32, configs map[string]string) error {
	return l.update(func(s *localState) error {
		// A new outer map: update keeps the old state for a failed save.
		next := make(map[string]map[string]string, len(s.BrokerConfigs)+1)
		maps.Copy(next, s.BrokerConfigs)
		if len(configs) == 0 {
			delete(next, strconv.Itoa(int(id)))
		} else {
			next[strconv.Itoa(int(id))] = maps.Clone(configs)
		}
		s.BrokerConfigs = next
		return nil
	})
}
