#!/usr/bin/env python3
"""Reference model of Zeek 9.1 conn.log fields (conn_state, history, bytes, packets, duration,
missed_bytes) written from the rules in docs/zeek-conn-rules.md.

It exists to check that the written rules reproduce Zeek's committed baselines in
../shared/peers/zeek and to print the per-packet walk-through tables of that document.
It is an independent re-implementation of the rules in the doc (no Zeek code copied).

usage: zeekconn.py TRACE [--bare] [-C] [--ports=full|http,...] [--ignore-nets=CIDR,...]
                         [--trace-conns] [--report-gaps-partial]
"""
import heapq
import ipaddress
import struct
import sys

sys.path.insert(0, __import__('os').path.dirname(__file__))
import pcapdec  # noqa: E402

M32 = 0xffffffff
M64 = (1 << 64) - 1

# ---------------------------------------------------------------- configuration
PKT_PROTO_PORTS = {'5072/udp', '6081/udp', '4789/udp', '3544/udp', '2152/udp', '2123/udp'}
PROTO_PORTS = {
    'dce-rpc': {'135/tcp'}, 'dhcp': {'67/udp', '4011/udp'}, 'dnp3': {'20000/tcp', '20000/udp'},
    'dns': {'53/udp', '53/tcp', '137/udp', '5353/udp', '5355/udp'}, 'finger': {'79/tcp'},
    'ftp': {'21/tcp', '2811/tcp'},
    'http': {'80/tcp', '81/tcp', '631/tcp', '1080/tcp', '3128/tcp', '8000/tcp', '8080/tcp', '8888/tcp'},
    'imap': {'143/tcp'}, 'irc': {'6666/tcp', '6667/tcp', '6668/tcp', '6669/tcp'},
    'krb': {'88/tcp', '88/udp'}, 'ldap': {'389/tcp', '3268/tcp', '389/udp'}, 'modbus': {'502/tcp'},
    'mqtt': {'1883/tcp'}, 'mysql': {'1434/tcp', '3306/tcp'}, 'ntp': {'123/udp'},
    'postgresql': {'5432/tcp'}, 'radius': {'1812/udp'}, 'rdp': {'3389/tcp', '3389/udp'},
    'redis': {'6379/tcp'}, 'sip': {'5060/udp'}, 'smb': {'139/tcp', '445/tcp'},
    'smtp': {'25/tcp', '587/tcp'}, 'snmp': {'161/udp', '162/udp'}, 'socks': {'1080/tcp'},
    'ssh': {'22/tcp'},
    'ssl': {'443/tcp', '465/tcp', '563/tcp', '585/tcp', '614/tcp', '636/tcp', '989/tcp', '990/tcp',
            '992/tcp', '993/tcp', '995/tcp', '5223/tcp', '443/udp'},
    'syslog': {'514/udp', '514/tcp'}, 'xmpp': {'5222/tcp', '5269/tcp'}, 'pop3': set(),
}


class Cfg:
    bare = False
    ignore_checksums = False
    ports = set(PKT_PROTO_PORTS)
    ignore_nets = []
    report_gaps_for_partial = False
    tcp_excessive_data_without_further_acks = 10 * 1024 * 1024
    tcp_max_initial_window = 16384
    tcp_max_above_hole_without_any_acks = 16384
    tunnel_max_changes = 5


CFG = Cfg()

# timeouts (seconds) -- init-bare.zeek defaults
TCP_SYN_TIMEOUT = 5.0
TCP_SESSION_TIMER = 6.0
TCP_CONNECTION_LINGER = 5.0
TCP_ATTEMPT_DELAY = 5.0
TCP_CLOSE_DELAY = 5.0
TCP_INACTIVITY = 300.0
UDP_INACTIVITY = 60.0
ICMP_INACTIVITY = 60.0
UNKNOWN_INACTIVITY = 60.0
TOO_LARGE_SEQ_DELTA = 1048576
DNS_SESSION_TIMEOUT = 10.0
DNS_UDP_PORTS = {53, 137, 5353, 5355}

INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET = range(7)
STATE_NAMES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET']
SN = ['INA', 'SYN', 'SAS', 'PAR', 'EST', 'CLO', 'RST']

HIST_SYN, HIST_FIN, HIST_RST, HIST_FIN_RST, HIST_DATA, HIST_ACK, HIST_MULTI = 1, 2, 4, 8, 0x10, 0x20, 0x40
HIST_LIMIT = 0x400


def s32(x):
    x &= M32
    return x - (1 << 32) if x & 0x80000000 else x


def seq_delta(a, b):
    return s32(a - b)


def likely_server_port(port, proto):
    return ('%d/%s' % (port, proto)) in CFG.ports


# ---------------------------------------------------------------- timers
class TimerMgr:
    def __init__(self):
        self.heap = []
        self.n = 0
        self.now = 0.0
        self.terminating = False

    def add(self, t, owner, fn, do_expire, analyzer):
        if not owner.in_table:
            return None
        self.n += 1
        tm = [t, self.n, owner, fn, do_expire, analyzer, False]
        heapq.heappush(self.heap, tm)
        owner.timers.append(tm)
        return tm

    def advance(self, t):
        self.now = t
        while self.heap and self.heap[0][0] <= t:
            tm = heapq.heappop(self.heap)
            if tm[6]:
                continue
            owner = tm[2]
            if tm in owner.timers:
                owner.timers.remove(tm)
            tm[3](tm[0])

    def expire_all(self):
        self.terminating = True
        while self.heap:
            tm = heapq.heappop(self.heap)
            if tm[6]:
                continue
            owner = tm[2]
            if tm in owner.timers:
                owner.timers.remove(tm)
            if tm[4]:
                tm[3](self.now)


TM = TimerMgr()
LOG = []          # finished conn rows (dicts) in removal order
SESSIONS = {}     # key -> Conn
UID = [0]
TRACE = []        # per-packet trace records


def cancel(tm):
    tm[6] = True


