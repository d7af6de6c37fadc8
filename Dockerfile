# One image for every newsflow process; docker-compose.yml picks the command.
# Reproducible: dependencies come from requirements.lock (exact versions and hashes, `make lock`), the
# project itself is installed without resolving anything, built with the lock's setuptools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSFLOW_METRICS_DIR=/tmp/newsflow-metrics

RUN useradd --create-home --uid 10001 newsflow
WORKDIR /app
# The lock first: its layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check

USER 10001
CMD ["newsflow", "--help"]
