package conns

import (
	"fmt"
	"io"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
)

// Format is an output format.
type Format string

// Formats.
const (
	Text Format = "text"
	JSON Format = "json"
	TSV  Format = "tsv"
	Zeek Format = "zeek"
)

// Formats lists the formats, for flag help.
var Formats = []Format{Text, JSON, TSV, Zeek}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("conns: unknown format %q (text, json, tsv or zeek)", s)
}

// Options adjust a Writer.
type Options struct {
	// Open is the time the zeek format writes in #open; zero: the first
	// record's start (the capture's clock, never the wall clock).
	Open capture.Time
}

// Writer writes records one at a time; Close finishes the output (and
// does not close the underlying io.Writer).
type Writer interface {
	Write(r *conn.Record) error
	Close() error
}

// NewWriter returns a Writer of format f onto w.
func NewWriter(w io.Writer, f Format, opt Options) (Writer, error) {
	switch f {
	case Text:
		return newText(w), nil
	case JSON:
		return newJSON(w), nil
	case TSV:
		return newTSV(w), nil
	case Zeek:
		return newZeek(w, opt), nil
	}
	return nil, fmt.Errorf("conns: unknown format %q", f)
}

// WriteAll writes records in format f.
func WriteAll(w io.Writer, f Format, recs []*conn.Record, opt Options) error {
	cw, err := NewWriter(w, f, opt)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	return cw.Close()
}
