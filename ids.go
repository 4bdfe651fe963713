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
