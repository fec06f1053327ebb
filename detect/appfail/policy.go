package appfail

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/detect"
)

// judgement is what an error reply means for the user.
type judgement struct {
	sev detect.Severity
	// expected, when set, says why the error is part of normal operation
	// (a version probe, an authentication challenge): not reported.
	expected string
	meaning  string
	next     []string
}

// judge says what error reply x means. later are the dataset's
// transactions, for the rules that look at what the client did next.
func judge(v *view, x txn) judgement {
	t := x.t
	switch t.Protocol {
	case "oncrpc":
		return judgeRPC(v, x)
	case "http":
		return judgeHTTP(v, x)
	case "ftp":
		return judgeFTP(x)
	case "dns":
		return judgeDNS(v, x)
	case "tls":
		return judgeTLS(x)
	}
	return judgement{sev: detect.Warning, meaning: fmt.Sprintf("The server answered %q.", t.Reply)}
}

var rpcVersion = regexp.MustCompile(` v(\d+) xid `)

// negotiationWindow is how soon a client that probes versions calls again
// with one the server has (rpcinfo, mount: at once).
const negotiationWindow = 10 * time.Second

// laterOK reports whether, after x, the same client got a successful
// answer from the same server host to a transaction that match accepts.
func laterOK(v *view, x txn, match func(t *app.Transaction) bool) bool {
	for _, y := range v.txns {
		if y.t.Status == app.StatusOK && y.t.Protocol == x.t.Protocol && y.client().Addr == x.client().Addr &&
			y.server().Addr == x.server().Addr && at(y.t).Frame > at(x.t).Frame && match(y.t) {
			return true
		}
	}
	return false
}

func judgeRPC(v *view, x txn) judgement {
	t := x.t
	m := rpc(t)
	prog, vers := "the program", ""
	if m != nil {
		prog = fmt.Sprintf("%s (program %d)", oncrpc.ProgramName(m.Program), m.Program)
		vers = fmt.Sprintf(" version %d", m.Version)
	}
	server := x.server().Addr
	switch e := t.Error; {
	case e == "PROG_MISMATCH":
		if m != nil && laterOK(v, x, func(u *app.Transaction) bool {
			// The same procedure again, soon, at a version the server has.
			s := rpcVersion.FindStringSubmatch(u.Request)
			n64, _ := strconv.ParseUint(safe(s, 1), 10, 32)
			n := uint32(n64)
			return n >= m.Low && n <= m.High && u.RequestAt.Time.Sub(x.t.ReplyAt.Time) < negotiationWindow &&
				u.Operation == oncrpc.ProgramName(m.Program)+" "+oncrpc.ProcedureName(m.Program, n, m.Procedure)
		}) {
			return judgement{expected: "version negotiation: the client went on with a version the server has"}
		}
		j := judgement{sev: detect.Error,
			meaning: fmt.Sprintf("The server runs %s but not%s", prog, vers),
			next: []string{
				fmt.Sprintf("List what %s offers: rpcinfo -p %s (or rpcinfo -T tcp %s PROGRAM).", server, server, server),
				"Use a version the server supports on the client (for NFS: mount -o vers=3 or vers=4.2), or enable the version on the server (for NFS: /etc/nfs.conf [nfsd] vers3=y, then restart nfs-server).",
			}}
		if m != nil {
			j.meaning += fmt.Sprintf(": it supports versions %d to %d, and the client did not go on with one of those in this capture.", m.Low, m.High)
		} else {
			j.meaning += "."
		}
		return j
	case e == "PROG_UNAVAIL":
		return judgement{sev: detect.Error,
			meaning: fmt.Sprintf("The RPC server at this port does not serve %s: the service is not running there, or runs on another port and the client did not ask the portmapper.", prog),
			next: []string{
				fmt.Sprintf("Check that the service runs and registered with rpcbind: rpcinfo -p %s.", server),
				"Start the service (for NFS: systemctl start nfs-server; for MOUNT/NLM/STAT: rpc.mountd, rpc.statd) and check the port the client uses.",
			}}
	case e == "NOT_REGISTERED":
		if m != nil && laterOK(v, x, func(u *app.Transaction) bool {
			return strings.Contains(u.Request, " for "+oncrpc.ProgramName(m.Body.Prog)+" v")
		}) {
			return judgement{expected: "the client found the program registered under another version or transport"}
		}
		name := "the program"
		if m != nil {
			name = fmt.Sprintf("%s (program %d) version %d", oncrpc.ProgramName(m.Body.Prog), m.Body.Prog, m.Body.Vers)
		}
		return judgement{sev: detect.Error,
			meaning: fmt.Sprintf("The portmapper (rpcbind) has no registration for %s: the service is not running or did not register, so the client has no port to call.", name),
			next: []string{
				fmt.Sprintf("rpcinfo -p %s lists what is registered; start the missing service and check it registers (journalctl -u rpcbind and the service's own log).", server),
			}}
	case e == "PROC_UNAVAIL":
		return judgement{sev: detect.Error,
			meaning: fmt.Sprintf("The server runs %s%s but not this procedure: client and server disagree on the protocol version's contents.", prog, vers),
			next:    []string{"Compare the client's and server's software versions; upgrade the older side."}}
	case e == "GARBAGE_ARGS":
		return judgement{sev: detect.Error,
			meaning: "The server could not decode the call's arguments: a client bug, a version skew, or a call damaged on the way.",
			next:    []string{"Compare the client's and server's versions; capture at the server to see whether the call arrives as sent."}}
	case e == "SYSTEM_ERR":
		return judgement{sev: detect.Error,
			meaning: "The server failed internally (out of memory, a crashed helper): not a network fault.",
			next:    []string{fmt.Sprintf("Read the RPC service's log on %s (journalctl, /var/log/messages).", server)}}
	case e == "RPC_MISMATCH":
		return judgement{sev: detect.Error,
			meaning: "The server does not speak the ONC RPC version the client used (only version 2 exists in practice): a client that is not really ONC RPC, or a corrupted call.",
			next:    []string{"Identify the client program; capture at the client to check what it sends."}}
	case strings.HasPrefix(e, "AUTH_ERROR/"):
		return judgement{sev: detect.Error,
			meaning: fmt.Sprintf("The server rejected the call's credentials (%s).", strings.TrimPrefix(e, "AUTH_ERROR/")),
			next: []string{
				"Check the security flavor the export or service requires (for NFS: exportfs -v shows sec=; mount with the same sec= option).",
				"For Kerberos (RPCSEC_GSS): check the client's ticket (klist), the keytab, and clock skew between client, server and KDC.",
			}}
	}
	return judgeRPCStatus(x, m)
}

