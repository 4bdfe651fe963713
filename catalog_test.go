package affinity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func buildCatalog(t *testing.T, ps ...affinity.Product) *affinity.Catalog {
	t.Helper()
	var b affinity.Builder
	for _, p := range ps {
		require.NoError(t, b.AddProduct(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h.Catalog()
}

func category(t *testing.T, c *affinity.Catalog, path string) affinity.CategoryID {
	t.Helper()
	id, ok := c.LookupCategory(path)
	require.True(t, ok, path)
	return id
}

func TestCleanCategoryPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"/", ""},
		{" / / ", ""},
		{"Apparel", "Apparel"},
		{"Apparel/Sportswear", "Apparel/Sportswear"},
		{" Apparel / Sportswear/ ", "Apparel/Sportswear"},
		{"/Apparel//Sportswear///Running/", "Apparel/Sportswear/Running"},
		{"\tHome &  Garden \n/ Tools", "Home &  Garden/Tools"},
		{"Ünïcode/\u00a0Ö\u00a0", "Ünïcode/Ö"},
		{"Case/KEEPS", "Case/KEEPS"},
	}
	for _, tt := range tests {
		got := affinity.CleanCategoryPath(tt.in)
		assert.Equal(t, tt.want, got, "CleanCategoryPath(%q)", tt.in)
		assert.Equal(t, got, affinity.CleanCategoryPath(got), "not idempotent on %q", tt.in)
	}
}

func TestCategoryTree(t *testing.T) {
	c := buildCatalog(t,
		affinity.Product{Key: "shoe", Categories: []string{"Apparel/Sportswear/Running", "Sale"}},
		affinity.Product{Key: "shirt", Categories: []string{" Apparel / Shirts "}},
		affinity.Product{Key: "pan", Categories: []string{"Home/Kitchen/Pans", "", "/"}},
	)
	paths := []string{
		"Apparel", "Apparel/Sportswear", "Apparel/Sportswear/Running", "Sale",
		"Apparel/Shirts", "Home", "Home/Kitchen", "Home/Kitchen/Pans",
	}
	set := map[string]bool{}
	for _, p := range paths {
		set[p] = true
	}
	checkCategoryTree(t, c, set)

	apparel, sport, running := category(t, c, "Apparel"), category(t, c, "Apparel/Sportswear"), category(t, c, "Apparel/Sportswear/Running")
	shirts, home, sale := category(t, c, "Apparel/Shirts"), category(t, c, "Home"), category(t, c, "Sale")
	assert.Equal(t, affinity.NoCategory, c.Parent(apparel))
	assert.Equal(t, sport, c.Parent(running))
	assert.Equal(t, 3, c.Depth(running))
	assert.Equal(t, "Running", c.CategoryName(running))
	assert.Equal(t, "Apparel", c.CategoryName(apparel))
	assert.Equal(t, "Running", affinity.CategoryLeaf("Apparel/Running"))
	assert.Equal(t, "Apparel", affinity.CategoryLeaf("Apparel"))
	assert.Equal(t, apparel, c.Ancestor(running, 1))
	assert.Equal(t, sport, c.Ancestor(running, 2))
	assert.Equal(t, running, c.Ancestor(running, 3))
	assert.Equal(t, running, c.Ancestor(running, 9))
	assert.Equal(t, apparel, c.Ancestor(running, 0), "depth < 1 means 1")
	assert.ElementsMatch(t, []affinity.CategoryID{sport, shirts}, c.Children(apparel))
	assert.Empty(t, c.Children(running))
	assert.ElementsMatch(t, []affinity.CategoryID{apparel, home, sale}, c.Roots())

	shoe, _ := c.LookupProduct("shoe")
	assert.Equal(t, []affinity.CategoryID{running, sale}, c.Categories(shoe), "leaves in the order given")
	pan, _ := c.LookupProduct("pan")
	assert.Equal(t, []affinity.CategoryID{category(t, c, "Home/Kitchen/Pans")}, c.Categories(pan), "empty paths ignored")
	assert.Equal(t, []string{"Home/Kitchen/Pans"}, c.Product(pan).Categories)
}

