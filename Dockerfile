# One image for the API and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY croupier ./croupier
RUN pip install . && useradd --create-home --uid 10001 croupier

USER croupier
ENV CROUPIER_LOG_JSON=true CROUPIER_DATA_DIR=/home/croupier/.croupier
CMD ["croupier", "api"]
