# Shopping Sandbox as a container: gunicorn with one worker and threads, as
# `make run` serves it. Settings come from the environment (see README.md):
#   docker build -t shopping-sandbox .
#   docker run --rm -p 8000:8000 -e SANDBOX_SEED=7 shopping-sandbox
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package only: what `pip install .` needs, nothing of the work tree.
WORKDIR /build
COPY setup.cfg pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY fixtures ./fixtures
COPY scenarios ./scenarios
RUN pip install . && cd / && rm -rf /build

RUN useradd --create-home --uid 10001 sandbox
USER sandbox
WORKDIR /home/sandbox

# Every SANDBOX_* variable of the README applies; PORT is the port served.
ENV PORT=8000 \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_LOG_LEVEL=INFO
EXPOSE 8000

# No curl in a slim image: the Python that runs the sandbox checks /status.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD python -c "import sys, urllib.request; \
        urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:${PORT}/status"

# Host and port from SANDBOX_HOST and PORT, as every other setting.
CMD ["shopping-sandbox", "serve"]
