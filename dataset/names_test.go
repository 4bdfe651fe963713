package dataset_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

func TestCategoryFromName(t *testing.T) {
	cases := []struct{ name, want string }{
		{"WHITE HANGING HEART T-LIGHT HOLDER", "Holder/T-Light Holder"},
		{"WHITE METAL LANTERN", "Lantern/Metal Lantern"},
		{"CREAM CUPID HEARTS COAT HANGER", "Hanger/Coat Hanger"},
		{"KNITTED UNION FLAG HOT WATER BOTTLE", "Bottle/Water Bottle"},
		{"SET OF 3 CAKE TINS PANTRY DESIGN", "Tin/Cake Tin"},
		{"JUMBO BAG RED RETROSPOT", "Bag/Jumbo Bag"},
		{"LUNCH BAG RED RETROSPOT", "Bag/Lunch Bag"},
		{"JUMBO STORAGE BAG SUKI", "Bag/Storage Bag"},
		{"PACK OF 72 RETROSPOT CAKE CASES", "Case/Cake Case"},
		{"60 TEATIME FAIRY CAKE CASES", "Case/Cake Case"},
		{"SET 7 BABUSHKA NESTING BOXES", "Box/Nesting Box"},
		{"BOX OF 6 ASSORTED COLOUR TEASPOONS", "Teaspoon"},
		{"SET OF 12 T-LIGHTS", "Light/T-Light"},
		{"ALARM CLOCK BAKELIKE RED", "Clock/Alarm Clock"},
		{"HAND WARMER UNION JACK", "Warmer/Hand Warmer"},
		{"PAPER CHAIN KIT 50'S CHRISTMAS", "Kit/Chain Kit"},
		{"DOORMAT, RED RETROSPOT", "Doormat"},
		{"ELEPHANT, BIRTHDAY CARD,", "Card/Birthday Card"},
		{"ROUND PURPLE CLOCK WITH SUCKER", "Clock/Round Clock"},
		{"PIG KEYRING WITH LIGHT & SOUND", "Keyring/Pig Keyring"},
		{"ROSES REGENCY TEACUP AND SAUCER", "Saucer"},
		{"HEART OF WICKER SMALL", "Heart"},
		{"WOODEN STAR CHRISTMAS SCANDINAVIAN", "Star/Wooden Star"},
		{"BISCUITS SMALL BOWL LIGHT BLUE", "Bowl/Biscuit Bowl"},
		{"PINK DOILIES", "Doily"},
		{"FELTCRAFT DOLLS KIT", "Kit/Doll Kit"},
		{"ROTATING SILVER ANGELS T-LIGHT HLDR", "Holder/T-Light Holder"},
		{"PEARL & SHELL 42\"NECKL. GREEN", "Necklace/Shell Necklace"},
		{"CHILDREN'S APRON DOLLY GIRL", "Apron/Children's Apron"},
		{"BLUE TEA-TOWELS", "Towel/Tea-Towel"},
		{"POSTAGE", "Postage"},
		{"DOTCOM POSTAGE", "Postage/Dotcom Postage"},
		{"Manual", "Manual"},
		{"whole milk", "Milk/Whole Milk"},
		{"rolls/buns", "Bun/Roll Bun"},
		{"CHRISTMAS GINGHAM TREE", "Tree/Gingham Tree"},
		{"HAPPY CHRISTMAS", "Christmas/Happy Christmas"},
		{"", ""},
		{"12 RED 3", ""},
		{"  ,, / ()", ""},
	}
	for _, tc := range cases {
		got := dataset.CategoryFromName(tc.name)
		assert.Equal(t, tc.want, got, "%q", tc.name)
		assert.Equal(t, affinity.CleanCategoryPath(got), got, "clean path")
		assert.LessOrEqual(t, strings.Count(got, "/"), 1)
		assert.Equal(t, got, dataset.CategoryFromName(strings.ToLower(tc.name)), "case does not matter")
	}
}
