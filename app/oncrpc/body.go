package oncrpc

import (
	"bytes"
	"strconv"
)

// Caps on XDR lengths read from program bodies. A longer length is damage,
// not data: decoding of that body stops there.
const (
	maxString  = 4096 // strings and opaques we keep (paths, keys, addresses)
	maxSkipped = 1 << 20
	maxEntries = 4096 // list entries walked (DUMP replies)
	maxDict    = 256  // GlusterFS dict items walked
	maxFH      = 64   // NFSv3 file handle (RFC 1813 NFS3_FHSIZE)
)

// StatusKind says which program status a Body carries.
type StatusKind uint8

const (
	NoStatus      StatusKind = iota
	NFS3Status               // nfsstat3 (nfs.status3)
	MountStatus              // mountstat3 (mount.status)
	NLMStatus                // nlm4_stats (nlm.stat)
	GlusterOp                // op_ret, op_errno (gluster.op_ret, gluster.op_errno)
	NotRegistered            // portmap GETPORT 0 / rpcbind GETADDR "": the program is not registered
)

// Body is what this package decodes of a call's arguments or a successful
// reply's results. Zero fields were absent or not decoded.
type Body struct {
	Status StatusKind
	Stat   uint32 // NFS3Status, MountStatus, NLMStatus
	OpRet  int32  // GlusterOp
	Errno  int32  // GlusterOp: op_errno
	// Error is the server's own words on a failure: the "ERROR" entry of a
	// GlusterFS dict, the op_errstr of a Gluster CLI reply.
	Error string

	// Portmap/rpcbind arguments (GETPORT, GETADDR, SET, UNSET) and Gluster
	// Dump programs.
	Prog, Vers, Proto uint32
	// Port: portmap GETPORT result (portmap.port), Gluster PORTBYBRICK
	// result (gluster.brick.port), BRICKBYPORT argument.
	Port    uint32
	HasPort bool
	// Text: the argument or result worth naming: rpcbind netid or uaddr,
	// MOUNT dirpath, NFSv3 file name, GETSPEC key, brick path.
	Text string
	// Entries: number of mappings in a portmap DUMP reply or of programs in
	// a Gluster DUMP reply.
	Entries    int
	HasEntries bool
}

// Failed reports whether the program-level status says the call failed.
func (b *Body) Failed() bool {
	switch b.Status {
	case NFS3Status, MountStatus:
		return b.Stat != 0
	case NLMStatus:
		return b.Stat != 0 && b.Stat != 3 // NLM4_GRANTED, NLM4_BLOCKED
	case GlusterOp:
		return b.OpRet < 0
	case NotRegistered:
		return true
	}
	return false
}

// ErrorName is the stable name of the failure: "NFS3ERR_ACCES",
// "MNT3ERR_NOENT", "NLM4_DENIED", "EACCES", "NOT_REGISTERED".
func (b *Body) ErrorName() string {
	switch b.Status {
	case NFS3Status:
		return NFS3StatName(b.Stat)
	case MountStatus:
		return MountStatName(b.Stat)
	case NLMStatus:
		return NLMStatName(b.Stat)
	case GlusterOp:
		return ErrnoName(b.Errno)
	case NotRegistered:
		return "NOT_REGISTERED"
	}
	return ""
}

func str(p []byte) string {
	// GlusterFS strings often carry their C terminator on the wire.
	return string(bytes.TrimRight(p, "\x00"))
}

// decodeCallBody decodes the arguments worth showing of the call m.
func decodeCallBody(m *Message, x *xdr) {
	b := &m.Body
	switch m.Program {
	case ProgPortmap:
		switch {
		case m.Version == 2 && (m.Procedure == 1 || m.Procedure == 2 || m.Procedure == 3):
			b.Prog, b.Vers, b.Proto, b.Port = x.u32(), x.u32(), x.u32(), x.u32()
		case m.Version >= 3 && (m.Procedure == 1 || m.Procedure == 2 || m.Procedure == 3 ||
			(m.Version == 4 && m.Procedure == 9)):
			b.Prog, b.Vers = x.u32(), x.u32()
			b.Text = str(x.opaque(maxString)) // netid
		}
	case ProgNFS:
		if m.Version == 3 {
			switch m.Procedure {
			case 3, 8, 9, 10, 11, 12, 13: // diropargs3 first: LOOKUP CREATE MKDIR SYMLINK MKNOD REMOVE RMDIR
				x.opaque(maxFH)
				b.Text = str(x.opaque(maxString))
			}
		}
	case ProgMount:
		if m.Procedure == 1 || m.Procedure == 3 { // MNT, UMNT: dirpath
			b.Text = str(x.opaque(maxString))
		}
	case ProgGlusterHandshk:
		if m.Procedure == 2 { // GETSPEC: flags, key
			if m.Version >= 2 {
				x.u32()
			}
			b.Text = str(x.opaque(maxString))
		}
	case ProgGlusterPmap:
		switch m.Procedure {
		case 1: // PORTBYBRICK: brick
			b.Text = str(x.opaque(maxString))
		case 2: // BRICKBYPORT: port
			b.Port, b.HasPort = x.u32(), true
		}
	}
	if !x.ok() {
		// Arguments the server could not decode either (GARBAGE_ARGS):
		// show none rather than a half.
		m.Cut = true
		*b = Body{}
	}
}

