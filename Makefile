# Entry points for the slower checks; each target runs one script in scripts/.
.PHONY: wheels arm64-check sanitize valgrind fuzz

wheels:
	scripts/build-wheels

arm64-check:
	scripts/arm64-check

sanitize:
	scripts/sanitize

valgrind:
	scripts/valgrind

fuzz:
	scripts/fuzz
