package lines

import (
	"strings"
	"testing"
)

func collect(t *testing.T, max int, in string, chunk int) []string {
	t.Helper()
	l := New(max)
	var out []string
	b := []byte(in)
	for len(b) > 0 {
		n := min(chunk, len(b))
		piece := b[:n]
		b = b[n:]
		for {
			line, rest, ok := l.Next(piece)
			if !ok {
				break
			}
			s := string(line.Text)
			if line.Truncated {
				s += "…"
			}
			out = append(out, s)
			piece = rest
		}
	}
	return out
}

func TestLinesAnyChunking(t *testing.T) {
	in := "GET / HTTP/1.1\r\nHost: x\r\n\r\nbare\nlongerline\r\n"
	want := "GET / HTTP/1.1|Host: x||bare|longerline"
	for chunk := 1; chunk <= len(in); chunk++ {
		if got := strings.Join(collect(t, 64, in, chunk), "|"); got != want {
			t.Fatalf("chunk %d: got %q, want %q", chunk, got, want)
		}
	}
}

func TestLinesTruncated(t *testing.T) {
	for chunk := 1; chunk <= 20; chunk++ {
		got := strings.Join(collect(t, 4, "abcdefgh\r\nxy\n", chunk), "|")
		if got != "abcd…|xy" {
			t.Fatalf("chunk %d: got %q", chunk, got)
		}
	}
}

func TestLinesLen(t *testing.T) {
	l := New(3)
	l.Next([]byte("abcd"))
	line, _, ok := l.Next([]byte("ef\r\n"))
	if !ok || line.Len != 8 || !line.Truncated || string(line.Text) != "abc" {
		t.Fatalf("got %+v %v", line, ok)
	}
}
