package replica

import "samsa/producerstate"

// ActiveProducers returns the partition's producers with their epochs,
// last sequences and open transactions (DescribeProducers, KIP-664).
func (p *Partition) ActiveProducers() []producerstate.ProducerInfo {
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	return p.prod.State.Active()
}
