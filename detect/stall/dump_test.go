package stall

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
)

func TestDump(t *testing.T) {
	dir := os.Getenv("DUMP")
	if dir == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, f := range files {
		ds, err := detect.Build(detect.BuildOptions{Name: filepath.Base(f), File: f, Detectors: []*detect.Detector{{ID: "x", Requires: []*detect.Observer{Progress}}}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("=====", f)
		for _, fl := range ProgressOf(ds).Flows {
			fmt.Printf("stream %d %s>%s syn=%v clientA=%v\n", fl.Stream, fl.A, fl.B, fl.SYN, fl.ClientA)
			for i := range fl.Dir {
				d := &fl.Dir[i]
				fmt.Printf("  d%d pk=%d next=%d dataEnd=%d acked=%d(%v) out=%d headTx=%d rx=%d stuck=%d hole=%v[%d,%d) fins=%d finAcked=%v rst=%d close=%d quiet=%v peerQuiet=%v zw=%v\n",
					i, d.Packets, d.Next, d.DataEnd, d.Acked, d.AckSeen, d.Unacked(), d.HeadTx, d.HeadRexmits, d.Stuck, d.Hole, d.HoleLo, d.HoleHi, d.FINs, d.FINAcked, d.RST.Frame, d.Close.Frame, d.Quiet, d.PeerQuiet, d.PeerZeroWindow)
			}
		}
	}
}

func TestDumpApps(t *testing.T) {
	dir := os.Getenv("DUMP")
	if dir == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, f := range files {
		ds, err := detect.Build(detect.BuildOptions{Name: filepath.Base(f), File: f})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("=====", f)
		for i, x := range ds.Transactions {
			fmt.Printf("  s%d %+v\n", ds.TxnStreams[i], x)
		}
		for s, a := range ds.Apps {
			fmt.Printf("  app s%d %s %+v\n", s, a.Protocol, a.Summary)
		}
	}
}
