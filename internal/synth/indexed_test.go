package synth_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

func TestCaptureIndexed(t *testing.T) {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:46518")},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80")},
		Start:  time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		RTT:    10 * time.Millisecond,
	})
	c.Lose(synth.Match{From: synth.Server, Flags: synth.FIN})
	c.Handshake()
	c.Send(synth.Client, 300)
	c.Send(synth.Server, 5000)
	c.Close(synth.Server)
	c.Wait(3 * time.Second)
	v := synth.Vantage{At: 0.2}
	plain := c.Capture(v)
	frames, idx := c.CaptureIndexed(v)
	if len(frames) != len(plain) || len(idx) != len(frames) {
		t.Fatalf("%d frames, %d indexes; Capture gives %d", len(frames), len(idx), len(plain))
	}
	for i := range frames {
		if !frames[i].Time.Equal(plain[i].Time) || string(frames[i].Data) != string(plain[i].Data) {
			t.Fatalf("frame %d differs from Capture's", i)
		}
		p := c.Packets()[idx[i]]
		if p.Sent.After(frames[i].Time) {
			t.Fatalf("frame %d at %v: index %d points at a packet sent later (%v)", i, frames[i].Time, idx[i], p.Sent)
		}
	}
}
