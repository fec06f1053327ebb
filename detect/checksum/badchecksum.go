package checksum

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// BadChecksum reports TCP segments whose checksums are really wrong —
// damaged on the way, or computed wrongly by a device — with what they
// have in common, and says as information when wrong checksums are only
// the capture host's checksum offload.
var BadChecksum = &detect.Detector{
	ID:       "tcp.bad-checksum",
	Doc:      "checksums that are really wrong (not offload artefacts), with what the affected packets have in common (size, padding, flags, direction)",
	Requires: []*detect.Observer{Verdicts},
	Run:      run,
}

// ChainError is the number of wrong copies of one segment in a row from
// which the fault breaks the connection (error rather than warning).
const ChainError = 3

func result(ds *detect.Dataset) *Result {
	r, _ := ds.Result(Verdicts).(*Result)
	return r
}

// Judgement is what the detector makes of a direction's Bad checksums.
type Judgement uint8

const (
	None     Judgement = iota // no Bad checksums
	Corrupt                   // really wrong
	Constant                  // one constant value on segments that differ: a NIC's placeholder
	Accepted                  // the receiver took them: completed after the capture point
)

// Judge decides about a direction's Bad checksums.
func Judge(d *Direction) Judgement {
	v := d.BadVerdict
	switch {
	case d.Bad == 0:
		return None
	case d.Bad >= 2 && d.BadConstant && v.Rejected == 0:
		return Constant
	case v.Accepted > v.Rejected:
		return Accepted
	}
	return Corrupt
}

func run(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		r := result(ds)
		if r == nil {
			continue
		}
		for _, d := range r.Directions {
			if Judge(d) == Corrupt {
				p.Report(corruptFinding(ds, r, d))
			}
		}
		if f, ok := offloadFinding(ds, r); ok {
			p.Report(f)
		}
	}
	return nil
}

func plural(n int64, word string) string { return detect.Plural(int(n), word) }

func lengths(lo, hi int) string {
	if lo == hi {
		return fmt.Sprintf("%d bytes", lo)
	}
	return fmt.Sprintf("%d–%d bytes", lo, hi)
}

// common says what the wrong segments of d have in common and how they
// differ from the right ones; small is the category (Padded or Short) all
// of them belong to, or NumCategories.
func common(d *Direction) (sentences []string, small Category) {
	small = NumCategories
	if d.Bad < 2 {
		return nil, small
	}
	// Padding (or, seen before the padding is added, shortness).
	for _, c := range []Category{Padded, Short} {
		bad, all := d.BadCats[c], d.All[c]
		other := d.Verified - all
		if bad != d.Bad {
			continue
		}
		s := fmt.Sprintf("every one of them was a %s", c)
		if c == Padded {
			s = "every one of them was a padded frame (Ethernet padding after an IP packet under 46 bytes)"
		}
		switch {
		case all == bad && other > 0:
			s += fmt.Sprintf(", every %s from %s was wrong, and none of the %d others", c, d.Src, other)
		case other > 0:
			s += fmt.Sprintf("; %d of the %d %ss were wrong, none of the %d others", bad, all, c, other)
		}
		return append(sentences, s+"."), c
	}
	if d.BadCats[Padded] == 0 && d.All[Padded] > 0 {
		sentences = append(sentences, fmt.Sprintf("padding is not what they share: none of the %d padded frames was wrong.", d.All[Padded]))
	}
	return sentences, small
}

func kinds(d *Direction) (bad, clean []string) {
	for _, c := range []Category{BareACK, FIN, RST, SYN, Data} {
		switch {
		case d.BadCats[c] > 0:
			bad = append(bad, fmt.Sprintf("%d %s", d.BadCats[c], plural2(d.BadCats[c], c.String())))
		case d.All[c] > 0:
			clean = append(clean, fmt.Sprintf("%d %s", d.All[c], plural2(d.All[c], c.String())))
		}
	}
	return bad, clean
}

