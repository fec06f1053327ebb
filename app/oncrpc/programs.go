package oncrpc

import "strconv"

// Program numbers this package names procedures for. ONC RPC numbers are
// from RFC 1833 (rpcbind), RFC 1813 (NFSv3, MOUNT v3) and the Open Group
// XNFS spec (NLM v4); GlusterFS numbers are from the GlusterFS sources
// (rpc/rpc-lib/src/protocol-common.h and xdr-common.h), cross-checked with
// Wireshark's packet-gluster.h.
const (
	ProgPortmap        uint32 = 100000 // portmap v2, rpcbind v3/v4
	ProgNFS            uint32 = 100003
	ProgMount          uint32 = 100005
	ProgNLM            uint32 = 100021
	ProgNSM            uint32 = 100024
	ProgNFSACL         uint32 = 100227
	ProgGlusterMgmt1   uint32 = 1298433   // GLUSTERD1_MGMT_PROGRAM (legacy)
	ProgGlusterFS      uint32 = 1298437   // GLUSTER_FOP_PROGRAM: file operations on bricks
	ProgGlusterDMgmt   uint32 = 1238433   // GD_MGMT_PROGRAM
	ProgGlusterDFriend uint32 = 1238437   // GD_FRIEND_PROGRAM
	ProgGlusterCLI     uint32 = 1238463   // GLUSTER_CLI_PROGRAM
	ProgGlusterDBrick  uint32 = 4867634   // GD_BRICK_PROGRAM
	ProgGlusterHandshk uint32 = 14398633  // GLUSTER_HNDSK_PROGRAM: GETSPEC, SETVOLUME
	ProgGlusterAggr    uint32 = 29852134  // GLUSTER_AGGREGATOR_PROGRAM
	ProgGlusterPmap    uint32 = 34123456  // GLUSTER_PMAP_PROGRAM: PORTBYBRICK
	ProgGlusterCbk     uint32 = 52743234  // GLUSTER_CBK_PROGRAM: server-to-client callbacks
	ProgGlusterDump    uint32 = 123451501 // GLUSTER_DUMP_PROGRAM: DUMP, PING
)

type program struct {
	name     string
	versions []version
}

type version struct {
	v     uint32
	field string   // tshark's field for the procedure number, e.g. "nfs.procedure_v3"
	procs []string // index = procedure number
}

