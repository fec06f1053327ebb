package oncrpc

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the generated captures in testdata")

// Addresses are from TEST-NET-1 (RFC 5737): these captures are only files.
const (
	client   = "192.0.2.10"
	storage1 = "192.0.2.21"
	storage2 = "192.0.2.22"
	storage3 = "192.0.2.23"
	nfsSrv   = "192.0.2.30"
)

var volfile = strings.Repeat(`volume fisl-client-0
    type protocol/client
    option remote-host storage-1.example.com
    option remote-subvolume /bricks/fisl1
    option transport-type tcp
end-volume
`, 12)

func glusterDumpReply(xid uint32) []byte {
	w := xdrw().u64(0).i32(0).i32(0)
	for _, p := range []struct {
		name string
		num  uint64
		ver  uint64
	}{{"GlusterFS 3.3", 1298437, 330}, {"GlusterFS Handshake", 14398633, 2}, {"Gluster DUMP", 123451501, 1}} {
		w.boolean(true).str(p.name).u64(p.num).u64(p.ver)
	}
	w.boolean(false)
	return replyOK(xid, w.bytes())
}

func getspec(f *tcpFlow, xid uint32) {
	f.exchange(
		record(callMsg(xid, ProgGlusterHandshk, 2, 2, AuthGlusterV2, authGluster(), xdrw().u32(0).str("fisl").opaque(nil).bytes())),
		record(replyOK(xid, xdrw().i32(int32(len(volfile))).i32(0).str(volfile).opaque(nil).bytes())),
		2*time.Millisecond)
}

// dumpAndPortmap is what a client does for each brick on glusterd: DUMP,
// then PORTBYBRICK.
func dumpAndPortmap(f *tcpFlow, xid uint32, brick string, port uint32) {
	f.exchange(record(callMsg(xid, ProgGlusterDump, 1, 1, AuthGlusterV2, authGluster(), xdrw().u64(0).bytes())),
		record(glusterDumpReply(xid)), time.Millisecond)
	f.exchange(record(callMsg(xid+1, ProgGlusterPmap, 1, 1, AuthGlusterV2, authGluster(), xdrw().str(brick).bytes())),
		record(replyOK(xid+1, xdrw().i32(0).i32(0).i32(0).u32(port).bytes())), time.Millisecond)
}

// glusterMountFailure: the user story's mount failure. The volfile comes,
// glusterd gives the bricks' ports, and the bricks never answer: two are
// behind a firewall that drops SYNs, a third accepts the connection but
// its brick process never answers the DUMP call.
func glusterMountFailure(t testing.TB) []byte {
	b := newPcap(t)
	f := b.connect(client+":1023", storage1+":24007")
	getspec(f, 1)
	g1 := b.connect(client+":1022", storage1+":24007")
	dumpAndPortmap(g1, 2, "/bricks/fisl1", 49152)
	g2 := b.connect(client+":1021", storage2+":24007")
	dumpAndPortmap(g2, 2, "/bricks/fisl2", 49152)
	g3 := b.connect(client+":1020", storage3+":24007")
	dumpAndPortmap(g3, 2, "/bricks/fisl3", 49153)
	b.synUnanswered(client+":1019", storage1+":49152", 3)
	b.synUnanswered(client+":1018", storage2+":49152", 3)
	h := b.connect(client+":1017", storage3+":49153")
	dump := record(callMsg(1, ProgGlusterDump, 1, 1, AuthGlusterV2, authGluster(), xdrw().u64(0).bytes()))
	h.send(0, dump)
	b.wait(42 * time.Second) // the client's ping timeout
	h.close()
	return b.buf.Bytes()
}

