package conn_test

import (
	"fmt"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
)

// A connection whose server FIN is lost before the client: Zeek's columns
// say RSTO, the extras say why.
func Example() {
	cfg := synth.Config{
		Client: synth.Endpoint{Addr: cliAddr, ISN: 1000},
		Server: synth.Endpoint{Addr: srvAddr, ISN: 5000, NoTimestamps: true},
		Start:  time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		RTT:    10 * time.Millisecond,
	}
	c := synth.NewConn(cfg)
	c.Fault(synth.Match{From: synth.Server, Flags: synth.FIN}, synth.Fate{Lost: true, At: 0.5})
	c.Handshake()
	c.Send(synth.Client, 300)
	c.Send(synth.Server, 2000)
	c.Close(synth.Server)
	c.Wait(60 * time.Second)
	c.Reset(synth.Client)

	tr := conn.New(conn.DefaultOptions(), func(r *conn.Record) {
		fmt.Println(r.ID.OrigH, r.ID.OrigP, "->", r.ID.RespH, r.ID.RespP, r.State, r.History, r.OrigBytes, r.RespBytes)
		fmt.Println("handshake RTT", r.Handshake.RTT, "timestamps", r.Timestamps())
		fmt.Println("closed first by", r.Close.By, r.Close.How, "after", r.Idle.Gap.Round(time.Second), "idle; after the data:", r.Idle.AfterLastData)
	})
	d := conn.NewDecoder()
	var p packet.Packet
	for i, f := range c.Capture(synth.Vantage{At: 0}) {
		d.Decode(&capture.Frame{Number: int64(i + 1), Time: capture.Time(f.Time.UnixNano()), Data: f.Data, OrigLen: len(f.Data), LinkType: capture.LinkEthernet}, &p)
		tr.Observe(&p, nil)
	}
	tr.Finish()
	// Output:
	// 10.1.0.1 46518 -> 10.2.0.2 80 RSTO ShADdR 300 2000
	// handshake RTT 10ms timestamps orig only
	// closed first by orig RST after 1m27s idle; after the data: true
}
