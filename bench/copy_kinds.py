#!/usr/bin/env python3
# Per kind of planted copy (generate --reader-copies), the share joined to its original, and the pairs
# wrongly joined. Usage: bench/copy_kinds.py GOLD.jsonl ANNOTATED.jsonl (teasers under 34 words, too
# short to judge by the README rule without a shared title, are counted apart).
import json, collections, itertools, sys
gold={}; kind={}; words={}
for l in open(sys.argv[1]):
    r=json.loads(l); gold[r['id']]=r['label']; kind[r['id']]=r.get('edits','orig').split(':')[0] or 'orig'; words[r['id']]=len(r['text'].split())
pred={}
for l in open(sys.argv[2]):
    r=json.loads(l); pred[r['id']]=r['dup_group']
rec=collections.Counter(); tot=collections.Counter(); short=collections.Counter()
for i,k in kind.items():
    if k=='orig': continue
    if k=='teaser' and words[i] < 34:
        short[k]+=1; short['joined']+=pred[i]==pred.get(gold[i]); continue
    tot[k]+=1
    if pred[i]==pred.get(gold[i]): rec[k]+=1
groups=collections.defaultdict(list)
for i,g in pred.items(): groups[g].append(i)
fp=0
for g,m in groups.items():
    for a,b in itertools.combinations(m,2):
        if gold[a]!=gold[b]: fp+=1
print(' '.join('%s %.3f'%(k,rec[k]/tot[k]) for k in sorted(tot)), 'false-pairs', fp, 'teasers-under-34-words', short['teaser'],
      'of-them-joined', short['joined'])
