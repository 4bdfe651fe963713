package shop_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// TestDefaultNonMerchandiseNamesForThings: a product named for a thing is
// merchandise, whatever fee word its name holds, while every
// non-merchandise name of Online Retail (the descriptions of stock codes
// POST, DOT, C2, M, D, S, B, CRUK, AMAZONFEE, BANK CHARGES, the gift
// vouchers, and the adjustments of product codes) and other postage
// charges still match.
func TestDefaultNonMerchandiseNamesForThings(t *testing.T) {
	charges := []string{
		"POSTAGE", "DOTCOM POSTAGE", "CARRIAGE", "Next Day Carriage", "Manual", "Discount", "SAMPLES",
		"Adjust bad debt", "CRUK Commission", "AMAZON FEE", "Bank Charges", "Dotcomgiftshop Gift Voucher £10.00",
		"Dotcomgiftshop Gift Voucher £100.00", "Adjustment", "adjustment", "Amazon Adjustment", "amazon adjust",
		"taig adjust", "dotcom adjust",
		"Postage UK", "postage £3.50", "International Postage", "Royal Mail Postage", "Postage and Packing",
		"Sales Commission",
	}
	for _, name := range charges {
		assert.True(t, shop.DefaultNonMerchandise(affinity.Product{Name: name}), "%q is a charge", name)
	}
	things := []string{
		"Quick Adjust Tripod", "Adjusted Fit Jeans", "Commission Art Kit", "Postage Scale", "Digital Postage Meter",
		"Postage Stamps Set", "Frame for Postage Stamp", "Adjustment Wrench", "Commissioned Portrait Print",
		"Self Adjusting Pliers Set", "PADS TO MATCH ALL CUSHIONS",
	}
	for _, name := range things {
		assert.False(t, shop.DefaultNonMerchandise(affinity.Product{Name: name}), "%q is a product, named for a thing", name)
	}
}
