package group

import (
	"bytes"
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func code(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// JoinGroup serves a JoinGroup request (v0-v9), waiting while the request
// is parked in a rebalance until the rebalance ends or ctx is done.
// clientHost is how Kafka shows it: "/127.0.0.1".
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest, clientID, clientHost string) *kmsg.JoinGroupResponse {
	r, wait := c.join(req, clientID, clientHost)
	if wait != nil {
		select {
		case r = <-wait:
		case <-ctx.Done():
			r = joinResult{err: kerr.NotCoordinator, memberID: req.MemberID}
		}
	}
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.SetVersion(req.Version)
	resp.ErrorCode = code(r.err)
	resp.Generation = -1
	resp.MemberID = r.memberID
	resp.LeaderID = r.leader
	if r.err == nil {
		resp.Generation = r.generation
		resp.ProtocolType = r.protocolType
		resp.Protocol = r.protocolName
		resp.SkipAssignment = r.skipAssignment
		resp.Members = r.members
	}
	if req.Version < 7 && resp.Protocol == nil {
		resp.Protocol = new(string) // not nullable before v7: Kafka's NoProtocol ""
	}
	if resp.Members == nil {
		resp.Members = []kmsg.JoinGroupResponseMember{}
	}
	return resp
}

func (c *Coordinator) join(req *kmsg.JoinGroupRequest, clientID, clientHost string) (joinResult, chan joinResult) {
	fail := func(e *kerr.Error) (joinResult, chan joinResult) {
		return joinResult{err: e, memberID: req.MemberID}, nil
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID)
	}
	p, perr := c.partitionOf(req.Group)
	if perr != nil {
		return fail(perr)
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout)
	}
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	if req.Version == 0 {
		rebalance = session // v0 has one timeout for both
	}
	protocols := make([]protocol, len(req.Protocols))
	for i, rp := range req.Protocols {
		// Request bytes alias the connection's buffer: keep copies.
		protocols[i] = protocol{name: rp.Name, metadata: bytes.Clone(rp.Metadata)}
	}
	jm := joiner{
		protocolType: req.ProtocolType, protocols: protocols, session: session, rebalance: rebalance,
		clientID: clientID, clientHost: clientHost, instanceID: req.InstanceID,
		requireKnownID: req.Version >= 4, skipAssignment: req.Version >= 9,
	}
	unknown := req.MemberID == ""
	var g *group
	if unknown {
		g = p.getOrCreate(req.Group)
	} else if g = p.get(req.Group); g == nil {
		return fail(kerr.UnknownMemberID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.acceptsJoin(req.MemberID) {
		return fail(kerr.GroupMaxSizeReached)
	}
	var r joinResult
	var wait chan joinResult
	if unknown {
		r, wait = g.joinNew(jm)
	} else {
		r, wait = g.joinCurrent(req.MemberID, jm)
	}
	if g.is(statePreparingRebalance) {
		g.tryCompleteJoin()
	}
	if wait == nil && r.memberID == "" {
		r.memberID = req.MemberID
	}
	return r, wait
}

// joiner is a JoinGroup's request, decoded.
type joiner struct {
	protocolType   string
	protocols      []protocol
	session        time.Duration
	rebalance      time.Duration
	clientID       string
	clientHost     string
	instanceID     *string
	requireKnownID bool // v4+ (KIP-394)
	skipAssignment bool // v9+ (KIP-814)
}

// acceptsJoin is Kafka's group.max.size check.
func (g *group) acceptsJoin(memberID string) bool {
	max := g.c.cfg.MaxGroupSize
	if max <= 0 {
		return true
	}
	m := g.members[memberID]
	switch g.state {
	case statePreparingRebalance:
		return (m != nil && m.awaitingJoin()) || g.numAwaiting < max
	case stateCompletingRebalance, stateStable:
		return m != nil || len(g.members) < max
	}
	return true
}

func (g *group) joinNew(j joiner) (joinResult, chan joinResult) {
	if g.is(stateDead) {
		return joinResult{err: kerr.CoordinatorNotAvailable}, nil
	}
	if !g.supportsProtocols(j.protocolType, j.protocols) {
		return joinResult{err: kerr.InconsistentGroupProtocol}, nil
	}
	prefix := j.clientID
	if j.instanceID != nil {
		prefix = *j.instanceID
	}
	id := newMemberID(prefix)
	if j.instanceID != nil {
		return g.joinStatic(id, j)
	}
	if j.requireKnownID {
		// KIP-394: hand out the id; the member joins again with it.
		g.addPending(id, j.session)
		return joinResult{err: kerr.MemberIDRequired, memberID: id}, nil
	}
	return joinResult{}, g.addMemberAndRebalance(id, j)
}

func (g *group) addMemberAndRebalance(id string, j joiner) chan joinResult {
	m := &member{
		id: id, instanceID: j.instanceID, clientID: j.clientID, clientHost: j.clientHost,
		protocolType: j.protocolType, protocols: j.protocols,
		sessionTimeout: j.session, rebalanceTimeout: j.rebalance, isNew: true,
	}
	wait := make(chan joinResult, 1)
	g.removePending(id)
	g.add(m, wait)
	if g.is(statePreparingRebalance) && g.generation == 0 {
		g.newMember = true
	}
	// A new member cannot heartbeat yet and its socket is not read while it
	// waits; it gets newMemberJoinTimeout to finish joining.
	g.heartbeat(m)
	g.maybePrepareRebalance("adding new member " + id)
	return wait
}

// joinStatic is KIP-345: a static member joining with an unknown member id
// replaces its previous incarnation. In a stable group whose protocol does
// not change, that needs no rebalance.
func (g *group) joinStatic(newID string, j joiner) (joinResult, chan joinResult) {
	oldID, ok := g.static[*j.instanceID]
	if !ok {
		return joinResult{}, g.addMemberAndRebalance(newID, j)
	}
	prevLeader := g.leader
	old := g.members[oldID]
	g.answerJoin(old, joinResult{err: kerr.FencedInstanceID, memberID: oldID})
	g.answerSync(old, syncResult{err: kerr.FencedInstanceID})
	if old.timer != nil {
		old.timer.Stop()
	}
	m := &member{
		id: newID, instanceID: old.instanceID, clientID: old.clientID, clientHost: old.clientHost,
		protocolType: old.protocolType, protocols: old.protocols,
		sessionTimeout: old.sessionTimeout, rebalanceTimeout: old.rebalanceTimeout, assignment: old.assignment,
	}
	g.replaceMember(oldID, m)
	oldProtocols, oldSession, oldRebalance := m.protocols, m.sessionTimeout, m.rebalanceTimeout
	m.protocols, m.sessionTimeout, m.rebalanceTimeout = j.protocols, j.session, j.rebalance
	wait := make(chan joinResult, 1)
	m.joinWait = wait
	g.numAwaiting++
	g.heartbeat(m)
	switch g.state {
	case stateStable:
		if g.protocolName != nil && g.selectProtocol() == *g.protocolName {
			assignment := map[string][]byte{}
			for id, x := range g.members {
				assignment[id] = x.assignment
			}
			if err := g.storeGroup(assignment); err != nil {
				// Put the previous incarnation back.
				g.answerJoin(m, joinResult{err: storeError(err)})
				m.protocols, m.sessionTimeout, m.rebalanceTimeout = oldProtocols, oldSession, oldRebalance
				back := *m
				back.id, back.timer, back.joinWait, back.syncWait = oldID, nil, nil, nil
				if m.timer != nil {
					m.timer.Stop()
				}
				g.replaceMember(newID, &back)
				g.heartbeat(&back)
				return joinResult{err: storeError(err)}, nil
			}
			r := g.joinResultFor(newID)
			if j.skipAssignment {
				if g.leader == newID {
					r.members = g.memberList()
					r.skipAssignment = true
				}
			} else {
				// Older clients must not see themselves as leader: they
				// would assign, and a stable group would not pass it on.
				r.leader = prevLeader
			}
			g.answerJoin(m, r)
		} else {
			g.maybePrepareRebalance("static member " + *j.instanceID + " rejoined with other protocols")
		}
	case stateCompletingRebalance:
		// The leader may already be assigning to the old member id.
		g.prepareRebalance("static member " + *j.instanceID + " rejoined during a sync")
	}
	return joinResult{}, wait
}

// replaceMember puts m in the place of the member oldID: membership,
// leadership, static mapping and pending sync move to m.id.
func (g *group) replaceMember(oldID string, m *member) {
	delete(g.members, oldID)
	g.members[m.id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if g.leader == oldID {
		g.leader = m.id
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[m.id] = true
	}
}

func (g *group) joinCurrent(memberID string, j joiner) (joinResult, chan joinResult) {
	if g.is(stateDead) {
		return joinResult{err: kerr.CoordinatorNotAvailable}, nil
	}
	if !g.supportsProtocols(j.protocolType, j.protocols) {
		return joinResult{err: kerr.InconsistentGroupProtocol}, nil
	}
	if _, ok := g.pending[memberID]; ok {
		return joinResult{}, g.addMemberAndRebalance(memberID, j)
	}
	if e := g.validateMember(memberID, j.instanceID); e != nil {
		return joinResult{err: e}, nil
	}
	m := g.members[memberID]
	switch g.state {
	case statePreparingRebalance:
		return joinResult{}, g.updateMemberAndRebalance(m, j, "member "+memberID+" rejoined")
	case stateCompletingRebalance:
		if m.sameProtocols(j.protocols) {
			// A retried JoinGroup: the same answer again.
			r := g.joinResultFor(memberID)
			if memberID == g.leader {
				r.members = g.memberList()
			}
			return r, nil
		}
		return joinResult{}, g.updateMemberAndRebalance(m, j, "member "+memberID+" changed its protocols")
	case stateStable:
		if memberID == g.leader || !m.sameProtocols(j.protocols) {
			return joinResult{}, g.updateMemberAndRebalance(m, j, "leader or changed member "+memberID+" rejoined")
		}
		return g.joinResultFor(memberID), nil
	}
	return joinResult{err: kerr.UnknownMemberID}, nil
}

func (g *group) updateMemberAndRebalance(m *member, j joiner, reason string) chan joinResult {
	m.protocols, m.sessionTimeout, m.rebalanceTimeout = j.protocols, j.session, j.rebalance
	if m.joinWait != nil {
		// The same member joined again elsewhere; its older request is moot.
		g.answerJoin(m, joinResult{err: kerr.RebalanceInProgress, memberID: m.id})
	}
	wait := make(chan joinResult, 1)
	m.joinWait = wait
	g.numAwaiting++
	g.maybePrepareRebalance(reason)
	return wait
}

// SyncGroup serves a SyncGroup request (v0-v5); followers wait for the
// leader's assignment until it comes or ctx is done.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	r, wait := c.sync(req)
	if wait != nil {
		select {
		case r = <-wait:
		case <-ctx.Done():
			r = syncResult{err: kerr.NotCoordinator}
		}
	}
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.SetVersion(req.Version)
	resp.ErrorCode = code(r.err)
	if r.err == nil {
		resp.ProtocolType = r.protocolType
		resp.Protocol = r.protocolName
		resp.MemberAssignment = r.assignment
	}
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

func (c *Coordinator) sync(req *kmsg.SyncGroupRequest) (syncResult, chan syncResult) {
	fail := func(e *kerr.Error) (syncResult, chan syncResult) { return syncResult{err: e}, nil }
	if req.Group == "" {
		return fail(kerr.InvalidGroupID)
	}
	p, perr := c.partitionOf(req.Group)
	if perr == kerr.CoordinatorLoadInProgress {
		// The rebalance state is lost: rejoin (older clients do not expect
		// COORDINATOR_LOAD_IN_PROGRESS here).
		return fail(kerr.RebalanceInProgress)
	}
	if perr != nil {
		return fail(perr)
	}
	g := p.get(req.Group)
	if g == nil {
		return fail(kerr.UnknownMemberID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.is(stateDead):
		return fail(kerr.CoordinatorNotAvailable)
	case g.validateMember(req.MemberID, req.InstanceID) != nil:
		return fail(g.validateMember(req.MemberID, req.InstanceID))
	case req.Generation != g.generation:
		return fail(kerr.IllegalGeneration)
	case req.ProtocolType != nil && (g.protocolType == nil || *g.protocolType != *req.ProtocolType):
		return fail(kerr.InconsistentGroupProtocol)
	case req.Protocol != nil && (g.protocolName == nil || *g.protocolName != *req.Protocol):
		return fail(kerr.InconsistentGroupProtocol)
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		return fail(kerr.UnknownMemberID)
	case statePreparingRebalance:
		return fail(kerr.RebalanceInProgress)
	case stateStable:
		delete(g.pendingSync, m.id)
		g.heartbeat(m)
		return syncResult{protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment}, nil
	}
	// CompletingRebalance: wait for the leader's assignment.
	if m.syncWait != nil {
		g.answerSync(m, syncResult{err: kerr.RebalanceInProgress})
	}
	wait := make(chan syncResult, 1)
	m.syncWait = wait
	delete(g.pendingSync, m.id)
	if m.id == g.leader {
		assignment := make(map[string][]byte, len(g.members))
		for _, a := range req.GroupAssignment {
			if g.members[a.MemberID] != nil {
				assignment[a.MemberID] = bytes.Clone(a.MemberAssignment)
			}
		}
		var missing []string
		for id := range g.members {
			if _, ok := assignment[id]; !ok {
				assignment[id] = []byte{}
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			g.c.log.Warn("leader's assignment misses members; they get none", "group", g.name, "members", missing)
		}
		if err := g.storeGroup(assignment); err != nil {
			g.c.log.Warn("storing group assignment failed", "group", g.name, "err", err)
			g.resetAssignment(storeError(err))
			g.maybePrepareRebalance("storing the assignment failed")
		} else {
			for id, a := range assignment {
				g.members[id].assignment = a
			}
			for _, o := range g.members {
				if o.awaitingSync() {
					g.answerSync(o, syncResult{protocolType: g.protocolType, protocolName: g.protocolName, assignment: o.assignment})
					g.heartbeat(o)
				}
			}
			g.transition(stateStable)
		}
	}
	return syncResult{}, wait
}

// Heartbeat serves a Heartbeat request (v0-v4).
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.SetVersion(req.Version)
	resp.ErrorCode = code(c.heartbeat(req))
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) *kerr.Error {
	if req.Group == "" {
		return kerr.InvalidGroupID
	}
	p, perr := c.partitionOf(req.Group)
	if perr == kerr.CoordinatorLoadInProgress {
		return nil // the group is loading: answer blindly, as Kafka does
	}
	if perr != nil {
		return perr
	}
	g := p.get(req.Group)
	if g == nil {
		return kerr.UnknownMemberID
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	if e := g.validateMember(req.MemberID, req.InstanceID); e != nil {
		return e
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		return kerr.UnknownMemberID
	case statePreparingRebalance:
		g.heartbeat(m)
		return kerr.RebalanceInProgress
	}
	g.heartbeat(m)
	return nil
}

// LeaveGroup serves a LeaveGroup request: one member (v0-v2) or a batch
// (v3+, KIP-345), where a member may be named by its instance id alone.
func (c *Coordinator) LeaveGroup(req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	resp.SetVersion(req.Version)
	leaving := req.Members
	if req.Version < 3 {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = req.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{lm}
	}
	top, codes := c.leave(req.Group, leaving)
	resp.ErrorCode = code(top)
	if req.Version < 3 {
		if top == nil {
			resp.ErrorCode = code(codes[0])
		}
		return resp
	}
	if top != nil {
		return resp
	}
	for i, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = lm.MemberID, lm.InstanceID, code(codes[i])
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

func (c *Coordinator) leave(name string, leaving []kmsg.LeaveGroupRequestMember) (*kerr.Error, []*kerr.Error) {
	if name == "" {
		return kerr.InvalidGroupID, nil
	}
	p, perr := c.partitionOf(name)
	if perr != nil {
		return perr, nil
	}
	codes := make([]*kerr.Error, len(leaving))
	g := p.get(name)
	if g == nil {
		for i := range codes {
			codes[i] = kerr.UnknownMemberID
		}
		return nil, codes
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable, nil
	}
	for i, lm := range leaving {
		switch {
		case lm.MemberID == "":
			id, ok := "", false
			if lm.InstanceID != nil {
				id, ok = g.static[*lm.InstanceID]
			}
			if !ok {
				codes[i] = kerr.UnknownMemberID
				continue
			}
			g.leaveMember(id, lm.Reason)
		case g.pending[lm.MemberID] != nil:
			g.removePending(lm.MemberID)
			g.tryCompleteJoin()
		default:
			if e := g.validateMember(lm.MemberID, lm.InstanceID); e != nil {
				codes[i] = e
				continue
			}
			g.leaveMember(lm.MemberID, lm.Reason)
		}
	}
	return nil, codes
}

func (g *group) leaveMember(id string, reason *string) {
	m := g.members[id]
	why := "member " + id + " left"
	if reason != nil && *reason != "" {
		why += ": " + *reason
	}
	g.c.log.Info("member leaving group", "group", g.name, "member", id, "reason", why)
	g.answerSync(m, syncResult{err: kerr.UnknownMemberID})
	g.removeMemberAndUpdate(m, why)
}
