package synth

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// threeFrames: a SYN, a 1000-byte data segment and a bare ACK, with
// sub-microsecond timestamps so resolution shows.
func threeFrames() []Frame {
	ip := func() *IPv4 { return &IPv4{Src: cli4, Dst: srv4, DF: true} }
	return []Frame{
		{Time: t0.Add(123456789), Data: Encode(nil, append([]Layer{eth()}, syn4()...)...)},
		{Time: t0.Add(1*time.Second + 1), Data: Encode(nil, eth(), ip(), &TCP{SrcPort: 40000, DstPort: 80, Seq: 1001, Ack: 1, Flags: PSH | ACK, Window: 502}, Payload(bytes.Repeat([]byte("a"), 1000)))},
		{Time: t0.Add(2*time.Second + 999), Data: Encode(nil, &Ethernet{Src: cliMAC, Dst: srvMAC, Pad: true}, ip(), &TCP{SrcPort: 40000, DstPort: 80, Seq: 2001, Ack: 1, Flags: ACK, Window: 502})},
	}
}

func TestPcapVariantsTshark(t *testing.T) {
	t.Parallel()
	for _, nano := range []bool{false, true} {
		for _, be := range []bool{false, true} {
			for _, snap := range []int{0, 64} {
				name := fmt.Sprintf("ns%v-be%v-snap%d.pcap", nano, be, snap)
				t.Run(name, func(t *testing.T) {
					p := tempFile(t, name)
					var buf bytes.Buffer
					w, err := NewPcapWriter(&buf, PcapOptions{LinkType: LinkEthernet, Nanosecond: nano, BigEndian: be, SnapLen: snap})
					if err != nil {
						t.Fatal(err)
					}
					var offs []int64
					for _, f := range threeFrames() {
						offs = append(offs, w.Offset())
						if err := w.WriteFrame(f); err != nil {
							t.Fatal(err)
						}
					}
					if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					frac := []string{"123456000", "000000000", "000000000"}
					if nano {
						frac = []string{"123456789", "000000001", "000000999"}
					}
					capLen := []int{74, 1054, 60}
					if snap > 0 {
						capLen = []int{64, 64, 60}
					}
					if offs[0] != 24 || offs[1] != int64(24+16+capLen[0]) || offs[2] != offs[1]+int64(16+capLen[1]) {
						t.Errorf("record offsets %v, want each record after the previous one", offs)
					}
					checkFields(t, p, []string{"frame.time_epoch", "frame.cap_len", "frame.len"},
						fmt.Sprintf("1709294400.%s|%d|74", frac[0], capLen[0]),
						fmt.Sprintf("1709294401.%s|%d|1054", frac[1], capLen[1]),
						fmt.Sprintf("1709294402.%s|%d|60", frac[2], capLen[2]))
					if snap == 0 {
						checkClean(t, p)
					}
					info := runTool(t, "capinfos", p)
					wantType := "pcap"
					if nano {
						wantType = "nanosecond pcap"
					}
					for _, want := range []string{wantType, fmt.Sprintf("file hdr: %d bytes", max(snap, 262144*boolInt(snap == 0))), "Number of packets:   3"} {
						if !strings.Contains(info, want) {
							t.Errorf("capinfos lacks %q:\n%s", want, info)
						}
					}
				})
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPcapngTshark(t *testing.T) {
	t.Parallel()
	for _, be := range []bool{false, true} {
		t.Run(fmt.Sprintf("be%v", be), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewPcapngWriter(&buf, PcapngOptions{BigEndian: be, Comment: "section comment", OS: "Linux 6.1", UserAppl: "synth test"})
			must(t, err)
			eth0, err := w.AddInterface(Interface{LinkType: LinkEthernet, Name: "eth0", Description: "uplink", Comment: "tap on the uplink", TSResol: 9})
			must(t, err)
			any, err := w.AddInterface(Interface{LinkType: LinkLinuxSLL2, Name: "any", SnapLen: 100, TSResol: 0x80 | 20})
			must(t, err)
			raw, err := w.AddInterface(Interface{LinkType: LinkRaw, Name: "tun0", TSOffset: 3600})
			must(t, err)
			fr := threeFrames()
			must(t, w.WriteFrame(Frame{Time: fr[0].Time, Data: fr[0].Data, Interface: eth0, Comment: "the SYN", Flags: Outbound}))
			sll := Encode(nil, &SLL2{PacketType: SLLHost, IfIndex: 3, Protocol: EtherTypeIPv4}, Payload(fr[1].Data[14:]))
			must(t, w.WriteFrame(Frame{Time: fr[1].Time, Data: sll, Interface: any, Flags: Inbound}))
			must(t, w.WriteFrame(Frame{Time: fr[2].Time, Data: fr[2].Data[14:54], Interface: raw}))
			must(t, w.WriteSimple(fr[2].Data))
			must(t, w.WriteStats(InterfaceStats{Interface: eth0, Time: t0.Add(3 * time.Second), Start: t0, End: t0.Add(3 * time.Second),
				IfRecv: 10, IfDrop: 3, FilterAccept: -1, OSDrop: 2, UsrDeliv: 2, Comment: "final counters"}))
			must(t, w.WriteStats(InterfaceStats{Interface: any, Time: t0.Add(3 * time.Second), IfRecv: -1, IfDrop: 0, FilterAccept: -1, OSDrop: -1, UsrDeliv: -1}))
			must(t, w.WriteBlock(0x80001234, []byte("local-use block type")))
			p := tempFile(t, "multi.pcapng")
			must(t, os.WriteFile(p, buf.Bytes(), 0o644))

			checkFields(t, p, []string{"frame.interface_id", "frame.interface_name", "frame.comment", "frame.packet_flags_direction",
				"frame.time_epoch", "frame.cap_len", "frame.len", "frame.protocols"},
				"0|eth0|the SYN|0x00000002|1709294400.123456789|74|74|eth:ethertype:ip:tcp",
				// 2^-20 s resolution: 1 s + 1 ns is 1 s.
				"1|any||0x00000001|1709294401.000000000|100|1060|sll:ethertype:ip:tcp:http:data",
				"2|tun0|||1709294402.000000000|40|40|raw:ip:tcp",
				"0|eth0||||60|60|eth:ethertype:ip:tcp") // a simple packet block has no time
			checkClean(t, p)
			info := runTool(t, "capinfos", p)
			for _, want := range []string{
				"Capture comment:     section comment", "Capture oper-sys:    Linux 6.1", "Capture application: synth test",
				"Number of interfaces in file: 3",
				"Name = eth0", "Description = uplink", "Comment = tap on the uplink", "Time resolution = 0x09",
				"Name = any", "Capture length = 100", "Time resolution = 0x94",
				"Number of stat entries = 1",
			} {
				if !strings.Contains(info, want) {
					t.Errorf("capinfos lacks %q:\n%s", want, info)
				}
			}
			if n := strings.Count(info, "Number of stat entries = 1"); n != 2 {
				t.Errorf("capinfos shows %d interfaces with one stat entry, want 2:\n%s", n, info)
			}
		})
	}
}

// TestCompressedTshark writes gzip and zstd files through WriteFile and
// checks tshark reads them, and that the zstd frame is one zstd(1) accepts.
func TestCompressedTshark(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"c.pcap.gz", "c.pcapng.gz", "c.pcap.zst", "c.pcapng.zst"} {
		t.Run(name, func(t *testing.T) {
			p := writeFrames(t, name, LinkEthernet, threeFrames())
			head, _ := os.ReadFile(p)
			if strings.HasSuffix(name, ".gz") && !bytes.HasPrefix(head, []byte{0x1f, 0x8b}) ||
				strings.HasSuffix(name, ".zst") && !bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Fatalf("%s does not start with the compression magic: % x", name, head[:4])
			}
			checkFields(t, p, []string{"frame.len", "tcp.seq"}, "74|1000", "1054|1001", "60|2001")
			if strings.HasSuffix(name, ".zst") {
				out, err := exec.Command("zstd", "-t", p).CombinedOutput()
				if err != nil {
					t.Fatalf("zstd -t: %v\n%s", err, out)
				}
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOffsetsAreBoundaries: cutting a file at each Offset leaves a valid
// capture with the frames before it, which is how hostile-input tests find
// where to truncate or patch.
func TestOffsetsAreBoundaries(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, PcapngOptions{})
	must(t, err)
	_, err = w.AddInterface(Interface{LinkType: LinkEthernet})
	must(t, err)
	var offs []int64
	for _, f := range threeFrames() {
		offs = append(offs, w.Offset())
		must(t, w.WriteFrame(f))
	}
	offs = append(offs, w.Offset())
	if offs[3] != int64(buf.Len()) {
		t.Fatalf("final offset %d, file length %d", offs[3], buf.Len())
	}
	for i, off := range offs {
		p := tempFile(t, fmt.Sprintf("cut%d.pcapng", i))
		must(t, os.WriteFile(p, buf.Bytes()[:off], 0o644))
		if n := len(fields(t, p, "", "frame.number")); n != i {
			t.Errorf("cut at block %d (byte %d): tshark reads %d frames, want %d", i, off, n, i)
		}
	}
}
