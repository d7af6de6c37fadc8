"""Enrichment measured on real pages: editors' topics recovered, entity precision and recall per language,
and what each part of enrich costs per article.

Run `python -m bench.eval_enrich_real [--json] [--per-page]` (`make eval` calls it).

1. **Topic recovery** on the real-page set (`tests/fixtures/realpages/`, 127 pages, 102 with the editors'
   topics as `tags`). Each page is parsed with `parse_article(html, url)` and enriched from its title, lead
   and body only: the page's own tag list is emptied before enrichment, so the editors' topics are never an
   input. The shipped configuration is used (5 key phrases, every entity). An editors' topic counts as
   recovered when one key phrase or one entity (its name or one of its spellings) matches it:
   - both sides are normalised: NFKC, case-folded, punctuation other than letters and digits dropped,
     a leading '#' dropped (`tag_key`), each word lemmatised in the article's language (simplemma), and
     resolved through the alias table when it names a known entity ("USA" -> "United States");
   - they match when the word sequences are equal, or when one is a contiguous run of words of the other
     that holds at least half of the longer one's words ("Trump" ~ "Donald Trump", "Manchester City" ~
     "Manchester City transfer news", but not "Ukraine" ~ "guerre en Ukraine"). Text without spaces (Han,
     kana, hangul) compares characters the same way ("東京" ~ "東京都").
   The headline figure is the share of all editors' topics recovered (micro); the mean per page, the
   predictions per page and the share recovered by equality alone are printed beside it, so that recall
   bought with a flood of output or with the containment rule shows.
2. **Entities** on 47 of those pages labelled by hand (`tests/fixtures/entities_real/`, rules in its
   RULES.md): precision and recall per language and kind, on the labelled text (not a fresh parse).
3. **Cost** per article of each part of `enrich_record` (language, key phrases, entities, MinHash) on the
   demo site's generated pages, the enrich budget being 15 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.eval_realpages import load_cases
from services.enrich.aliases import AliasTable
from services.enrich.enrichment import enrich_record
from services.enrich.entities import extract_entities
from services.enrich.gazetteer import Gazetteer, load_gazetteer
from services.enrich.scoring import LabelledPage, load_labels, score_page, total
from services.enrich.tags import clean_tag, tag_key
from shared.records import ArticleRecord

ENTITY_LABELS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "entities_real"
BUDGET_MS = 15.0
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _language_of(record: ArticleRecord) -> str | None:
    """The article language enrich resolves (declared, checked by the detector); falls back to the
    declaration on code that has no detector."""
    try:
        from services.enrich.language import resolve_language
    except ImportError:
        return record.language
    return resolve_language(record.language, record.title, record.lead, record.body_paragraphs)


@lru_cache(maxsize=50_000)
def _lemma(word: str, language: str | None) -> str:
    import simplemma

    code = {"no": "nb"}.get(language or "", language or "")
    if code not in simplemma.strategies.dictionaries.dictionary_factory.SUPPORTED_LANGUAGES:  # type: ignore[attr-defined]
        return word
    return simplemma.lemmatize(word, lang=code).casefold()


def topic_forms(text: str, language: str | None, aliases: AliasTable) -> set[tuple[str, ...]]:
    """The normalised word sequences a topic or a prediction stands for (see the module docstring)."""
    key = tag_key(clean_tag(text).lstrip("#"))
    if not key:
        return set()
    keys = {key}
    entry = aliases.lookup(key)
    if entry is not None:
        keys.add(entry.key)
    forms = set()
    for k in keys:
        if _SPACELESS.search(k) and " " not in k:
            forms.add(tuple(k))
        else:
            forms.add(tuple(_lemma(w, language) for w in k.split()))
    return forms


def forms_match(a: tuple[str, ...], b: tuple[str, ...], exact: bool = False) -> bool:
    """Equal, or (unless `exact`) the shorter is a contiguous run of the longer holding at least half its words."""
    if a == b:
        return True
    if exact:
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short or 2 * len(short) < len(long_):
        return False
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


@dataclasses.dataclass(frozen=True, slots=True)
class TopicResult:
    """One page's editors' topics, what enrichment predicted, and which topics it recovered."""

    id: str
    language: str | None
    topics: tuple[str, ...]
    predictions: tuple[str, ...]
    recovered: tuple[str, ...]
    by_keywords: int
    by_entities: int
    exact: int = 0


def recover_topics(
    topics: Sequence[str],
    keywords: Sequence[str],
    entities: Sequence[Sequence[str]],
    language: str | None,
    aliases: AliasTable,
    exact: bool = False,
) -> tuple[list[str], int, int]:
    """The topics matched by a key phrase or an entity spelling, and how many each side matched."""
    kw_forms = [f for k in keywords for f in topic_forms(k, language, aliases)]
    en_forms = [f for spellings in entities for s in spellings for f in topic_forms(s, language, aliases)]
    recovered, by_kw, by_en = [], 0, 0
    for topic in dict.fromkeys(topics):
        forms = topic_forms(topic, language, aliases)
        kw = any(forms_match(t, p, exact) for t in forms for p in kw_forms)
        en = any(forms_match(t, p, exact) for t in forms for p in en_forms)
        by_kw += kw
        by_en += en
        if kw or en:
            recovered.append(topic)
    return recovered, by_kw, by_en


def evaluate_topics(gazetteer: Gazetteer) -> list[TopicResult]:
    """Parse and enrich every real page that has editors' topics; match them (see the docstring)."""
    from services.parse.article import parse_article
    from shared.errors import ParseError

    out = []
    for case in load_cases():
        topics = tuple(t for t in case.expected.get("tags") or () if tag_key(t))
        if not topics:
            continue
        try:
            record = dataclasses.replace(parse_article(case.html, case.url), tags=())
        except ParseError:
            out.append(TopicResult(case.id, None, topics, (), (), 0, 0))
            continue
        result = enrich_record(record, gazetteer)
        language = getattr(result, "language", None) or _language_of(record)
        keywords = [k.phrase for k in result.keywords]
        entities = [(e.name, *e.aliases) for e in result.entities]
        recovered, by_kw, by_en = recover_topics(topics, keywords, entities, language, gazetteer.aliases)
        exact = len(recover_topics(topics, keywords, entities, language, gazetteer.aliases, exact=True)[0])
        predictions = (*keywords, *(e.name for e in result.entities))
        out.append(TopicResult(case.id, language, topics, predictions, tuple(recovered), by_kw, by_en, exact))
    return out


