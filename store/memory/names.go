package memory

import (
	"hash/maphash"

	"github.com/crmaccess/access"
)

// names finds associates by login name. Keyed by the folded name itself
// ([access.FoldName]) the index cost some 60 bytes an associate: a
// 24-byte slot for the string and the id, in a table a third empty, and
// the folded copy of the name. names keys instead by a hash of the folded
// name, 16 bytes a slot, and checks a hit against the name the store
// holds; a folded name whose hash another held name already has (rare
// for 64 bits) is kept by its string in clash.
type names struct {
	hash  func(string) uint64 // maphash with a seed of its own; tests make it weak
	ids   map[uint64]access.AssociateID
	clash map[string]access.AssociateID
}

func newNames() names {
	seed := maphash.MakeSeed()
	return names{hash: func(s string) uint64 { return maphash.String(seed, s) }, ids: map[uint64]access.AssociateID{}}
}

// len counts the names held.
func (n *names) len() int { return len(n.ids) + len(n.clash) }

// grow makes room for k more names at once, when the index is empty (a
// first load): sized once rather than grown twenty times.
func (n *names) grow(k int) {
	if n.len() == 0 && k > 0 {
		n.ids = make(map[uint64]access.AssociateID, k)
	}
}

// find returns the id of the associate whose name folds to fold; held
// returns a held associate's name.
func (n *names) find(fold string, held func(access.AssociateID) (string, bool)) (access.AssociateID, bool) {
	if id, ok := n.ids[n.hash(fold)]; ok && folds(id, fold, held) {
		return id, true
	}
	id, ok := n.clash[fold]
	return id, ok
}

// add records that the associate id, held with a name that folds to fold,
// has that name, replacing whichever associate had it.
func (n *names) add(fold string, id access.AssociateID, held func(access.AssociateID) (string, bool)) {
	h := n.hash(fold)
	if other, ok := n.ids[h]; ok && other != id && !folds(other, fold, held) {
		if _, ok := held(other); !ok {
			// Not held, so no longer named: a slot the store failed to
			// free, which the new name may take.
			n.ids[h] = id
			delete(n.clash, fold)
			return
		}
		if n.clash == nil {
			n.clash = map[string]access.AssociateID{}
		}
		n.clash[fold] = id
		return
	}
	delete(n.clash, fold)
	n.ids[h] = id
}

// remove forgets the name, folding to fold, of the associate id, unless
// another associate has it now.
func (n *names) remove(fold string, id access.AssociateID) {
	h := n.hash(fold)
	if n.ids[h] == id {
		delete(n.ids, h)
		return
	}
	if n.clash[fold] == id {
		delete(n.clash, fold)
	}
}

// folds reports whether the associate id is held with a name that folds
// to fold.
func folds(id access.AssociateID, fold string, held func(access.AssociateID) (string, bool)) bool {
	name, ok := held(id)
	return ok && access.FoldName(name) == fold
}
