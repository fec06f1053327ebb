package dfilter

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/wiresleuth/wiresleuth/fields"
)

type token struct {
	kind int // tokWord, tokOp, tokLParen, tokRParen, tokString
	text string
	pos  int
}

const (
	tokWord = iota
	tokOp
	tokLParen
	tokRParen
	tokString
)

type parser struct {
	src  string
	toks []token
	pos  int
}

var wordOps = map[string]string{
	"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
	"and": "&&", "or": "||", "not": "!", "contains": "contains", "matches": "matches",
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tokRParen, ")", i})
			i++
		case c == '"':
			// A string: \" and \\ stand for " and \ as in Wireshark.
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return fmt.Errorf("filter %q: unterminated string at %d", p.src, i)
			}
			p.toks = append(p.toks, token{tokString, b.String(), i})
			i = j + 1
		case c == '~':
			p.toks = append(p.toks, token{tokOp, "matches", i})
			i++
		case strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") ||
			strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, token{tokOp, s[i : i+2], i})
			i += 2
		case c == '<' || c == '>' || c == '!':
			p.toks = append(p.toks, token{tokOp, s[i : i+1], i})
			i++
		case c == '=':
			return fmt.Errorf("filter %q: use == for comparison (at %d)", p.src, i)
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || strings.IndexByte("._-:/", s[j]) >= 0) {
				j++
			}
			if j == i {
				return fmt.Errorf("filter %q: unexpected character %q at %d", p.src, c, i)
			}
			w := s[i:j]
			if op, ok := wordOps[w]; ok {
				p.toks = append(p.toks, token{tokOp, op, i})
			} else {
				p.toks = append(p.toks, token{tokWord, w, i})
			}
			i = j
		}
	}
	return nil
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == tokOp && t.text == "||"; t = p.peek() {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == tokOp && t.text == "&&"; t = p.peek() {
		p.pos++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if t := p.peek(); t != nil && t.kind == tokOp && t.text == "!" {
		p.pos++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.peek()
	if t == nil {
		return nil, fmt.Errorf("filter %q: expression ends too early", p.src)
	}
	switch t.kind {
	case tokLParen:
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c == nil || c.kind != tokRParen {
			return nil, fmt.Errorf("filter %q: missing )", p.src)
		}
		p.pos++
		return n, nil
	case tokWord:
		p.pos++
		f, ok := fields.Lookup(t.text)
		if !ok {
			return nil, fmt.Errorf("filter %q: unknown field %q (run `wiresleuth fields` for the list)", p.src, t.text)
		}
		op := p.peek()
		if op == nil || op.kind != tokOp || op.text == "&&" || op.text == "||" || op.text == "!" {
			return existsNode{f}, nil
		}
		p.pos++
		lit := p.peek()
		if lit == nil || (lit.kind != tokWord && lit.kind != tokString) {
			return nil, fmt.Errorf("filter %q: %s needs a value after %s", p.src, t.text, op.text)
		}
		p.pos++
		l := parseLiteral(lit.text)
		if op.text == "matches" {
			re, err := regexp.Compile("(?i)" + lit.text)
			if err != nil {
				return nil, fmt.Errorf("filter %q: %s: %v", p.src, lit.text, err)
			}
			l.re = re
		}
		return cmpNode{field: f, op: op.text, lit: l}, nil
	}
	return nil, fmt.Errorf("filter %q: unexpected %q at %d", p.src, t.text, t.pos)
}