// glusterQemuImg: the user story's hanging qemu-img. Each brick answers
// SETVOLUME with op_ret -1, errno 13 and "Authentication failed".
func glusterQemuImg(t testing.TB) []byte {
	b := newPcap(t)
	f := b.connect(client+":1023", storage1+":24007")
	getspec(f, 1)
	for i, brick := range []struct {
		host, path string
		port       uint32
		cport      string
	}{{storage1, "/bricks/fisl1", 49152, "1021"}, {storage2, "/bricks/fisl2", 49152, "1019"}} {
		g := b.connect(client+":"+[]string{"1022", "1020"}[i], brick.host+":24007")
		dumpAndPortmap(g, 2, brick.path, brick.port)
		h := b.connect(client+":"+brick.cport, brick.host+":49152")
		h.exchange(record(callMsg(3, ProgGlusterDump, 1, 1, AuthGlusterV2, authGluster(), xdrw().u64(0).bytes())),
			record(glusterDumpReply(3)), time.Millisecond)
		args := xdrw().opaque(glusterDict("process-uuid", "vml22-229-2961-2014/05/10-13:19:49:60-fisl-client-0",
			"remote-subvolume", brick.path, "volfile-key", "fisl", "fops-version", "1298437",
			"mgmt-version", "1238433")).bytes()
		h.exchange(record(callMsg(4, ProgGlusterHandshk, 2, 1, AuthGlusterV2, authGluster(), args)),
			record(replyOK(4, xdrw().i32(-1).i32(13).opaque(glusterDict("ERROR", "Authentication failed")).bytes())),
			3*time.Millisecond)
		h.close()
	}
	return b.buf.Bytes()
}

// glusterFops: file operations on a brick after a good handshake: a lookup
// of a missing file, a create refused, statfs, release.
func glusterFops(t testing.TB) []byte {
	b := newPcap(t)
	h := b.connect(client+":1021", storage1+":49152")
	h.exchange(record(callMsg(1, ProgGlusterHandshk, 2, 1, AuthGlusterV2, authGluster(),
		xdrw().opaque(glusterDict("remote-subvolume", "/bricks/fisl1")).bytes())),
		record(replyOK(1, xdrw().i32(0).i32(0).opaque(glusterDict("process-uuid", "storage-1")).bytes())), time.Millisecond)
	gfid := bytes.Repeat([]byte{0xab}, 16)
	root := append(make([]byte, 15), 1)
	iatt := make([]byte, 104) // gf_iatt, all zero
	fop := func(xid, proc uint32, args, reply []byte) {
		h.exchange(record(callMsg(xid, ProgGlusterFS, 330, proc, AuthGlusterV2, authGluster(), args)),
			record(replyOK(xid, reply)), time.Millisecond)
	}
	// LOOKUP: gfid, pargfid, flags, bname, xdata -> ENOENT with two iatts
	fop(2, 27, xdrw().fixed(make([]byte, 16)).fixed(root).u32(0).str("vm.img").opaque(nil).bytes(),
		xdrw().i32(-1).i32(2).fixed(iatt).fixed(iatt).opaque(nil).bytes())
	// CREATE: pargfid, flags, mode, umask, bname, xdata -> EACCES
	fop(3, 23, xdrw().fixed(root).u32(0o1101, 0o644, 0o22).str("vm.img").opaque(nil).bytes(),
		xdrw().i32(-1).i32(13).fixed(iatt).u64(0).fixed(iatt).fixed(iatt).opaque(nil).bytes())
	// STATFS: gfid, xdata -> op_ret 0 and a statvfs
	fop(4, 14, xdrw().fixed(root).opaque(nil).bytes(), xdrw().i32(0).i32(0).zeros(88).opaque(nil).bytes())
	// RELEASE: gfid, fd, xdata -> op_ret 0
	fop(5, 41, xdrw().fixed(gfid).u64(7).opaque(nil).bytes(), xdrw().i32(0).i32(0).opaque(nil).bytes())
	h.close()
	return b.buf.Bytes()
}

