import sys,re
# Weka 3.6 FPGrowth or Apriori rule lines -> "lhs1,lhs2 => rhs<TAB>count<TAB>lhs_count" (lhs sorted bytewise)
fp=re.compile(r'^\s*\d+\.\s*\[(.*)\]:\s+(\d+)\s+==>\s+\[(.*)\]:\s+(\d+)\s')
ap=re.compile(r'^\s*\d+\.\s*(.*=t)\s+(\d+)\s+==>\s+(.*=t)\s+(\d+)\s')
out=[]
for line in open(sys.argv[1], encoding='latin-1'):
    m=fp.match(line)
    if m:
        lhs=[x[:-2] for x in m.group(1).split(', ')]
        rhs=[x[:-2] for x in m.group(3).split(', ')]
    else:
        m=ap.match(line)
        if not m: continue
        lhs=[x for x in m.group(1)[:-2].split('=t ')]
        rhs=[x for x in m.group(3)[:-2].split('=t ')]
    if len(rhs)!=1: continue
    out.append('%s => %s\t%s\t%s'%(','.join(sorted(lhs,key=lambda s:s.encode())),rhs[0],m.group(4),m.group(2)))
for l in sorted(out,key=lambda s:s.encode()): print(l)
