# Every target bootstraps .venv itself, so a fresh clone needs nothing but python3 >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= crmkit-demo.sqlite
LOCALES := zh_CN zh_TW en
LOCALE_DIR := src/crmkit/locale

.PHONY: demo test lint docs bench locale-extract locale-update locale-compile clean

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

# i18n: extract every user-visible string, merge into the three catalogs, compile the .mo files
# that ship inside the package.
locale-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
	  --project crmkit -o $(LOCALE_DIR)/crmkit.pot src/crmkit

locale-update: locale-extract
	for l in $(LOCALES); do \
	  if [ -f $(LOCALE_DIR)/$$l/LC_MESSAGES/crmkit.po ]; then \
	    $(BIN)/pybabel update -N --no-location -D crmkit -i $(LOCALE_DIR)/crmkit.pot -d $(LOCALE_DIR) -l $$l; \
	  else \
	    $(BIN)/pybabel init -D crmkit -i $(LOCALE_DIR)/crmkit.pot -d $(LOCALE_DIR) -l $$l; \
	  fi; \
	done

locale-compile: $(STAMP)
	$(BIN)/pybabel compile --statistics -D crmkit -d $(LOCALE_DIR)

clean:
	rm -rf $(VENV) site $(DEMO_DB) .pytest_cache .mypy_cache .ruff_cache
