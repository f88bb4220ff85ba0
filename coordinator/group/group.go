package group

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/uuid"
)

// state is a group's state in the classic protocol, as Kafka names them.
type state int8

const (
	stateEmpty state = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

func (s state) String() string { return stateNames[s] }

// newMemberJoinTimeout bounds how long a member that joined for the first
// time may wait in a rebalance before it is dropped (Kafka's constant).
const newMemberJoinTimeout = 5 * time.Minute

type protocol struct {
	name     string
	metadata []byte
}

// member is one member of a group. Guarded by its group's mu.
type member struct {
	id                string
	instanceID        *string // static membership (KIP-345)
	clientID          string
	clientHost        string
	protocolType      string
	protocols         []protocol
	sessionTimeout    time.Duration
	rebalanceTimeout  time.Duration
	assignment        []byte
	isNew             bool            // joined in the rebalance under way: may time out in it
	joinWait          chan joinResult // set while its JoinGroup waits
	syncWait          chan syncResult // set while its SyncGroup waits
	heartbeatDeadline time.Time
	timer             *time.Timer // heartbeat expiry; re-armed lazily
}

func (m *member) awaitingJoin() bool { return m.joinWait != nil }
func (m *member) awaitingSync() bool { return m.syncWait != nil }

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// sameProtocols reports whether a rejoin changes nothing that matters.
func (m *member) sameProtocols(ps []protocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b protocol) bool {
		return a.name == b.name && string(a.metadata) == string(b.metadata)
	})
}

// joinResult is what a waiting JoinGroup is answered with.
type joinResult struct {
	err            *kerr.Error
	memberID       string
	generation     int32
	protocolType   *string
	protocolName   *string
	leader         string
	skipAssignment bool
	members        []kmsg.JoinGroupResponseMember
}

// syncResult is what a waiting SyncGroup is answered with.
type syncResult struct {
	err          *kerr.Error
	protocolType *string
	protocolName *string
	assignment   []byte
}

type topicPartition struct {
	topic     string
	partition int32
}

// offset is a committed offset.
type offset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitMs    int64
	expireMs    int64 // -1: none (KIP-211: retention applies)
}

// group is one group: its members, its rebalance state and its committed
// offsets. Every field is guarded by mu; the group's partition is fixed.
type group struct {
	c    *Coordinator
	part *partition
	name string

	mu           sync.Mutex
	state        state
	stateTime    time.Time // when state last changed (currentStateTimestamp)
	protocolType *string   // nil until the first member joins
	protocolName *string   // the generation's protocol; nil when Empty
	generation   int32
	leader       string // "" without members
	members      map[string]*member
	static       map[string]string      // instance id -> member id
	pending      map[string]*time.Timer // KIP-394: member ids handed out, not yet joined
	pendingSync  map[string]bool        // members of the generation yet to SyncGroup
	numAwaiting  int                    // members with a JoinGroup waiting
	newMember    bool                   // a member joined during the initial delay
	// timerSeq invalidates pending rebalance and sync timers: a timer
	// acts only if the sequence is unchanged since it was set.
	timerSeq    uint64
	joinTimer   *time.Timer
	joinInitial bool          // the join timer is Kafka's InitialDelayedJoin
	joinLeft    time.Duration // initial delay: rebalance time left after this delay
	syncTimer   *time.Timer

	offsets map[topicPartition]offset
	// pendingTxn are offsets committed inside producers' open
	// transactions, by producer id (txn.go): not visible until a commit
	// marker.
	pendingTxn map[int64]map[topicPartition]offset
}

func newGroup(c *Coordinator, p *partition, name string) *group {
	return &group{
		c: c, part: p, name: name,
		state: stateEmpty, stateTime: c.now(),
		members: map[string]*member{}, static: map[string]string{},
		pending: map[string]*time.Timer{}, pendingSync: map[string]bool{},
		offsets: map[topicPartition]offset{}, pendingTxn: map[int64]map[topicPartition]offset{},
	}
}

func (g *group) transition(s state) {
	g.state = s
	g.stateTime = g.c.now()
}

func (g *group) is(s state) bool { return g.state == s }

// newMemberID is Kafka's: the client id (or the instance id for a static
// member), a dash and a random UUID.
func newMemberID(prefix string) string { return prefix + "-" + uuid.Random().Canonical() }

