#!/usr/bin/env python3
"""Run the reference model over every trace of ../shared/peers/zeek that has a conn baseline and
compare with Zeek's committed rows (join on 5-tuple, then on order of appearance).

usage: compare.py PEERS_DIR [--verbose] [--only NAME]
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# name -> (baseline file, model options); options mirror INDEX.tsv zeek_cmd and the test's @loads
CASES = [
    ('tcp-missing-syn.pcap', 'tcp-missing-syn.conn.log', ['--bare', '-C', '--ports=http']),
    ('tcp-missing-syn.pcap', 'tcp-missing-syn.alt-history-flip.conn.log', ['--bare', '-C', '--ports=http']),
    ('tcp-flip-without-syn.pcapng', 'tcp-flip-without-syn.conn.log', ['--ports=full']),
    ('tcp-miss-end-data.pcap', 'tcp-miss-end-data.conn.log', ['--bare', '--ports=http', '--report-gaps-partial']),
    ('tcp-retransmit-fast009.pcap', 'tcp-retransmit-fast009.conn.log', ['--ports=full', '-C']),
    ('tcp-syn-bad-checksum.pcap', 'tcp-syn-bad-checksum.conn.log', ['--bare']),
    ('tcp-single-rst.pcap', 'tcp-single-rst.conn.log', ['--bare', '-C']),
    ('tcp-syn-then-rst.pcap', 'tcp-syn-then-rst.conn.log', ['--bare', '-C']),
    ('tcp-syn-then-ack-then-rst.pcap', 'tcp-syn-then-ack-then-rst.conn.log', ['--bare', '-C']),
    ('tcp-syn-then-stuff-then-rst.pcap', 'tcp-syn-then-stuff-then-rst.conn.log', ['--bare', '-C']),
    ('tcp-one-sided-2745.pcap', 'tcp-one-sided-2745.conn.log', ['--bare', '-C']),
    ('tcp-ctu-64702-888.pcap', 'tcp-ctu-64702-888.conn.log', ['--bare', '-C']),
    ('tcp-retransmit-timeout.pcapng', 'tcp-retransmit-timeout.conn.log', ['--bare', '-C']),
    ('tcp-ssh-dups.pcap', 'tcp-ssh-dups.conn.log', ['--bare', '-C']),
    ('ssh-half-duplex-client.pcap', 'ssh-half-duplex-client.conn.log', ['--ports=full']),
    ('ssh-half-duplex-server.pcap', 'ssh-half-duplex-server.conn.log', ['--ports=full']),
    ('ssh-basic.pcap', 'ssh-basic.conn.log', ['--ports=full']),
    ('teredo.pcap', 'teredo.conn.log', ['--bare', '--ports=http,dns,dhcp']),
    ('pop3-basic.pcap', 'pop3-basic.conn.log', ['--bare', '--ports=pop3']),
    ('modbus-nonmodbus-502.pcap', 'modbus-nonmodbus-502.conn.log', ['--ports=full']),
    ('gtp-different-dl-ul.pcap', 'gtp-different-dl-ul.conn.log', ['--bare', '-C', '--ports=http']),
    ('wikipedia.pcap', 'wikipedia.conn.log', ['--ports=full', '-C']),
    ('vlan-mpls.pcap', 'vlan-mpls.conn.log', ['--bare', '-C', '--ports=http']),
    ('http-to-ssh.pcap', 'http-to-ssh.conn.log', ['--ports=full']),
    ('https-to-http.pcap', 'https-to-http.conn.log', ['--ports=full']),
    ('ftp-auth-tls.pcap', 'ftp-auth-tls.conn.log', ['--ports=full']),
    ('ldap-simpleauth.pcap', 'ldap-simpleauth.conn.log', ['--ports=full', '-C']),
    ('ldap-ctu-50041.pcap', 'ldap-ctu-50041.conn.log', ['--ports=full']),
    ('ayiya3.pcap', 'ayiya3.conn.log', ['--bare', '--ports=http']),
    ('teredo-bubble-payload.pcap', 'teredo-bubble-payload.conn.log', ['--bare', '--ports=http']),
    ('vxlan.pcap', 'vxlan.conn.log', ['--bare']),
    ('geneve.pcap', 'geneve.conn.log', ['--bare']),
    ('vxlan-encapsulated-http.pcap', 'vxlan-encapsulated-http.conn.log', ['--bare', '--ports=http']),
    ('vxlan-inner-tcp-bad-checksum.pcap', 'vxlan-inner-tcp-bad-checksum.conn.log', ['--bare']),
    ('geneve-inner-tcp-bad-checksum.pcap', 'geneve-inner-tcp-bad-checksum.conn.log', ['--bare']),
    ('localhost-bad-chksum.pcap', 'localhost-bad-chksum.conn.log', ['--bare']),
    ('localhost-bad-chksum.pcap', 'localhost-bad-chksum.alt-ignore-nets.conn.log',
     ['--bare', '--ignore-nets=192.168.0.0/16']),
    ('ftp-bigtransfer.pcap', 'ftp-bigtransfer.conn.log', ['--ports=full', '--excessive=0']),
    ('http-get.pcap', 'http-get.conn.log', ['--bare', '--ports=http']),
    ('ftp-ipv6.pcap', 'ftp-ipv6.conn.log', ['--bare', '--ports=ftp']),
    ('tcp-http-padding.pcap', 'tcp-http-padding.conn.log', ['--ports=full', '-C']),
    ('local-flip-1080.pcap', 'local-flip-1080.conn.log', ['--bare', '-C', '--ports=http']),
    ('cisco-fabric-path.pcap', 'cisco-fabric-path.conn.log', ['--ports=full']),
    ('radiotap.pcap', 'radiotap.conn.log', ['--bare', '-C', '--ports=dns']),
    ('pppoe.pcap', 'pppoe.conn.log', ['--ports=full']),
    ('q-in-q.pcap', 'q-in-q.conn.log', ['--bare']),
    ('tcp-handshake-reorder.pcap', 'tcp-handshake-reorder.conn.log', ['--bare']),
]

COLS = {'id.orig_h': 'orig_h', 'id.orig_p': 'orig_p', 'id.resp_h': 'resp_h', 'id.resp_p': 'resp_p'}
CHECK = ['duration', 'orig_bytes', 'resp_bytes', 'conn_state', 'missed_bytes', 'history', 'orig_pkts',
         'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'osize', 'rsize', 'ostate', 'rstate']


def parse_baseline(path):
    cols = None
    rows = []
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('#fields'):
            cols = line.split('\t')[1:]
            continue
        if line.startswith('#'):
            continue
        if cols is None:
            cols = line.split('\t')
            continue
        rows.append(dict(zip(cols, line.split('\t'))))
    out = []
    for r in rows:
        d = {}
        for k, v in r.items():
            d[COLS.get(k, k)] = v
        if 'proto' in d and d['proto'] not in ('tcp', 'udp', 'icmp', 'unknown_transport'):
            pass
        out.append(d)
    return out


def tuple_of(r):
    return (r.get('orig_h'), str(r.get('orig_p')), r.get('resp_h'), str(r.get('resp_p')))


# Expected values that live outside the peers' conn.log files: Zeek's own baselines at the same commit
# (endpoint records printed by tests, and the flipped history of core.connection_flipped).
EXTRA = [
    ('tcp-fin-retransmission.pcap', 'tcp-fin-retransmission.out.txt', ['--bare'],
     [{'orig_h': '10.1.30.117', 'orig_p': '55344', 'resp_h': '17.167.193.62', 'resp_p': '443',
       'orig_pkts': '3', 'orig_ip_bytes': '156', 'resp_pkts': '2', 'resp_ip_bytes': '92',
       'osize': '0', 'rsize': '0', 'ostate': 'CLOSED(5)', 'rstate': 'RESET(6)'}]),
    ('tcp-rst-inject.pcap', 'tcp-rst-inject.out.txt', ['--bare'],
     [{'orig_h': '1.2.0.2', 'orig_p': '2527', 'resp_h': '1.2.0.3', 'resp_p': '6649',
       'orig_pkts': '4', 'orig_ip_bytes': '395', 'resp_pkts': '5', 'resp_ip_bytes': '236',
       'osize': '175', 'rsize': '0', 'ostate': 'SYN_SENT(1)', 'rstate': 'RESET(6)'}]),
    ('tcp-handshake-reorder.pcap', 'zeek:testing/btest/Baseline/core.connection_flipped/out', ['--bare'],
     [{'orig_h': '141.142.228.5', 'orig_p': '59856', 'resp_h': '192.150.187.43', 'resp_p': '80',
       'history': 'Hs^ADadFf'}]),
]


def run_case(peers, trace, base, opts, exp=None):
    import zeekconn
    importlib.reload(zeekconn)
    log, tr = zeekconn.main([os.path.join(peers, trace)] + opts)
    if exp is None:
        exp = parse_baseline(os.path.join(peers, base))
    used = set()
    results = []
    for e in exp:
        cands = [i for i, r in enumerate(log) if i not in used and
                 ('orig_h' not in e or tuple_of(r) == tuple_of(e)) and
                 ('proto' not in e or e['proto'] == r['proto'])]
        # prefer an exact match
        best = None
        for i in cands:
            if all(str(log[i].get(c)) == e[c] for c in CHECK if c in e):
                best = i
                break
        if best is None and cands:
            best = cands[0]
        if best is None:
            results.append((e, None, ['no model row']))
            continue
        used.add(best)
        r = log[best]
        diffs = [c for c in CHECK if c in e and str(r.get(c)) != e[c]]
        results.append((e, r, diffs))
    extra = [log[i] for i in range(len(log)) if i not in used]
    return results, extra, tr, log


def main():
    peers = sys.argv[1]
    verbose = '--verbose' in sys.argv
    only = None
    if '--only' in sys.argv:
        only = sys.argv[sys.argv.index('--only') + 1]
    tot = ok = 0
    for trace, base, opts, exp in [c + (None,) for c in CASES] + EXTRA:
        if only and only not in base:
            continue
        results, extra, _, _ = run_case(peers, trace, base, opts, exp)
        n_ok = sum(1 for _, _, d in results if not d)
        tot += len(results)
        ok += n_ok
        flag = 'OK ' if n_ok == len(results) else 'DIFF'
        print('%s %-48s %d/%d rows match%s' % (flag, base, n_ok, len(results),
                                               (' (+%d model-only rows)' % len(extra)) if extra else ''))
        if verbose or n_ok != len(results):
            for e, r, d in results:
                if d:
                    print('   expected:', {k: e[k] for k in e if k in CHECK or k in ('orig_h', 'orig_p', 'resp_h', 'resp_p')})
                    if r:
                        print('   model   :', {k: r[k] for k in CHECK}, 'diff', d, r.get('notes'))
            for r in extra:
                print('   model-only:', {k: r[k] for k in ['proto', 'orig_h', 'orig_p', 'resp_h', 'resp_p'] + CHECK})
    print('TOTAL %d/%d rows match' % (ok, tot))


if __name__ == '__main__':
    main()
