package main

import (
	"strings"

	"github.com/wiresleuth/wiresleuth/pipeline"
)

// captureJSON is the capture summary every JSON output starts with.
type captureJSON struct {
	File        string          `json:"file"`
	Format      string          `json:"format"`
	Compression string          `json:"compression"`
	LinkTypes   []string        `json:"link_types"`
	Frames      int64           `json:"frames"`
	Start       string          `json:"start,omitempty"`
	End         string          `json:"end,omitempty"`
	DurationS   float64         `json:"duration_s"`
	Interfaces  []interfaceJSON `json:"interfaces"`
	Complete    bool            `json:"complete"`
}

type interfaceJSON struct {
	Name     string  `json:"name,omitempty"`
	LinkType string  `json:"link_type"`
	Received *uint64 `json:"received,omitempty"`
	Dropped  *uint64 `json:"dropped,omitempty"`
	OSDrop   *uint64 `json:"os_dropped,omitempty"`
}

func captureInfo(s *pipeline.Summary) captureJSON {
	c := captureJSON{File: s.File, Format: s.Format.String(), Compression: s.Compression.String(), Frames: s.Frames,
		Complete: s.Damage == nil, LinkTypes: []string{}, Interfaces: []interfaceJSON{}}
	for _, lt := range s.LinkTypes() {
		c.LinkTypes = append(c.LinkTypes, lt.String())
	}
	if s.Frames > 0 {
		c.Start, c.End = s.Start.String(), s.End.String()
		c.DurationS = s.End.Sub(s.Start).Seconds()
	}
	for _, i := range s.Interfaces {
		j := interfaceJSON{Name: i.Name, LinkType: i.LinkType.String()}
		if st := i.Stats; st != nil {
			if st.Has&1 != 0 {
				v := st.Received
				j.Received = &v
			}
			if st.Has&2 != 0 {
				v := st.Dropped
				j.Dropped = &v
			}
			if st.Has&8 != 0 {
				v := st.OSDropped
				j.OSDrop = &v
			}
		}
		c.Interfaces = append(c.Interfaces, j)
	}
	return c
}

// tsvField makes a value safe for one TSV cell.
func tsvField(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