# ---------------------------------------------------------------- reassembler
class Reasm:
    """Per-endpoint reassembler: sorted non-overlapping [seq, upper) blocks kept until trimmed."""

    def __init__(self, ep):
        self.ep = ep
        self.blocks = []
        self.last_reassem = 1
        self.trim_seq = 1
        self.skip = False
        self.did_eof = False
        self.had_gap = False

    def has_blocks(self):
        return bool(self.blocks)

    def data_size(self):
        return sum(u - s for s, u in self.blocks)

    def num_undelivered(self):
        if not self.blocks:
            return 0
        return self.blocks[-1][1] - self.last_reassem

    def insert(self, seq, upper):
        # add only the uncovered parts
        new = []
        cur = seq
        for s, u in self.blocks:
            if u <= cur:
                continue
            if s >= upper:
                break
            if s > cur:
                new.append((cur, min(s, upper)))
            cur = max(cur, u)
            if cur >= upper:
                break
        if cur < upper:
            new.append((cur, upper))
        self.blocks = sorted(self.blocks + new)

    def deliver_contig(self):
        for s, u in self.blocks:
            if s > self.last_reassem:
                break
            if s == self.last_reassem:
                self.last_reassem = u
            elif u > self.last_reassem:
                self.last_reassem = u

    def block_inserted(self):
        self.deliver_contig()
        ep = self.ep
        if ep.no_data_acked() and CFG.tcp_max_initial_window and ep.size() > CFG.tcp_max_initial_window:
            self.trim_to(self.last_reassem)

    def new_block(self, seq, length):
        if length == 0:
            return
        upper = seq + length
        if upper <= self.trim_seq:
            return
        if seq < self.trim_seq:
            seq = self.trim_seq
        self.insert(seq, upper)
        self.block_inserted()

    def data_sent(self, seq, length):
        if self.skip:
            return False
        ack = self.ep.to_rel(self.ep.ack_seq, self.ep.ack_wraps)
        upper = seq + length
        if seq < ack:
            if upper <= ack:
                return False
            length -= ack - seq
            seq = ack
        self.new_block(seq, length)
        if self.ep.no_data_acked() and CFG.tcp_max_above_hole_without_any_acks and \
                self.num_undelivered() > CFG.tcp_max_above_hole_without_any_acks:
            self.ep.conn.weird('above_hole_data_without_any_acks')
            self.blocks = []
            self.skip = True
        if CFG.tcp_excessive_data_without_further_acks and \
                self.data_size() > CFG.tcp_excessive_data_without_further_acks:
            self.ep.conn.weird('excessive_data_without_further_acks')
            self.blocks = []
            self.skip = True
        return True

    def trim_to(self, seq):
        if seq > self.last_reassem:
            self.undelivered(seq)
        while self.blocks and self.blocks[0][1] <= seq:
            self.blocks.pop(0)
        if self.blocks and self.blocks[0][0] == self.last_reassem:
            self.deliver_contig()
        if seq > self.trim_seq:
            self.trim_seq = seq

    def undelivered(self, up_to):
        ad = self.ep.conn.adapter
        if up_to <= 2 and ad.is_partial:
            return  # note: last_reassem is deliberately left alone
        if not self.skip:
            for s, u in list(self.blocks):
                if s < self.last_reassem:
                    continue
                if s >= up_to:
                    break
                self.gap(self.last_reassem, s - self.last_reassem)
                self.last_reassem = s
                self.deliver_contig()
            if up_to > self.last_reassem:
                self.gap(self.last_reassem, up_to - self.last_reassem)
        if up_to > self.last_reassem:
            self.last_reassem = up_to

    def gap(self, seq, length):
        ep = self.ep
        clean = ep.is_clean() and ep.peer.is_clean()
        if clean:
            ep.scaled('G', 'gap')
        if CFG.report_gaps_for_partial or clean:
            ep.conn.missed_bytes += length
        self.had_gap = True

    def ack_received(self, seq):
        ep = self.ep
        if ep.FIN_cnt > 0 and seq >= ep.FIN_seq:
            seq = ep.FIN_seq - 1
        if seq <= self.trim_seq:
            return
        self.trim_to(seq)
        self.check_eof()

    def data_pending(self):
        if self.skip:
            return False
        ep = self.ep
        delivered = ep.start_seq + self.last_reassem
        last = (ep.seq_wraps << 32) + ep.last_seq
        if last < delivered:
            return False
        if delivered != last - 1 and delivered != last:
            return True
        if ep.state != RESET and ep.peer.reasm.has_blocks():
            return True
        return False

    def check_eof(self):
        ep = self.ep
        if not self.did_eof and (ep.FIN_cnt > 0 or ep.state in (CLOSED, RESET)) and not self.data_pending():
            self.did_eof = True
            ep.conn.adapter.endpoint_eof(ep)


# ---------------------------------------------------------------- TCP endpoint
class Endpoint:
    def __init__(self, conn, is_orig):
        self.conn = conn
        self.is_orig = is_orig
        self.state = self.prev_state = INACTIVE
        self.start_seq = self.last_seq = self.ack_seq = 0
        self.seq_wraps = self.ack_wraps = 0
        self.FIN_cnt = self.RST_cnt = 0
        self.FIN_seq = 0
        self.did_close = False
        self.hist_last_SYN = self.hist_last_FIN = self.hist_last_RST = 0
        self.cnt = {'chk': [0, 1], 'rxmt': [0, 1], 'win0': [0, 1], 'gap': [0, 1]}
        self.last_time = 0.0
        self.peer = None
        self.reasm = Reasm(self)

    def start32(self):
        return self.start_seq & M32

    def to_rel(self, seq, wraps):
        return ((wraps << 32) + seq - self.start_seq) & M64

    def no_data_acked(self):
        ack = (self.ack_wraps << 32) + self.ack_seq
        return ack == self.start_seq or ack == self.start_seq + 1

    def is_clean(self):
        return self.state == ESTABLISHED or (self.state == CLOSED and self.prev_state == ESTABLISHED)

    def set_state(self, new):
        if new != self.state:
            hs = (INACTIVE, SYN_SENT, SYN_ACK_SENT)
            if new not in hs and self.state in hs and self.peer.state in hs:
                self.conn.set_inactivity_timeout(TCP_INACTIVITY)
            self.prev_state = self.state
            self.state = new

    def update_last_seq_raw(self, seq):
        if seq < self.last_seq:
            self.seq_wraps += 1
        self.last_seq = seq

    def update_ack_seq_raw(self, seq):
        if seq < self.ack_seq:
            self.ack_wraps += 1
        self.ack_seq = seq

    def size(self):
        if self.prev_state == SYN_SENT and self.state == RESET and self.peer.state == INACTIVE and \
                not self.no_data_acked():
            return 0
        last64 = (self.seq_wraps << 32) + self.last_seq
        ack64 = (self.ack_wraps << 32) + self.ack_seq
        size = ((last64 if last64 > ack64 else ack64) - self.start_seq) & M64
        if size != 0:
            size -= 1
        if self.FIN_cnt > 0 and size != 0:
            size -= 1
        return size

    def letter(self, c):
        return c if self.is_orig else c.lower()

    def check_history(self, mask, code):
        c = self.conn
        if code in 'AD' and c.history == 'H':
            c.flip_roles()
            c.history = '^h'
            c.adapter.first_packet_seen |= 1
            c.note('H-flip: history "H" + first A/D -> flip, history := "^h"')
        if not self.is_orig:
            mask <<= 16
            code = code.lower()
        return c.check_history(mask, code)

    def add_history(self, code):
        self.conn.add_history(self.letter(code))

    def scaled(self, code, kind):
        cnt = self.cnt[kind]
        cnt[0] += 1
        if cnt[0] == cnt[1]:
            self.conn.add_history(self.letter(code))
            nt = cnt[1] * 10
            if nt <= cnt[1] or nt > M32:
                cnt[0] = 0
            else:
                cnt[1] = nt