var (
	portmapV2 = []string{"NULL", "SET", "UNSET", "GETPORT", "DUMP", "CALLIT"}
	rpcbindV3 = []string{"NULL", "SET", "UNSET", "GETADDR", "DUMP", "CALLIT", "GETTIME", "UADDR2TADDR", "TADDR2UADDR"}
	rpcbindV4 = []string{"NULL", "SET", "UNSET", "GETADDR", "DUMP", "BCAST", "GETTIME", "UADDR2TADDR", "TADDR2UADDR",
		"GETVERSADDR", "INDIRECT", "GETADDRLIST", "GETSTAT"}
	nfsV3 = []string{"NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ", "WRITE", "CREATE",
		"MKDIR", "SYMLINK", "MKNOD", "REMOVE", "RMDIR", "RENAME", "LINK", "READDIR", "READDIRPLUS", "FSSTAT",
		"FSINFO", "PATHCONF", "COMMIT"}
	nfsV4   = []string{"NULL", "COMPOUND"}
	mountV3 = []string{"NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT"}
	mountV1 = []string{"NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT", "EXPORTALL"}
	nlmV4   = []string{"NULL", "TEST", "LOCK", "CANCEL", "UNLOCK", "GRANTED", "TEST_MSG", "LOCK_MSG", "CANCEL_MSG",
		"UNLOCK_MSG", "GRANTED_MSG", "TEST_RES", "LOCK_RES", "CANCEL_RES", "UNLOCK_RES", "GRANTED_RES",
		"", "", "", "", "SHARE", "UNSHARE", "NM_LOCK", "FREE_ALL"}
	nsmV1 = []string{"NULL", "STAT", "MON", "UNMON", "UNMON_ALL", "SIMU_CRASH", "NOTIFY"}

	// GlusterFS names are the GlusterFS sources' enum names without their
	// prefixes (GF_HNDSK_, GFS3_OP_, ...).
	glusterHandshakeV1 = []string{"NULL", "SETVOLUME", "GETSPEC", "PING"}
	glusterHandshakeV2 = []string{"NULL", "SETVOLUME", "GETSPEC", "PING", "SET_LK_VER", "EVENT_NOTIFY",
		"GET_VOLUME_INFO", "GET_SNAPSHOT_INFO"}
	glusterDump = []string{"NULL", "DUMP", "PING"}
	glusterPmap = []string{"NULL", "PORTBYBRICK", "BRICKBYPORT", "SIGNUP", "SIGNIN", "SIGNOUT"}
	// glusterFOP follows protocol-common.h, where RELEASE is 41. Wireshark
	// 4.0 inserts a FORGET at 41 and so names procedures 41..49 one off.
	glusterFOP = []string{"NULL", "STAT", "READLINK", "MKNOD", "MKDIR", "UNLINK", "RMDIR", "SYMLINK", "RENAME",
		"LINK", "TRUNCATE", "OPEN", "READ", "WRITE", "STATFS", "FLUSH", "FSYNC", "SETXATTR", "GETXATTR",
		"REMOVEXATTR", "OPENDIR", "FSYNCDIR", "ACCESS", "CREATE", "FTRUNCATE", "FSTAT", "LK", "LOOKUP",
		"READDIR", "INODELK", "FINODELK", "ENTRYLK", "FENTRYLK", "XATTROP", "FXATTROP", "FGETXATTR",
		"FSETXATTR", "RCHECKSUM", "SETATTR", "FSETATTR", "READDIRP", "RELEASE", "RELEASEDIR",
		"FREMOVEXATTR", "FALLOCATE", "DISCARD", "ZEROFILL", "IPC", "SEEK", "COMPOUND", "LEASE",
		"GETACTIVELK", "SETACTIVELK", "ICREATE", "NAMELINK", "PUT", "COPY_FILE_RANGE"}
	glusterCbk = []string{"NULL", "FETCHSPEC", "INO_FLUSH", "EVENT_NOTIFY", "GET_SNAPS", "CACHE_INVALIDATION",
		"CHILD_UP", "CHILD_DOWN", "RECALL_LEASE", "STATEDUMP", "INODELK_CONTENTION", "ENTRYLK_CONTENTION"}
	glusterCLIV1 = []string{"NULL", "PROBE", "DEPROBE", "LIST_FRIENDS", "CREATE_VOLUME", "GET_VOLUME",
		"GET_NEXT_VOLUME", "DELETE_VOLUME", "START_VOLUME", "STOP_VOLUME", "RENAME_VOLUME", "DEFRAG_VOLUME",
		"SET_VOLUME", "ADD_BRICK", "REMOVE_BRICK", "REPLACE_BRICK", "LOG_FILENAME", "LOG_LOCATE",
		"LOG_ROTATE", "GETSPEC", "PMAP_PORTBYBRICK", "SYNC_VOLUME", "RESET_VOLUME", "FSM_LOG", "GSYNC_SET",
		"PROFILE_VOLUME", "QUOTA", "TOP_VOLUME", "GETWD", "LOG_LEVEL", "STATUS_VOLUME", "MOUNT", "UMOUNT",
		"HEAL_VOLUME", "STATEDUMP_VOLUME"}
	glusterCLIV2 = []string{"NULL", "PROBE", "DEPROBE", "LIST_FRIENDS", "CREATE_VOLUME", "GET_VOLUME",
		"GET_NEXT_VOLUME", "DELETE_VOLUME", "START_VOLUME", "STOP_VOLUME", "RENAME_VOLUME", "DEFRAG_VOLUME",
		"SET_VOLUME", "ADD_BRICK", "REMOVE_BRICK", "REPLACE_BRICK", "LOG_ROTATE", "GETSPEC",
		"PMAP_PORTBYBRICK", "SYNC_VOLUME", "RESET_VOLUME", "FSM_LOG", "GSYNC_SET", "PROFILE_VOLUME", "QUOTA",
		"TOP_VOLUME", "GETWD", "STATUS_VOLUME", "STATUS_ALL", "MOUNT", "UMOUNT", "HEAL_VOLUME",
		"STATEDUMP_VOLUME", "LIST_VOLUME", "CLRLOCKS_VOLUME", "UUID_RESET", "UUID_GET", "COPY_FILE",
		"SYS_EXEC", "SNAP", "BARRIER_VOLUME", "GET_VOL_OPT", "GANESHA", "BITROT", "ATTACH_TIER", "TIER",
		"GET_STATE", "RESET_BRICK", "REMOVE_TIER_BRICK", "ADD_TIER_BRICK"}
	glusterDMgmtV1 = []string{"NULL", "PROBE_QUERY", "FRIEND_ADD", "CLUSTER_LOCK", "CLUSTER_UNLOCK", "STAGE_OP",
		"COMMIT_OP", "FRIEND_REMOVE", "FRIEND_UPDATE", "CLI_PROBE", "CLI_DEPROBE", "CLI_LIST_FRIENDS",
		"CLI_CREATE_VOLUME", "CLI_GET_VOLUME", "CLI_DELETE_VOLUME", "CLI_START_VOLUME", "CLI_STOP_VOLUME",
		"CLI_RENAME_VOLUME", "CLI_DEFRAG_VOLUME", "CLI_SET_VOLUME", "CLI_ADD_BRICK", "CLI_REMOVE_BRICK",
		"CLI_REPLACE_BRICK", "CLI_LOG_FILENAME", "CLI_LOG_LOCATE", "CLI_LOG_ROTATE", "CLI_SYNC_VOLUME",
		"CLI_RESET_VOLUME", "CLI_FSM_LOG", "CLI_GSYNC_SET", "CLI_PROFILE_VOLUME", "BRICK_OP", "CLI_LOG_LEVEL",
		"CLI_STATUS_VOLUME"}
	glusterDMgmtV2 = []string{"NULL", "CLUSTER_LOCK", "CLUSTER_UNLOCK", "STAGE_OP", "COMMIT_OP"}
	glusterDMgmtV3 = []string{"NULL", "LOCK", "PRE_VALIDATE", "BRICK_OP", "COMMIT", "POST_VALIDATE", "UNLOCK",
		"POST_COMMIT"}
	glusterDFriend = []string{"NULL", "PROBE_QUERY", "FRIEND_ADD", "FRIEND_REMOVE", "FRIEND_UPDATE"}
	glusterDBrick  = []string{"NULL", "TERMINATE", "XLATOR_INFO", "XLATOR_OP", "STATUS", "OP", "XLATOR_DEFRAG",
		"NODE_PROFILE", "NODE_STATUS", "VOLUME_BARRIER_OP", "BARRIER", "NODE_BITROT", "ATTACH",
		"DUMP_METRICS", "SVC_ATTACH", "SVC_DETACH"}
	glusterMgmt1 = []string{"NULL", "PROBE_QUERY", "FRIEND_ADD", "CLUSTER_LOCK", "CLUSTER_UNLOCK", "STAGE_OP",
		"COMMIT_OP", "FRIEND_REMOVE", "FRIEND_UPDATE"}
	glusterAggr = []string{"NULL", "LOOKUP", "GETLIMIT"}
)

