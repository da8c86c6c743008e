# One image for the API, the workers and the migrations (the command picks the role):
#   lifecycle api | lifecycle worker | lifecycle migrate
# Slim, non-root, no compiler in the final stage; dependencies pinned by pyproject.toml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/lifecycle
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY playbooks ./playbooks
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY runtime ./runtime
COPY api ./api
COPY cli ./cli
COPY worker.py ./
RUN /opt/lifecycle/bin/pip install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/lifecycle/bin:$PATH \
    LIFECYCLE_API_HOST=0.0.0.0 \
    LIFECYCLE_LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin lifecycle
COPY --from=build /opt/lifecycle /opt/lifecycle
WORKDIR /app
USER 10001:10001
# API; worker health and metrics; Temporal SDK metrics.
EXPOSE 8000 9100 9464
# The API's liveness; docker-compose.yml gives the worker its own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "runtime.probe", "http://127.0.0.1:8000/healthz"]
CMD ["lifecycle", "api"]
