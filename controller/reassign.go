package controller

// Partition reassignment (KIP-455, ZooKeeper mode), as Kafka's
// onPartitionReassignment:
//
//	ORS original replicas, TRS target replicas, RS = TRS ∪ ORS,
//	AR = TRS - ORS (adding), RR = ORS - TRS (removing)
//
//	start   write the assignment: replicas RS, adding AR, removing RR;
//	        leader epoch + 1 and LeaderAndIsr to RS, so the leader tracks
//	        the new replicas and they begin to fetch
//	wait    until every member of TRS is in the ISR (the leader adds them
//	        with AlterPartition as they catch up)
//	finish  leader from TRS (the current one if it stays, else the first
//	        live in-sync member of TRS), ISR ∩ TRS, leader epoch + 1;
//	        assignment TRS with no adding/removing; LeaderAndIsr to TRS,
//	        StopReplica with deletion to RR, UpdateMetadata to all
//
// A reassignment survives a controller failover: adding and removing are in
// the topic's znode, and the new controller resumes from them. Requests come
// from AlterPartitionReassignments or from /admin/reassign_partitions (the
// znode is deleted once all its partitions have moved).

import (
	"context"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

type evReassignZnode struct{}

func without(s, drop []int32) []int32 {
	return slices.DeleteFunc(slices.Clone(s), func(x int32) bool { return contains(drop, x) })
}

func union(a, b []int32) []int32 {
	out := slices.Clone(a)
	for _, x := range b {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// reassigning reports whether a partition is being reassigned.
func (pc *partCtx) reassigning() bool { return len(pc.adding) > 0 || len(pc.removing) > 0 }

// original and target are ORS and TRS of a partition being reassigned.
func (pc *partCtx) original() []int32 { return without(pc.replicas, pc.adding) }
func (pc *partCtx) target() []int32   { return without(pc.replicas, pc.removing) }

// setAssignment makes a partition's replicas these, in the store first: if
// the write fails the controller keeps what the store holds.
func (c *Controller) setAssignment(ctx context.Context, k tpKey, replicas, adding, removing []int32) error {
	pc := c.s.part(k)
	old := *pc
	pc.replicas, pc.adding, pc.removing = replicas, adding, removing
	if err := c.writeAssignment(ctx, k.topic); err != nil {
		pc.replicas, pc.adding, pc.removing = old.replicas, old.adding, old.removing
		return err
	}
	return nil
}

// writeAssignment writes a topic's assignment as the controller holds it.
func (c *Controller) writeAssignment(ctx context.Context, topic string) error {
	tc := c.s.topics[topic]
	a := zkdata.TopicAssignment{Topic: topic, TopicID: tc.id, Partitions: map[int32]zkdata.PartitionAssignment{}}
	for p, pc := range tc.parts {
		pa := zkdata.PartitionAssignment{Replicas: pc.replicas}
		if len(pc.adding) > 0 {
			pa.AddingReplicas = pc.adding
		}
		if len(pc.removing) > 0 {
			pa.RemovingReplicas = pc.removing
		}
		a.Partitions[p] = pa
	}
	return c.zk.SetTopicAssignment(ctx, c.token, a)
}

// reassign starts (or, with target nil, cancels) a partition's
// reassignment. The error carries Kafka's code.
func (c *Controller) reassign(ctx context.Context, k tpKey, target []int32) error {
	pc := c.s.part(k)
	if pc == nil || pc.state == nil || c.s.deleting[k.topic] {
		return apierr.Errorf(kerr.UnknownTopicOrPartition, "no partition %s-%d", k.topic, k.part)
	}
	ors := pc.original()
	if target == nil {
		if !pc.reassigning() {
			return apierr.Errorf(kerr.NoReassignmentInProgress, "no reassignment of %s-%d is in progress", k.topic, k.part)
		}
		// A cancel goes back to the original replicas, live or not (as
		// Kafka, only a new target is checked).
		target = ors
	} else if err := c.checkTarget(k, target); err != nil {
		return err
	}
	if slices.Equal(target, pc.target()) && (pc.reassigning() || slices.Equal(target, pc.replicas)) {
		return nil // already there or going there
	}
	replicas := union(target, ors)
	// Replicas a cancelled or replaced reassignment was adding leave the
	// ISR and are stopped (Kafka's step U3); the leader may not be one.
	unneeded := without(pc.replicas, replicas)
	next := *pc.state
	next.LeaderEpoch++
	if len(unneeded) > 0 {
		next.ISR = without(next.ISR, unneeded)
		if len(next.ISR) == 0 {
			return apierr.Errorf(kerr.InvalidReplicaAssignment, "%s-%d: its only in-sync replicas %v would leave", k.topic, k.part, pc.state.ISR)
		}
		if contains(unneeded, next.Leader) {
			next.Leader = zkdata.NoLeader
			for _, r := range replicas {
				if c.s.alive(r) && !c.s.shuttingDown[r] && contains(next.ISR, r) {
					next.Leader = r
					break
				}
			}
			if next.Leader < 0 {
				return apierr.Errorf(kerr.InvalidReplicaAssignment, "%s-%d: its leader %d would leave and no other replica is in sync", k.topic, k.part, pc.state.Leader)
			}
		}
	}
	if err := c.setAssignment(ctx, k, replicas, without(target, ors), without(ors, target)); err != nil {
		return err
	}
	c.log.Info("reassigning partition", "topic", k.topic, "partition", k.part, "from", ors, "to", target, "stopped", unneeded)
	// New replicas learn the partition, the leader learns its followers.
	if err := c.writeStates(ctx, map[tpKey]zkdata.LeaderAndISR{k: next}); err != nil {
		return err
	}
	c.sendLeaderAndIsr([]tpKey{k}, c.s.liveIDs(), false)
	for _, r := range unneeded {
		c.sendStopReplica(r, k.topic, []int32{k.part}, true)
	}
	c.sendUpdateMetadata(c.s.liveIDs(), []tpKey{k})
	return c.checkReassignment(ctx, k)
}

// checkTarget checks a new target replica set: not empty, no broker twice,
// every broker live.
func (c *Controller) checkTarget(k tpKey, target []int32) error {
	if len(target) == 0 {
		return apierr.Errorf(kerr.InvalidReplicaAssignment, "empty replica set for %s-%d", k.topic, k.part)
	}
	s := slices.Clone(target)
	slices.Sort(s)
	if len(slices.Compact(s)) != len(target) {
		return apierr.Errorf(kerr.InvalidReplicaAssignment, "duplicate replicas in %v", target)
	}
	for _, r := range target {
		if !c.s.alive(r) {
			return apierr.Errorf(kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: %d.", r)
		}
	}
	return nil
}

// checkReassignment finishes a reassignment whose target replicas are all
// in sync.
func (c *Controller) checkReassignment(ctx context.Context, k tpKey) error {
	pc := c.s.part(k)
	if pc == nil || pc.state == nil || !pc.reassigning() {
		return nil
	}
	target := pc.target()
	st := *pc.state
	for _, r := range target {
		if !contains(st.ISR, r) {
			return nil // still catching up
		}
	}
	removed := slices.Clone(pc.removing)
	next := st
	if !contains(target, st.Leader) || !c.s.alive(st.Leader) || c.s.shuttingDown[st.Leader] {
		next.Leader = -1
		for _, r := range target {
			if c.s.alive(r) && !c.s.shuttingDown[r] && contains(st.ISR, r) {
				next.Leader = r
				break
			}
		}
		if next.Leader < 0 {
			return nil // wait for a target replica to come back
		}
	}
	next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return !contains(target, r) })
	next.LeaderEpoch++
	if err := c.writeStates(ctx, map[tpKey]zkdata.LeaderAndISR{k: next}); err != nil {
		return err
	}
	if pc.state.LeaderEpoch != next.LeaderEpoch {
		return nil // the write lost a race: decide again on the next event
	}
	if err := c.setAssignment(ctx, k, target, nil, nil); err != nil {
		return err
	}
	c.log.Info("partition reassigned", "topic", k.topic, "partition", k.part, "replicas", target, "leader", next.Leader)
	live := c.s.liveIDs()
	c.sendLeaderAndIsr([]tpKey{k}, live, false)
	for _, r := range removed {
		c.sendStopReplica(r, k.topic, []int32{k.part}, true)
	}
	c.sendUpdateMetadata(live, []tpKey{k})
	return c.finishZnodeReassignment(ctx, k)
}

// finishZnodeReassignment drops a finished partition from
// /admin/reassign_partitions, deleting the znode with its last partition.
func (c *Controller) finishZnodeReassignment(ctx context.Context, k tpKey) error {
	if !c.znodeReassign[k] {
		return nil
	}
	delete(c.znodeReassign, k)
	r, err := c.zk.PartitionReassignment(ctx)
	if err != nil {
		return err
	}
	delete(r, k.zk())
	if len(r) == 0 {
		return c.zk.DeletePartitionReassignment(ctx, c.token)
	}
	return c.zk.SetPartitionReassignment(ctx, c.token, r)
}

// resumeReassignments continues the reassignments a previous controller
// started (adding/removing in the topics' znodes).
func (c *Controller) resumeReassignments(ctx context.Context) error {
	for _, k := range c.s.allPartitions() {
		if pc := c.s.part(k); pc.reassigning() {
			if err := c.checkReassignment(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// onReassignZnode starts the reassignments /admin/reassign_partitions
// asks for (kafka-reassign-partitions through ZooKeeper).
func (c *Controller) onReassignZnode() error {
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.zk.PartitionReassignment(ctx)
	if err != nil {
		if errors.Is(err, kafkazk.ErrCorrupt) {
			c.log.Error("ignoring an unreadable /admin/reassign_partitions", "err", err)
			return c.zk.DeletePartitionReassignment(ctx, c.token)
		}
		return err
	}
	for tp, target := range r {
		k := keyOf(tp)
		c.znodeReassign[k] = true
		if err := c.reassign(ctx, k, target); err != nil {
			if errors.Is(err, kafkazk.ErrControllerMoved) {
				return err
			}
			c.log.Warn("reassignment refused", "topic", tp.Topic, "partition", tp.Partition, "err", err)
			if err := c.finishZnodeReassignment(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// AlterPartitionReassignments starts or cancels reassignments (KIP-455).
func (c *Controller) AlterPartitionReassignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) (resp *kmsg.AlterPartitionAssignmentsResponse, err error) {
	resp = kmsg.NewPtrAlterPartitionAssignmentsResponse()
	cerr := c.call(ctx, &err, func() {
		if !c.active {
			resp.ErrorCode = kerr.NotController.Code
			return
		}
		wctx, cancel := c.ctx()
		defer cancel()
		for _, rt := range req.Topics {
			ot := kmsg.NewAlterPartitionAssignmentsResponseTopic()
			ot.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				op := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
				op.Partition = rp.Partition
				rerr := c.reassign(wctx, tpKey{rt.Topic, rp.Partition}, rp.Replicas)
				if errors.Is(rerr, kafkazk.ErrControllerMoved) {
					err = rerr
					return
				}
				if rerr != nil {
					op.ErrorCode, op.ErrorMessage = apierr.Code(rerr), apierr.Message(rerr)
				}
				ot.Partitions = append(ot.Partitions, op)
			}
			resp.Topics = append(resp.Topics, ot)
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	return resp, err
}

// ListPartitionReassignments lists the reassignments in progress, of the
// topics named or of all.
func (c *Controller) ListPartitionReassignments(ctx context.Context, req *kmsg.ListPartitionReassignmentsRequest) (*kmsg.ListPartitionReassignmentsResponse, error) {
	resp := kmsg.NewPtrListPartitionReassignmentsResponse()
	var err error // reads only: nothing to report
	cerr := c.call(ctx, &err, func() {
		if !c.active {
			resp.ErrorCode = kerr.NotController.Code
			return
		}
		want := func(k tpKey) bool { return req.Topics == nil }
		if req.Topics != nil {
			asked := map[tpKey]bool{}
			for _, t := range req.Topics {
				for _, p := range t.Partitions {
					asked[tpKey{t.Topic, p}] = true
				}
			}
			want = func(k tpKey) bool { return asked[k] }
		}
		byTopic := map[string]int{}
		for _, k := range c.s.allPartitions() {
			pc := c.s.part(k)
			if !pc.reassigning() || !want(k) {
				continue
			}
			i, ok := byTopic[k.topic]
			if !ok {
				t := kmsg.NewListPartitionReassignmentsResponseTopic()
				t.Topic = k.topic
				resp.Topics = append(resp.Topics, t)
				i = len(resp.Topics) - 1
				byTopic[k.topic] = i
			}
			p := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			p.Partition, p.Replicas, p.AddingReplicas, p.RemovingReplicas = k.part, pc.replicas, pc.adding, pc.removing
			if p.AddingReplicas == nil {
				p.AddingReplicas = []int32{}
			}
			if p.RemovingReplicas == nil {
				p.RemovingReplicas = []int32{}
			}
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	return resp, nil
}