// programs: names follow Wireshark's protocol names so that our output
// reads like the tools users already know.
var programs = map[uint32]*program{
	ProgPortmap: {name: "Portmap", versions: []version{
		{2, "portmap.procedure_v2", portmapV2}, {3, "portmap.procedure_v3", rpcbindV3},
		{4, "portmap.procedure_v4", rpcbindV4}}},
	ProgNFS: {name: "NFS", versions: []version{
		{3, "nfs.procedure_v3", nfsV3}, {4, "nfs.procedure_v4", nfsV4}}},
	ProgMount: {name: "MOUNT", versions: []version{
		{1, "mount.procedure_v1", mountV1}, {3, "mount.procedure_v3", mountV3}}},
	ProgNLM: {name: "NLM", versions: []version{
		{1, "nlm.procedure_v1", nlmV4[:16]}, {3, "nlm.procedure_v3", nlmV4}, {4, "nlm.procedure_v4", nlmV4}}},
	ProgNSM:    {name: "STAT", versions: []version{{1, "stat.procedure_v1", nsmV1}}},
	ProgNFSACL: {name: "NFSACL"},
	ProgGlusterHandshk: {name: "GlusterFS Handshake", versions: []version{
		{1, "glusterfs.hndsk.proc", glusterHandshakeV1}, {2, "glusterfs.hndsk.proc", glusterHandshakeV2}}},
	ProgGlusterDump: {name: "Gluster Dump", versions: []version{{1, "gluster.dump.proc", glusterDump}}},
	ProgGlusterPmap: {name: "Gluster Portmap", versions: []version{{1, "gluster.pmap.proc", glusterPmap}}},
	ProgGlusterFS: {name: "GlusterFS", versions: []version{
		{310, "glusterfs.proc", glusterFOP}, {330, "glusterfs.proc", glusterFOP}, {400, "glusterfs.proc", glusterFOP}}},
	ProgGlusterCbk: {name: "GlusterFS Callback", versions: []version{{1, "glusterfs.cbk.proc", glusterCbk}}},
	ProgGlusterCLI: {name: "Gluster CLI", versions: []version{
		{1, "gluster.cli.proc", glusterCLIV1}, {2, "gluster.cli.proc", glusterCLIV2}}},
	ProgGlusterDMgmt: {name: "Gluster Daemon Management", versions: []version{
		{1, "glusterd.mgmt.proc", glusterDMgmtV1}, {2, "glusterd.mgmt.proc", glusterDMgmtV2},
		{3, "glusterd.mgmt.proc", glusterDMgmtV3}}},
	ProgGlusterDFriend: {name: "Gluster Daemon Friend Operations", versions: []version{
		{2, "glusterd.friend.proc", glusterDFriend}}},
	ProgGlusterDBrick: {name: "Gluster Daemon Brick Operations", versions: []version{
		{2, "glusterd.brick.proc", glusterDBrick}}},
	ProgGlusterMgmt1: {name: "Gluster Management", versions: []version{{1, "", glusterMgmt1}}},
	ProgGlusterAggr:  {name: "Gluster Aggregator", versions: []version{{1, "", glusterAggr}}},
}

