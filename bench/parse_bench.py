"""Speed and memory of the full `parse_article` against `trafilatura.extract` on the same pages.

Run `python -m bench.parse_bench [--corpus real|generated] [--repeat N] [--layers] [--large MB]`. Both run
in this process on the real publisher pages of tests/fixtures/realpages (default; 20-600 KB pages as
sites send them) or on the small generated corpus, interleaved page by page so that load from other
processes hits both alike; trafilatura runs as `extract(favor_precision=True)`, its best setting on
real pages, on the same decoded text newsflow reads;
each page's time is the best of `repeat` runs. The report gives pages, median and p95 ms per page,
the ratio of medians (target: <= 1.5), and tracemalloc peaks (Python heap only: libxml2's own
allocations are not traced). `--layers` adds the median time per parser layer; `--large` times one
synthetic page of that many MB (a long article in a page of site furniture).
"""

from __future__ import annotations

import argparse
import functools
import logging
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.eval_parse import load_corpus

Run = Callable[[bytes, str, str | None], object]
# (module, function) pairs timed by --layers; nested ones (trafilatura inside generic_body) overlap.
LAYERS = (
    ("article", "load_tree"), ("article", "read_structured"), ("article", "match_profile"),
    ("article", "find_article_scope"), ("article", "class_id_text"), ("metadata", "find_title"),
    ("metadata", "find_authors"), ("metadata", "byline_lines"), ("body", "generic_body"),
    ("body", "_trafilatura_paragraphs"), ("body", "_densest_block_paragraphs"), ("body", "find_lead"),
    ("body", "profile_body"), ("dates", "find_published"), ("dates", "_from_htmldate"),
    ("comments", "generic_comments"), ("comments", "profile_comments"), ("widgets", "find_widgets"),
    ("images", "generic_images"), ("images", "profile_images"), ("tags", "generic_tags"),
    ("links", "generic_related"), ("links", "body_links"), ("body", "drop_signup_blocks"),
    ("body", "drop_embedded_blocks"), ("body", "drop_page_furniture"), ("metadata", "byline_elements"),
    ("comment_json", "find_comment_sources"), ("article", "_find_text"),
)  # fmt: skip


# CPU time of this process by default: on a machine shared with other work, wall time measures the others too.
CLOCK = time.process_time


def time_pages(runs: list[Run], pages: list, repeat: int) -> list[list[float]]:
    """Best-of-`repeat` time per page for each run (CLOCK), runs interleaved per page, in seconds."""
    times: list[list[float]] = [[] for _ in runs]
    for _, html, url, content_type, _ in pages:
        best = [float("inf")] * len(runs)
        for _ in range(repeat):
            for index, run in enumerate(runs):
                start = CLOCK()
                run(html, url, content_type)
                best[index] = min(best[index], CLOCK() - start)
        for index, value in enumerate(best):
            times[index].append(value)
    return times


def peak_memory(run: Run, pages: list) -> int:
    """Largest tracemalloc peak over single parses, in bytes."""
    peak = 0
    for _, html, url, content_type, _ in pages:
        tracemalloc.start()
        run(html, url, content_type)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peak


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@contextmanager
def timed_layers(spent: dict[str, float]) -> Iterator[None]:
    """Wrap the parser's layer functions so each call adds its wall time to `spent[name]`."""
    import importlib

    saved: list[tuple[Any, str, Any]] = []
    for module_name, name in LAYERS:
        module = importlib.import_module(f"services.parse.{module_name}")
        original = getattr(module, name, None)
        if original is None:
            continue

        def wrapper(*args: Any, __f: Any = original, __key: str = f"{module_name}.{name}", **kwargs: Any) -> Any:
            start = CLOCK()
            try:
                return __f(*args, **kwargs)
            finally:
                spent[__key] = spent.get(__key, 0.0) + CLOCK() - start

        functools.update_wrapper(wrapper, original)
        saved.append((module, name, original))
        setattr(module, name, wrapper)
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def layer_medians(run: Run, pages: list, repeat: int) -> dict[str, float]:
    """Per layer, the median over pages of its best-of-`repeat` time on the page (seconds)."""
    per_page: dict[str, list[float]] = {}
    for _, html, url, content_type, _ in pages:
        best: dict[str, float] = {}
        for _ in range(repeat):
            spent: dict[str, float] = {}
            with timed_layers(spent):
                run(html, url, content_type)
            for key, value in spent.items():
                best[key] = min(best.get(key, float("inf")), value)
        for key in {k for k, _ in ((f"{m}.{n}", 0) for m, n in LAYERS)}:
            per_page.setdefault(key, []).append(best.get(key, 0.0))
    return {key: statistics.median(values) for key, values in per_page.items()}


