package oncrpc

import (
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
)

// transaction describes call and its reply (nil: none) in the shared terms
// of app.Transaction.
func transaction(call, reply *Message, retrans int) app.Transaction {
	t := app.Transaction{
		Protocol:  "oncrpc",
		Operation: call.Name(),
		Request:   requestSummary(call, retrans),
		RequestAt: call.At,
		Status:    app.StatusNoReply,
	}
	if reply == nil {
		t.Reply = "no reply"
		t.Detail = &MessageRecord{Msg: *call}
		return t
	}
	t.ReplyAt = reply.At
	t.Latency = reply.At.Time.Sub(call.At.Time)
	t.Reply, t.Error = replySummary(reply)
	t.Status = app.StatusOK
	if t.Error != "" {
		t.Status = app.StatusError
		t.Detail = &MessageRecord{Msg: *reply}
	}
	return t
}

func requestSummary(m *Message, retrans int) string {
	var b strings.Builder
	b.Grow(96)
	b.WriteString(ProcedureName(m.Program, m.Version, m.Procedure))
	b.WriteString(" v")
	b.WriteString(strconv.FormatUint(uint64(m.Version), 10))
	b.WriteString(" xid 0x")
	b.WriteString(hex8(m.XID))
	if m.RPCVersion != 2 {
		b.WriteString(" RPC version " + strconv.FormatUint(uint64(m.RPCVersion), 10))
	}
	bd := &m.Body
	switch {
	case m.Program == ProgPortmap && bd.Prog != 0:
		b.WriteString(" for ")
		b.WriteString(ProgramName(bd.Prog))
		b.WriteString(" v")
		b.WriteString(strconv.FormatUint(uint64(bd.Vers), 10))
		if m.Version == 2 {
			b.WriteString(protoName(bd.Proto))
		} else if bd.Text != "" {
			b.WriteString(" " + bd.Text)
		}
	case bd.HasPort:
		b.WriteString(" port " + strconv.FormatUint(uint64(bd.Port), 10))
	case bd.Text != "":
		b.WriteString(" " + strconv.Quote(bd.Text))
	}
	b.WriteString(", ")
	b.WriteString(m.Cred.Flavor.String())
	if m.Cred.HasID {
		b.WriteString(" uid " + strconv.FormatUint(uint64(m.Cred.UID), 10))
		b.WriteString(" gid " + strconv.FormatUint(uint64(m.Cred.GID), 10))
	}
	if retrans > 0 {
		b.WriteString(", retransmitted " + strconv.Itoa(retrans) + "x")
	}
	return b.String()
}

func protoName(p uint32) string {
	switch p {
	case 6:
		return " tcp"
	case 17:
		return " udp"
	}
	return " proto " + strconv.FormatUint(uint64(p), 10)
}

// replySummary returns a one-line description of the reply and, when it
// reports a failure, the failure's stable name.
func replySummary(m *Message) (summary, errName string) {
	if m.ReplyStat == Denied {
		switch m.RejectStat {
		case RPCMismatch:
			return "denied RPC_MISMATCH: server supports RPC versions " + versions(m.Low, m.High), "RPC_MISMATCH"
		case AuthError:
			s := "denied AUTH_ERROR: " + m.AuthStat.String()
			if t := m.AuthStat.Text(); t != "" {
				s += " (" + t + ")"
			}
			return s, "AUTH_ERROR/" + m.AuthStat.String()
		}
		return "denied " + m.RejectStat.String(), m.RejectStat.String()
	}
	switch m.AcceptStat {
	case Success:
	case ProgMismatch:
		return "PROG_MISMATCH: server supports versions " + versions(m.Low, m.High), "PROG_MISMATCH"
	default:
		return m.AcceptStat.String(), m.AcceptStat.String()
	}
	b := &m.Body
	switch b.Status {
	case GlusterOp:
		s := "op_ret " + strconv.Itoa(int(b.OpRet))
		if b.OpRet < 0 || b.Errno != 0 {
			s += " errno " + strconv.Itoa(int(b.Errno)) + " " + ErrnoName(b.Errno)
			if t := ErrnoText(b.Errno); t != "" {
				s += " (" + t + ")"
			}
		}
		s += results(m)
		if b.Error != "" {
			s += ": " + strconv.Quote(b.Error)
		}
		if b.Failed() {
			return s, b.ErrorName()
		}
		return s, ""
	case NFS3Status, MountStatus, NLMStatus:
		s := b.ErrorName()
		if b.Status != NLMStatus {
			if t := statText(b.Stat); t != "" {
				s += " (" + t + ")"
			}
		}
		if b.Failed() {
			return s, b.ErrorName()
		}
		return s, ""
	case NotRegistered:
		return "SUCCESS: program not registered (no port, no address)", "NOT_REGISTERED"
	}
	return "SUCCESS" + results(m), ""
}

func results(m *Message) string {
	b := &m.Body
	switch {
	case b.HasPort:
		return ", port " + strconv.FormatUint(uint64(b.Port), 10)
	case b.HasEntries:
		return ", " + strconv.Itoa(b.Entries) + " entries"
	case b.Text != "":
		return ", " + strconv.Quote(b.Text)
	}
	return ""
}

func versions(lo, hi uint32) string {
	if lo == hi {
		return strconv.FormatUint(uint64(lo), 10)
	}
	return strconv.FormatUint(uint64(lo), 10) + "-" + strconv.FormatUint(uint64(hi), 10)
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