// decodeReplyBody decodes the results of the successful reply m, whose
// call is known (m.Matched).
func decodeReplyBody(m *Message, x *xdr) {
	b := &m.Body
	if m.Procedure == 0 && m.Program != ProgGlusterFS {
		return // NULL procedures return nothing
	}
	switch m.Program {
	case ProgPortmap:
		portmapReply(m, x)
	case ProgNFS:
		if m.Version == 3 {
			b.Status, b.Stat = NFS3Status, x.u32()
		}
	case ProgMount:
		if m.Procedure == 1 { // MNT
			b.Status, b.Stat = MountStatus, x.u32()
		}
	case ProgNLM:
		switch p := m.Procedure; {
		case p >= 1 && p <= 5, p >= 20 && p <= 22: // cookie, stat
			x.opaque(1024)
			b.Status, b.Stat = NLMStatus, x.u32()
		}
	case ProgGlusterHandshk:
		opReply(b, x)
		if m.Procedure == 1 && x.ok() { // SETVOLUME: dict with "ERROR" on failure
			b.Error = dictLookup(x.opaque(maxSkipped), "ERROR")
		}
	case ProgGlusterDump:
		if m.Procedure == 1 { // DUMP: gfs_id, op_ret, op_errno, programs
			x.u64()
			opReply(b, x)
			n := 0
			for n < maxEntries && x.more() {
				x.opaque(maxString)
				x.u64()
				x.u64()
				n++
			}
			b.Entries, b.HasEntries = n, x.ok()
		} else {
			opReply(b, x)
		}
	case ProgGlusterPmap:
		opReply(b, x)
		switch m.Procedure {
		case 1: // PORTBYBRICK: status, port
			x.u32()
			b.Port = x.u32()
			b.HasPort = x.ok()
		case 2: // BRICKBYPORT: status, brick
			x.u32()
			b.Text = str(x.opaque(maxString))
		}
	case ProgGlusterFS:
		if m.Procedure != 0 {
			opReply(b, x)
		}
	case ProgGlusterCLI:
		opReply(b, x)
		if x.ok() {
			b.Error = str(x.opaque(maxString))
		}
	}
	if !x.ok() {
		m.Cut = true
		b.HasPort = false
	}
}

func opReply(b *Body, x *xdr) {
	ret, errno := x.i32(), x.i32()
	if x.ok() {
		b.Status, b.OpRet, b.Errno = GlusterOp, ret, errno
	}
}

func portmapReply(m *Message, x *xdr) {
	b := &m.Body
	switch {
	case m.Procedure == 3 && m.Version == 2: // GETPORT
		b.Port = x.u32()
		b.HasPort = x.ok()
		if b.HasPort && b.Port == 0 {
			b.Status = NotRegistered
		}
	case m.Procedure == 3 || (m.Version == 4 && m.Procedure == 9): // GETADDR, GETVERSADDR
		u := x.opaque(maxString)
		if x.ok() {
			b.Text = str(u)
			if len(u) == 0 {
				b.Status = NotRegistered
			}
		}
	case m.Procedure == 4: // DUMP
		n := 0
		for n < maxEntries && x.more() {
			if m.Version == 2 {
				x.u32()
				x.u32()
				x.u32()
				x.u32()
			} else {
				x.u32()
				x.u32()
				x.opaque(maxString)
				x.opaque(maxString)
				x.opaque(maxString)
			}
			n++
		}
		b.Entries, b.HasEntries = n, x.ok()
	}
}

// dictLookup returns the value of key in a serialised GlusterFS dict
// (libglusterfs dict_serialize: count, then per pair keylen, valuelen,
// key with its NUL, value; all big-endian), or "" if absent.
func dictLookup(d []byte, key string) string {
	x := xdr{b: d}
	n := x.u32()
	for i := uint32(0); i < n && i < maxDict && x.ok(); i++ {
		kl, vl := x.u32(), x.u32()
		if kl > maxString || vl > maxSkipped {
			return ""
		}
		k := x.take(int(kl) + 1)
		v := x.take(int(vl))
		if x.ok() && string(k[:kl]) == key {
			return str(v)
		}
	}
	return ""
}