func TestLookupCategoryUnclean(t *testing.T) {
	c := buildCatalog(t, affinity.Product{Key: "x", Categories: []string{"Apparel/Sportswear"}})
	want := category(t, c, "Apparel/Sportswear")
	for _, path := range []string{" Apparel / Sportswear ", "Apparel//Sportswear/", "/Apparel/Sportswear", "\tApparel/Sportswear\n"} {
		got, ok := c.LookupCategory(path)
		require.True(t, ok, "%q", path)
		assert.Equal(t, want, got, "%q", path)
	}
	for _, path := range []string{"", "/", "apparel", "Apparel/Sports", "Sportswear", "Apparel/Sportswear/Running"} {
		_, ok := c.LookupCategory(path)
		assert.False(t, ok, "%q", path)
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  map[string]float64
	}{
		{"no category", nil, map[string]float64{}},
		{"one path", []string{"A/B/C"}, map[string]float64{"A": 1, "A/B": 1, "A/B/C": 1}},
		{"two disjoint paths", []string{"A/B", "C"}, map[string]float64{"A": 0.5, "A/B": 0.5, "C": 0.5}},
		{"two paths, shared ancestor", []string{"A/B", "A/C"}, map[string]float64{"A": 1, "A/B": 0.5, "A/C": 0.5}},
		{"three paths", []string{"A/B/C", "A/B/D", "E"}, map[string]float64{
			"A": 2.0 / 3, "A/B": 2.0 / 3, "A/B/C": 1.0 / 3, "A/B/D": 1.0 / 3, "E": 1.0 / 3}},
		{"three paths, one root", []string{"A/B", "A/C", "A/D"}, map[string]float64{"A": 1, "A/B": 1.0 / 3, "A/C": 1.0 / 3, "A/D": 1.0 / 3}},
		{"path and its ancestor", []string{"A/B", "A"}, map[string]float64{"A": 1, "A/B": 0.5}},
		{"duplicate paths count once", []string{"A/B", " A / B ", "A//B/"}, map[string]float64{"A": 1, "A/B": 1}},
		{"empty paths ignored", []string{"", "A", " / "}, map[string]float64{"A": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := buildCatalog(t,
				affinity.Product{Key: "other", Categories: []string{"Z/Y", "A/Q"}},
				affinity.Product{Key: "p", Categories: tt.paths},
			)
			p, ok := c.LookupProduct("p")
			require.True(t, ok)
			checkShares(t, c, p, tt.want)
		})
	}
}

func TestAddProductReplaces(t *testing.T) {
	var b affinity.Builder
	// Seen first in a purchase: an id, no catalog data, in stock.
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "x", Time: at(0), Quantity: 1, Price: 100}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "a", Product: "ev", Time: at(0), Kind: affinity.View, Weight: 1}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Name: "Y", Categories: []string{"A/B"}, Price: 5, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Name: "Old", Categories: []string{"A/B", "C"}, Price: 200, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Name: "New", Categories: []string{"D/E"}, Price: 300}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	c := h.Catalog()

	x, y, ev := productID(t, h, "x"), productID(t, h, "y"), productID(t, h, "ev")
	assert.Equal(t, affinity.ProductID(0), x, "ids in first-seen order")
	assert.Equal(t, affinity.ProductID(1), ev)
	assert.Equal(t, affinity.ProductID(2), y)
	assert.Equal(t, affinity.Product{Key: "x", Name: "New", Categories: []string{"D/E"}, Price: 300, InStock: false}, c.Product(x))
	assert.Equal(t, affinity.Product{Key: "ev", Categories: []string{}, InStock: true}, c.Product(ev))
	assert.Empty(t, c.Shares(ev))
	assert.Empty(t, c.Categories(ev))
	checkShares(t, c, x, map[string]float64{"D": 1, "D/E": 1})

	// Replaced categories stay as nodes; the buyer of x counts in the new
	// ones only.
	checkCategoryTree(t, c, map[string]bool{"A": true, "A/B": true, "C": true, "D": true, "D/E": true})
	a := uint32(customer(t, h, "a"))
	assert.Equal(t, []uint32{a}, h.CategoryBuyers(category(t, c, "D")).ToArray())
	assert.Equal(t, []uint32{a}, h.CategoryBuyers(category(t, c, "D/E")).ToArray())
	assert.True(t, h.CategoryBuyers(category(t, c, "C")).IsEmpty())
	assert.True(t, h.CategoryBuyers(category(t, c, "A")).IsEmpty())
}

