# The contract: run, test, lint, bench, build.
GO      ?= go
BIN     ?= bin/dearfriend
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test test-short lint bench build fuzz juice clean

## run: the whole system, embedded (SQLite, in-process Redis, SMTP capture, demo data)
run:
	$(GO) run ./cmd/dearfriend dev

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/dearfriend

# Most tests wait on sweeps, leases and relays rather than compute, and each
# has a database and queue of its own, so many run at once: -parallel, not the
# core count (go test's default), bounds how many tests of a package run together.
TESTFLAGS ?= -count=1 -timeout 20m -parallel 8

## test: every suite against SQLite and the in-process Redis, and against
## PostgreSQL and Redis wherever scripts/test-services finds them
test:
	@eval "$$(scripts/test-services)"; \
	echo "postgres: $${DEARFRIEND_TEST_DATABASE_URL:-not used}  redis: $${DEARFRIEND_TEST_REDIS_URL:-not used}"; \
	$(GO) test $(TESTFLAGS) ./...

## test-short: the inner loop, every suite against SQLite and the in-process
## Redis only (PostgreSQL and Redis are not used even when they answer)
test-short:
	@echo "postgres: not used  redis: in-process only"; \
	env -u DEARFRIEND_TEST_DATABASE_URL -u DEARFRIEND_TEST_REDIS_URL $(GO) test $(TESTFLAGS) ./...

## lint: gofmt, go vet, staticcheck
lint:
	@out=$$(gofmt -l cmd pkg templates); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## bench: the benchmarks reported in README.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/render/ ./pkg/inline/ ./pkg/mailer/
	@eval "$$(scripts/test-services)"; $(GO) run ./scripts/bench-send -n 10000 -runs 3
	@eval "$$(scripts/test-services)"; if command -v wrk >/dev/null; then $(GO) run ./scripts/bench-track -runs 3; else echo "bench-track skipped: wrk not installed"; fi
	@eval "$$(scripts/test-services)"; $(GO) run ./scripts/bench-sign -c 32 -d 10s -runs 3

## fuzz: a short run of every fuzz target
fuzz:
	@for t in FuzzVerify:./pkg/track FuzzNormalizeEmail:./pkg/audience FuzzReader:./pkg/audience FuzzCompile:./pkg/audience FuzzInline:./pkg/inline FuzzTextFromHTML:./pkg/render FuzzParseRelays:./pkg/mailer FuzzRead:./pkg/bounce FuzzCheck:./pkg/input FuzzKeepCRLF:./pkg/audience FuzzEncodedWords:./pkg/mailer FuzzDotStuffing:./pkg/mailer FuzzReportEvents:./pkg/api FuzzParseMessageID:./pkg/feedback FuzzSESEvents:./pkg/esp FuzzSendGridEvents:./pkg/esp FuzzPostmarkEvents:./pkg/esp FuzzMailgunEvents:./pkg/esp FuzzRecipient:./pkg/inbound FuzzMailtoToken:./pkg/inbound FuzzTake:./pkg/inbound FuzzFormAttributes:./pkg/admin FuzzReadImage:./pkg/brand FuzzParseColor:./pkg/brand FuzzRender:./pkg/blocks FuzzParseSchedule:./pkg/store FuzzThanks:./pkg/action FuzzSegmentForm:./pkg/admin FuzzParseRedisURL:./pkg/config FuzzRegionChanges:./pkg/store; do \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime 30s "$${t#*:}" || exit 1; done

## juice: score the CSS inliner against juice's test cases (needs ../shared)
juice: build
	python3 ../shared/conformance/juice/run $(BIN) inline

clean:
	rm -rf bin data
