# syntax=docker/dockerfile:1
# Build: docker build -t hwcloud-backup-operator:0.1.0 .
# The runtime image is distroless (glibc, CA certificates for the cloud's HTTPS endpoints, no shell) and runs
# as the nonroot user 65532, which the Helm chart's securityContext expects.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target dir between builds; the binary is copied out of the cached
# target dir because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release --bin hwcloud-backup-operator \
    && cp target/release/hwcloud-backup-operator /hwcloud-backup-operator

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="hwcloud-backup-operator" \
      org.opencontainers.image.description="Kubernetes operator for Huawei Cloud / OTC DCS, DDS and TaurusDB backups" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /hwcloud-backup-operator /hwcloud-backup-operator
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/hwcloud-backup-operator"]
CMD ["run"]
