package timetext

// SetUnpooled makes Unmarshal decode each record with a new decoder, or
// with the pool's again.
func SetUnpooled(on bool) { unpooled = on }
