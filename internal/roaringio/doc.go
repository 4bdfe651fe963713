// Package roaringio builds roaring bitmaps from sorted values by writing
// roaring's portable serialization directly, and validates untrusted
// serializations in linear time.
//
// Both exist because roaring's own API does not fit the index builds and
// loads: building a bitmap value by value (Bitmap.Add, AddMany) costs an
// insertion per value, which dominates building hundreds of millions of
// bitmap entries, while writing each 2^16-value container once and
// decoding the whole serialization costs one copy (and a small bitmap
// keeps its serialization as its storage, one allocation instead of one
// per container); and roaring's Validate
// is quadratic in the runs of a run container and accepts non-canonical
// encodings, where a loader of untrusted files needs linear time and
// canonical bytes (so that decode then encode gives the same file).
// See [Writer] and [Validate].
package roaringio