def real_pages() -> list[tuple[str, bytes, str, None, dict]]:
    """The real-page set in the corpus loader's shape: (id, html, url, content_type, expected)."""
    from bench.eval_realpages import load_cases

    return [(case.id, case.html, case.url, None, case.expected) for case in load_cases()]


def large_page(megabytes: float) -> bytes:
    """A long article (paragraphs, figures, a related list) inside navigation, sidebar and footer."""
    furniture = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(60))
    block = (
        "<p>The council met on Tuesday to discuss the budget for the coming year, and members asked"
        " detailed questions about road repairs, school meals and the library opening hours.</p>"
        '<figure><img src="/img/{i}.jpg" width="800"><figcaption>Photo {i}. Photo: Staff</figcaption></figure>'
        "<p>Residents who attended said the meeting ran late; several of them spoke about parking.</p>"
    )
    body = []
    size = 0
    index = 0
    while size < megabytes * 1_000_000:
        chunk = block.replace("{i}", str(index))
        body.append(chunk)
        size += len(chunk)
        index += 1
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Budget meeting | Gazette</title>'
        '<meta property="og:title" content="Budget meeting"></head><body>'
        f'<nav class="menu"><ul>{furniture}</ul></nav><main><article><h1>Budget meeting</h1>'
        f'<div class="article-body">{"".join(body)}</div></article>'
        f'<aside class="sidebar"><ul>{furniture}</ul></aside></main><footer><ul>{furniture}</ul></footer>'
        "</body></html>"
    )
    return html.encode()


def main(argv: list[str] | None = None) -> int:
    """Print pages, medians, p95, the ratio, peak memory, and optionally layers and a large page."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", choices=("real", "generated"), default="real")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="process CPU time (default) or wall-clock time"
    )
    parser.add_argument("--layers", action="store_true", help="median time per parser layer")
    parser.add_argument("--large", type=float, default=0.0, help="also time one synthetic page of this many MB")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    global CLOCK  # the clock the timing helpers read
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    import trafilatura

    from services.parse.article import parse_article
    from services.parse.charset import decode_html

    def newsflow(html: bytes, url: str, content_type: str | None) -> object:
        return parse_article(html, url, content_type=content_type)

    def reference(html: bytes, url: str, content_type: str | None) -> object:
        # trafilatura gets the same decoded text newsflow would see; decoding is timed for both.
        return trafilatura.extract(decode_html(html, content_type), url=url, favor_precision=True)

    pages = load_corpus() if args.corpus == "generated" else real_pages()
    time_pages([newsflow, reference], pages[:3], 1)  # warm caches (profiles, selectors, trafilatura's config)
    ours, theirs = time_pages([newsflow, reference], pages, args.repeat)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    sizes = sorted(len(page[1]) for page in pages)
    print(
        f"{args.corpus} pages: {len(pages)} ({sizes[0] // 1000}-{sizes[-1] // 1000} KB, median"
        f" {statistics.median(sizes) // 1000} KB), best of {args.repeat} runs per page, interleaved, {args.clock} time"
    )
    print(
        f"newsflow parse_article (full record): median {ours_median * 1000:.2f} ms/page,"
        f" p95 {percentile(ours, 0.95) * 1000:.2f} ms"
    )
    print(
        f"trafilatura.extract(favor_precision): median {theirs_median * 1000:.2f} ms/page,"
        f" p95 {percentile(theirs, 0.95) * 1000:.2f} ms"
    )
    print(f"ratio newsflow/trafilatura: {ours_median / theirs_median:.2f} (target <= 1.5)")
    print(
        f"peak Python memory (tracemalloc): newsflow {peak_memory(newsflow, pages) / 1e6:.1f} MB, "
        f"trafilatura {peak_memory(reference, pages) / 1e6:.1f} MB"
    )
    if args.layers:
        print("median ms/page per layer (nested layers overlap; 0.00 = not run on most pages):")
        for key, value in sorted(layer_medians(newsflow, pages, args.repeat).items(), key=lambda kv: -kv[1]):
            print(f"  {key:<36}{value * 1000:>7.3f}")
    if args.large:
        html = large_page(args.large)
        url = "https://gazette.example/news/budget-meeting"
        for name, run in (("newsflow", newsflow), ("trafilatura", reference)):
            start = time.perf_counter()
            run(html, url, "text/html; charset=utf-8")
            print(f"large page ({len(html) / 1e6:.1f} MB) {name}: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
