package group

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// allGroupOperations is the KIP-430 bitfield of group operations: read,
// delete, describe.
const allGroupOperations = 1<<3 | 1<<6 | 1<<8

// ListGroups serves a ListGroups request (v0-v5): every group of the loaded
// partitions, filtered by state (v4+) and type (v5+; all groups here are
// "classic"). While a partition loads, the error is
// COORDINATOR_LOAD_IN_PROGRESS and the other partitions' groups are listed.
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	resp.SetVersion(req.Version)
	parts, loading := c.loadedPartitions()
	if loading {
		resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
	}
	wantState := func(s state) bool {
		if len(req.StatesFilter) == 0 {
			return true
		}
		for _, f := range req.StatesFilter {
			if strings.EqualFold(f, s.String()) {
				return true
			}
		}
		return false
	}
	wantType := len(req.TypesFilter) == 0
	for _, t := range req.TypesFilter {
		if strings.EqualFold(t, "classic") {
			wantType = true
		}
	}
	if !wantType {
		return resp
	}
	for _, p := range parts {
		for _, g := range p.groupsSnapshot() {
			g.mu.Lock()
			if !g.is(stateDead) && wantState(g.state) {
				lg := kmsg.NewListGroupsResponseGroup()
				lg.Group = g.name
				if g.protocolType != nil {
					lg.ProtocolType = *g.protocolType
				}
				lg.GroupState = g.state.String()
				lg.GroupType = "classic"
				resp.Groups = append(resp.Groups, lg)
			}
			g.mu.Unlock()
		}
	}
	return resp
}

// DescribeGroups serves a DescribeGroups request (v0-v5). A group that does
// not exist is "Dead" with no error, as in Kafka 3.x. Members' metadata and
// assignments are shown only for a stable group.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.SetVersion(req.Version)
	for _, name := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = name
		dg.State = stateDead.String()
		if req.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = allGroupOperations
		}
		p, perr := c.partitionOf(name)
		if perr != nil {
			dg.ErrorCode = perr.Code
			dg.State = ""
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		if g := p.get(name); g != nil {
			g.mu.Lock()
			if !g.is(stateDead) {
				g.describe(&dg)
			}
			g.mu.Unlock()
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (g *group) describe(dg *kmsg.DescribeGroupsResponseGroup) {
	dg.State = g.state.String()
	if g.protocolType != nil {
		dg.ProtocolType = *g.protocolType
	}
	stable := g.is(stateStable) && g.protocolName != nil
	if stable {
		dg.Protocol = *g.protocolName
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if stable {
			if md := m.metadataFor(*g.protocolName); md != nil {
				dm.ProtocolMetadata = md
			}
			if m.assignment != nil {
				dm.MemberAssignment = m.assignment
			}
		}
		dg.Members = append(dg.Members, dm)
	}
}

// DeleteGroups serves a DeleteGroups request (v0-v2): an empty group's
// metadata and offsets are removed, with tombstones for each; a group with
// members is NON_EMPTY_GROUP.
func (c *Coordinator) DeleteGroups(req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	resp.SetVersion(req.Version)
	for _, name := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = name
		rg.ErrorCode = code(c.deleteGroup(name))
		resp.Groups = append(resp.Groups, rg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(name string) *kerr.Error {
	p, perr := c.partitionOf(name)
	if perr != nil {
		return perr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.groups[name]
	if g == nil {
		return kerr.GroupIDNotFound
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case stateDead:
		return kerr.GroupIDNotFound
	case stateEmpty:
	default:
		return kerr.NonEmptyGroup
	}
	recs := []rec{{key: groupKey(name)}}
	for tp := range g.offsets {
		recs = append(recs, rec{key: offsetKey(name, tp.topic, tp.partition)})
	}
	if err := p.append(recs); err != nil {
		c.log.Warn("writing a deleted group's tombstones failed", "group", name, "err", err)
		return storeError(err)
	}
	clear(g.offsets)
	g.unload()
	delete(p.groups, name)
	c.log.Info("group deleted", "group", name)
	return nil
}

// Stats counts the loaded groups for metrics.
type Stats struct {
	Groups  map[string]int // by state name; every state but Dead is present
	Members int
	Offsets int // committed offsets held
}

// Stats counts groups by state, their members and committed offsets, as
// Kafka's NumGroups* and NumOffsets metrics.
func (c *Coordinator) Stats() Stats {
	st := Stats{Groups: map[string]int{}}
	for _, s := range stateNames[:stateDead] {
		st.Groups[s] = 0
	}
	parts, _ := c.loadedPartitions()
	for _, p := range parts {
		for _, g := range p.groupsSnapshot() {
			g.mu.Lock()
			if !g.is(stateDead) {
				st.Groups[g.state.String()]++
				st.Members += len(g.members)
				st.Offsets += len(g.offsets)
			}
			g.mu.Unlock()
		}
	}
	return st
}

// Committed is one committed offset, for the lag metrics.
type Committed struct {
	Group     string
	Topic     string
	Partition int32
	Offset    int64
}

// CommittedOffsets returns the committed offsets of the groups this
// coordinator holds (dead groups excluded), each group's at one instant.
func (c *Coordinator) CommittedOffsets() []Committed {
	var out []Committed
	parts, _ := c.loadedPartitions()
	for _, p := range parts {
		for _, g := range p.groupsSnapshot() {
			g.mu.Lock()
			if !g.is(stateDead) {
				for tp, o := range g.offsets {
					out = append(out, Committed{Group: g.name, Topic: tp.topic, Partition: tp.partition, Offset: o.offset})
				}
			}
			g.mu.Unlock()
		}
	}
	return out
}
