# syntax=docker/dockerfile:1.7
#
# One Dockerfile for every cert-manager-rs binary; BINARY picks which:
#
#   docker build --build-arg BINARY=controller -t ghcr.io/cert-manager-rs/controller:dev .
#   (BINARY=cainjector, webhook or acmesolver; `make images` builds all four)
#
# The binary is linked statically against musl and copied onto distroless/static, which has no
# libc, shell or package manager: only CA certificates (the controller talks HTTPS to ACME and
# Vault servers), tzdata and /etc/passwd. Static linking keeps the image to one file we built
# plus that base, with nothing for a glibc update to break or a scanner to flag. It runs as the
# unprivileged UID/GID 1000 (numeric, so `runAsNonRoot: true` can be verified by the kubelet),
# matching the chart's restricted security contexts (read-only root filesystem, no capabilities).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
# The runtime base: distroless/static of the same Debian release (override to pin a digest).
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM docker.io/library/rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
ARG BINARY
# musl-tools: the C compiler wrapper for aws-lc-sys (the workspace's one crypto backend). Its
# version is whatever the Debian release of the Rust image carries.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
# Built for the platform the image is for (docker buildx --platform linux/amd64,linux/arm64
# builds each natively or under emulation), so the target is the builder's own architecture.
RUN case "$(uname -m)" in \
      x86_64) echo x86_64-unknown-linux-musl ;; \
      aarch64) echo aarch64-unknown-linux-musl ;; \
      *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;; \
    esac > /rust-target \
 && rustup target add "$(cat /rust-target)"
WORKDIR /src
COPY . .
# The registry and target folders are build caches shared by the four images, so building the
# second image reuses the first one's dependencies.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    test -n "${BINARY}" || { echo "set --build-arg BINARY=<controller|cainjector|webhook|acmesolver>" >&2; exit 1; } \
 && cargo build --release --locked --target "$(cat /rust-target)" --bin "${BINARY}" \
 && install -D -m 0755 "target/$(cat /rust-target)/release/${BINARY}" /out/app \
 && if ldd /out/app >/dev/null 2>&1; then echo "/out/app is not static" >&2; exit 1; fi

FROM ${BASE_IMAGE}
ARG BINARY
LABEL org.opencontainers.image.title="cert-manager-rs ${BINARY}" \
      org.opencontainers.image.source="https://github.com/cert-manager-rs/cert-manager-rs" \
      org.opencontainers.image.licenses="Apache-2.0"
# ENTRYPOINT cannot expand build arguments, so every image runs its binary from one path.
COPY --from=build /out/app /usr/local/bin/app
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/app"]
