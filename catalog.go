package affinity

import (
	"slices"
	"strings"
)

// CategorySep separates the levels of a category path.
const CategorySep = "/"

// Product describes one product of the shop's catalog.
type Product struct {
	// Key is the shop's product id (SKU); required.
	Key string `json:"key"`
	// Name is the display name; may be empty.
	Name string `json:"name"`
	// Categories are the category paths the product belongs to, such as
	// "Apparel/Sportswear/Running"; up to [MaxCategoryDepth] levels, any
	// number of paths
	// (collections, genres). Paths are cleaned with [CleanCategoryPath];
	// empty ones are ignored.
	Categories []string `json:"categories"`
	// Price is the current list price; zero when unknown.
	Price Money `json:"price"`
	// InStock is the initial stock flag. Its zero value, false, is out of
	// stock, and engines recommend no product out of stock: a Product
	// built in Go for a catalog sets it (the file loaders set it to true
	// unless a stock column says otherwise, and products known only from
	// purchases or events count as in stock). Engines that serve live
	// traffic keep their own atomically swapped stock set.
	InStock bool `json:"in_stock"`
}

// CategoryShare is the weight with which a product counts toward one
// category node: 1/n for each of its n category paths, and for an ancestor
// the sum over the paths below it (at most 1).
type CategoryShare struct {
	Category CategoryID
	Weight   float32
}

// CleanCategoryPath normalises a category path: levels are split at "/",
// trimmed of surrounding white space, and empty levels dropped, so
// " Apparel / Sportswear/ " becomes "Apparel/Sportswear". Case is kept.
// A path that is clean already is returned as it is; it takes time
// linear in len(path) and allocates at most the cleaned path.
func CleanCategoryPath(path string) string {
	if isCleanPath(path) {
		return path
	}
	var b strings.Builder
	for rest := path; rest != ""; {
		level, tail, _ := strings.Cut(rest, CategorySep)
		rest = tail
		if level = strings.TrimSpace(level); level == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(CategorySep)
		}
		b.WriteString(level)
	}
	return b.String()
}

// isCleanPath reports whether CleanCategoryPath leaves path as it is:
// empty, or non-empty levels without surrounding white space.
func isCleanPath(path string) bool {
	if path == "" {
		return true
	}
	for {
		level, rest, more := strings.Cut(path, CategorySep)
		if level == "" || strings.TrimSpace(level) != level {
			return false
		}
		if !more {
			return true
		}
		path = rest
	}
}

// Catalog holds the products and the category tree of a [History]: every
// product that was added with [Builder.AddProduct] or appears in a purchase
// or event. It is immutable and safe for concurrent readers; slices it
// returns are owned by the Catalog and must not be modified.
type Catalog struct {
	products keyTable
	name     []string
	price    []Money
	inStock  []bool
	// entry[p]: p has a catalog entry (added with Builder.AddProduct),
	// kept apart from its fields, which may all be zero values
	entry    []bool
	leafOff  []uint32 // per product, into leaf; len NumProducts+1
	leaf     []CategoryID
	shareOff []uint32 // per product, into share; len NumProducts+1
	share    []CategoryShare

	cats     keyTable // full paths
	parent   []CategoryID
	depth    []uint32
	childOff []uint32 // len NumCategories+1
	child    []CategoryID
	roots    []CategoryID
	sharedNm []bool // per category: another category has the same last level
}

// NumProducts returns the number of products.
func (c *Catalog) NumProducts() int { return c.products.len() }

// LookupProduct returns the dense id of the shop product id key.
func (c *Catalog) LookupProduct(key string) (ProductID, bool) {
	id, ok := c.products.lookup(key)
	return ProductID(id), ok
}

// ProductKey returns the shop id of p. It panics if p is out of range.
func (c *Catalog) ProductKey(p ProductID) string { return c.products.keys[p] }

// ProductName returns the display name of p ("" when unknown).
func (c *Catalog) ProductName(p ProductID) string { return c.name[p] }

// ProductPrice returns the list price of p (0 when unknown).
func (c *Catalog) ProductPrice(p ProductID) Money { return c.price[p] }

// InStock returns the initial stock flag of p. Products known only from
// purchases or events count as in stock.
func (c *Catalog) InStock(p ProductID) bool { return c.inStock[p] }

// Product returns the description of p, with freshly allocated Categories.
// For a product known only from purchases or events it is {Key, InStock:
// true}; [Builder.AddProduct] of it gives the product a catalog entry
// (see [Builder.HasProduct]), so a catalog copied that way has an entry
// for every product, unlike one started with [NewCatalogBuilder].
func (c *Catalog) Product(p ProductID) Product {
	leaves := c.Categories(p)
	paths := make([]string, len(leaves))
	for i, l := range leaves {
		paths[i] = c.CategoryPath(l)
	}
	return Product{Key: c.ProductKey(p), Name: c.name[p], Categories: paths, Price: c.price[p], InStock: c.inStock[p]}
}

