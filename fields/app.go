package fields

import (
	"net/netip"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
)

// Application fields are those of the messages the app decoders emit
// (app.Record.Fields): a message's fields belong to the frame that carried
// its last byte, where tshark, which reassembles first, shows it. They are
// read from Context.App, which the caller fills from a decoding pass over
// the capture (package app/track).
//
// The names are tshark's where tshark has the field; the few that are
// wiresleuth's own follow tshark's style under the protocol's prefix and
// say so in their Doc. AppProtocols are the protocol names, usable as an
// existence test (-Y rpc): a record of that protocol ends on the frame.
var (
	AppProtocols = []string{"http", "ftp", "dns", "tls", "rpc"}

	appFields = []string{
		// HTTP/1.x (app/http1).
		"http.request", "http.request.method", "http.request.uri", "http.request.version", "http.host",
		"http.connection", "http.content_length", "http.transfer_encoding", "http.upgrade",
		"http.request_number", "http.response", "http.response.code", "http.response.phrase",
		"http.response.version", "http.request_in", "http.time",
		// FTP control (app/ftp).
		"ftp.request", "ftp.request.command", "ftp.request.arg", "ftp.response", "ftp.response.code",
		"ftp.response.arg", "ftp.passive.ip", "ftp.passive.port", "ftp.epsv.ip", "ftp.epsv.port",
		"ftp.active.cip", "ftp.active.port", "ftp.eprt.port",
		// DNS (app/dns).
		"dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.truncated", "dns.flags.rcode",
		"dns.count.answers", "dns.qry.name", "dns.qry.type", "dns.qry.class", "dns.resp.name", "dns.resp.type",
		"dns.a", "dns.aaaa", "dns.cname", "dns.response_to", "dns.time", "dns.retransmission",
		"dns.retransmit_request_in",
		// TLS (app/tls).
		"tls.handshake.type", "tls.handshake.version", "tls.handshake.ciphersuite",
		"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
		"tls.handshake.extensions.supported_version", "tls.alert_message.level", "tls.alert_message.desc",
		// ONC RPC (app/oncrpc) and the programs it names.
		"rpc.xid", "rpc.msgtyp", "rpc.version", "rpc.program", "rpc.programversion", "rpc.procedure",
		"rpc.auth.flavor", "rpc.auth.uid", "rpc.auth.gid", "rpc.repframe", "rpc.time", "rpc.replystat",
		"rpc.state_accept", "rpc.programversion.min", "rpc.programversion.max", "rpc.state_reject",
		"rpc.version.min", "rpc.version.max", "rpc.state_auth",
		"gluster.op_ret", "gluster.op_errno", "gluster.brick", "gluster.brick.port", "gluster.dump.proc",
		"gluster.pmap.proc", "gluster.cli.proc", "glusterfs.hndsk.proc", "glusterfs.hndsk.getspec.key",
		"glusterfs.proc", "glusterfs.cbk.proc", "glusterd.mgmt.proc", "glusterd.friend.proc", "glusterd.brick.proc",
		"nfs.procedure_v3", "nfs.procedure_v4", "nfs.status3", "mount.procedure_v1", "mount.procedure_v3",
		"mount.status", "mount.path", "nlm.procedure_v1", "nlm.procedure_v3", "nlm.procedure_v4", "nlm.stat",
		"stat.procedure_v1", "portmap.procedure_v2", "portmap.procedure_v3", "portmap.procedure_v4",
		"portmap.prog", "portmap.version", "portmap.proto", "portmap.port", "portmap.rpcb.prog",
		"portmap.rpcb.version", "portmap.rpcb.netid", "portmap.uaddr",
	}

	// ownAppFields are wiresleuth's own, not tshark's.
	ownAppFields = map[string]string{
		"http.keep_alive":             "the Keep-Alive header's value",
		"http.response.complete":      "1 if the response ended by its own framing (length, last chunk, or FIN for a close-delimited one)",
		"http.response.delimit":       "how the response body is delimited: length, chunked, close or none",
		"ftp.response.command":        "the command a reply answers",
		"ftp.data.ip":                 "address of the data connection a PASV, EPSV, PORT or EPRT exchange set up",
		"ftp.data.port":               "port of that data connection",
		"tls.alert_message.encrypted": "1 for an alert sent after the handshake keys took effect: its level and description are encrypted",
	}
)

func init() {
	for _, n := range appFields {
		register(appField(n, ""))
	}
	for n, doc := range ownAppFields {
		register(appField(n, "wiresleuth's own: "+doc))
	}
	for _, p := range AppProtocols {
		register(Field{Name: p, App: true, Doc: "a " + strings.ToUpper(p) + " message ends on this frame",
			Values: func(c *Context, out []Value) []Value {
				for i := range c.App {
					if c.App[i].Name == p {
						return append(out, present())
					}
				}
				return out
			}})
	}
}

func appField(name, doc string) Field {
	return Field{Name: name, App: true, Doc: doc, Values: func(c *Context, out []Value) []Value {
		for i := range c.App {
			if c.App[i].Name == name {
				out = append(out, AppValue(c.App[i]))
			}
		}
		return out
	}}
}

// AppValue converts an application field to a Value.
func AppValue(f app.Field) Value {
	switch f.Kind {
	case app.FieldUint:
		return Value{Kind: Uint, N: int64(f.Num)}
	case app.FieldBool:
		return boolean(f.Num != 0)
	case app.FieldDuration:
		return Value{Kind: Seconds, N: int64(f.Num)}
	case app.FieldAddr:
		a, _ := netip.ParseAddr(f.Str)
		return Value{Kind: Addr, IP: a}
	case app.FieldHex:
		return Value{Kind: Hex, N: int64(f.Num), Width: f.Width}
	case app.FieldInt:
		return Value{Kind: Int, N: int64(f.Num)}
	}
	return Value{Kind: String, S: f.Str}
}

// IsAppProtocol reports whether name is one of AppProtocols.
func IsAppProtocol(name string) bool {
	for _, p := range AppProtocols {
		if p == name {
			return true
		}
	}
	return false
}