# ---------------------------------------------------------------- connections
class Conn:
    def __init__(self, key, proto, src, sport, dst, dport, ts, ipproto):
        UID[0] += 1
        self.uid = UID[0]
        self.key = key
        self.proto = proto
        self.ipproto = ipproto
        self.orig_h, self.orig_p, self.resp_h, self.resp_p = src, sport, dst, dport
        self.start = ts
        self.last_time = ts
        self.history = ''
        self.hist_seen = 0
        self.timers = []
        self.in_table = True
        self.inactivity_timeout = 0
        self.pkts = [0, 0]
        self.ipbytes = [0, 0]
        self.missed_bytes = 0
        self.encap = None
        self.tunnel_changes = 0
        self.adapter = None
        self.service = set()
        self.weirds = []
        self.notes = []
        self.first_frame = None
        self.pending_added = ''

    # -- history
    def add_history(self, c):
        self.history += c

    def check_history(self, mask, code):
        if self.hist_seen & mask == 0:
            self.hist_seen |= mask
            self.add_history(code)
            return False
        return True

    def weird(self, name):
        self.weirds.append(name)

    def note(self, s):
        self.notes.append(s)

    def flip_roles(self):
        self.pkts.reverse()
        self.ipbytes.reverse()
        self.orig_h, self.resp_h = self.resp_h, self.orig_h
        self.orig_p, self.resp_p = self.resp_p, self.orig_p
        if self.adapter:
            self.adapter.flip_roles()
        self.add_history('^')

    def set_inactivity_timeout(self, timeout):
        if timeout == self.inactivity_timeout:
            return
        for tm in self.timers:
            if tm[3] == self.inactivity_timer:
                cancel(tm)
                self.timers.remove(tm)
                break
        if timeout:
            TM.add(self.last_time + timeout, self, self.inactivity_timer, False, False)
        self.inactivity_timeout = timeout

    def inactivity_timer(self, t):
        if self.last_time + self.inactivity_timeout <= t:
            self.note('removed by inactivity timer at +%.6f' % (t - self.start))
            remove(self)
            return
        TM.add(self.last_time + self.inactivity_timeout, self, self.inactivity_timer, False, False)

    def cancel_analyzer_timers(self):
        for tm in list(self.timers):
            if tm[5]:
                cancel(tm)
                self.timers.remove(tm)

    def row(self):
        dur = self.last_time - self.start
        a = self.adapter
        r = {'proto': self.proto, 'orig_h': self.orig_h, 'orig_p': self.orig_p, 'resp_h': self.resp_h,
             'resp_p': self.resp_p, 'uid': self.uid}
        osz, rsz = a.sizes()
        if dur > 0:
            r['duration'] = '%.6f' % dur
            r['orig_bytes'] = str(osz)
            r['resp_bytes'] = str(rsz)
        else:
            r['duration'] = r['orig_bytes'] = r['resp_bytes'] = '-'
        r['conn_state'] = a.conn_state()
        r['missed_bytes'] = str(self.missed_bytes)
        r['history'] = self.history or '-'
        r['orig_pkts'] = str(self.pkts[0])
        r['orig_ip_bytes'] = str(self.ipbytes[0])
        r['resp_pkts'] = str(self.pkts[1])
        r['resp_ip_bytes'] = str(self.ipbytes[1])
        r['first_frame'] = self.first_frame
        if isinstance(a, TCPAdapter):
            r['ostate'] = '%s(%d)' % (STATE_NAMES[a.orig.state], a.orig.state)
            r['rstate'] = '%s(%d)' % (STATE_NAMES[a.resp.state], a.resp.state)
            r['osize'], r['rsize'] = osz, rsz
            def d(ep):
                last = ((ep.seq_wraps << 32) + ep.last_seq - ep.start_seq) & M64
                ack = ((ep.ack_wraps << 32) + ep.ack_seq - ep.start_seq) & M64
                return {'last': last if last < (1 << 63) else last - (1 << 64),
                        'ack': ack if ack < (1 << 63) else ack - (1 << 64), 'fin': ep.FIN_cnt > 0,
                        'special': ep.prev_state == SYN_SENT and ep.state == RESET and ep.peer.state == INACTIVE
                        and not ep.no_data_acked()}
            r['oderiv'], r['rderiv'] = d(a.orig), d(a.resp)
        r['notes'] = self.notes
        r['weirds'] = self.weirds
        r['start'] = self.start
        return r


def take_pending(conn):
    p = conn.pending_added
    conn.pending_added = ''
    return p


def remove(conn):
    if not conn.in_table:
        return
    for tm in conn.timers:
        cancel(tm)
    conn.timers = []
    LOG.append(conn.row())
    if SESSIONS.get(conn.key) is conn:
        del SESSIONS[conn.key]
    conn.in_table = False


class SimpleAdapter:
    """UDP / ICMP / unknown-transport per-direction activity and length."""

    def __init__(self, conn, kind):
        self.conn = conn
        self.kind = kind
        self.req = -1
        self.rep = -1
        self.chk = [[0, 1], [0, 1]]

    def flip_roles(self):
        self.req, self.rep = self.rep, self.req

    def update_length(self, is_orig, n):
        if is_orig:
            self.req = n if self.req < 0 else self.req + n
        else:
            self.rep = n if self.rep < 0 else self.rep + n

    def sizes(self):
        if self.kind == 'unknown':
            return 0, 0
        return max(self.req, 0), max(self.rep, 0)

    def conn_state(self):
        if self.kind == 'udp':
            if self.req >= 0:
                return 'SF' if self.rep >= 0 else 'S0'
            return 'SHR' if self.rep >= 0 else 'OTH'
        return 'OTH'

    def is_reuse(self, *a):
        return False


# ---------------------------------------------------------------- TCP adapter
class TCPFlags:
    def __init__(self, f):
        self.f = f
        self.SYN = bool(f & 2)
        self.FIN = bool(f & 1)
        self.RST = bool(f & 4)
        self.ACK = bool(f & 16)
        self.PSH = bool(f & 8)
        self.URG = bool(f & 32)

    def s(self):
        return ''.join(c for c, b in (('S', self.SYN), ('F', self.FIN), ('R', self.RST), ('A', self.ACK),
                                      ('P', self.PSH), ('U', self.URG)) if b) or '.'


