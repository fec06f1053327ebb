package oncrpc

import (
	"strconv"

	"github.com/wiresleuth/wiresleuth/app"
)

// MsgType is an RPC message's type (rpc.msgtyp).
type MsgType uint32

const (
	Call  MsgType = 0
	Reply MsgType = 1
)

func (t MsgType) String() string {
	switch t {
	case Call:
		return "Call"
	case Reply:
		return "Reply"
	}
	return "msgtype " + strconv.FormatUint(uint64(t), 10)
}

// ReplyStat says whether the server accepted the call (rpc.replystat).
type ReplyStat uint32

const (
	Accepted ReplyStat = 0 // MSG_ACCEPTED
	Denied   ReplyStat = 1 // MSG_DENIED
)

// AcceptStat is the outcome of an accepted call (rpc.state_accept).
type AcceptStat uint32

const (
	Success      AcceptStat = 0
	ProgUnavail  AcceptStat = 1
	ProgMismatch AcceptStat = 2
	ProcUnavail  AcceptStat = 3
	GarbageArgs  AcceptStat = 4
	SystemErr    AcceptStat = 5
)

var acceptNames = [...]string{"SUCCESS", "PROG_UNAVAIL", "PROG_MISMATCH", "PROC_UNAVAIL", "GARBAGE_ARGS", "SYSTEM_ERR"}

func (s AcceptStat) String() string {
	if int(s) < len(acceptNames) {
		return acceptNames[s]
	}
	return "accept_stat " + strconv.FormatUint(uint64(s), 10)
}

// RejectStat is why a call was denied (rpc.state_reject).
type RejectStat uint32

const (
	RPCMismatch RejectStat = 0
	AuthError   RejectStat = 1
)

func (s RejectStat) String() string {
	switch s {
	case RPCMismatch:
		return "RPC_MISMATCH"
	case AuthError:
		return "AUTH_ERROR"
	}
	return "reject_stat " + strconv.FormatUint(uint64(s), 10)
}

// AuthStat is the reason of an AUTH_ERROR (rpc.state_auth), RFC 5531 §9
// and RFC 2203 for the RPCSEC_GSS values.
type AuthStat uint32

var authNames = [...][2]string{
	{"AUTH_OK", "success"},
	{"AUTH_BADCRED", "bad credential (seal broken)"},
	{"AUTH_REJECTEDCRED", "client must begin new session"},
	{"AUTH_BADVERF", "bad verifier (seal broken)"},
	{"AUTH_REJECTEDVERF", "verifier expired or replayed"},
	{"AUTH_TOOWEAK", "rejected for security reasons"},
	{"AUTH_INVALIDRESP", "bogus response verifier"},
	{"AUTH_FAILED", "reason unknown"},
	{"AUTH_KERB_GENERIC", "kerberos generic error"},
	{"AUTH_TIMEEXPIRE", "time of credential expired"},
	{"AUTH_TKT_FILE", "problem with ticket file"},
	{"AUTH_DECODE", "can't decode authenticator"},
	{"AUTH_NET_ADDR", "wrong net address in ticket"},
	{"RPCSEC_GSS_CREDPROBLEM", "no credentials for user"},
	{"RPCSEC_GSS_CTXPROBLEM", "problem with context"},
}

func (s AuthStat) String() string {
	if int(s) < len(authNames) {
		return authNames[s][0]
	}
	return "auth_stat " + strconv.FormatUint(uint64(s), 10)
}

// Text explains the reason in words.
func (s AuthStat) Text() string {
	if int(s) < len(authNames) {
		return authNames[s][1]
	}
	return ""
}

// Flavor is an authentication flavour (rpc.auth.flavor).
type Flavor uint32

const (
	AuthNone      Flavor = 0
	AuthSys       Flavor = 1 // AUTH_UNIX in tshark
	AuthShort     Flavor = 2
	AuthDH        Flavor = 3
	AuthGlusterFS Flavor = 5 // also AUTH_RSA
	RPCSecGSS     Flavor = 6
	AuthGlusterV2 Flavor = 390039
	AuthGlusterV3 Flavor = 390040
)

func (f Flavor) String() string {
	switch f {
	case AuthNone:
		return "AUTH_NONE"
	case AuthSys:
		return "AUTH_SYS"
	case AuthShort:
		return "AUTH_SHORT"
	case AuthDH:
		return "AUTH_DH"
	case AuthGlusterFS:
		return "AUTH_GLUSTERFS"
	case RPCSecGSS:
		return "RPCSEC_GSS"
	case AuthGlusterV2:
		return "AUTH_GLUSTERFS_v2"
	case AuthGlusterV3:
		return "AUTH_GLUSTERFS_v3"
	}
	return "flavor " + strconv.FormatUint(uint64(f), 10)
}

func knownFlavor(f Flavor) bool {
	switch f {
	case AuthNone, AuthSys, AuthShort, AuthDH, AuthGlusterFS, RPCSecGSS, AuthGlusterV2, AuthGlusterV3:
		return true
	}
	return f >= 390003 && f <= 390011 // RPCSEC_GSS pseudo-flavours (RFC 2623)
}

