package detect

import "testing"

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		word, want string
	}{
		{1, "query", "1 query"}, {2, "query", "2 queries"}, {3, "key", "3 keys"},
		{0, "connection", "0 connections"}, {2, "box", "2 boxes"}, {2, "address", "2 addresses"},
		{4, "SYN", "4 SYNs"}, {2, "patch", "2 patches"},
	} {
		if got := Plural(c.n, c.word); got != c.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", c.n, c.word, got, c.want)
		}
	}
}