class TCPAdapter:
    def __init__(self, conn):
        self.conn = conn
        self.orig = Endpoint(conn, True)
        self.resp = Endpoint(conn, False)
        self.orig.peer = self.resp
        self.resp.peer = self.orig
        self.first_packet_seen = 0
        self.is_partial = False
        self.is_active = True
        self.close_deferred = False
        self.deferred_gen_event = False
        TM.add(TM.now + TCP_SYN_TIMEOUT, conn, self.expire_timer, False, True)

    # -- roles
    def flip_roles(self):
        self.orig, self.resp = self.resp, self.orig
        self.orig.is_orig = not self.orig.is_orig
        self.resp.is_orig = not self.resp.is_orig
        f = self.first_packet_seen
        self.first_packet_seen = (2 if f & 1 else 0) | (1 if f & 2 else 0)
        self.is_partial = False

    def sizes(self):
        return self.orig.size(), self.resp.size()

    def conn_state(self):
        os_, rs = self.orig.state, self.resp.state
        o_in = os_ in (INACTIVE, PARTIAL)
        r_in = rs in (INACTIVE, PARTIAL)
        if rs == RESET:
            if os_ in (SYN_SENT, SYN_ACK_SENT) or (os_ == RESET and self.orig.size() == 0 and self.resp.size() == 0):
                return 'REJ'
            return 'RSTRH' if o_in else 'RSTR'
        if os_ == RESET:
            if r_in:
                import re
                if re.fullmatch(r'\^?S[^HAFGIQ]*R.*', self.conn.history):
                    return 'RSTOS0'
                return 'OTH'
            return 'RSTO'
        if rs == CLOSED and os_ == CLOSED:
            return 'SF'
        if os_ == CLOSED:
            return 'SH' if r_in else 'S2'
        if rs == CLOSED:
            return 'SHR' if o_in else 'S3'
        if os_ == SYN_SENT and rs == INACTIVE:
            return 'S0'
        if os_ == ESTABLISHED and rs == ESTABLISHED:
            return 'S1'
        return 'OTH'

    # -- timers
    def add_timer(self, t, fn, do_expire):
        TM.add(t, self.conn, fn, do_expire, True)

    def expire_timer(self, t):
        if not self.is_active:
            return
        c = self.conn
        o, r = self.orig, self.resp
        if c.last_time + TCP_CONNECTION_LINGER < t:
            if o.did_close or r.did_close:
                if (o.did_close and r.did_close) or RESET in (o.state, r.state) or INACTIVE in (o.state, r.state):
                    self.is_active = False
                    c.note('removed by ExpireTimer (closed + linger) at +%.6f' % (t - c.start))
                    remove(c)
                    return
            if r.state == INACTIVE and o.state == INACTIVE:
                c.note('removed by ExpireTimer (nothing happened) at +%.6f' % (t - c.start))
                remove(c)
                return
        self.add_timer(t + TCP_SESSION_TIMER, self.expire_timer, False)

    def attempt_timer(self, t):
        if not self.is_active:
            return
        if self.orig.state in (SYN_SENT, SYN_ACK_SENT) and self.resp.state == INACTIVE:
            self.is_active = False
            self.conn.note('removed by AttemptTimer (connection_attempt) at +%.6f' % (t - self.conn.start))
            remove(self.conn)

    def delete_timer(self, t):
        self.conn.note('removed by close-delay timer at +%.6f' % (t - self.conn.start))
        remove(self.conn)

    # -- reuse
    def is_reuse(self, t, flags, seq):
        if not flags.SYN:
            return False
        conn_orig = self.orig
        if flags.ACK:
            if self.orig.state != INACTIVE:
                return False
            conn_orig = self.resp
        if not (self.orig.did_close or self.resp.did_close):
            if seq == conn_orig.start32():
                return False
            if not flags.ACK and conn_orig.state == SYN_ACK_SENT and self.resp.state == INACTIVE and \
                    seq == self.resp.start32():
                return False
            self.conn.weird('SYN_seq_jump' if conn_orig.state == SYN_SENT else 'active_connection_reuse')
        return True

    # -- closing
    def endpoint_eof(self, ep):
        if self.close_deferred:
            self.connection_closed(ep, ep.peer, self.deferred_gen_event)
            self.close_deferred = False

    def connection_closed(self, ep, peer, gen_event):
        if ep.reasm.data_pending():
            self.close_deferred = True
            if not self.deferred_gen_event:
                self.deferred_gen_event = gen_event
            self.conn.note('close of %s deferred (data pending)' % ('orig' if ep.is_orig else 'resp'))
            return
        self.close_deferred = False
        if ep.did_close:
            return
        ep.did_close = True
        complete = ep.state == RESET or peer.did_close or peer.state == INACTIVE
        if complete:
            if ep.prev_state != INACTIVE or peer.state != INACTIVE:
                if self.deferred_gen_event:
                    gen_event = True
                    self.deferred_gen_event = False
                if gen_event:
                    self.is_active = False
            self.conn.cancel_analyzer_timers()
            self.add_timer(self.conn.last_time + TCP_CLOSE_DELAY, self.delete_timer, False)
        else:
            if ep.prev_state != INACTIVE:
                self.add_timer(self.conn.last_time + TCP_SESSION_TIMER, self.expire_timer, False)

    def connection_reset(self):
        self.is_active = False

    # -- main per-packet processing
    def process(self, t, is_orig, tp, plen, remaining, rec):
        flags = TCPFlags(tp['flags'])
        base_seq = tp['seq']
        ack_seq = tp['ack']
        ep = self.orig if is_orig else self.resp
        peer = ep.peer
        c = self.conn

        # partial status
        if is_orig:
            if not self.first_packet_seen & 1:
                self.is_partial = (not flags.SYN) or flags.ACK
        else:
            if not self.first_packet_seen & 2 and not self.is_partial:
                self.is_partial = not flags.SYN

        seg_len = plen + (1 if flags.SYN else 0) + (1 if flags.FIN else 0)
        if flags.RST:
            seg_len -= plen
        one_past = (base_seq + seg_len) & M32
        self.init_endpoint(ep, flags, base_seq, one_past, t)

        rel_seq, underflow = self.rel(ep, base_seq, ep.last_seq, ep.seq_wraps, ep)
        if underflow and not flags.RST:
            c.weird('TCP_seq_underflow_or_misorder')
        rec['rel_seq'] = s32(rel_seq) if rel_seq > (1 << 63) else rel_seq

        h0 = c.history
        self.update_history(flags, ep, rel_seq, plen)
        # zero window
        if tp['win'] == 0 and not flags.RST and peer.state != CLOSED and ep.state != RESET:
            ep.scaled('W', 'win0')
        if not (self.orig.did_close and self.resp.did_close):
            c.last_time = t
        if flags.FIN:
            ep.FIN_cnt += 1
            ep.FIN_seq = (rel_seq + seg_len) & M64
        if flags.RST:
            ep.RST_cnt += 1
        rel_ack = 0
        if flags.ACK:
            if peer.state == INACTIVE:
                rel_ack = 1
                if not flags.SYN and not flags.FIN and not flags.RST and \
                        ep.state in (SYN_SENT, SYN_ACK_SENT, ESTABLISHED):
                    c.weird('possible_split_routing')
                peer.start_seq = (ack_seq - 1) & M32
                peer.ack_seq = (ack_seq - 1) & M32
                peer.last_seq = (ack_seq - 1) & M32
            else:
                rel_ack, uf = self.rel(peer, ack_seq, peer.ack_seq, peer.ack_wraps, peer)
                if uf:
                    rel_ack = 0
                    c.weird('TCP_ack_underflow_or_misorder')
                elif not flags.RST:
                    d = seq_delta(ack_seq, peer.ack_seq)
                    if ack_seq == 0 and d > TOO_LARGE_SEQ_DELTA:
                        pass
                    elif d > 0:
                        peer.update_ack_seq_raw(ack_seq)
        rec['rel_ack'] = rel_ack if flags.ACK else None
        delta_last = self.update_last_seq(ep, one_past, flags, plen)
        ep.last_time = t

        st0 = (self.orig.state, self.resp.state)
        do_close, gen_event = self.update_state_machine(t, ep, peer, base_seq, ack_seq, plen, delta_last,
                                                        is_orig, flags)
        if flags.ACK:
            peer.reasm.ack_received(rel_ack)
        # (PIA first packet bookkeeping)
        if is_orig and not self.first_packet_seen & 1:
            self.first_packet_seen |= 1
        if not is_orig and not self.first_packet_seen & 2:
            self.first_packet_seen |= 2
        rel_data_seq = rel_seq + 1 if flags.SYN else rel_seq
        if plen > 0 and not flags.RST and not underflow:
            if remaining >= plen:
                ep.reasm.data_sent(rel_data_seq, plen)
            else:
                c.weird('truncated_tcp_payload')
        ep.reasm.check_eof()
        if do_close:
            self.connection_closed(ep, peer, gen_event)
        rec['added'] = c.history[len(h0):] if c.history.startswith(h0) else '(' + c.history + ')'
        rec['flags'] = flags.s()
        rec['states'] = (SN[self.orig.state], SN[self.resp.state])
        rec['st_by'] = {(c.orig_h, c.orig_p): SN[self.orig.state], (c.resp_h, c.resp_p): SN[self.resp.state]}

    @staticmethod
    def rel(ep, cur, last, wraps, owner):
        delta = seq_delta(cur, last)
        if delta < 0:
            if wraps and cur > last:
                wraps -= 1
        elif delta > 0:
            if cur < last:
                wraps += 1
        if wraps == 0:
            d = seq_delta(cur, owner.start32())
            return d & M64, d < 0
        return owner.to_rel(cur, wraps), False

    def init_endpoint(self, ep, flags, first_seq, last_seq, t):
        s = ep.state
        if s == INACTIVE:
            if flags.SYN:
                ep.ack_seq = first_seq
                ep.start_seq = first_seq
            else:
                ep.ack_seq = (first_seq - 1) & M32
                ep.start_seq = (first_seq - 1) & M32
                last_seq = first_seq
            ep.last_seq = last_seq
        elif s in (SYN_SENT, SYN_ACK_SENT):
            if flags.SYN and first_seq != ep.start32():
                self.conn.weird('SYN_seq_jump')
                ep.start_seq = ep.ack_seq = first_seq
                ep.last_seq = last_seq
        elif s in (ESTABLISHED, PARTIAL):
            if flags.SYN:
                ep.start_seq = ep.ack_seq = first_seq
                ep.last_seq = last_seq
        elif s == RESET:
            if flags.SYN and ep.prev_state == INACTIVE:
                ep.start_seq = ep.ack_seq = first_seq
                ep.last_seq = last_seq

    def update_history(self, flags, ep, rel_seq, plen):
        bits = int(flags.SYN) + int(flags.FIN) + int(flags.RST)
        if bits > 1:
            if flags.FIN and flags.RST:
                ep.check_history(HIST_FIN_RST, 'I')
            else:
                ep.check_history(HIST_MULTI, 'Q')
        elif bits == 1:
            if flags.SYN:
                code = 'H' if flags.ACK else 'S'
                if ep.check_history(HIST_SYN, code) and rel_seq != ep.hist_last_SYN:
                    ep.add_history(code)
                ep.hist_last_SYN = rel_seq
            if flags.FIN:
                end = (rel_seq + plen) & M64
                if ep.check_history(HIST_FIN, 'F') and end != ep.hist_last_FIN:
                    ep.add_history('F')
                ep.hist_last_FIN = end
            if flags.RST:
                if ep.check_history(HIST_RST, 'R') and rel_seq != ep.hist_last_RST:
                    ep.add_history('R')
                ep.hist_last_RST = rel_seq
        else:
            if plen:
                ep.check_history(HIST_DATA, 'D')
            elif flags.ACK:
                ep.check_history(HIST_ACK, 'A')

    def update_last_seq(self, ep, last_seq, flags, plen):
        d = seq_delta(last_seq, ep.last_seq)
        if (flags.SYN or flags.RST) and (d > TOO_LARGE_SEQ_DELTA or d < -TOO_LARGE_SEQ_DELTA):
            pass
        elif flags.FIN and ep.last_seq == ((ep.start32() + 1) & M32):
            ep.update_last_seq_raw(last_seq)
        elif ep.state == RESET:
            pass
        elif d > 0:
            ep.update_last_seq_raw(last_seq)
        elif d <= 0 and plen > 0:
            ep.scaled('T', 'rxmt')
        return d

    def update_state_machine(self, t, ep, peer, base_seq, ack_seq, plen, delta_last, is_orig, flags):
        do_close = gen_event = False
        s = ep.state
        c = self.conn
        if s == INACTIVE:
            if flags.SYN:
                if is_orig:
                    ep.set_state(SYN_ACK_SENT if flags.ACK else SYN_SENT)
                    self.add_timer(t + TCP_ATTEMPT_DELAY, self.attempt_timer, True)
                else:
                    if flags.ACK:
                        pass
                    elif peer.state == SYN_ACK_SENT and base_seq == ep.start32():
                        self.is_partial = False
                        c.flip_roles()
                        c.note('SYN/SYN-ACK reversal: flip')
                        peer.set_state(ESTABLISHED)
                        self.first_packet_seen |= 1
                    else:
                        c.weird('simultaneous_open')
                    if peer.state == SYN_SENT:
                        peer.set_state(ESTABLISHED)
                    elif peer.state == INACTIVE:
                        c.weird('unsolicited_SYN_response')
                    ep.set_state(ESTABLISHED)
            if flags.FIN:
                ep.set_state(CLOSED)
                do_close = gen_event = True
            if flags.RST:
                ep.set_state(RESET)
                is_reject = False
                if is_orig:
                    if peer.state == ESTABLISHED:
                        is_reject = True
                elif peer.state in (SYN_SENT, SYN_ACK_SENT):
                    is_reject = True
                do_close = True
                gen_event = not is_reject
            if ep.state == INACTIVE:
                if not is_orig and plen == 0 and self.orig.state == SYN_SENT:
                    pass
                elif flags.ACK and peer.state == ESTABLISHED:
                    ep.set_state(ESTABLISHED)
                    self.is_partial = False
                    self.first_packet_seen |= (1 if is_orig else 2)
                else:
                    ep.set_state(PARTIAL)
        elif s in (SYN_SENT, SYN_ACK_SENT):
            if flags.FIN:
                ep.set_state(CLOSED)
                do_close = gen_event = True
            if flags.RST:
                ep.set_state(RESET)
                self.connection_reset()
                do_close = True
        elif s in (ESTABLISHED, PARTIAL):
            if flags.SYN and s == PARTIAL and peer.state == INACTIVE and not flags.ACK:
                ep.set_state(SYN_SENT)
            if flags.FIN and not flags.RST:
                ep.set_state(CLOSED)
                if peer.state == RESET and peer.prev_state == CLOSED:
                    peer.set_state(CLOSED)
                do_close = gen_event = True
            if flags.RST:
                ep.set_state(RESET)
                do_close = True
                if peer.state != RESET or peer.prev_state != ESTABLISHED:
                    self.connection_reset()
        elif s == CLOSED:
            if flags.RST and ep.peer.state != CLOSED:
                ep.set_state(RESET)
                if not ep.did_close:
                    do_close = True
        return do_close, gen_event