func safe(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// judgeRPCStatus handles program-level failures: NFS, MOUNT, NLM status
// codes and GlusterFS op_errno.
func judgeRPCStatus(x txn, m *oncrpc.Message) judgement {
	t := x.t
	e := t.Error
	server := x.server().Addr
	gluster := m != nil && (m.Program == oncrpc.ProgGlusterHandshk || m.Program == oncrpc.ProgGlusterFS ||
		m.Program == oncrpc.ProgGlusterDump || m.Program == oncrpc.ProgGlusterPmap || m.Program == oncrpc.ProgGlusterCLI)
	handshake := m != nil && (m.Program == oncrpc.ProgGlusterHandshk || m.Program == oncrpc.ProgGlusterDump || m.Program == oncrpc.ProgGlusterPmap)
	switch {
	case gluster && handshake && (e == "EACCES" || e == "EPERM"):
		return judgement{sev: detect.Error,
			meaning: "The brick refused the client's volume handshake: the client is not allowed to use the volume, so the mount (or the libgfapi client, such as qemu-img with a gluster:// URL) fails or hangs. The client log says \"SETVOLUME on remote-host failed: Authentication failed\".",
			next: []string{
				"Check the volume's access options: gluster volume info shows auth.allow and auth.reject; the client's address must be allowed.",
				"For libgfapi clients (qemu-img, libvirt) that connect from unprivileged ports: gluster volume set VOLUME server.allow-insecure on, and option rpc-auth-allow-insecure on in /etc/glusterfs/glusterd.vol (then restart glusterd).",
				"Then stop and start the volume (gluster volume stop VOLUME; gluster volume start VOLUME): the bricks read these options only then; rebooting the storage servers is not the same.",
				"In Wireshark 4.0 the same reply reads \"GlusterFS Handshake DUMP\" with Errno 13 (filter: glusterfs.hndsk.proc && rpc.msgtyp == 1): Wireshark's name for procedure 1 is wrong; GlusterFS calls it SETVOLUME.",
			}}
	case gluster && handshake:
		return judgement{sev: detect.Error,
			meaning: "The GlusterFS handshake with the server failed, so the client cannot use the volume.",
			next:    []string{fmt.Sprintf("Read the brick and glusterd logs on %s (/var/log/glusterfs/) for this errno; gluster volume status shows whether the bricks run.", server)}}
	case gluster:
		switch e {
		case "ENOENT", "EEXIST", "ENODATA", "ENOTSUP", "EOPNOTSUPP", "ERANGE", "ENOTEMPTY", "EAGAIN", "EINPROGRESS":
			return judgement{sev: detect.Info,
				meaning: "A file operation failed the way file systems routinely do (a name that does not exist, an extended attribute that is not set): usually expected."}
		case "EACCES", "EPERM":
			return judgement{sev: detect.Warning,
				meaning: "The brick refused a file operation for permissions: the user's operation fails.",
				next:    []string{"Check ownership and mode of the file on the brick, and the volume's root-squash and ACL options (gluster volume info)."}}
		}
		return judgement{sev: detect.Error,
			meaning: "The brick failed a file operation with an error that breaks the user's I/O (disconnected, I/O error, stale handle, full or read-only).",
			next:    []string{fmt.Sprintf("Check the brick on %s: gluster volume status, the brick log under /var/log/glusterfs/bricks/, free space (df) and the brick file system.", server)}}
	}
	switch e {
	case "NFS3ERR_NOENT", "MNT3ERR_NOENT", "NFS3ERR_EXIST", "NFS3ERR_NOTEMPTY", "NFS3ERR_NOTSUPP", "NLM4_DENIED", "NLM4_BLOCKED":
		return judgement{sev: detect.Info,
			meaning: "An operation failed the way file access routinely does (a name that does not exist, a lock another client holds): usually expected."}
	case "NFS3ERR_ACCES", "MNT3ERR_ACCES", "NFS3ERR_PERM", "MNT3ERR_PERM":
		sev := detect.Warning
		if strings.HasPrefix(e, "MNT3") {
			sev = detect.Error // the mount itself fails
		}
		return judgement{sev: sev,
			meaning: "The server refused access: the export does not allow this client or this user.",
			next: []string{
				fmt.Sprintf("On %s: exportfs -v shows the export's allowed clients and options (root_squash, all_squash, sec=).", server),
				"Check that the client's uid/gid own the file on the server; with NFSv4 also the idmapd domain.",
			}}
	case "NFS3ERR_STALE", "NFS3ERR_BADHANDLE":
		return judgement{sev: detect.Error,
			meaning: "The server no longer knows the file handle: the export was recreated, moved or its fsid changed (a failover, a re-export), and the client's mount is broken until remounted.",
			next:    []string{"Remount on the client; on the server pin the export's fsid= in /etc/exports so handles survive restarts and failovers."}}
	case "NFS3ERR_NOSPC", "NFS3ERR_DQUOT", "NFS3ERR_ROFS", "NFS3ERR_IO", "NFS3ERR_SERVERFAULT", "NLM4_DENIED_NOLOCKS", "NLM4_FAILED":
		return judgement{sev: detect.Error,
			meaning: "The server failed the operation (out of space or quota, read-only, an I/O or internal error): the user's operation fails.",
			next:    []string{fmt.Sprintf("Check the exported file system on %s: df, quotas, dmesg for I/O errors, whether it is mounted read-only.", server)}}
	case "NFS3ERR_JUKEBOX", "NLM4_DENIED_GRACE_PERIOD":
		return judgement{sev: detect.Warning,
			meaning: "The server asked the client to retry later (busy, or in its grace period after a restart): operations stall meanwhile.",
			next:    []string{fmt.Sprintf("Check whether %s restarted recently (grace period, 90 s by default) or is overloaded.", server)}}
	}
	return judgement{sev: detect.Warning, meaning: fmt.Sprintf("The server answered %s.", t.Reply)}
}

func judgeHTTP(v *view, x txn) judgement {
	code, _ := strconv.Atoi(x.t.Error)
	server := x.server()
	switch {
	case code >= 500:
		j := judgement{sev: detect.Error, next: []string{
			fmt.Sprintf("Read the server's error log on %s for the requests at these times.", server.Addr)}}
		switch code {
		case 502, 504:
			j.meaning = "A gateway or proxy could not get an answer from the server behind it (502: bad or no response, 504: timed out)."
			j.next = append(j.next, "Check the upstream the proxy forwards to: is it up, reachable from the proxy, and within the proxy's timeout (proxy_read_timeout, ProxyTimeout, timeout server)?")
		case 503:
			j.meaning = "The server is unavailable: overloaded, starting, in maintenance, or a load balancer with no healthy backend."
			j.next = append(j.next, "Check the backends' health checks and capacity; a Retry-After header says when to come back.")
		default:
			j.meaning = "The server failed while handling the request."
		}
		return j
	case code == 401 || code == 407:
		if laterOK(v, x, func(*app.Transaction) bool { return true }) {
			return judgement{expected: "an authentication challenge the client then answered"}
		}
		return judgement{sev: detect.Warning,
			meaning: "The server (401) or proxy (407) requires authentication and the client did not succeed in this capture.",
			next:    []string{"Check the client's credentials and the authentication scheme the WWW-Authenticate (or Proxy-Authenticate) header asks for."}}
	case code == 404 || code == 410:
		return judgement{sev: detect.Info, meaning: "The server has no such resource: a wrong link or path, usually not a network problem."}
	case code == 408:
		return judgement{sev: detect.Warning,
			meaning: "The server timed out waiting for the request to arrive: it arrived too slowly or partly (a stalled client, or loss on the path).",
			next:    []string{"Look for retransmissions or a stall on these connections (stall.*, path.lost findings); compare the server's request timeout."}}
	case code == 429:
		return judgement{sev: detect.Warning,
			meaning: "The server rate-limits the client: too many requests.",
			next:    []string{"Check the Retry-After header and the client's request rate; many clients behind one NAT address share one limit."}}
	case code == 403:
		return judgement{sev: detect.Warning, meaning: "The server refuses the request for this client or user.",
			next: []string{"Check the server's access rules (allow lists, WAF rules) for the client's address and user."}}
	}
	return judgement{sev: detect.Warning, meaning: "The server rejected the request as malformed or not acceptable: client and server disagree (method, size, headers).",
		next: []string{"Compare the request with what the server accepts; the response body usually says why."}}
}

func judgeFTP(x txn) judgement {
	code, _ := strconv.Atoi(x.t.Error)
	op := x.t.Operation
	switch {
	case code == 421:
		j := judgement{sev: detect.Error,
			meaning: "The server closed the control connection (421): the user's session and transfer fail.",
			next:    []string{"If the text says idle timeout: the server waited for a command that never arrived. Check whether the client's last command reached the server (capture at the server; stall.after-handshake and path.lost findings)."}}
		if strings.Contains(strings.ToLower(x.t.Reply), "timeout") {
			j.meaning = "The server gave up waiting for the client's next command and closed the control connection (421 idle timeout): the user's session fails."
			j.next = append(j.next, "On the GridFTP story's pattern (only connections opened in quick succession fail, through a firewall), suspect the firewall or an inetd-style launcher (xinetd) between accept and the server process.")
		}
		return j
	case code == 425 || code == 426:
		return judgement{sev: detect.Error,
			meaning: "The data connection could not be opened (425) or broke during the transfer (426): typically a firewall or NAT that does not let the PASV/EPSV/PORT data connection through.",
			next: []string{
				"Open the server's passive port range in the firewalls (vsftpd pasv_min_port/pasv_max_port; GridFTP GLOBUS_TCP_PORT_RANGE) or load the FTP helper for NAT (nf_conntrack_ftp, nf_nat_ftp).",
				"With a NAT in front of the server, set the address it announces (vsftpd pasv_address).",
			}}
	case code == 530:
		return judgement{sev: detect.Error, meaning: "Login failed (530): wrong user or password, or the account is not allowed.",
			next: []string{"Check the credentials and the server's access lists (ftpusers, user_list; for GridFTP the grid-mapfile)."}}
	case code == 550 && (op == "RETR" || op == "STOR" || op == "APPE" || op == "CWD"):
		return judgement{sev: detect.Warning, meaning: "The server refused the file operation (no such file, or no permission)."}
	case code >= 500 && code <= 504 || code == 550:
		return judgement{sev: detect.Info, meaning: "The server does not support or accept the command, or has no such file: clients probe this way (FEAT, EPSV, SIZE) and fall back."}
	case code == 452 || code == 552:
		return judgement{sev: detect.Error, meaning: "The server has no room to store the file."}
	}
	return judgement{sev: detect.Warning, meaning: fmt.Sprintf("The server answered %s.", x.t.Reply)}
}

func judgeDNS(v *view, x txn) judgement {
	name := dnsName(x.t)
	// www.example.org.corp.example: the resolver library appended a search
	// domain to a name that resolved as it was (any shorter name ending at
	// a label boundary).
	for i := range len(name) {
		if name[i] == '.' && i > 0 && v.resolvedFrom(x, name[:i]) {
			return judgement{expected: "a resolver search-list expansion of a name that resolved"}
		}
	}
	switch x.t.Error {
	case "NXDOMAIN":
		return judgement{sev: detect.Info,
			meaning: "The name does not exist (NXDOMAIN): a typo, a missing record, or a search-list expansion; not a network fault.",
			next:    []string{"Check the name and the zone (dig NAME @RESOLVER); check the search list in /etc/resolv.conf."}}
	case "SERVFAIL":
		sev := detect.Error
		if v.resolvedFrom(x, name) {
			sev = detect.Warning // it resolved at another time
		}
		return judgement{sev: sev,
			meaning: "The resolver could not resolve the name (SERVFAIL): the authoritative servers are unreachable from it, or DNSSEC validation failed.",
			next: []string{
				"Ask the resolver directly (dig NAME @RESOLVER) and with +cd to rule out DNSSEC; check the resolver's log and its path to the authoritative servers.",
			}}
	case "REFUSED":
		return judgement{sev: detect.Error,
			meaning: "The resolver refuses to answer this client (REFUSED): it does not allow recursion for it, or the client asks a server that is not its resolver.",
			next: []string{
				fmt.Sprintf("Check the resolver's access list on %s (BIND allow-recursion/allow-query, unbound access-control) and the client's /etc/resolv.conf.", x.server().Addr),
			}}
	}
	return judgement{sev: detect.Warning, meaning: fmt.Sprintf("The DNS server answered %s.", x.t.Error)}
}

func judgeTLS(x txn) judgement {
	j := judgement{sev: detect.Error}
	who := "The server"
	if strings.HasPrefix(x.t.Reply, "client") {
		who = "The client"
	}
	switch e := x.t.Error; e {
	case "protocol_version":
		j.meaning = who + " refused the TLS version offered: client and server have no version in common (a server requiring TLS 1.3, a client limited to 1.2, or the reverse)."
		j.next = []string{"Compare the versions each side allows (openssl s_client -tls1_2 / -tls1_3 -connect HOST:PORT) and align the configuration (ssl_protocols, MinProtocol)."}
	case "handshake_failure", "insufficient_security":
		j.meaning = who + " found no acceptable cipher suite or parameters in common."
		j.next = []string{"Compare the cipher suites and groups each side allows (openssl s_client -cipher / -groups); check for a client or server pinned to legacy suites."}
	case "unknown_ca", "bad_certificate", "certificate_unknown", "certificate_expired", "certificate_revoked", "unsupported_certificate", "decrypt_error":
		j.meaning = who + " rejected the peer's certificate (" + e + "): an untrusted or missing issuing CA (a self-signed certificate, a missing intermediate), an expired certificate or a name mismatch."
		j.next = []string{"Show the chain the server sends: openssl s_client -connect HOST:PORT -servername NAME -showcerts; check dates, issuer and that the intermediate is included; check the client's trust store."}
	case "unrecognized_name":
		j.meaning = "The server has no certificate for the name the client asked for (SNI)."
		j.next = []string{"Check the server name the client sends and the server's virtual hosts / certificate SANs."}
	case "no_application_protocol":
		j.meaning = "Client and server share no application protocol (ALPN): e.g. a client requiring h2 and a server offering only http/1.1."
		j.next = []string{"Align the ALPN protocols each side offers."}
	case "access_denied":
		j.meaning = "The server refused access after authenticating the client."
	case "encrypted_alert":
		j.meaning = who + " ended the TLS 1.3 handshake with an alert sent encrypted, so its reason cannot be read from the capture: most often a client certificate that is missing or not trusted, or a certificate the client does not trust."
		j.next = []string{"Run the client with verbose TLS logging (openssl s_client -state; curl -v) or read the server's log to see the alert's description; check whether the server requires a client certificate."}
	default:
		j.meaning = who + " aborted the handshake with a fatal alert (" + e + ")."
	}
	return j
}
