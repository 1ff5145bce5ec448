# syntax=docker/dockerfile:1
# The Flotilla agent, built from this repository on Debian 12. From the repository root:
#
#   docker build -f deploy/docker/agent.Dockerfile -t REGISTRY/flotilla-agent:0.1.0 .
#
# The image runs as UID/GID 10001 and writes only to /var/lib/flotilla-agent (--state-dir:
# the agent's key, certificate and applied state; mount a persistent volume there) and
# /tmp, so it runs with a read-only root filesystem. It needs no shell; the Kubernetes
# probes call its --health-listen port (deploy/README.md).

ARG DEBIAN_IMAGE=debian:12-slim

# ---- build ---------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build
# The same packages as manager.Dockerfile: CMake configures the whole project even
# though only the agent is built.
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
 && cmake --build /build --target flotilla-agent \
 && install -D -m 0755 -s /build/agent/flotilla-agent /out/usr/local/bin/flotilla-agent

# ---- runtime -------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE}
# The shared libraries flotilla-agent links (objdump -p: NEEDED), by their Debian 12
# package names. No libgit2, no SQLite: the agent never links them. No ca-certificates:
# the agent trusts only the manager CA it is given and its cluster's CA.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libcpp-httplib0.11 libcurl4 libfmt9 libgrpc++1.51 libgrpc29 \
      libprotobuf32 libre2-9 libspdlog1.10 libssl3 libyaml-cpp0.7 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 flotilla \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/flotilla-agent \
      --no-create-home --shell /usr/sbin/nologin flotilla \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/flotilla-agent
COPY --from=build /out/ /
USER 10001:10001
ENV HOME=/var/lib/flotilla-agent
WORKDIR /var/lib/flotilla-agent
ENTRYPOINT ["/usr/local/bin/flotilla-agent"]
CMD ["--target=kube", "--state-dir=/var/lib/flotilla-agent"]
