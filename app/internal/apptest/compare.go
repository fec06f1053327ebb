package apptest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Table is display-filter field values per frame: frame → field → values
// joined by "," in message order, as tshark prints them with
// "-E occurrence=a -E aggregator=,".
type Table map[int64]map[string]string

// Format renders a field value as tshark's -T fields does.
func Format(f app.Field) string {
	switch f.Kind {
	case app.FieldUint:
		return strconv.FormatUint(f.Num, 10)
	case app.FieldBool:
		if f.Num != 0 {
			return "1"
		}
		return "0"
	case app.FieldHex:
		return fmt.Sprintf("0x%0*x", int(f.Width), f.Num)
	case app.FieldInt:
		return strconv.FormatInt(int64(f.Num), 10)
	case app.FieldDuration:
		return fmt.Sprintf("%d.%09d", f.Num/1e9, f.Num%1e9)
	}
	return f.Str
}

// Ours tabulates records by the frame tshark shows them on (Done), keeping
// the named fields.
func Ours(recs []app.Record, names []string) Table {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	t := Table{}
	for _, r := range recs {
		frame := r.Done().Frame
		for f := range r.Fields {
			if !want[f.Name] {
				continue
			}
			row := t[frame]
			if row == nil {
				row = map[string]string{}
				t[frame] = row
			}
			if v, ok := row[f.Name]; ok {
				row[f.Name] = v + "," + Format(f)
			} else {
				row[f.Name] = Format(f)
			}
		}
	}
	return t
}

// Theirs tabulates tshark rows (frame.number first, then names in order).
func Theirs(t testing.TB, rows [][]string, names []string) Table {
	t.Helper()
	tab := Table{}
	for _, row := range rows {
		frame, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark row %q: %v", row, err)
		}
		m := map[string]string{}
		for i, n := range names {
			if i+1 < len(row) && row[i+1] != "" {
				m[n] = row[i+1]
			}
		}
		tab[frame] = m
	}
	return tab
}

// Explain returns why ours and theirs may differ for a field on a frame, or
// "" when they must not.
type Explain func(frame int64, field, ours, theirs string) string

// Agreement counts compared cells.
type Agreement struct {
	Cells, Agree, Explained int
}

func (a Agreement) String() string {
	return fmt.Sprintf("%d/%d field values agree with tshark, %d explained disagreements", a.Agree, a.Cells, a.Explained)
}

// Compare checks every (frame, field) cell that either side has. Unexplained
// disagreements fail the test.
func Compare(t testing.TB, ours, theirs Table, names []string, explain Explain) Agreement {
	t.Helper()
	frames := map[int64]bool{}
	for f := range ours {
		frames[f] = true
	}
	for f := range theirs {
		frames[f] = true
	}
	order := make([]int64, 0, len(frames))
	for f := range frames {
		order = append(order, f)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	var a Agreement
	for _, f := range order {
		for _, n := range names {
			o, ook := ours[f][n]
			th, tok := theirs[f][n]
			if !ook && !tok {
				continue
			}
			a.Cells++
			if o == th {
				a.Agree++
				continue
			}
			why := ""
			if explain != nil {
				why = explain(f, n, o, th)
			}
			if why == "" {
				t.Errorf("frame %d %s: ours %q, tshark %q", f, n, o, th)
				continue
			}
			a.Explained++
			t.Logf("frame %d %s: ours %q, tshark %q: %s", f, n, o, th, why)
		}
	}
	return a
}

// Join is strings.Join for brevity in tests.
func Join(s []string) string { return strings.Join(s, ",") }
