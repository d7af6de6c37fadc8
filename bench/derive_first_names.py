"""Derive `services/enrich/data/first_names.txt`, the given names entity extraction recognises a person by.

Run once at build time, not at run time: `pip install names-dataset && python -m bench.derive_first_names`.
names-dataset (MIT) ships given names with their frequency per country; its 55 MB wheel and ~2 GB of
memory to load are no fit for a worker, so the most common given names of each country below are kept in a
plain text file (about 30,000 names, a few hundred KB). Names that are also stop words of a language
newsflow handles ("Will", "Man", "Den") are left out: the rules would read them as the start of a name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "services" / "enrich" / "data" / "first_names.txt"
# Countries whose news newsflow reads, and the ones their news most often names people from.
COUNTRIES = [
    "AE",
    "AF",
    "AL",
    "AR",
    "AT",
    "AU",
    "AZ",
    "BD",
    "BE",
    "BG",
    "BR",
    "BY",
    "CA",
    "CH",
    "CL",
    "CN",
    "CO",
    "CY",
    "CZ",
    "DE",
    "DK",
    "DZ",
    "EC",
    "EE",
    "EG",
    "ES",
    "ET",
    "FI",
    "FR",
    "GB",
    "GE",
    "GH",
    "GR",
    "HK",
    "HR",
    "HU",
    "ID",
    "IE",
    "IL",
    "IN",
    "IQ",
    "IR",
    "IS",
    "IT",
    "JM",
    "JO",
    "JP",
    "KE",
    "KR",
    "KZ",
    "LB",
    "LT",
    "LU",
    "LV",
    "LY",
    "MA",
    "MD",
    "MX",
    "MY",
    "NA",
    "NG",
    "NL",
    "NO",
    "NZ",
    "PE",
    "PH",
    "PK",
    "PL",
    "PR",
    "PS",
    "PT",
    "QA",
    "RO",
    "RS",
    "RU",
    "SA",
    "SE",
    "SG",
    "SI",
    "SK",
    "SY",
    "TN",
    "TR",
    "TW",
    "UA",
    "US",
    "UY",
    "VE",
    "VN",
    "YE",
    "ZA",
    "ZW",
]
STOPWORD_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "no", "da", "fi", "pl", "cs", "tr", "id")


def derive(per_gender: int) -> list[str]:
    """The sorted given names: the `per_gender` most common per gender and country, minus stop words."""
    import stopwordsiso
    from names_dataset import NameDataset

    stop = {w.casefold() for lang in STOPWORD_LANGUAGES for w in stopwordsiso.stopwords(lang)}
    dataset = NameDataset()
    names: set[str] = set()
    for country in COUNTRIES:
        top = dataset.get_top_names(n=per_gender, use_first_names=True, country_alpha2=country).get(country, {})
        for gender_names in top.values():
            for name in gender_names:
                name = name.strip()
                if len(name) >= 2 and name.isalpha() and name[0].isupper() and name.casefold() not in stop:
                    names.add(name)
    return sorted(names)


def main(argv: list[str] | None = None) -> int:
    """Write the list and say how many names it holds."""
    parser = argparse.ArgumentParser(prog="python -m bench.derive_first_names", description=__doc__.splitlines()[0])
    parser.add_argument("--per-gender", type=int, default=300, help="most common names kept per gender and country")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    names = derive(args.per_gender)
    args.out.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"{len(names)} given names -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
