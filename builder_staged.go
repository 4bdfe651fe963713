package affinity

import "slices"

// Staged returns the change staged for order key in this Builder by
// [Builder.Apply] (or PutOrder, DeleteOrder), and whether there is one:
// the change that wins among those staged for key (see Apply), its
// Lines a copy the caller owns, their Order fields set to key. A put
// without lines is returned as a delete. Lines added with [Builder.Add]
// and the base History's orders are no staged change. With
// [Builder.Unstage] it lets a loader take back a change it staged
// itself: it reads the change staged before its own, and stages that
// one again once it has unstaged its own. It takes time linear in the
// number of the change's lines.
func (b *Builder) Staged(key string) (OrderChange, bool) {
	if b.changes == nil {
		return OrderChange{}, false
	}
	o, ok := b.changes.byKey[key]
	if !ok {
		return OrderChange{}, false
	}
	return OrderChange{Key: key, Version: o.version, Delete: o.del, Lines: slices.Clone(o.lines)}, true
}

// Unstage drops the change staged for order key in this Builder (see
// [Builder.Staged]), as if no change of key had been staged: at Build,
// key's orders are those of the base History and the lines added with
// [Builder.Add], and [Builder.Gross], [Builder.CheckApply] and
// [Builder.HoldsOrder] answer as before the change. Changes that lost
// to the dropped one are not brought back (stage them again), nor is an
// erasure ([Builder.EraseCustomer]) undone. Unstaging a key with no
// staged change does nothing. It takes constant time.
func (b *Builder) Unstage(key string) {
	ch := b.changes
	if ch == nil {
		return
	}
	o, ok := ch.byKey[key]
	if !ok {
		return
	}
	ch.replace(o, &stagedOrder{})
	delete(ch.byKey, key)
}