// supportsProtocols: a new member may join when the group is empty and it
// names a type and protocols, or when its type matches and it shares a
// protocol with every member.
func (g *group) supportsProtocols(ptype string, ps []protocol) bool {
	if g.is(stateEmpty) && len(g.members) == 0 {
		return ptype != "" && len(ps) > 0
	}
	if g.protocolType == nil || *g.protocolType != ptype {
		return false
	}
	for _, p := range ps {
		if g.allSupport(p.name, nil) {
			return true
		}
	}
	return false
}

// allSupport reports whether every member but except supports a protocol.
func (g *group) allSupport(name string, except *member) bool {
	for _, m := range g.members {
		if m != except && !slices.ContainsFunc(m.protocols, func(p protocol) bool { return p.name == name }) {
			return false
		}
	}
	return true
}

// selectProtocol is Kafka's vote: among the protocols every member
// supports, each member votes for the first in its own order; most votes
// wins (ties go to the first candidate in the leader's order).
func (g *group) selectProtocol() string {
	var candidates []string
	var order []*member
	if l := g.members[g.leader]; l != nil {
		order = append(order, l)
	}
	for _, m := range g.sortedMembers() {
		if m.id != g.leader {
			order = append(order, m)
		}
	}
	for _, p := range order[0].protocols {
		if g.allSupport(p.name, nil) && !slices.Contains(candidates, p.name) {
			candidates = append(candidates, p.name)
		}
	}
	votes := map[string]int{}
	for _, m := range order {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.name) {
				votes[p.name]++
				break
			}
		}
	}
	best := candidates[0]
	for _, c := range candidates {
		if votes[c] > votes[best] {
			best = c
		}
	}
	return best
}