// Categories returns the category nodes p was assigned to (the deepest level
// of each of its paths), in the order the paths were given. Empty for a
// product without categories.
func (c *Catalog) Categories(p ProductID) []CategoryID {
	return c.leaf[c.leafOff[p]:c.leafOff[p+1]:c.leafOff[p+1]]
}

// Shares returns every category node p counts toward, at every level, with
// its weight (see [CategoryShare]), sorted by category id.
func (c *Catalog) Shares(p ProductID) []CategoryShare {
	return c.share[c.shareOff[p]:c.shareOff[p+1]:c.shareOff[p+1]]
}

// NumCategories returns the number of category nodes (all levels).
func (c *Catalog) NumCategories() int { return c.cats.len() }

// LookupCategory returns the id of a category path at any level; the path is
// cleaned with [CleanCategoryPath] first.
func (c *Catalog) LookupCategory(path string) (CategoryID, bool) {
	id, ok := c.cats.lookup(path)
	if !ok {
		id, ok = c.cats.lookup(CleanCategoryPath(path))
	}
	return CategoryID(id), ok
}

// CategoryPath returns the full path of cat, e.g. "Apparel/Sportswear".
func (c *Catalog) CategoryPath(cat CategoryID) string { return c.cats.keys[cat] }

// CategoryName returns the last level of cat's path, e.g. "Sportswear".
func (c *Catalog) CategoryName(cat CategoryID) string { return CategoryLeaf(c.cats.keys[cat]) }

// ShortName returns cat as a reader tells it apart: its last level
// ([Catalog.CategoryName]) when no other category has the same one, else
// its full path ("Home/Outdoor" where "Apparel/Outdoor" exists too).
func (c *Catalog) ShortName(cat CategoryID) string {
	if c.sharedNm[cat] {
		return c.cats.keys[cat]
	}
	return c.CategoryName(cat)
}

// CategoryLeaf returns the last level of a category path: "Sportswear"
// for "Apparel/Sportswear".
func CategoryLeaf(path string) string { return path[strings.LastIndex(path, CategorySep)+1:] }

// Parent returns the parent of cat, or [NoCategory] for a top-level node.
func (c *Catalog) Parent(cat CategoryID) CategoryID { return c.parent[cat] }

// Depth returns the level of cat: 1 for a top-level node.
func (c *Catalog) Depth(cat CategoryID) int { return int(c.depth[cat]) }

// Ancestor returns the node on cat's path at the given depth (1 = top
// level), or cat itself when depth ≥ Depth(cat). depth < 1 is treated as 1.
func (c *Catalog) Ancestor(cat CategoryID, depth int) CategoryID {
	for int(c.depth[cat]) > max(depth, 1) {
		cat = c.parent[cat]
	}
	return cat
}

// Children returns the direct children of cat in id order.
func (c *Catalog) Children(cat CategoryID) []CategoryID {
	return c.child[c.childOff[cat]:c.childOff[cat+1]:c.childOff[cat+1]]
}

// Roots returns the top-level categories in id order.
func (c *Catalog) Roots() []CategoryID { return c.roots[:len(c.roots):len(c.roots)] }

// catalogBuilder accumulates catalog data; it becomes a Catalog in finish.
type catalogBuilder struct {
	// base is the catalog the builder started from and has not changed
	// yet: the fields below are filled from it on the first change, and
	// finish returns it as it is when none came
	base     *Catalog
	products keyTable
	name     []string
	price    []Money
	inStock  []bool
	leaves   [][]CategoryID
	// described[p]: p has a catalog entry (AddProduct, here or in the
	// catalog the builder started from); Catalog.entry once finished
	described []bool
	cats      keyTable
	parent    []CategoryID
	depth     []uint32
}

func (cb *catalogBuilder) product(key string) ProductID {
	if cb.base != nil {
		if id, ok := cb.base.products.lookup(key); ok {
			return ProductID(id)
		}
		cb.own()
	}
	id := cb.products.intern(key)
	if int(id) == len(cb.name) {
		cb.name = append(cb.name, "")
		cb.price = append(cb.price, 0)
		cb.inStock = append(cb.inStock, true)
		cb.leaves = append(cb.leaves, nil)
		cb.described = append(cb.described, false)
	}
	return ProductID(id)
}

// category interns a cleaned, non-empty path and all its prefixes.
func (cb *catalogBuilder) category(path string) CategoryID {
	if cb.base != nil {
		if id, ok := cb.base.cats.lookup(path); ok {
			return CategoryID(id)
		}
		cb.own()
	}
	if id, ok := cb.cats.lookup(path); ok {
		return CategoryID(id)
	}
	parent, depth := NoCategory, uint32(1)
	if i := strings.LastIndex(path, CategorySep); i >= 0 {
		parent = cb.category(path[:i])
		depth = cb.depth[parent] + 1
	}
	id := CategoryID(cb.cats.intern(path))
	cb.parent = append(cb.parent, parent)
	cb.depth = append(cb.depth, depth)
	return id
}

