package access

import (
	"context"
	"fmt"
	"slices"
)

// CanManageMembers reports whether actor may add associates to group g or
// remove them from it: true for the group's admins (not the admins of
// groups it is included in, nor of its subgroups), for holders of the
// user-admin functional right ([FuncUserAdmin]) and for system users. An
// actor that fails a gate may not. An external associate may only when
// the group lists it among its admins by name: it holds no functional
// rights, so a role that lists user-admin does not let it. A smart group
// is an error wrapping [ErrSmartGroup]; an unknown group one wrapping
// [ErrNotFound].
func (e *Engine) CanManageMembers(ctx context.Context, actor AssociateID, g GroupID) (bool, error) {
	s, err := e.current()
	if err != nil {
		return false, err
	}
	_, gn := s.group(g)
	if gn == nil {
		return false, fmt.Errorf("access: CanManageMembers: group %d: %w", g, ErrNotFound)
	}
	if gn.group.IsSmart() {
		return false, fmt.Errorf("access: CanManageMembers: group %d: %w", g, ErrSmartGroup)
	}
	_, n := s.assoc(actor)
	if s.gate(n, e.now) != GateNone {
		return false, nil
	}
	if n.a.Type == System || slices.Contains(gn.group.Admins, actor) {
		return true, nil
	}
	return s.has(s.subjectOfNode(n), FuncUserAdmin), nil
}

// CanJoin reports whether the associate may add itself to group g, or
// remove itself from it: g must be a self-service group and the associate
// an internal one that passes the gates. A smart group is an error
// wrapping [ErrSmartGroup]; an unknown group or associate one wrapping
// [ErrNotFound].
func (e *Engine) CanJoin(ctx context.Context, who AssociateID, g GroupID) (bool, error) {
	s, err := e.current()
	if err != nil {
		return false, err
	}
	_, gn := s.group(g)
	if gn == nil {
		return false, fmt.Errorf("access: CanJoin: group %d: %w", g, ErrNotFound)
	}
	if gn.group.IsSmart() {
		return false, fmt.Errorf("access: CanJoin: group %d: %w", g, ErrSmartGroup)
	}
	_, n := s.assoc(who)
	if n == nil {
		return false, fmt.Errorf("access: CanJoin: associate %d: %w", who, ErrNotFound)
	}
	return gn.group.SelfService && n.a.Type == Internal && s.gate(n, e.now) == GateNone, nil
}