def topic_summary(results: Sequence[TopicResult]) -> dict[str, Any]:
    """Micro and per-page recovery, and each side's share."""
    n = sum(len(r.topics) for r in results)
    return {
        "pages": len(results),
        "topics": n,
        "recovered": round(sum(len(r.recovered) for r in results) / n, 3),
        "per_page_mean": round(statistics.mean(len(r.recovered) / len(r.topics) for r in results), 3),
        "equal_only": round(sum(r.exact for r in results) / n, 3),
        "by_key_phrases": round(sum(r.by_keywords for r in results) / n, 3),
        "by_entities": round(sum(r.by_entities for r in results) / n, 3),
        "predictions_per_page": round(statistics.mean(len(r.predictions) for r in results), 1),
    }


def _extract(page: LabelledPage, gazetteer: Gazetteer) -> list[tuple[str, str, tuple[str, ...]]]:
    record = ArticleRecord(
        url="https://example.org/",
        canonical_url="https://example.org/",
        title=page.title,
        lead=page.lead,
        body_paragraphs=page.body_paragraphs,
        language=page.language,
    )
    language = _language_of(record)
    try:
        found = extract_entities(page.title, page.lead, page.body_paragraphs, gazetteer, language=language)  # type: ignore[call-arg]
    except TypeError:
        found = extract_entities(page.title, page.lead, page.body_paragraphs, gazetteer)
    return [(e.kind, e.name, e.aliases) for e in found]


def evaluate_entities(pages: Sequence[LabelledPage], gazetteer: Gazetteer) -> dict[str, dict[str, dict[str, Any]]]:
    """Precision and recall per language (and 'all') and kind over the labelled real pages."""
    per_language: dict[str, list[dict[str, tuple[int, int, int]]]] = defaultdict(list)
    for page in pages:
        scores = score_page(_extract(page, gazetteer), page.entities, page.kinds)
        per_language[page.language or "?"].append(scores)
        per_language["all"].append(scores)
    table = {}
    for language, rows in sorted(per_language.items(), key=lambda kv: (kv[0] == "all", -len(kv[1]), kv[0])):
        table[language] = {
            kind: {"pages": len(rows), "precision": round(s.precision, 3), "recall": round(s.recall, 3)}
            | {"tp": s.tp, "fp": s.fp, "fn": s.fn}
            for kind, s in total(rows).items()
        }
    return table


def page_errors(page: LabelledPage, gazetteer: Gazetteer) -> dict[str, list[str]]:
    """What extraction got wrong on one page: predictions matching no label, labels nobody matched."""
    predicted = _extract(page, gazetteer)
    wrong, missed = [], []
    for kind in page.kinds:
        labels = [{tag_key(s) for s in label.split("|")} for label in page.entities.get(kind, ())]
        hit: set[int] = set()
        for p_kind, name, aliases in predicted:
            if p_kind != kind:
                continue
            keys = {tag_key(name), *(tag_key(a) for a in aliases)}
            i = next((i for i, spellings in enumerate(labels) if i not in hit and keys & spellings), None)
            if i is None:
                wrong.append(f"{kind}:{name}")
            else:
                hit.add(i)
        missed += [f"{kind}:{label}" for i, label in enumerate(page.entities.get(kind, ())) if i not in hit]
    return {"wrong": wrong, "missed": missed}


