package http1

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var (
	requestFields = []string{"http.request.method", "http.request.uri", "http.request.version",
		"http.host", "http.connection", "http.content_length", "http.transfer_encoding", "http.request_number"}
	responseFields = []string{"http.response.code", "http.response.phrase", "http.response.version",
		"http.connection", "http.content_length", "http.transfer_encoding", "http.request_in", "http.time"}
)

// TestAgainstTshark decodes testdata/http.pcap (made by testdata/capture.sh
// with curl and python servers) and compares every request and response
// field with tshark's on the same capture.
func TestAgainstTshark(t *testing.T) {
	for _, pcap := range []string{"testdata/http.pcap", "testdata/missing-fin.pcap"} {
		t.Run(pcap, func(t *testing.T) { compareTshark(t, pcap) })
	}
}

func compareTshark(t *testing.T, pcap string) {
	conns, err := apptest.Load(pcap, apptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	connOf := apptest.ConnOf(conns)
	o := decodeCapture(t, pcap, apptest.Options{}, 0)
	decodeAs := []string{"tcp.port==8081,http", "tcp.port==8082,http", "tcp.port==8083,http"}

	var reqs, resps []app.Record
	pipelined := map[int]bool{} // connections where one frame carried several requests
	perFrame := map[int64]int{}
	for _, r := range o.recs {
		switch r := r.(type) {
		case *Request:
			reqs = append(reqs, r)
			perFrame[r.End.Frame]++
			if perFrame[r.End.Frame] > 1 {
				pipelined[connOf[r.End.Frame]] = true
			}
		case *Response:
			resps = append(resps, r)
		}
	}
	openEnded := map[int64]bool{} // close-delimited responses whose FIN never came
	for _, r := range o.responses() {
		if r.Delimit == ByClose && !r.Complete {
			openEnded[r.End.Frame] = true
		}
	}
	interim := map[int64]bool{}
	waiting := map[int64]bool{} // interim responses sent before their request's body
	for _, r := range o.responses() {
		if r.Interim {
			interim[r.End.Frame] = true
			if r.RequestDone == r.RequestAt {
				waiting[r.End.Frame] = true
			}
		}
	}
	explainRequest := func(frame int64, field, ours, theirs string) string {
		// tshark numbers request/response slots: the 100 Continue, sent
		// before the request's body completed the request PDU, took slot 1.
		if field == "http.request_number" && hasInterimBefore(o, frame) {
			return "tshark gave the earlier interim response its own request number"
		}
		return ""
	}
	explainResponse := func(frame int64, field, ours, theirs string) string {
		if openEnded[frame] && theirs == "" {
			// tshark reassembles a close-delimited body until the FIN and
			// shows nothing when it never comes; we report it cut at End.
			return "close-delimited response without FIN: tshark never dissects it"
		}
		if waiting[frame] && theirs == "" && (field == "http.request_in" || field == "http.time") {
			return "interim response before the request body: tshark has not dissected the request yet, so pairs it with nothing"
		}
		if pipelined[connOf[frame]] {
			// tshark keeps one "last request" per conversation and does not
			// queue pipelined ones: responses after the first get no
			// request_in, and the HEAD response is taken to have a
			// Content-Length body, which swallows the next response's head.
			return "tshark does not pair pipelined responses"
		}
		return ""
	}
	req := apptest.Compare(t, apptest.Ours(reqs, requestFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, "http.request", requestFields...), requestFields),
		requestFields, explainRequest)
	resp := apptest.Compare(t, apptest.Ours(resps, responseFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, "http.response", responseFields...), responseFields),
		responseFields, explainResponse)
	t.Logf("requests: %v", req)
	t.Logf("responses: %v", resp)
	if pcap == "testdata/http.pcap" && (len(pipelined) != 1 || len(interim) == 0) {
		t.Errorf("want one pipelined connection and a 100 Continue in the capture, got %d, %d", len(pipelined), len(interim))
	}
}

// hasInterimBefore reports whether the request completed at frame was
// preceded on its connection by an interim response paired with it.
func hasInterimBefore(o *output, frame int64) bool {
	for _, r := range o.responses() {
		if r.Interim && r.Start.Frame < frame {
			for _, q := range o.requests() {
				if q.End.Frame == frame && q.Start == r.RequestAt {
					return true
				}
			}
		}
	}
	return false
}
