package affinity

// SetMergeIndex switches the incremental buyer index of Builders started
// from a base History on or off and returns the previous setting.
func SetMergeIndex(on bool) bool {
	return !noMergeIndex.Swap(!on)
}