// nfsErrors: NFSv3 and MOUNT v3 failing the ways users meet, over TCP, and
// NLM and an unanswered NFS call over UDP.
func nfsErrors(t testing.TB) []byte {
	b := newPcap(t)
	cred := authSys("client.example.com", 1000, 1000)
	fh := bytes.Repeat([]byte{0x01}, 32)
	fattr := xdrw().u32(2, 0o755, 2, 0, 0).zeros(84 - 20).bytes()
	noattr := xdrw().boolean(false).bytes()

	m := b.connect(client+":700", nfsSrv+":20048")
	m.exchange(record(callMsg(0x1001, ProgMount, 3, 1, AuthSys, cred, xdrw().str("/export/secret").bytes())),
		record(replyOK(0x1001, xdrw().u32(13).bytes())), time.Millisecond) // MNT3ERR_ACCES
	m.exchange(record(callMsg(0x1002, ProgMount, 3, 1, AuthSys, cred, xdrw().str("/export/home").bytes())),
		record(replyOK(0x1002, xdrw().u32(0).opaque(fh).u32(1, 1).bytes())), time.Millisecond)
	m.close()

	n := b.connect(client+":701", nfsSrv+":2049")
	nfs := func(xid, proc uint32, args, reply []byte, frags ...int) {
		n.exchange(record(callMsg(xid, ProgNFS, 3, proc, AuthSys, cred, args), frags...), reply, time.Millisecond)
	}
	nfs(0x2001, 1, xdrw().opaque(fh).bytes(), record(replyOK(0x2001, xdrw().u32(0).fixed(fattr).bytes())))
	nfs(0x2002, 3, xdrw().opaque(fh).str("secret.txt").bytes(),
		record(replyOK(0x2002, xdrw().u32(2).with(noattr).bytes()))) // NFS3ERR_NOENT
	nfs(0x2003, 8, xdrw().opaque(fh).str("new.txt").u32(0).u32(0, 0, 0, 0).u32(0, 0).bytes(),
		record(replyOK(0x2003, xdrw().u32(13).with(noattr).with(noattr).bytes()))) // NFS3ERR_ACCES
	nfs(0x2004, 1, xdrw().opaque(bytes.Repeat([]byte{0xee}, 32)).bytes(),
		record(replyOK(0x2004, xdrw().u32(70).bytes()))) // NFS3ERR_STALE
	// WRITE of 9000 bytes as a record of three fragments over seven segments.
	data := bytes.Repeat([]byte("wiresleuth "), 9000/11+1)[:9000]
	nfs(0x2005, 7, xdrw().opaque(fh).u64(0).u32(9000, 2).opaque(data).bytes(),
		record(replyOK(0x2005, xdrw().u32(0).with(noattr).with(noattr).u32(9000, 2).u64(0x1234).bytes())),
		4000, 4000)
	nfs(0x2006, 18, xdrw().opaque(fh).bytes(), record(replyAccept(0x2006, SystemErr, 0, 0)))
	nfs(0x2007, 1, xdrw().opaque(fh).bytes(), record(replyDenied(0x2007, AuthError, 5))) // AUTH_TOOWEAK
	nfs(0x2008, 1, xdrw().opaque(fh).bytes(), record(replyAccept(0x2008, ProgMismatch, 3, 3)))
	// A call with RPC version 3, denied RPC_MISMATCH.
	bad := callMsg(0x2009, ProgNFS, 3, 0, AuthNone, nil, nil)
	bad[11] = 3
	n.exchange(record(bad), record(replyDenied(0x2009, RPCMismatch, 2, 2)), time.Millisecond)
	n.close()

	// NLM v4 over UDP: LOCK denied; TEST granted.
	lock := xdrw().opaque([]byte{0, 0, 0, 1}).boolean(false).boolean(true).
		str("client.example.com").opaque(fh).opaque([]byte("1000@client")).i32(4242).u64(0).u64(0).
		boolean(false).i32(3).bytes()
	b.udp(client+":800", nfsSrv+":4045", callMsg(0x3001, ProgNLM, 4, 2, AuthSys, cred, lock))
	b.wait(time.Millisecond)
	b.udp(nfsSrv+":4045", client+":800", replyOK(0x3001, xdrw().opaque([]byte{0, 0, 0, 1}).u32(1).bytes()))
	// An NFS call over UDP, retransmitted twice, never answered.
	getattr := callMsg(0x4001, ProgNFS, 3, 1, AuthSys, cred, xdrw().opaque(fh).bytes())
	for i := 0; i < 3; i++ {
		b.udp(client+":801", nfsSrv+":2049", getattr)
		b.wait(1100 * time.Millisecond)
	}
	return b.buf.Bytes()
}

var generated = []struct {
	name  string
	build func(testing.TB) []byte
}{
	{"gluster-mount-failure.pcap", glusterMountFailure},
	{"gluster-qemu-img.pcap", glusterQemuImg},
	{"gluster-fops.pcap", glusterFops},
	{"nfs-errors.pcap", nfsErrors},
}

// TestGeneratedUpToDate checks that the generated captures in testdata are
// what the builders make (go test -update rewrites them).
func TestGeneratedUpToDate(t *testing.T) {
	for _, g := range generated {
		want := g.build(t)
		path := "testdata/" + g.name
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: go test ./app/oncrpc -run TestGeneratedUpToDate -update", path)
		}
	}
}