# ---------------------------------------------------------------- packet processing
def canon_key(src, sport, dst, dport, proto, one_way=False):
    a = (ipaddress.ip_address(src), sport)
    b = (ipaddress.ip_address(dst), dport)

    def k(x):
        ip = x[0]
        packed = (ip.ipv4_mapped.packed if False else None)
        if ip.version == 4:
            packed = b'\0' * 10 + b'\xff\xff' + ip.packed
        else:
            packed = ip.packed
        return (packed, x[1])

    if one_way or k(a) < k(b):
        return (src, sport, dst, dport, proto)
    return (dst, dport, src, sport, proto)


def in_ignore_nets(addr):
    a = ipaddress.ip_address(addr)
    return any(a in n for n in CFG.ignore_nets)


FRAGS = {}


def handle_ip(ip, t, frame, encap, caplen_total=None):
    """Process one IP packet (already parsed).  encap: tuple of EncapConn descriptors."""
    if ip.v == 4 and not CFG.ignore_checksums and not in_ignore_nets(ip.src) and not ip.ip_ok:
        return
    if ip.frag:
        key = (ip.src, ip.dst, ip.ident, ip.proto)
        fl = FRAGS.setdefault(key, {})
        fl[ip.frag_off] = (ip.payload, ip.mf)
        # complete?
        offs = sorted(fl)
        cur = 0
        data = b''
        done = False
        for o in offs:
            if o != cur:
                break
            data += fl[o][0]
            cur = o + len(fl[o][0])
            if not fl[o][1]:
                done = True
                break
        if not done:
            return
        del FRAGS[key]
        ip.frag = False
        ip.payload = data
        ip.payload_len = len(data)
        ip.cap_payload_len = len(data)
        ip.total_len = len(data) + ip.hdr_len
        ip.raw = ip.raw[:ip.hdr_len] + data
    if ip.proto == 6:
        handle_tcp(ip, t, frame, encap)
    elif ip.proto == 17:
        handle_udp(ip, t, frame, encap)
    elif ip.proto in (1, 58):
        handle_icmp(ip, t, frame, encap)
    elif ip.proto in (4, 41, 59):
        return
    else:
        handle_unknown(ip, t, frame, encap)


