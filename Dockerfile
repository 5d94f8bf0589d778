# studybot: a slim runtime image. The build stage installs exactly what `make run`
# installs (pip install . into a venv); the runtime stage copies the venv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
# EXTRAS="[postgres]" adds the PostgreSQL driver (deploy/docker-compose.postgres.yml).
ARG EXTRAS=""
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .${EXTRAS}

FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin studybot \
    && mkdir -p /data/backups && chown -R studybot /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STUDYBOT_DB_URL=sqlite+aiosqlite:////data/studybot.db \
    STUDYBOT_BACKUP_DIR=/data/backups \
    STUDYBOT_HTTP_HOST=0.0.0.0 \
    STUDYBOT_HTTP_PORT=3000 \
    STUDYBOT_HTTP_ENABLED=true \
    STUDYBOT_CONSOLE=false \
    STUDYBOT_LOG_FORMAT=json
USER studybot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["studybot"]
CMD ["run"]
