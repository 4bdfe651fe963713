package segment

// CompactionErr returns the error of the background build an updated
// index x carries, waiting for it (nil when there is none).
func CompactionErr(x *Index) error {
	if x.over == nil || x.over.next == nil {
		return nil
	}
	<-x.over.next.done
	return x.over.next.err
}
