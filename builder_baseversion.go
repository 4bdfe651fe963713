package affinity

// BaseVersion returns the version of the latest change of order key that
// the Builder's base History holds (the History given to [NewBuilder]):
// the highest of the versions of its orders with key and of its
// tombstone of key, see [Builder.Apply]; ok is false when the base holds
// neither, for the key "" (no order is looked up by it), or when there is
// no base. An order added without a version (Add, or PutOrder at 0) is
// held at version 0: a base without any version answers (0, true) for
// its keyed orders, not "not held". Changes staged in this Builder are
// not counted ([Builder.Staged] returns them), nor, once it has built,
// the base it had (Build resets the Builder). A loader that reads the
// current state of an order, such as a database poll, uses it to put
// that state at the base's version when its own is lower: at equal
// versions the later Build wins. The first call indexes the base's order
// keys (see [History.LookupOrder]); later ones take time linear in the
// base's orders with key.
func (b *Builder) BaseVersion(key string) (version int64, ok bool) {
	base := b.baseHistory()
	if base == nil || key == "" {
		return 0, false
	}
	return base.keyVersion(key)
}
