package dataset_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Load a shop's CSV export, naming the columns that hold each field.
func ExampleLoad() {
	const export = `order_id,customer_id,sku,qty,unit_price,placed_at,title
1001,alice,tea-01,2,4.50,2024-03-01 09:15:00,Green Tea
1001,alice,mug-07,1,12.00,2024-03-01 09:15:00,Mug
1002,bob,tea-01,1,4.50,2024-03-02 18:40:00,Green Tea
`
	opts := dataset.Options{Format: "csv", Columns: dataset.Columns{
		Order: "order_id", Customer: "customer_id", Product: "sku",
		Quantity: "qty", Price: "unit_price", Time: "placed_at", Name: "title",
	}}
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(export), &b, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := b.Build(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	s := h.Summary()
	fmt.Println("lines loaded:", rep.Loaded)
	fmt.Println("customers:", s.Customers, "orders:", s.Orders, "revenue:", s.Revenue)
	mug, _ := h.Catalog().LookupProduct("mug-07")
	fmt.Println("mug-07 is", h.Catalog().ProductName(mug))
	// Output:
	// lines loaded: 3
	// customers: 2 orders: 2 revenue: 25.50
	// mug-07 is Mug
}

// In strict mode (the default) the first bad row stops the load with a
// *ParseError that names line and column.
func ExampleLoad_strict() {
	const export = `customer,product,time,Quantity
alice,tea-01,2024-03-01,2
bob,tea-01,2024-03-02,two
`
	var b affinity.Builder
	_, err := dataset.Load(context.Background(), strings.NewReader(export), &b, dataset.Options{})
	fmt.Println(err)
	var pe *dataset.ParseError
	if errors.As(err, &pe) {
		fmt.Println("line", pe.Line, "column", pe.Column, pe.Field, "-", pe.Reason)
	}
	// Output:
	// dataset: line 3, column 4 (Quantity): invalid quantity "two"
	// line 3 column 4 Quantity - invalid quantity
}

// In lenient mode bad rows are skipped and counted by reason.
func ExampleLoad_lenient() {
	const export = `customer,product,time,quantity,price
alice,tea-01,2024-03-01,2,4.50
bob,tea-01,2024-03-02,two,4.50
carol,,2024-03-02,1,4.50
dave,mug-07,2024-03-03,1,12.00
erin,tea-01,March 4th,1,4.50
frank,tea-01,2024-03-05,x,4.50
`
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(export), &b, dataset.Options{Lenient: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep)
	// Output:
	// format     csv
	// rows       6
	// loaded     2
	// purchases  2
	// anonymous  0
	// returns    0
	// events     0
	// catalog    0
	// skipped    4
	//   invalid quantity       2 (first at line 3)
	//   missing product        1 (first at line 4)
	//   invalid time           1 (first at line 6)
}

// Online Retail has no category column: derive categories from the
// product descriptions.
func ExampleCategoryFromName() {
	for _, name := range []string{
		"WHITE HANGING HEART T-LIGHT HOLDER",
		"SET OF 3 CAKE TINS PANTRY DESIGN",
		"JUMBO BAG RED RETROSPOT",
		"DOORMAT, RED RETROSPOT",
	} {
		fmt.Println(dataset.CategoryFromName(name))
	}
	// Output:
	// Holder/T-Light Holder
	// Tin/Cake Tin
	// Bag/Jumbo Bag
	// Doormat
}

// A catalog gives products their names, category paths, prices and stock
// flags; "|" separates several paths and ">" is accepted between levels.
func ExampleLoadCatalog() {
	const catalog = `sku,name,category,price,in stock
tea-01,Green Tea,Food > Tea,4.50,yes
mug-07,Mug,Home/Kitchen|Gifts,12.00,0
`
	var b affinity.Builder
	if _, err := dataset.LoadCatalog(context.Background(), strings.NewReader(catalog), &b, dataset.CatalogOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	h, _ := b.Build(context.Background())
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		pr := cat.Product(p)
		fmt.Println(pr.Key, pr.Name, pr.Categories, pr.Price, pr.InStock)
	}
	// Output:
	// tea-01 Green Tea [Food/Tea] 4.50 true
	// mug-07 Mug [Home/Kitchen Gifts] 12.00 false
}

// A quote opened and never closed would make the CSV reader gather the
// rest of the file into one field; the limits stop it where the field
// grows past Limits.MaxField, with the line and the field.
func ExampleLimits() {
	export := "customer,product,time,name\nc1,p1,2024-03-01,\"Mug\n" + strings.Repeat("and so on\n", 100)
	var b affinity.Builder
	_, err := dataset.Load(context.Background(), strings.NewReader(export), &b, dataset.Options{
		Limits: dataset.Limits{MaxField: 256},
	})
	fmt.Println(errors.Is(err, dataset.ErrLimit))
	fmt.Println(err)
	// Output:
	// true
	// dataset: line 28, column 4 (name): field 4 of the record from line 2 (inside a quote opened at line 2 and not closed): more than Options.Limits.MaxField = 256; raise it (-1 for no limit) if the input is genuine
}
