# Trunkline: the two commands a new machine needs (Debian 12 with Swift 6.3):
#   make run    set up, build and start trunkd on the embedded default (virtual lab)
#   make test   set up, build and run the whole test suite
SWIFT ?= swift
# What building needs: the DAHDI user header and the system libraries the C modules link.
BUILD_PACKAGES := dahdi-source libspandsp-dev libasound2-dev libpcap-dev libsqlite3-dev pkg-config
# What the tests use besides.
TEST_PACKAGES := tshark libpri-dev python3-jsonschema sox openssl

.PHONY: deps test-deps build run test clean

# Installs only what is missing, so a prepared machine skips apt entirely.
define install_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; \
		else echo "need root to run: apt-get update && apt-get install -y$$missing"; exit 1; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	fi
endef

deps:
	$(call install_packages,$(BUILD_PACKAGES))

test-deps: deps
	$(call install_packages,$(TEST_PACKAGES))

build: test-deps
	$(SWIFT) build

# Only the executables a person runs; the benchmarks (which link test-only libraries) are not needed.
run: deps
	$(SWIFT) build --product trunkctl
	$(SWIFT) run trunkd $(ARGS)

# Serially: several tests hold real-time figures (tick accuracy, timeouts on sockets) that a
# 2-core machine cannot keep while the heavy DSP and traffic tests run beside them.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel

clean:
	rm -rf .build
