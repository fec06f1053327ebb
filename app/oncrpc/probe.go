package oncrpc

import (
	"encoding/binary"

	"github.com/wiresleuth/wiresleuth/app"
)

// Protocol describes this decoder to the dispatcher.
var Protocol = app.Protocol{
	Name:  "oncrpc",
	Probe: Probe,
	NewStream: func(sink app.Sink) app.Stream {
		return NewStream(Handler{Transaction: sink})
	},
	NewDatagrams: func(sink app.Sink) app.Datagrams {
		return NewDatagrams(Handler{Transaction: sink})
	},
	OpenStream:    func(out app.Output) app.Stream { return NewStream(handlerFor(out)) },
	OpenDatagrams: func(out app.Output) app.Datagrams { return NewDatagrams(handlerFor(out)) },
}

// Probe judges by content whether the first bytes a side sent are ONC RPC,
// over TCP (a record mark, then an RPC header) or UDP (an RPC header).
// A call to a known program with RPC version 2 is Likely; another
// well-formed call, or a well-formed reply, is Maybe, and Likely on a port
// where RPC services live (111, 2049, 4045, 20048, 24007-24008,
// 38465-38469, 49152 and up). Bytes too few to judge are Maybe on such a
// port and No elsewhere; bytes that contradict RPC are No on any port.
func Probe(side app.Side, first []byte, serverPort uint16) app.Confidence {
	hint := rpcPort(serverPort)
	c := app.No
	if len(first) >= 4 {
		mark := binary.BigEndian.Uint32(first)
		if l := mark & 0x7fffffff; l >= minRecord && l <= MaxRecord {
			c = probeHeader(first[4:], hint)
		}
	}
	c = max(c, probeHeader(first, hint))
	if c == app.No && hint && len(first) < 4+16 {
		return app.Maybe // too few bytes to judge
	}
	return c
}

func probeHeader(h []byte, hint bool) app.Confidence {
	if len(h) < 16 || !plausible(h, true, nil) {
		return app.No
	}
	u := func(off int) uint32 { return binary.BigEndian.Uint32(h[off:]) }
	if MsgType(u(4)) == Call {
		if len(h) < 40 {
			return app.No
		}
		prog, vers, proc := u(12), u(16), u(20)
		cred, credLen := Flavor(u(24)), u(28)
		if !knownFlavor(cred) || credLen > maxAuthBody || vers > 1000 || proc > 1000 {
			return app.No
		}
		if KnownProgram(prog) || hint {
			return app.Likely
		}
		return app.Maybe
	}
	if ReplyStat(u(8)) == Accepted {
		if len(h) < 24 || !knownFlavor(Flavor(u(12))) || u(16) > maxAuthBody {
			return app.No
		}
	}
	if hint {
		return app.Likely
	}
	return app.Maybe
}

func rpcPort(p uint16) bool {
	switch {
	case p == 111, p == 2049, p == 4045, p == 20048, p == 24007, p == 24008:
		return true
	case p >= 38465 && p <= 38469: // Gluster NFS, MOUNT, NLM
		return true
	case p >= 49152: // Gluster bricks
		return true
	}
	return false
}
