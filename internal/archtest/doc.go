// Package archtest checks the architecture rules of DEVELOPERS.md as tests:
// dependencies point down the pipeline, every package says its one job in a
// doc comment, and library code reads no wall clock.
package archtest
