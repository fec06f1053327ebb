package lab

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Verify reads a run's captures back with tshark and checks that they are
// complete and that the fault really happened: the scenario's own checks
// compare what each vantage point saw with what the fault must cause. It
// returns one line per check ("ok …" or "FAIL …") and an error if any
// check failed.
func Verify(ctx context.Context, res *Result) ([]string, error) {
	sc, ok := Lookup(res.Scenario)
	if !ok {
		return nil, fmt.Errorf("lab: verify: unknown scenario %q", res.Scenario)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		return nil, errors.New("lab: verify needs tshark (Debian: apt-get install tshark)")
	}
	v := &verifier{pk: map[string][]pkt{}}
	for _, c := range res.Captures {
		ps, err := readCapture(ctx, res.Path(c))
		if err != nil {
			v.fail("%s readable: %v", c.Vantage, err)
			continue
		}
		v.that(len(ps) > 0, "%s: %d frames", c.Vantage, len(ps))
		v.that(c.Dropped == 0, "%s: tcpdump dropped %d", c.Vantage, c.Dropped)
		v.that(c.Packets == len(ps), "%s: tcpdump wrote %d frames, tshark read %d", c.Vantage, c.Packets, len(ps))
		v.pk[c.Vantage] = ps
	}
	if v.failed == 0 {
		sc.check(v)
	}
	if v.failed > 0 {
		return v.lines, fmt.Errorf("lab: verify %s: %d of %d checks failed:\n%s", res.Scenario, v.failed, len(v.lines), strings.Join(v.failures(), "\n"))
	}
	return v.lines, nil
}

// verifier collects the outcome of checks.
type verifier struct {
	pk     map[string][]pkt
	lines  []string
	failed int
}

// that records a check and returns its outcome.
func (v *verifier) that(ok bool, format string, args ...any) bool {
	s := fmt.Sprintf(format, args...)
	if ok {
		v.lines = append(v.lines, "ok   "+s)
		return true
	}
	v.lines = append(v.lines, "FAIL "+s)
	v.failed++
	return false
}

func (v *verifier) fail(format string, args ...any) { v.that(false, format, args...) }

func (v *verifier) failures() []string {
	var out []string
	for _, l := range v.lines {
		if strings.HasPrefix(l, "FAIL") {
			out = append(out, l)
		}
	}
	return out
}

// at returns the packets of a vantage point; a check naming a vantage the
// scenario does not have is a bug in the check and fails.
func (v *verifier) at(vantage string) []pkt {
	ps, ok := v.pk[vantage]
	if !ok {
		v.fail("no capture named %s", vantage)
	}
	return ps
}

// count counts the packets at vantage that match.
func (v *verifier) count(vantage string, match func(pkt) bool) int {
	n := 0
	for _, p := range v.at(vantage) {
		if match(p) {
			n++
		}
	}
	return n
}

// find returns the packets at vantage that match.
func (v *verifier) find(vantage string, match func(pkt) bool) []pkt {
	var out []pkt
	for _, p := range v.at(vantage) {
		if match(p) {
			out = append(out, p)
		}
	}
	return out
}

// eq checks that count(vantage, match) is want.
func (v *verifier) eq(want int, vantage, what string, match func(pkt) bool) {
	got := v.count(vantage, match)
	if got == want {
		v.that(true, "%s: %s: %d", vantage, what, got)
	} else {
		v.fail("%s: %s: %d, want %d", vantage, what, got, want)
	}
}

// atLeast checks that count(vantage, match) is at least min.
func (v *verifier) atLeast(min int, vantage, what string, match func(pkt) bool) int {
	got := v.count(vantage, match)
	if got >= min {
		v.that(true, "%s: %s: %d", vantage, what, got)
	} else {
		v.fail("%s: %s: %d, want at least %d", vantage, what, got, min)
	}
	return got
}

// resent counts the data segments at vantage matching match whose bytes had
// all been seen there before: retransmissions that arrived, whatever
// tshark's heuristics call them (a quick one is "out-of-order" to tshark).
func (v *verifier) resent(vantage string, match func(pkt) bool) int {
	type dir struct{ src, dst string }
	maxEnd := map[dir]uint32{}
	n := 0
	for _, p := range v.at(vantage) {
		if !match(p) || !p.data() {
			continue
		}
		d := dir{ep(p.Src, p.Sport), ep(p.Dst, p.Dport)}
		end := p.Seq + uint32(p.TCPLen)
		if m, ok := maxEnd[d]; ok && int32(end-m) <= 0 {
			n++
			continue
		}
		maxEnd[d] = end
	}
	return n
}

// noLoss checks that every packet matching at vantage from also arrives at
// vantage to. (Not "no retransmissions": healthy Linux traffic has some,
// such as a tail loss probe sent because a delayed ACK came late.)
func (v *verifier) noLoss(from, to string, match func(pkt) bool) {
	sent, got := v.count(from, match), v.count(to, match)
	v.that(sent > 0 && sent == got, "%s → %s: all %d data segments arrive (%d)", from, to, sent, got)
}