// Auth is a credential or verifier. Only the flavour and the few fields
// worth showing are kept; the body is not.
type Auth struct {
	Flavor Flavor
	Len    uint32 // body length
	// AUTH_SYS, AUTH_GLUSTERFS_v2/v3: the caller's identity.
	HasID    bool
	UID, GID uint32
	// RPCSEC_GSS (RFC 2203): gss_proc (0 DATA, 1 INIT, 2 CONTINUE_INIT,
	// 3 DESTROY) and service (1 none, 2 integrity, 3 privacy).
	GSSProc, GSSService uint32
}

// maxAuthBody is RFC 5531's MAX_AUTH_BYTES.
const maxAuthBody = 400

func readAuth(x *xdr) Auth {
	a := Auth{Flavor: Flavor(x.u32())}
	body := x.opaque(maxAuthBody)
	if !x.ok() {
		return a
	}
	a.Len = uint32(len(body))
	b := xdr{b: body}
	switch a.Flavor {
	case AuthSys: // stamp, machinename<255>, uid, gid, gids<16>
		b.u32()
		b.opaque(255)
		a.UID, a.GID = b.u32(), b.u32()
		a.HasID = b.ok()
	case AuthGlusterV2, AuthGlusterV3: // pid, uid, gid, groups<>, lk_owner<>
		b.u32()
		a.UID, a.GID = b.u32(), b.u32()
		a.HasID = b.ok()
	case RPCSecGSS: // version, gss_proc, seq_num, service, handle<>
		b.u32()
		a.GSSProc = b.u32()
		b.u32()
		a.GSSService = b.u32()
	}
	return a
}

// Message is one decoded RPC message: a TCP record or a UDP datagram.
// Field names in comments are tshark's; Fields yields them.
type Message struct {
	Side      app.Side
	At        app.Pos // frame that carried the message's first byte
	EndAt     app.Pos // frame that carried its last byte (where tshark shows it)
	Len       int     // bytes in the message, without record marks
	Fragments int     // record fragments (TCP); 0 for UDP
	// Cut: part of the message was not decoded: beyond the kept prefix
	// (see MaxPrefix), lost in a capture gap or malformed.
	Cut bool

	XID  uint32  // rpc.xid
	Type MsgType // rpc.msgtyp
	Dup  bool    // a call retransmitted with the XID of a call still waiting (rpc.call.dup)

	// Call header; in a reply, copied from the matched call.
	RPCVersion uint32 // rpc.version
	Program    uint32 // rpc.program
	Version    uint32 // rpc.programversion
	Procedure  uint32 // rpc.procedure
	Cred, Verf Auth   // rpc.auth.flavor (calls: credential; replies: verifier)

	// Reply.
	Matched    bool    // the call was seen: program fields are valid
	CallAt     app.Pos // rpc.reqframe (the call's last frame)
	ReplyStat  ReplyStat
	AcceptStat AcceptStat // when ReplyStat == Accepted
	RejectStat RejectStat // when ReplyStat == Denied
	AuthStat   AuthStat   // when RejectStat == AuthError
	Low, High  uint32     // supported versions: PROG_MISMATCH (program) or RPC_MISMATCH (RPC)

	// Body is the program-level decoding of the call's arguments or of a
	// successful reply's results, for the programs this package knows.
	Body Body
}

// Name returns "Program PROC", e.g. "GlusterFS Handshake SETVOLUME", or
// for a reply whose call was not seen, "reply".
func (m *Message) Name() string {
	if m.Type == Reply && !m.Matched {
		return "reply"
	}
	return ProgramName(m.Program) + " " + ProcedureName(m.Program, m.Version, m.Procedure)
}

// minimum header sizes: xid, mtype, then for a call rpcvers, prog, vers,
// proc and two empty auths; for a reply reply_stat plus at least 8 bytes.
const (
	minCallHeader  = 40
	minReplyHeader = 20
)

// decodeHeader decodes the RPC header in b into m and returns the reader
// positioned at the arguments or results. valid is false if b cannot be an
// RPC message; a header cut short is valid (x.short tells).
func decodeHeader(b []byte, m *Message) (x xdr, valid bool) {
	x = xdr{b: b}
	m.XID = x.u32()
	m.Type = MsgType(x.u32())
	switch m.Type {
	case Call:
		m.RPCVersion = x.u32()
		m.Program, m.Version, m.Procedure = x.u32(), x.u32(), x.u32()
		m.Cred = readAuth(&x)
		m.Verf = readAuth(&x)
		// Any RPC version but 0: a server answers others with RPC_MISMATCH.
		return x, !x.bad && (x.short || m.RPCVersion != 0)
	case Reply:
		m.ReplyStat = ReplyStat(x.u32())
		switch m.ReplyStat {
		case Accepted:
			m.Verf = readAuth(&x)
			m.AcceptStat = AcceptStat(x.u32())
			if m.AcceptStat == ProgMismatch {
				m.Low, m.High = x.u32(), x.u32()
			}
			return x, !x.bad && m.AcceptStat <= SystemErr
		case Denied:
			m.RejectStat = RejectStat(x.u32())
			switch m.RejectStat {
			case RPCMismatch:
				m.Low, m.High = x.u32(), x.u32()
			case AuthError:
				m.AuthStat = AuthStat(x.u32())
			default:
				return x, false
			}
			return x, true
		}
	}
	return x, false
}
