# fixbot's image: `docker build -t fixbot .`, then
#   docker run -d --name fixbot --env-file .env -v fixbot-data:/data fixbot
# A folder of the host instead of a named volume (-v ./data:/data) must be writable by the
# image's user, uid 10001: `mkdir -p data && sudo chown 10001 data` (docs/operating.md).
# The environment below wins over nothing in .env.example (which leaves these keys
# commented), so the recipe in the README works as written.

# Pinned: a new base image is a change we make on purpose (bump the tag, rebuild, test).
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FIXBOT_HOME=/app \
    FIXBOT_CONTENT_DIR=/app \
    FIXBOT_DATA_DIR=/data \
    FIXBOT_WEBHOOK_LISTEN=0.0.0.0 \
    FIXBOT_HEALTH_LISTEN=0.0.0.0 \
    FIXBOT_HEALTH_PORT=8080

WORKDIR /app

# Dependencies first, pinned (requirements.lock: the versions `make test` passed with, within
# pyproject.toml's ranges): a change to the code reuses this layer, and a rebuild next month
# installs what was tested, not whatever was released since.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml ./
COPY README.md ./
COPY bot ./bot
RUN pip install --no-deps .
COPY intents ./intents
COPY fixes ./fixes
COPY wording ./wording

# Bad content fails the build, not the first user.
RUN fixbot check

RUN useradd --system --uid 10001 --home-dir /data fixbot \
    && mkdir -p /data && chown fixbot /data
USER fixbot
VOLUME ["/data"]
# 8443: the webhook server (webhook mode only); 8080: /healthz and /metrics.
EXPOSE 8443 8080

# Healthy once polling (or the webhook) is live and the database answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["fixbot", "health"]

CMD ["fixbot", "run"]