// sortedMembers returns the members in a stable order (by member id).
func (g *group) sortedMembers() []*member {
	out := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// add puts a member in the group; it becomes leader if there is none.
func (g *group) add(m *member, wait chan joinResult) {
	if len(g.members) == 0 {
		pt := m.protocolType
		g.protocolType = &pt
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	m.joinWait = wait
	if wait != nil {
		g.numAwaiting++
	}
}

// remove takes a member out; a new leader is chosen if it led.
func (g *group) remove(id string) {
	m := g.members[id]
	if m == nil {
		return
	}
	delete(g.members, id)
	if m.instanceID != nil && g.static[*m.instanceID] == id {
		delete(g.static, *m.instanceID)
	}
	if m.awaitingJoin() {
		g.numAwaiting--
	}
	delete(g.pendingSync, id)
	if m.timer != nil {
		m.timer.Stop()
	}
	if g.leader == id {
		g.leader = ""
		for _, o := range g.sortedMembers() {
			g.leader = o.id
			break
		}
	}
}

// answerJoin sends a waiting member its JoinGroup result.
func (g *group) answerJoin(m *member, r joinResult) {
	if m.joinWait == nil {
		return
	}
	m.joinWait <- r
	m.joinWait = nil
	g.numAwaiting--
}

func (g *group) answerSync(m *member, r syncResult) {
	if m.syncWait == nil {
		return
	}
	m.syncWait <- r
	m.syncWait = nil
}

func (g *group) allJoined() bool {
	return g.numAwaiting == len(g.members) && len(g.pending) == 0
}

func (g *group) canRebalance() bool {
	return g.is(stateStable) || g.is(stateCompletingRebalance) || g.is(stateEmpty)
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// stopTimers cancels the rebalance and sync timers.
func (g *group) stopTimers() {
	g.timerSeq++
	if g.joinTimer != nil {
		g.joinTimer.Stop()
		g.joinTimer = nil
	}
	if g.syncTimer != nil {
		g.syncTimer.Stop()
		g.syncTimer = nil
	}
}

// after runs fn with the group locked after d, unless the group's timers
// were reset in between.
func (g *group) after(d time.Duration, fn func()) *time.Timer {
	seq := g.timerSeq
	return time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.timerSeq != seq || g.is(stateDead) {
			return
		}
		fn()
	})
}

func (g *group) maybePrepareRebalance(reason string) {
	if g.canRebalance() {
		g.prepareRebalance(reason)
	}
}

// prepareRebalance starts a rebalance: members waiting in SyncGroup are told
// to rejoin, and the join phase ends when every member has rejoined or the
// rebalance timeout passes. An empty group first waits
// group.initial.rebalance.delay.ms for more members (Kafka's
// InitialDelayedJoin).
func (g *group) prepareRebalance(reason string) {
	if g.is(stateCompletingRebalance) {
		g.resetAssignment(kerr.RebalanceInProgress)
	}
	g.stopTimers()
	wasEmpty := g.is(stateEmpty)
	g.transition(statePreparingRebalance)
	g.c.log.Info("preparing to rebalance group", "group", g.name, "generation", g.generation, "reason", reason)
	rt := g.maxRebalanceTimeout()
	if delay := g.c.cfg.InitialRebalanceDelay; wasEmpty && delay > 0 {
		g.joinInitial = true
		g.joinLeft = max(rt-delay, 0)
		g.newMember = false
		g.joinTimer = g.after(delay, g.onInitialDelay)
		return
	}
	g.joinInitial = false
	g.joinTimer = g.after(rt, g.completeJoin)
	g.tryCompleteJoin()
}

func (g *group) onInitialDelay() {
	delay := g.c.cfg.InitialRebalanceDelay
	if g.newMember && g.joinLeft > 0 {
		g.newMember = false
		d := min(delay, g.joinLeft)
		g.joinLeft -= d
		g.timerSeq++
		g.joinTimer = g.after(d, g.onInitialDelay)
		return
	}
	g.completeJoin()
}

// tryCompleteJoin ends the join phase early when everyone has joined.
func (g *group) tryCompleteJoin() {
	if g.is(statePreparingRebalance) && !g.joinInitial && g.allJoined() {
		g.completeJoin()
	}
}

// completeJoin ends the join phase: dynamic members that did not rejoin are
// dropped, the next generation starts and every joined member gets its
// JoinGroup answer (the leader with the members' metadata).
func (g *group) completeJoin() {
	if !g.is(statePreparingRebalance) {
		return
	}
	g.stopTimers()
	for _, m := range g.sortedMembers() {
		if !m.awaitingJoin() && m.instanceID == nil {
			g.c.log.Info("removing member that did not rejoin", "group", g.name, "member", m.id)
			g.remove(m.id)
		}
	}
	if len(g.members) > 0 && !g.electJoinedLeader() {
		// Nobody rejoined: wait again until session timeouts remove them.
		g.c.log.Warn("group could not complete rebalance: no member rejoined", "group", g.name)
		g.joinInitial = false
		g.joinTimer = g.after(g.maxRebalanceTimeout(), g.completeJoin)
		return
	}
	g.generation++
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocolName = nil
		g.transition(stateEmpty)
		g.c.log.Info("group is now empty", "group", g.name, "generation", g.generation)
		if err := g.storeGroup(nil); err != nil {
			g.c.log.Warn("writing empty group metadata failed", "group", g.name, "err", err)
		}
		return
	}
	name := g.selectProtocol()
	g.protocolName = &name
	g.transition(stateCompletingRebalance)
	g.c.log.Info("stabilized group", "group", g.name, "generation", g.generation, "protocol", name, "members", len(g.members))
	for _, m := range g.sortedMembers() {
		g.pendingSync[m.id] = true
		r := g.joinResultFor(m.id)
		if m.id == g.leader {
			r.members = g.memberList()
		}
		g.answerJoin(m, r)
		m.isNew = false
		g.heartbeat(m)
	}
	gen := g.generation
	g.syncTimer = g.after(g.maxRebalanceTimeout(), func() { g.onSyncExpired(gen) })
}

func (g *group) joinResultFor(id string) joinResult {
	return joinResult{
		memberID: id, generation: g.generation,
		protocolType: g.protocolType, protocolName: g.protocolName, leader: g.leader,
	}
}

// memberList is the leader's view of the members: ids, instance ids and
// their metadata for the generation's protocol.
func (g *group) memberList() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(g.members))
	for _, m := range g.sortedMembers() {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(*g.protocolName)
		out = append(out, jm)
	}
	return out
}

// electJoinedLeader keeps the leader if it rejoined, or picks a member that
// did; false if none did.
func (g *group) electJoinedLeader() bool {
	if l := g.members[g.leader]; l != nil && l.awaitingJoin() {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.awaitingJoin() {
			g.leader = m.id
			return true
		}
	}
	return false
}