func (cb *catalogBuilder) set(p Product) {
	cb.own()
	id := cb.product(p.Key)
	cb.name[id] = p.Name
	cb.price[id] = p.Price
	cb.inStock[id] = p.InStock
	cb.described[id] = true
	var leaves []CategoryID
	for _, path := range p.Categories {
		if path = CleanCategoryPath(path); path == "" {
			continue
		}
		cat := cb.category(path)
		if !slices.Contains(leaves, cat) {
			leaves = append(leaves, cat)
		}
	}
	cb.leaves[id] = leaves
}

// from starts the builder on c, which it shares until the first change.
func (cb *catalogBuilder) from(c *Catalog) {
	*cb = catalogBuilder{base: c}
}

// isDescribed reports whether product id has a catalog entry.
func (cb *catalogBuilder) isDescribed(id uint32) bool {
	if c := cb.base; c != nil {
		return c.described(ProductID(id))
	}
	return cb.described[id]
}

// holds reports whether setting p (checked) would leave c as it is: its
// key is a product with a catalog entry, p's name, price and stock flag,
// in the categories p names, in that order.
func (c *Catalog) holds(p Product) bool {
	id, ok := c.LookupProduct(p.Key)
	if !ok || !c.entry[id] || c.name[id] != p.Name || c.price[id] != p.Price || c.inStock[id] != p.InStock {
		return false
	}
	have := c.Categories(id)
	n := 0
	for _, path := range p.Categories {
		if path = CleanCategoryPath(path); path == "" {
			continue
		}
		cat, ok := c.LookupCategory(path)
		if !ok {
			return false
		}
		if slices.Contains(have[:n], cat) {
			continue
		}
		if n == len(have) || have[n] != cat {
			return false
		}
		n++
	}
	return n == len(have)
}

// described reports whether p has a catalog entry: whether it was added
// with [Builder.AddProduct], whatever the entry holds, rather than known
// only from purchases or events.
func (c *Catalog) described(p ProductID) bool { return c.entry[p] }

// lookup returns the id of the product key.
func (cb *catalogBuilder) lookup(key string) (uint32, bool) {
	if cb.base != nil {
		return cb.base.products.lookup(key)
	}
	return cb.products.lookup(key)
}

// own fills the builder from the catalog it shares, before a change.
func (cb *catalogBuilder) own() {
	c := cb.base
	if c == nil {
		return
	}
	cb.base = nil
	cb.products = c.products.clone()
	n := c.NumProducts()
	cb.name = slices.Clone(c.name)
	cb.price = slices.Clone(c.price)
	cb.inStock = slices.Clone(c.inStock)
	cb.described = slices.Clone(c.entry)
	cb.leaves = make([][]CategoryID, n)
	for p := range n {
		cb.leaves[p] = slices.Clone(c.Categories(ProductID(p)))
	}
	cb.cats = c.cats.clone()
	cb.parent = slices.Clone(c.parent)
	cb.depth = slices.Clone(c.depth)
}

func (cb *catalogBuilder) finish() *Catalog {
	if cb.base != nil {
		return cb.base // unchanged, and immutable
	}
	c := &Catalog{
		products: cb.products,
		name:     cb.name,
		price:    cb.price,
		inStock:  cb.inStock,
		entry:    cb.described,
		cats:     cb.cats,
		parent:   cb.parent,
		depth:    cb.depth,
	}
	n := len(cb.name)
	c.leafOff = make([]uint32, n+1)
	c.shareOff = make([]uint32, n+1)
	weights := map[CategoryID]float32{}
	var ids []CategoryID
	for p, leaves := range cb.leaves {
		c.leaf = append(c.leaf, leaves...)
		c.leafOff[p+1] = uint32(len(c.leaf))
		if len(leaves) > 0 {
			clear(weights)
			ids = ids[:0]
			w := 1 / float32(len(leaves))
			for _, l := range leaves {
				for cat := l; cat != NoCategory; cat = c.parent[cat] {
					if _, ok := weights[cat]; !ok {
						ids = append(ids, cat)
					}
					weights[cat] = min(weights[cat]+w, 1)
				}
			}
			slices.Sort(ids)
			for _, cat := range ids {
				c.share = append(c.share, CategoryShare{Category: cat, Weight: weights[cat]})
			}
		}
		c.shareOff[p+1] = uint32(len(c.share))
	}
	nc := len(cb.parent)
	counts := make([]uint32, nc+1)
	for cat, par := range c.parent {
		if par == NoCategory {
			c.roots = append(c.roots, CategoryID(cat))
		} else {
			counts[par+1]++
		}
	}
	for i := 1; i <= nc; i++ {
		counts[i] += counts[i-1]
	}
	c.childOff = slices.Clone(counts)
	c.child = make([]CategoryID, counts[nc])
	for cat, par := range c.parent {
		if par != NoCategory {
			c.child[counts[par]] = CategoryID(cat)
			counts[par]++
		}
	}
	first := make(map[string]int, nc) // last level → first category with it
	c.sharedNm = make([]bool, nc)
	for cat := range nc {
		leaf := c.CategoryName(CategoryID(cat))
		if f, ok := first[leaf]; ok {
			c.sharedNm[f], c.sharedNm[cat] = true, true
		} else {
			first[leaf] = cat
		}
	}
	return c
}
