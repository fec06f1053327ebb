// Package oncrpc decodes ONC RPC (RFC 5531) over TCP and UDP: it matches
// calls and replies by XID and names programs, procedures and outcomes for
// portmap/rpcbind (v2-v4), NFSv3, MOUNT v3, NLM v4 and the GlusterFS
// programs (Handshake, Dump, Gluster Portmap, the file operations, CLI and
// glusterd).
//
// Over TCP, Stream reassembles records from their record marks, however the
// records are split into fragments and segments. Over UDP, Datagrams takes
// one message per datagram. Both report each call as an app.Transaction:
// with its reply (accepted, denied, or failed at the program level: an
// NFSv3 status, a MOUNT status, an NLM status, a GlusterFS op_ret/op_errno
// named by errno), or StatusNoReply when none came, and hand every decoded
// Message, with tshark's field names (Message.Fields), to an optional
// callback.
//
// Bounded memory, per connection or exchange: MaxRecord bytes and
// MaxFragments fragments per record, MaxPrefix bytes of each record kept for
// decoding, a 16 KiB resync window per side, MaxOutstanding calls awaiting
// replies; XDR lengths are capped (authentication bodies at 400 bytes as
// RFC 5531 says, strings at 4 KiB, lists at 4096 entries, GlusterFS dicts at
// 256 items). A length over its cap is reported as Damage, not followed.
//
// Gaps: a gap inside a fragment costs that record's data but not the record
// marking. A gap elsewhere loses the marking; the decoder then scans for a
// record mark followed by a call to a known program or a reply to a waiting
// call, and reports DamageResync when it finds one or DamageNoSync at the
// end when it does not. Calls whose replies may have been in a gap end as
// StatusIncomplete, not StatusNoReply.
//
// For per-frame display, Message.Fields yields tshark's field names and
// values (rpc.xid, rpc.msgtyp, rpc.program, rpc.procedure, rpc.replystat,
// rpc.state_accept, glusterfs.hndsk.proc, gluster.op_errno, nfs.status3,
// ...) and FieldNames lists them; Message.EndAt is the frame where tshark
// shows a message that spans several segments.
//
// Names follow the GlusterFS sources where they and Wireshark disagree:
// Handshake procedure 1 is SETVOLUME (Wireshark 4.0's glusterfs.hndsk.proc
// calls it DUMP, which is how the "DUMP reply with errno 13" of the
// qemu-img story reads in Wireshark), and GlusterFS procedure 41 is RELEASE
// (Wireshark 4.0 inserts FORGET there, shifting 41-49 by one).
package oncrpc