func TestCategoryBuyersIncludeAncestors(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "run", Categories: []string{"A/B/C"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "pan", Categories: []string{"A/D", "E"}}))
	for _, p := range []affinity.Purchase{
		{Customer: "u", Product: "run", Time: at(0), Quantity: 1},
		{Customer: "v", Product: "pan", Time: at(0), Quantity: 1},
		{Customer: "w", Product: "pan", Time: at(0), Quantity: -1}, // a return is no interest
		{Product: "run", Time: at(0), Quantity: 1},                 // anonymous lines have no buyer
	} {
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	c := h.Catalog()
	u, v := uint32(customer(t, h, "u")), uint32(customer(t, h, "v"))
	for path, want := range map[string][]uint32{
		"A": {u, v}, "A/B": {u}, "A/B/C": {u}, "A/D": {v}, "E": {v},
	} {
		assert.Equal(t, want, h.CategoryBuyers(category(t, c, path)).ToArray(), path)
	}
}

// Slices handed out by the Catalog are clipped: appending to them must not
// write into the Catalog.
func TestCatalogSlicesClipped(t *testing.T) {
	c := buildCatalog(t,
		affinity.Product{Key: "p", Categories: []string{"A/B", "C"}},
		affinity.Product{Key: "q", Categories: []string{"D/E/F"}},
	)
	p, _ := c.LookupProduct("p")
	q, _ := c.LookupProduct("q")
	wantQ := append([]affinity.CategoryID(nil), c.Categories(q)...)
	wantQShares := append([]affinity.CategoryShare(nil), c.Shares(q)...)
	a := category(t, c, "A")
	wantChildren := append([]affinity.CategoryID(nil), c.Children(category(t, c, "D"))...)

	_ = append(c.Categories(p), 99)
	_ = append(c.Shares(p), affinity.CategoryShare{Category: 99, Weight: 9})
	_ = append(c.Children(a), 99)
	_ = append(c.Roots(), 99)

	assert.Equal(t, wantQ, c.Categories(q))
	assert.Equal(t, wantQShares, c.Shares(q))
	assert.Equal(t, wantChildren, c.Children(category(t, c, "D")))
	assert.Len(t, c.Roots(), 3)
}

// Product returns fresh Categories: modifying them leaves the Catalog alone.
func TestProductCategoriesFresh(t *testing.T) {
	c := buildCatalog(t, affinity.Product{Key: "p", Categories: []string{"A/B"}})
	p, _ := c.LookupProduct("p")
	got := c.Product(p)
	got.Categories[0] = "changed"
	assert.Equal(t, []string{"A/B"}, c.Product(p).Categories)
}

// Paths may be MaxCategoryDepth levels deep (depths once wrapped past 255);
// deeper ones are refused, so a hostile path cannot cost quadratic time.
func TestDeepCategoryPath(t *testing.T) {
	deep := func(n int) string {
		levels := make([]string, n)
		for i := range levels {
			levels[i] = string(rune('a' + i%26))
		}
		return strings.Join(levels, "/")
	}
	path := deep(affinity.MaxCategoryDepth)
	c := buildCatalog(t, affinity.Product{Key: "p", Categories: []string{path}})
	leaf := category(t, c, path)
	assert.Equal(t, affinity.MaxCategoryDepth, c.Depth(leaf))
	assert.Equal(t, affinity.MaxCategoryDepth, c.NumCategories())
	assert.Equal(t, category(t, c, "a/b/c"), c.Ancestor(leaf, 3))
	assert.Equal(t, category(t, c, "a"), c.Ancestor(leaf, 1))
	assert.Equal(t, 40, c.Depth(c.Ancestor(leaf, 40)))
	assert.Len(t, c.Roots(), 1)

	var b affinity.Builder
	err := b.AddProduct(affinity.Product{Key: "q", Categories: []string{deep(affinity.MaxCategoryDepth + 1)}})
	require.ErrorIs(t, err, affinity.ErrInvalid)
	// empty levels do not count
	require.NoError(t, b.AddProduct(affinity.Product{Key: "r", Categories: []string{path + "//"}}))
}

