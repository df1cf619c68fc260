FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FIXBOT_CONTENT_DIR=/app \
    FIXBOT_DATA_DIR=/data \
    FIXBOT_WEBHOOK_LISTEN=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY intents ./intents
COPY fixes ./fixes

# Bad content fails the build, not the first user.
RUN fixbot check

RUN useradd --system --uid 10001 --home-dir /data fixbot \
    && mkdir -p /data && chown fixbot /data
USER fixbot
VOLUME ["/data"]
# Only used in webhook mode (FIXBOT_WEBHOOK_URL and FIXBOT_WEBHOOK_SECRET set).
EXPOSE 8443

CMD ["fixbot", "run"]
