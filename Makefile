# Theory You Can Run: the two commands of the README, and a few more for authors and instructors.
#   make book   builds the book from nothing (virtual environment, pinned packages, HTML)
#   make pdf    the whole book as one PDF, linked from the book's download button
#   make test   runs every test: library, notebooks (nbval), labs, Colab-from-one-file, book and browser

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest

.PHONY: book pdf test unit notebooks labs labs-check grade colab-all benchmarks constraints clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

book: $(BIN)/.installed
	$(BIN)/python tools/run_notebooks.py --jobs 2
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

pdf: $(BIN)/.installed   # the whole book as one PDF next to the HTML; reuses make book's doctrees (needs chromium)
	$(BIN)/python tools/run_notebooks.py --jobs 2
	$(BIN)/python tools/book_pdf.py

test: $(BIN)/.installed
	CI=$${CI:-true} $(PYTEST) tests solutions --nbval-lax --nbval-current-env -p no:cacheprovider

unit: $(BIN)/.installed
	$(PYTEST) tests -m "not slow"

notebooks: $(BIN)/.installed   # every book notebook once, two at a time; the lab masters under nbval
	$(PYTEST) tests/test_notebooks.py solutions --nbval-lax --nbval-current-env

labs: $(BIN)/.installed
	$(BIN)/python tools/labs.py generate

labs-check: $(BIN)/.installed
	$(BIN)/python tools/labs.py check

grade: $(BIN)/.installed   # make grade LAB=lab00 SUBMISSIONS=path/to/folder SEED_FILE=path/to/secret (needs bubblewrap)
	$(BIN)/python tools/labs.py grade $(LAB) $(SUBMISSIONS) $(if $(SEED_FILE),--seed-file $(SEED_FILE)) \
		--out gradebook-$(LAB).csv --timeout 120 --call-timeout 60 --jobs 2

colab-all: $(BIN)/.installed
	DLTHEORY_COLAB_ALL=1 $(PYTEST) tests/test_colab.py

benchmarks: $(BIN)/.installed
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

constraints: $(BIN)/.installed
	(echo "# The pinned, verified-together set for CI and the README (make book / make test)."; \
	 echo "# Regenerate with: make constraints (after changing pyproject.toml and checking the tests pass)."; \
	 $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/') > constraints.txt

clean:
	rm -rf _build
