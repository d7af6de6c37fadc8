#!/usr/bin/env python3
"""Score parsed records against the expectations of the real-page development corpus.

usage: python -m bench.realpages_score PREDICTIONS.jsonl [--cases CASES.jsonl] [--per-page OUT.jsonl]

PREDICTIONS.jsonl: one parsed record per line, with the case's "id" added (title, published_at, authors, tags,
lead, body_text, images [{caption, credit}]); a case with no line scores as an empty record.
Prints, per field, the number of pages that pin it and the mean score. Standard library only.
"""
import argparse
import json
import os
import re
import unicodedata
from collections import Counter
from datetime import datetime

FIELDS = ("title", "authors", "date", "day", "tags", "body", "captions", "credits")
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{CJK}]|[^\W{CJK}]+")  # \w+ runs; Han and kana characters one token each


def norm(s):
    """NFKC, invisible format characters dropped, whitespace collapsed."""
    s = "".join(ch for ch in unicodedata.normalize("NFKC", s or "") if unicodedata.category(ch) != "Cf")
    return re.sub(r"\s+", " ", s).strip()


def key(s):
    return norm(s).casefold()


def set_f1(expected, got):
    e, g = {key(x) for x in expected if key(x)}, {key(x) for x in got if isinstance(x, str) and key(x)}
    if not e and not g:
        return 1.0
    inter = len(e & g)
    return 0.0 if not inter else 2 * inter / (len(e) + len(g))


def shingles(text, n=4):
    toks = TOKEN.findall(unicodedata.normalize("NFKC", text or "").casefold())
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def body_f1(expected, got):
    e, g = shingles(expected), shingles(got)
    if not e and not g:
        return 1.0
    inter = sum((e & g).values())
    if not inter:
        return 0.0
    p, r = inter / sum(g.values()), inter / sum(e.values())
    return 2 * p * r / (p + r)


def parse_dt(s):
    if not isinstance(s, str) or not s.strip():
        return None
    s = s.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


def date_scores(expected, got):
    """(same instant within 60 s, same calendar day in the expected offset). A prediction without an offset is
    wrong against an expectation with one; an expectation without one is compared with the predicted wall clock."""
    e, g = parse_dt(expected), parse_dt(got)
    if e is None or g is None:
        return 0.0, 0.0
    if e.tzinfo is not None and g.tzinfo is not None:
        return float(abs((e - g).total_seconds()) <= 60), float(g.astimezone(e.tzinfo).date() == e.date())
    if e.tzinfo is not None:
        return 0.0, float(g.date() == e.date())
    return float(abs((e - g.replace(tzinfo=None)).total_seconds()) <= 60), float(g.date() == e.date())


def found(expected_values, got_values):
    """Fraction of the expected non-empty strings equal to, or contained in, a predicted one."""
    exp = [key(v) for v in expected_values if key(v)]
    if not exp:
        return None
    got = [key(v) for v in got_values if key(v)]
    return sum(any(x == y or x in y for y in got) for x in exp) / len(exp)


def body_of(record):
    body = record.get("body_text") or "\n".join(record.get("body_paragraphs") or [])
    lead = (record.get("lead") or "").strip()
    if lead and not body.lstrip().startswith(lead):
        body = lead + "\n" + body
    return body


def score(expected, record):
    out = {}
    if "title" in expected:
        out["title"] = float(norm(expected["title"]) == norm(record.get("title")))
    if "authors" in expected:
        authors = [a if isinstance(a, str) else (a or {}).get("name", "") for a in record.get("authors") or []]
        out["authors"] = set_f1(expected["authors"], authors)
    if "published_at" in expected:
        out["date"], out["day"] = date_scores(expected["published_at"], record.get("published_at"))
    if "tags" in expected:
        out["tags"] = set_f1(expected["tags"], record.get("tags") or [])
    if "body_text" in expected:
        out["body"] = body_f1(expected["body_text"], body_of(record))
    images = [im for im in record.get("images") or [] if isinstance(im, dict)]
    for field, attr in (("captions", "caption"), ("credits", "credit")):
        s = found([im.get(attr) for im in expected.get("images") or []], [im.get(attr) for im in images])
        if s is not None:
            out[field] = s
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictions")
    ap.add_argument("--cases", default=os.path.join(here, "..", "tests", "fixtures", "realpages", "cases.jsonl"))
    ap.add_argument("--per-page")
    a = ap.parse_args()
    cases = [json.loads(line) for line in open(a.cases, encoding="utf-8") if line.strip()]
    preds = {}
    for line in open(a.predictions, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            preds[r.get("id")] = r
    sums, counts, rows = Counter(), Counter(), []
    for case in cases:
        s = score(case["expected"], preds.get(case["id"]) or {})
        rows.append({"id": case["id"], "scores": s})
        for k, v in s.items():
            sums[k] += v
            counts[k] += 1
    if a.per_page:
        with open(a.per_page, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    print(f"{'field':<10} {'pages':>5} {'score':>6}")
    for k in FIELDS:
        if counts[k]:
            print(f"{k:<10} {counts[k]:>5} {sums[k] / counts[k]:>6.3f}")
    print(f"{len(cases)} pages, {len(preds.keys() & {c['id'] for c in cases})} predicted")


if __name__ == "__main__":
    main()
