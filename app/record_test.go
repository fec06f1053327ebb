package app

import "testing"

type nopStream struct{ sink Sink }

func (nopStream) Bytes(Side, []byte, Pos)    {}
func (nopStream) Gap(Side, int64, Pos)       {}
func (nopStream) Close(Side, bool, Pos)      {}
func (nopStream) End(Pos)                    {}
func (nopStream) Datagram(Side, []byte, Pos) {}

// TestProtocolPrefersOpen: Stream and Datagrams use the Output-taking
// constructors when a decoder has them and fall back to the Sink-taking ones
// (as app/oncrpc's), handing over the sink.
func TestProtocolPrefersOpen(t *testing.T) {
	var got []string
	sink := func(Transaction) { got = append(got, "tx") }
	old := Protocol{
		Name:         "old",
		NewStream:    func(s Sink) Stream { s(Transaction{}); return nopStream{s} },
		NewDatagrams: func(s Sink) Datagrams { s(Transaction{}); return nopStream{s} },
	}
	if old.Stream(Output{Sink: sink}) == nil || old.Datagrams(Output{Sink: sink}) == nil || len(got) != 2 {
		t.Fatalf("fallback: %v", got)
	}
	opened := ""
	both := old
	both.OpenStream = func(o Output) Stream { opened += "stream "; o.EmitRecord(nil); return nopStream{} }
	both.OpenDatagrams = func(o Output) Datagrams { opened += "datagrams"; return nopStream{} }
	both.Stream(Output{})
	both.Datagrams(Output{})
	if opened != "stream datagrams" || len(got) != 2 {
		t.Fatalf("opened %q, sink calls %d", opened, len(got))
	}
	if (Protocol{Name: "none"}).Stream(Output{}) != nil {
		t.Fatal("a protocol without a TCP decoder returned one")
	}
	// Emit with no sink is a no-op, not a nil call.
	Output{}.Emit(Transaction{})
}

func TestFieldBuilders(t *testing.T) {
	for _, tc := range []struct {
		f    Field
		want Field
	}{
		{String("a", "\xff"), Field{Name: "a", Kind: FieldString, Str: "\xff"}},
		{Uint("b", 7), Field{Name: "b", Kind: FieldUint, Num: 7}},
		{Bool("c", true), Field{Name: "c", Kind: FieldBool, Num: 1}},
		{Bool("c", false), Field{Name: "c", Kind: FieldBool}},
		{Duration("d", 1500), Field{Name: "d", Kind: FieldDuration, Num: 1500}},
		{Addr("e", "10.0.0.1"), Field{Name: "e", Kind: FieldAddr, Str: "10.0.0.1"}},
		{Hex("f", 0x303, 4), Field{Name: "f", Kind: FieldHex, Num: 0x303, Width: 4}},
	} {
		if tc.f != tc.want {
			t.Errorf("got %+v, want %+v", tc.f, tc.want)
		}
	}
}