// nfs3Stats: RFC 1813 §2.6. The values are historic (SunOS) errno numbers,
// not Linux ones (NFS3ERR_STALE is 70, Linux ESTALE 116), hence texts of
// their own.
var nfs3Stats = map[uint32][2]string{
	0: {"NFS3_OK", ""}, 1: {"NFS3ERR_PERM", "Not owner"}, 2: {"NFS3ERR_NOENT", "No such file or directory"},
	5: {"NFS3ERR_IO", "I/O error"}, 6: {"NFS3ERR_NXIO", "No such device or address"},
	13: {"NFS3ERR_ACCES", "Permission denied"}, 17: {"NFS3ERR_EXIST", "File exists"},
	18: {"NFS3ERR_XDEV", "Cross-device hard link"}, 19: {"NFS3ERR_NODEV", "No such device"},
	20: {"NFS3ERR_NOTDIR", "Not a directory"}, 21: {"NFS3ERR_ISDIR", "Is a directory"},
	22: {"NFS3ERR_INVAL", "Invalid argument"}, 27: {"NFS3ERR_FBIG", "File too large"},
	28: {"NFS3ERR_NOSPC", "No space left on device"}, 30: {"NFS3ERR_ROFS", "Read-only file system"},
	31: {"NFS3ERR_MLINK", "Too many hard links"}, 63: {"NFS3ERR_NAMETOOLONG", "File name too long"},
	66: {"NFS3ERR_NOTEMPTY", "Directory not empty"}, 69: {"NFS3ERR_DQUOT", "Quota exceeded"},
	70: {"NFS3ERR_STALE", "Stale file handle"}, 71: {"NFS3ERR_REMOTE", "Too many levels of remote in path"},
	10001: {"NFS3ERR_BADHANDLE", "Illegal file handle"}, 10002: {"NFS3ERR_NOT_SYNC", "Update synchronization mismatch"},
	10003: {"NFS3ERR_BAD_COOKIE", "READDIR cookie is stale"}, 10004: {"NFS3ERR_NOTSUPP", "Operation not supported"},
	10005: {"NFS3ERR_TOOSMALL", "Buffer or request too small"},
	10006: {"NFS3ERR_SERVERFAULT", "Server error with no NFS equivalent"},
	10007: {"NFS3ERR_BADTYPE", "Type not supported by server"},
	10008: {"NFS3ERR_JUKEBOX", "Request will not complete before timeout: retry"},
}

var mountStats = map[uint32]string{
	0: "MNT3_OK", 1: "MNT3ERR_PERM", 2: "MNT3ERR_NOENT", 5: "MNT3ERR_IO", 13: "MNT3ERR_ACCES",
	20: "MNT3ERR_NOTDIR", 22: "MNT3ERR_INVAL", 63: "MNT3ERR_NAMETOOLONG", 10004: "MNT3ERR_NOTSUPP",
	10006: "MNT3ERR_SERVERFAULT",
}

var nlmStats = [...]string{"NLM4_GRANTED", "NLM4_DENIED", "NLM4_DENIED_NOLOCKS", "NLM4_BLOCKED",
	"NLM4_DENIED_GRACE_PERIOD", "NLM4_DEADLCK", "NLM4_ROFS", "NLM4_STALE_FH", "NLM4_FBIG", "NLM4_FAILED"}

// NFS3StatName names an nfsstat3 (RFC 1813 §2.6).
func NFS3StatName(s uint32) string {
	if n, ok := nfs3Stats[s]; ok {
		return n[0]
	}
	return "nfsstat3 " + strconv.FormatUint(uint64(s), 10)
}

// statText explains an nfsstat3 or mountstat3 value (they share numbers).
func statText(s uint32) string { return nfs3Stats[s][1] }

// MountStatName names a mountstat3 (RFC 1813 §5.1).
func MountStatName(s uint32) string {
	if n, ok := mountStats[s]; ok {
		return n
	}
	return "mountstat3 " + strconv.FormatUint(uint64(s), 10)
}

// NLMStatName names an nlm4_stats.
func NLMStatName(s uint32) string {
	if int(s) < len(nlmStats) {
		return nlmStats[s]
	}
	return "nlm4_stats " + strconv.FormatUint(uint64(s), 10)
}
