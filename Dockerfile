# One image for every newsflow process; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSFLOW_METRICS_DIR=/tmp/newsflow-metrics

RUN useradd --create-home --uid 10001 newsflow
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install .

USER newsflow
CMD ["newsflow", "--help"]
