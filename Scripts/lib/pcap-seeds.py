#!/usr/bin/env python3
"""Turn a tcpdump capture of SMB2 traffic into fuzz seeds: every message the server sent
(TCP source port 445), reassembled from the TCP stream, split into Direct TCP frames and
NextCommand chains, sorted into one directory per fuzz target by its command.

    pcap-seeds.py CAPTURE.pcap CORPUS_DIR TARGETS_LIST

TARGETS_LIST is the output of `SMBFuzz --list`: a target name and the SMB2 commands whose
responses seed it. Whole frames also seed the target that takes commands '' (frame); the
SPNEGO blobs of NEGOTIATE and SESSION_SETUP responses seed 'auth' (first byte: where the
target feeds them). Seeds are named by their SHA-1; at most PER_KIND per target for each
(command, status, size class), and none over MAX_SEED bytes.
"""
import collections
import hashlib
import os
import struct
import sys

MAX_SEED = 64 * 1024
PER_KIND = 4


def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit('pcap-seeds: %s is not a little-endian pcap file' % path)
    linktype = struct.unpack('<I', data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack('<I', data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if linktype == 1:          # Ethernet (lo)
            if len(frame) < 14 or frame[12:14] != b'\x08\x00':
                continue
            ip = frame[14:]
        elif linktype == 113:      # Linux cooked (any)
            ip = frame[16:]
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack('>H', ip[2:4])[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack('>HHI', tcp[:8])
        off = (tcp[12] >> 4) * 4
        payload = tcp[off:]
        if payload:
            yield (ip[12:16], sport, ip[16:20], dport), seq, payload


def streams(path):
    """Server-to-client byte streams, reassembled by sequence number."""
    segs = collections.defaultdict(dict)
    for key, seq, payload in packets(path):
        if key[1] == 445:
            segs[key][seq] = payload
    for key, by_seq in segs.items():
        out = bytearray()
        base = None
        for seq in sorted(by_seq):
            p = by_seq[seq]
            if base is None:
                base = seq
            at = seq - base
            if at + len(p) <= len(out):
                continue
            out += p[len(out) - at:] if at < len(out) else p
        yield bytes(out)


def frames(stream):
    pos = 0
    while pos + 4 <= len(stream):
        n = int.from_bytes(stream[pos + 1:pos + 4], 'big')
        if stream[pos] != 0 or pos + 4 + n > len(stream):
            return
        yield stream[pos + 4:pos + 4 + n]
        pos += 4 + n


def messages(frame):
    pos = 0
    while pos + 64 <= len(frame) and frame[pos:pos + 4] == b'\xfeSMB':
        nxt = struct.unpack('<I', frame[pos + 20:pos + 24])[0]
        end = pos + nxt if nxt else len(frame)
        yield frame[pos:end]
        if not nxt or end <= pos:
            return
        pos = end


def security_blob(m):
    """SPNEGO token of a NEGOTIATE (2.2.4) or SESSION_SETUP (2.2.6) response, if any."""
    cmd = struct.unpack('<H', m[12:14])[0]
    try:
        if cmd == 0 and len(m) >= 64 + 60:
            off, n = struct.unpack('<HH', m[64 + 56:64 + 60])
        elif cmd == 1 and len(m) >= 64 + 8:
            off, n = struct.unpack('<HH', m[64 + 4:64 + 8])
        else:
            return cmd, None
    except struct.error:
        return cmd, None
    return cmd, (m[off:off + n] if n and off + n <= len(m) else None)


def main():
    capture, corpus, listing = sys.argv[1:4]
    targets = {}
    for line in open(listing):
        parts = line.split()
        if parts:
            targets[parts[0]] = {int(c) for c in parts[1].split(',')} if len(parts) > 1 else set()
    kinds = collections.Counter()
    written = collections.Counter()

    def keep(target, seed, kind):
        if target not in targets or len(seed) > MAX_SEED or len(seed) == 0:
            return
        if kinds[(target,) + kind] >= PER_KIND:
            return
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, hashlib.sha1(seed).hexdigest())
        if not os.path.exists(p):
            with open(p, 'wb') as f:
                f.write(seed)
            kinds[(target,) + kind] += 1
            written[target] += 1

    for s in streams(capture):
        for fr in frames(s):
            size = len(fr).bit_length()
            if fr[:4] == b'\xfdSMB':
                keep('frame', fr, ('transform', size))
                continue
            ms = list(messages(fr))
            if not ms:
                continue
            first = struct.unpack('<H', ms[0][12:14])[0]
            keep('frame', fr, (first, len(ms), size))
            for m in ms:
                cmd = struct.unpack('<H', m[12:14])[0]
                status = struct.unpack('<I', m[8:12])[0]
                for name, cmds in targets.items():
                    if cmd in cmds:
                        keep(name, m, (cmd, status, len(m).bit_length()))
                cmd, blob = security_blob(m)
                if blob:
                    keep('auth', bytes([0 if cmd == 0 else 1]) + blob, (cmd, 'spnego', len(blob)))
                    at = blob.find(b'NTLMSSP\x00')
                    if at >= 0:
                        keep('auth', b'\x02' + blob[at:], (cmd, 'ntlm', len(blob)))
    for t in sorted(targets):
        print('%-10s %d new seeds' % (t, written[t]))


main()
