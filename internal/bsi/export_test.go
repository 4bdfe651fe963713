package bsi

// SetWords forces the comparisons' word form (1) or bitmap form (-1), or
// lets them choose by density (0), and returns the function that restores
// the setting.
func SetWords(v int) (restore func()) {
	old := useWords
	useWords = v
	return func() { useWords = old }
}
