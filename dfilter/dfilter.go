// Package dfilter implements the subset of Wireshark's display-filter
// language engineers use most: field names as tshark spells them (see
// package fields), comparisons (==, !=, <, >, <=, >= and eq, ne, lt, gt,
// le, ge), and, or, not (&&, ||, !), parentheses, and a bare field or
// protocol name as an existence test. As in tshark 4.0, a comparison holds
// if any occurrence of the field satisfies it, "a != b" holds if the field
// is present and no occurrence equals b, and a comparison on an absent
// field is false. Addresses compare with an address or a CIDR prefix
// (ip.addr == 10.0.0.0/8). Text fields (application fields such as
// http.request.method) compare as strings, with "contains" and "matches"
// (or ~, a case-insensitive regular expression) besides the comparisons.
package dfilter

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/fields"
)

// Filter is a compiled display filter.
type Filter struct {
	src  string
	root node
	buf  []fields.Value
}

// Compile parses a filter expression.
func Compile(expr string) (*Filter, error) {
	p := &parser{src: expr}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 0 {
		return nil, fmt.Errorf("filter: empty expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("filter %q: unexpected %q", expr, p.toks[p.pos].text)
	}
	return &Filter{src: expr, root: n}, nil
}

// Fields lists the fields the filter reads, in the order they appear.
func (f *Filter) Fields() []*fields.Field {
	var out []*fields.Field
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case andNode:
			walk(n.l)
			walk(n.r)
		case orNode:
			walk(n.l)
			walk(n.r)
		case notNode:
			walk(n.x)
		case existsNode:
			out = append(out, n.field)
		case cmpNode:
			out = append(out, n.field)
		}
	}
	walk(f.root)
	return out
}

// String returns the source expression.
func (f *Filter) String() string { return f.src }

// Match evaluates the filter on a packet. Not safe for concurrent use.
func (f *Filter) Match(c *fields.Context) bool { return f.root.eval(f, c) }

type node interface {
	eval(f *Filter, c *fields.Context) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }
type existsNode struct{ field *fields.Field }
type cmpNode struct {
	field *fields.Field
	op    string // == != < > <= >=
	lit   literal
}

func (n andNode) eval(f *Filter, c *fields.Context) bool { return n.l.eval(f, c) && n.r.eval(f, c) }
func (n orNode) eval(f *Filter, c *fields.Context) bool  { return n.l.eval(f, c) || n.r.eval(f, c) }
func (n notNode) eval(f *Filter, c *fields.Context) bool { return !n.x.eval(f, c) }
func (n existsNode) eval(f *Filter, c *fields.Context) bool {
	f.buf = n.field.Values(c, f.buf[:0])
	return len(f.buf) > 0
}

func (n cmpNode) eval(f *Filter, c *fields.Context) bool {
	f.buf = n.field.Values(c, f.buf[:0])
	if n.op == "!=" {
		// Wireshark 4: every occurrence differs, and there is one.
		for _, v := range f.buf {
			if n.lit.compare(v, "==") {
				return false
			}
		}
		return len(f.buf) > 0
	}
	for _, v := range f.buf {
		if n.lit.compare(v, n.op) {
			return true
		}
	}
	return false
}

// literal is a constant in a comparison, parsed every way it could be
// meant; the field's value kind decides which reading applies.
type literal struct {
	text   string
	num    float64
	isNum  bool
	prefix netip.Prefix
	isAddr bool
	mac    [6]byte
	isMAC  bool
	re     *regexp.Regexp // matches
}

func parseLiteral(s string) literal {
	l := literal{text: s}
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		l.num, l.isNum = float64(n), true
	} else if x, err := strconv.ParseFloat(s, 64); err == nil {
		l.num, l.isNum = x, true
	}
	switch s {
	case "true", "True", "TRUE":
		l.num, l.isNum = 1, true
	case "false", "False", "FALSE":
		l.num, l.isNum = 0, true
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		l.prefix, l.isAddr = p.Masked(), true
	} else if a, err := netip.ParseAddr(s); err == nil {
		l.prefix, l.isAddr = netip.PrefixFrom(a, a.BitLen()), true
	}
	if parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' }); len(parts) == 6 && !l.isAddr {
		ok := true
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil {
				ok = false
				break
			}
			l.mac[i] = byte(v)
		}
		l.isMAC = ok
	}
	return l
}

func (l literal) compare(v fields.Value, op string) bool {
	switch op {
	case "contains":
		return v.Kind == fields.String && strings.Contains(v.S, l.text)
	case "matches":
		return v.Kind == fields.String && l.re != nil && l.re.MatchString(v.S)
	}
	switch v.Kind {
	case fields.String:
		return cmpNum(float64(strings.Compare(v.S, l.text)), 0, op)
	case fields.Addr:
		if !l.isAddr {
			return false
		}
		in := l.prefix.Contains(v.IP.Unmap())
		switch op {
		case "==":
			return in
		}
		return false
	case fields.MAC:
		return l.isMAC && op == "==" && l.mac == v.HW
	case fields.Present:
		return l.isNum && cmpNum(1, l.num, op)
	case fields.Seconds:
		return l.isNum && cmpNum(float64(v.N)/1e9, l.num, op)
	case fields.FlagsStr:
		return op == "==" && string(v.Append(nil)) == l.text
	}
	return l.isNum && cmpNum(float64(v.N), l.num, op)
}

func cmpNum(a, b float64, op string) bool {
	switch op {
	case "==":
		return a == b
	case "<":
		return a < b
	case ">":
		return a > b
	case "<=":
		return a <= b
	case ">=":
		return a >= b
	}
	return false
}
