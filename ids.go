package affinity

// CustomerID is the dense id of a customer in a [History]: 0 ≤ id <
// [History.NumCustomers]. It converts to a roaring bitmap value with uint32(id).
type CustomerID uint32

// ProductID is the dense id of a product in a [Catalog]: 0 ≤ id <
// [Catalog.NumProducts].
type ProductID uint32

// CategoryID is the dense id of a category node in a [Catalog]: 0 ≤ id <
// [Catalog.NumCategories]. Every level of a category path has its own id.
type CategoryID uint32

// OrderID is the dense id of an order in a [History]: 0 ≤ id <
// [History.NumOrders]. Orders are numbered in the History's sort order
// (customer, then time), so a customer's orders form one range.
type OrderID uint32

// NoCategory is the parent of a top-level category.
const NoCategory = CategoryID(1<<32 - 1)

// keyTable interns shop string ids to dense uint32 ids in first-seen order.
// The zero value is empty and ready to use.
type keyTable struct {
	ids  map[string]uint32
	keys []string
}

func (t *keyTable) intern(k string) uint32 {
	if id, ok := t.ids[k]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	id := uint32(len(t.keys))
	t.ids[k] = id
	t.keys = append(t.keys, k)
	return id
}

func (t *keyTable) lookup(k string) (uint32, bool) {
	id, ok := t.ids[k]
	return id, ok
}

func (t *keyTable) len() int { return len(t.keys) }

// clone returns a table that shares nothing mutable with t.
func (t *keyTable) clone() keyTable {
	c := keyTable{ids: make(map[string]uint32, len(t.keys)), keys: make([]string, len(t.keys), len(t.keys)+len(t.keys)/4+8)}
	copy(c.keys, t.keys)
	for i, k := range c.keys {
		c.ids[k] = uint32(i)
	}
	return c
}