func plural2(n int64, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func categoryFact(d *Direction) string {
	var s []string
	keys := [...]string{"padded", "short", "bare_ack", "fin", "rst", "syn", "data"}
	for c := range NumCategories {
		if d.BadCats[c] > 0 {
			s = append(s, fmt.Sprintf("%s:%d", keys[c], d.BadCats[c]))
		}
	}
	return strings.Join(s, ",")
}

// hostConns counts the connections between two hosts.
func hostConns(ds *detect.Dataset, a, b netip.Addr) int {
	n := 0
	for i := range ds.Briefs {
		x := &ds.Briefs[i]
		if x.Orig.Addr == a && x.Resp.Addr == b || x.Orig.Addr == b && x.Resp.Addr == a {
			n++
		}
	}
	return n
}

func corruptFinding(ds *detect.Dataset, r *Result, d *Direction) detect.Finding {
	f := detect.Finding{Severity: detect.Warning}
	v := d.BadVerdict
	if v.Chain >= ChainError {
		f.Severity = detect.Error
	}
	seen := map[[2]flow.Endpoint]bool{}
	for _, fl := range d.Flows {
		for i := range ds.Briefs {
			b := &ds.Briefs[i]
			k := [2]flow.Endpoint{b.Orig, b.Resp}
			if (b.Orig == fl[0] && b.Resp == fl[1] || b.Orig == fl[1] && b.Resp == fl[0]) && !seen[k] {
				seen[k] = true
				f.AddConn(detect.NewConn(ds.Name, b.Proto.String(), b.Orig, b.Resp, b.Start, ""))
			}
		}
	}
	f.Affected = max(len(seen), len(d.Flows)) + d.MoreFlows
	f.OutOf = max(hostConns(ds, d.Src, d.Dst), f.Affected)
	f.Comparable = fmt.Sprintf("connections between %s and %s", d.Src, d.Dst)
	f.Score = float64(f.Affected)

	shared, small := common(d)
	badKinds, cleanKinds := kinds(d)
	switch {
	case small == Padded:
		f.Title = fmt.Sprintf("Wrong TCP checksums on padded frames from %s to %s (%d of %d segments)", d.Src, d.Dst, d.Bad, d.Verified)
	case small == Short:
		f.Title = fmt.Sprintf("Wrong TCP checksums on short packets from %s to %s (%d of %d segments)", d.Src, d.Dst, d.Bad, d.Verified)
	case len(badKinds) == 1:
		f.Title = fmt.Sprintf("Wrong TCP checksums on %s from %s to %s (%d of %d segments)", strings.SplitN(badKinds[0], " ", 2)[1], d.Src, d.Dst, d.Bad, d.Verified)
	default:
		f.Title = fmt.Sprintf("Wrong TCP checksums on %d of %d segments from %s to %s", d.Bad, d.Verified, d.Src, d.Dst)
	}
	var ex []string
	when := "at " + clock(d.FirstBad)
	if d.Bad > 1 {
		when = fmt.Sprintf("between %s and %s", clock(d.FirstBad), clock(d.LastBad))
	}
	ex = append(ex, fmt.Sprintf("In %s, %d of the %d TCP segments from %s to %s had a wrong checksum, %s. "+
		"This is not what checksum offload leaves: the field holds neither the pseudo-header sum a sender leaves for its NIC nor zero, the capture does not mark the segments as sent by the capturing host, and the receiver did not acknowledge them as if they were good.",
		ds.Name, d.Bad, d.Verified, d.Src, d.Dst, when))
	switch {
	case v.Rejected > 0:
		s := fmt.Sprintf("The receiver dropped them: %s carrying data, SYN or FIN %s sent again before being acknowledged", plural(v.Rejected, "wrong segment"), was(v.Rejected))
		if v.Chain >= 2 {
			s += fmt.Sprintf(", one of them %d times in a row with a wrong checksum every time", v.Chain)
		}
		ex = append(ex, s+".")
	case d.BadCats[Data]+d.BadCats[FIN]+d.BadCats[SYN] == 0:
		ex = append(ex, "A receiver drops a segment with a wrong checksum; for bare ACKs that costs little, for FINs and RSTs it leaves connections hanging.")
	}
	if len(shared) > 0 {
		ex = append(ex, "What they have in common: "+strings.Join(shared, " "))
	}
	s := fmt.Sprintf("They were %s, %s long", strings.Join(badKinds, ", "), lengths(d.BadMin, d.BadMax))
	if d.Bad == 1 {
		s = fmt.Sprintf("It was a %s, %s long", strings.SplitN(badKinds[0], " ", 2)[1], lengths(d.BadMin, d.BadMax))
	}
	if d.Good > 0 {
		s += fmt.Sprintf(" (the right ones %s)", lengths(d.GoodMin, d.GoodMax))
		if len(cleanKinds) > 0 {
			s += "; none of the " + strings.Join(cleanKinds, " or ") + " was wrong"
		}
	}
	ex = append(ex, s+".")
	if rev := r.Find(d.Dst, d.Src); rev != nil && rev.Verified > 0 && d.Src != d.Dst {
		if Judge(rev) == Corrupt {
			ex = append(ex, fmt.Sprintf("The other direction is affected too (%d of %d wrong).", rev.Bad, rev.Verified))
		} else {
			ex = append(ex, fmt.Sprintf("Only this direction: none of the %d segments from %s to %s had a wrong checksum.", rev.Verified, d.Dst, d.Src))
		}
	}
	if d.OverPadding > 0 {
		ex = append(ex, fmt.Sprintf("%d of them verify when the Ethernet padding is summed as part of the segment: the checksum was computed over the frame's length, not the IP packet's. "+
			"A device that makes this mistake when verifying (Open vSwitch conntrack before its fix, which drops padded frames under 60 bytes as bad) or when writing checksums is on the path.", d.OverPadding))
	}
	if d.IPBad > 0 {
		ex = append(ex, fmt.Sprintf("%s also had a wrong IPv4 header checksum.", plural(d.IPBad, "packet")))
	}
	f.Explanation = strings.Join(ex, " ")

	for i, ref := range d.BadSamples {
		note := "wrong TCP checksum"
		if i == 0 {
			note = "first segment with a wrong TCP checksum"
		}
		f.AddEvidence(detect.Packet(ds, ref, note))
	}
	if v.Chain >= 2 && !slices.Contains(d.BadSamples, v.ChainRef) {
		f.AddEvidence(detect.Packet(ds, v.ChainRef, fmt.Sprintf("copy %d of the same segment, wrong again", v.Chain)))
	}
	f.AddFact("src", d.Src.String())
	f.AddFact("dst", d.Dst.String())
	f.AddFact("bad", fmt.Sprint(d.Bad))
	f.AddFact("verified", fmt.Sprint(d.Verified))
	f.AddFact("categories", categoryFact(d))
	f.AddFact("padded_bad", fmt.Sprint(d.BadCats[Padded]))
	f.AddFact("padded", fmt.Sprint(d.All[Padded]))
	f.AddFact("ip_len", fmt.Sprintf("%d-%d", d.BadMin, d.BadMax))
	f.AddFact("rejected", fmt.Sprint(v.Rejected))
	f.AddFact("accepted", fmt.Sprint(v.Accepted))
	if d.OverPadding > 0 {
		f.AddFact("over_padding", fmt.Sprint(d.OverPadding))
	}
	if small != NumCategories {
		f.NextSteps = append(f.NextSteps,
			"Only short, padded frames are hit: look for a device that computes or verifies checksums over the Ethernet padding — an Open vSwitch datapath with conntrack (Red Hat: \"Intermittent packet drops in OpenvSwitch with Conntrack ACL\"), a virtual switch, a NIC driver — and update it.",
			"As a stopgap where Linux conntrack drops them (dmesg with net.netfilter.nf_conntrack_log_invalid=255 shows \"nf_ct_tcp: bad TCP checksum\"), net.netfilter.nf_conntrack_checksum=0 stops it judging checksums.")
	}
	f.NextSteps = append(f.NextSteps,
		fmt.Sprintf("Capture at several points between %s and %s: the last capture where these segments still have right checksums is before the device or link that damages them.", d.Src, d.Dst),
		"Check error counters on the links in between (ip -s link, ethtool -S: rx_crc_errors, rx_frame_errors) and replace cables or optics that count errors.",
		fmt.Sprintf("If this capture was taken on %s itself, rule out offload: capture again with ethtool -K IFACE tx off rx off.", d.Src))
	return f
}

// clock writes a capture time as the time of day, as the evidence lines
// show it.
func clock(t capture.Time) string { return t.UTC().Format("15:04:05.000000") }

func was(n int64) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// offloadFinding says, as information, which hosts' outgoing checksums
// cannot be judged because the capture host offloads them. It names no
// connections, so it is never merged with another capture's fault.
func offloadFinding(ds *detect.Dataset, r *Result) (detect.Finding, bool) {
	type host struct {
		n, partial, zero, accepted, acks, constant int64
		sample                                     []int
	}
	hosts := map[netip.Addr]*host{}
	var order []netip.Addr
	f := detect.Finding{Severity: detect.Info}
	var total int64
	for _, d := range r.Directions {
		j := Judge(d)
		n := d.OffloadStyle
		if j == Accepted || j == Constant {
			n += d.Bad
		}
		if n == 0 {
			continue
		}
		h := hosts[d.Src]
		if h == nil {
			h = &host{}
			hosts[d.Src] = h
			order = append(order, d.Src)
		}
		h.n += n
		h.partial += d.Partial
		h.zero += d.Zero
		total += n
		switch j {
		case Accepted:
			h.accepted += d.Bad
			h.acks += d.BadVerdict.Accepted
		case Constant:
			h.constant += d.Bad
		}
		for _, ref := range d.OffloadSamples {
			if len(f.Evidence) < 2 {
				f.AddEvidence(detect.Packet(ds, ref, fmt.Sprintf("sent by %s, checksum not yet filled in", d.Src)))
			}
		}
		if j != Corrupt && len(f.Evidence) < 2 {
			for _, ref := range d.BadSamples {
				if len(f.Evidence) < 2 {
					f.AddEvidence(detect.Packet(ds, ref, fmt.Sprintf("sent by %s, wrong checksum the receiver accepted", d.Src)))
				}
			}
		}
	}
	if total == 0 {
		return f, false
	}
	var parts []string
	for _, a := range order {
		h := hosts[a]
		var how []string
		if h.partial > 0 {
			how = append(how, fmt.Sprintf("%d hold only the pseudo-header sum", h.partial))
		}
		if h.zero > 0 {
			how = append(how, fmt.Sprintf("%d are zero", h.zero))
		}
		if h.accepted > 0 {
			how = append(how, fmt.Sprintf("%d with other values, the %d of them that carried data, SYN or FIN acknowledged without a resend", h.accepted, h.acks))
		}
		if h.constant > 0 {
			how = append(how, fmt.Sprintf("%d carry one constant placeholder value", h.constant))
		}
		s := fmt.Sprintf("%d from %s", h.n, a)
		if len(how) > 0 {
			s += " (" + strings.Join(how, ", ") + ")"
		}
		parts = append(parts, s)
	}
	names := make([]string, len(order))
	for i, a := range order {
		names[i] = a.String()
	}
	var offl, acc int64
	for _, h := range hosts {
		offl += h.partial + h.zero + h.constant
		acc += h.accepted
	}
	f.Title = fmt.Sprintf("Checksums not final when captured: TCP checksums from %s cannot be judged", strings.Join(names, ", "))
	f.Explanation = fmt.Sprintf("In %s, %d TCP segments carry checksums that are wrong in the capture but were not wrong on the wire: %s.",
		ds.Name, total, strings.Join(parts, "; "))
	if offl > 0 || total > acc {
		f.Explanation += " That is checksum offload: the sending host leaves the checksum to its network card, which completes it after the point where the capture copies the packet."
	}
	if acc > 0 {
		f.Explanation += " Segments the receiver acknowledged without a resend had good checksums when they arrived: they were completed after the capture point (offload by a card that leaves other values), merged on receipt into larger packets (GRO/LRO) whose checksum is no longer checked, or the capture was edited afterwards (addresses anonymised or rewritten without fixing checksums)."
	}
	f.Explanation += " It is not a network fault, and these checksums cannot be judged from this capture."
	f.AddFact("offload_segments", fmt.Sprint(total))
	f.AddFact("hosts", strings.Join(names, ","))
	f.NextSteps = []string{
		"To judge these checksums, capture elsewhere on the path, or turn offload off while capturing (ethtool -K IFACE tx off).",
	}
	return f, true
}
