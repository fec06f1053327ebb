package synth_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// A client sends three requests of 300 bytes, the server answers 2 KB each,
// and the server's FIN is lost every time: captured at both ends.
func Example() {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:46518")},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80"), NoTimestamps: true},
		Start:  time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		RTT:    10 * time.Millisecond,
	})
	c.Lose(synth.Match{From: synth.Server, Flags: synth.FIN})
	c.Handshake()
	for range 3 {
		c.Send(synth.Client, 300)
		c.Send(synth.Server, 2000)
	}
	c.Close(synth.Server) // retransmitted with back-off until the server gives up
	c.Wait(30 * time.Second)
	c.Reset(synth.Client)

	atServer := c.Capture(synth.Vantage{At: 1, Pad: true})
	atClient := c.Capture(synth.Vantage{At: 0, Pad: true})
	fmt.Println(len(atServer), "frames at the server,", len(atClient), "at the client")
	// synth.WriteFile("server.pcap", synth.LinkEthernet, atServer) writes them.
	// Output: 23 frames at the server, 16 at the client
}
