# syntax=docker/dockerfile:1
# One image for all five processes; the command picks one:
#   python -m gateway                    (HTTP on 8080)
#   python -m services.connections       (gRPC; likewise directory, rbac, webhooks)
#   scimd migrate                        (applies every service's migrations, then exits)
# Build: docker build -t ghcr.io/scimd/scimd:0.1.0 .
# For reproducible releases pin the base by digest: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:…
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The venv lives at the same path in both stages, so its scripts' shebangs stay valid.
RUN python -m venv /opt/scimd
# gen/ is generated here from protos/ (the build context excludes the committed one);
# grpcio-tools stays in this stage, pinned like the dev extra in pyproject.toml.
RUN pip install grpcio-tools==1.85.1
COPY protos/ protos/
COPY tools/gen_protos.py tools/gen_protos.py
RUN python tools/gen_protos.py
COPY pyproject.toml ./
COPY scim/ scim/
COPY runtime/ runtime/
COPY cli/ cli/
COPY services/ services/
COPY gateway/ gateway/
RUN /opt/scimd/bin/pip install --no-compile . \
 && /opt/scimd/bin/python -m compileall -q /opt/scimd/lib
# Fail the build, not the pod, when the installed package misses a module or a data file.
RUN cd / && /opt/scimd/bin/python -c "import gateway.app, services.connections.server, services.directory.server, \
services.rbac.server, services.webhooks.server, cli.main, pathlib, gateway.portal.routes as p; \
assert (pathlib.Path(p.__file__).parent / 'templates').is_dir(), 'portal templates are not installed'"

FROM ${PYTHON_IMAGE} AS runtime
# A fixed numeric user, so Kubernetes can check runAsNonRoot/runAsUser against it.
RUN groupadd --system --gid 10001 scimd \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin scimd
COPY --from=build /opt/scimd /opt/scimd
ENV PATH=/opt/scimd/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCIMD_HTTP_HOST=0.0.0.0 \
    SCIMD_GRPC_LISTEN=0.0.0.0:50051
WORKDIR /opt/scimd
USER 10001:10001
EXPOSE 8080 50051 9464
# Exec form: the process is PID 1 and receives SIGTERM itself.
CMD ["python", "-m", "gateway"]
