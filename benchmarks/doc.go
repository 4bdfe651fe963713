// Package benchmarks holds the scale suite of affinity: benchmarks that run
// the library's public API on synthetic storefronts of up to 10 M order
// lines, 1 M customers and 100 k products. See README.md in this folder for
// how to run them and the latest figures.
package benchmarks