// KnownProgram reports whether prog is one of the programs named here.
func KnownProgram(prog uint32) bool { return programs[prog] != nil }

// ProgramName returns the program's name ("NFS", "GlusterFS Handshake"), or
// "program N" when it is not known.
func ProgramName(prog uint32) string {
	if p := programs[prog]; p != nil {
		return p.name
	}
	return "program " + strconv.FormatUint(uint64(prog), 10)
}

func lookupVersion(prog, vers uint32) *version {
	p := programs[prog]
	if p == nil {
		return nil
	}
	for i := range p.versions {
		if p.versions[i].v == vers {
			return &p.versions[i]
		}
	}
	return nil
}

// ProcedureName returns the procedure's name ("GETPORT", "SETVOLUME"), or
// "proc N" when the program version or procedure is not known.
func ProcedureName(prog, vers, proc uint32) string {
	if v := lookupVersion(prog, vers); v != nil && proc < uint32(len(v.procs)) && v.procs[proc] != "" {
		return v.procs[proc]
	}
	return "proc " + strconv.FormatUint(uint64(proc), 10)
}

// procedureField returns tshark's field name for the program's procedure
// number, or "" when tshark has none.
func procedureField(prog, vers uint32) string {
	if v := lookupVersion(prog, vers); v != nil {
		return v.field
	}
	return ""
}

func isGluster(prog uint32) bool {
	switch prog {
	case ProgGlusterHandshk, ProgGlusterDump, ProgGlusterPmap, ProgGlusterFS, ProgGlusterCbk, ProgGlusterCLI,
		ProgGlusterDMgmt, ProgGlusterDFriend, ProgGlusterDBrick, ProgGlusterMgmt1, ProgGlusterAggr:
		return true
	}
	return false
}