def find_or_make(key, make, reuse_check=None):
    conn = SESSIONS.get(key)
    if conn is not None and reuse_check is not None and reuse_check(conn):
        conn.note('replaced by a new connection (IsReuse)')
        remove(conn)
        conn = None
    new = False
    if conn is None:
        conn = make()
        if conn is None:
            return None, False
        SESSIONS[key] = conn
        new = True
    return conn, new


def check_encap(conn, encap):
    if conn.encap == encap:
        return
    if CFG.tunnel_max_changes and conn.tunnel_changes >= CFG.tunnel_max_changes:
        if not conn.check_history(HIST_LIMIT, 'X'):
            conn.pending_added = 'X'
        conn.note('tunnel_max_changes_per_connection exceeded -> X')
    else:
        conn.tunnel_changes += 1
    conn.encap = encap


def handle_tcp(ip, t, frame, encap):
    p = ip.payload
    plen_ip = ip.payload_len
    remaining = len(ip.raw) - ip.hdr_len
    if ip.payload_len:
        remaining = min(remaining, ip.payload_len)
    seg = ip.raw[ip.hdr_len:]
    if len(seg) < 20:
        return
    sport, dport, seq, ack, offflags, win = struct.unpack('>HHIIHH', seg[:16])
    hl = (offflags >> 12) * 4
    flags = offflags & 0x3f
    fl = TCPFlags(flags)
    key = canon_key(ip.src, sport, ip.dst, dport, 6)

    def make():
        if not fl.SYN or fl.ACK:
            flip = False
            if likely_server_port(sport, 'tcp'):
                if likely_server_port(dport, 'tcp'):
                    flip = (not fl.SYN) and sport < dport
                else:
                    flip = True
        else:
            flip = False
        c = Conn(key, 'tcp', ip.src, sport, ip.dst, dport, t, 6)
        c.first_frame = frame
        c.encap = encap
        c.adapter = TCPAdapter(c)
        c.set_inactivity_timeout(UDP_INACTIVITY)
        if flip:
            c.flip_roles()
            c.note('flipped at creation (likely_server_ports): history "^"')
        return c

    conn, new = find_or_make(key, make, lambda c: c.adapter.is_reuse(t, fl, seq))
    if not new:
        check_encap(conn, encap)
    is_orig = (ip.src == conn.orig_h and sport == conn.orig_p)
    if hl < 20 or hl > plen_ip or hl > remaining:
        return
    plen = plen_ip - hl
    remaining -= hl
    ad = conn.adapter
    ep = ad.orig if is_orig else ad.resp
    rec = {'src': (ip.src, sport), 't': t, 'frame': frame, 'dir': 'o' if is_orig else 'r', 'seq': seq, 'ack': ack, 'len': plen, 'win': win,
           'flags': fl.s(), 'conn': conn.uid}
    if not CFG.ignore_checksums and not in_ignore_nets(ip.src) and remaining >= plen:
        segment = seg[:hl + plen]
        if not pcapdec.l4_checksum_ok(ip, 6, segment):
            conn.weird('bad_TCP_checksum')
            h0 = conn.history
            ep.scaled('C', 'chk')
            rec['added'] = conn.history[len(h0):]
            rec['note'] = 'bad checksum: not processed, not counted'
            rec['states'] = (SN[ad.orig.state], SN[ad.resp.state])
            rec['st_by'] = {(conn.orig_h, conn.orig_p): SN[ad.orig.state], (conn.resp_h, conn.resp_p): SN[ad.resp.state]}
            TRACE.append(rec)
            return
    orig_obj = ad.orig
    ad.process(t, is_orig, {'flags': flags, 'seq': seq, 'ack': ack, 'win': win}, plen, remaining, rec)
    if orig_obj is not ad.orig:
        is_orig = not is_orig
        rec['dir'] += '*'
    idx = 0 if is_orig else 1
    conn.pkts[idx] += 1
    conn.ipbytes[idx] += ip.total_len
    rec['added'] = take_pending(conn) + rec.get('added', '')
    TRACE.append(rec)