// onSyncExpired drops members that did not SyncGroup within the rebalance
// timeout of their generation, and rebalances.
func (g *group) onSyncExpired(gen int32) {
	if gen != g.generation || !(g.is(stateCompletingRebalance) || g.is(stateStable)) || len(g.pendingSync) == 0 {
		return
	}
	var ids []string
	for id := range g.pendingSync {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	g.c.log.Info("removing members that did not sync", "group", g.name, "members", ids)
	for _, id := range ids {
		g.remove(id)
	}
	g.maybePrepareRebalance("members did not sync in time")
}

// resetAssignment clears assignments and answers waiting SyncGroups with err.
func (g *group) resetAssignment(err *kerr.Error) {
	for _, m := range g.members {
		m.assignment = nil
		g.answerSync(m, syncResult{err: err})
	}
}

// heartbeat moves a member's session deadline on and makes sure its timer
// runs.
func (g *group) heartbeat(m *member) {
	d := m.sessionTimeout
	if m.isNew {
		d = newMemberJoinTimeout
	}
	m.heartbeatDeadline = g.c.now().Add(d)
	if m.timer == nil {
		m.timer = time.AfterFunc(d, func() { g.onHeartbeatTimer(m) })
	} else {
		// Reset wakes it at the new deadline; a late extra wake-up only
		// re-checks.
		m.timer.Reset(d)
	}
}

// onHeartbeatTimer expires a member whose session ended. Members waiting in
// JoinGroup or SyncGroup satisfy the session (unless new), as in Kafka.
func (g *group) onHeartbeatTimer(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members[m.id] != m || g.is(stateDead) {
		return
	}
	if left := m.heartbeatDeadline.Sub(g.c.now()); left > 0 {
		m.timer.Reset(left)
		return
	}
	if !m.isNew && (m.awaitingJoin() || m.awaitingSync()) {
		return
	}
	g.c.log.Info("member session expired; removing it", "group", g.name, "member", m.id)
	g.removeMemberAndUpdate(m, "session timeout of "+m.id)
}

// removeMemberAndUpdate removes a member (failed, left or expired) and
// moves the group on: a rebalance, or the end of the join phase.
func (g *group) removeMemberAndUpdate(m *member, reason string) {
	g.answerJoin(m, joinResult{err: kerr.UnknownMemberID})
	g.remove(m.id)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		g.maybePrepareRebalance(reason)
	case statePreparingRebalance:
		g.tryCompleteJoin()
	}
}

// addPending records a member id handed out by MEMBER_ID_REQUIRED; it is
// forgotten after the session timeout unless the member joins with it.
func (g *group) addPending(id string, session time.Duration) {
	g.pending[id] = time.AfterFunc(session, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.pending[id]; ok {
			delete(g.pending, id)
			g.tryCompleteJoin()
		}
	})
}

func (g *group) removePending(id string) {
	if t, ok := g.pending[id]; ok {
		t.Stop()
		delete(g.pending, id)
	}
}

// validateMember is Kafka's validateCurrentMember: the instance id, if
// given, maps to memberID, and memberID is a member.
func (g *group) validateMember(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		if cur != memberID {
			return kerr.FencedInstanceID
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID
	}
	return nil
}

// subscribedTopics is the union of the members' subscriptions when the
// group uses the consumer protocol and every subscription parses; ok is
// false otherwise.
func (g *group) subscribedTopics() (map[string]bool, bool) {
	if g.protocolType == nil || *g.protocolType != "consumer" || g.protocolName == nil {
		return nil, false
	}
	out := map[string]bool{}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(*g.protocolName)); err != nil {
			return nil, false
		}
		for _, t := range md.Topics {
			out[t] = true
		}
	}
	return out, true
}

// storeGroup writes the group's metadata with the given assignment (member
// id -> bytes; nil for none) to the log, as Kafka's storeGroup does.
func (g *group) storeGroup(assignment map[string][]byte) error {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	if g.protocolType != nil {
		v.ProtocolType = *g.protocolType
	}
	v.Generation = g.generation
	v.Protocol = g.protocolName
	if g.leader != "" && len(g.members) > 0 {
		v.Leader = &g.leader
	}
	v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = m.instanceID
		vm.ClientID = m.clientID
		vm.ClientHost = m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		vm.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		if g.protocolName != nil {
			vm.Subscription = m.metadataFor(*g.protocolName)
		}
		vm.Assignment = assignment[m.id]
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return g.part.append([]rec{{key: groupKey(g.name), value: v.AppendTo(nil)}})
}

// storeError maps a log append failure to what Kafka answers group
// requests with.
func storeError(err error) *kerr.Error {
	if err == nil {
		return nil
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke
	}
	return kerr.CoordinatorNotAvailable
}
