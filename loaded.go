package access

// A snapshot is built from whatever a Store hands over, and a Store need
// not validate: a custom adapter, or a database edited by hand, can hold
// values no [Batch.Validate] would accept. Every enum a decision reads is
// therefore checked where it is read, failing closed:
//
//   - an associate whose Type is not one of the five defined ones fails the
//     gates ([GateMalformed]), so it gets nothing on any path (Can, Filter,
//     WhoCan, Permissions, Has, impersonation, group administration);
//   - a rights value (a role's cell, a sharing rule's or grant's Rights, a
//     group's default) with bits beyond C, R, U and D grants nothing at
//     all, rather than its defined bits: a value in some other encoding
//     says nothing trustworthy about any right;
//   - a role's cell for an undefined relation is ignored, as no relation
//     can ever hold for it;
//   - a limit whose Max is not an accumulative level, or whose Scope is
//     undefined, becomes a denial (LevelNone, LimitAll): a limit only
//     takes away, so one that cannot be read takes away everything.
//
// The values other than the associate type are mended once, as the data
// is loaded, by failClosed.

// failClosed turns the rights values in b that hold undefined bits into
// LevelNone, and drops role cells for undefined relations. It edits b in
// place: build and update own the values Store.Changes hands over.
func failClosed(b *Batch) {
	for i := range b.Roles {
		for _, g := range b.Roles[i].Rights {
			for rel, c := range g {
				switch {
				case !rel.Valid():
					delete(g, rel)
				case !c.Valid():
					g[rel] = LevelNone
				}
			}
		}
	}
	for i := range b.Groups {
		defs := b.Groups[i].Defaults
		for t, c := range defs {
			if !c.Valid() {
				defs[t] = LevelNone
			}
		}
	}
	for i := range b.SharingRules {
		if r := &b.SharingRules[i]; !r.Rights.Valid() {
			r.Rights = LevelNone
		}
	}
	for i := range b.Grants {
		if g := &b.Grants[i]; !g.Rights.Valid() {
			g.Rights = LevelNone
		}
	}
	// A limit only takes away: one that cannot be read takes away
	// everything it covers.
	for i := range b.Limits {
		if l := &b.Limits[i]; !l.Max.Valid() || !accumulative(l.Max) || !l.Scope.Valid() {
			l.Max, l.Scope = LevelNone, LimitAll
		}
	}
}