TUNNEL_PORTS = {4789: 'vxlan', 6081: 'geneve', 3544: 'teredo', 5072: 'ayiya', 2152: 'gtp', 2123: 'gtp'}


def looks_like_teredo(d):
    if len(d) < 40:
        return False
    o = 0
    if d[0] == 0 and d[1] == 1:
        o = 13 + d[2] + d[3]
    if len(d) >= o + 2 and d[o] == 0 and d[o + 1] == 0:
        o += 8
    if len(d) < o + 40 or d[o] >> 4 != 6:
        return False
    plen = struct.unpack('>H', d[o + 4:o + 6])[0]
    return len(d) - o == plen + 40 or (d[o + 6] == 59 and plen == 0)


def handle_udp(ip, t, frame, encap):
    seg = ip.raw[ip.hdr_len:]
    if len(seg) < 8:
        return
    sport, dport, ulen, csum = struct.unpack('>HHHH', seg[:8])
    key = canon_key(ip.src, sport, ip.dst, dport, 17)

    def make():
        flip = likely_server_port(sport, 'udp') and not likely_server_port(dport, 'udp')
        c = Conn(key, 'udp', ip.src, sport, ip.dst, dport, t, 17)
        c.first_frame = frame
        c.encap = encap
        c.adapter = SimpleAdapter(c, 'udp')
        c.set_inactivity_timeout(UDP_INACTIVITY)
        if flip:
            c.flip_roles()
        if likely_server_port(c.resp_p, 'udp') and c.resp_p in DNS_UDP_PORTS and '53/udp' in CFG.ports:
            # the DNS analyzer (attached by port) carries its own 10 s expiry timer
            def dns_expire(tt, c=c):
                if tt - c.last_time >= DNS_SESSION_TIMEOUT - 1.0 or TM.terminating:
                    c.note('removed by DNS analyzer ExpireTimer at +%.6f' % (tt - c.start))
                    remove(c)
                else:
                    TM.add(tt + DNS_SESSION_TIMEOUT, c, dns_expire, True, True)
            TM.add(TM.now + DNS_SESSION_TIMEOUT, c, dns_expire, True, True)
        return c

    conn, new = find_or_make(key, make)
    if not new:
        check_encap(conn, encap)
    is_orig = (ip.src == conn.orig_h and sport == conn.orig_p)
    plen = ip.payload_len
    remaining = min(len(seg), plen) if plen else len(seg)
    validate = not CFG.ignore_checksums and not in_ignore_nets(ip.src) and remaining >= plen
    payload = seg[8:plen]
    if validate and plen > 8 + 8 + 14 and payload[0] & 0x08 == 0x08 and dport == 4789:
        validate = csum != 0
    if validate:
        bad = False
        if ip.v == 4:
            bad = csum != 0 and not pcapdec.l4_checksum_ok(ip, 17, seg[:plen])
        else:
            bad = not pcapdec.l4_checksum_ok(ip, 17, seg[:plen])
        if bad:
            conn.weird('bad_UDP_checksum')
            TRACE.append({'t': t, 'frame': frame, 'conn': conn.uid, 'dir': 'o' if is_orig else 'r', 'len': ulen - 8,
                          'added': '', 'flags': 'udp', 'note': 'bad UDP checksum: dropped'})
            cnt = conn.adapter.chk[0 if is_orig else 1]
            cnt[0] += 1
            if cnt[0] == cnt[1]:
                conn.add_history('C' if is_orig else 'c')
                cnt[1] *= 10
            return
    conn.last_time = t
    h0 = conn.history
    if is_orig:
        conn.check_history(1, 'D')
    else:
        conn.check_history(2, 'd')
    conn.adapter.update_length(is_orig, ulen - 8)
    TRACE.append({'t': t, 'frame': frame, 'conn': conn.uid, 'dir': 'o' if is_orig else 'r', 'len': ulen - 8,
                  'added': take_pending(conn) + conn.history[len(h0):], 'flags': 'udp'})
    # tunnels: dispatch on the responder port, else protocol detection (Teredo/AYIYA)
    kind = TUNNEL_PORTS.get(conn.resp_p)
    if kind is None and looks_like_teredo(payload):
        kind = 'teredo'
    if kind and not getattr(conn, 'tunnel_violated', False):
        inner = decap(kind, payload, conn)
        if inner is not None:
            conn.service.add(kind)
            ec = (kind, conn.uid, conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p)
            for ipb in inner:
                ip2 = pcapdec.parse_ip(ipb)
                if ip2 is not None:
                    handle_ip(ip2, t, frame, (encap or ()) + (ec,))
    idx = 0 if is_orig else 1
    conn.pkts[idx] += 1
    conn.ipbytes[idx] += ip.total_len


def enc_key(ec):
    kind, uid, oh, op, rh, rp = ec
    return ec


