# The mock as a service for an application's integration tests (README "Recipes").
#   docker build -t chatdouble .
#   docker run --rm -p 8000:8000 chatdouble                          # http://127.0.0.1:8000/v1
#   docker run --rm -p 8000:8000 -v "$PWD/rules:/rules:ro" chatdouble --scenario /rules/agent.yaml
# Arguments after the image name replace CMD and go to `mockserver`; the host and port stay fixed so the
# published port and the health check keep working.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY conformance ./conformance
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . && rm -rf /src && useradd --system --no-create-home --uid 10001 mock

WORKDIR /
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=2s --timeout=2s --start-period=5s --retries=15 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/_mock/health', timeout=2)"]
ENTRYPOINT ["mockserver", "--host", "0.0.0.0", "--port", "8000"]
CMD ["--clock", "1700000000"]
