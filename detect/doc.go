// Package detect is the detector framework: a Detector recognises one fault
// pattern in the datasets built from the captures and reports Findings —
// data, not prose for a terminal: an id, a severity, a title, an
// explanation in the terms of the capture, how many connections it affects
// out of how many comparable ones, the connections, the packets that prove
// it, and the next steps an expert would take.
//
// Detectors follow golang.org/x/tools/go/analysis: each is a value with an
// ID, a Doc, the detectors whose results it needs (Requires), and a Run
// function given one *Pass. Detectors never format output and renderers
// (package report) never decide. The list of detectors is explicit (package
// detect/all); nothing registers itself in init.
package detect
