.PHONY: run test lint bench

# Install and start the whole platform on this machine (role all, embedded database).
run:
	scripts/run.sh

# Install everything the tests need and run them.
test:
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	for b in bench/*_bench.py; do .venv/bin/python "$$b" || exit 1; done
