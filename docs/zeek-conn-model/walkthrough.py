#!/usr/bin/env python3
"""Print the per-trace walk-through tables (markdown) of docs/zeek-conn-rules.md, part B.

usage: walkthrough.py PEERS_DIR > walkthroughs.md
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

SN_LONG = {'INA': 'INACTIVE', 'SYN': 'SYN_SENT', 'SAS': 'SYN_ACK_SENT', 'PAR': 'PARTIAL',
           'EST': 'ESTABLISHED', 'CLO': 'CLOSED', 'RST': 'RESET'}


def fmt_seq(v):
    if v is None:
        return ''
    return str(v)


def conn_state_reason(r):
    st = r['conn_state']
    o = r.get('ostate', '').split('(')[0]
    s = r.get('rstate', '').split('(')[0]
    return '%s (orig %s, resp %s)' % (st, o, s)


def bytes_reason(r):
    if r['proto'] != 'tcp':
        return ''
    out = []
    for side, key, sz in (('orig', 'oderiv', r['osize']), ('resp', 'rderiv', r['rsize'])):
        d = r[key]
        if d['special']:
            out.append('%s: 0 (half-open aborted rule)' % side)
            continue
        m = max(d['last'], d['ack'])
        parts = 'max(last_seq %+d, ack %+d) = %d' % (d['last'], d['ack'], m)
        sub = ''
        if m != 0:
            sub = ' − 1 (SYN octet)'
            if d['fin'] and m - 1 != 0:
                sub += ' − 1 (FIN octet)'
        out.append('%s: %s%s = %d' % (side, parts, sub, sz))
    return '; '.join(out)


def significant(rec, prev_states, seen_dirs):
    if rec.get('added') or rec.get('note'):
        return True
    f = rec.get('flags', '')
    if any(c in f for c in 'SFR') and not f.startswith('udp') and not f.startswith('icmp'):
        return True
    if rec.get('states') and rec['states'] != prev_states:
        return True
    d = rec['dir'][0]
    if d not in seen_dirs:
        return True
    return False


def tcp_table(recs, start, r):
    okey = (r['orig_h'], r['orig_p'])
    rkey = (r['resp_h'], r['resp_p'])
    for rec in recs:
        d = 'o' if rec['src'] == okey else 'r'
        if rec['dir'].endswith('*'):
            d += ' (flip)'
        rec['dir'] = d
        if 'st_by' in rec:
            rec['states'] = (rec['st_by'][okey], rec['st_by'][rkey])
    lines = ['| frame | t | dir | flags | rel seq | len | rel ack | history += | orig / resp state after |',
             '|---|---|---|---|---|---|---|---|---|']
    prev = ('INA', 'INA')
    seen = set()
    skipped = []

    def flush():
        if skipped:
            no = sum(1 for x in skipped if x['dir'][0] == 'o')
            nr = len(skipped) - no
            fr = '%d–%d' % (skipped[0]['frame'], skipped[-1]['frame']) if len(skipped) > 1 else str(skipped[0]['frame'])
            lines.append('| %s | | | … | | | | (%d packets: %d o, %d r; no letter, no state change) | |' % (
                fr, len(skipped), no, nr))
            skipped.clear()

    for rec in recs:
        if significant(rec, prev, seen):
            flush()
            st = rec.get('states', prev)
            note = rec.get('note', '')
            added = rec.get('added', '')
            lines.append('| %d | %.6f | %s | %s | %s | %s | %s | %s%s | %s / %s |' % (
                rec['frame'], rec['t'] - start, rec['dir'], rec['flags'], fmt_seq(rec.get('rel_seq')),
                rec['len'], fmt_seq(rec.get('rel_ack')), ('`%s`' % added) if added else '',
                (' ' + note) if note else '', SN_LONG.get(st[0], st[0]), SN_LONG.get(st[1], st[1])))
        else:
            skipped.append(rec)
        if rec.get('states'):
            prev = rec['states']
        seen.add(rec['dir'][0])
    flush()
    return lines


def other_summary(recs):
    parts = []
    for rec in recs:
        s = '%d%s' % (rec['frame'], rec['dir'])
        if rec.get('added'):
            s += '`%s`' % rec['added']
        if rec.get('note'):
            s += '(bad cksum)'
        parts.append(s)
    if len(parts) > 12:
        parts = parts[:6] + ['…(%d more)…' % (len(parts) - 12)] + parts[-6:]
    return ' '.join(parts)


def main():
    peers = sys.argv[1]
    out = []
    done_traces = set()
    index = {}
    for line in open(os.path.join(peers, 'INDEX.tsv')):
        f = line.rstrip('\n').split('\t')
        index[f[0]] = f
    for trace, base, opts, exp in [c + (None,) for c in compare.CASES] + compare.EXTRA:
        results, extra, trace_recs, log = compare.run_case(peers, trace, base, opts, exp)
        alt = trace in done_traces
        done_traces.add(trace)
        cmd = index.get(trace, [''] * 15)[14] if trace in index else ''
        out.append('### %s — baseline `%s`' % (trace, base))
        out.append('')
        if base.startswith('zeek:'):
            out.append('Expected value from Zeek\'s own baseline `%s` (test `core/connection_flipped.zeek`, '
                       '`zeek -b -r $TRACES/tcp/handshake-reorder.pcap`). Model options: `%s`.' % (base[5:], ' '.join(opts)))
        elif base.endswith('.out.txt'):
            out.append('Expected endpoint records (size, state, num_pkts, num_bytes_ip) from `%s`; Zeek command (INDEX.tsv): `%s`. '
                       'Model options: `%s`.' % (base, cmd.replace('|', '\\|'), ' '.join(opts)))
        else:
            out.append('Zeek command (INDEX.tsv): `%s`. Model options: `%s`.' % (cmd.replace('|', '\\|'), ' '.join(opts)))
        out.append('')
        ok = sum(1 for _, _, d in results if not d)
        out.append('Rows reproduced by the rules: **%d/%d**.' % (ok, len(results)))
        out.append('')
        if alt:
            out.append('Same packets as the baseline above; see the notes there. Differences come only from the '
                       'options named in the command.')
            out.append('')
            for e, r, d in results:
                out.append('- %s %s:%s → %s:%s: history `%s`, %s, bytes %s/%s, pkts %s/%s' % (
                    r['proto'], r['orig_h'], r['orig_p'], r['resp_h'], r['resp_p'], r['history'],
                    conn_state_reason(r) if r['proto'] == 'tcp' else r['conn_state'],
                    r['orig_bytes'], r['resp_bytes'], r['orig_pkts'], r['resp_pkts']))
            out.append('')
            continue
        by_conn = {}
        for rec in trace_recs:
            by_conn.setdefault(rec['conn'], []).append(rec)
        others = []
        for e, r, d in results:
            if r is None:
                out.append('- UNEXPLAINED: no connection for baseline row %s' % e)
                continue
            recs = by_conn.get(r['uid'], [])
            if r['proto'] != 'tcp':
                others.append((e, r, d, recs))
                continue
            out.append('#### tcp %s:%s → %s:%s' % (r['orig_h'], r['orig_p'], r['resp_h'], r['resp_p']))
            out.append('')
            shown = ['history `%s`' % e['history']] if 'history' in e else ['(no history in this baseline; rules give `%s`)' % r['history']]
            for k in ('conn_state', 'orig_bytes', 'resp_bytes', 'missed_bytes', 'orig_pkts', 'orig_ip_bytes',
                      'resp_pkts', 'resp_ip_bytes', 'duration', 'ostate', 'rstate', 'osize', 'rsize'):
                if k in e:
                    shown.append('%s %s' % (k, e[k]))
            out.append('Baseline: ' + ', '.join(shown) + ('.' if not d else ' — **model differs in %s**' % d))
            out.append('')
            out.extend(tcp_table(recs, r['start'], r))
            out.append('')
            out.append('- conn_state: %s.' % conn_state_reason(r))
            if r['duration'] != '-':
                out.append('- bytes: %s.' % bytes_reason(r))
            else:
                out.append('- duration 0 → duration/orig_bytes/resp_bytes unset (`-`).')
            notes = [n for n in r['notes']]
            if notes:
                out.append('- notes: ' + '; '.join(notes) + '.')
            if r['weirds']:
                w = sorted(set(r['weirds']))
                out.append('- weirds on the way (not in conn.log): ' + ', '.join(w) + '.')
            out.append('')
        if others:
            out.append('Non-TCP connections (frame+direction, `letters` added):')
            out.append('')
            out.append('| proto | orig → resp | packets | history | conn_state | bytes o/r | pkts o/r | ends by |')
            out.append('|---|---|---|---|---|---|---|---|')
            for e, r, d, recs in others:
                ends = '; '.join(r['notes']) if r['notes'] else 'end of trace'
                out.append('| %s | %s:%s → %s:%s | %s | `%s` | %s | %s/%s | %s/%s | %s |%s' % (
                    r['proto'], r['orig_h'], r['orig_p'], r['resp_h'], r['resp_p'], other_summary(recs),
                    r['history'], r['conn_state'], r['orig_bytes'], r['resp_bytes'], r['orig_pkts'],
                    r['resp_pkts'], ends, (' **differs: %s**' % d) if d else ''))
            out.append('')
    print('\n'.join(out))


if __name__ == '__main__':
    main()
