# Every target bootstraps .venv itself, so a fresh clone needs nothing but python3 >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= crmkit-demo.sqlite

.PHONY: demo test lint docs bench locale-update locale-compile clean mutation

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crmkit demo --db $(DEMO_DB)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python -m bench

# i18n: extract every user-visible string and merge it into the zh_CN, zh_TW and en
# catalogs (listing what still needs a translator), then compile the .mo files that
# ship inside the package. tests/kernel/test_i18n.py fails when either step is owed.
locale-update: $(STAMP)
	$(BIN)/python tools/catalogs.py update

locale-compile: $(STAMP)
	$(BIN)/python tools/catalogs.py compile

clean:
	rm -rf $(VENV) site $(DEMO_DB) .pytest_cache .mypy_cache .ruff_cache

# Mutation testing of the cores (kernel money and machine, permissions, numbering,
# approvals, billing, customers pool and merge) with mutmut, one core after the other on
# every CPU; MUTATION_CORES picks some. Slow (see docs/testing.md); not part of make test.
MUTATION_CORES ?=
mutation: $(STAMP)
	nice -n 10 $(BIN)/python tools/mutation.py $(MUTATION_CORES)
