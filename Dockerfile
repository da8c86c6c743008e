# One image for the worker (and later the API): slim, non-root, dependencies pinned by pyproject.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY playbooks ./playbooks
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY runtime ./runtime
COPY cli ./cli
COPY worker.py ./
RUN pip install --no-cache-dir . && useradd --system --uid 10001 lifecycle
USER lifecycle
CMD ["lifecycle", "worker"]