def decap(kind, d, conn):
    try:
        if kind == 'vxlan':
            if len(d) < 8 + 14:
                return None
            r = pcapdec.link_to_l3(1, d[8:])
            return [r[1]] if r else None
        if kind == 'geneve':
            optlen = (d[0] & 0x3f) * 4
            ptype = struct.unpack('>H', d[2:4])[0]
            inner = d[8 + optlen:]
            if ptype == 0x6558:
                r = pcapdec.link_to_l3(1, inner)
                return [r[1]] if r else None
            if ptype in (0x0800, 0x86dd):
                return [inner]
            return None
        if kind == 'teredo':
            o = 0
            if d[0] == 0 and d[1] == 1:
                o = 13 + d[2] + d[3]
            if d[o] == 0 and d[o + 1] == 0:
                o += 8
            inner = d[o:]
            if len(inner) < 40 or inner[0] >> 4 != 6:
                conn.tunnel_violated = True
                return None
            plen = struct.unpack('>H', inner[4:6])[0]
            if len(inner) != plen + 40:
                if len(inner) > plen + 40 and inner[6] == 59 and plen == 0:
                    conn.weird('Teredo_bubble_with_payload')
                else:
                    conn.tunnel_violated = True
                    return None
            return [inner]
        if kind == 'ayiya':
            idlen = 1 << (d[0] >> 4)
            siglen = (d[1] >> 4) * 4
            hdr = 8 + idlen + siglen
            if d[2] & 0x0f != 1:
                return None
            inner = d[hdr:]
            return [inner] if inner else None
        if kind == 'gtp':
            flags = d[0]
            mtype = d[1]
            if mtype != 0xff:
                return None
            o = 8
            if flags & 0x07:
                o = 12
                nxt = d[11]
                while nxt:
                    ln = d[o] * 4
                    nxt = d[o + ln - 1]
                    o += ln
            return [d[o:]]
    except IndexError:
        return None
    return None


ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
ICMP6_PAIRS = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130,
               139: 140, 140: 139, 144: 145, 145: 144}


def handle_icmp(ip, t, frame, encap):
    seg = ip.raw[ip.hdr_len:]
    if len(seg) < 8:
        return
    typ, code = seg[0], seg[1]
    pairs = ICMP4_PAIRS if ip.proto == 1 else ICMP6_PAIRS
    if typ in pairs:
        cp, one_way = pairs[typ], False
    else:
        cp, one_way = code, True
    key = canon_key(ip.src, typ, ip.dst, cp, ip.proto, one_way)

    def make():
        c = Conn(key, 'icmp', ip.src, typ, ip.dst, cp, t, ip.proto)
        c.first_frame = frame
        c.encap = encap
        c.adapter = SimpleAdapter(c, 'icmp')
        c.set_inactivity_timeout(ICMP_INACTIVITY)
        return c

    conn, new = find_or_make(key, make)
    if not new:
        check_encap(conn, encap)
    is_orig = (ip.src == conn.orig_h and typ == conn.orig_p)
    plen = ip.payload_len
    if not CFG.ignore_checksums and not in_ignore_nets(ip.src) and len(seg) >= plen:
        if ip.proto == 1:
            ok = pcapdec.cksum(seg[:plen]) == 0xffff
        else:
            ok = pcapdec.l4_checksum_ok(ip, 58, seg[:plen])
        if not ok:
            conn.weird('bad_ICMP_checksum')
            return
    conn.last_time = t
    conn.adapter.update_length(is_orig, plen - 8)
    TRACE.append({'t': t, 'frame': frame, 'conn': conn.uid, 'dir': 'o' if is_orig else 'r', 'len': plen - 8,
                  'added': take_pending(conn), 'flags': 'icmp %d/%d' % (typ, code)})
    idx = 0 if is_orig else 1
    conn.pkts[idx] += 1
    conn.ipbytes[idx] += ip.total_len


def handle_unknown(ip, t, frame, encap):
    key = canon_key(ip.src, 0, ip.dst, 0, ip.proto)

    def make():
        c = Conn(key, 'unknown_transport', ip.src, 0, ip.dst, 0, t, ip.proto)
        c.first_frame = frame
        c.encap = encap
        c.adapter = SimpleAdapter(c, 'unknown')
        c.set_inactivity_timeout(UNKNOWN_INACTIVITY)
        return c

    conn, new = find_or_make(key, make)
    if not new:
        check_encap(conn, encap)
    is_orig = ip.src == conn.orig_h
    conn.last_time = t
    TRACE.append({'t': t, 'frame': frame, 'conn': conn.uid, 'dir': 'o' if is_orig else 'r', 'len': ip.payload_len,
                  'added': take_pending(conn), 'flags': 'ipproto %d' % ip.proto})
    idx = 0 if is_orig else 1
    conn.pkts[idx] += 1
    conn.ipbytes[idx] += ip.total_len


def run(path):
    for frame, ts, lt, data, orig_len in pcapdec.read_packets(path):
        if ts > TM.now:
            TM.advance(ts)
        else:
            TM.advance(TM.now)
        r = pcapdec.link_to_l3(lt, data)
        if r is None:
            continue
        ip = pcapdec.parse_ip(r[1])
        if ip is None:
            continue
        if ip.total_len and len(r[1]) < ip.total_len and orig_len > len(data):
            pass
        handle_ip(ip, ts, frame, None)
    TM.expire_all()
    for k in sorted(SESSIONS, key=lambda k: str(k)):
        remove(SESSIONS[k])


FIELDS = ['proto', 'orig_h', 'orig_p', 'resp_h', 'resp_p', 'duration', 'orig_bytes', 'resp_bytes',
          'conn_state', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes']


def main(argv):
    args = [a for a in argv if not a.startswith('-')]
    opts = [a for a in argv if a.startswith('-')]
    for o in opts:
        if o == '--bare':
            CFG.bare = True
        elif o == '-C':
            CFG.ignore_checksums = True
        elif o.startswith('--ports='):
            v = o.split('=', 1)[1]
            ports = set(PKT_PROTO_PORTS)
            for name in v.split(','):
                if name == 'full':
                    for s in PROTO_PORTS.values():
                        ports |= s
                elif name:
                    ports |= PROTO_PORTS[name]
            CFG.ports = ports
        elif o.startswith('--ignore-nets='):
            CFG.ignore_nets = [ipaddress.ip_network(x) for x in o.split('=', 1)[1].split(',')]
        elif o == '--report-gaps-partial':
            CFG.report_gaps_for_partial = True
        elif o.startswith('--excessive='):
            CFG.tcp_excessive_data_without_further_acks = int(o.split('=', 1)[1])
    run(args[0])
    return LOG, TRACE


if __name__ == '__main__':
    log, trace = main(sys.argv[1:])
    for r in log:
        print('\t'.join(str(r[f]) for f in FIELDS) + ('\t%s %s size %s/%s' % (r['ostate'], r['rstate'], r['osize'], r['rsize']) if 'ostate' in r else ''))
    if '--trace-conns' in sys.argv:
        for rec in trace:
            print(rec)
