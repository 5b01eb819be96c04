# mailguard: the daemon in a slim image. Build: docker build -t mailguard .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAILGUARD_CONFIG=/etc/mailguard/mailguard.yaml

WORKDIR /src
# requirements.lock (scripts/lock): the exact versions CI tested, for the image too.
COPY pyproject.toml README.md LICENSE requirements.lock ./
COPY mailguard ./mailguard
RUN pip install --no-cache-dir -c requirements.lock . \
    && groupadd --system --gid 10001 mailguard \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mailguard --shell /usr/sbin/nologin mailguard \
    && mkdir -p /etc/mailguard /var/lib/mailguard \
    && chown mailguard:mailguard /var/lib/mailguard

COPY config/docker.yaml /etc/mailguard/mailguard.yaml

USER 10001:10001
WORKDIR /var/lib/mailguard
VOLUME ["/var/lib/mailguard"]
# 10025: SMTP proxy; 9464: /healthz (liveness, the HEALTHCHECK), /readyz, /status, /metrics.
EXPOSE 10025 9464
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status != 200)"]
CMD ["mailguard", "run"]
