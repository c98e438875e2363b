# Hài Lòng: `make demo` runs the product, `make test` passes the tests. Both call `make setup`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Debian packages the project needs here: the broker, fonts with Vietnamese glyphs,
# a headless browser for the dashboard tests, and the venv module on a bare Debian;
# openssl makes the commune broker's TLS certificate authority (broker-config);
# LibreOffice Writer without its GUI turns letters and reports into PDF, and
# Liberation Serif (metrics of Times New Roman, the font Decree 30/2020 sets) with
# Vietnamese glyphs keeps their lines where Word would break them.
# espeak-ng speaks the kiosk's Vietnamese prompts (`make voice`, `hailong kiosk voice`).
# postgresql (server and client) holds the province store (issue 12, `hailong province`).
DEB_PACKAGES := mosquitto mosquitto-clients fonts-dejavu-core fonts-noto-core \
                chromium chromium-driver python3-venv poppler-utils openssl \
                libreoffice-writer-nogui fonts-liberation2 espeak-ng \
                postgresql postgresql-client

.PHONY: setup system-packages test demo demo-province bench screenshots voice clean

setup: system-packages $(BIN)/.installed

system-packages:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "setup: installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# The province tests use PostgreSQL on 127.0.0.1:5432 (user postgres, or the URL in
	@# HAILONG_TEST_PG): start the installed cluster when nothing answers there (no systemd).
	@pg_isready -q -h 127.0.0.1 -p 5432 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -n 1) main start \
	  || echo "setup: PostgreSQL is not running on 127.0.0.1:5432; the province tests need it"; }

$(BIN)/.installed: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/hailong demo

# A province on PostgreSQL (127.0.0.1:5432, or HAILONG_PG) and 3 communes forwarding to it.
demo-province: setup
	$(BIN)/hailong demo --province

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Every kiosk screen at the 7" touchscreen's size and full HD, as shown in the docs.
screenshots: setup
	$(BIN)/hailong kiosk screenshots --config config/kiosk.example.toml \
	  --out docs/screenshots/kiosk --size 800x480 --size 1920x1080

# The kiosk's spoken prompts for the example config (config/voice/*.wav).
voice: setup
	$(BIN)/hailong kiosk voice --config config/kiosk.example.toml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
