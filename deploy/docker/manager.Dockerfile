# syntax=docker/dockerfile:1
# The Flotilla manager (and the flotilla CLI, for `kubectl exec ... -- flotilla`), built
# from this repository on Debian 12. From the repository root:
#
#   docker build -f deploy/docker/manager.Dockerfile -t REGISTRY/flotilla-manager:0.1.0 .
#
# The image runs as UID/GID 10001 and writes only to /var/lib/flotilla (--data-dir: mount
# a volume there) and /tmp (mount a tmpfs or emptyDir), so it runs with a read-only root
# filesystem. Build argument WITH_KUBECTL=false leaves out kubectl (Debian's
# kubernetes-client, about 40 MB), which only bundles with kustomize.dir need.

ARG DEBIAN_IMAGE=debian:12-slim

# ---- build ---------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build
# scripts/install-deps without the test-only packages (catch2, openssh-server, git,
# ccache, kubernetes-client): tests/cli/deploy_manifests_test.cc keeps the lists in step.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libgit2-dev libyaml-cpp-dev libssl-dev libspdlog-dev libfmt-dev \
      libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev zlib1g-dev libre2-dev libarchive-dev \
      libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLOTILLA_BUILD_TESTS=OFF \
 && cmake --build /build --target flotilla-manager flotilla \
 && install -D -m 0755 -s /build/manager/flotilla-manager /out/usr/local/bin/flotilla-manager \
 && install -D -m 0755 -s /build/cli/flotilla /out/usr/local/bin/flotilla

# ---- runtime -------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE}
ARG WITH_KUBECTL=true
# The shared libraries flotilla-manager and flotilla link (objdump -p: NEEDED), by their
# Debian 12 package names; their own dependencies (libssh2, mbedtls, nghttp2, ...) follow.
# ca-certificates: the trust store for https Git and Helm repositories.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 libarchive13 libcpp-httplib0.11 libcurl4 libfmt9 libgit2-1.5 \
      libgrpc++1.51 libgrpc29 libprotobuf32 libre2-9 libspdlog1.10 libsqlite3-0 libssl3 \
      libyaml-cpp0.7 zlib1g \
      $(if [ "$WITH_KUBECTL" = "true" ]; then echo kubernetes-client; fi) \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 flotilla \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/flotilla --no-create-home \
      --shell /usr/sbin/nologin flotilla \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/flotilla
COPY --from=build /out/ /
USER 10001:10001
# libgit2 needs a HOME for ssh:// fetches; TMPDIR is where kustomize.dir builds run.
ENV HOME=/var/lib/flotilla TMPDIR=/tmp
WORKDIR /var/lib/flotilla
EXPOSE 7443 7080
ENTRYPOINT ["/usr/local/bin/flotilla-manager"]
CMD ["--data-dir=/var/lib/flotilla", "--listen=0.0.0.0:7443", "--http-listen=0.0.0.0:7080"]
