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

// OrderID is the id of an order in a [History]: 0 ≤ id <
// [History.NumOrderIDs]. A customer's orders form one range of ids, in
// time order ([History.CustomerOrders]), and so do the anonymous ones. A
// History built from scratch numbers its orders densely in its sort order
// (customer, then time). One built on a base ([NewBuilder]) keeps the
// base's ids for the customers nothing changed and gives a changed
// customer's orders new ids after the base's, so that a refresh writes
// only what changed; the old ids then name no order (no customer's or
// anonymous range holds them, and [History.OrderCustomer] gives
// [NoCustomer], while the other Order methods still read the dropped
// order's data) until a later build compacts them away (each build does once they hold a quarter of the
// lines). Visit every order with [History.Orders], never by counting up
// to NumOrders.
type OrderID uint32

// NoCategory is the parent of a top-level category.
const NoCategory = CategoryID(1<<32 - 1)
