# The README's two commands: `make demo` and `make test`. Both install what they need:
# Python packages into .venv (pip), the editor's npm packages, and for the tests Debian's chromium.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed
FRONTEND_SOURCES := $(shell find frontend/src -type f) frontend/index.html $(wildcard frontend/vite*.ts) frontend/tsconfig.json frontend/tsconfig.lib.json
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Python keeps the compiled modules of workflow_kit (in __pycache__, ignored by git) even where the
# environment asks it not to: the tests start Python processes by the hundred (workers, servers, the CLI).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test bench lint typecheck pytest pytest-python pytest-fast pytest-slow pytest-browser screenshots frontend frontend-test api-types chromium postgres install clean package dist

# What is kept per machine, beside pip's and npm's caches: the wheels of the Python packages
# (scripts/install-python) and mypy's cache (it checks each file's hash, so a fresh clone reuses what did
# not change: 24 s -> 3 s).
CACHE_DIR ?= $(or $(WORKFLOW_KIT_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/workflow-kit)

install: $(STAMP)

# scripts/install-python keeps the wheels of a first install per machine (in CACHE_DIR, above), so that
# a fresh clone installs without asking a package index.
$(STAMP): pyproject.toml constraints.txt
	scripts/install-python $(PYTHON) $(VENV) "$(CACHE_DIR)"
	touch $(STAMP)

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# The standalone editor page, the embeddable <workflow-editor> bundle and the React component.
frontend/dist/index.html: $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

frontend: frontend/dist/index.html

# dist/: the wheel and the sdist, with the built editor in both (hatch_build.py), and the editor's npm
# package. The wheel is built from the sdist, which shows the sdist builds without npm.
dist: $(STAMP) frontend
	rm -f dist/workflow_kit-*.whl dist/workflow_kit-*.tar.gz dist/workflow-kit-editor-*.tgz
	$(BIN)/python -m hatchling build -t sdist -d dist
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation --quiet -w dist dist/workflow_kit-*.tar.gz
	cd frontend && npm pack --silent --pack-destination ../dist

# The npm package @workflow-kit/editor as a local tarball (never published): frontend/workflow-kit-editor-0.1.0.tgz
package: $(NPM_STAMP)
	cd frontend && npm pack

# The editor's type check (tsc), ESLint (with React's rules of hooks) and unit tests, after its build: the
# Python tests wait for the build, so it goes first and this step runs beside them; api-types checks that
# its API types (frontend/src/api/schema.ts) are what the editor API's OpenAPI document generates.
frontend-test: $(NPM_STAMP) frontend
	cd frontend && npm run typecheck --silent && npm run lint --silent && npm test --silent

api-types: $(NPM_STAMP) $(STAMP)
	scripts/api-types --check

# Debian's PostgreSQL server binaries for scripts/with-postgres, installed once before the test parts
# start (after chromium: one apt-get at a time).
postgres: chromium
	@scripts/with-postgres --install

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

DEMO_PORT ?= 8000

# The blog CMS demo on SQLite (workflow-kit.db here): the editor at /, the blog at /demo.
# Connections' secrets are encrypted with the key in $(DEMO_KEY_FILE) (made once) unless
# WORKFLOW_KIT_SECRET_KEYS is set; "Team Chat (demo)" signs in at the stand-in provider under /demo/oauth.
DEMO_KEY_FILE ?= .workflow-kit-demo.key
demo: $(STAMP) frontend
	@test -s $(DEMO_KEY_FILE) || $(BIN)/workflow-kit connections new-key > $(DEMO_KEY_FILE)
	$(BIN)/workflow-kit seed --app seeds.app:kit
	@echo "Demo: http://127.0.0.1:$(DEMO_PORT)/demo (the blog) and http://127.0.0.1:$(DEMO_PORT)/ (the editor)"
	WORKFLOW_KIT_SECRET_KEYS="$${WORKFLOW_KIT_SECRET_KEYS:-$$(cat $(DEMO_KEY_FILE))}" \
	WORKFLOW_KIT_DEMO_URL=http://127.0.0.1:$(DEMO_PORT) \
	$(BIN)/workflow-kit serve --app seeds.app:kit --demo --host 127.0.0.1 --port $(DEMO_PORT)

# The kit and DBOS Transact side by side (bench/compare.py), on SQLite and a durable PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	WITH_POSTGRES_DURABLE=1 scripts/with-postgres $(BIN)/python -m bench.compare --repeat 3

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --cache-dir "$(CACHE_DIR)/mypy"

# The Python suite on SQLite and a throwaway PostgreSQL (scripts/with-postgres), and the browser tests
# in headless Chromium against a real `workflow-kit serve`, in two parts:
# - pytest-python: every Python test but the browser tests, test files three at a time (pytest-xdist; each
#   worker process has a PostgreSQL database of its own), the multi-process fault tests (marked slow)
#   among them; four at a time took longer on two cores (207 s against 192 s, and 343 s of CPU against
#   293: more processes polling), two at a time 233 s;
# - pytest-browser: the tests in tests/browser (marked browser), BROWSER_WORKERS files at a time (a
#   Chromium and a server per app per process, a tenant per file, each test a fresh browser context; the
#   servers use SQLite, so no PostgreSQL).
# Both start the longest test files first (tests/durations.json). One pytest run of both parts six files
# at a time was tried: slower (502 s against 420 s) and flakier, both cores saturated throughout.
# pytest-fast and pytest-slow run the Python tests without, or only, the slow ones; `make screenshots`
# runs the browser tests keeping a screenshot of each screen they name at 1280x800 and 1920x1080 in
# test-artifacts/, to look at.
PYTEST_WORKERS ?= 3
BROWSER_WORKERS ?= 2
WITH_POSTGRES := WORKFLOW_KIT_REQUIRE_BROWSER=1 scripts/with-postgres
pytest: pytest-python pytest-browser

pytest-python: $(STAMP) frontend postgres
	$(WITH_POSTGRES) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not browser"

pytest-fast: $(STAMP) frontend postgres
	$(WITH_POSTGRES) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow and not browser"

pytest-slow: $(STAMP) frontend postgres
	$(WITH_POSTGRES) $(BIN)/pytest -m slow

pytest-browser: $(STAMP) frontend chromium
	WORKFLOW_KIT_REQUIRE_BROWSER=1 $(BIN)/pytest -n $(BROWSER_WORKERS) --dist loadfile -m browser tests/browser

screenshots: $(STAMP) frontend chromium
	WORKFLOW_KIT_SCREENSHOTS=1 $(MAKE) --no-print-directory pytest-browser

# Side by side, as soon as what it needs is there: pip and npm install at once; the editor's build,
# ESLint and unit tests, the type check, ruff and the API types check start once their packages are in;
# the Python tests once the editor is built. Each part's output is printed when it ends. Then the browser
# tests, alone: beside the Python tests (both cores saturated) clicks in the editor were lost and tests
# timed out (two of 76 in each of two runs).
test:
	$(MAKE) --no-print-directory -j8 --output-sync=target pytest-python typecheck frontend-test api-types lint
	$(MAKE) --no-print-directory pytest-browser

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache frontend/node_modules frontend/dist frontend/lib frontend/*.tgz test-artifacts dist
