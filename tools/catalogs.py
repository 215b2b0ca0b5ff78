"""Keep crmkit's message catalogs in step with the code.

``python tools/catalogs.py update``: extract every ``N_``/``_`` string from
``src/crmkit`` into ``crmkit.pot``, merge it into the zh_CN, zh_TW and en catalogs
(English messages are their own translation), and report what still needs a
translator, and every zh_TW translation that uses a term the Taiwan glossary
(``src/crmkit/locale/zh_TW/glossary.tsv``) rules out — mainland usage, or what an
OpenCC s2twp conversion leaves behind (幣種程式碼 for 幣別代碼); either makes the
command fail. ``python tools/catalogs.py compile``: write the ``.mo`` files shipped
inside the package. ``make locale-update`` / ``make locale-compile`` call these.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "crmkit"
LOCALE_DIR = SOURCE / "locale"
LOCALES = ("zh_CN", "zh_TW", "en")
KEYWORDS = {"N_": None, "_": None}
GLOSSARIES = {"zh_TW": LOCALE_DIR / "zh_TW" / "glossary.tsv"}


def extract() -> Catalog:
    """Every translatable string in the package, without source locations."""
    template = Catalog(project="crmkit", fuzzy=False)
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        template.add(message)
    return template


def glossary(locale: str) -> dict[str, str]:
    """``{ruled-out term: the term to use}`` for ``locale`` (empty when it has none)."""
    path = GLOSSARIES.get(locale)
    if path is None or not path.exists():
        return {}
    terms: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        wrong, right, *_note = line.split("\t")
        terms[wrong.strip()] = right.strip()
    return terms


def glossary_slips(locale: str, translations: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """``(msgid, msgstr, term, use instead)`` for each translation using a ruled-out term."""
    terms = glossary(locale)
    return [
        (msgid, text, wrong, right)
        for msgid, text in sorted(translations.items())
        for wrong, right in terms.items()
        if wrong in text
    ]


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "crmkit.po"


def update() -> int:
    template = extract()
    with (LOCALE_DIR / "crmkit.pot").open("wb") as out:
        write_po(out, template, omit_header=False, no_location=True, sort_output=True)
    missing = 0
    slips = 0
    for locale in LOCALES:
        path = _po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="crmkit")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for message in catalog:
            if not message.id:
                continue
            if locale == "en" and not message.string:
                message.string = message.id
            if not message.string or message.fuzzy:
                missing += 1
                print(f"{locale}: needs a translation: {message.id!r}")
        with path.open("wb") as out:
            write_po(out, catalog, no_location=True, sort_output=True, width=100)
        found = glossary_slips(locale, {m.id: m.string for m in catalog if m.id and m.string})
        for msgid, text, wrong, right in found:
            print(f"{locale}: {wrong} should be {right} (glossary) in {msgid!r}: {text}")
        slips += len(found)
    print(f"{len(template)} messages; {missing} translations missing; {slips} glossary slips")
    return 1 if slips else 0


def compile_catalogs() -> int:
    for locale in LOCALES:
        with _po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        with _po_path(locale).with_suffix(".mo").open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
    print(f"compiled {', '.join(LOCALES)}")
    return 0


if __name__ == "__main__":
    commands = {"update": update, "compile": compile_catalogs}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(f"usage: python tools/catalogs.py {{{'|'.join(commands)}}}")
        raise SystemExit(2)
    raise SystemExit(commands[sys.argv[1]]())
