package oncrpc

import (
	"iter"
	"slices"
	"strconv"
	"time"
)

// Fields yields the message's fields as tshark names them, with values
// formatted as `tshark -T fields` prints them, in tshark's tree order.
// Program fields follow the RPC ones, e.g. "glusterfs.hndsk.proc",
// "gluster.op_errno", "nfs.status3", "portmap.port".
func (m *Message) Fields() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		u := func(name string, v uint32) bool { return yield(name, strconv.FormatUint(uint64(v), 10)) }
		i := func(name string, v int32) bool { return yield(name, strconv.FormatInt(int64(v), 10)) }
		if !yield("rpc.xid", "0x"+hex8(m.XID)) || !u("rpc.msgtyp", uint32(m.Type)) {
			return
		}
		if m.Type == Call {
			if !u("rpc.version", m.RPCVersion) || !u("rpc.program", m.Program) ||
				!u("rpc.programversion", m.Version) || !u("rpc.procedure", m.Procedure) ||
				!u("rpc.auth.flavor", uint32(m.Cred.Flavor)) {
				return
			}
			// tshark shows the ids of AUTH_SYS and of GlusterFS's own
			// AUTH_GLUSTERFS_v2 credentials.
			if (m.Cred.Flavor == AuthSys || m.Cred.Flavor == AuthGlusterV2) && m.Cred.HasID {
				if !u("rpc.auth.uid", m.Cred.UID) || !u("rpc.auth.gid", m.Cred.GID) {
					return
				}
			}
			if !u("rpc.auth.flavor", uint32(m.Verf.Flavor)) {
				return
			}
		} else {
			if m.Matched {
				// tshark names the call's frame in a reply rpc.repframe (sic).
				if !u("rpc.program", m.Program) || !u("rpc.programversion", m.Version) ||
					!u("rpc.procedure", m.Procedure) || !yield("rpc.repframe", strconv.FormatInt(m.CallAt.Frame, 10)) ||
					!yield("rpc.time", seconds(m.EndAt.Time.Sub(m.CallAt.Time))) {
					return
				}
			}
			if !u("rpc.replystat", uint32(m.ReplyStat)) {
				return
			}
			if m.ReplyStat == Accepted {
				if !u("rpc.auth.flavor", uint32(m.Verf.Flavor)) || !u("rpc.state_accept", uint32(m.AcceptStat)) {
					return
				}
				if m.AcceptStat == ProgMismatch &&
					(!u("rpc.programversion.min", m.Low) || !u("rpc.programversion.max", m.High)) {
					return
				}
			} else {
				if !u("rpc.state_reject", uint32(m.RejectStat)) {
					return
				}
				switch m.RejectStat {
				case RPCMismatch:
					if !u("rpc.version.min", m.Low) || !u("rpc.version.max", m.High) {
						return
					}
				case AuthError:
					if !u("rpc.state_auth", uint32(m.AuthStat)) {
						return
					}
				}
			}
		}
		// tshark decodes the program part of calls and of successful replies.
		if m.Type == Reply && (!m.Matched || m.ReplyStat != Accepted || m.AcceptStat != Success) {
			return
		}
		if f := procedureField(m.Program, m.Version); f != "" && !u(f, m.Procedure) {
			return
		}
		b := &m.Body
		switch b.Status {
		case GlusterOp:
			if !i("gluster.op_ret", b.OpRet) || !i("gluster.op_errno", b.Errno) {
				return
			}
		case NFS3Status:
			if !u("nfs.status3", b.Stat) {
				return
			}
		case MountStatus:
			if !u("mount.status", b.Stat) {
				return
			}
		case NLMStatus:
			if !u("nlm.stat", b.Stat) {
				return
			}
		}
		m.programFields(yield)
	}
}

// programFields yields the argument and result fields tshark names.
func (m *Message) programFields(yield func(string, string) bool) {
	b := &m.Body
	u := func(name string, v uint32) bool { return yield(name, strconv.FormatUint(uint64(v), 10)) }
	switch {
	case m.Program == ProgPortmap && m.Type == Call && b.Prog != 0:
		if m.Version == 2 {
			_ = u("portmap.prog", b.Prog) && u("portmap.version", b.Vers) && u("portmap.proto", b.Proto) &&
				u("portmap.port", b.Port)
		} else {
			_ = u("portmap.rpcb.prog", b.Prog) && u("portmap.rpcb.version", b.Vers) &&
				yield("portmap.rpcb.netid", b.Text)
		}
	case m.Type == Reply && m.Cut:
	case m.Program == ProgPortmap && m.Type == Reply:
		if b.HasPort {
			u("portmap.port", b.Port)
		} else if m.Version >= 3 && (m.Procedure == 3 || m.Procedure == 9) {
			yield("portmap.uaddr", b.Text)
		}
	case m.Program == ProgGlusterPmap && m.Procedure == 1:
		if m.Type == Call {
			yield("gluster.brick", b.Text)
		} else if b.HasPort {
			u("gluster.brick.port", b.Port)
		}
	case m.Program == ProgGlusterHandshk && m.Procedure == 2 && m.Type == Call:
		yield("glusterfs.hndsk.getspec.key", b.Text)
	case m.Program == ProgMount && m.Type == Call && (m.Procedure == 1 || m.Procedure == 3):
		yield("mount.path", b.Text)
	}
}

// seconds formats d as tshark formats relative times: seconds with nine
// decimals.
func seconds(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := strconv.FormatInt(int64(d/time.Second), 10) + "." + pad9(int64(d%time.Second))
	if neg {
		return "-" + s
	}
	return s
}

func pad9(n int64) string {
	s := strconv.FormatInt(n, 10)
	return "000000000"[len(s):] + s
}

// FieldNames lists every field name Fields can yield, sorted.
func FieldNames() []string {
	names := []string{"rpc.xid", "rpc.msgtyp", "rpc.version", "rpc.program", "rpc.programversion",
		"rpc.procedure", "rpc.auth.flavor", "rpc.auth.uid", "rpc.auth.gid", "rpc.repframe", "rpc.time",
		"rpc.replystat", "rpc.state_accept", "rpc.programversion.min", "rpc.programversion.max",
		"rpc.state_reject", "rpc.version.min", "rpc.version.max", "rpc.state_auth",
		"gluster.op_ret", "gluster.op_errno", "nfs.status3", "mount.status", "nlm.stat",
		"portmap.prog", "portmap.version", "portmap.proto", "portmap.port", "portmap.rpcb.prog",
		"portmap.rpcb.version", "portmap.rpcb.netid", "portmap.uaddr", "gluster.brick", "gluster.brick.port",
		"glusterfs.hndsk.getspec.key", "mount.path"}
	for _, p := range programs {
		for _, v := range p.versions {
			if v.field != "" {
				names = append(names, v.field)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