def generated_records(count: int) -> list[ArticleRecord]:
    """Parsed records of the demo site's first `count` generated articles."""
    from services.demosite.generated import article_path, render_generated
    from services.parse.article import parse_article

    base = "http://127.0.0.1:8000"
    return [parse_article(render_generated(i, count, base), base + article_path(i)) for i in range(count)]


def measure_cost(records: Sequence[ArticleRecord], gazetteer: Gazetteer, repeat: int = 3) -> dict[str, float]:
    """Median CPU milliseconds per article of each part of enrichment and of the whole `enrich_record`."""
    from services.enrich import keywords as kw
    from services.enrich.fingerprint import fingerprint

    languages = {id(r): _language_of(r) for r in records}
    parts: dict[str, Callable[[ArticleRecord], object]] = {
        "language": _language_of,
        "key phrases": lambda r: kw.extract_keywords(
            "\n\n".join(r.body_paragraphs), languages[id(r)], top=10, title=r.title, lead=r.lead
        ),
        "entities": lambda r: _extract_record(r, gazetteer, languages[id(r)]),
        "minhash": lambda r: fingerprint(r.body_text),
        "enrich_record (all)": lambda r: enrich_record(r, gazetteer),
    }
    enrich_record(records[0], gazetteer)  # load models and tables outside the timing
    out = {}
    for name, part in parts.items():
        runs = []
        for _ in range(repeat):
            started = time.process_time()  # CPU time: the machine is shared, wall time counts the others
            for record in records:
                part(record)
            runs.append((time.process_time() - started) * 1000 / len(records))
        out[name] = round(statistics.median(runs), 3)
    return out


def _extract_record(record: ArticleRecord, gazetteer: Gazetteer, language: str | None) -> object:
    try:
        return extract_entities(record.title, record.lead, record.body_paragraphs, gazetteer, language=language)  # type: ignore[call-arg]
    except TypeError:
        return extract_entities(record.title, record.lead, record.body_paragraphs, gazetteer)


def _fmt_entities(table: dict[str, dict[str, dict[str, Any]]]) -> Iterable[str]:
    yield f"{'language':<9}{'pages':>6}{'P':>7}{'R':>7}{'tp':>5}{'fp':>5}{'fn':>5}   person P/R   place P/R   org P/R"
    for language, kinds in table.items():
        a = kinds["all"]
        cells = "   ".join(
            f"{kinds[k]['precision']:.2f}/{kinds[k]['recall']:.2f}" if k in kinds else "  -/-  "
            for k in ("person", "place", "organisation")
        )
        counts = f"{a['tp']:>5}{a['fp']:>5}{a['fn']:>5}"
        yield f"{language:<9}{a['pages']:>6}{a['precision']:>7.3f}{a['recall']:>7.3f}{counts}   {cells}"


def main(argv: list[str] | None = None) -> int:
    """Print the three measures (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.eval_enrich_real", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--per-page", action="store_true", help="also list each page's topics and entity errors")
    parser.add_argument("--cost-pages", type=int, default=200, help="generated pages timed (0: skip the cost)")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    gazetteer = load_gazetteer()
    topics = evaluate_topics(gazetteer)
    pages = load_labels(ENTITY_LABELS)
    entities = evaluate_entities(pages, gazetteer)
    cost = measure_cost(generated_records(args.cost_pages), gazetteer) if args.cost_pages else {}
    report = {"topics": topic_summary(topics), "entities": entities, "cost_ms": cost}
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    t = report["topics"]
    print(f"ENRICHMENT ON REAL PAGES (tests/fixtures/realpages: {t['pages']} pages, {t['topics']} editors' topics)")
    print(
        f"topics recovered by key phrases and entities: {t['recovered']:.3f} "
        f"(key phrases {t['by_key_phrases']:.3f}, entities {t['by_entities']:.3f}; "
        f"mean per page {t['per_page_mean']:.3f}; {t['predictions_per_page']} predictions per page; "
        f"by equality alone, no containment: {t['equal_only']:.3f})"
    )
    print(f"\nentities on {len(pages)} hand-labelled real pages (tests/fixtures/entities_real)")
    for line in _fmt_entities(entities):
        print("  " + line)
    if cost:
        whole = cost["enrich_record (all)"]
        print(
            f"\ncost per article on {args.cost_pages} generated pages "
            f"(CPU time, median of 3 runs; budget {BUDGET_MS} ms)"
        )
        for name, ms in cost.items():
            print(f"  {name:<22}{ms:>8.3f} ms")
        print(f"  {'share of the budget':<22}{whole / BUDGET_MS:>8.2f}x")
    if args.per_page:
        for r in topics:
            print(f"\n{r.id} [{r.language}] recovered {len(r.recovered)}/{len(r.topics)}: {list(r.recovered)}")
            print(f"  topics: {list(r.topics)}\n  predicted: {list(r.predictions)}")
        for page in pages:
            print(f"\n{page.name} [{page.language}] {page_errors(page, gazetteer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