// AddCategory before the products rebuilds a catalog's category ids even
// where AddProduct alone would number them differently (nodes of replaced
// categories, nodes without products).
func TestAddCategoryRebuildsIDs(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"Z/Old"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Categories: []string{"A/B", "C"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"C", "A"}}))
	id, err := b.AddCategory(" Lone / Leaf ")
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	c := h.Catalog()
	assert.Equal(t, "Lone/Leaf", c.CategoryPath(id))
	assert.Equal(t, c.NumCategories()-1, int(id))

	var r affinity.Builder
	for k := range affinity.CategoryID(c.NumCategories()) {
		got, err := r.AddCategory(c.CategoryPath(k))
		require.NoError(t, err)
		require.Equal(t, k, got, "node %q", c.CategoryPath(k))
	}
	for p := range affinity.ProductID(c.NumProducts()) {
		require.NoError(t, r.AddProduct(c.Product(p)))
	}
	h2, err := r.Build(context.Background())
	require.NoError(t, err)
	c2 := h2.Catalog()
	require.Equal(t, c.NumCategories(), c2.NumCategories())
	for k := range affinity.CategoryID(c.NumCategories()) {
		assert.Equal(t, c.CategoryPath(k), c2.CategoryPath(k))
		assert.Equal(t, c.Parent(k), c2.Parent(k))
		assert.Equal(t, c.Depth(k), c2.Depth(k))
	}
	for p := range affinity.ProductID(c.NumProducts()) {
		assert.Equal(t, c.Shares(p), c2.Shares(p))
	}

	// Products alone number the nodes in another order: the test is not
	// vacuous.
	var naive affinity.Builder
	for p := range affinity.ProductID(c.NumProducts()) {
		require.NoError(t, naive.AddProduct(c.Product(p)))
	}
	h3, err := naive.Build(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, c.CategoryPath(0), h3.Catalog().CategoryPath(0))

	for _, bad := range []string{"", " / ", strings.Repeat("a/", affinity.MaxCategoryDepth) + "a"} {
		_, err := r.AddCategory(bad)
		assert.ErrorIs(t, err, affinity.ErrInvalid, "%q", bad)
	}
}

// NewCatalogBuilder starts a History with another one's product and
// category ids and entries, and none of its orders.
func TestNewCatalogBuilderKeepsIDs(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Name: "X", Categories: []string{"Z/Old"}, Price: 300, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Categories: []string{"A/B", "C"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Name: "X2", Categories: []string{"C", "A"}, Price: 200}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "y", Time: at(0), Quantity: 1, Price: 100}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "new", Time: at(0), Quantity: 1, Price: 100}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	c := h.Catalog()

	nb := affinity.NewCatalogBuilder(c)
	require.NoError(t, nb.Add(affinity.Purchase{Customer: "q", Product: "x", Time: at(1), Quantity: 2, Price: 50}))
	h2, err := nb.Build(context.Background())
	require.NoError(t, err)
	c2 := h2.Catalog()
	require.Equal(t, 1, h2.NumCustomers())
	require.Equal(t, 1, h2.NumLines())
	require.Equal(t, c.NumProducts(), c2.NumProducts())
	require.Equal(t, c.NumCategories(), c2.NumCategories())
	for p := range affinity.ProductID(c.NumProducts()) {
		assert.Equal(t, c.Product(p), c2.Product(p))
		assert.Equal(t, c.Shares(p), c2.Shares(p))
	}
	for k := range affinity.CategoryID(c.NumCategories()) {
		assert.Equal(t, c.CategoryPath(k), c2.CategoryPath(k))
	}
	empty, err := affinity.NewCatalogBuilder(nil).Build(context.Background())
	require.NoError(t, err)
	assert.Zero(t, empty.Catalog().NumProducts(), "a nil catalog: an empty Builder")
}

// TestShortName: a category is named by its last level unless another
// category shares it, then by its path; a catalog extended by a later
// build tells them apart anew.
func TestShortName(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	b.AddProduct(affinity.Product{Key: "lamp", Categories: []string{"Home/Outdoor"}})
	b.AddProduct(affinity.Product{Key: "sock", Categories: []string{"Apparel/Socks"}})
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c := h.Catalog()
	assert.Equal(t, "Outdoor", c.ShortName(category(t, c, "Home/Outdoor")))
	assert.Equal(t, "Home", c.ShortName(category(t, c, "Home")))

	nb := affinity.NewBuilder(h)
	nb.AddProduct(affinity.Product{Key: "jacket", Categories: []string{"Apparel/Outdoor"}})
	require.NoError(t, nb.Add(affinity.Purchase{Customer: "c1", Product: "jacket", Order: "o1", Time: time.Unix(1e9, 0), Quantity: 1, Price: 100}))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	c2 := h2.Catalog()
	assert.Equal(t, "Home/Outdoor", c2.ShortName(category(t, c2, "Home/Outdoor")))
	assert.Equal(t, "Apparel/Outdoor", c2.ShortName(category(t, c2, "Apparel/Outdoor")))
	assert.Equal(t, "Socks", c2.ShortName(category(t, c2, "Apparel/Socks")))
	assert.Equal(t, "Outdoor", c.ShortName(category(t, c, "Home/Outdoor")), "the earlier catalog is as it was")
}
