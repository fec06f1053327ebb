package txns

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

func rows() []Row {
	at := capture.Time(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	ep := func(s string) flow.Endpoint {
		a := netip.MustParseAddrPort(s)
		return flow.Endpoint{Addr: a.Addr(), Port: a.Port()}
	}
	return []Row{
		{Capture: "client", Transport: "tcp", Stream: 3, Client: ep("10.0.0.1:40000"), Server: ep("10.0.0.2:80"),
			Transaction: app.Transaction{Protocol: "http", Operation: "GET", Request: "GET /\x1b[31mred\ttab\\", Reply: "404 Not Found",
				Status: app.StatusError, Error: "404", RequestAt: app.Pos{Frame: 4, Time: at}, ReplyAt: app.Pos{Frame: 6, Time: at + 2_500_000},
				Latency: 2500 * time.Microsecond}},
		{Capture: "client", Transport: "udp", Stream: -1, Client: ep("10.0.0.1:5353"), Server: ep("10.0.0.53:53"),
			Transaction: app.Transaction{Protocol: "dns", Operation: "A", Request: "A bad\xffname", Status: app.StatusNoReply,
				RequestAt: app.Pos{Frame: 9, Time: at + 1e9}}},
	}
}

// TestFormats: every format renders both rows; bytes from packets are
// escaped (no escape sequence reaches a terminal, no tab breaks a TSV
// row, invalid UTF-8 survives JSON as \xNN).
func TestFormats(t *testing.T) {
	var text, tsv, js strings.Builder
	for f, w := range map[Format]*strings.Builder{Text: &text, TSV: &tsv, JSON: &js} {
		if err := Write(w, f, rows()); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(text.String(), "\x1b") || !strings.Contains(text.String(), `GET /\x1b[31mred\x09tab\\`) {
		t.Errorf("text not escaped:\n%s", text.String())
	}
	if !strings.Contains(text.String(), "2024-03-01 12:00:00.000000  http    10.0.0.1:40000 → 10.0.0.2:80") ||
		!strings.Contains(text.String(), "2.5 ms  4→6") || !strings.Contains(text.String(), "no-reply") {
		t.Errorf("text:\n%s", text.String())
	}
	lines := strings.Split(strings.TrimSpace(tsv.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("tsv lines %d:\n%s", len(lines), tsv.String())
	}
	for _, l := range lines {
		if n := strings.Count(l, "\t"); n != len(columns)-1 {
			t.Errorf("tsv row has %d tabs: %q", n, l)
		}
	}
	if !strings.Contains(lines[1], `GET /\x1b[31mred\ttab\\`) || !strings.Contains(lines[1], "\t0.002500\t4\t6\ttcp\t3") {
		t.Errorf("tsv row %q", lines[1])
	}
	var out struct {
		Transactions []map[string]any `json:"transactions"`
	}
	if err := json.Unmarshal([]byte(js.String()), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Transactions) != 2 || out.Transactions[1]["request"] != `A bad\xffname` || out.Transactions[0]["latency_s"] != 0.0025 {
		t.Errorf("json %v", out.Transactions)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
