#!/usr/bin/env python3
"""lmdb_pages.py - find pages in an LMDB 0.9 data.mdb, to damage them on purpose in tests.

usage: lmdb_pages.py DATA.MDB meta                 page size, newest meta's txnid, last page
       lmdb_pages.py DATA.MDB mainroot             the page listing the named databases
       lmdb_pages.py DATA.MDB root DB              the root page of named database DB
       lmdb_pages.py DATA.MDB branch DB            one branch page of DB (the root if it has
                                                   depth > 1), exit 1 if DB is a single leaf
       lmdb_pages.py DATA.MDB leaf DB U64KEY       the leaf page of integer-key DB holding U64KEY
Reads the layout of liblmdb 0.9 (mdb.c: MDB_page, MDB_meta, MDB_db, MDB_node), little-endian, 64-bit.
"""
import struct
import sys

P_BRANCH, P_LEAF, P_META = 0x01, 0x02, 0x08


def page(d, ps, n):
    return d[n * ps:(n + 1) * ps]


def metas(d):
    ps = struct.unpack_from('<I', d, 16 + 24)[0]
    if ps not in (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536):
        ps = 4096
    best = None
    for i in range(2):
        p = page(d, ps, i)
        flags = struct.unpack_from('<H', p, 10)[0]
        magic = struct.unpack_from('<I', p, 16)[0]
        if not flags & P_META or magic != 0xBEEFC0DE:
            continue
        m = p[16:]
        txn = struct.unpack_from('<Q', m, 128)[0]
        if best is None or txn > best['txnid']:
            best = {'txnid': txn, 'last_pg': struct.unpack_from('<Q', m, 120)[0],
                    'main': dbrec(m, 24 + 48), 'free': dbrec(m, 24), 'psize': ps}
    return best


def dbrec(b, off):
    pad, flags, depth = struct.unpack_from('<IHH', b, off)
    entries, root = struct.unpack_from('<QQ', b, off + 32)
    return {'flags': flags, 'depth': depth, 'entries': entries, 'root': root}


def nodes(p):
    lower = struct.unpack_from('<H', p, 12)[0]
    for i in range((lower - 16) // 2):
        off = struct.unpack_from('<H', p, 16 + 2 * i)[0]
        lo, hi, fl, ks = struct.unpack_from('<HHHH', p, off)
        yield lo | hi << 16 | fl << 32, fl, p[off + 8:off + 8 + ks], p[off + 8 + ks:]


def named(d, m, name):
    ps = m['psize']
    p = page(d, ps, m['main']['root'])
    assert struct.unpack_from('<H', p, 10)[0] & P_LEAF, 'main database deeper than one page'
    for _, _, key, data in nodes(p):
        if key == name.encode():
            return dbrec(data, 0)
    sys.exit('no database %s' % name)


def main():
    d = open(sys.argv[1], 'rb').read()
    m = metas(d)
    ps, what = m['psize'], sys.argv[2]
    if what == 'meta':
        print(ps, m['txnid'], m['last_pg'])
        return
    if what == 'mainroot':
        print(m['main']['root'])
        return
    db = named(d, m, sys.argv[3])
    if what == 'root':
        print(db['root'])
    elif what == 'branch':
        if db['depth'] < 2:
            sys.exit(1)
        print(db['root'])
    elif what == 'leaf':
        want, n = int(sys.argv[4]), db['root']
        while True:
            p = page(d, ps, n)
            if struct.unpack_from('<H', p, 10)[0] & P_LEAF:
                print(n)
                return
            child = None
            for i, (pg, _, key, _) in enumerate(nodes(p)):
                if i == 0 or struct.unpack('<Q', key[:8])[0] <= want:
                    child = pg & 0xFFFFFFFFFFFF
            n = child


main()
